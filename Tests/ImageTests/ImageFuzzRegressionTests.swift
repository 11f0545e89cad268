import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetImage

/// Replays every kept FuzzImage input (Fuzz/crashers/FuzzImage) through the harness's entry points (its limits:
/// 4 Mpixels, 64 MB) and through the defaults (PIL's pixel cap, the 256 MiB budget), whole image and streamed:
/// each must end in a value or a `TResNetError`, within the 256 MiB bound (measured peak RSS growth). The first:
/// a 5,786-byte PNG whose eXIf chunk header declares 268,435,482 bytes, which libpng allocated before reading
/// (one 268 MB allocation, past libFuzzer's -malloc_limit_mb=256). libpng now sees an ancillary chunk's length
/// cut to what the file holds (Sources/CPNG/shim.h). Peak RSS cannot show an allocation that is never touched;
/// the fuzz binary replays the input under -malloc_limit_mb (docs/ROBUSTNESS.md).
@Suite("Fuzz crashers replayed: images")
struct ImageFuzzRegressionTests {
    static let inputs = FuzzCrashers.inputs(["FuzzImage"])

    @Test(.enabled(if: !inputs.isEmpty, "no crashers kept"), arguments: inputs)
    func replay(_ input: FuzzCrashers.Input) throws {
        let bytes = input.bytes
        try #require(!bytes.isEmpty)
        let harness = ImageLimits(maxPixels: 4 << 20, memoryBudget: 64 << 20)
        var outcomes: [String] = []
        func attempt(_ name: String, _ body: () throws -> Void) {
            do {
                try body()
                outcomes.append("\(name): ok")
            } catch let e as TResNetError {
                outcomes.append("\(name): \(e.code)")
            } catch {
                Issue.record("\(input) \(name): not a TResNetError: \(error)")
            }
        }
        let probe = try ResourceProbe.measure(attempts: 3, until: { $0.peakGrowthBytes < 256 << 20 }) {
            outcomes = []
            try bytes.withUnsafeBytes { raw in
                for limits in [harness, .default] {
                    for config in [PreprocessingConfig.timm(inputSize: 32), .officialSquash(inputSize: 24)] {
                        let pre = try Preprocessing(config, limits: limits)
                        attempt("whole") { _ = try pre.values(ImageDecoder.decode(raw, limits: limits)) }
                        attempt("streamed") { _ = try pre.values(bytes: raw) }
                    }
                }
            }
        }
        print("\(input): \(probe); \(outcomes.joined(separator: ", "))")
        #expect(probe.peakGrowthBytes < 256 << 20, "\(input): \(probe)")
    }

    @Test("the first kept input: an eXIf chunk declaring 268 MB in a 5,786-byte file is truncated")
    func exifChunkBomb() throws {
        let input = try #require(Self.inputs.first { $0.description.contains("oom-4aa3b8a8") })
        let e = try #require(throws: TResNetError.self) { try ImageDecoder.decode(input.bytes) }
        #expect(e.code == .truncated, "\(e)")
        #expect(e.description.contains("chunk eXIf at offset 33 declares 268435482 bytes, 5745 follow"), "\(e)")
    }
}
