import TResNetCore
import TResNetFormat
import TResNetModel
import TResNetRuntime

/// Forward-pass and file-open timings for `tresnet-bench` and `make bench` (docs/BENCHMARKS.md).
public enum Benchmark {
    /// What to run: batch, square input side, warm-up and timed iterations, BLAS threads.
    public struct Options: Sendable {
        public var batch = 1
        public var size = 224
        public var warmup = 3
        public var iterations = 20
        /// Threads for the direct kernels and OpenBLAS; nil leaves their defaults (all cores).
        public var threads: Int?
        /// The convolution kernels.
        public var backend: ConvolutionBackend = .automatic
        /// The convolutions' arithmetic.
        public var precision: Precision = .f32
        /// Also time every operation kind and GEMM shape in extra profiled forwards (not the timed ones).
        public var profile = false
        /// Also time reading this semantic tree file and semantic prediction (forward + per-level softmax and
        /// labels of every image, docs/SEMANTIC.md), alternating with the plain forwards.
        public var semanticTreePath: String?
        public init() {}
    }

    /// One forward-pass benchmark: timings in seconds.
    public struct Result: Sendable, Encodable {
        public var weights: String
        public var configuration: String
        public var batch: Int
        public var height: Int
        public var width: Int
        public var warmup: Int
        public var iterations: Int
        public var threads: Int
        /// The convolution kernels that ran (`winograd`, `direct` or `blas`).
        public var backend: String
        /// The instruction set of our kernels (`avx512`, `avx2`, `neon` or `portable`; `KernelISA`, capped by
        /// `TRESNET_MAX_ISA`). With the `blas` backend the convolutions ran in OpenBLAS, which picks its own.
        public var isa: String
        /// The arithmetic of the convolutions: `f32` or `bf16` (`Precision`).
        public var precision: String
        /// Opening, mapping and binding the weights.
        public var loadSeconds: Double
        /// Building the network (BN folding, weight layout).
        public var compileSeconds: Double
        /// Every timed forward, in order.
        public var latencies: [Double]
        public var medianSeconds: Double
        public var minimumSeconds: Double
        /// batch / median.
        public var imagesPerSecond: Double
        /// 2 × MACs of one image (ArchitectureCost), in GFLOP.
        public var gflopPerImage: Double
        /// gflopPerImage × batch / median.
        public var achievedGFLOPS: Double
        /// getrusage ru_maxrss of this process at the end, bytes.
        public var peakRSSBytes: Int
        /// Present with `Options.profile`.
        public var profile: Profile?
        /// With `Options.semanticTreePath`: reading the tree file, the median of forward + semantic labels for
        /// the batch, and of the labels step alone (per batch).
        public var semanticTreeReadSeconds: Double?
        public var semanticMedianSeconds: Double?
        public var semanticLabelsMedianSeconds: Double?
    }

    /// Where the time of profiled forwards went.
    public struct Profile: Sendable, Encodable {
        public struct Kind: Sendable, Encodable {
            public var kind: String
            public var calls: Int
            /// Per forward.
            public var seconds: Double
        }
        public struct GEMM: Sendable, Encodable {
            public var m: Int
            public var n: Int
            public var k: Int
            /// Calls per forward.
            public var calls: Int
            /// Per forward, all calls of this shape.
            public var seconds: Double
            /// In the network.
            public var gflops: Double
            /// The same shape on OpenBLAS alone: from the median and from the fastest of 10 calls.
            public var standaloneGFLOPS: Double?
            public var standaloneBestGFLOPS: Double?
        }
        public var forwards: Int
        /// Per forward, the sum of the timed kinds.
        public var profiledSeconds: Double
        public var kinds: [Kind]
        public var gemms: [GEMM]
    }

    /// Loads `path`, compiles the network, runs `options.warmup` untimed and `options.iterations` timed forwards
    /// on a deterministic input.
    public static func run(path: String, options: Options, conversion: Conversion.Options = .init()) throws -> Result {
        guard options.batch >= 1, options.size >= 32, options.size % 32 == 0, options.iterations >= 1,
            options.warmup >= 0
        else {
            throw TResNetError(.usage, "batch ≥ 1, iterations ≥ 1, warm-up ≥ 0 and a size that is a multiple of 32")
        }
        if let threads = options.threads {
            BLASThreads.set(threads)
            TResNetNetwork.threads = threads
        }
        var start = now()
        var loaded = try ModelLoader.load(path: path, options: conversion)
        loaded.precision = options.precision
        let loadSeconds = now() - start
        start = now()
        let network = try loaded.network(backend: options.backend)
        let compileSeconds = now() - start
        let c = loaded.configuration
        let input = deterministicInput(batch: options.batch, channels: c.inChannels, size: options.size)
        for _ in 0..<options.warmup { _ = try network.forward(input) }
        var tree: SemanticTree?
        var treeReadSeconds: Double?
        if let path = options.semanticTreePath {
            let t = now()
            tree = try SemanticTreeFile.read(path: path, numClasses: c.numClasses)
            treeReadSeconds = now() - t
        }
        var latencies: [Double] = [], semantic: [Double] = [], labels: [Double] = []
        for _ in 0..<options.iterations {
            let t = now()
            _ = try network.forward(input)
            latencies.append(now() - t)
            if let tree {
                let t0 = now()
                let logits = try network.forward(input).logits
                let t1 = now()
                let flat = try logits.floats()
                let n = c.numClasses
                var found = 0
                for i in 0..<options.batch { found += tree.labels(Array(flat[(i * n)..<((i + 1) * n)])).count }
                let t2 = now()
                semantic.append(t2 - t0)
                labels.append(t2 - t1)
                if found < 0 { print(found) }  // keeps the labels from being optimised away
            }
        }
        let median = Self.median(latencies), minimum = latencies.min() ?? 0
        let gflop = 2 * Double(ArchitectureCost.of(c, height: options.size, width: options.size).macs) / 1e9
        let forwards = max(3, min(options.iterations, 5))
        let profile = options.profile ? try profiled(network, input: input, forwards: forwards) : nil
        return Result(
            weights: path, configuration: c.description, batch: options.batch, height: options.size,
            width: options.size, warmup: options.warmup, iterations: options.iterations,
            threads: options.threads ?? TResNetNetwork.threads, backend: network.backend.rawValue,
            isa: try KernelISA.current().rawValue, precision: network.precision.rawValue,
            loadSeconds: loadSeconds, compileSeconds: compileSeconds,
            latencies: latencies, medianSeconds: median, minimumSeconds: minimum,
            imagesPerSecond: Double(options.batch) / median, gflopPerImage: gflop,
            achievedGFLOPS: gflop * Double(options.batch) / median, peakRSSBytes: Platform.peakRSSBytes(),
            profile: profile,
            semanticTreeReadSeconds: treeReadSeconds,
            semanticMedianSeconds: semantic.isEmpty ? nil : Self.median(semantic),
            semanticLabelsMedianSeconds: labels.isEmpty ? nil : Self.median(labels))
    }

    static func profiled(_ network: TResNetNetwork, input: Tensor, forwards: Int) throws -> Profile {
        let recorder = ForwardProfile()
        for _ in 0..<forwards { _ = try network.forward(input, profile: recorder) }
        let f = Double(forwards)
        let kinds = recorder.seconds.map {
            Profile.Kind(
                kind: $0.key, calls: (recorder.calls[$0.key] ?? 0) / forwards,
                seconds: $0.value / f)
        }
        .sorted { $0.seconds > $1.seconds }
        var gemms = recorder.gemms.map { shape, value in
            Profile.GEMM(
                m: shape.m, n: shape.n, k: shape.k, calls: value.calls / forwards, seconds: value.seconds / f,
                gflops: shape.flops * Double(value.calls) / value.seconds / 1e9, standaloneGFLOPS: nil,
                standaloneBestGFLOPS: nil)
        }.sorted { $0.seconds > $1.seconds }
        // OpenBLAS alone on the shapes that take the most time.
        for i in gemms.indices.prefix(8) {
            let g = gemms[i]
            let times = KernelBenchmark.sgemm(m: g.m, n: g.n, k: g.k, iterations: 10)
            let flops = 2 * Double(g.m) * Double(g.n) * Double(g.k)
            gemms[i].standaloneGFLOPS = flops / median(times) / 1e9
            gemms[i].standaloneBestGFLOPS = times.min().map { flops / $0 / 1e9 }
        }
        return Profile(
            forwards: forwards, profiledSeconds: kinds.reduce(0) { $0 + $1.seconds }, kinds: kinds,
            gemms: gemms)
    }

    /// Opening a `.tw` file: mmap + full validation, with or without checksum verification, and the whole
    /// `TWModel.open` (validation, metadata, binding to the layer tree).
    public struct OpenResult: Sendable, Encodable {
        public var path: String
        public var bytes: Int
        public var iterations: Int
        /// TWFile.open without checksums: median and minimum seconds.
        public var validateMedianSeconds: Double
        public var validateMinimumSeconds: Double
        /// TWFile.open with checksum verification.
        public var checksumMedianSeconds: Double
        public var checksumMinimumSeconds: Double
        /// TWModel.open (validated file, metadata, bound layer tree; no checksums).
        public var modelMedianSeconds: Double
        public var modelMinimumSeconds: Double
    }

    /// Times opening `path` (a `.tw`) `iterations` times in each mode, after one untimed open.
    public static func open(path: String, iterations: Int) throws -> OpenResult {
        guard iterations >= 1 else { throw TResNetError(.usage, "iterations must be at least 1") }
        func times(_ body: () throws -> Void) rethrows -> [Double] {
            try body()
            return try (0..<iterations).map { _ in
                let t = now(); try body(); return now() - t
            }
        }
        var bytes = 0
        let plain = try times { bytes = try TWFile.open(path: path).store.count }
        let checked = try times { _ = try TWFile.open(path: path, verifyChecksums: true) }
        let model = try times { _ = try TWModel.open(path: path) }
        return OpenResult(
            path: path, bytes: bytes, iterations: iterations,
            validateMedianSeconds: median(plain), validateMinimumSeconds: plain.min() ?? 0,
            checksumMedianSeconds: median(checked), checksumMinimumSeconds: checked.min() ?? 0,
            modelMedianSeconds: median(model), modelMinimumSeconds: model.min() ?? 0)
    }

    /// A fixed pseudo-random NCHW batch in [-2, 2) (a normalised image's range), the same on every run.
    public static func deterministicInput(batch: Int, channels: Int, size: Int) -> Tensor {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let count = batch * channels * size * size
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values[i] = Float(state >> 40) / Float(1 << 24) * 4 - 2
        }
        return Tensor(shape: [batch, channels, size, size], floats: values)
    }

    /// The median of `values` (mean of the middle two for an even count); 0 when empty.
    public static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func now() -> Double { Double(monotonicNanoseconds()) * 1e-9 }
}
