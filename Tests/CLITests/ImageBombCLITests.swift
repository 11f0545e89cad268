import Foundation
import Testing
import TestSupport

/// `tresnet-predict` on decompression bombs under a 1 GiB address-space limit (issue 20 #1): a clean refusal,
/// one line on stderr naming the file, exit 2 — never an abort from a failed allocation.
@Suite("image bombs under prlimit", .serialized)
struct ImageBombCLITests {
    static let bombs = ["png_rgba16_13000.png", "jpeg_baseline_13000.jpg", "jpeg_progressive_13000.jpg"]

    func predictUnderOneGiB(_ arguments: [String]) throws -> ToolRun {
        let predict = try #require(builtTool("tresnet-predict"), "build tresnet-predict first")
        let prlimit = try #require(
            ["/usr/bin/prlimit", "/bin/prlimit"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "prlimit (util-linux) is needed")
        return try runTool(
            prlimit,
            ["--as=1073741824", predict, FixturePaths.tiny("tiny_v1.pth")] + arguments
                + ["--img-size", "64"])
    }

    @Test("the default --max-pixels (PIL's 89,478,485) refuses each bomb from its header")
    func refusedByDefault() throws {
        for name in Self.bombs {
            let path = FixturePaths.tiny("bombs/" + name)
            let run = try predictUnderOneGiB([path])
            #expect(run.status == 2, "\(name): status \(run.status), stderr \(run.stderr.prefix(300))")
            let lines = run.stderr.split(separator: "\n").map(String.init)
            #expect(
                lines.first == "tresnet-predict: \(path): \(name.hasPrefix("png") ? "png" : "jpeg"): "
                    + "13000×13000 pixels is more than the 89478485 allowed (--max-pixels)", "\(run.stderr)")
            #expect(lines.count == 1, "one line for one refused image: \(run.stderr)")
            #expect(run.stdout.isEmpty, "refusals go to stderr: \(run.stdout)")
        }
    }

    @Test("--max-pixels at PIL's error threshold: refused by the memory budget or a bounded clean failure")
    func raisedCapStaysBounded() throws {
        for name in Self.bombs {
            let path = FixturePaths.tiny("bombs/" + name)
            let run = try predictUnderOneGiB([path, "--max-pixels", "178956970"])
            // never a signal (an abort from a failed allocation was SIGABRT): a refusal, or a prediction within 1 GiB
            #expect(
                run.status == 2 || run.status == 0, "\(name): status \(run.status), stderr \(run.stderr.prefix(300))")
            #expect(!run.stderr.contains("Fatal error"), "\(run.stderr.prefix(300))")
            if run.status == 2 {
                #expect(run.stderr.hasPrefix("tresnet-predict: \(path): "), "\(run.stderr.prefix(300))")
            } else {
                #expect(run.stdout.hasPrefix(path + "\n  1. class "), "\(run.stdout.prefix(300))")
            }
            if name.contains("progressive") {  // its coefficients alone are 507 MB: over the budget
                #expect(run.stderr.contains("image memory budget"), "\(run.stderr.prefix(300))")
            }
            if name.contains("baseline") {  // streamed into the resize: its rows are never held
                #expect(run.status == 0, "\(run.stderr.prefix(300))")
            }
        }
    }

    static let large = FixturePaths.full("large")

    /// Legitimate images near the pixel cap (Fixtures/gen_large_images.py, git-ignored; skipped when absent):
    /// predicted under `prlimit --as=1073741824`, the whole process's peak RSS (`/usr/bin/time -f %M`: model,
    /// runtime, mapped file, decoding and preprocessing) under the 256 MiB image bound.
    @Test(
        "a baseline JPEG and a PNG near the pixel cap predict with a whole-process peak under 256 MiB",
        .enabled(if: large != nil, "Fixtures/full/large absent"),
        arguments: ["baseline_exif6_11184x8000.jpg", "plain_9459x9459.png"])
    func largeImagesStayBounded(_ name: String) throws {
        let predict = try #require(builtTool("tresnet-predict"), "build tresnet-predict first")
        let time = try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? "/usr/bin/time" : nil)
        let report = FixturePaths.temporaryDirectory("bomb-rss") + "/rss"
        let path = try #require(Self.large) + "/" + name
        let run = try runTool(
            time,
            [
                "-f", "%M", "-o", report, "prlimit", "--as=1073741824", predict, FixturePaths.tiny("tiny_v1.pth"),
                path, "--img-size", "224"
            ])
        #expect(run.status == 0, "\(name): \(run.stderr.prefix(300))")
        #expect(run.stdout.hasPrefix(path + "\n  1. class "), "\(run.stdout.prefix(300))")
        let text = try String(contentsOfFile: report, encoding: .utf8)
        let kib = try #require(text.split(separator: "\n").compactMap { Int($0) }.last, "\(text)")
        print("tresnet-predict \(name): peak RSS \(kib) KiB")
        #expect(kib * 1024 < 256 << 20, "\(name): peak RSS \(kib) KiB")
    }

    @Test("--max-pixels below an ordinary image refuses it; 0 is a usage error")
    func maxPixelsOption() throws {
        let records = try ImageManifest.load()
        let good = ImageManifest.folder + "/" + records.images[0].file
        let run = try predictUnderOneGiB([good, "--max-pixels", "100"])
        #expect(run.status == 2 && run.stderr.contains("pixels is more than the 100 allowed"), "\(run.stderr)")
        let zero = try predictUnderOneGiB([good, "--max-pixels", "0"])
        #expect(zero.status == 64 && zero.stderr.contains("--max-pixels must be at least 1"), "\(zero.stderr)")
    }
}
