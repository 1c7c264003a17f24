#!/usr/bin/env bash
# README command 1: a real two-site NVFlare POC, the relay, and the console at http://127.0.0.1:8080.
# Ctrl-C stops everything it started.
#
# Environment: FLARE_DEMO_POC_PORT (default 8002), FLARE_DEMO_PORT (console/relay, default 8080).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

POC_PORT="${FLARE_DEMO_POC_PORT:-8002}"
PORT="${FLARE_DEMO_PORT:-8080}"
RUN="$ROOT/.run"
POC_WS="$RUN/poc"
RELAY_BIN="$TARGET_DIR/release/flare-relay"

relay_pid=""
poc_started=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$relay_pid" ]]; then
        say "stopping the relay"
        kill "$relay_pid" 2>/dev/null || true
        wait "$relay_pid" 2>/dev/null || true
    fi
    if [[ -n "$poc_started" ]]; then
        say "stopping the NVFlare POC (takes a few seconds)"
        poc_stop "$POC_WS"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

./scripts/setup.sh
mkdir -p "$RUN"

# A POC left over from an earlier demo that was killed hard: stop it first.
if poc_running "$POC_WS"; then
    say "a POC from an earlier demo is still running in .run/poc; stopping it"
    poc_stop "$POC_WS"
fi
if port_in_use "$POC_PORT"; then
    die "port $POC_PORT (NVFlare POC server and admin port) is already in use, probably by another POC.
       Stop it, or run the demo's POC on another port: FLARE_DEMO_POC_PORT=8012 ./scripts/demo.sh"
fi
if port_in_use "$PORT"; then
    die "port $PORT (the console) is already in use. Free it, or choose another: FLARE_DEMO_PORT=8081 ./scripts/demo.sh"
fi

say "preparing a two-site NVFlare POC in .run/poc (port $POC_PORT)"
poc_prepare "$POC_WS" "$POC_PORT"
poc_started=1
poc_start "$POC_WS"

# The POC boots (about 25 s) while the console and relay build.
say "building the console (trunk --release) into dist/"
build_console
say "building the relay (cargo build --release -p flare-relay)"
cargo build --release --locked --offline -p flare-relay

say "waiting for site-1 and site-2 to connect"
poc_wait_sites "$POC_WS" 180 || die "the POC did not come up; see .run/poc/example_project/prod_00/*/log.txt"

KIT="$POC_WS/example_project/prod_00/admin@nvidia.com"
ORG_KIT="$POC_WS/example_project/prod_00/org-admin@nvidia.com"
OPERATOR_PW="$(random_password)"
VIEWER_PW="$(random_password)"
ORGADMIN_PW="$(random_password)"
OPERATOR_HASH="$(hash_password "$RELAY_BIN" "$OPERATOR_PW")"
VIEWER_HASH="$(hash_password "$RELAY_BIN" "$VIEWER_PW")"
ORGADMIN_HASH="$(hash_password "$RELAY_BIN" "$ORGADMIN_PW")"
mkdir -p "$RUN/relay-work"
umask 077
cat >"$RUN/relay.toml" <<TOML
# Written by scripts/demo.sh; regenerated (with new passwords) on every run.
listen = "127.0.0.1:$PORT"
console_dir = '$ROOT/dist'
allowed_origins = ["http://127.0.0.1:$PORT", "http://localhost:$PORT"]
audit_file = '$RUN/audit.jsonl'
job_library = '$ROOT/jobs'
work_dir = '$RUN/relay-work'
kiosk_tokens_file = '$RUN/kiosk-tokens.json'

[poll]
system_secs = 2.0
jobs_secs = 2.0
job_secs = 1.0

[[users]]
name = "operator"
password_hash = '$OPERATOR_HASH'
role = "operator"
kit = '$KIT'
study = "default"

[[users]]
name = "viewer"
password_hash = '$VIEWER_HASH'
role = "viewer"
kit = '$KIT'
study = "default"

[[users]]
name = "orgadmin"
password_hash = '$ORGADMIN_HASH'
role = "operator"
kit = '$ORG_KIT'
study = "default"
TOML
printf 'operator %s\nviewer %s\norgadmin %s\n' "$OPERATOR_PW" "$VIEWER_PW" "$ORGADMIN_PW" >"$RUN/logins.txt"
umask 022

say "starting the relay"
"$RELAY_BIN" --config "$RUN/relay.toml" >"$RUN/relay.log" 2>&1 &
relay_pid=$!
relay_ready() {
    kill -0 "$relay_pid" 2>/dev/null || die "the relay exited; see .run/relay.log:
$(tail -n 20 "$RUN/relay.log")"
    grep -q 'flare-relay listening on http://' "$RUN/relay.log"
}
wait_until 30 "the relay to listen" relay_ready || die "the relay did not start; see .run/relay.log"

cat <<MSG

  Flare Console is running:  http://127.0.0.1:$PORT

    operator login:  operator / $OPERATOR_PW   (NVFlare identity admin@nvidia.com)
    viewer login:    viewer   / $VIEWER_PW   (read-only, same identity)
    org admin login: orgadmin / $ORGADMIN_PW   (NVFlare identity org-admin@nvidia.com)

  NVFlare POC: server + site-1 + site-2, admin port $POC_PORT, workspace .run/poc
  Logs: .run/relay.log, .run/audit.jsonl, .run/poc/example_project/prod_00/<participant>/log.txt
  Logins are also in .run/logins.txt. Press Ctrl-C to stop everything.

MSG

wait "$relay_pid"
