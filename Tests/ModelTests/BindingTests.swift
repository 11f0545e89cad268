import Foundation
import Testing
import TestSupport
@testable import TResNetModel
import TResNetCore

/// A state dict with the tree's own shapes (zeros), for binding tests.
func syntheticStateDict(_ c: TResNetConfiguration, skip: Set<String> = []) throws -> StateDict {
    var sd = StateDict()
    for spec in TResNet(c).listing where !skip.contains(spec.path) {
        if spec.role == .optionalBuffer {
            let store = ByteStore.allocate(count: 8) { _ in }
            try sd.insert(spec.path, Tensor(dtype: .int64, shape: [], data: ByteSlice(store: store)))
        } else {
            try sd.insert(
                spec.path, Tensor(shape: spec.shape, floats: [Float](repeating: 0.5, count: spec.elementCount)))
        }
    }
    return sd
}

let tiny = TResNetConfiguration(layout: .v1, layers: [1, 2, 2, 1], planes: 4, numClasses: 10)

func bindingError(_ body: () throws -> Void) -> TResNetError? {
    do { try body() } catch let e as TResNetError { return e } catch { return nil }
    return nil
}

@Suite struct BindingTests {
    @Test func cleanBindDropsNumBatchesTrackedAndKeepsWalkOrder() throws {
        let bound = try Binder.bind(try syntheticStateDict(tiny), to: tiny)
        #expect(bound.tensors.map(\.spec.path) == TResNet(tiny).storedTensors.map(\.path))
        // num_batches_tracked absent is fine too
        let noNBT = Set(TResNet(tiny).listing.filter { $0.role == .optionalBuffer }.map(\.path))
        _ = try Binder.bind(try syntheticStateDict(tiny, skip: noNBT), to: tiny)
    }

    @Test func missingTensorIsNamedWithShape() throws {
        let e = try #require(
            bindingError {
                _ = try Binder.bind(
                    try syntheticStateDict(tiny, skip: ["body.layer2.1.conv2.bn.running_var"]), to: tiny)
            })
        #expect(e.code == .binding && e.code.exitCode == 2)
        #expect(e.message.contains("missing   body.layer2.1.conv2.bn.running_var expected [8]"))
    }

    @Test func unexpectedTensorIsNamedAndEscapeHatchListsIt() throws {
        var sd = try syntheticStateDict(tiny)
        try sd.insert("head.extra.weight", Tensor(shape: [2], floats: [1, 2]))
        let e = try #require(bindingError { _ = try Binder.bind(sd, to: tiny) })
        #expect(e.message.contains("unexpected head.extra.weight [2]"))
        #expect(e.message.contains("--allow-unexpected"))
        let bound = try Binder.bind(sd, to: tiny, options: BindingOptions(allowUnexpected: true))
        #expect(bound.ignored == ["head.extra.weight"])
    }

    @Test func allProblemsAtOnce() throws {
        var sd = try syntheticStateDict(tiny, skip: ["body.conv1.bn.bias", "body.layer3.0.se.fc2.weight"])
        try sd.insert("stray", Tensor(shape: [1], floats: [0]))
        let e = try #require(bindingError { _ = try Binder.bind(sd, to: tiny) })
        #expect(e.message.contains("body.conv1.bn.bias"))
        #expect(e.message.contains("body.layer3.0.se.fc2.weight"))
        #expect(e.message.contains("stray"))
        #expect(e.message.contains("2 missing, 1 unexpected"))
    }

    @Test func otherClassCountHint() throws {
        var other = tiny
        other.numClasses = 7
        let e = try #require(bindingError { _ = try Binder.bind(try syntheticStateDict(other), to: tiny) })
        #expect(e.message.contains("shape     head.fc.weight expected [10, 128], file has [7, 128]"))
        #expect(e.message.contains("other class count: the file has 7 classes"))
    }

    @Test func otherVariantHint() throws {
        var forced = TResNetConfiguration.tresnetM
        forced.numClasses = 10
        let e = try #require(bindingError { _ = try Binder.bind(try syntheticStateDict(tiny), to: forced) })
        #expect(e.message.contains("shape     body.conv1.conv.weight expected [64, 48, 3, 3], file has [4, 48, 3, 3]"))
        #expect(e.message.contains("other variant: the tensors look like custom (v1, layers [1, 2, 2, 1], planes 4"))
    }

    @Test func otherDialectHint() throws {
        // MIIL names offered to the tree without mapping.
        let manifest = try FixtureManifest.load()
        var sd = StateDict()
        for t in try #require(manifest.files["tiny_v1_miil.pth"]?.tensors) {
            try sd.insert(t.name, Tensor(shape: t.shape, floats: [Float](repeating: 0, count: t.shape.reduce(1, *))))
        }
        let e = try #require(bindingError { _ = try Binder.bind(sd, to: tiny) })
        #expect(e.message.contains("unexpected body.conv1.0.weight [4, 48, 3, 3]"))
        #expect(e.message.contains("missing   body.conv1.conv.weight expected [4, 48, 3, 3]"))
        #expect(e.message.contains("this looks like the MIIL spelling"))
    }

    @Test func integerTensorWhereFloatExpected() throws {
        var sd = try syntheticStateDict(tiny, skip: ["head.fc.bias"])
        let store = ByteStore.allocate(count: 80) { _ in }
        try sd.insert("head.fc.bias", Tensor(dtype: .int64, shape: [10], data: ByteSlice(store: store)))
        let e = try #require(bindingError { _ = try Binder.bind(sd, to: tiny) })
        #expect(e.message.contains("dtype     head.fc.bias is int64, expected a float type"))
    }
}

@Suite struct MultiheadAttentionTests {
    /// The packed in_proj rows are cut into views in the stored dtype, so a float64 checkpoint's query, key and
    /// value projections reach the float64 oracle exact (0.1 has no float32 spelling).
    @Test func projectionsKeepTheStoredDtype() throws {
        let e = 2
        let w = (0..<(3 * e * e)).map { 0.1 + Double($0) }, b = (0..<(3 * e)).map { 0.3 - Double($0) }
        func float64(_ v: [Double], _ shape: [Int]) -> Tensor {
            Tensor(
                dtype: .float64, shape: shape,
                data: ByteSlice(store: ByteStore.copying(v.withUnsafeBytes { Array($0) })))
        }
        var attention = MultiheadAttention(embedDim: e, heads: 1)
        attention.inProjWeight = float64(w, [3 * e, e])
        attention.inProjBias = float64(b, [3 * e])
        let parts = try attention.projections()
        #expect(parts.count == 3)
        for (i, p) in parts.enumerated() {
            #expect(p.weight.dtype == .float64 && p.weight.shape == [e, e] && p.bias.shape == [e])
            #expect((0..<(e * e)).map { p.weight.scalar(at: $0)! } == Array(w[(i * e * e)..<((i + 1) * e * e)]))
            #expect((0..<e).map { p.bias.scalar(at: $0)! } == Array(b[(i * e)..<((i + 1) * e)]))
        }
    }
}
