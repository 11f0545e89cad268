// The platform shim: the only file of the package that names a platform module. It re-exports the C library
// (Glibc on Linux, Darwin on Apple platforms) to every module that imports TResNetCore, so POSIX calls are
// spelled once, and wraps the few calls and fields whose Swift spelling differs between the two.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Darwin)
@_exported import Darwin
#endif

/// System calls whose Swift names clash with methods of the types that use them (`read`, `write`, `send`), or
/// whose arguments are typed differently per platform, wrapped once (in the manner of swift-system's syscall
/// wrappers) so that no caller spells a platform module.
public enum SystemCall {
    /// read(2): bytes read, 0 at end of file, −1 with `errno` set.
    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.read(fd, buffer, count)
        #else
        Darwin.read(fd, buffer, count)
        #endif
    }

    /// write(2): bytes written, −1 with `errno` set.
    public static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
        #else
        Darwin.write(fd, buffer, count)
        #endif
    }

    /// send(2) without SIGPIPE on a closed peer (`MSG_NOSIGNAL` on Linux; Darwin has no such flag, a socket
    /// there sets `SO_NOSIGPIPE` instead).
    public static func send(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.send(fd, buffer, count, Int32(MSG_NOSIGNAL))
        #else
        Darwin.send(fd, buffer, count, 0)
        #endif
    }

    /// socket(2) for a TCP stream (`SOCK_STREAM` is an enum on Linux, an integer on Darwin).
    public static func streamSocket(family: Int32) -> Int32 {
        #if canImport(Glibc)
        socket(family, Int32(SOCK_STREAM.rawValue), 0)
        #else
        socket(family, SOCK_STREAM, 0)
        #endif
    }
}

/// Fields and structures whose layout differs between the C libraries.
public enum Platform {
    /// A file's modification time in nanoseconds since the epoch (`st_mtim` on Linux, `st_mtimespec` on Darwin).
    public static func modificationNanoseconds(_ st: stat) -> Int {
        #if canImport(Glibc)
        Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
        #else
        Int(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int(st.st_mtimespec.tv_nsec)
        #endif
    }

    /// The peak resident set size of this process in bytes. On Linux, `VmHWM` of /proc/self/status: the peak of
    /// this program's own address space, where `ru_maxrss` would also count the parent's memory at the `fork`
    /// before our `exec` (Linux carries it over, so every child of a large process reported at least its size);
    /// `ru_maxrss` (KiB) where /proc is not mounted. On Darwin, `ru_maxrss` (bytes).
    public static func peakRSSBytes() -> Int {
        var usage = rusage()
        #if canImport(Glibc)
        if let kib = procStatusKiB("VmHWM") { return kib * 1024 }
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #endif
    }

    /// A `kB` field of /proc/self/status (`VmHWM`, `VmRSS`, …), nil when it cannot be read.
    public static func procStatusKiB(_ field: String) -> Int? {
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 16 {
            let n = chunk.withUnsafeMutableBytes { SystemCall.read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).filter(\.isNumber))
        }
        return nil
    }

    /// A `sigaction` that calls `handler(signal)`.
    public static func signalAction(_ handler: @convention(c) (Int32) -> Void) -> sigaction {
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = handler
        #else
        action.__sigaction_u.__sa_handler = handler
        #endif
        sigemptyset(&action.sa_mask)
        return action
    }

    /// A `sigaction` with `SA_SIGINFO` that calls `handler(signal, info, context)`.
    public static func signalAction(
        info handler: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void
    ) -> sigaction {
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_sigaction = handler
        #else
        action.__sigaction_u.__sa_sigaction = handler
        #endif
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        return action
    }

    /// The faulting address of a SIGBUS or SIGSEGV (`si_addr`, inside a union on Linux). Async-signal-safe.
    @inline(__always)
    public static func faultAddress(_ info: UnsafeMutablePointer<siginfo_t>?) -> UInt {
        #if canImport(Glibc)
        UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
        #else
        UInt(bitPattern: info?.pointee.si_addr)
        #endif
    }

    /// Calls a C function that this platform's headers do not declare to Swift (glibc's `sync_file_range`
    /// behind `_GNU_SOURCE`, OpenBLAS's `blas_thread_shutdown_`), looked up in the running process; nil when
    /// the process has no such symbol.
    public static func symbol<F>(_ name: String, as type: F.Type) -> F? {
        #if canImport(Glibc)
        let everywhere = UnsafeMutableRawPointer(bitPattern: 0)  // RTLD_DEFAULT
        #else
        let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #endif
        guard let symbol = dlsym(everywhere, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }
}
