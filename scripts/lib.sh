# shellcheck shell=bash
# Shared helpers for scripts/*.sh: sourced, never run. Sets ROOT, PATH and the tool locations.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
NVFLARE="$VENV/bin/nvflare"
PYTHON="$VENV/bin/python"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
# The project's wasm-opt (binaryen 132) and the cargo-installed trunk/wasm-bindgen come first:
# Debian's older wasm-opt builds a console that breaks at run time.
export PATH="$TOOLS/node_modules/.bin:$CARGO_BIN:$PATH"
# Scripts build into ./target unless the caller chose another target dir.
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33mwarning: %s\033[0m\n' "$*" >&2; }
die() {
    printf '\033[31merror: %s\033[0m\n' "$*" >&2
    exit 1
}

# port_in_use PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_until DEADLINE_SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds or time runs out.
wait_until() {
    local limit=$1 what=$2
    shift 2
    local end=$((SECONDS + limit))
    until "$@"; do
        if ((SECONDS >= end)); then
            warn "timed out after ${limit}s waiting for $what"
            return 1
        fi
        sleep 0.5
    done
}

# wasm_bindgen_version: the exact wasm-bindgen crate version the console locks (Cargo.lock), else the
# version Trunk.toml pins, else nothing.
wasm_bindgen_version() {
    local v=""
    if [[ -f "$ROOT/Cargo.lock" ]]; then
        v="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
    fi
    if [[ -z "$v" && -f "$ROOT/Trunk.toml" ]]; then
        v="$(sed -n 's/^[[:space:]]*wasm_bindgen[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$ROOT/Trunk.toml" | head -n1)"
    fi
    printf '%s' "$v"
}

# --- NVFlare POC (used by demo.sh and test.sh) ---------------------------------------------------

# poc_prepare WORKSPACE PORT: provisions a two-site POC whose server and admin port is PORT.
poc_prepare() {
    local ws=$1 port=$2 yml
    mkdir -p "$(dirname "$ws")"
    NVFLARE_POC_WORKSPACE="$ws" "$NVFLARE" poc prepare -n 2 --force >"$ws.prepare.log" 2>&1 ||
        die "nvflare poc prepare failed; see $ws.prepare.log"
    if ! grep -q "fed_learn_port: $port\$" "$ws/project.yml"; then
        # The project file must live outside the workspace that prepare wipes.
        yml="$ws.project.yml"
        sed "s/fed_learn_port: [0-9]*/fed_learn_port: $port/" "$ws/project.yml" >"$yml"
        NVFLARE_POC_WORKSPACE="$ws" "$NVFLARE" poc prepare -i "$yml" --force >>"$ws.prepare.log" 2>&1 ||
            die "nvflare poc prepare -i $yml failed; see $ws.prepare.log"
    fi
    grep -q "\"port\": $port," "$ws/example_project/prod_00/admin@nvidia.com/startup/fed_admin.json" ||
        die "the POC admin kit in $ws does not point at port $port"
}

# poc_start WORKSPACE: starts server + sites in the background (returns at once).
# Its own session (setsid): a Ctrl-C in the terminal reaches the script, whose trap stops the POC
# cleanly, instead of killing the server and sites mid-way.
poc_start() {
    NVFLARE_POC_WORKSPACE="$1" setsid "$NVFLARE" poc start --no-wait </dev/null >"$1.start.log" 2>&1 ||
        die "nvflare poc start failed; see $1.start.log"
}

# poc_wait_sites WORKSPACE DEADLINE_SECONDS: waits until site-1 and site-2 are connected.
poc_wait_sites() {
    "$PYTHON" "$ROOT/scripts/poc_wait_sites.py" "$1/example_project/prod_00/admin@nvidia.com" "$2" site-1 site-2
}

# poc_running WORKSPACE: true while any process started from that POC runs. Their command lines
# name the workspace: the daemons and server/site processes, and also a job's runner and worker
# processes, which are in no pid file.
poc_running() { pgrep -f -- "$1/example_project/" >/dev/null; }

poc_gone() { ! poc_running "$1"; }

# poc_stop WORKSPACE: stops the POC and waits until every process started from it is gone.
# `poc stop` refuses while a job runs; what is left then is ended by its command line.
poc_stop() {
    local ws=$1
    [[ -d "$ws/example_project" ]] || return 0
    NVFLARE_POC_WORKSPACE="$ws" "$NVFLARE" poc stop </dev/null >"$ws.stop.log" 2>&1 ||
        warn "nvflare poc stop failed; see $ws.stop.log"
    wait_until 60 "the POC in $ws to stop" poc_gone "$ws" && return 0
    warn "ending what is left of the POC in $ws"
    pkill -f -- "$ws/example_project/" 2>/dev/null || true
    wait_until 30 "the rest of the POC in $ws to end" poc_gone "$ws" ||
        pkill -KILL -f -- "$ws/example_project/" 2>/dev/null || true
}

# --- builds ---------------------------------------------------------------------------------------

# build_console: the release console into ./dist (trunk, offline, after fetching the locked crates).
build_console() {
    local args=(build --release --offline)
    if ! grep -q '^[[:space:]]*cargo_profile' "$ROOT/Trunk.toml" 2>/dev/null; then
        args+=(--cargo-profile wasm-release)
    fi
    cargo fetch --locked
    trunk "${args[@]}"
    [[ -f "$ROOT/dist/index.html" ]] || die "trunk build left no dist/index.html"
}

# random_password: 20 URL-safe characters from the kernel's CSPRNG.
random_password() {
    head -c 15 /dev/urandom | base64 | tr '+/' '-_'
}

# hash_password RELAY_BIN PASSWORD: the argon2 PHC string the relay config wants.
hash_password() {
    printf '%s' "$2" | "$1" hash-password
}
