/// The JSON of `tresnet-bench --json` (docs/JSON.md): snake_case keys with the unit in the key, times in
/// milliseconds (`median_ms`), rates per second (`images_per_s`, `achieved_gflop_per_s`), memory in bytes.
extension Benchmark.Result {
    enum Keys: String, CodingKey {
        case weights, configuration, warmup, iterations, threads, backend, isa, precision, height, width, profile
        case batchSize = "batch_size", loadMs = "load_ms", compileMs = "compile_ms", latenciesMs = "latencies_ms"
        case medianMs = "median_ms", minMs = "min_ms", imagesPerS = "images_per_s"
        case gflopPerImage = "gflop_per_image", achievedGflopPerS = "achieved_gflop_per_s"
        case peakRssBytes = "peak_rss_bytes", semanticTreeReadMs = "semantic_tree_read_ms"
        case semanticMedianMs = "semantic_median_ms", semanticLabelsMedianMs = "semantic_labels_median_ms"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(weights, forKey: .weights)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(batch, forKey: .batchSize)
        try c.encode(height, forKey: .height)
        try c.encode(width, forKey: .width)
        try c.encode(warmup, forKey: .warmup)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(threads, forKey: .threads)
        try c.encode(backend, forKey: .backend)
        try c.encode(isa, forKey: .isa)
        try c.encode(precision, forKey: .precision)
        try c.encode(loadSeconds * 1000, forKey: .loadMs)
        try c.encode(compileSeconds * 1000, forKey: .compileMs)
        try c.encode(latencies.map { $0 * 1000 }, forKey: .latenciesMs)
        try c.encode(medianSeconds * 1000, forKey: .medianMs)
        try c.encode(minimumSeconds * 1000, forKey: .minMs)
        try c.encode(imagesPerSecond, forKey: .imagesPerS)
        try c.encode(gflopPerImage, forKey: .gflopPerImage)
        try c.encode(achievedGFLOPS, forKey: .achievedGflopPerS)
        try c.encode(peakRSSBytes, forKey: .peakRssBytes)
        try c.encodeIfPresent(profile, forKey: .profile)
        try c.encodeIfPresent(semanticTreeReadSeconds.map { $0 * 1000 }, forKey: .semanticTreeReadMs)
        try c.encodeIfPresent(semanticMedianSeconds.map { $0 * 1000 }, forKey: .semanticMedianMs)
        try c.encodeIfPresent(semanticLabelsMedianSeconds.map { $0 * 1000 }, forKey: .semanticLabelsMedianMs)
    }
}

extension Benchmark.Profile {
    enum Keys: String, CodingKey {
        case forwards, kinds, gemms
        case profiledMs = "profiled_ms"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(forwards, forKey: .forwards)
        try c.encode(profiledSeconds * 1000, forKey: .profiledMs)
        try c.encode(kinds, forKey: .kinds)
        try c.encode(gemms, forKey: .gemms)
    }
}

extension Benchmark.Profile.Kind {
    enum Keys: String, CodingKey { case kind, calls, ms }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(calls, forKey: .calls)
        try c.encode(seconds * 1000, forKey: .ms)
    }
}

extension Benchmark.Profile.GEMM {
    enum Keys: String, CodingKey {
        case m, n, k, calls, ms
        case gflopPerS = "gflop_per_s", standaloneGflopPerS = "standalone_gflop_per_s"
        case standaloneBestGflopPerS = "standalone_best_gflop_per_s"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(m, forKey: .m)
        try c.encode(n, forKey: .n)
        try c.encode(k, forKey: .k)
        try c.encode(calls, forKey: .calls)
        try c.encode(seconds * 1000, forKey: .ms)
        try c.encode(gflops, forKey: .gflopPerS)
        try c.encodeIfPresent(standaloneGFLOPS, forKey: .standaloneGflopPerS)
        try c.encodeIfPresent(standaloneBestGFLOPS, forKey: .standaloneBestGflopPerS)
    }
}

extension Benchmark.OpenResult {
    enum Keys: String, CodingKey {
        case path, bytes, iterations
        case validateMedianMs = "validate_median_ms", validateMinMs = "validate_min_ms"
        case checksumMedianMs = "checksum_median_ms", checksumMinMs = "checksum_min_ms"
        case modelMedianMs = "model_median_ms", modelMinMs = "model_min_ms"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(path, forKey: .path)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(validateMedianSeconds * 1000, forKey: .validateMedianMs)
        try c.encode(validateMinimumSeconds * 1000, forKey: .validateMinMs)
        try c.encode(checksumMedianSeconds * 1000, forKey: .checksumMedianMs)
        try c.encode(checksumMinimumSeconds * 1000, forKey: .checksumMinMs)
        try c.encode(modelMedianSeconds * 1000, forKey: .modelMedianMs)
        try c.encode(modelMinimumSeconds * 1000, forKey: .modelMinMs)
    }
}
