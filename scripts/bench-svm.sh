#!/usr/bin/env bash
# The RBF SVM against scikit-learn's SVC on the same encoded rows.
#
#   scripts/bench-svm.sh [ROWS...]      (default: 2000 0 = a 2,000-row sample and all rows)
#
# For each size: ferrisk's svm_bench example splits Bank Marketing as
# `ferrisk train` does (seed 42, 30 % test, --drop duration), samples the
# training rows (0 = all 31,647), writes the encoded rows, times our exact
# SMO solver (then the shipped landmark expansion and, separately, the 3
# Platt folds), and prints test AUCs; then scikit-learn's SVC
# (probability=False, same C, gamma and class weights) is timed on the same
# rows in a venv of its own (target/bench-svm-venv, pinned from PyPI).
# FERRISK_BENCH_CLASS_WEIGHT=balanced weighs the classes n/(2·n_c) in both;
# FERRISK_BENCH_THREADS sets ferrisk's threads (default 2; scikit-learn's
# libsvm uses one); FERRISK_BENCH_FILE=1 also fits the svm-rbf kind itself
# (solver, landmarks, Platt folds) into a model file and prints its size and
# how many of its centres are training rows (0). Figures are printed, never
# asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '\033[1m[bench-svm]\033[0m %s\n' "$*"; }
data=../shared/data/bank_marketing/bank-full.csv
[ -f "$data" ] || { echo "no $data; skipped"; exit 0; }
cw=${FERRISK_BENCH_CLASS_WEIGHT:-none}
threads=${FERRISK_BENCH_THREADS:-2}
venv=target/bench-svm-venv
if [ ! -x "$venv/bin/python" ]; then
  log "making $venv (scikit-learn 1.5.2, numpy 2.1.3)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q scikit-learn==1.5.2 numpy==2.1.3
fi
cargo build -q --release -p ferrisk-train --example svm_bench
log "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for rows in "${@:-2000 0}"; do
  for n in $rows; do
    dir=target/bench-svm/rows-$n-$cw
    log "Bank Marketing, ${n/#0/all} training rows, class weights $cw"
    target/release/examples/svm_bench "$data" y yes duration "$n" "$dir" "$cw" "$threads"
    "$venv/bin/python" scripts/bench_svm.py "$dir"
    python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
f = dict(l.strip().split("=", 1) for l in open(f"{d}/ferrisk.txt"))
s = dict(l.strip().split("=", 1) for l in open(f"{d}/sklearn.txt"))
ratio = float(f["solve_s"]) / float(s["fit_s"])
print(f"  time ferrisk / scikit-learn: {ratio:.2f}x (target <= 2); "
      f"AUC exact - SVC: {float(f['auc_exact']) - float(s['auc']):+.4f} (target within 0.005); "
      f"shipped - exact: {float(f['auc_shipped']) - float(f['auc_exact']):+.4f} (target within 0.01)")
PY
  done
done
