#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the toolchain (idempotent),
# checks formatting and lints, runs the native suites (unit, golden,
# hostile-input, CLI end-to-end on ../shared/data), the wasm suite in
# Node.js and in headless Chromium, and the page's end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "set-up"
bash scripts/setup.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings

step "native tests (runtime, trainer, CLI, HTTP service)"
cargo test --workspace --release

if [ -x scripts/test-wasm.sh ] || [ -f scripts/test-wasm.sh ]; then
  step "wasm tests (Node.js and headless Chromium)"
  bash scripts/test-wasm.sh
fi

step "npm package (packed tarball in a bundled sample app, Chromium, Node, memory, tsc)"
# www/pkg was just built by test-wasm.sh's bundle step.
FERRISK_NPM_SKIP_BUILD=1 bash scripts/test-npm.sh

if [ -f scripts/test-e2e.sh ]; then
  step "page end-to-end tests (headless Chromium)"
  bash scripts/test-e2e.sh
fi
# --- supply chain (issue 15) ---
step "supply chain: cargo-deny licences/bans/sources (no advisories: database unreachable), npm licences"
bash scripts/supply-chain.sh

# --- Python wheel and PySpark (issue 15) ---
step "Python wheel (fresh venv, bit for bit against the CLI, SBOM) and PySpark local job (20,000 rows)"
bash scripts/test-python.sh

step "all tests passed"
