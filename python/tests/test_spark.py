"""The PySpark job of python/examples/spark_score.py against the CLI.

    python python/tests/test_spark.py --rows 20000            # the test command's run
    python python/tests/test_spark.py --rows 1000000 --reasons 4   # scripts/bench-spark.sh

Makes a table of `--rows` customers by resampling the 1,000 German credit
rows (seeded; a `row_id` column numbers them), as a CSV for the CLI and the
same rows as Parquet for Spark. Trains a gradient-boosting model with the
CLI on the German training split, scores the CSV with `ferrisk predict`
and the Parquet table with the Spark job in local mode (one executor
thread per core), and requires every row's float32 probability bits,
decision, error and warnings (and with --reasons, points and reasons) to be
the CLI's. Prints each side's wall time, CPU time and rows/s per core
(rows per CPU second: on a shared machine, wall time measures the others).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))
import common  # noqa: E402
import spark_score  # noqa: E402


def make_rows(n: int, csv_path: str, parquet_path: str, seed: int = 7) -> None:
    """`n` German credit rows drawn with replacement, numbered by row_id."""
    with open(common.GERMAN, encoding="utf-8") as f:
        lines = f.read().splitlines()
    header, rows = lines[0], lines[1:]
    pick = np.random.default_rng(seed).integers(0, len(rows), size=n)
    with open(csv_path, "w", encoding="utf-8") as f:
        f.write(f"row_id,{header}\n")
        for i, r in enumerate(pick):
            f.write(f"{i},{rows[r]}\n")
    # Parquet from the same text: every German number is a whole number,
    # read exactly; categories stay text.
    table = pacsv.read_csv(csv_path)
    pq.write_table(table, parquet_path, row_group_size=max(1, n // 16))


def read_cli(path: str, reasons: int):
    names = ["row_id", "probability", "decision", "error", "warnings"]
    if reasons:
        names += ["points"] + [f"reason_{k}" for k in range(1, reasons + 1)]
    types = {n: pa.string() for n in names}
    t = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            include_columns=names, column_types=types, strings_can_be_null=False,
            quoted_strings_can_be_null=False, null_values=[],
        ),
    )
    return {n: t.column(n).to_numpy(zero_copy_only=False) for n in names}


def text(values) -> np.ndarray:
    """Result cells as the CLI writes them: null -> empty text."""
    return np.array(["" if v is None else v for v in values], dtype=object)


def compare(cli, out, reasons: int) -> None:
    n = len(cli["row_id"])
    assert len(out["row_id"]) == n, f"Spark wrote {len(out['row_id'])} rows, the CLI {n}"
    assert np.array_equal(cli["row_id"].astype(np.int64), out["row_id"]), "row ids differ"
    filled = cli["probability"] != ""
    want = np.full(n, np.nan, dtype=np.float32)
    want[filled] = cli["probability"][filled].astype(np.float64).astype(np.float32)
    got = out["probability"]
    same = np.where(filled, want.view(np.uint32) == got.view(np.uint32), np.isnan(got))
    checks = {"probability bits": same}
    for c in ("decision", "error", "warnings"):
        checks[c] = text(out[c]) == cli[c]
    if reasons:
        shown = np.where(np.isnan(out["points"]), "",
                         np.char.mod("%.1f", out["points"].astype(np.float64)))
        checks["points"] = shown == cli["points"]
        for k in range(1, reasons + 1):
            checks[f"reason_{k}"] = text(out[f"reason_{k}"]) == cli[f"reason_{k}"]
    for what, ok in checks.items():
        bad = np.flatnonzero(~np.asarray(ok, dtype=bool))
        assert bad.size == 0, (
            f"{what}: {bad.size} of {n} rows differ from the CLI; first row_id {bad[0]}"
        )
    assert filled.all(), f"{(~filled).sum()} rows failed"


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system, reaped children included) of a process
    and its live descendants, from /proc: the Spark JVM with its Python
    daemon and workers."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields[1] = ppid; [11..14] = utime stime cutime cstime
            stats[int(d)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        if p in stats:
            total += stats[p][1]
            stack.extend(c for c, (pp, _) in stats.items() if pp == p)
    return total / tick


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--reasons", type=int, default=0)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", default=None, help="keep the files here (default: a temp dir)")
    a = ap.parse_args()
    suite = common.Suite()
    work = a.work or tempfile.mkdtemp(prefix="ferrisk-spark-")
    os.makedirs(work, exist_ok=True)
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "?"
    print(f"{a.rows} rows, {a.reasons} reasons, local[{a.cores}], load {' '.join(load)}")

    split = common.german_split(work)
    model = common.train(split["train"], split["test"], os.path.join(work, "models"), "gbm")["gbm"]
    data_csv, data_pq = os.path.join(work, "customers.csv"), os.path.join(work, "customers.parquet")
    make_rows(a.rows, data_csv, data_pq)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    common.cli_predict(model, data_csv, os.path.join(work, "cli.csv"), a.reasons, read=False)
    cli_seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cli_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    # Two partitions per core: split the Parquet file by row groups
    # (Spark would pack a small file into one partition, one core).
    split = os.path.getsize(data_pq) // (2 * a.cores) + 1
    spark = (
        SparkSession.builder.master(f"local[{a.cores}]")
        .config("spark.sql.files.maxPartitionBytes", str(split))
        .config("spark.sql.files.openCostInBytes", "0")
        .appName("ferrisk-spark-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    with open(model, "rb") as f:
        model_bytes = f.read()
    out_dir = os.path.join(work, "scored.parquet")
    jvm = spark.sparkContext._gateway.proc.pid
    me = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = tree_cpu(jvm) + me.ru_utime + me.ru_stime
    start = time.perf_counter()
    df = spark.read.parquet(data_pq)
    spark_score.score(df, model_bytes, ["row_id"], a.reasons).write.mode("overwrite").parquet(out_dir)
    spark_seconds = time.perf_counter() - start
    me = resource.getrusage(resource.RUSAGE_SELF)
    spark_cpu = tree_cpu(jvm) + me.ru_utime + me.ru_stime - cpu0
    partitions = df.rdd.getNumPartitions()
    spark.stop()

    def same_as_cli() -> None:
        cli = read_cli(os.path.join(work, "cli.csv"), a.reasons)
        t = pq.read_table(out_dir).sort_by("row_id")
        out = {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}
        compare(cli, out, a.reasons)

    suite.check(f"Spark job on {a.rows} rows identical to ferrisk predict", same_as_cli)
    end_load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"load at the end {end_load}; rows/s per core = rows / CPU seconds (user + system) "
          "of the job's processes, which a shared machine does not distort as it does wall time")
    print(f"CLI   ferrisk predict:   wall {cli_seconds:7.1f} s, CPU {cli_cpu:7.1f} s: "
          f"{a.rows / cli_cpu:8.0f} rows/s per core (1 thread)")
    print(f"Spark local[{a.cores}] job: wall {spark_seconds:7.1f} s, CPU {spark_cpu:7.1f} s: "
          f"{a.rows / spark_cpu:8.0f} rows/s per core, {a.rows / spark_seconds:8.0f} rows/s "
          f"wall on {a.cores} cores ({partitions} partitions; JVM + Python workers; "
          "read Parquet, score, write Parquet)")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
