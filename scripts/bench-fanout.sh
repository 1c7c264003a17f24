#!/usr/bin/env bash
# The relay's live-monitoring fan-out against a real NVFlare POC: upstream commands/s, relay RSS
# per idle viewer, relay and server CPU and status delivery delays for N = 1, 100, 1000 viewer
# sockets, compared with N Python sessions polling every 2 s (N = 1, 10, 50). Prints a table.
# Usage: scripts/bench-fanout.sh
# Environment: FLARE_TEST_POC_DIR=<workspace> attaches to a running POC (e.g. /tmp/poc-dev; its
# other users then count too if they share the measured identities); otherwise a fresh POC starts
# on FLARE_TEST_POC_PORT (default here 18092, not the tests' 18002) and stops when the benchmark
# exits. FLARE_BENCH_WINDOW_SECS (30), FLARE_BENCH_VIEWERS ("1,100,1000"),
# FLARE_BENCH_PY_SESSIONS ("1,10,50"), FLARE_BENCH_LOGINS (8) and the identities
# FLARE_BENCH_RELAY_USER / FLARE_BENCH_PY_USER / FLARE_BENCH_SUBMIT_USER are passed through
# (see crates/flare-bench/benches/fanout/main.rs). Bounded: the run is killed after
# FLARE_BENCH_TIMEOUT_SECS (1800), and everything it started goes with it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export FLARE_TEST_POC_PORT="${FLARE_TEST_POC_PORT:-18092}"
export FLARE_RELAY_BIN="$CARGO_TARGET_DIR/release/flare-relay"

# 1000 sockets are 1000 descriptors in the benchmark and 1000 in the relay.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  echo "bench-fanout: the open-file limit is $(ulimit -n); 1000 viewers need at least 4096" >&2
  exit 1
fi

cargo build --release -q -p flare-relay --manifest-path "$root/Cargo.toml"
cargo bench -q -p flare-bench --bench fanout --no-run --manifest-path "$root/Cargo.toml"

# The benchmark runs in its own process group so that a timeout or Ctrl-C ends it together with
# the relay and Python pollers it started (the POC's watchdog then stops a POC it started).
setsid cargo bench -q -p flare-bench --bench fanout --manifest-path "$root/Cargo.toml" &
pid=$!
cleanup() { kill -TERM -- "-$pid" "-${timer:-$pid}" 2>/dev/null || true; }
trap cleanup INT TERM
setsid bash -c "sleep ${FLARE_BENCH_TIMEOUT_SECS:-1800}; echo 'bench-fanout: timed out' >&2; kill -TERM -- -$pid" &
timer=$!
status=0
wait "$pid" || status=$?
kill -TERM -- "-$timer" 2>/dev/null || true
exit "$status"
