import Foundation
import Testing
import TestSupport
import TResNetCheckpoint
import TResNetCore
import TResNetModel
@testable import TResNetRuntime

/// The float32 error model and the float64 oracle on the trained-like micro fixture (Fixtures/gen_trained.py):
/// a timm TResNet whose BatchNorm looks trained, so its residual stream grows to ≈ 24 in layer3 — the regime
/// in which a per-element 1e-4 rule raised false alarms on real models (issue 16).
@Suite("Parity on trained-like activations: error model, float64 oracle")
struct TrainedParityTests {
    static let weights = "trained_micro.safetensors"
    static let referenceFile = "trained_micro.reference.npz"

    static func checkpoint() throws -> LoadedCheckpoint { try CheckpointReader.read(path: FixturePaths.tiny(weights)) }

    static func configuration(_ checkpoint: LoadedCheckpoint) throws -> TResNetConfiguration {
        try ArchitectureInference.infer(checkpoint.stateDict.entries.map { ($0.name, $0.tensor.shape) }).configuration
    }

    static func network(_ backend: ConvolutionBackend = .automatic) throws -> TResNetNetwork {
        let checkpoint = try checkpoint()
        return try TResNetNetwork(configuration: try configuration(checkpoint), backend: backend) {
            checkpoint.stateDict[$0]
        }
    }

    static func oracle() throws -> Float64Forward {
        let checkpoint = try checkpoint()
        return try Float64Forward(configuration: try configuration(checkpoint)) { checkpoint.stateDict[$0] }
    }

    static func reference() throws -> [String: Tensor] {
        Dictionary(
            uniqueKeysWithValues: try NpzArchive.read(path: FixturePaths.tiny(referenceFile)).map {
                ($0.name, $0.tensor)
            })
    }

    /// `reference` with `tap` changed by `change(channelIndex, value)` (NCHW or N×F).
    static func perturbed(_ reference: [String: Tensor], _ tap: String, _ change: (Int, Float) -> Float) throws
        -> [String: Tensor]
    {
        var out = reference
        let t = try #require(reference[tap])
        let channels = t.shape[1], plane = t.shape.dropFirst(2).reduce(1, *)
        let values = try t.floats().enumerated().map { change(($0.offset / plane) % channels, $0.element) }
        out[tap] = Tensor(shape: t.shape, floats: values)
        return out
    }

    @Test(
        "large activations (layer3 ≈ 24): every tap passes the default on every backend — no false alarm",
        arguments: ParityTests.backends)
    func trueReferencePasses(_ backend: ConvolutionBackend) throws {
        let reference = try Self.reference()
        let layer3 = try #require(reference["body.layer3"]).floats().map(abs).max() ?? 0
        #expect(layer3 > 10, "the fixture has the magnitudes of a trained network (max |layer3| = \(layer3))")
        let report = try ParityReport.run(try Self.network(backend), reference: reference, tolerance: .float32)
        #expect(report.rows.map(\.name) == TResNetNetwork.tapNames)
        #expect(report.passed, "\(report.render())")
        #expect(!report.render().contains("inf"))
    }

    @Test("our float64 forward pass computes PyTorch's float64 taps (to float64 rounding)")
    func float64MatchesPyTorch() throws {
        let reference = try Self.reference()
        let ours = try Self.oracle().forward(try #require(reference["input"]))
        for name in TResNetNetwork.tapNames where name != "body.s2d" {
            let torch = try #require(reference["float64/" + name], "\(name)")
            #expect(torch.dtype == .float64)
            let mine = try #require(ours[name])
            #expect(mine.shape == torch.shape, "\(name)")
            let distance = scaledDistance(mine.values, from: try doubles(torch))
            #expect(distance < 1e-12, "\(name): our float64 vs PyTorch float64 = \(distance)")
        }
        let s2d = try #require(reference["body.s2d"]).floats().map(Double.init)
        #expect(ours["body.s2d"]?.values == s2d)
    }

    @Test(
        "one layer scaled by 1 % fails, and that layer is named first", arguments: TResNetNetwork.tapNames.dropFirst())
    func scaledLayerFails(_ tap: String) throws {
        let reference = try Self.perturbed(try Self.reference(), tap) { _, v in v * 1.01 }
        let report = try ParityReport.run(try Self.network(), reference: reference, tolerance: .float32)
        #expect(report.firstFailure == tap, "\(report.render())")
        #expect(report.rows.filter { !$0.passed }.map(\.name) == [tap], "only the perturbed tap fails")
    }

    @Test(
        "a single channel off by 1 % fails at its tap",
        arguments: ["body.conv1", "body.layer2", "body.layer3", "body.layer4"])
    func singleChannelFails(_ tap: String) throws {
        let original = try Self.reference()
        // the channel of median peak magnitude: a typical channel, not the tap's largest
        let t = try #require(original[tap])
        let channels = t.shape[1], plane = t.shape.dropFirst(2).reduce(1, *), values = try t.floats()
        var peaks = [Float](repeating: 0, count: channels)
        for (i, v) in values.enumerated() { peaks[(i / plane) % channels] = max(peaks[(i / plane) % channels], abs(v)) }
        let channel = peaks.indices.sorted { peaks[$0] < peaks[$1] }[channels / 2]
        let reference = try Self.perturbed(original, tap) { c, v in c == channel ? v * 1.01 : v }
        let report = try ParityReport.run(try Self.network(), reference: reference, tolerance: .float32)
        #expect(report.firstFailure == tap, "channel \(channel) of \(tap):\n\(report.render())")
    }

    @Test("--oracle: three distances per tap; a perturbed reference is shown further from float64 than ours")
    func oracleDistances() throws {
        let network = try Self.network(), oracle = try Self.oracle()
        let clean = try ParityReport.run(network, reference: try Self.reference(), tolerance: .float32, oracle: oracle)
        #expect(clean.passed && clean.oracle)
        for row in clean.rows {
            let d = try #require(row.oracle, "\(row.name)")
            #expect(d.oursToFloat64 <= row.budget!, "\(row.name): ours is within float32 noise of float64")
            #expect(d.oursToReference == row.scaledError)
        }
        let noisy = try Self.perturbed(try Self.reference(), "body.layer3") { _, v in v * 1.01 }
        let report = try ParityReport.run(network, reference: noisy, tolerance: .float32, oracle: oracle)
        let row = try #require(report.rows.first { $0.name == "body.layer3" })
        let d = try #require(row.oracle)
        #expect(!row.withinTolerance && row.passed, "ours is closer to float64 than the reference")
        #expect(d.referenceToFloat64 > 100 * d.oursToFloat64)
        #expect(report.render().contains("reference is further from float64 than ours at body.layer3"))
        #expect(
            report.passed && report.render().contains("PASSED: every tap within tolerance or no further from float64"))
    }

    @Test("a reference of zeros: relative errors stay finite, the table and the JSON never say inf")
    func zerosNeverInf() throws {
        let reference = try Self.perturbed(try Self.reference(), "body.layer2") { _, _ in 0 }
        let report = try ParityReport.run(try Self.network(), reference: reference, tolerance: .float32)
        let row = try #require(report.rows.first { $0.name == "body.layer2" })
        #expect(!row.passed && row.maxRelativeError == nil && row.scaledError.isFinite)
        #expect(!report.render().contains("inf"), "\(report.render())")
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!json.contains("inf"))
    }

    @Test("a reference tap of the wrong shape is bad input (malformed), naming the tap")
    func shapeMismatchThrows() throws {
        var reference = try Self.reference()
        reference["body.layer3"] = Tensor(shape: [1, 3], floats: [1, 2, 3])
        #expect {
            try ParityReport.run(try Self.network(), reference: reference, tolerance: .float32)
        } throws: { error in
            guard let e = error as? TResNetError else { return false }
            return e.code == .malformed && e.description.contains("body.layer3")
        }
    }

    @Test("the accumulation depth grows along the forward order")
    func depthsGrow() throws {
        let depths = AccumulationDepth.taps(try Self.network().configuration, height: 32, width: 32)
        let ordered = TResNetNetwork.tapNames.map { depths[$0]! }
        #expect(ordered.first == 0)
        #expect(zip(ordered, ordered.dropFirst()).allSatisfy { $0 < $1 })
    }
}
