#!/usr/bin/env bash
# The one-command demo: set up the toolchain, build the browser bundle and the
# CLI, train every model kind, and serve the advisor page.
#
#   bash scripts/demo.sh                 serve on http://127.0.0.1:8080/
#   bash scripts/demo.sh --port 9000     or PORT=9000 bash scripts/demo.sh
#
# Data: German credit from ../shared/data when present, else a synthetic
# customer file written by `ferrisk synth` (the script says which).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

PORT=${PORT:-8080}
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=${2:?--port needs a number}; shift 2 ;;
    --port=*) PORT=${1#--port=}; shift ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$PORT" in '' | *[!0-9]*) echo "demo: port must be a number, got '$PORT'" >&2; exit 2 ;; esac

say() { printf '\n\033[1m[demo]\033[0m %s\n' "$*"; }

say "1/5 toolchain (scripts/setup.sh)"
bash scripts/setup.sh

say "2/5 browser bundle (scripts/build-wasm.sh -> www/pkg)"
bash scripts/build-wasm.sh

say "3/5 command line (cargo build --release)"
cargo build --release -p ferrisk-cli
BIN=target/release/ferrisk

GERMAN=../shared/data/statlog_german_credit/german_credit.csv
rm -rf models.new
if [ -f "$GERMAN" ]; then
  say "4/5 training every model kind on German credit ($GERMAN) into models/"
  # German credit documents its cost matrix: a bad customer approved costs 5, a good one refused 1.
  # Age and sex / marital status are protected: left out of the inputs, audited per group.
  "$BIN" train --data "$GERMAN" --label creditability --positive bad --model all --cv 5 \
    --threshold-by cost:FN=5,FP=1 --protected 'age_in_years:<25,personal_status_and_sex' \
    --out models.new
else
  mkdir -p out
  say "4/5 $GERMAN not found: training on SYNTHETIC customers (ferrisk synth -> out/synthetic.csv)"
  msg=$("$BIN" synth --rows 5000 --seed 7 --out out/synthetic.csv 2>&1)
  echo "$msg"
  LABEL=$(printf '%s' "$msg" | sed -n "s/.*label '\([^']*\)'.*/\1/p")
  POSITIVE=$(printf '%s' "$msg" | sed -n "s/.*positive class '\([^']*\)'.*/\1/p")
  "$BIN" train --data out/synthetic.csv --label "$LABEL" --positive "$POSITIVE" --model all --cv 5 --out models.new
fi
# Repayment histories: neither shared dataset has one, so the sequence models
# (GRU, TCN) train on the frozen synthetic history generator and are served
# beside the others as history-gru and history-tcn.
mkdir -p out
say "5/5 repayment-history models (gru, tcn) on SYNTHETIC histories (ferrisk synth --histories 12 -> out/histories.csv)"
hmsg=$("$BIN" synth --rows 5000 --histories 12 --seed 5 --out out/histories.csv 2>&1)
echo "$hmsg"
HLABEL=$(printf '%s' "$hmsg" | sed -n "s/.*label '\([^']*\)'.*/\1/p")
HPOSITIVE=$(printf '%s' "$hmsg" | sed -n "s/.*positive class '\([^']*\)'.*/\1/p")
mapfile -t HSEQ < <(printf '%s\n' "$hmsg" | sed -n 's/^  --sequence \(.*\)$/--sequence\n\1/p')
for kind in gru tcn; do
  "$BIN" train --data out/histories.csv --label "$HLABEL" --positive "$HPOSITIVE" --model "$kind" --cv 5 \
    "${HSEQ[@]}" --reasons examples/histories-reasons.json --out "out/history-$kind"
  cp "out/history-$kind/$kind.frk" "models.new/history-$kind.frk"
done
rm -rf models
mv models.new models

say "serving the advisor page (Ctrl-C stops it); open the URL below"
exec "$BIN" serve --models models --www www --port "$PORT"
