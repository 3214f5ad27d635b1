#!/usr/bin/env bash
# Regenerates the golden model files in tests/golden/ from data the project
# generates itself (never from ../shared). The files are committed; the
# runtime's golden test (tests/golden.rs) checks that every future build
# still loads them and reproduces the probabilities recorded here by the
# trainer at generation time. Regenerate only on purpose: old files must
# keep loading, so a format change adds new golden files, it does not
# replace these.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p ferrisk-train
bin=target/release/ferrisk
out=tests/golden
mkdir -p "$out"
"$bin" synth --rows 600 --seed 11 --out "$out/synthetic.csv"
"$bin" train --data "$out/synthetic.csv" --label default --positive yes \
  --model all --out "$out" --seed 5 --rf-trees 20 --gbm-trees 60 --svm-max-rows 600 \
  --attn-epochs 40 --attn-d-model 16 --attn-heads 2 --attn-blocks 1
for kind in lr svm-linear svm-rbf rf gbm attention; do
  "$bin" predict --model "$out/$kind.frk" --data "$out/synthetic.csv" --out "$out/expected-$kind.csv"
done
echo "golden files written to $out/"
