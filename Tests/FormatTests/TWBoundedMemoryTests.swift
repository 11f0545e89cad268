import Foundation
import Testing
import TestSupport
import TResNetCore
@testable import TResNetFormat

/// A `.tw` file under 1 KiB whose index declares a 4 TiB tensor (resealed, so the index checks run) is refused
/// in bounded memory and time (docs/ROBUSTNESS.md, "Bounded memory"; issue 7 item 3).
@Suite struct TWBoundedMemoryTests {
    @Test func indexDeclaringFourTiB() throws {
        let dir = FixturePaths.temporaryDirectory("tw-bomb")
        let store = ByteStore.copying([UInt8](repeating: 0, count: 4))
        let one = Tensor(dtype: .float32, shape: [1], data: ByteSlice(store: store))
        try TWWriter.write([("bomb_tensor", one)], metadata: [:], to: dir + "/b.tw", overwrite: false)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/b.tw")))
        let name = try #require(findSubsequence(bytes, Array("bomb_tensor".utf8), from: 0))
        let dim = name + "bomb_tensor".utf8.count + 4
        func put(_ v: UInt64, at p: Int) {
            for i in 0..<8 { bytes[p + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
        }
        put(1 << 40, at: dim)  // shape [2^40]
        put(1 << 42, at: dim + 16)  // length 4 TiB (offset 0 stays)
        bytes = resealed(bytes)
        #expect(bytes.count < 1024)
        var error: TResNetError?
        let m = ResourceProbe.measure(attempts: 3, until: { $0.peakGrowthBytes < 64 << 20 && $0.seconds < 0.1 }) {
            do { _ = try TWFile(store: ByteStore.copying(bytes), verifyChecksums: true).stateDict() } catch let e
                as TResNetError
            { error = e } catch {}
        }
        #expect(error?.code == .truncated, "\(String(describing: error))")
        #expect(error?.description.contains("tensor 'bomb_tensor'") == true, "\(String(describing: error))")
        #expect(error?.description.contains("runs past") == true, "\(String(describing: error))")
        #expect(m.peakGrowthBytes < 64 << 20, "\(m)")
        #expect(m.seconds < 0.1, "\(m)")
        print("tw bomb refused (\(bytes.count) bytes): \(m): \(error.map { "\($0)" } ?? "-")")
    }
}
