"""Golden fixtures for `ferrisk import` (tests/import/): small XGBoost and
LightGBM models trained on German credit and Bank Marketing, with the
libraries' own probabilities, raw margins and TreeSHAP contributions for
every fixture row. Run by scripts/gen-import-fixtures.sh in a virtual
environment of its own with pinned versions (requirements.txt). The outputs
are committed: the Rust tests compare against them and need no Python.

Every numeric value is rounded to float32 before training and prediction
(the libraries and ferrisk then see the same inputs) and written as the
shortest text of that float32. About 6 % of the numeric cells are missing.
"""

import csv
import os
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

DATA = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
OUT = sys.argv[2] if len(sys.argv) > 2 else "tests/import"
ROWS = 400  # fixture rows per data set (the --data of the import and the oracle rows)
# `gen.py DATA DIR --big`: only the 500-tree LightGBM benchmark model of Bank
# Marketing (bank-additional-full, 41,188 rows) and its data, into DIR (not
# committed; scripts/bench-import.sh).
BIG = "--big" in sys.argv

GERMAN_NUM = [
    "duration_in_month",
    "credit_amount",
    "installment_rate_in_percentage_of_disposable_income",
    "present_residence_since",
    "age_in_years",
    "number_of_existing_credits_at_this_bank",
    "number_of_people_being_liable_to_provide_maintenance_for",
]
BANK_NUM = [
    "age", "duration", "campaign", "pdays", "previous", "emp.var.rate",
    "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed",
]


def f32_text(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


def inject_missing(df, cols, seed):
    rng = np.random.default_rng(seed)
    for c in cols:
        df[c] = df[c].astype(np.float32)
        mask = rng.random(len(df)) < 0.06
        df.loc[mask, c] = np.nan
    return df


def german():
    df = pd.read_csv(os.path.join(DATA, "statlog_german_credit/german_credit.csv"))
    df = inject_missing(df, GERMAN_NUM, 1)
    y = (df["creditability"] == "bad").astype(int).to_numpy()
    return df, y, "creditability", "bad"


def bank():
    df = pd.read_csv(os.path.join(DATA, "bank_marketing/bank-additional.csv"), sep=";")
    df = inject_missing(df, BANK_NUM, 2)
    y = (df["y"] == "yes").astype(int).to_numpy()
    return df, y, "y", "yes"


def write_data(name, df, cols, label):
    """The fixture rows (first ROWS) as CSV: raw columns + label."""
    path = os.path.join(OUT, f"{name}.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols + [label])
        for _, r in df.head(ROWS).iterrows():
            row = []
            for c in cols:
                v = r[c]
                if isinstance(v, str):
                    row.append(v)
                else:
                    row.append(f32_text(v))
            row.append(r[label])
            w.writerow(row)


def one_hot(df, cols, sources, sep):
    parts = [df[cols].astype(np.float32)]
    for s in sources:
        d = pd.get_dummies(df[s], prefix=s, prefix_sep=sep).astype(np.float32)
        parts.append(d)
    return pd.concat(parts, axis=1)


def write_oracle(name, prob, margin, contrib, names):
    with open(os.path.join(OUT, f"{name}.oracle.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["probability", "margin"] + names + ["(bias)"])
        for p, m, c in zip(prob, margin, contrib):
            w.writerow([repr(float(p)), repr(float(m))] + [repr(float(v)) for v in c])


def xgb_model(name, X, y, params, rounds, categorical=False):
    d = xgb.DMatrix(X, label=y, missing=np.nan, enable_categorical=categorical)
    b = xgb.train(params, d, num_boost_round=rounds)
    b.save_model(os.path.join(OUT, f"{name}.json"))
    t = xgb.DMatrix(X.head(ROWS), missing=np.nan, enable_categorical=categorical)
    margin = b.predict(t, output_margin=True)
    prob = 1.0 / (1.0 + np.exp(-margin.astype(np.float64)))
    if params["objective"] == "binary:logistic":
        prob = b.predict(t)
    contrib = b.predict(t, pred_contribs=True)
    write_oracle(name, prob, margin, contrib, list(X.columns))


def lgb_model(name, X, y, params, rounds, categorical="auto"):
    d = lgb.Dataset(X, label=y, categorical_feature=categorical, free_raw_data=False)
    b = lgb.train(dict(params, verbose=-1, seed=3, deterministic=True), d, num_boost_round=rounds)
    b.save_model(os.path.join(OUT, f"{name}.txt"))
    t = X.head(ROWS)
    prob = b.predict(t)
    margin = b.predict(t, raw_score=True)
    contrib = b.predict(t, pred_contrib=True)
    write_oracle(name, prob, margin, contrib, list(b.feature_name()))
    return b


def main():
    os.makedirs(OUT, exist_ok=True)
    if BIG:
        big()
        return
    g, gy, glabel, _ = german()
    write_data("german", g, GERMAN_NUM + ["purpose", "housing"], glabel)
    bk, by, blabel, _ = bank()
    write_data("bank", bk, BANK_NUM + ["job", "marital"], blabel)

    # XGBoost, German credit, numeric only, binary:logistic, 120 trees.
    xgb_model("xgb-german-numeric", g[GERMAN_NUM], gy,
              {"objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "seed": 1}, 120)
    # XGBoost, German credit, one-hot purpose (purpose_car ...), binary:logitraw.
    xgb_model("xgb-german-onehot", one_hot(g, GERMAN_NUM, ["purpose"], "_"), gy,
              {"objective": "binary:logitraw", "max_depth": 3, "eta": 0.1, "seed": 1}, 100)
    # XGBoost, Bank Marketing, numeric, 100 trees, depth 5.
    xgb_model("xgb-bank-numeric", bk[BANK_NUM], by,
              {"objective": "binary:logistic", "max_depth": 5, "eta": 0.1, "seed": 1,
               "subsample": 0.8}, 100)
    # LightGBM, Bank Marketing, numeric, gbdt, 150 trees.
    lgb_model("lgb-bank-numeric", bk[BANK_NUM], by,
              {"objective": "binary", "num_leaves": 15, "learning_rate": 0.1}, 150)
    # LightGBM, German credit, numeric, gbdt, 100 trees.
    lgb_model("lgb-german-numeric", g[GERMAN_NUM], gy,
              {"objective": "binary", "num_leaves": 8, "learning_rate": 0.1,
               "min_data_in_leaf": 10}, 100)
    # LightGBM, Bank Marketing, rf mode (averaged), one-hot job=admin. ...
    Xr = one_hot(bk, BANK_NUM, ["job"], "=")
    lgb_model("lgb-bank-rf-onehot", Xr, by,
              {"objective": "binary", "boosting": "rf", "num_leaves": 15,
               "bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.8}, 100)

    # Native categorical splits.
    Xc = g[GERMAN_NUM + ["purpose", "housing"]].copy()
    for c in ["purpose", "housing"]:
        Xc[c] = Xc[c].astype("category")
    xgb_model("xgb-german-categorical", Xc, gy,
              {"objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "seed": 1,
               "tree_method": "hist", "max_cat_to_onehot": 1}, 100, categorical=True)
    Xb = bk[BANK_NUM + ["job", "marital"]].copy()
    for c in ["job", "marital"]:
        Xb[c] = Xb[c].astype("category")
    lgb_model("lgb-bank-categorical", Xb, by,
              {"objective": "binary", "num_leaves": 15, "learning_rate": 0.1,
               "cat_smooth": 1, "min_data_per_group": 5}, 120)

    # The golden file of the `trees-cat` kind (tests/golden/xgboost.frk): native
    # categorical XGBoost on the project's own synthetic customers.
    syn = pd.read_csv(os.path.join(os.path.dirname(OUT.rstrip("/")) or ".", "golden/synthetic.csv"))
    sx = syn[["age", "income", "loan_amount", "duration_months", "existing_credits",
              "employment", "housing", "purpose"]].copy()
    for c in ["employment", "housing", "purpose"]:
        sx[c] = sx[c].astype("category")
    sy = (syn["default"] == "yes").astype(int).to_numpy()
    b = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.1, "seed": 1,
                   "tree_method": "hist", "max_cat_to_onehot": 1},
                  xgb.DMatrix(sx, label=sy, enable_categorical=True), num_boost_round=60)
    b.save_model(os.path.join(OUT, "xgb-synthetic-categorical.json"))

    # Variants the import must refuse (a few trees each).
    refuse = os.path.join(OUT, "refused")
    os.makedirs(refuse, exist_ok=True)
    X, y3 = g[GERMAN_NUM], np.arange(len(g)) % 3
    small = lambda p, yy=gy: xgb.train(p, xgb.DMatrix(X, label=yy, missing=np.nan), num_boost_round=3)
    small({"objective": "multi:softprob", "num_class": 3, "max_depth": 2}, y3).save_model(os.path.join(refuse, "xgb-multiclass.json"))
    small({"objective": "binary:logistic", "booster": "gblinear"}).save_model(os.path.join(refuse, "xgb-gblinear.json"))
    small({"objective": "binary:logistic", "booster": "dart", "rate_drop": 0.1, "max_depth": 2}).save_model(os.path.join(refuse, "xgb-dart.json"))
    small({"objective": "reg:squarederror", "max_depth": 2}).save_model(os.path.join(refuse, "xgb-regression.json"))
    lsmall = lambda p, yy=gy: lgb.train(dict(p, verbose=-1, num_leaves=4), lgb.Dataset(X, label=yy), num_boost_round=3)
    lsmall({"objective": "multiclass", "num_class": 3}, y3).save_model(os.path.join(refuse, "lgb-multiclass.txt"))
    lsmall({"objective": "regression"}).save_model(os.path.join(refuse, "lgb-regression.txt"))
    lsmall({"objective": "binary", "boosting": "dart"}).save_model(os.path.join(refuse, "lgb-dart.txt"))
    lsmall({"objective": "binary", "linear_tree": True}).save_model(os.path.join(refuse, "lgb-linear-tree.txt"))

    print("versions: xgboost", xgb.__version__, "lightgbm", lgb.__version__)


def big():
    """The benchmark model: 500 trees of 31 leaves on Bank Marketing (numeric)."""
    full = pd.read_csv(os.path.join(DATA, "bank_marketing/bank-additional-full.csv.gz"), sep=";")
    full = inject_missing(full, BANK_NUM, 4)
    fy = (full["y"] == "yes").astype(int).to_numpy()
    b = lgb.train({"objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "verbose": -1,
                   "seed": 3, "deterministic": True},
                  lgb.Dataset(full[BANK_NUM], label=fy), num_boost_round=500)
    b.save_model(os.path.join(OUT, "lgb-bank-500.txt"))
    with open(os.path.join(OUT, "bank-full.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(BANK_NUM + ["y"])
        for _, r in full.iterrows():
            w.writerow([f32_text(r[c]) for c in BANK_NUM] + [r["y"]])
    print("wrote", OUT, "lightgbm", lgb.__version__)


if __name__ == "__main__":
    main()
