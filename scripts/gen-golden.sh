#!/usr/bin/env bash
# Regenerates the golden model files in tests/golden/ (the current format
# version) from data the project generates itself (never from ../shared).
# The files are committed; the runtime's golden test (tests/golden.rs)
# checks that every future build still loads them and reproduces the
# probabilities recorded here by the trainer at generation time.
# Regenerate only on purpose: old files must keep loading, so before a
# format change the current files are frozen into tests/golden/v<N>/ (as
# v1/ and v2/ are) and never touched again. Every kind of the trainer's
# registry (`ferrisk kinds`) gets a golden file (gru and tcn by
# scripts/gen-golden-seq.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p ferrisk-cli
bin=${CARGO_TARGET_DIR:-target}/release/ferrisk
out=tests/golden
mkdir -p "$out"
"$bin" synth --rows 600 --seed 11 --out "$out/synthetic.csv"
"$bin" train --data "$out/synthetic.csv" --label default --positive yes \
  --model all --out "$out" --seed 5 --rf-trees 20 --gbm-trees 60 --svm-max-rows 600 \
  --attn-epochs 40 --attn-d-model 16 --attn-heads 2 --attn-blocks 1
# The kinds that need a history (third field `history` of `ferrisk kinds`:
# gru, tcn) are skipped by --model all here; scripts/gen-golden-seq.sh writes
# theirs on tests/golden/histories.csv.
for kind in $("$bin" kinds | awk -F'\t' '$3 != "history" {print $1}'); do
  "$bin" predict --model "$out/$kind.frk" --data "$out/synthetic.csv" --out "$out/expected-$kind.csv"
done
echo "golden files written to $out/"
