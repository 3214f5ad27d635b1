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
# The GBM: same columns, 500 trees of depth 5, on the first 10,000 rows (the
# row count changes the fit time, not the model's size).
head -n 10001 "$dir/data.csv" >"$dir/train.csv"
"$bin" train --data "$dir/train.csv" --label y --positive yes --model gbm --gbm-trees 500 \
  --gbm-max-depth 5 --gbm-early-stopping 0 --cv 2 --out "$dir/gbm-500.frk" >/dev/null
rm -f "$dir/train.csv"
"$bin" inspect "$dir/lightgbm-500.frk" | grep -iE "trees|nodes" | head -3 || true
"$bin" inspect "$dir/gbm-500.frk" | grep -iE "trees|nodes" | head -3 || true
FERRISK_BENCH_FIXTURES=$dir node scripts/bench-browser.mjs
