#!/usr/bin/env bash
# Native Rust admin client vs nvflare's Python FLARE API against the same POC: login time and
# list_jobs round trip (median of N), and their ratio.
# Usage: scripts/bench-client.sh [admin-kit-dir] [iterations]
# Default kit: $FLARE_TEST_POC_DIR (or /tmp/poc-dev)/example_project/prod_00/admin@nvidia.com.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
poc="${FLARE_TEST_POC_DIR:-/tmp/poc-dev}"
kit="${1:-$poc/example_project/prod_00/admin@nvidia.com}"
n="${2:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cargo build --release -q -p flare-client --example compare --manifest-path "$root/Cargo.toml"
rust_json="$("$CARGO_TARGET_DIR/release/examples/compare" "$kit" "$n")"
py_json="$("$root/.tools/venv/bin/python" "$root/crates/flare-client/examples/compare.py" "$kit" "$n" | tail -n 1)"

echo "rust:   $rust_json"
echo "python: $py_json"
"$root/.tools/venv/bin/python" - "$rust_json" "$py_json" <<'PY'
import json, sys
r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'':10}{'rust':>10}{'python':>10}{'python/rust':>14}")
for key, label in (("login_median_ms", "login"), ("list_jobs_median_ms", "list_jobs")):
    print(f"{label:10}{r[key]:>8.2f}ms{p[key]:>8.2f}ms{p[key] / r[key]:>13.1f}x")
PY
