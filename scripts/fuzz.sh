#!/usr/bin/env bash
# Runs the fuzz harness (fuzz/, see fuzz/README.md) longer than the bounded
# test of the test command does, optimised:
#
#   bash scripts/fuzz.sh [seconds] [seed]
#
# seconds: total time over all targets (default 600; the model reader gets
# 60 %, the CSV reader and the /predict JSON 20 % each). seed: any u64
# (default: a fresh one, printed first, so a run can be repeated).
# Crash, hang and slow inputs are written to fuzz/regressions/ (commit the
# small ones with their one-line .txt); findings that are not crashes
# (NaN probability, constant model, ...) to target/fuzz/findings/.
# Exits non-zero when a crash, hang or slow input was found.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

seconds="${1:-600}"
seed="${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"

cargo build --release -p ferrisk-fuzz --bin ferrisk-fuzz
exec target/release/ferrisk-fuzz run --seconds "$seconds" --seed "$seed" --work target/fuzz
