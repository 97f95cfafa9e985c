#!/usr/bin/env bash
# Runs each fuzz target in turn on one core (one libFuzzer process: no
# -jobs/-workers, which would only move the output to fuzz-N.log), from the seed corpus plus what
# earlier runs found (corpus-run/, not committed), and keeps a log per target.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default: 600, all targets
#
# Env: CARGO_TARGET_DIR (default /tmp/fuzz-target), PE_FUZZ_SKIP_KNOWN
# (default 1 here: forgive the known edit failures listed in
# fuzz_targets/edit.rs; set 0 to see them fail), KEEP_GOING=1 (libFuzzer's
# -fork=1 -ignore_crashes=1: still one process at a time, but a crash is
# saved to artifacts/ and the run goes on until the time is up).
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-600}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=(roundtrip edit resolve classifier)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/fuzz-target}
export PE_FUZZ_SKIP_KNOWN=${PE_FUZZ_SKIP_KNOWN:-1}
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none
mkdir -p logs
EXTRA=()
[[ ${KEEP_GOING:-0} == 1 ]] && EXTRA=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus-run/$t"
    echo "== $t for ${SECS}s (log: fuzz/logs/$t.log)"
    DICT=hocon.dict
    [[ $t == classifier ]] && DICT=classifier.dict
    cargo fuzz run --sanitizer none "$t" "corpus-run/$t" "corpus/$t" -- \
        -dict="$DICT" -max_total_time="$SECS" \
        -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 "${EXTRA[@]}" >"logs/$t.log" 2>&1 || echo "   $t FAILED (see the log)"
    grep -a -E "^#[0-9]+" "logs/$t.log" | grep -a -v -E "NEW|REDUCE" | tail -1
    ls "artifacts/$t" 2>/dev/null | sed 's/^/   artifact: /' || true
    grep -a -E "stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs" "logs/$t.log" || true
done
