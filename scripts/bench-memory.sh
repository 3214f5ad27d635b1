#!/usr/bin/env bash
# Training memory and time per row (issue 16): generates 100,000 and
# 1,000,000 rows x 20 columns (train/examples/mem_data.rs), trains a GBM
# with `ferrisk train --model gbm` under /usr/bin/time -v and prints, per
# size: the CSV's size, the peak resident memory, peak / CSV, wall time and
# time per row.
#
#   bash scripts/bench-memory.sh [ROWS ...]      (default: 100000 1000000)
#   FERRISK=path/to/ferrisk to measure another binary (e.g. a build of main).
#
# Timings are wall clock on a shared machine: the load is printed with them.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -q -p ferrisk-train --example mem_data
if [ -z "${FERRISK:-}" ]; then
    cargo build --release -q -p ferrisk-cli
    FERRISK=target/release/ferrisk
fi
printf '%-10s %12s %12s %8s %10s %14s  %s\n' rows csv_bytes peak_rss_kb peak/csv wall_s us_per_row load
for n in "${sizes[@]}"; do
    csv="$work/mem-$n.csv"
    [ -s "$csv" ] || target/release/examples/mem_data "$n" 7 > "$csv"
    bytes=$(stat -c %s "$csv")
    log="$work/time-$n.txt"
    /usr/bin/time -v "$FERRISK" train --data "$csv" --label default --positive yes \
        --model gbm --out "$work/gbm-$n.frk" > /dev/null 2> "$log"
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    awk -v n="$n" -v b="$bytes" -v r="$rss" -v s="$secs" -v l="$load" 'BEGIN {
        printf "%-10d %12d %12d %8.2f %10.1f %14.2f  %s\n", n, b, r, r * 1024 / b, s, s * 1e6 / n, l }'
done
echo "(peak = Maximum resident set size of /usr/bin/time -v; files in $work)"
