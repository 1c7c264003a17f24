#!/usr/bin/env bash
# Job transfer throughput: native Rust admin client vs nvflare's Python FLARE API against the same
# POC, same run. A ~50 MB job (jobs/hello-numpy + app/custom/big.bin of random bytes) is generated
# in a temp dir; each client submits it (upload), aborts it, downloads its result (download) and
# deletes it. Prints MB/s (10^6 bytes) and the rust/python ratio.
# Usage: scripts/bench-transfer.sh [admin-kit-dir] [size-mb] [iterations]
# Default kit: $FLARE_TEST_POC_DIR (or /tmp/poc-dev)/example_project/prod_00/admin@nvidia.com.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
poc="${FLARE_TEST_POC_DIR:-/tmp/poc-dev}"
kit="${1:-$poc/example_project/prod_00/admin@nvidia.com}"
size_mb="${2:-50}"
n="${3:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
make_job() {
    mkdir -p "$1"
    cp -r "$root/jobs/hello-numpy/." "$1/"
    mkdir -p "$1/app/custom"
    head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$1/app/custom/big.bin"
}
# Separate copies: Python's submit_job signs the folder in place.
make_job "$work/rust/big-job"
make_job "$work/python/big-job"

cargo build --release -q -p flare-client --example transfer --manifest-path "$root/Cargo.toml"
rust_json="$("$CARGO_TARGET_DIR/release/examples/transfer" "$kit" "$work/rust/big-job" "$n")"
py_json="$("$root/.tools/venv/bin/python" "$root/crates/flare-client/examples/transfer.py" "$kit" "$work/python/big-job" "$n" | tail -n 1)"

echo "rust:   $rust_json"
echo "python: $py_json"
"$root/.tools/venv/bin/python" - "$rust_json" "$py_json" <<'PY'
import json, sys
r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def mbs(d, k):
    return d[f"{k}_bytes"] / 1e6 / d[f"{k}_s"]
print(f"{'':10}{'rust':>12}{'python':>12}{'rust/python':>13}")
for k in ("upload", "download"):
    rv, pv = mbs(r, k), mbs(p, k)
    print(f"{k:10}{rv:>7.1f} MB/s{pv:>7.1f} MB/s{rv / pv:>12.1f}x")
print(f"(best of the iterations; upload = job folder bytes / submit_job time incl. signing+zipping, "
      f"download = result folder bytes / download time incl. unzipping; "
      f"rust {r['download_bytes'] / 1e6:.1f} MB, python {p['download_bytes'] / 1e6:.1f} MB downloaded)")
PY
