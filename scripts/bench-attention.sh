#!/usr/bin/env bash
# Attention training time and AUC (issue 16).
#
#   scripts/bench-attention.sh [bank|synth|all]     (default: all)
#
# bank: one fit on the 31,647 Bank Marketing training rows (--drop duration;
#   split as `ferrisk train`: seed 42, 30 % test) with the defaults before
#   issue 16 (batch 64, lr 3e-4, patience 20) and with today's sized
#   defaults (AttentionParams::sized), by train/examples/attn_bench.rs: one
#   line per epoch, fit time, test ROC AUC. FERRISK_BENCH_NO_BASELINE=1
#   skips the old defaults (about 100 epochs).
# synth: `ferrisk synth --rows 100000`, then `ferrisk train --model attention`
#   on it with stderr to a log (one line per epoch, every CV fold and the
#   final fit), --max-time ${FERRISK_BENCH_MAX_TIME:-40} seconds per fit;
#   prints the wall time and the log's epoch lines.
# Figures are printed, never asserted: the machine has 2 shared cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '\033[1m[bench-attention]\033[0m %s\n' "$*"; }
what=${1:-all}
out=target/bench-attention
mkdir -p "$out"
cargo build -q --release -p ferrisk-cli
cargo build -q --release -p ferrisk-train --example attn_bench
log "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
data=../shared/data/bank_marketing/bank-full.csv
if [ "$what" != synth ] && [ -f "$data" ]; then
  if [ -z "${FERRISK_BENCH_NO_BASELINE:-}" ]; then
    log "Bank Marketing, the defaults before issue 16 (batch 64, lr 3e-4, patience 20)"
    target/release/examples/attn_bench "$data" y yes duration 2 200 64 0.0003 20 | tee "$out/bank-before.txt"
  fi
  log "Bank Marketing, today's defaults (sized to the table)"
  target/release/examples/attn_bench "$data" y yes duration 2 | tee "$out/bank-after.txt"
fi
if [ "$what" != bank ]; then
  log "ferrisk synth --rows 100000; ferrisk train --model attention --max-time ${FERRISK_BENCH_MAX_TIME:-40}"
  target/release/ferrisk synth --rows 100000 --out "$out/synth-100k.csv" 2>/dev/null
  start=$(date +%s.%N)
  target/release/ferrisk train --data "$out/synth-100k.csv" --label default --positive yes \
    --model attention --max-time "${FERRISK_BENCH_MAX_TIME:-40}" --out "$out/synth-100k.frk" \
    2> "$out/synth-100k.log" >/dev/null
  end=$(date +%s.%N)
  grep -E "epoch|ROC AUC|note" "$out/synth-100k.log" || true
  python3 -c "print(f'synth 100,000 rows: ferrisk train --model attention took {$end - $start:.0f} s (log: $out/synth-100k.log)')"
fi
