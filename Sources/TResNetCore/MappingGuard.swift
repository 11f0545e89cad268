/// Keeps a file that shrinks while it is mapped from killing the process. Reading a page of a `ByteStore` map
/// that lies past the file's new end raises SIGBUS; the handler installed here puts a page of zeros over the
/// faulting page (so the read completes, with zeros), counts the fault and returns. The caller then sees the
/// count move (`faults`) and the file's identity change (`FileIdentity`) and refuses the file with a clean error.
/// A SIGBUS anywhere else is not ours: the handler restores the default action and the fault repeats, as before.
///
/// The handler only reads a fixed table of mapped ranges and calls `mmap` (a system call); it takes no lock and
/// allocates nothing.
public enum MappingGuard {
    static let slotCount = 256
    /// Per slot `[base, end)` of a registered map (0 marks a free slot) and its fault count.
    nonisolated(unsafe) static let table: UnsafeMutablePointer<UInt> = {
        let t = UnsafeMutablePointer<UInt>.allocate(capacity: 3 * slotCount)
        t.initialize(repeating: 0, count: 3 * slotCount)
        return t
    }()
    /// The file (device, inode) of each slot; read only under the lock, never by the handler.
    nonisolated(unsafe) static var files = [(UInt64, UInt64)](repeating: (0, 0), count: slotCount)
    /// Faults absorbed on maps that are gone, by file.
    nonisolated(unsafe) static var pastFaults: [String: Int] = [:]
    nonisolated(unsafe) static var pageSize = 4096
    static let lock = PthreadLock()
    nonisolated(unsafe) static var installed = false

    /// How many faults the handler has absorbed on maps of the file `(device, inode)` since the process started.
    public static func faults(device: UInt64, inode: UInt64) -> Int {
        lock.withLock {
            var n = pastFaults["\(device):\(inode)"] ?? 0
            for slot in 0..<slotCount where table[3 * slot] != 0 && files[slot] == (device, inode) {
                n += Int(table[3 * slot + 2])
            }
            return n
        }
    }

    /// Registers the map `[base, base + count)` of the file `(device, inode)`; returns its slot (nil when the
    /// table is full: then the map is simply not guarded).
    static func register(_ base: UnsafeRawPointer, count: Int, device: UInt64, inode: UInt64) -> Int? {
        lock.withLock {
            if !installed {
                _ = table
                pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
                var action = Platform.signalAction(info: handler)
                action.sa_flags |= SA_NODEFER
                sigaction(SIGBUS, &action, nil)
                installed = true
            }
            for slot in 0..<slotCount where table[3 * slot] == 0 {
                files[slot] = (device, inode)
                table[3 * slot + 2] = 0
                table[3 * slot + 1] = UInt(bitPattern: base) + UInt(count)
                table[3 * slot] = UInt(bitPattern: base)
                return slot
            }
            return nil
        }
    }

    static func unregister(_ slot: Int) {
        lock.withLock {
            if table[3 * slot + 2] > 0 {
                pastFaults["\(files[slot].0):\(files[slot].1)", default: 0] += Int(table[3 * slot + 2])
            }
            table[3 * slot] = 0
            table[3 * slot + 1] = 0
            table[3 * slot + 2] = 0
        }
    }

    private static let handler:
        @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?)
            -> Void = { _, info, _ in
                let address = Platform.faultAddress(info)
                for slot in 0..<MappingGuard.slotCount {
                    let base = MappingGuard.table[3 * slot]
                    guard base != 0, address >= base, address < MappingGuard.table[3 * slot + 1] else { continue }
                    let page = address & ~UInt(MappingGuard.pageSize - 1)
                    let zeros = mmap(
                        UnsafeMutableRawPointer(bitPattern: page), MappingGuard.pageSize, PROT_READ,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
                    if zeros != MAP_FAILED {
                        MappingGuard.table[3 * slot + 2] += 1
                        return
                    }
                }
                signal(SIGBUS, SIG_DFL)  // not one of ours: fault again with the default action
            }
}

/// A small mutex (pthread; TResNetCore does not import Foundation's NSLock).
final class PthreadLock: @unchecked Sendable {
    private let m: UnsafeMutablePointer<pthread_mutex_t>
    init() {
        m = .allocate(capacity: 1)
        pthread_mutex_init(m, nil)
    }
    deinit {  // every lazily aligned ByteStore has one: without this each leaked its mutex (FuzzLegacy's leak)
        pthread_mutex_destroy(m)
        m.deallocate()
    }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}

/// What identifies a file's contents cheaply: size, modification time, inode and device. Taken before a file is
/// read and compared after, it tells whether the file changed (or was replaced) in between.
public struct FileIdentity: Sendable, Equatable, CustomStringConvertible {
    public let size: Int
    public let modified: Int  // nanoseconds since the epoch
    public let inode: UInt64
    public let device: UInt64

    /// The identity of the file at `path` (following links). Throws `.io` naming the file.
    public static func of(path: String) throws -> FileIdentity {
        var st = stat()
        guard stat(path, &st) == 0 else { throw TResNetError.io(path, "cannot stat: \(errnoText())") }
        return FileIdentity(st)
    }

    public init(_ st: stat) {
        size = Int(st.st_size)
        modified = Platform.modificationNanoseconds(st)
        inode = UInt64(st.st_ino)
        device = UInt64(st.st_dev)
    }

    public var description: String { "\(size) bytes, inode \(inode), mtime \(modified) ns" }

    /// Faults absorbed on maps of this file so far (`MappingGuard`).
    public var faults: Int { MappingGuard.faults(device: device, inode: inode) }

    /// Throws `.truncated` (exit 2) naming `path` when the file there is no longer this one, or when a read of
    /// one of its maps faulted (`MappingGuard`) since `faultsBefore` (this identity's `faults` back then).
    public func checkUnchanged(_ path: String, faultsBefore: Int, while doing: String) throws {
        let now = try? FileIdentity.of(path: path)
        let faulted = faults != faultsBefore
        guard let now, now == self, !faulted else {
            let what: String
            if let now, now.size != size {
                what = "its size went from \(size) to \(now.size) bytes"
            } else if let now, now.inode != inode || now.device != device {
                what = "it was replaced by another file"
            } else if now == nil {
                what = "it disappeared"
            } else if now != self {
                what = "it was modified"
            } else {
                what = "a read from it failed (part of it vanished)"
            }
            throw TResNetError(.truncated, "the file changed while \(doing): \(what); nothing was written", file: path)
        }
    }
}
