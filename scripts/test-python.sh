#!/usr/bin/env bash
# The Python side of ferrisk:
#  1. builds the wheel (maturin, abi3) with its SBOM (scripts/sbom.sh python);
#  2. installs it into a fresh virtual environment (with pandas and pyarrow)
#     and runs python/tests/test_wheel.py (every kind on German credit,
#     bit for bit against `ferrisk predict` / `ferrisk explain`, hostile
#     files and frames) and python/tests/test_sbom.py;
#  3. runs the PySpark job (python/examples/spark_score.py) in local mode on
#     $SPARK_ROWS rows (default 20,000) against the CLI: test_spark.py.
# scripts/bench-spark.sh runs step 3 on 1,000,000 rows.
#   bash scripts/test-python.sh [--wheel-only]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
SPARK_ROWS=${SPARK_ROWS:-20000}
PYDIR=target/py

bash scripts/setup-python.sh
# The oracle of every comparison.
cargo build --release --locked -p ferrisk-cli
bash scripts/sbom.sh python
rm -rf "$PYDIR/wheels"
(cd python && "../$PYDIR/build/bin/maturin" build --release --locked --out "../$PYDIR/wheels")
wheel=$(ls "$PYDIR"/wheels/ferrisk-*.whl)
unzip -l "$wheel" | grep -q "ferrisk/sbom.cdx.json" || { echo "$wheel has no SBOM" >&2; exit 1; }
"$PYDIR/spark/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
if [ "${1:-}" = "--wheel-only" ]; then
  exit 0
fi

echo "== the wheel in a fresh virtual environment"
rm -rf "$PYDIR/fresh"
python3 -m venv "$PYDIR/fresh"
"$PYDIR/fresh/bin/pip" install -q --disable-pip-version-check "$wheel" -r python/requirements-test.txt
(cd "$PYDIR" && fresh/bin/python ../../python/tests/test_wheel.py)
(cd "$PYDIR" && fresh/bin/python ../../python/tests/test_sbom.py)

echo "== the PySpark job, local mode, $SPARK_ROWS rows"
"$PYDIR/spark/bin/python" python/tests/test_spark.py --rows "$SPARK_ROWS" --reasons 4
