import Foundation
import TResNetCore

/// The cache-local record of digests first seen for files the catalog has no published sha256 for
/// (`<cache>/pins.json`). Trust on first use: the first verified-complete download is recorded, and every later
/// fetch and every reuse of the cached file is checked against it. The catalog itself is never modified.
public struct PinStore: Sendable {
    public struct Pin: Codable, Sendable, Hashable {
        public var sha256: String
        public var size: Int
        public var url: String
        public var recordedAt: String
    }

    public let path: String

    public init(cacheDirectory: String) { path = cacheDirectory + "/pins.json" }

    private struct File: Codable {
        var version: Int
        var pins: [String: Pin]
    }

    /// All pins, keyed `<tag>/<file>`. A missing file is an empty store; an unreadable one is an error (a pin
    /// store that silently resets would defeat its purpose).
    public func load() throws -> [String: Pin] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TResNetError.io(path, "cannot read the pins file")
        }
        do {
            return try JSONDecoder().decode(File.self, from: data).pins
        } catch {
            throw TResNetError(
                .malformed, format: "pins", "unreadable pins file (\(error)); fix or remove it",
                file: path)
        }
    }

    public func pin(for key: String) throws -> Pin? { try load()[key] }

    /// Records `pin` under `key` (read-modify-write under an exclusive lock, written atomically).
    public func record(_ pin: Pin, for key: String) throws {
        let lock = try FileLock(path: path + ".lock")
        defer { lock.release() }
        var pins = try load()
        pins[key] = pin
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(File(version: 1, pins: pins))
        try writeFileAtomically(path, [UInt8](data) + [0x0a])
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}

/// An exclusive advisory lock on a file (`flock`), so two processes do not download the same file at once
/// (docs/ROBUSTNESS.md A.9 #111; on file systems where flock is a no-op this only costs bandwidth: temp names are
/// process-unique anyway).
///
/// The lock file is unlinked before it is unlocked, so no `.lock` is left behind; a process that opened the file
/// before the unlink finds, once it holds the lock, that the path no longer names the file it locked, and starts
/// again on a new one.
final class FileLock {
    private var fd: Int32
    private let path: String
    /// The lock file's entry in the interrupt clean-up table, while it is held.
    private var slot: Int?

    init(path: String) throws {
        self.path = path
        while true {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else {
                throw TResNetError.io(path, "cannot open lock file: \(String(cString: strerror(errno)))")
            }
            while flock(fd, LOCK_EX) != 0 {
                if errno == EINTR { continue }
                let text = String(cString: strerror(errno))
                close(fd)
                fd = -1
                throw TResNetError.io(path, "cannot lock: \(text)")
            }
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev
            {
                slot = Interrupts.registerCleanup(path)
                return
            }
            close(fd)  // unlinked by its previous holder: lock the file now at the path
        }
    }

    func release() {
        if fd >= 0 {
            unlink(path)
            if let slot { Interrupts.unregisterCleanup(slot) }
            slot = nil
            _ = flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
