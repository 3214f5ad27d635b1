#!/usr/bin/env bash
# Bounded load test of `ferrisk serve` on 127.0.0.1 (loopback only).
#
#   scripts/load-serve.sh [SECONDS]     # measured phase, default 20, at most 50
#
# 1. Builds the ferrisk binary and the load client (serve/examples/load.rs).
# 2. Trains a GBM on synthetic customers into a temporary directory.
# 3. The client starts `ferrisk serve` with its default limits and, for
#    SECONDS, holds 500 slow-header and idle connections (reopening those the
#    service closes) and sends maximum-size requests in a loop from two
#    threads (100,000 customers, a body announced over --max-body, 1,000
#    explained customers, 1,000 customers in a body just under 8 MiB), while
#    a well-behaved client makes sequential small requests (GET /models,
#    /predict with and without explanation).
# 4. Prints the well-behaved client's p50/p99 latency, the abusers' status
#    counts and the service's RSS before/during/after. Targets: p99 <= 50 ms,
#    flat memory. Figures are printed, not asserted (2 shared cores).
# Everything stops by itself: the client kills the service at the end, and
# the whole run is under `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '\033[1m[load-serve]\033[0m %s\n' "$*"; }
seconds="${1:-20}"

log "building"
cargo build -q --release -p ferrisk-cli -p ferrisk-serve --example load
bin=target/release/ferrisk

tmp="$(mktemp -d "${TMPDIR:-/tmp}/ferrisk-load.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/models" "$tmp/www"
printf '<!doctype html><title>load</title>\n' >"$tmp/www/index.html"

log "training a GBM on synthetic customers"
"$bin" synth --rows 800 --seed 5 --out "$tmp/data.csv" >/dev/null 2>&1
"$bin" train --data "$tmp/data.csv" --label default --positive yes --model gbm \
  --seed 3 --out "$tmp/models" >/dev/null 2>&1
# The customers as JSON objects (label left out, numbers as numbers).
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; n = NF; printf "["; next }
  { printf "%s{", (NR > 2 ? "," : "");
    first = 1
    for (i = 1; i <= n; i++) {
      if (h[i] == "default") continue
      v = ($i ~ /^-?[0-9]+(\.[0-9]+)?$/) ? $i : "\"" $i "\""
      printf "%s\"%s\":%s", (first ? "" : ","), h[i], v; first = 0
    }
    printf "}" }
  END { print "]" }' "$tmp/data.csv" >"$tmp/customers.json"

log "load for ${seconds}s (500 slow/idle connections, maximum-size requests, one sequential client)"
timeout 90 target/release/examples/load --bin "$bin" --models "$tmp/models" \
  --www "$tmp/www" --customers "$tmp/customers.json" --model gbm --seconds "$seconds"
