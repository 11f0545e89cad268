import Foundation
import Testing
import TestSupport
import TResNetCore

/// `ByteStore.copy`: the same bytes whether a store maps a file (read with pread) or lives on the heap, and a
/// clear error naming the file when the mapped file shrank underneath.
@Suite struct ByteStoreTests {
    static let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 7) }

    func file(_ bytes: [UInt8]) -> String {
        let path = FixturePaths.temporaryDirectory("bytestore") + "/data.bin"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    @Test func copyReadsTheSameBytesFromAFileOrTheHeap() throws {
        let mapped = try ByteStore.map(path: file(Self.bytes))
        let heap = ByteStore.copying(Self.bytes)
        #expect(mapped.isFileMapping && !heap.isFileMapping)
        for range in [0..<0, 0..<1, 5..<4101, 4096..<8192, 99_000..<100_000, 0..<100_000] {
            for store in [mapped, heap] {
                var out = [UInt8](repeating: 0, count: range.count)
                try out.withUnsafeMutableBytes {
                    try store.copy(range, into: $0.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!)
                }
                #expect(out == Array(Self.bytes[range]), "\(range), file mapping: \(store.isFileMapping)")
            }
        }
    }

    @Test func copyFromAFileThatShrankNamesTheFile() throws {
        let path = file(Self.bytes)
        let mapped = try ByteStore.map(path: path)
        #expect(truncate(path, 50_000) == 0)
        var out = [UInt8](repeating: 0, count: 10_000)
        let error = try #require(throws: TResNetError.self) {
            try out.withUnsafeMutableBytes { try mapped.copy(60_000..<70_000, into: $0.baseAddress!) }
        }
        // bad input that changed under us (exit 2), and the size the file has now, not the offset of the read
        #expect(error.code == .truncated)
        #expect(error.description.contains(path), "\(error)")
        #expect(error.message.contains("the file is now 50000 bytes, 100000 when it was opened"), "\(error)")
    }
}
