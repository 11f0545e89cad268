"""Reads the JSON our tools print (docs/JSON.md: snake_case keys, units in the key, times in ms) into the
seconds-based records the benchmark scripts compute with. One place, so a key rename breaks loudly here."""

MS = 1e-3


def bench_result(d):
    """`tresnet-bench --json` (or `scripts/bench.py --peer`) → a record with seconds: latencies, median, min,
    load, compile, peak RSS, GFLOP figures and the profile."""
    r = dict(d)
    r["latencies"] = [x * MS for x in d["latencies_ms"]]
    r["peak_rss_bytes"] = d["peak_rss_bytes"]
    for ms, s in (("load_ms", "load_s"), ("compile_ms", "compile_s"), ("median_ms", "median_s"),
                  ("min_ms", "min_s"), ("semantic_median_ms", "semantic_median_s"),
                  ("semantic_labels_median_ms", "semantic_labels_median_s"),
                  ("semantic_tree_read_ms", "semantic_tree_read_s")):
        if d.get(ms) is not None:
            r[s] = d[ms] * MS
    if d.get("profile"):
        p = dict(d["profile"])
        p["profiled_s"] = p["profiled_ms"] * MS
        p["kinds"] = [dict(k, seconds=k["ms"] * MS) for k in p["kinds"]]
        p["gemms"] = [dict(g, seconds=g["ms"] * MS) for g in p["gemms"]]
        r["profile"] = p
    return r


def open_result(d):
    """`tresnet-bench --open-only --json` → seconds."""
    r = dict(d)
    for k in ("validate_median", "validate_min", "checksum_median", "checksum_min", "model_median", "model_min"):
        r[k + "_s"] = d[k + "_ms"] * MS
    return r
