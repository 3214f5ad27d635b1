#!/usr/bin/env bash
# Regenerates only the golden files of the sequence kinds (issue 14):
# tests/golden/histories.csv (the frozen history generator, 400 customers,
# 6 months), gru.frk and tcn.frk (small networks trained on it with a
# --sequence history) and expected-gru.csv / expected-tcn.csv (their
# probabilities as the native CLI scores histories.csv). The golden suites
# score each golden file on the CSV its metadata names (data_name), so these
# two are checked on histories.csv, the others on synthetic.csv.
# scripts/gen-golden.sh is NOT run here (it would retrain every kind).
# Regenerate only on purpose, as for every golden file.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p ferrisk-cli
bin=${CARGO_TARGET_DIR:-target}/release/ferrisk
out=tests/golden
mkdir -p "$out"
months=6
"$bin" synth --histories "$months" --rows 400 --seed 11 --out "$out/histories.csv"
seq_flags=()
for channel in status balance paid; do
  cols=""
  for ((age = months; age >= 1; age--)); do cols+="${channel}_m${age},"; done
  seq_flags+=(--sequence "$channel=${cols%,}")
done
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} "$bin" train --data "$out/histories.csv" \
  --label default --positive yes --model gru,tcn --out "$out" --seed 5 "${seq_flags[@]}" \
  --gru-hidden 8 --gru-head 8 --gru-epochs 30 \
  --tcn-hidden 8 --tcn-head 8 --tcn-blocks 2 --tcn-epochs 30
for kind in gru tcn; do
  "$bin" predict --model "$out/$kind.frk" --data "$out/histories.csv" --out "$out/expected-$kind.csv"
done
echo "golden files of gru and tcn written to $out/"
