import Foundation
import Testing
import TestSupport
import TResNetCore
import TResNetONNX

/// Replays every kept FuzzONNX crasher (Fuzz/crashers/FuzzONNX) through the harness's entry point: each must end in
/// a model or a `TResNetError` (a trap ends the test process). The first: a Reshape whose file-supplied target
/// extents overflowed their product in the symbolic shape evaluator (an arithmetic-overflow trap).
@Suite("Fuzz crashers replayed: ONNX")
struct ONNXFuzzRegressionTests {
    static let inputs = FuzzCrashers.inputs(["FuzzONNX"])

    @Test(.enabled(if: !inputs.isEmpty, "no crashers kept"), arguments: inputs)
    func replay(_ input: FuzzCrashers.Input) throws {
        let dir = FixturePaths.temporaryDirectory("onnx-fuzz")
        do {
            _ = try ONNXModel.read(ByteStore.copying(input.bytes), path: dir + "/fuzz.onnx")
        } catch is TResNetError {
            // an honest refusal
        }
    }
}
