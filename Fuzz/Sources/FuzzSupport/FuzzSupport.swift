// The harnesses are a development tool, not part of the library: one import for all the parsers they reach.
@_exported import TResNetCheckpoint
@_exported import TResNetCore
@_exported import TResNetFormat
@_exported import TResNetImage
@_exported import TResNetONNX
import FuzzDriver

/// The oracle every harness shares (NumPy's OSS-Fuzz rule): parsing arbitrary bytes may succeed or throw a
/// `TResNetError`; any other error is a bug and aborts, so libFuzzer records the input. Traps, over-reads (the
/// input is copied into an exactly sized heap store, so ASan sees them) and leaks crash on their own.
public enum Fuzz {
    public static func run(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: (ByteStore) throws -> Void) -> CInt {
        let store = ByteStore.copying(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
        do {
            try body(store)
        } catch is TResNetError {
            // An honest refusal.
        } catch {
            let line = "non-TResNetError escaped: \(error)\n"
            _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            abort()
        }
        return 0
    }

    /// Runs libFuzzer on `callback` with the process's arguments (called from each target's `<Module>_main`).
    public static func drive(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt {
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, callback)
    }

    /// An empty folder for readers that resolve side files next to the input (ONNX external data).
    public static let scratchFolder: String = {
        let dir = "/tmp/tresnet-kit-fuzz-\(getpid())"
        mkdir(dir, 0o700)
        return dir
    }()

    /// Touches every tensor's bytes, so a slice reaching past its store is read (and caught by ASan).
    public static func touch(_ dict: StateDict) {
        var sum: UInt8 = 0
        for name in dict.names {
            guard let tensor = dict[name] else { continue }
            for b in tensor.data.bytes { sum &+= b }
        }
        blackHole(sum)
    }

    @inline(never) public static func blackHole<T>(_ value: T) { _ = value }
}
