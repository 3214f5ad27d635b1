#!/usr/bin/env bash
# Builds the browser bundle into www/pkg/, checks its size budget, and
# makes www/pkg the npm package `ferrisk` (package.json, entries, worker,
# types, README, licences; see ARCHITECTURE.md, "The npm package").
#
#   scripts/build-wasm.sh            build, optimise, print sizes, fail over budget
#
# Steps: wasm-pack (custom profile `wasm-release`: LTO, one codegen unit,
# panic=abort) with wasm-pack's own wasm-opt off, then binaryen 132's
# wasm-opt from tools/node_modules (never Debian's binaryen 108, whose output
# breaks in Chromium). Budget: gzip(_bg.wasm) + gzip(JS glue) <= 150 KB.
#
# Optimisation level: FERRISK_WASM_OPT_LEVEL (default 3) overrides the
# profile's opt-level "z" for rustc and picks wasm-opt's -O3 / -Os / -Oz.
# Level 3 costs ~2.3 KB gzip over "z" (measured 2026-11 before the size
# pass: 147.0 vs 144.7 KB for the .wasm); it scores a 100-tree forest ~40%
# faster, an RBF SVM ~10% faster and a single row ~25% faster, because "z"
# leaves the iterator adaptors of the scoring loops un-inlined.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

BUDGET_BYTES=$((150 * 1024))
OPT_LEVEL=${FERRISK_WASM_OPT_LEVEL:-3}
case "$OPT_LEVEL" in 3 | s | z) ;; *) echo "build-wasm: FERRISK_WASM_OPT_LEVEL must be 3, s or z" >&2; exit 2 ;; esac
OUT=www/pkg
WASM_OPT=tools/node_modules/.bin/wasm-opt

if [ ! -x "$WASM_OPT" ]; then
  echo "build-wasm: $WASM_OPT is missing; run scripts/setup.sh (npm ci in tools/)" >&2
  exit 1
fi
if ! "$WASM_OPT" --version | grep -q "version 132"; then
  echo "build-wasm: expected binaryen 132, got: $("$WASM_OPT" --version)" >&2
  exit 1
fi

# strip=false: wasm-bindgen reads the target_features section (wasm-opt strips it later).
CARGO_PROFILE_WASM_RELEASE_STRIP=false CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=$OPT_LEVEL \
  wasm-pack build wasm --target web --out-dir ../$OUT --profile wasm-release --no-opt --no-pack

WASM=$OUT/ferrisk_wasm_bg.wasm
JS=$OUT/ferrisk_wasm.js
raw_before=$(stat -c %s "$WASM")

# Size invariants (ARCHITECTURE.md), checked on the symbol names wasm-bindgen
# keeps until wasm-opt strips them: the runtime formats and parses floats
# with ferrisk::num (core's float formatting is ~20 KB, its parser's tables
# ~10 KB), never maps Unicode case
# (~14 KB of tables) and never slices a str where a panic could follow
# (core's slice-error path brings char escaping and Unicode tables).
for sym in flt2dec dec2flt 11conversions slice_error_fail; do
  if grep -a -q "$sym" "$WASM"; then
    echo "build-wasm: FAIL: the bundle links core's '$sym' (see ARCHITECTURE.md, size invariants)" >&2
    exit 1
  fi
done

# The JS glue without its JSDoc blocks: the same documentation ships in the
# .d.ts, and the glue's copy costs ~1.6 KB gzip of the budget.
node -e '
  const fs = require("fs");
  const p = process.argv[1];
  fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace(/^[ \t]*\/\*\*[\s\S]*?\*\/[ \t]*\n/gm, ""));
' "$JS"
node --check "$JS"

# The features rustc 1.95 enables by default for wasm32-unknown-unknown
# (bulk memory, non-trapping float-to-int, sign extension, mutable globals,
# reference types, multi-value); wasm-opt must accept them all and keep them.
# --low-memory-unused: wasm-opt may assume addresses 0..1023 are never
# accessed and fold more constant offsets into loads and stores (-0.8 KB
# gzip; predictBatch, TreeSHAP and attention timings unchanged). rustc lays
# the 1 MiB stack out first (__stack_pointer starts at 1 MiB, data above
# it), so those addresses are the last KiB of the stack: reached only by a
# call chain 1,047,552 bytes deep, which the runtime (no recursion that
# input controls, small frames) never builds.
"$WASM_OPT" "-O$OPT_LEVEL" --low-memory-unused \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  --strip-debug --strip-producers \
  "$WASM" -o "$WASM.opt"
mv "$WASM.opt" "$WASM"

raw_wasm=$(stat -c %s "$WASM")
raw_js=$(stat -c %s "$JS")
gz_wasm=$(gzip -9 -c "$WASM" | wc -c)
gz_js=$(gzip -9 -c "$JS" | wc -c)
total=$((gz_wasm + gz_js))

echo "opt-level $OPT_LEVEL (rustc and wasm-opt)"
printf '%-28s %10s %10s\n' "file" "raw" "gzip -9"
printf '%-28s %10d %10d   (before wasm-opt: %d raw)\n' "$(basename "$WASM")" "$raw_wasm" "$gz_wasm" "$raw_before"
printf '%-28s %10d %10d\n' "$(basename "$JS")" "$raw_js" "$gz_js"
printf '%-28s %10s %10d   (budget %d = 150 KB)\n' "total" "" "$total" "$BUDGET_BYTES"

mkdir -p target
SIZE_LINE=$(printf '"opt_level": "%s", "wasm_raw": %d, "wasm_gzip": %d, "js_raw": %d, "js_gzip": %d, "total_gzip": %d, "budget": %d' \
  "$OPT_LEVEL" "$raw_wasm" "$gz_wasm" "$raw_js" "$gz_js" "$total" "$BUDGET_BYTES")

# --- the npm package (www/pkg is the package directory) -----------------------
# wasm-pack's output (the glue, the .wasm, ferrisk_wasm.d.ts) plus the
# package's own files from wasm/npm/: the entries (index.js for browsers and
# bundlers, node.js for Node), api.js (createScorer, FerriskError),
# csvfile.js + csvtools.js (predictCsvFile, also the page's output helpers),
# the module worker, index.d.ts, the npm README and the licences. `npm pack
# www/pkg` makes the tarball (scripts/test-npm.sh installs it in a sample app).
NPM_FILES=(index.js node.js api.js csvfile.js csvtools.js worker.js index.d.ts README.md LICENSE-MIT LICENSE-APACHE)
for f in "${NPM_FILES[@]}"; do cp "wasm/npm/$f" "$OUT/$f"; done
# The page's app does not use the old, unused wasm-pack .gitignore.
rm -f "$OUT/.gitignore"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
PKG_FILES=("${NPM_FILES[@]}" ferrisk_wasm.js ferrisk_wasm.d.ts ferrisk_wasm_bg.wasm ferrisk_wasm_bg.wasm.d.ts)
[ -f "$OUT/ferrisk_wasm_bg.wasm.d.ts" ] || unset 'PKG_FILES[${#PKG_FILES[@]}-1]'
# The package's CycloneDX SBOM: the wasm crate's dependency tree for
# wasm32 (scripts/sbom.sh, Python standard library only; checked against
# `cargo tree` by python/tests/test_sbom.py, and the tarball's copy by
# scripts/test-npm.sh). FERRISK_SBOM names a ready-made file instead.
if [ -n "${FERRISK_SBOM:-}" ]; then
  cp "$FERRISK_SBOM" "$OUT/sbom.cdx.json"
else
  bash scripts/sbom.sh wasm "$OUT/sbom.cdx.json"
fi
PKG_FILES+=(sbom.cdx.json)
node -e '
  const [version, ...files] = process.argv.slice(1);
  const pkg = {
    name: "ferrisk",
    version,
    description: "Credit-risk scoring in the browser and Node.js: loads ferrisk model files (.frk) and scores, explains and batches in WebAssembly.",
    license: "MIT OR Apache-2.0",
    type: "module",
    main: "./node.js",
    module: "./index.js",
    browser: "./index.js",
    types: "./index.d.ts",
    exports: {
      ".": { types: "./index.d.ts", node: "./node.js", browser: "./index.js", default: "./index.js" },
      "./worker.js": "./worker.js",
      "./ferrisk_wasm.js": "./ferrisk_wasm.js",
      "./ferrisk_wasm_bg.wasm": "./ferrisk_wasm_bg.wasm",
      "./package.json": "./package.json",
    },
    files,
    sideEffects: ["./index.js", "./node.js"],
    engines: { node: ">=18" },
    keywords: ["credit-risk", "scoring", "webassembly", "explainability"],
  };
  require("fs").writeFileSync("www/pkg/package.json", JSON.stringify(pkg, null, 2) + "\n");
' "$VERSION" "${PKG_FILES[@]}"
# Reported, not budgeted: the package's JS over the glue (the entry and the
# modules it imports), and the worker script (which imports the same modules).
gz_entry=$(cat "$OUT/index.js" "$OUT/api.js" "$OUT/csvfile.js" "$OUT/csvtools.js" | gzip -9 | wc -c)
gz_worker=$(gzip -9 -c "$OUT/worker.js" | wc -c)
printf 'npm package %s in %s: index.js + api.js + csvfile.js + csvtools.js %d B gzip, worker.js %d B gzip (not in the budget above)\n' \
  "$VERSION" "$OUT" "$gz_entry" "$gz_worker"
printf '{%s, "npm_entry_gzip": %d, "npm_worker_gzip": %d}\n' "$SIZE_LINE" "$gz_entry" "$gz_worker" >target/wasm-size.json

if [ "$total" -gt "$BUDGET_BYTES" ]; then
  echo "build-wasm: FAIL: gzip size $total bytes exceeds the budget of $BUDGET_BYTES bytes" >&2
  exit 1
fi
echo "build-wasm: OK: $total bytes gzip (budget $BUDGET_BYTES)"
