"""The installed wheel against the CLI, on German credit.

Run by scripts/test-python.sh in a fresh virtual environment where only the
built wheel, pandas and pyarrow are installed:

    python python/tests/test_wheel.py

Trains every kind on the German credit training split with the real CLI,
then scores the test split (and a copy with hostile cells) through
`ferrisk predict --explain` and through `ferrisk.Scorer.predict` on pandas
and pyarrow frames, and requires the same float32 probability bits,
decisions, points, errors, warnings and reasons; contributions are compared
bit for bit with `ferrisk explain --json`. Then hostile inputs must raise
ferrisk.FerriskError, never crash.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import Suite, cli_explain, cli_predict, compare, f32_bits  # noqa: E402

import ferrisk  # noqa: E402

REASONS = 4

# Hostile cells written into the first rows of a copy of the test split:
# (row, column, cell). Missing tokens, padding, an unknown category, a
# number out of the training range, text in a numeric column (the row
# fails), scientific notation; row 6 has every feature empty (no values).
HOSTILE = [
    (0, "duration_in_month", ""),
    (1, "housing", "NA"),
    (2, "credit_amount", "?"),
    (3, "purpose", "zzz"),
    (4, "installment_rate_in_percentage_of_disposable_income", " 3 "),
    (5, "age_in_years", "abc"),
    (7, "present_residence_since", "99"),
    (8, "present_residence_since", "1e0"),
    (9, "job", ""),
    (10, "credit_amount", "  1234.5"),
    (11, "purpose", "  car (new) "),
]


def hostile_copy(test: str, out: str) -> None:
    with open(test, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    for r, col, cell in HOSTILE:
        rows[1 + r][header.index(col)] = cell
    rows[1 + 6] = ["" if h != common.LABEL else rows[1 + 6][i] for i, h in enumerate(header)]
    with open(out, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def readers(path: str):
    """The same CSV as frames, the ways a data engineer reads it."""
    yield "pandas read_csv", pd.read_csv(path)
    yield "pandas read_csv as text", pd.read_csv(path, dtype=str, keep_default_na=False)
    yield "pyarrow read_csv", pacsv.read_csv(path)


def main() -> None:
    suite = Suite()
    tmp = tempfile.mkdtemp(prefix="ferrisk-py-")
    split = common.german_split(tmp)
    hostile = os.path.join(tmp, "hostile.csv")
    hostile_copy(split["test"], hostile)
    models = common.train(split["train"], split["test"], os.path.join(tmp, "models"), "all")
    print(f"models: {', '.join(models)}; wheel {ferrisk.__version__} at {ferrisk.__file__}")
    assert len(models) >= 7, models

    def same_as_cli(name: str, model: str, data: str, explained: int) -> None:
        # Every row without explanations, through three frame readers; the
        # first `explained` rows with points and reasons (an explanation per
        # row costs ~0.1 s for the attention kind, µs for the others).
        cli = cli_predict(model, data, os.path.join(tmp, f"{name}.cli.csv"), 0)
        scorer = ferrisk.Scorer.load(model)
        total = 0
        for how, frame in readers(data):
            total += compare(cli, scorer.predict(frame), None, f"{name} ({how})")
        # The row counts are the test split's: 300 German credit customers.
        assert total == 3 * 300, total
        assert sum(r["probability"] == "" for r in cli) == (2 if data == hostile else 0)
        head = os.path.join(tmp, f"{name}.head.csv")
        with open(data, encoding="utf-8") as f:
            lines = list(csv.reader(f))
        with open(head, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(lines[: 1 + explained])
        cli = cli_predict(model, head, os.path.join(tmp, f"{name}.cli-explain.csv"), REASONS)
        out = scorer.predict(pd.read_csv(head), reasons=REASONS)
        assert compare(cli, out, REASONS, f"{name} (explained)") == explained
        assert any(r["reason_1"] for r in cli), "no row has a reason"

    def rows_to_explain(kind: str) -> int:
        return 30 if kind == "attention" else 300

    for kind, model in models.items():
        suite.check(f"{kind}: test split identical to ferrisk predict",
                    lambda m=model, k=kind: same_as_cli(k, m, split["test"], rows_to_explain(k)))
        suite.check(f"{kind}: hostile cells identical to ferrisk predict",
                    lambda m=model, k=kind: same_as_cli(f"{k}-hostile", m, hostile,
                                                       rows_to_explain(k)))

    def contributions(kind: str, model: str) -> None:
        scorer = ferrisk.Scorer.load(model)
        rows = [0, 3, 12, 13]
        text = pd.read_csv(hostile, dtype=str, keep_default_na=False).iloc[rows]
        out = scorer.predict(text, contributions=True, reasons=REASONS)
        names = [n for n, _ in scorer.features]
        for i in rows:
            customer = {n: text[n][i] for n in names}
            want = cli_explain(model, customer)
            assert f32_bits(out["probability"][i]) == f32_bits(want["probability"]), i
            got = [f32_bits(out[f"contribution_{n}"][i]) for n in names]
            exp = [f32_bits(c["contribution"]) for c in want["explanation"]["contributions"]]
            assert got == exp, f"row {i}: contributions differ from ferrisk explain"
            assert f32_bits(out["points"][i]) == f32_bits(want["points"]), f"row {i}: points"
        assert f32_bits(scorer.threshold) == f32_bits(want["threshold"])

    for kind, model in models.items():
        suite.check(f"{kind}: contributions identical to ferrisk explain",
                    lambda m=model, k=kind: contributions(k, m))

    # The kinds over a repayment history (gru, tcn): German credit has no
    # history, so their committed golden files and the frozen synthetic
    # histories they were trained on (tests/golden, scripts/gen-golden-seq.sh).
    golden = os.path.join(common.ROOT, "tests", "golden")
    histories = os.path.join(golden, "histories.csv")

    def history_kind(kind: str) -> None:
        model = os.path.join(golden, f"{kind}.frk")
        scorer = ferrisk.Scorer.load(model)
        cli = cli_predict(model, histories, os.path.join(tmp, f"{kind}.cli.csv"), 0)
        for how, frame in readers(histories):
            assert compare(cli, scorer.predict(frame), None, f"{kind} ({how})") == 400
        head = os.path.join(tmp, f"{kind}.head.csv")
        with open(histories, encoding="utf-8") as f:
            lines = f.read().splitlines()
        with open(head, "w", encoding="utf-8") as f:
            f.write("\n".join(lines[:41]) + "\n")
        cli = cli_predict(model, head, os.path.join(tmp, f"{kind}.cli-explain.csv"), REASONS)
        out = scorer.predict(pd.read_csv(head), reasons=REASONS)
        assert compare(cli, out, REASONS, f"{kind} (explained)") == 40
        # Some reason is a month of the history ("... 2 months ago").
        assert any(r[f"reason_{k}"].endswith(" ago") for r in cli
                   for k in range(1, REASONS + 1)), "no month among the reasons"

    for kind in ("gru", "tcn"):
        suite.check(f"{kind} (history): golden file identical to ferrisk predict",
                    lambda k=kind: history_kind(k))

    gbm = models["gbm"]
    with open(gbm, "rb") as f:
        good = f.read()
    frame = pd.read_csv(split["test"])

    def raises(fn, *needles: str) -> None:
        try:
            fn()
        except ferrisk.FerriskError as e:
            message = str(e)
            for n in needles:
                assert n in message, f"{message!r} does not say {n!r}"
            return
        raise AssertionError(f"no FerriskError (expected one saying {needles})")

    def hostile_files() -> None:
        raises(lambda: ferrisk.Scorer.load(good[: len(good) // 2]), "truncated")
        raises(lambda: ferrisk.Scorer.load(good[:10]), "too short")
        raises(lambda: ferrisk.Scorer.load(b"\x00" * 4096), "magic")
        flipped = bytearray(good)
        flipped[-1] ^= 1
        raises(lambda: ferrisk.Scorer.load(flipped), "checksum")
        cut = os.path.join(tmp, "cut.frk")
        with open(cut, "wb") as f:
            f.write(good[:-7])
        raises(lambda: ferrisk.Scorer.load(cut), cut, "truncated")
        raises(lambda: ferrisk.Scorer.load(os.path.join(tmp, "absent.frk")), "absent.frk")
        raises(lambda: ferrisk.Scorer.load(tmp), "cannot read model file")
        big = os.path.join(tmp, "big.frk")
        with open(big, "wb") as f:
            f.truncate(300 * 1024 * 1024)  # sparse: over the 256 MiB body limit
        raises(lambda: ferrisk.Scorer.load(big), "big.frk", "exceeds the limit")
        os.remove(big)
        raises(lambda: ferrisk.Scorer.load(io.StringIO("text")), "binary")
        raises(lambda: ferrisk.Scorer.load(12), "int")
        # The same file from a path, bytes and a file object: one model.
        with open(gbm, "rb") as f:
            shas = {ferrisk.Scorer.load(s).sha256 for s in (gbm, good, memoryview(good))}
            shas.add(ferrisk.Scorer.load(f).sha256)
        assert len(shas) == 1, shas

    def hostile_frames() -> None:
        scorer = ferrisk.Scorer.load(good)
        raises(lambda: scorer.predict(frame.drop(columns=["age_in_years"])), "age_in_years")
        raises(lambda: scorer.predict(pa.Table.from_pandas(frame.drop(columns=["purpose"]))),
               "purpose")
        wrong = frame.copy()
        wrong["age_in_years"] = wrong["age_in_years"] > 30
        raises(lambda: scorer.predict(wrong), "age_in_years", "boolean")
        wrong = frame.copy()
        wrong["purpose"] = pd.to_datetime("2024-01-01")
        raises(lambda: scorer.predict(wrong), "purpose")
        wrong = frame.copy()
        wrong["purpose"] = [[1, 2]] * len(frame)
        raises(lambda: scorer.predict(wrong), "purpose")
        raises(lambda: scorer.predict(frame.to_dict("records")), "pandas DataFrame")
        raises(lambda: scorer.predict(frame, reasons=-1), "reasons")
        raises(lambda: scorer.predict(frame, reasons=10**6), "reasons")
        # Infinity in a numeric column fails its row only, naming the feature.
        inf = frame.copy()
        inf["credit_amount"] = inf["credit_amount"].astype(np.float64)
        inf.loc[5, "credit_amount"] = np.inf
        out = scorer.predict(inf)
        assert "credit_amount" in out["error"][5] and np.isnan(out["probability"][5])
        assert out["error"].isna().sum() == len(frame) - 1
        # The raw module refuses columns whose bytes do not fit the rows.
        inner = scorer._inner
        raises(lambda: inner.score_columns([("credit_amount", "numbers", b"\x00" * 7, None)], 1),
               "credit_amount")
        raises(lambda: inner.score_columns([("nope", "numbers", b"", None)], 0), "nope")
        # A code with no distinct value fails its row, not the process.
        cols = scorer._columns(frame.head(1))[0]
        cols = [c if c[0] != "purpose" else ("purpose", "codes",
                np.array([5], dtype=np.int32).tobytes(), ["car (new)"]) for c in cols]
        raw = inner.score_columns(cols, 1)
        assert raw["errors"] and "code 5" in raw["errors"][0][1], raw["errors"]
        # An empty frame scores to an empty result.
        assert len(scorer.predict(frame.head(0))) == 0

    suite.check("hostile model files raise FerriskError", hostile_files)
    suite.check("hostile frames raise FerriskError or fail their row", hostile_frames)

    def frames_keep_index_and_types() -> None:
        scorer = ferrisk.Scorer.load(good)
        shuffled = frame.sample(frac=1.0, random_state=1)
        out = scorer.predict(shuffled, reasons=2, contributions=True)
        assert list(out.index) == list(shuffled.index)
        assert out["probability"].dtype == np.float32 and out["points"].dtype == np.float32
        arrow = scorer.predict(pa.Table.from_pandas(shuffled, preserve_index=False), reasons=2)
        assert arrow.schema.field("probability").type == pa.float32()
        assert arrow.schema.field("error").type == pa.string()
        assert np.array_equal(arrow["probability"].to_numpy().view(np.uint32),
                              out["probability"].to_numpy().view(np.uint32))

    suite.check("results keep the frame's index and types", frames_keep_index_and_types)
    suite.finish()


if __name__ == "__main__":
    main()
