#!/usr/bin/env bash
# CycloneDX SBOMs (scripts/sbom.py, Python standard library only):
#   bash scripts/sbom.sh                  # both, to their default places
#   bash scripts/sbom.sh wasm [OUT.json]  # the npm package's: the wasm crate for wasm32
#                                         # (default www/pkg/sbom.cdx.json)
#   bash scripts/sbom.sh python [OUT.json] # the wheel's: the Python crate for this host
#                                         # (default python/ferrisk/sbom.cdx.json, shipped in the wheel)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  wasm) python3 scripts/sbom.py --package ferrisk-wasm --target wasm32-unknown-unknown \
          --out "${2:-www/pkg/sbom.cdx.json}" ;;
  python) python3 scripts/sbom.py --package ferrisk-python --out "${2:-python/ferrisk/sbom.cdx.json}" ;;
  all) bash "$0" wasm && bash "$0" python ;;
  *) echo "usage: $0 [wasm|python|all] [OUT.json]" >&2; exit 2 ;;
esac
