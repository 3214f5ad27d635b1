#!/usr/bin/env bash
# Golden fixtures of `ferrisk import` (tests/import/).
#
#   scripts/gen-import-fixtures.sh           re-import the committed library models
#   scripts/gen-import-fixtures.sh python    first retrain them: a virtual environment
#                                            of its own (target/import-venv) with the
#                                            pinned xgboost and lightgbm of
#                                            tests/import/requirements.txt runs
#                                            tests/import/gen.py on ../shared/data
#
# gen.py writes the library models (*.json XGBoost, *.txt LightGBM), the fixture
# rows (german.csv, bank.csv: 400 rows each, float32 values, ~6 % of numeric
# cells missing), and per model the library's own probability, raw margin and
# TreeSHAP contributions of every row (*.oracle.csv); refused/ holds the
# variants the import must refuse. This script then imports every model with
# the CLI (calibration: the library's own, so the file's probability is the
# library's) into <model>.frk and records the native probabilities
# (expected-<model>.csv). The Rust tests (train/tests/import.rs) and the wasm
# suite (wasm/tests/suite/import.rs) compare against these committed files and
# need no Python. It also writes tests/golden/xgboost.frk, the golden file
# of the `trees-cat` kind (native categorical splits). (`gen.py DATA DIR --big` writes the 500-tree LightGBM
# benchmark model instead: scripts/bench-import.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/import
if [ "${1:-}" = python ]; then
  venv=${CARGO_TARGET_DIR:-target}/import-venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$out/requirements.txt"
  "$venv/bin/python" "$out/gen.py" ../shared/data "$out"
fi
cargo build --release -q -p ferrisk-cli
bin=${CARGO_TARGET_DIR:-target}/release/ferrisk
export SOURCE_DATE_EPOCH=1700000000
# model  data  label  positive  one-hot columns
while read -r model data label positive onehot; do
  src=$out/$model.json
  [ -f "$src" ] || src=$out/$model.txt
  args=()
  [ "$onehot" = - ] || args=(--one-hot "$onehot")
  "$bin" import --model "$src" --data "$out/$data" --label "$label" --positive "$positive" \
    "${args[@]}" --calibration own --out "$out/$model.frk" 2>/dev/null
  "$bin" predict --model "$out/$model.frk" --data "$out/$data" --out "$out/expected-$model.csv" 2>/dev/null
done <<'LIST'
xgb-german-numeric german.csv creditability bad -
xgb-german-onehot german.csv creditability bad purpose
xgb-bank-numeric bank.csv y yes -
lgb-bank-numeric bank.csv y yes -
lgb-german-numeric german.csv creditability bad -
lgb-bank-rf-onehot bank.csv y yes job
xgb-german-categorical german.csv creditability bad -
lgb-bank-categorical bank.csv y yes -
LIST
# The golden file of the trees-cat kind (native categorical splits): an
# XGBoost model of tests/golden/synthetic.csv, scored like the other golden
# files (tests/golden.rs, the wasm golden suite).
"$bin" import --model "$out/xgb-synthetic-categorical.json" --data tests/golden/synthetic.csv \
  --label default --positive yes --calibration own --out tests/golden/xgboost.frk 2>/dev/null
"$bin" predict --model tests/golden/xgboost.frk --data tests/golden/synthetic.csv \
  --out tests/golden/expected-xgboost.csv 2>/dev/null
echo "import fixtures written to $out/"
