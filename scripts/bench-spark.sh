#!/usr/bin/env bash
# The nightly batch on Spark: the PySpark job of python/examples/spark_score.py
# in local mode (one executor thread per core) on ROWS resampled German
# credit rows (default 1,000,000) with REASONS reasons per refused row
# (default 4), checked row by row against `ferrisk predict` on the same
# rows; prints wall time, CPU time and rows/s per core of both.
# The files stay in target/py/bench/ (about 1 GB for a million rows).
#   ROWS=1000000 REASONS=4 bash scripts/bench-spark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-python.sh --wheel-only
target/py/spark/bin/python python/tests/test_spark.py --rows "${ROWS:-1000000}" \
  --reasons "${REASONS:-4}" --work target/py/bench
