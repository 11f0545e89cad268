import TResNetCore

/// Where a forward pass spends its time, accumulated per kind of operation and per GEMM shape, for benchmarks
/// (`tresnet-bench --profile`). Pass one to `TResNetNetwork.forward(_:taps:profile:)`; without one (the
/// default) the forward pass does no timing at all. Not thread-safe: one profile per forward at a time.
public final class ForwardProfile {
    /// Seconds spent per operation kind ("conv3x3 im2col", "conv3x3 gemm", "conv1x1 gemm", "conv epilogue",
    /// "blur pool", "SE", …), summed over all forwards run with this profile.
    public private(set) var seconds: [String: Double] = [:]
    /// Calls per operation kind.
    public private(set) var calls: [String: Int] = [:]
    /// Per GEMM shape (m, n, k): calls and seconds.
    public private(set) var gemms: [GEMMShape: (calls: Int, seconds: Double)] = [:]

    /// One sgemm shape: C[m×n] = A[m×k] · B[k×n].
    public struct GEMMShape: Hashable, Sendable, Comparable {
        public var m: Int
        public var n: Int
        public var k: Int
        public init(m: Int, n: Int, k: Int) { self.m = m; self.n = n; self.k = k }
        /// 2·m·n·k floating-point operations.
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
        public static func < (a: Self, b: Self) -> Bool { (a.m, a.n, a.k) < (b.m, b.n, b.k) }
    }

    public init() {}

    /// Forgets everything measured so far.
    public func reset() {
        seconds = [:]
        calls = [:]
        gemms = [:]
    }

    func add(_ kind: String, nanoseconds: UInt64) {
        seconds[kind, default: 0] += Double(nanoseconds) * 1e-9
        calls[kind, default: 0] += 1
    }

    func addGEMM(_ shape: GEMMShape, nanoseconds: UInt64) {
        let old = gemms[shape] ?? (0, 0)
        gemms[shape] = (old.calls + 1, old.seconds + Double(nanoseconds) * 1e-9)
    }
}

/// A monotonic clock in nanoseconds (CLOCK_MONOTONIC), for the profile here and the benchmarks.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Runs `body`, adding its duration to `profile` under `kind` when a profile is given.
@inline(__always)
func timed<T>(_ profile: ForwardProfile?, _ kind: String, _ body: () throws -> T) rethrows -> T {
    guard let profile else { return try body() }
    let start = monotonicNanoseconds()
    defer { profile.add(kind, nanoseconds: monotonicNanoseconds() &- start) }
    return try body()
}

/// Runs a GEMM `body`, adding its duration to `profile` under `kind` and under its shape.
@inline(__always)
func timedGEMM(_ profile: ForwardProfile?, _ kind: String, m: Int, n: Int, k: Int, _ body: () -> Void) {
    guard let profile else { return body() }
    let start = monotonicNanoseconds()
    body()
    let elapsed = monotonicNanoseconds() &- start
    profile.add(kind, nanoseconds: elapsed)
    profile.addGEMM(.init(m: m, n: n, k: k), nanoseconds: elapsed)
}

/// The thread count of the BLAS library the runtime calls (OpenBLAS), for benchmarks and CLIs.
public enum BLASThreads {
    /// The number of threads OpenBLAS uses now.
    public static var count: Int { blasThreads() }
    /// Sets the number of threads OpenBLAS uses (≥ 1).
    public static func set(_ n: Int) { blasSetThreads(max(1, n)) }
    /// Stops OpenBLAS's idle worker threads (they spin for a while after the library loads); the next
    /// multi-threaded OpenBLAS call starts them again. The CLIs call this first thing.
    public static func stopIdleThreads() { blasStopThreads() }
}

/// OpenBLAS sgemm alone, for comparing a layer's achieved GFLOP/s with what the library reaches on its own.
public enum KernelBenchmark {
    /// Times `iterations` calls of C[m×n] = A[m×k]·B[k×n] (row-major, deterministic operands) after 2 warm-up
    /// calls. - Returns: each call's seconds.
    public static func sgemm(m: Int, n: Int, k: Int, iterations: Int) -> [Double] {
        let a = (0..<(m * k)).map { Float(($0 % 17) - 8) * 0.01 }
        let b = (0..<(k * n)).map { Float(($0 % 13) - 6) * 0.01 }
        var c = [Float](repeating: 0, count: m * n)
        var times: [Double] = []
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<(iterations + 2) {
                        let start = monotonicNanoseconds()
                        blasSgemm(
                            m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n,
                            c: cp.baseAddress!, ldc: n)
                        if i >= 2 { times.append(Double(monotonicNanoseconds() &- start) * 1e-9) }
                    }
                }
            }
        }
        return times
    }
}
