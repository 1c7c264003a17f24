#!/usr/bin/env bash
# README command 2 (and CI): formatting, clippy (native and wasm32), every workspace test including
# the end-to-end tests against a real NVFlare POC, the relay and headless Chromium, and the console's
# in-browser tests. Keeps going after a failed step, prints a summary, exits non-zero on any failure.
#
# The tests share one POC, started here on port FLARE_TEST_POC_PORT (default 18002, so a running demo
# on 8002 is not disturbed) and stopped at the end.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

export FLARE_TEST_POC_PORT="${FLARE_TEST_POC_PORT:-18002}"
RUN="$ROOT/.run"
TEST_POC="$RUN/test-poc"
LOGS="$RUN/test-logs"

results=()
failed=0
started=$SECONDS
poc_started=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$poc_started" ]]; then
        say "stopping the test POC"
        poc_stop "$TEST_POC"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME COMMAND...: runs one step, records its result and time, keeps going on failure.
step() {
    local name=$1 t0=$SECONDS rc=0
    shift
    say "$name"
    "$@" || rc=$?
    local dt=$((SECONDS - t0))
    if ((rc == 0)); then
        results+=("$(printf 'ok     %4ds  %s' "$dt" "$name")")
    else
        results+=("$(printf 'FAILED %4ds  %s (exit %d)' "$dt" "$name" "$rc")")
        failed=1
    fi
    return 0
}

summary() {
    printf '\n\033[1mscripts/test.sh summary\033[0m (%ds in all)\n' "$((SECONDS - started))"
    printf '  %s\n' "${results[@]}"
    if ((failed)); then
        printf '\033[31mFAILED\033[0m (logs: .run/test-logs/, screenshots: %s/e2e-screenshots/)\n' "${TARGET_DIR#"$ROOT/"}"
    else
        printf '\033[32mall passed\033[0m\n'
    fi
}

start_test_poc() {
    if poc_running "$TEST_POC"; then
        say "a test POC from an earlier run is still running; stopping it"
        poc_stop "$TEST_POC"
    fi
    if port_in_use "$FLARE_TEST_POC_PORT"; then
        warn "port $FLARE_TEST_POC_PORT (test POC) is already in use; free it or set FLARE_TEST_POC_PORT"
        return 1
    fi
    poc_prepare "$TEST_POC" "$FLARE_TEST_POC_PORT"
    poc_started=1
    poc_start "$TEST_POC"
}

poc_ready=""
wait_test_poc() {
    [[ -n "$poc_started" ]] || return 1
    poc_wait_sites "$TEST_POC" 180 && poc_ready=1
}

build_relay() {
    cargo build --locked --offline -p flare-relay
}

wasm_browser_tests() {
    local build=(cargo test --locked --offline --target wasm32-unknown-unknown -p flare-console)
    # rust-lld has been seen to crash now and then linking this test binary (a toolchain fault,
    # not ours): the build alone is tried a second time, the tests themselves run once.
    "${build[@]}" --no-run || {
        echo "building the wasm test binary failed; trying the build once more" >&2
        "${build[@]}" --no-run
    } || return
    # Chromium keeps ~100 MB of scoped_dir folders in TMPDIR per run: a fresh one here, removed after.
    local tmp status=0
    tmp="$(mktemp -d "$RUN/wasm-test-tmp.XXXXXX")" || return
    TMPDIR="$tmp" CHROMEDRIVER=/usr/bin/chromedriver \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
        "${build[@]}" || status=$?
    rm -rf "$tmp"
    return "$status"
}

step "setup (scripts/setup.sh)" ./scripts/setup.sh
if ((failed)); then
    summary
    exit 1
fi
mkdir -p "$LOGS"

step "start the test NVFlare POC (port $FLARE_TEST_POC_PORT)" start_test_poc
step "cargo fmt --all --check" cargo fmt --all --check
step "cargo fetch --locked" cargo fetch --locked
step "cargo clippy --workspace --all-targets (native)" \
    cargo clippy --locked --offline --workspace --all-targets -- -D warnings
step "cargo clippy -p flare-console -p flare-model (wasm32)" \
    cargo clippy --locked --offline -p flare-console -p flare-model --target wasm32-unknown-unknown \
    --all-targets -- -D warnings
step "cargo clippy -p flare-job --lib (wasm32)" \
    cargo clippy --locked --offline -p flare-job --target wasm32-unknown-unknown --lib --features zip -- -D warnings
step "build the console (trunk build --release)" build_console
step "build the relay (cargo build -p flare-relay)" build_relay
step "wait for the test POC's sites" wait_test_poc

# Every test binary shares this POC (if it came up; flare-poc otherwise starts its own per test
# process), this relay binary and this console build.
if [[ -n "$poc_ready" ]]; then
    export FLARE_TEST_POC_DIR="$TEST_POC"
fi
export FLARE_RELAY_BIN="$TARGET_DIR/debug/flare-relay"
export FLARE_CONSOLE_DIST="$ROOT/dist"
export FLARE_E2E_LOG_DIR="$LOGS"
step "cargo test --workspace (unit, integration, end-to-end)" \
    cargo test --locked --offline --workspace --no-fail-fast
step "in-browser console tests (wasm-bindgen-test, headless Chromium)" wasm_browser_tests

summary
exit "$failed"
