#!/bin/sh
# Runs every fuzz target for SECONDS each, JOBS at a time, and prints executions, coverage and findings.
# Usage: Fuzz/run.sh BIN_DIR SECONDS JOBS [TARGET...]
set -u
BIN=$1; SECONDS_EACH=$2; JOBS=$3; shift 3
TARGETS=${*:-"FuzzPickle FuzzZip FuzzTorchZip FuzzLegacy FuzzSafetensors FuzzNpy FuzzNpz FuzzONNX FuzzTW FuzzJSON FuzzImage"}
OUT=.fuzz
mkdir -p "$OUT/logs" "$OUT/artifacts"
run_one() {
    t=$1
    mkdir -p "$OUT/artifacts/$t" "$OUT/work/$t"
    # The work corpus grows; the seed corpus is read only.
    # A smaller ASan quarantine (default 256 MB) keeps RSS honest under -rss_limit_mb.
    ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64} "$BIN/$t" "$OUT/work/$t" "$OUT/corpus/$t" -max_total_time="$SECONDS_EACH" -rss_limit_mb=1024 -malloc_limit_mb=256 \
        -timeout=10 -max_len=262144 -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t/" \
        > "$OUT/logs/$t.log" 2>&1
    echo "$t exit $?" >> "$OUT/logs/$t.log"
}
running=0
for t in $TARGETS; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait; running=0; fi
done
wait
printf '%-16s %12s %8s %8s %8s %s\n' target executions cov ft seconds findings
for t in $TARGETS; do
    log="$OUT/logs/$t.log"
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    secs=$(grep -o 'stat::number_of_executed_units\|Done [0-9]* runs in [0-9]* second' "$log" | grep -o '[0-9]* second' | tail -1 | awk '{print $1}')
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
    ft=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
    crashes=$(ls "$OUT/artifacts/$t" 2>/dev/null | wc -l)
    printf '%-16s %12s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${secs:-?}" "$crashes artifact(s)"
done
