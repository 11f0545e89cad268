import Foundation
import Testing
import TestSupport
@testable import TResNetKit
import TResNetCore

/// A source that changes while it is converted (issue 20 #3): truncated by a helper thread at a chosen byte,
/// through the conversion's test hooks, so the race is the same every run. Any change is a `.truncated` error
/// (exit 2) naming the source, with nothing at the output; a read of the vanished part of the map does not kill
/// the process (MappingGuard).
@Suite("source changed during conversion", .serialized)
struct SourceChangeTests {
    /// The hooks are process-wide and other suites convert files at the same time: each hook acts only on the
    /// copies this suite makes (in its own temporary folders), never on a committed fixture.
    static func ours(_ path: String) -> Bool { path.contains("tresnet-kit-tests-source-change") }

    func copyOfTiny(_ dir: String, _ name: String = "tiny_v1.pth") throws -> String {
        let path = dir + "/" + name
        try FileManager.default.copyItem(atPath: FixturePaths.tiny(name), toPath: path)
        return path
    }

    /// Truncates `path` to `size` bytes from a new thread and waits for it.
    static func truncateFromHelperThread(_ path: String, to size: Int) {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = truncate(path, off_t(size))
            done.signal()
        }
        done.wait()
    }

    func expectRefused(_ source: String, _ output: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let summary = try Conversion.convert(source: source, output: output, options: .init())
            Issue.record("converted a changing source: \(summary)", sourceLocation: sourceLocation)
        } catch let e as TResNetError {
            #expect(e.code.exitCode == 2, "\(e)", sourceLocation: sourceLocation)
            #expect(e.file == source, "\(e)", sourceLocation: sourceLocation)
            #expect(e.description.contains("changed while"), "\(e)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
        #expect(
            !FileManager.default.fileExists(atPath: output), "something was written", sourceLocation: sourceLocation)
        let leftovers =
            (try? FileManager.default.contentsOfDirectory(atPath: (output as NSString).deletingLastPathComponent))?
            .filter { $0.contains(".tmp-") } ?? []
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)", sourceLocation: sourceLocation)
    }

    @Test(
        "truncated after it was read, before its tensors are copied: refused, nothing written",
        arguments: [100_000, 150_000, 235_000])
    func truncatedAfterReading(at size: Int) throws {
        Conversion.sourceReadHook = { path in if Self.ours(path) { Self.truncateFromHelperThread(path, to: size) } }
        defer { Conversion.sourceReadHook = nil }
        for output in ["/out.tw", "/out.safetensors", "/out.onnx"] {
            let dir = FixturePaths.temporaryDirectory("source-change")
            expectRefused(try copyOfTiny(dir), dir + output)
        }
    }

    /// With overwrite (`--force`), the output that was there stays byte for byte when the source changes: the
    /// check runs after the last byte is written and before the rename, for .tw, .safetensors and .onnx alike
    /// (before, a .safetensors output was renamed into place and then removed).
    @Test("overwrite of an existing output: a changed source leaves the old output as it was")
    func overwriteKeepsTheOldOutput() throws {
        Conversion.sourceReadHook = { path in if Self.ours(path) { Self.truncateFromHelperThread(path, to: 150_000) } }
        defer { Conversion.sourceReadHook = nil }
        for output in ["/out.tw", "/out.safetensors", "/out.onnx"] {
            let dir = FixturePaths.temporaryDirectory("source-change")
            let old = Array("the previous output".utf8)
            try Data(old).write(to: URL(fileURLWithPath: dir + output))
            var options = Conversion.Options()
            options.overwrite = true
            #expect(throws: TResNetError.self, "\(output)") {
                try Conversion.convert(source: try copyOfTiny(dir), output: dir + output, options: options)
            }
            #expect(FileManager.default.contents(atPath: dir + output).map(Array.init) == old, "\(output) was replaced")
            let leftovers =
                (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.contains(".tmp-") } ?? []
            #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        }
    }

    /// 235,000 of 235,503 bytes: only the end of the zip's central directory (already parsed) goes, so every
    /// tensor still reads; before, the conversion succeeded and recorded the digest of the prefix.
    @Test("truncated while it is hashed (after the first 64 KiB): the digest never covers a prefix")
    func truncatedWhileHashing() throws {
        let dir = FixturePaths.temporaryDirectory("source-change")
        let source = try copyOfTiny(dir)
        let read = DispatchSemaphore(value: 0), truncated = DispatchSemaphore(value: 0)
        // fixed order: the main thread reads the whole source; the hashing thread, having hashed 64 KiB, then has
        // it truncated to 235,000 bytes; only then does the main thread go on
        BackgroundSHA256.progressHook = { path, n in
            if Self.ours(path), n == 64 << 10 {
                read.wait(); Self.truncateFromHelperThread(path, to: 235_000); truncated.signal()
            }
        }
        Conversion.sourceReadHook = { path in if Self.ours(path) { read.signal(); truncated.wait() } }
        defer { BackgroundSHA256.progressHook = nil; Conversion.sourceReadHook = nil }
        expectRefused(source, dir + "/out.tw")
    }

    @Test("grown or touched after it was read: refused too")
    func grownOrTouched() throws {
        let dir = FixturePaths.temporaryDirectory("source-change")
        let source = try copyOfTiny(dir)
        Conversion.sourceReadHook = { path in
            guard Self.ours(path) else { return }
            let h = FileHandle(forWritingAtPath: path)!
            h.seekToEndOfFile()
            h.write(Data([0]))
            try? h.close()
        }
        expectRefused(source, dir + "/out.tw")
        Conversion.sourceReadHook = nil
        // unchanged: converts
        let clean = try copyOfTiny(dir, "tiny_v1_legacy.pth")
        _ = try Conversion.convert(source: clean, output: dir + "/ok.tw", options: .init())
        #expect(FileManager.default.fileExists(atPath: dir + "/ok.tw"))
    }

    @Test("a read past the new end of a mapped file gives zeros and a counted fault, not SIGBUS")
    func mappedReadPastTheNewEnd() throws {
        let dir = FixturePaths.temporaryDirectory("source-change")
        let path = dir + "/data.bin"
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 4 * page)))
        let identity = try FileIdentity.of(path: path)
        let faults = identity.faults
        let store = try ByteStore.map(path: path)
        Self.truncateFromHelperThread(path, to: page)
        var copy = [UInt8](repeating: 1, count: 2 * page)
        copy.withUnsafeMutableBytes {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: store.bytes[(2 * page)...]))
        }
        #expect(copy.allSatisfy { $0 == 0 })
        #expect(identity.faults > faults)
        #expect(store.bytes[0] == 7)
        let e = try #require(throws: TResNetError.self) {
            try identity.checkUnchanged(path, faultsBefore: faults, while: "being read")
        }
        #expect(e.code == .truncated && e.description.contains("size went from \(4 * page) to \(page) bytes"), "\(e)")
        // pread-based copies name the size the file has now, not the offset of the read
        var buffer = [UInt8](repeating: 0, count: page)
        let e2 = try #require(throws: TResNetError.self) {
            try buffer.withUnsafeMutableBytes { try store.copy((3 * page)..<(4 * page), into: $0.baseAddress!) }
        }
        #expect(e2.description.contains("the file is now \(page) bytes, \(4 * page) when it was opened"), "\(e2)")
    }
}
