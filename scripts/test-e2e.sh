#!/usr/bin/env bash
# End-to-end tests of the advisor page in headless Chromium (Debian's
# /usr/bin/chromium driven by playwright-core from tools/node_modules; no
# browser is ever downloaded).
#
#   scripts/test-e2e.sh                    build, train, serve, run tests/e2e/*.test.mjs
#   scripts/test-e2e.sh tests/e2e/batch.test.mjs   only the named test files
#   E2E_SKIP_BUILD=1 scripts/test-e2e.sh   reuse www/pkg and target/release/ferrisk
#   E2E_DOCS_SCREENSHOT=1 scripts/test-e2e.sh   also rewrite docs/screenshot.png
#
# Models are trained fresh into a temporary directory from German credit
# (../shared/data) when present, else from `ferrisk synth` data (the script
# says which). The server is `ferrisk serve --port 0`; the tests read its URL
# from the environment and compare the page's numbers with the native CLI's.
# Screenshots go to target/e2e-screens/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
ROOT=$PWD

log() { printf '\033[1m[test-e2e]\033[0m %s\n' "$*"; }

if [ ! -d tools/node_modules/playwright-core ]; then
  echo "test-e2e: tools/node_modules/playwright-core is missing; run scripts/setup.sh" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "test-e2e: /usr/bin/chromium is missing; run scripts/setup.sh" >&2
  exit 1
fi

if [ -z "${E2E_SKIP_BUILD:-}" ]; then
  log "building the wasm package (www/pkg)"
  bash scripts/build-wasm.sh >/dev/null
  log "building the native CLI (release)"
  cargo build --release -q -p ferrisk-cli
fi
BIN=$ROOT/target/release/ferrisk
[ -f www/pkg/ferrisk_wasm_bg.wasm ] || { echo "test-e2e: www/pkg is missing" >&2; exit 1; }
[ -x "$BIN" ] || { echo "test-e2e: $BIN is missing" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferrisk-e2e.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

GERMAN=../shared/data/statlog_german_credit/german_credit.csv
if [ -f "$GERMAN" ]; then
  DATA=$(cd "$(dirname "$GERMAN")" && pwd)/$(basename "$GERMAN")
  LABEL=creditability
  POSITIVE=bad
  # The fair-lending audit the page shows (inputs unchanged: --use-protected).
  GOVERNANCE=(--protected 'age_in_years:<25,personal_status_and_sex' --use-protected)
  log "data: German credit ($GERMAN)"
else
  GOVERNANCE=()
  DATA=$TMP/synthetic.csv
  msg=$("$BIN" synth --rows 2000 --seed 11 --out "$DATA" 2>&1)
  LABEL=$(printf '%s' "$msg" | sed -n "s/.*label '\([^']*\)'.*/\1/p")
  POSITIVE=$(printf '%s' "$msg" | sed -n "s/.*positive class '\([^']*\)'.*/\1/p")
  log "data: $GERMAN not found; using synthetic data from ferrisk synth (label $LABEL, positive $POSITIVE)"
fi

log "training every model kind into $TMP/models"
"$BIN" train --data "$DATA" --label "$LABEL" --positive "$POSITIVE" --model all --cv 3 --seed 7 \
  "${GOVERNANCE[@]}" --out "$TMP/models" >"$TMP/train.log" 2>&1 || { cat "$TMP/train.log" >&2; exit 1; }

# Repayment histories (sequence models): German credit has none, so the page's
# history tests use the frozen synthetic generator, served beside the others
# as history-gru and history-tcn.
HIST=$TMP/histories.csv
"$BIN" synth --rows 3000 --histories 12 --seed 5 --out "$HIST" 2>"$TMP/synth-histories.log"
HLABEL=$(sed -n "s/.*label '\([^']*\)'.*/\1/p" "$TMP/synth-histories.log")
HPOSITIVE=$(sed -n "s/.*positive class '\([^']*\)'.*/\1/p" "$TMP/synth-histories.log")
mapfile -t HSEQ < <(sed -n 's/^  --sequence \(.*\)$/--sequence\n\1/p' "$TMP/synth-histories.log")
log "training history models (gru, tcn) on $(basename "$HIST"): ${#HSEQ[@]} sequence arguments"
for kind in gru tcn; do
  "$BIN" train --data "$HIST" --label "$HLABEL" --positive "$HPOSITIVE" --model "$kind" --seed 7 \
    "${HSEQ[@]}" --reasons examples/histories-reasons.json --out "$TMP/history-$kind" >"$TMP/train-$kind.log" 2>&1 || { cat "$TMP/train-$kind.log" >&2; exit 1; }
  cp "$TMP/history-$kind/$kind.frk" "$TMP/models/history-$kind.frk"
done
export E2E_HISTORY_MODELS=history-gru,history-tcn E2E_HISTORY_DATA=$HIST

log "starting ferrisk serve --port 0"
"$BIN" serve --models "$TMP/models" --www www --port 0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER_PID=$!
URL=
for _ in $(seq 1 100); do
  URL=$(sed -n 's/^serving \(http:[^ ]*\)$/\1/p' "$TMP/serve.out" | head -n 1)
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "test-e2e: the server did not start" >&2
  cat "$TMP/serve.err" >&2
  exit 1
fi
log "server at $URL"

mkdir -p target/e2e-screens
export E2E_URL=$URL E2E_MODELS=$TMP/models E2E_DATA=$DATA E2E_LABEL=$LABEL E2E_POSITIVE=$POSITIVE
export E2E_TMP=$TMP E2E_BIN=$BIN E2E_SCREENS=$ROOT/target/e2e-screens E2E_ROOT=$ROOT
if [ $# -gt 0 ]; then files=("$@"); else files=(tests/e2e/*.test.mjs); fi
node --test --test-concurrency=1 "${files[@]}"
