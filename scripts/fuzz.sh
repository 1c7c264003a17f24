#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) for SECONDS each (default 600), one at a time and
# niced, and prints a table: target, seconds, executions, crashes. Needs a nightly toolchain and
# cargo-fuzz (`rustup toolchain install nightly --profile minimal`, `cargo install cargo-fuzz`); CI
# does not run this: `cargo test` replays the committed corpora instead (fuzz/README.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# libFuzzer runs in fork mode with crashes, OOMs and timeouts ignored, so one crash does not end a
# target's run: every crashing input lands in fuzz/artifacts/<target>/ and the run goes on. New
# coverage goes into fuzz/corpus/<target>/ (minimize it afterwards with `cargo +nightly fuzz cmin`).
# Logs: .run/fuzz/<target>.log.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT/fuzz"

seconds=${1:-600}
shift || true
if (($# > 0)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
LOGS="$ROOT/.run/fuzz"
# The zip target unpacks every input into a fresh temporary folder: keep that in memory.
if [[ -z "${TMPDIR:-}" && -w /dev/shm ]]; then
    export TMPDIR=/dev/shm
fi
mkdir -p "$LOGS"

say "building ${#targets[@]} fuzz targets"
nice -n 19 cargo +nightly fuzz build --debug-assertions >"$LOGS/build.log" 2>&1 ||
    die "the fuzz build failed: see $LOGS/build.log"

rows=()
for t in "${targets[@]}"; do
    say "fuzzing $t for ${seconds}s"
    mkdir -p "corpus/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    t0=$SECONDS
    rc=0
    nice -n 19 cargo +nightly fuzz run --debug-assertions "$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 \
        -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -print_final_stats=1 \
        >"$LOGS/$t.log" 2>&1 || rc=$?
    took=$((SECONDS - t0))
    # Executions: the final stat line when libFuzzer prints one, else its last `#N` status line.
    execs=$(awk '/stat::number_of_executed_units:/ {s += $2} END {print s + 0}' "$LOGS/$t.log")
    if ((execs == 0)); then
        execs=$(awk '/^#[0-9]+/ {n = substr($1, 2)} END {print n + 0}' "$LOGS/$t.log")
    fi
    # Crashes: the failing inputs written during this run (OOMs and timeouts included).
    crashes=$(($(find "artifacts/$t" -type f | wc -l) - before))
    rows+=("$(printf '%-20s %8d %14s %8d %5d' "$t" "$took" "${execs:-0}" "$crashes" "$rc")")
done

printf '\n%-20s %8s %14s %8s %5s\n' target seconds executions crashes exit
printf '%s\n' "${rows[@]}"
