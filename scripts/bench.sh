#!/usr/bin/env bash
# Builds the bundle (size check), runs the native and the browser benchmarks.
#
#   scripts/bench.sh
#
# 1. scripts/build-wasm.sh: raw and gzip sizes; fails over the 150 KB budget.
# 2. Fixtures: German-credit models (incl. the 100-tree forest) trained by the
#    native CLI into target/wasm-fixtures/, made by `scripts/test-wasm.sh
#    fixtures` when absent (FERRISK_BENCH_REFRESH=1 to remake them).
# 3. cargo bench --bench score: native figures -> target/bench-native.json.
# 4. node scripts/bench-browser.mjs: headless Chromium figures and the
#    wasm/native ratios -> target/bench-browser.json.
# Figures are printed, never asserted: the machine has 2 shared cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '\033[1m[bench]\033[0m %s\n' "$*"; }

log "bundle size"
bash scripts/build-wasm.sh 2>&1 | tail -5

if [ ! -f target/wasm-fixtures/data.csv ] || [ -n "${FERRISK_BENCH_REFRESH:-}" ]; then
  log "making the German-credit fixtures"
  bash scripts/test-wasm.sh fixtures
fi

log "native: cargo bench --bench score"
cargo bench -q --bench score

log "browser: node scripts/bench-browser.mjs"
node scripts/bench-browser.mjs
