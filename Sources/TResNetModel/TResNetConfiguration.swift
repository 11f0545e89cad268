import TResNetCore

/// The shape of one TResNet: layout, blocks per stage, stem width and class count. Everything else —
/// channel counts, SE widths, where the blur pools and projections sit — follows from these (docs/TRESNET.md),
/// mirroring timm's `TResNet.__init__` / `_make_layer`.
public struct TResNetConfiguration: Codable, Sendable, Hashable, CustomStringConvertible {
    /// v1 (tresnet_m/l/xl): Basic blocks in stages 1–2. v2 (tresnet_v2_l): Bottlenecks everywhere.
    public enum Layout: String, Codable, Sendable, CaseIterable {
        case v1, v2
    }

    public enum BlockKind: String, Sendable {
        case basic, bottleneck
        public var expansion: Int { self == .basic ? 1 : 4 }
    }

    public var layout: Layout
    /// Blocks in each of the four stages.
    public var layers: [Int]
    /// Stem width P = int(64 · width_factor) (v2: rounded down to a multiple of 8).
    public var planes: Int
    public var numClasses: Int
    /// Image channels before space-to-depth (3 for RGB).
    public var inChannels: Int
    /// How every conv's normalisation is stored: BatchNorm (checkpoints) or folded into a conv bias (ONNX).
    public var normalization: Normalization
    /// The head: nil for timm's global pool + `head.fc`; an ML-Decoder head otherwise (docs/MULTILABEL.md).
    public var mlDecoder: MLDecoderConfiguration?

    public init(
        layout: Layout, layers: [Int], planes: Int, numClasses: Int, inChannels: Int = 3,
        normalization: Normalization = .batchNorm, mlDecoder: MLDecoderConfiguration? = nil
    ) {
        self.mlDecoder = mlDecoder
        self.layout = layout
        self.layers = layers
        self.planes = planes
        self.numClasses = numClasses
        self.inChannels = inChannels
        self.normalization = normalization
    }

    /// timm's width rule: `int(64 * width_factor)`, for v2 then `// 8 * 8`.
    public static func planes(widthFactor: Double, layout: Layout) -> Int {
        let p = Int(64 * widthFactor)
        return layout == .v2 ? p / 8 * 8 : p
    }

    // MARK: The zoo variants (docs/TRESNET.md)

    public static let tresnetM = TResNetConfiguration(layout: .v1, layers: [3, 4, 11, 3], planes: 64, numClasses: 1000)
    public static let tresnetL = TResNetConfiguration(
        layout: .v1, layers: [4, 5, 18, 3], planes: planes(widthFactor: 1.2, layout: .v1), numClasses: 1000)
    public static let tresnetXL = TResNetConfiguration(
        layout: .v1, layers: [4, 5, 24, 3], planes: planes(widthFactor: 1.3, layout: .v1), numClasses: 1000)
    public static let tresnetV2L = TResNetConfiguration(
        layout: .v2, layers: [3, 4, 23, 3], planes: 64, numClasses: 1000)

    /// The four named architectures, by timm model name. Class count is not part of the name.
    public static let variants: [(name: String, configuration: TResNetConfiguration)] = [
        ("tresnet_m", tresnetM), ("tresnet_l", tresnetL), ("tresnet_xl", tresnetXL), ("tresnet_v2_l", tresnetV2L)
    ]

    /// The named variant `name` (`tresnet_m`, …) with `numClasses` classes.
    public static func variant(_ name: String, numClasses: Int = 1000) -> TResNetConfiguration? {
        guard var c = variants.first(where: { $0.name == name })?.configuration else { return nil }
        c.numClasses = numClasses
        return c
    }

    /// The variant name whose body equals this configuration (any class count), or nil for a custom one.
    public var variantName: String? {
        Self.variants.first {
            $0.configuration.layout == layout && $0.configuration.layers == layers
                && $0.configuration.planes == planes && inChannels == 3
        }?.name
    }

    public var description: String {
        let name = variantName ?? "custom"
        let folded = normalization == .folded ? ", BN folded" : ""
        let head = mlDecoder.map { ", \($0)" } ?? ""
        return "\(name) (\(layout.rawValue), layers \(layers), planes \(planes), \(numClasses) classes\(folded)\(head))"
    }

    // MARK: Derived structure

    /// Block type of stage `s` (0-based).
    public func blockKind(stage s: Int) -> BlockKind {
        (s < 2 && layout == .v1) ? .basic : .bottleneck
    }

    /// The mid width ("planes") of stage `s`: P · 2^s.
    public func stagePlanes(_ s: Int) -> Int { planes << s }

    /// Output channels of stage `s`.
    public func stageOutChannels(_ s: Int) -> Int { stagePlanes(s) * blockKind(stage: s).expansion }

    /// Input channels of stage `s`.
    public func stageInChannels(_ s: Int) -> Int { s == 0 ? planes : stageOutChannels(s - 1) }

    /// Stride of block 0 of stage `s`.
    public func stageStride(_ s: Int) -> Int { s == 0 ? 1 : 2 }

    /// Whether stage `s` uses squeeze-and-excitation (all but the last).
    public func stageUsesSE(_ s: Int) -> Bool { s < 3 }

    /// SE reduction width in stage `s`: Basic `max(planes/4, 64)`, Bottleneck `max(planes·4/8, 64)`.
    public func seReduction(stage s: Int) -> Int {
        let p = stagePlanes(s)
        return blockKind(stage: s) == .basic ? max(p / 4, 64) : max(p * 4 / 8, 64)
    }

    /// Channels the SE acts on: the block output for Basic, the mid channels for Bottleneck.
    public func seChannels(stage s: Int) -> Int { stagePlanes(s) }

    /// Whether block 0 of stage `s` has a projection shortcut, and whether it starts with the 2×2 average pool.
    public func projection(stage s: Int) -> (present: Bool, pooled: Bool) {
        let stride = stageStride(s)
        let present = stride != 1 || stageInChannels(s) != stageOutChannels(s)
        return (present, stride == 2)
    }

    /// Width of the pooled feature vector that feeds `head.fc`.
    public var numFeatures: Int { stageOutChannels(3) }

    /// Checks the configuration is buildable.
    public func validate() throws {
        guard layers.count == 4, layers.allSatisfy({ $0 >= 1 && $0 <= 1000 }) else {
            throw TResNetError(.malformed, "configuration: layers must be four counts in 1...1000, got \(layers)")
        }
        guard planes >= 1, planes <= 1 << 16, numClasses >= 1, numClasses <= 1 << 24, inChannels >= 1, inChannels <= 64
        else { throw TResNetError(.malformed, "configuration: planes \(planes) / classes \(numClasses) out of range") }
        try mlDecoder?.validate(classes: numClasses)
    }

    /// Whether the head is multi-label by construction (ML-Decoder: sigmoid scores per class).
    public var isMLDecoder: Bool { mlDecoder != nil }
}
