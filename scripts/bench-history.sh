#!/usr/bin/env bash
# History models end to end at the size issue 14 names: 30,000 synthetic
# customers (frozen generator `ferrisk synth --histories 12 --extra-static 14`:
# a 12-month history of 3 channels and 20 static features) -> train a GRU and a
# TCN through the CLI (wall and CPU seconds printed; the target is <= 2 minutes
# each on this 2-core machine) -> these trained models' explanations, one at a
# time in headless Chromium through the npm package's worker
# (scripts/bench-seq-explain.mjs on 60 of the customers; the target is <= 300 ms).
#
#   bash scripts/bench-history.sh [ROWS]      (default 30000; needs www/pkg)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
ROWS=${1:-30000}
cargo build --release -q -p ferrisk-cli
BIN=target/release/ferrisk
[ -f www/pkg/ferrisk_wasm_bg.wasm ] || bash scripts/build-wasm.sh
OUT=target/bench-history
rm -rf "$OUT"; mkdir -p "$OUT"
"$BIN" synth --rows "$ROWS" --histories 12 --extra-static 14 --seed 3 --out "$OUT/data.csv" 2>"$OUT/synth.log"
LABEL=$(sed -n "s/.*label '\([^']*\)'.*/\1/p" "$OUT/synth.log")
POSITIVE=$(sed -n "s/.*positive class '\([^']*\)'.*/\1/p" "$OUT/synth.log")
mapfile -t SEQ < <(sed -n 's/^  --sequence \(.*\)$/--sequence\n\1/p' "$OUT/synth.log")
echo "data: $ROWS synthetic customers, 12 months x 3 channels, 20 static features (history generator v1, seed 3)"
echo "load before training: $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in gru tcn; do
  /usr/bin/time -f "%e %U %S" -o "$OUT/$kind.time" "$BIN" train --data "$OUT/data.csv" --label "$LABEL" \
    --positive "$POSITIVE" --model "$kind" --seed 7 "${SEQ[@]}" --out "$OUT/m-$kind" >"$OUT/train-$kind.log" 2>&1 \
    || { cat "$OUT/train-$kind.log" >&2; exit 1; }
  read -r wall user sys <"$OUT/$kind.time"
  auc=$(sed -n 's/^ *ROC AUC *\([0-9.]*\).*/\1/p' "$OUT/train-$kind.log" | head -n 1)
  printf 'train %s: %s s wall, %.1f s CPU (target <= 120 s wall); test ROC AUC %s\n' "$kind" "$wall" "$(echo "$user + $sys" | bc)" "${auc:-?}"
  cp "$OUT/m-$kind/$kind.frk" "$OUT/$kind.frk"
done
# The first 60 customers without their label, for the browser bench.
awk -F, -v label="$LABEL" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == label) skip = i }
  NR <= 61 { out = ""; for (i = 1; i <= NF; i++) if (i != skip) out = out (out == "" ? "" : ",") $i; print out }' \
  "$OUT/data.csv" >"$OUT/customers.csv"
FERRISK_SEQ_BENCH=$OUT node scripts/bench-seq-explain.mjs
