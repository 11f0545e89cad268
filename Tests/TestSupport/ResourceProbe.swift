import Foundation
import TResNetCore

/// Measures the peak memory and the time one call takes (docs/ROBUSTNESS.md, "Bounded memory": a small file declaring a huge
/// tensor must be refused in bounded memory and time).
///
/// On Linux the process's peak RSS (`VmHWM`) is reset through `/proc/self/clear_refs` before the call and read
/// after it, so the figure is the peak during the call (of the whole process: tests running in parallel can only
/// make it larger, never hide an allocation). Where the reset is not allowed, the figure is the growth of
/// `getrusage`'s lifetime peak, which can only under-report; `peakIsExact` says which.
public enum ResourceProbe {
    public struct Measurement: Sendable, CustomStringConvertible {
        /// Peak resident memory during the call, above the resident memory just before it.
        public var peakGrowthBytes: Int
        public var seconds: Double
        public var peakIsExact: Bool
        public var description: String {
            "peak +\(peakGrowthBytes / 1024) KiB, \(String(format: "%.1f", seconds * 1000)) ms"
                + (peakIsExact ? "" : " (lifetime peak; may under-report)")
        }
    }

    public static func measure(_ body: () throws -> Void) rethrows -> Measurement {
        let exact = resetPeak()
        let before = currentRSS()
        let peakBefore = lifetimePeak()
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let growth = exact ? max(0, statusField("VmHWM") - before) : max(0, lifetimePeak() - peakBefore)
        return Measurement(peakGrowthBytes: growth, seconds: seconds, peakIsExact: exact)
    }

    /// Measures `body` up to `attempts` times and returns the first measurement `ok` accepts, else the one with
    /// the smallest peak. The peak is process-wide, so a test running in parallel can inflate one measurement;
    /// an allocation made by `body` itself shows in every attempt.
    public static func measure(
        attempts: Int, until ok: (Measurement) -> Bool,
        _ body: () throws -> Void
    ) rethrows -> Measurement {
        var best: Measurement?
        for _ in 0..<max(1, attempts) {
            let m = try measure(body)
            if ok(m) { return m }
            if best == nil || m.peakGrowthBytes < best!.peakGrowthBytes { best = m }
        }
        return best!
    }

    /// Resets VmHWM to the current RSS (Linux ≥ 4.0: write "5" to clear_refs).
    static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    static func currentRSS() -> Int { statusField("VmRSS") }

    /// A `kB` field of /proc/self/status, in bytes (0 when unreadable).
    static func statusField(_ name: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.split(separator: " ").dropFirst().first { Int($0) != nil }
            return (digits.flatMap { Int($0) } ?? 0) * 1024
        }
        return 0
    }

    static func lifetimePeak() -> Int {
        Platform.peakRSSBytes()
    }
}
