import Testing
@testable import TResNetCore

/// The one progress reporter, driven by a fake clock: a redrawn line with rate and ETA on a terminal, a plain
/// line every interval elsewhere, nothing when quiet.
@Suite("ProgressReporter")
struct ProgressReporterTests {
    final class Fake: @unchecked Sendable {
        var now = 100.0
        var written: [String] = []
    }

    func reporter(
        _ mode: ProgressReporter.Mode, _ fake: Fake, unit: ProgressReporter.Unit = .items("images"),
        total: Int? = 1000
    ) -> ProgressReporter {
        ProgressReporter(
            label: "validating", unit: unit, total: total, mode: mode, interval: 5,
            now: { fake.now }, write: { fake.written.append($0) })
    }

    @Test("terminal: one redrawn line with done/total, percent, rate and ETA; at most ten draws a second")
    func terminal() {
        let fake = Fake()
        let p = reporter(.terminal, fake)
        p.update(0)
        fake.now += 10
        p.update(500)
        #expect(fake.written.last == "\rvalidating: 500/1000 (50.0 %) images, 50.0 images/s, ETA 0:10\u{1b}[K")
        fake.now += 0.05
        p.update(501)  // within 0.1 s of the last draw: not drawn
        #expect(fake.written.count == 2)
        fake.now += 9.95
        p.update(1000)
        p.finish()
        #expect(fake.written.last == "\rvalidating: 1000/1000 (100.0 %) images, 50.0 images/s, 0:20 elapsed\u{1b}[K\n")
        p.update(1000)
        #expect(fake.written.count == 4, "nothing after finish")
    }

    @Test("not a terminal: a plain line every interval (5 s), then a final one; no carriage returns")
    func lines() {
        let fake = Fake()
        let p = reporter(.lines, fake)
        p.update(0)
        for _ in 0..<24 {  // 24 updates over 12 s: lines at 5 s and 10 s only
            fake.now += 0.5
            p.update(Int((fake.now - 100) * 10))
        }
        #expect(
            fake.written == [
                "validating: 50/1000 (5.0 %) images, 10.0 images/s, ETA 1:35\n",
                "validating: 100/1000 (10.0 %) images, 10.0 images/s, ETA 1:30\n"
            ])
        p.finish()
        #expect(fake.written.count == 3 && !fake.written.joined().contains("\r"))
        #expect(fake.written.last == "validating: 120/1000 (12.0 %) images, 10.0 images/s, ETA 1:28\n")
    }

    @Test("quiet: nothing at all")
    func silent() {
        let fake = Fake()
        let p = reporter(.silent, fake)
        p.update(0)
        fake.now += 60
        p.update(10)
        p.finish()
        #expect(fake.written.isEmpty)
        #expect(ProgressReporter.Mode.automatic(quiet: true) == .silent)
    }

    @Test("bytes print as MiB with MiB/s; an unknown total has no percent and no ETA; hours in the clock")
    func bytes() {
        let fake = Fake()
        let p = reporter(.lines, fake, unit: .bytes, total: nil)
        p.update(0)
        fake.now += 8
        p.update(64 << 20)
        #expect(fake.written == ["validating: 64.0 MiB, 8.0 MiB/s\n"])
        #expect(p.clock(3725) == "1:02:05" && p.clock(59.6) == "1:00")
    }
}
