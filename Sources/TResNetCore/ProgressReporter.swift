/// The one progress reporter of the tools that run long (`tresnet-convert`, `tresnet-zoo fetch`,
/// `tresnet-validate`), on standard error:
/// - on a terminal, one line redrawn at most ten times a second: done/total, percent, rate and ETA;
/// - elsewhere (CI logs, pipes), a plain line every `interval` seconds and one at the end, so a long run in a
///   batch job shows it is alive without flooding the log;
/// - nothing with `--quiet`.
/// The clock and the writer are injectable, so tests drive it with a fake clock.
public final class ProgressReporter: @unchecked Sendable {
    public enum Mode: Sendable, Equatable {
        case terminal, lines, silent

        /// `silent` when quiet, `terminal` when `fd` is a terminal, else `lines`.
        public static func automatic(quiet: Bool, fd: Int32 = 2) -> Mode {
            quiet ? .silent : isatty(fd) == 1 ? .terminal : .lines
        }
    }

    /// What is counted: bytes print as MiB, items with their unit name (`images`, `tensors`).
    public enum Unit: Sendable, Equatable {
        case bytes
        case items(String)
    }

    public let label: String
    public let unit: Unit
    public let mode: Mode
    /// Seconds between two plain lines (`lines` mode).
    public let interval: Double
    private let now: @Sendable () -> Double
    private let write: @Sendable (String) -> Void
    private let lock = PthreadLock()
    private var start: Double?
    private var lastDraw = -Double.infinity
    private var done = 0
    private var total: Int?
    private var finished = false

    public init(
        label: String, unit: Unit, total: Int? = nil, mode: Mode, interval: Double = 5,
        now: @escaping @Sendable () -> Double = ProgressReporter.monotonicSeconds,
        write: @escaping @Sendable (String) -> Void = ProgressReporter.writeStandardError
    ) {
        self.label = label
        self.unit = unit
        self.total = total
        self.mode = mode
        self.interval = interval
        self.now = now
        self.write = write
    }

    /// Records progress: `done` so far, out of `total` when known (the last known total stays otherwise).
    public func update(_ done: Int, total: Int? = nil) {
        lock.withLock {
            guard mode != .silent, !finished else { return }
            let t = now()
            if start == nil { start = t }
            self.done = done
            if let total { self.total = total }
            switch mode {
            case .terminal:
                guard t - lastDraw >= 0.1 else { return }
                lastDraw = t
                write("\r" + line(at: t) + "\u{1b}[K")
            case .lines:
                if lastDraw == -.infinity { lastDraw = t; return }  // the first line comes after one interval
                guard t - lastDraw >= interval else { return }
                lastDraw = t
                write(line(at: t) + "\n")
            case .silent:
                return
            }
        }
    }

    /// Ends the line (terminal) or prints the final one (lines) once; later updates are ignored.
    public func finish() {
        lock.withLock {
            guard mode != .silent, !finished, start != nil else { finished = true; return }
            finished = true
            let t = now()
            write((mode == .terminal ? "\r" : "") + line(at: t) + (mode == .terminal ? "\u{1b}[K\n" : "\n"))
        }
    }

    /// `label: 450/1000 images (45.0 %), 57.3 images/s, ETA 0:10` (bytes in MiB).
    func line(at t: Double) -> String {
        let elapsed = max(0, t - (start ?? t))
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var text = "\(label): " + amount(done)
        if let total {
            text += "/" + amount(total)
            if total > 0 { text += " (" + fixed(100 * Double(done) / Double(total), 1) + " %)" }
        }
        text += unitName
        if rate > 0 { text += ", " + rateText(rate) }
        if let total, rate > 0, done < total {
            text += ", ETA " + clock(Double(total - done) / rate)
        } else if finished || (total.map { done >= $0 } ?? false) {
            text += ", " + clock(elapsed) + " elapsed"
        }
        return text
    }

    private var unitName: String {
        switch unit {
        case .bytes: return " MiB"
        case .items(let name): return " " + name
        }
    }

    private func amount(_ n: Int) -> String {
        switch unit {
        case .bytes: return fixed(Double(n) / 1_048_576, 1)
        case .items: return "\(n)"
        }
    }

    private func rateText(_ rate: Double) -> String {
        fixed(unit == .bytes ? rate / 1_048_576 : rate, 1) + unitName + "/s"
    }

    /// `m:ss`, or `h:mm:ss` from an hour on.
    func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return s >= 3600 ? "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" : "\(s / 60):\(two(s % 60))"
    }

    private func fixed(_ x: Double, _ digits: Int) -> String {
        let scale = digits == 1 ? 10.0 : 100.0
        let r = (x * scale).rounded() / scale
        var text = "\(r)"
        if !text.contains(".") { text += ".0" }
        return text
    }

    public static let monotonicSeconds: @Sendable () -> Double = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public static let writeStandardError: @Sendable (String) -> Void = { text in
        _ = text.utf8CString.withUnsafeBufferPointer { SystemCall.write(2, $0.baseAddress, $0.count - 1) }
    }
}
