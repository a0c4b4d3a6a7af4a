#!/usr/bin/env bash
# Run one fuzz target the way FUZZING.md records it.
#
# Usage: fuzz/run.sh TARGET [SECONDS]        (default 900)
# Env:   FUZZ_TARGET_DIR  build folder (default ${CARGO_TARGET_DIR:-target}-fuzz)
#        FUZZ_TOOLCHAIN   +nightly (default) or empty with RUSTC_BOOTSTRAP=1 on stable
#
# The corpus grows in fuzz/corpus/TARGET (kept in the repository after
# `cargo fuzz cmin`); fuzz/seeds/TARGET, when present, seeds it read-only.
# Crashes, hangs and out-of-memory inputs land in fuzz/artifacts/TARGET;
# each one becomes a regression test (tests/fuzz_regressions.rs).
set -euo pipefail
T=${1:?target}
SECS=${2:-900}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TD=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}-fuzz}
TC=${FUZZ_TOOLCHAIN-+nightly}
mkdir -p "fuzz/corpus/$T"
SEEDS=()  # optional read-only seeds
[ -d "fuzz/seeds/$T" ] && SEEDS=("fuzz/seeds/$T")
exec nice -n 15 cargo $TC fuzz run -s none --target-dir "$TD" "$T" \
    "fuzz/corpus/$T" ${SEEDS[@]+"${SEEDS[@]}"} -- \
    -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
