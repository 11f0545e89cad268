import Foundation
import Testing
import TestSupport
import TResNetKit
import TResNetRuntime
import TResNetModel

@Suite("tresnet-bench", .serialized)
struct BenchCLITests {
    @Test("times forwards of a tiny fixture and reports the work from ArchitectureCost")
    func forwardJSON() throws {
        let tool = try #require(builtTool("tresnet-bench"), "build the tresnet-bench product first")
        let weights = FixturePaths.tiny("tiny_v1.pth")
        let run = try runTool(
            tool,
            [
                weights, "--batch-size", "2", "--img-size", "64", "--warmup", "1", "--iterations", "3",
                "--threads", "1", "--json"
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let latencies = try #require(json["latencies_ms"] as? [Double])
        #expect(latencies.count == 3)
        let median = try #require(json["median_ms"] as? Double)
        #expect(median == Benchmark.median(latencies))
        #expect(json["min_ms"] as? Double == latencies.min())
        #expect(json["batch_size"] as? Int == 2 && json["height"] as? Int == 64 && json["threads"] as? Int == 1)
        let configuration = try ModelLoader.load(path: weights).configuration
        let macs = ArchitectureCost.of(configuration, height: 64, width: 64).macs
        let gflop = try #require(json["gflop_per_image"] as? Double)
        #expect(abs(gflop - 2 * Double(macs) / 1e9) <= 1e-12)
        #expect(try #require(json["peak_rss_bytes"] as? Int) > 0)
    }

    /// The reading flags every tool shares reach the benchmark's load too (they were once silently ignored).
    @Test("--strict-pickle, --ema and --prefix are applied, not ignored: each refuses a file it does not fit")
    func readingFlagsAreApplied() throws {
        let tool = try #require(builtTool("tresnet-bench"), "build the tresnet-bench product first")
        let quick = ["--img-size", "64", "--warmup", "0", "--iterations", "1", "--threads", "1"]
        let train = FixturePaths.path("containers/timm_train.pth.tar")
        let strict = try runTool(tool, [train, "--strict-pickle"] + quick)
        #expect(strict.status == 2 && strict.stderr.contains("'argparse.Namespace'"), "\(strict.stderr)")
        let ema = try runTool(tool, [FixturePaths.tiny("tiny_v1.pth"), "--ema"] + quick)
        #expect(ema.status == 2 && ema.stderr.contains("--ema"), "\(ema.stderr)")
        let prefix = try runTool(tool, [FixturePaths.tiny("tiny_v1.pth"), "--prefix", "nope."] + quick)
        #expect(prefix.status == 2 && prefix.stderr.contains("--prefix 'nope.'"), "\(prefix.stderr)")
        // and the training checkpoint's EMA weights are what --ema benchmarks
        #expect(try runTool(tool, [train, "--ema"] + quick).status == 0)
    }

    /// `peak_rss_bytes` is the tool's own peak, not its parent's: Linux carries the parent's `ru_maxrss` over
    /// `fork` + `exec`, which made every tool started by a large process (the benchmark script) report the
    /// script's size (issue 18: 1209 MiB for every tool).
    @Test("peak RSS is the tool's own, not that of the process that started it")
    func peakRSSIsTheToolsOwn() throws {
        let tool = try #require(builtTool("tresnet-bench"), "build the tresnet-bench product first")
        let size = 512 << 20
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
        defer { block.deallocate() }
        memset(block, 1, size)  // resident in this (the parent) process
        let run = try runTool(
            tool,
            [
                FixturePaths.tiny("tiny_v1.pth"), "--img-size", "64", "--warmup", "0", "--iterations", "1",
                "--threads", "1", "--json"
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let peak = try #require(json["peak_rss_bytes"] as? Int)
        #expect(peak > 1 << 20 && peak < 256 << 20, "tresnet-bench reported \(peak) bytes")
    }

    @Test(
        "TRESNET_MAX_ISA caps the kernels' ISA and --json reports the ISA and precision that ran",
        arguments: KernelISA.supported)
    func isaCap(_ isa: KernelISA) throws {
        let tool = try #require(builtTool("tresnet-bench"), "build the tresnet-bench product first")
        let run = try runTool(
            tool,
            [
                FixturePaths.tiny("tiny_v1.pth"), "--img-size", "64", "--warmup", "0",
                "--iterations", "1", "--threads", "1", "--json"
            ],
            environment: [KernelISA.capVariable: isa.rawValue])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(json["isa"] as? String == isa.rawValue)
        #expect(json["precision"] as? String == "f32")
        #expect(json["backend"] as? String == (isa == .portable ? "blas" : "winograd"))
    }

    @Test("a TRESNET_MAX_ISA that names no ISA is a usage error (exit 64, docs/ERRORS.md) naming the variable")
    func badISACap() throws {
        let tool = try #require(builtTool("tresnet-bench"), "build the tresnet-bench product first")
        let run = try runTool(
            tool, [FixturePaths.tiny("tiny_v1.pth"), "--img-size", "64", "--iterations", "1"],
            environment: [KernelISA.capVariable: "sse9"])
        #expect(run.status == 64, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("TRESNET_MAX_ISA=sse9") && run.stderr.contains("avx2"), "\(run.stderr)")
    }

    @Test("--open-only times opening a .tw in three ways")
    func openOnly() throws {
        let tool = try #require(builtTool("tresnet-bench"))
        let convert = try #require(builtTool("tresnet-convert"))
        let dir = FixturePaths.temporaryDirectory("bench")
        let tw = dir + "/tiny.tw"
        let made = try runTool(convert, [FixturePaths.tiny("tiny_v1.pth"), tw, "--quiet"])
        #expect(made.status == 0, "\(made.stderr)")
        let run = try runTool(tool, [tw, "--open-only", "--iterations", "2", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: tw)[.size] as? Int)
        #expect(json["bytes"] as? Int == size)
        for key in ["validate_median_ms", "checksum_median_ms", "model_median_ms"] {
            #expect((json[key] as? Double).map { $0 >= 0 } == true, "\(key)")
        }
    }

    @Test("a size that is not a multiple of 32 is a usage error")
    func badSize() throws {
        let tool = try #require(builtTool("tresnet-bench"))
        let run = try runTool(tool, [FixturePaths.tiny("tiny_v1.pth"), "--img-size", "50"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("multiple of 32"))
    }
}
