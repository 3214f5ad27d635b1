#!/usr/bin/env bash
# The npm package `ferrisk` end to end, as a portal team uses it:
#
#   scripts/test-npm.sh          build the package (scripts/build-wasm.sh),
#                                pack it, install it in a sample app, test
#   FERRISK_NPM_SKIP_BUILD=1     use the www/pkg already built (test-wasm.sh's
#                                bundle step builds it)
#
# 1. Fixtures (target/npm-fixtures/): a gradient-boosting model trained by the
#    native CLI on German credit (../shared/data; tests/golden/synthetic.csv
#    without it), its `ferrisk predict` probabilities and the `explain --json`
#    of one customer (the oracle), and a ~2 MB random forest (3,400 trees: the compact
#    forest kind of issue 16 takes ~580 B a tree on German credit).
# 2. `npm pack www/pkg`; a sample app in a temporary folder outside the
#    repository (tests/npm/app) installs the tarball offline (it has no
#    dependencies), is bundled twice, by esbuild and by Vite with its defaults
#    (both from tools/node_modules, pinned in tools/package-lock.json), and
#    each bundle is served under a strict CSP.
# 3. tests/npm/browser.test.mjs, once per bundle: headless Chromium (Debian's
#    /usr/bin/chromium) runs the app: load from a URL with progress and SHA-256, score + explain,
#    batch with progress in the package's worker, a cancelled batch, errors
#    with codes and fields (BAD_VALUE, CSV_ROW, CHECKSUM, INTEGRITY), no
#    console error.
# 4. tests/npm/node.test.mjs: the same package in Node.js.
# 5. tests/npm/memory.test.mjs: 1,000 loads of the forest without free()
#    (node --expose-gc) level off.
# 6. tsc --strict over tests/npm/ts/usage.ts against the installed types, and
#    tests/npm/ts/wrong.ts must fail with its three errors.
# 7. The README's table of error codes equals the generated ErrorCode union.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
ROOT=$PWD
log() { printf '\033[1m[test-npm]\033[0m %s\n' "$*"; }
T0=$(date +%s)
lap() { log "$1 ($(($(date +%s) - T0)) s so far)"; }
fail() {
  log "FAIL: $*"
  exit 1
}

for tool in esbuild vite tsc; do
  [ -x "tools/node_modules/.bin/$tool" ] || fail "tools/node_modules/.bin/$tool is missing; run scripts/setup.sh (npm ci in tools/)"
done
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (Debian package chromium)"

# --- 1. fixtures ----------------------------------------------------------------
FIX=$ROOT/target/npm-fixtures
GERMAN=${FERRISK_GERMAN_CSV:-../shared/data/statlog_german_credit/german_credit.csv}
if [ -f "$GERMAN" ]; then
  DATA=$GERMAN LABEL=creditability POSITIVE=bad
  CUSTOMER='{"status_of_existing_checking_account": "... < 0 DM", "duration_in_month": 6, "purpose": "radio/television", "credit_amount": "1169", "present_residence_since": null, "age_in_years": 67, "housing": "own", "creditability": "good", "customer_id": "A-17"}'
else
  DATA=tests/golden/synthetic.csv LABEL=default POSITIVE=yes
  CUSTOMER='{"age": 68, "income": "48272", "loan_amount": null, "duration_months": 60, "housing": "own", "purpose": "car", "customer_id": "A-17"}'
  log "NOTE: $GERMAN not found; using $DATA"
fi
cargo build --release -q -p ferrisk-cli
CLI=${CARGO_TARGET_DIR:-target}/release/ferrisk
rm -rf "$FIX"
mkdir -p "$FIX"
cp "$DATA" "$FIX/data.csv"
printf '%s\n' "$CUSTOMER" >"$FIX/customer.json"
"$CLI" train --data "$DATA" --label "$LABEL" --positive "$POSITIVE" --model gbm --out "$FIX/gbm" --seed 7 >"$FIX/train.log" 2>&1 ||
  { cat "$FIX/train.log"; fail "training gbm"; }
"$CLI" train --data "$DATA" --label "$LABEL" --positive "$POSITIVE" --model rf --rf-trees 3400 --out "$FIX/rf" --seed 7 >>"$FIX/train.log" 2>&1 ||
  { cat "$FIX/train.log"; fail "training rf"; }
cp "$FIX/gbm/gbm.frk" "$FIX/model.frk"
cp "$FIX/rf/rf.frk" "$FIX/forest.frk"
"$CLI" predict --model "$FIX/model.frk" --data "$DATA" --out "$FIX/model.pred.csv" 2>>"$FIX/train.log"
"$CLI" explain --model "$FIX/model.frk" --customer "$CUSTOMER" --json >"$FIX/model.explain.json" 2>>"$FIX/train.log"
lap "fixtures in $FIX (forest: $(stat -c %s "$FIX/forest.frk") bytes)"
# The memory test is about a large model: at least 1.8 MB.
[ "$(stat -c %s "$FIX/forest.frk")" -ge 1800000 ] || fail "the forest for the memory test is under 1.8 MB"

# --- 2. package, sample app, bundle -----------------------------------------------
if [ "${FERRISK_NPM_SKIP_BUILD:-}" != 1 ] || [ ! -f www/pkg/package.json ]; then
  bash scripts/build-wasm.sh >target/npm-build.log 2>&1 || { tail -20 target/npm-build.log; fail "scripts/build-wasm.sh"; }
  grep -E "^(total|npm package)" target/npm-build.log
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferrisk-npm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
(cd www/pkg && npm pack --pack-destination "$WORK" --loglevel=error >/dev/null) || fail "npm pack"
TARBALL=$(ls "$WORK"/ferrisk-*.tgz)
log "packed $(basename "$TARBALL"): $(stat -c %s "$TARBALL") bytes"
listing=$(tar -tzf "$TARBALL")
for f in package.json README.md LICENSE-MIT LICENSE-APACHE index.js node.js api.js csvfile.js csvtools.js worker.js index.d.ts \
  ferrisk_wasm.js ferrisk_wasm.d.ts ferrisk_wasm_bg.wasm sbom.cdx.json; do
  grep -qx "package/$f" <<<"$listing" || fail "the tarball lacks $f"
done
# The shipped SBOM is the wasm crate's, as scripts/sbom.py makes it from the
# lock file now (python/tests/test_sbom.py checks that against cargo tree).
tar -xzf "$TARBALL" -C "$WORK" package/sbom.cdx.json
python3 scripts/sbom.py --package ferrisk-wasm --target wasm32-unknown-unknown --out "$WORK/sbom-now.json" >/dev/null
cmp -s "$WORK/package/sbom.cdx.json" "$WORK/sbom-now.json" || fail "the tarball's sbom.cdx.json is not the wasm crate's current SBOM"
APP=$WORK/app
mkdir -p "$APP"
cp tests/npm/app/* tests/npm/oracle.mjs tests/npm/node.test.mjs tests/npm/memory.test.mjs "$APP/"
cp -r tests/npm/ts "$APP/ts"
printf '{"name": "ferrisk-sample-app", "private": true, "type": "module"}\n' >"$APP/package.json"
(cd "$APP" && npm install --offline --no-audit --no-fund --loglevel=error "$TARBALL") || fail "npm install of the tarball"
# The app and the package's worker, each bundled; the wasm next to them.
(cd "$APP" && "$ROOT/tools/node_modules/.bin/esbuild" app.js node_modules/ferrisk/worker.js --bundle --format=esm \
  --outdir=dist --entry-names='[name]' --log-level=warning) || fail "esbuild"
cp "$APP/index.html" "$APP/node_modules/ferrisk/ferrisk_wasm_bg.wasm" "$APP/dist/"
# The same app built by Vite with its defaults (it bundles the worker and
# emits the wasm itself, from the package's `new URL(..., import.meta.url)`).
"$ROOT/tools/node_modules/.bin/vite" build "$APP" --outDir "$APP/dist-vite" --logLevel warn >"$WORK/vite.log" 2>&1 ||
  { cat "$WORK/vite.log"; fail "vite build"; }
lap "sample app installed and bundled (esbuild: $APP/dist, Vite: $APP/dist-vite)"

status=0
run() {
  local name=$1
  shift
  if "$@"; then
    lap "OK ($name)"
  else
    log "FAIL ($name)"
    status=1
  fi
}

# --- 3.-5. browser, Node, memory ---------------------------------------------------
export NPM_ROOT=$ROOT NPM_FIX=$FIX
run "browser (esbuild bundle)" env NPM_DIST="$APP/dist" node tests/npm/browser.test.mjs
run "browser (Vite bundle)" env NPM_DIST="$APP/dist-vite" node tests/npm/browser.test.mjs
run node bash -c "cd '$APP' && node node.test.mjs"
run memory bash -c "cd '$APP' && node --expose-gc memory.test.mjs '$FIX/forest.frk'"

# --- 6. types ------------------------------------------------------------------------
TSC=$ROOT/tools/node_modules/.bin/tsc
run "tsc --strict usage.ts" "$TSC" -p "$APP/ts/tsconfig.json"
wrong_types() {
  local out
  if out=$("$TSC" -p "$APP/ts/tsconfig.wrong.json" 2>&1); then
    echo "wrong.ts compiled; it must not"
    return 1
  fi
  local n
  n=$(grep -c 'error TS' <<<"$out" || true)
  if [ "$n" -ne 3 ] || ! grep -q "wrong.ts(6," <<<"$out" || ! grep -q "wrong.ts(7," <<<"$out" || ! grep -q "wrong.ts(8," <<<"$out"; then
    echo "wrong.ts: expected 3 errors on lines 6-8, got:"
    echo "$out"
    return 1
  fi
}
run "tsc rejects wrong literals (wrong.ts)" wrong_types

# --- 7. README codes --------------------------------------------------------------------
readme_codes() {
  local table union
  table=$(sed -n 's/^| `\([A-Z_]*\)` |.*/\1/p' wasm/npm/README.md | sort)
  union=$(grep -E '^\s*export type ErrorCode' www/pkg/ferrisk_wasm.d.ts | grep -o '"[A-Z_]*"' | tr -d '"' | sort)
  [ -n "$union" ] || { echo "no ErrorCode union in www/pkg/ferrisk_wasm.d.ts"; return 1; }
  if [ "$table" != "$union" ]; then
    echo "wasm/npm/README.md's codes table differs from ferrisk::error::CODES:"
    diff <(echo "$table") <(echo "$union") || true
    return 1
  fi
}
run "README lists every error code" readme_codes

log "npm tests took $(($(date +%s) - T0)) s"
exit $status
