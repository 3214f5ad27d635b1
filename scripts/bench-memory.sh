#!/usr/bin/env bash
# Training memory and time per row (issue 16): generates 100,000 and
# 1,000,000 rows x 20 columns (train/examples/mem_data.rs: 12 numeric, 7
# categorical, missing values, a label with signal), trains a GBM with
# `ferrisk train --model gbm` (every default: 5-fold CV, 30 % test split)
# under /usr/bin/time -v and prints, per size: the CSV's size, the peak
# resident memory, peak / CSV, wall and CPU (user + system) time, and both
# per row. On a shared machine the CPU time is the steadier figure; the load
# is printed with each line. The GBM stops early, so the trees differ by
# size: the CPU time per row and tree is printed too. SOURCE_DATE_EPOCH is
# set, so the model files of two binaries compare byte for byte (sha256).
#
#   bash scripts/bench-memory.sh [ROWS ...]      (default: 100000 1000000)
#   TRAIN_ARGS="--gbm-trees 150 --gbm-early-stopping 0" bash scripts/bench-memory.sh
#       the same model size at every row count (early stopping keeps more
#       trees on more rows), so the time per row compares directly.
#   FERRISK=path/to/ferrisk TAG=before bash scripts/bench-memory.sh
#       measures another binary (e.g. a build of an older commit); TAG
#       names its logs and model files in BENCH_DIR (default: a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
work=${BENCH_DIR:-$(mktemp -d)}
tag=${TAG:-run}
mkdir -p "$work"
cargo build --release -q -p ferrisk-train --example mem_data
if [ -z "${FERRISK:-}" ]; then
    cargo build --release -q -p ferrisk-cli
    FERRISK=target/release/ferrisk
fi
export SOURCE_DATE_EPOCH=1700000000
printf '%-8s %11s %11s %8s %8s %8s %10s %10s %6s %13s %-12s %s\n' rows csv_bytes peak_kb \
    peak/csv wall_s cpu_s wall_us/row cpu_us/row trees cpu_ns/row/tree model_sha256 load
for n in "${sizes[@]}"; do
    csv="$work/mem-$n.csv"
    [ -s "$csv" ] || target/release/examples/mem_data "$n" 7 > "$csv"
    bytes=$(stat -c %s "$csv")
    log="$work/time-$tag-$n.txt"
    /usr/bin/time -v "$FERRISK" train --data "$csv" --label default --positive yes \
        --model gbm ${TRAIN_ARGS:-} --out "$work/gbm-$tag-$n.frk" > /dev/null 2> "$log"
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    user=$(awk -F': ' '/User time/ {print $2}' "$log")
    sys=$(awk -F': ' '/System time/ {print $2}' "$log")
    secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    model="$work/gbm-$tag-$n.frk"
    trees=$("$FERRISK" inspect "$model" 2> /dev/null | sed -n 's/^ *model: \([0-9]*\) trees.*/\1/p')
    sha=$(sha256sum "$model" | cut -c1-12)
    awk -v n="$n" -v b="$bytes" -v r="$rss" -v s="$secs" -v u="$user" -v y="$sys" -v l="$load" \
        -v t="$trees" -v h="$sha" 'BEGIN {
        c = u + y
        printf "%-8d %11d %11d %8.2f %8.1f %8.1f %10.1f %10.1f %6d %13.1f %-12s %s\n", n, b, r,
            r * 1024 / b, s, c, s * 1e6 / n, c * 1e6 / n, t, c * 1e9 / n / t, h, l }'
done
echo "(peak = Maximum resident set size of /usr/bin/time -v; logs and models in $work, tag $tag)"
