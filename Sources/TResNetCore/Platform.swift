#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// System calls whose Swift names clash with methods of the types that use them (`read`, `write`), wrapped
/// once so that no caller has to spell a platform module (`Glibc.read` compiles on Linux only).
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
}
