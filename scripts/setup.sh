#!/usr/bin/env bash
# Installs what building the console and running the tests need. Idempotent: a fast no-op when
# everything is already there. Safe to run from several scripts at once (one runs, the others wait).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
NVFLARE_VERSION=2.9.0

mkdir -p "$TOOLS"
exec 9>"$TOOLS/setup.lock"
flock 9

# Rust target (the toolchain itself is pinned by rust-toolchain.toml; rustup installs it on first use).
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

# trunk, exact version (0.22 needs a newer rustc).
if [[ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]]; then
    say "installing trunk $TRUNK_VERSION (about 13 minutes on 2 cores, once per machine)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-bindgen-cli, exactly the wasm-bindgen crate version in Cargo.lock. No --locked: its lockfile
# wants a webpki-roots release the registry here does not serve.
WB_VERSION="$(wasm_bindgen_version)"
if [[ -z "$WB_VERSION" ]]; then
    warn "no wasm-bindgen version in Cargo.lock or Trunk.toml; skipping wasm-bindgen-cli"
elif [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WB_VERSION" ||
    "$(wasm-bindgen-test-runner --version 2>/dev/null)" != "wasm-bindgen-test-runner $WB_VERSION" ]]; then
    say "installing wasm-bindgen-cli $WB_VERSION (about 4 minutes)"
    cargo install wasm-bindgen-cli --version "=$WB_VERSION" --force
fi

# Debian packages: the headless browser and its driver for the browser tests, brotli for size
# checks, and npm / python3-venv for the project-local tools below.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v brotli >/dev/null || missing+=(brotli)
command -v npm >/dev/null || missing+=(npm)
[[ -x "$VENV/bin/python" ]] || python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
    say "installing ${missing[*]} (apt)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# wasm-opt from npm's binaryen, project-local (Debian's binaryen is too old).
if [[ "$("$TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null)" != *"version ${BINARYEN_VERSION%%.*}"* ]]; then
    say "installing binaryen $BINARYEN_VERSION into .tools"
    npm install --prefix "$TOOLS" --no-audit --no-fund "binaryen@$BINARYEN_VERSION"
fi
if [[ "$(command -v wasm-opt)" != "$TOOLS/node_modules/.bin/wasm-opt" ]]; then
    die "wasm-opt on PATH is $(command -v wasm-opt), not the project's .tools/node_modules/.bin/wasm-opt"
fi

# NVFlare in a project-local venv: the real server and sites for the demo and the tests.
if ! compgen -G "$VENV/lib/python3*/site-packages/nvflare-$NVFLARE_VERSION.dist-info" >/dev/null ||
    [[ ! -x "$NVFLARE" ]]; then
    say "installing nvflare $NVFLARE_VERSION into .tools/venv"
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --disable-pip-version-check "nvflare==$NVFLARE_VERSION"
fi
