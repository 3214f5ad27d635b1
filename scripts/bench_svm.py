"""scikit-learn's SVC on the rows ferrisk's svm_bench example wrote.

Reads DIR/train.csv (y, weight, columns), DIR/test.csv (y, columns) and
DIR/params.txt (C, gamma, class weights); fits SVC(kernel="rbf",
probability=False) with the same C, gamma and class weights, times the fit
and prints the test ROC AUC of its decision function. Run by
scripts/bench-svm.sh in a venv of its own (pinned scikit-learn).
"""
import sys
import time

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC


def main(d):
    params = dict(line.strip().split("=", 1) for line in open(f"{d}/params.txt") if "=" in line)
    train = np.loadtxt(f"{d}/train.csv", delimiter=",", dtype=np.float64)
    test = np.loadtxt(f"{d}/test.csv", delimiter=",", dtype=np.float64)
    y, x = train[:, 0].astype(int), train[:, 2:]
    yt, xt = test[:, 0].astype(int), test[:, 1:]
    cw = {1: float(params["weight_pos"]), 0: float(params["weight_neg"])}
    svc = SVC(
        C=float(params["C"]),
        kernel="rbf",
        gamma=float(params["gamma"]),
        class_weight=cw,
        probability=False,
        tol=1e-3,
        cache_size=200,
    )
    t = time.perf_counter()
    svc.fit(x, y)
    fit_s = time.perf_counter() - t
    auc = roc_auc_score(yt, svc.decision_function(xt))
    print(
        f"scikit-learn {sklearn.__version__} SVC: {fit_s:.2f} s, "
        f"{svc.support_.size} support vectors, test AUC {auc:.4f}"
    )
    with open(f"{d}/sklearn.txt", "w") as f:
        f.write(f"fit_s={fit_s}\nauc={auc}\n")


if __name__ == "__main__":
    main(sys.argv[1])
