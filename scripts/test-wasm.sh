#!/usr/bin/env bash
# Runs the wasm test suite (wasm/tests/suite) under Node.js and in headless
# Chromium, after making the native-vs-wasm parity fixtures.
#
#   scripts/test-wasm.sh            fixtures + node + browser + bundle
#   scripts/test-wasm.sh node       fixtures + node only (same for `browser`, `bundle`)
#   scripts/test-wasm.sh fixtures   fixtures only (scripts/bench.sh uses them)
#
# Fixtures (target/wasm-fixtures/): every model kind trained by the native CLI
# on German credit (../shared/data; seed fixed), and the whole file scored by
# `ferrisk predict`. Without the shared data, tests/golden/synthetic.csv is
# used instead (and the script says so). The wasm tests embed these files via
# wasm/build.rs (FERRISK_FIXTURES) and must reproduce the CLI's probabilities
# bit for bit.
#
# The wasm-bindgen test runner skips browser-configured test files under Node
# and node ones in a browser without failing, so this script counts the tests
# that actually ran in each mode and fails unless it is the whole suite.
#
# Every kind the CLI trains (`ferrisk kinds`) is trained; each also gets
# `<kind>.explain.json`: `ferrisk explain --json` of the fixed customer in
# customer.json (written here), which the suite's `score()` must reproduce
# key for key (numbers compared as f32).
#
# Before the wasm runs, a native check (wasm/tests/thin_bindings.rs) fails if
# the bindings hold scoring logic.
#
# `bundle`: builds the shipped bundle (scripts/build-wasm.sh: wasm-opt'd, size
# budget enforced), checks in headless Chromium that it loads and gives the
# native CLI's probabilities bit for bit (scripts/bench-browser.mjs --check),
# and type-checks the package's declarations with a usage file
# (tsc --strict --noEmit over www/pkg/ferrisk_wasm.d.ts and wasm/tests/ts/).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
ROOT=$PWD
MODES=${1:-all}
case "$MODES" in all | node | browser | bundle | fixtures) ;; *) echo "usage: $0 [node|browser|bundle|fixtures]" >&2; exit 2 ;; esac

log() { printf '\033[1m[test-wasm]\033[0m %s\n' "$*"; }

# --- fixtures ---------------------------------------------------------------
FIX=target/wasm-fixtures
GERMAN=${FERRISK_GERMAN_CSV:-../shared/data/statlog_german_credit/german_credit.csv}
if [ -f "$GERMAN" ]; then
  DATA=$GERMAN LABEL=creditability POSITIVE=bad
else
  DATA=tests/golden/synthetic.csv LABEL=default POSITIVE=yes
  log "NOTE: $GERMAN not found; parity fixtures use $DATA instead"
fi
log "building the native CLI (release)"
cargo build --release -q -p ferrisk-cli
CLI=${CARGO_TARGET_DIR:-target}/release/ferrisk
# The kind registry: one id per line (`ferrisk kinds` prints id<TAB>name, and
# a third field `history` for the kinds that need a --sequence history, which
# German credit has not: `--model all` skips them; their golden files,
# trained on tests/golden/histories.csv, are checked against the native
# probabilities by the golden suite).
KINDS=$("$CLI" kinds | awk -F'\t' '$3 != "history" {print $1}')
[ -n "$KINDS" ] || { echo "test-wasm: ferrisk kinds listed no kinds" >&2; exit 1; }

log "training every kind on $DATA (seed 7) into $FIX/"
rm -rf "$FIX"
mkdir -p "$FIX"
"$CLI" train --data "$DATA" --label "$LABEL" --positive "$POSITIVE" --model all \
  --out "$FIX" --seed 7 >"$FIX/train.log" 2>&1 || { cat "$FIX/train.log" >&2; exit 1; }
cp "$DATA" "$FIX/data.csv"
for kind in $KINDS; do
  [ -f "$FIX/$kind.frk" ] || { echo "test-wasm: the CLI wrote no $FIX/$kind.frk" >&2; exit 1; }
done
# One customer for `explain --json` vs the wasm `score()`: the first data row
# of the file, with a numeric value given as text, one as null, one left out,
# and a key that is no feature (each gives a warning), plus the label (ignored).
if [ "$DATA" = "$GERMAN" ]; then
  cat >"$FIX/customer.json" <<'JSON'
{"status_of_existing_checking_account": "... < 0 DM", "duration_in_month": 6,
 "credit_history": "critical account/ other credits existing (not at this bank)",
 "purpose": "radio/television", "credit_amount": "1169",
 "savings_account_and_bonds": "unknown/ no savings account",
 "present_employment_since": "... >= 7 years",
 "installment_rate_in_percentage_of_disposable_income": 4,
 "personal_status_and_sex": "male : single", "other_debtors_or_guarantors": "none",
 "present_residence_since": null, "property": "real estate", "age_in_years": 67,
 "other_installment_plans": "none", "housing": "own",
 "number_of_existing_credits_at_this_bank": 2, "job": "skilled employee / official",
 "telephone": "yes, registered under the customers name", "foreign_worker": "yes",
 "creditability": "good", "customer_id": "A-17"}
JSON
else
  cat >"$FIX/customer.json" <<'JSON'
{"age": 68, "income": "48272", "loan_amount": null, "duration_months": 60,
 "employment": "temporary", "housing": "own", "purpose": "car",
 "default": "yes", "customer_id": "A-17"}
JSON
fi
# Every kind the CLI wrote (those it lists and any other file it left there).
for model in "$FIX"/*.frk; do
  kind=$(basename "$model" .frk)
  "$CLI" predict --model "$model" --data "$DATA" --out "$FIX/$kind.pred.csv" 2>>"$FIX/train.log"
  # A kind without explanations writes none (the suite then expects score()
  # with explain to throw for it).
  "$CLI" explain --model "$model" --customer "$(cat "$FIX/customer.json")" --json \
    >"$FIX/$kind.explain.json" 2>>"$FIX/train.log" || rm -f "$FIX/$kind.explain.json"
  # Its decision record, which the suite's score({record: true}) must equal.
  "$CLI" explain --model "$model" --customer "$(cat "$FIX/customer.json")" --json --record \
    >"$FIX/$kind.record.json" 2>>"$FIX/train.log" || rm -f "$FIX/$kind.record.json"
done
# The kinds that need a history: their golden files explain one customer of
# tests/golden/histories.csv (its first data row, a month left missing) with
# the native CLI, which the suite's score() must reproduce key for key
# (wasm/tests/suite/parity.rs history_explanations_are_the_cli_explanations).
python3 - "$ROOT/tests/golden/histories.csv" >"$FIX/history-customer.json" <<'PY'
import csv, json, sys
with open(sys.argv[1], newline="") as f:
    row = next(csv.DictReader(f))
row = {k: (None if k == "balance_m2" else v) for k, v in row.items()}
print(json.dumps(row))
PY
for kind in $("$CLI" kinds | awk -F'\t' '$3 == "history" {print $1}'); do
  "$CLI" explain --model "tests/golden/$kind.frk" --customer "$(cat "$FIX/history-customer.json")" \
    --json >"$FIX/$kind.history-explain.json" 2>>"$FIX/train.log"
done
export FERRISK_FIXTURES=$ROOT/$FIX
if [ "$MODES" = fixtures ]; then
  log "fixtures ready in $FIX/"
  exit 0
fi

# --- test runs ----------------------------------------------------------------
log "native check: the bindings hold no scoring logic (wasm/tests/thin_bindings.rs)"
if ! cargo test -q -p ferrisk-wasm --test thin_bindings >target/wasm-test-thin.log 2>&1; then
  cat target/wasm-test-thin.log
  log "FAIL (thin bindings)"
  exit 1
fi

# Optimised test builds (debug assertions and overflow checks stay on): an
# unoptimised wasm scores the bigger models (attention, RBF SVM) so slowly
# that one test blocks the browser page past chromedriver's 20 s script
# timeout.
export CARGO_PROFILE_DEV_OPT_LEVEL=${CARGO_PROFILE_DEV_OPT_LEVEL:-2}
# One #[wasm_bindgen_test] per test function of the shared suite.
EXPECTED=$(cat wasm/tests/suite/*.rs | grep -c '^#\[wasm_bindgen_test\]')
log "the shared suite has $EXPECTED tests"
status=0
total_passed=0
total_failed=0

# Sums "test result: ... N passed; M failed" over every test binary of a log.
count() {
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
       END { printf "%d %d\n", p, f }' "$1"
}

run_mode() {
  local mode=$1
  shift
  local logf=target/wasm-test-$mode.log
  log "$*  (log: $logf)"
  set +e
  "$@" 2>&1 | tee "$logf"
  local rc=${PIPESTATUS[0]}
  set -e
  read -r passed failed < <(count "$logf")
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -ne "$EXPECTED" ]; then
    log "FAIL ($mode): exit $rc, $passed passed, $failed failed; expected $EXPECTED to pass"
    status=1
  else
    log "OK ($mode): $passed of $EXPECTED tests passed"
  fi
}

if [ "$MODES" = all ] || [ "$MODES" = node ]; then
  run_mode node wasm-pack test --node wasm
fi
if [ "$MODES" = all ] || [ "$MODES" = browser ]; then
  export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
  # wasm/webdriver.json gives chromedriver the Chromium binary and flags.
  run_mode browser wasm-pack test --headless --chrome wasm
fi
if [ "$MODES" = all ] || [ "$MODES" = bundle ]; then
  log "building the shipped bundle (scripts/build-wasm.sh)"
  rm -f www/pkg/ferrisk_wasm.d.ts
  if ! bash scripts/build-wasm.sh >target/wasm-build.log 2>&1; then
    tail -20 target/wasm-build.log
    log "FAIL (bundle): scripts/build-wasm.sh failed (log: target/wasm-build.log)"
    status=1
    total_failed=$((total_failed + 1))
  else
    tail -5 target/wasm-build.log
    set +e
    node scripts/bench-browser.mjs --check 2>&1 | tee target/wasm-test-bundle.log
    rc=${PIPESTATUS[0]}
    set -e
    read -r passed failed < <(awk '/^bundle: [0-9]+ passed/ { p = $2; f = $4 } END { printf "%d %d\n", p, f }' target/wasm-test-bundle.log)
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    if [ "$rc" -ne 0 ] || [ "$passed" -eq 0 ]; then
      log "FAIL (bundle): exit $rc, $passed passed, $failed failed"
      status=1
    else
      log "OK (bundle): $passed model kinds"
    fi
  fi
  # The declarations the package ships (written even when the size budget
  # fails), used the way a page uses them. A type error fails the run.
  TSC=tools/node_modules/.bin/tsc
  log "tsc --strict --noEmit: www/pkg/ferrisk_wasm.d.ts + wasm/tests/ts/usage.ts"
  if [ ! -x "$TSC" ]; then
    log "FAIL (types): $TSC is missing; run scripts/setup.sh (npm ci in tools/)"
    status=1
    total_failed=$((total_failed + 1))
  elif [ ! -f www/pkg/ferrisk_wasm.d.ts ]; then
    log "FAIL (types): the build wrote no www/pkg/ferrisk_wasm.d.ts"
    status=1
    total_failed=$((total_failed + 1))
  elif "$TSC" --strict --noEmit --target es2022 --module es2022 --moduleResolution bundler \
    --lib es2022,dom,esnext.disposable www/pkg/ferrisk_wasm.d.ts wasm/tests/ts/usage.ts; then
    log "OK (types)"
    total_passed=$((total_passed + 1))
  else
    log "FAIL (types): the TypeScript declarations do not type-check"
    status=1
    total_failed=$((total_failed + 1))
  fi
fi

echo "wasm: $total_passed passed, $total_failed failed"
exit $status
