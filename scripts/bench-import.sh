#!/usr/bin/env bash
# Browser benchmark of an imported model: a 500-tree LightGBM model of Bank
# Marketing (31 leaves per tree, trained by tests/import/gen.py --big with the
# pinned lightgbm in a virtual environment of its own) imported with
# `ferrisk import`, against a ferrisk GBM of the same size (500 trees of depth
# 5, i.e. at most 32 leaves) trained on the same columns. Both score 100,000
# rows with predictBatch in headless Chromium (scripts/bench-browser.mjs with
# FERRISK_BENCH_FIXTURES); the script prints rows/s and the ratio (target:
# the import at >= 0.8x the GBM's speed). Figures only; needs
# ../shared/data, PyPI for the venv, and a built bundle (scripts/build-wasm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${CARGO_TARGET_DIR:-target}
dir=$T/import-bench
mkdir -p "$dir"
venv=$T/import-venv
if [ ! -f "$dir/lgb-bank-500.txt" ]; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r tests/import/requirements.txt
  "$venv/bin/python" tests/import/gen.py ../shared/data "$dir" --big
fi
cargo build --release -q -p ferrisk-cli
bin=$T/release/ferrisk
[ -f www/pkg/ferrisk_wasm_bg.wasm ] || bash scripts/build-wasm.sh
cp "$dir/bank-full.csv" "$dir/data.csv"
"$bin" import --model "$dir/lgb-bank-500.txt" --data "$dir/data.csv" --label y --positive yes \
  --out "$dir/lightgbm-500.frk"
# The GBM: same rows and columns, 500 trees of depth <= 5 grown nearly full
# (~28 leaves a tree against LightGBM's 31).
"$bin" train --data "$dir/data.csv" --label y --positive yes --model gbm --gbm-trees 500 \
  --gbm-max-depth 5 --gbm-early-stopping 0 --gbm-min-child-weight 0.01 --cv 2 \
  --out "$dir/gbm-500.frk" >/dev/null
"$bin" inspect "$dir/lightgbm-500.frk" | grep "model:" || true
"$bin" inspect "$dir/gbm-500.frk" | grep "model:" || true
FERRISK_BENCH_FIXTURES=$dir node scripts/bench-browser.mjs
