import TResNetCore
import TResNetModel

/// How a tap is judged against its reference (docs/PARITY.md).
///
/// The default, `float32`, is an error model of float32 arithmetic: two correct float32 implementations differ
/// at a tap by rounding that grows with the tap's scale and with the number of products accumulated behind it.
/// An element passes when |ours − ref| ≤ budget · (rms(ref) + |ref|), the tap's budget being
/// C · 2⁻²⁴ · √(depth + 1) (`depth`: `AccumulationDepth`). `elementwise` is numpy's allclose
/// (|ours − ref| ≤ absolute + relative·|ref|), for explicit `--atol`/`--rtol`.
public struct Tolerance: Sendable, Codable, Equatable {
    public enum Rule: String, Sendable, Codable {
        case float32Model = "float32-model"
        case elementwise
    }

    public var rule: Rule
    /// The error model's constant C (float32-model rule).
    public var constant: Double
    /// allclose's atol and rtol (elementwise rule).
    public var absolute: Double
    public var relative: Double

    /// numpy `allclose`: |actual − expected| ≤ absolute + relative·|expected|.
    public init(absolute: Double, relative: Double) {
        rule = .elementwise
        constant = 0
        self.absolute = absolute
        self.relative = relative
    }

    /// The float32 error model with constant `constant`.
    public init(constant: Double) {
        rule = .float32Model
        self.constant = constant
        absolute = 0
        relative = 0
    }

    /// float32's unit roundoff, 2⁻²⁴.
    public static let unitRoundoff = 0x1p-24

    /// C of the default: twice the largest ratio err/scale ÷ (2⁻²⁴·√(depth + 1)) measured between two float32
    /// implementations (PyTorch, ONNX Runtime, ours on every backend) or one of them and float64, on the
    /// trained-like full-size models at 224 and 448 (52.9, ours vs PyTorch at tresnet_v2_l body.layer4, 448;
    /// docs/PARITY.md).
    public static let defaultConstant = 106.0

    /// The default: the float32 error model (docs/PARITY.md gives the measurements behind C).
    public static let float32 = Tolerance(constant: defaultConstant)

    /// The relative budget of a tap whose value accumulates `depth` products: C · 2⁻²⁴ · √(depth + 1).
    public func budget(depth: Int) -> Double {
        constant * Self.unitRoundoff * Double(depth + 1).squareRoot()
    }

    public var description: String {
        switch rule {
        case .float32Model:
            return
                "|ours − reference| ≤ budget·(rms(reference) + |reference|), budget = \(formatConstant(constant))·2⁻²⁴·√(depth + 1)"
        case .elementwise:
            return "|ours − reference| ≤ \(absolute) + \(relative)·|reference|"
        }
    }

    private func formatConstant(_ c: Double) -> String {
        c == c.rounded() && abs(c) < 1e15 ? String(Int(c)) : "\(c)"
    }
}

/// The accumulation depth behind each tap: the number of products summed, one after the other, on the main
/// path from the input to the tap — Σ (input channels · kernel²) over the convolutions of the stem and of every
/// block's branch (conv1, conv2, conv3), plus the H·W terms of the global pool and the features of the linear
/// head. Rounding of a sum of K products grows like √K; through a chain of layers whose weights keep the scale,
/// the independent contributions add like √(Σ K). Computed from the layer tree.
public enum AccumulationDepth {
    /// Depth per tap name (`TResNetNetwork.tapNames`) for inputs of `height` × `width`.
    public static func taps(_ configuration: TResNetConfiguration, height: Int, width: Int) -> [String: Int] {
        let tree = TResNet(configuration)
        func k(_ c: ConvNormAct) -> Int { c.inChannels * c.kernel * c.kernel }
        var depth = 0
        var out: [String: Int] = ["body.s2d": 0]
        depth += k(tree.body.conv1)
        out["body.conv1"] = depth
        for (s, blocks) in tree.body.stages.enumerated() {
            for b in blocks { depth += k(b.conv1) + k(b.conv2) + (b.conv3.map(k) ?? 0) }
            out[TResNetNetwork.tapNames[2 + s]] = depth
        }
        if let decoder = configuration.mlDecoder {
            // token embedding, attention (scores over E, weighted sum over the tokens, out projection),
            // feed-forward, group FC
            let tokens = max(1, (height / 32) * (width / 32))
            depth +=
                tree.configuration.numFeatures + decoder.decoderLayers
                * (3 * decoder.embedDim + tokens + decoder.feedForwardDim) + decoder.embedDim
            out["head"] = depth
            return out
        }
        depth += max(1, (height / 32) * (width / 32))
        out["head.global_pool"] = depth
        depth += tree.head.fc.inFeatures
        out["head.fc"] = depth
        return out
    }
}
