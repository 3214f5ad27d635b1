"""Shared by the Python tests: the German credit split, model fixtures trained
with the real CLI, the CLI's predictions, and comparisons with the wheel's.

The oracle is always the `ferrisk` binary (target/release/ferrisk, or
$FERRISK_BIN): models are trained by it and every expected value is what
`ferrisk predict` / `ferrisk explain` print for the same rows.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import traceback
from typing import Callable, Dict, List, Optional

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GERMAN = os.path.join(ROOT, "..", "shared", "data", "statlog_german_credit", "german_credit.csv")
LABEL = "creditability"


def ferrisk_bin() -> str:
    path = os.environ.get("FERRISK_BIN", os.path.join(ROOT, "target", "release", "ferrisk"))
    if not os.path.exists(path):
        raise SystemExit(f"{path} is missing: cargo build --release -p ferrisk-cli")
    return path


def run(args: List[str]) -> str:
    p = subprocess.run([ferrisk_bin(), *args], capture_output=True, text=True)
    if p.returncode not in (0, 3):  # 3: some rows failed (written with their error)
        raise AssertionError(f"ferrisk {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def german_split(out_dir: str) -> Dict[str, str]:
    """German credit in two files by row, every third-in-ten row to the
    test file (the split the CLI's tests use)."""
    with open(GERMAN, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header, rows = lines[0], lines[1:]
    train = [header] + [l for i, l in enumerate(rows) if i % 10 >= 3]
    test = [header] + [l for i, l in enumerate(rows) if i % 10 < 3]
    paths = {}
    for name, part in (("train", train), ("test", test)):
        paths[name] = os.path.join(out_dir, f"{name}.csv")
        with open(paths[name], "w", encoding="utf-8") as f:
            f.write("\n".join(part) + "\n")
    return paths


def train(data: str, test: str, out_dir: str, kinds: str) -> Dict[str, str]:
    run(
        [
            "train", "--data", data, "--test-data", test, "--label", LABEL,
            "--positive", "bad", "--model", kinds, "--cv", "3", "--out", out_dir,
        ]
    )
    return {
        f[: -len(".frk")]: os.path.join(out_dir, f)
        for f in sorted(os.listdir(out_dir))
        if f.endswith(".frk")
    }


def cli_predict(model: str, data: str, out: str, reasons: int,
                read: bool = True) -> List[Dict[str, str]]:
    """`ferrisk predict`'s output rows, as text; with `reasons` > 0 it runs
    with --explain (points and reason_1..reason_k columns)."""
    explain = ["--explain", "--reasons", str(reasons)] if reasons > 0 else []
    run(["predict", "--model", model, "--data", data, "--out", out, *explain])
    if not read:
        return []
    with open(out, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def f32_bits(x: float) -> int:
    return int(np.array([x], dtype=np.float32).view(np.uint32)[0])


def cli_f32(text: str) -> Optional[int]:
    """The bits of the f32 the CLI printed as shortest round-trip text."""
    return None if text == "" else f32_bits(float(text))


def text(v) -> str:
    """A wheel cell as the CLI writes it: missing -> empty."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v)


def compare(cli: List[Dict[str, str]], out, reasons: Optional[int], what: str) -> int:
    """Asserts the wheel's result frame (pandas or pyarrow) equals the CLI's
    rows: probability bits, decision, error, warnings and, when `reasons` is
    not None (the CLI ran with --explain), points (as the CLI prints them:
    one decimal) and the reason texts. Returns the rows compared."""
    if hasattr(out, "to_pydict"):
        cols = out.to_pydict()
    else:
        cols = {c: list(out[c]) for c in out.columns}
    n = len(cols["probability"])
    assert n == len(cli), f"{what}: {n} rows, CLI {len(cli)}"
    prob = np.asarray(cols["probability"], dtype=np.float32)
    for i, row in enumerate(cli):
        where = f"{what}, row {i}"
        p = prob[i]
        want = cli_f32(row["probability"])
        got = None if np.isnan(p) else int(p.view(np.uint32))
        assert got == want, f"{where}: probability bits {got} != CLI {want} ({row['probability']})"
        assert text(cols["decision"][i]) == row["decision"], f"{where}: decision"
        assert text(cols["error"][i]) == row["error"], (
            f"{where}: error {cols['error'][i]!r} != CLI {row['error']!r}"
        )
        assert text(cols["warnings"][i]) == row["warnings"], (
            f"{where}: warnings {cols['warnings'][i]!r} != CLI {row['warnings']!r}"
        )
        if reasons is None:
            continue
        pts = cols["points"][i]
        shown = "" if np.isnan(pts) else format(float(np.float32(pts)), ".1f")
        assert shown == row["points"], f"{where}: points {shown} != CLI {row['points']}"
        for k in range(1, reasons + 1):
            got_r = text(cols[f"reason_{k}"][i])
            assert got_r == row[f"reason_{k}"], f"{where}: reason_{k} {got_r!r} != {row[f'reason_{k}']!r}"
    return n


def cli_explain(model: str, customer: Dict[str, Optional[str]]) -> Dict:
    return json.loads(run(["explain", "--model", model, "--customer", json.dumps(customer),
                           "--json"]))


class Suite:
    """A minimal test runner: each check is a function; the last line is
    'N passed, N failed'."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - a failed check is reported, the others run
            self.failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        else:
            self.passed += 1
            print(f"ok   {name}")
        sys.stdout.flush()

    def finish(self) -> None:
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
