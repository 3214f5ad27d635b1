"""Score a Parquet table of customers on Apache Spark with a ferrisk model file.

The nightly batch of a bank: every customer, every night. The driver reads
the model file once and broadcasts its bytes; each task loads the scorer
once for its partition and scores its Arrow batches of rows with
`mapInPandas`. The results are the CLI's: the same
float32 probabilities, decisions, points and reasons.

Locally (Java 17 and `pip install pyspark ferrisk-*.whl`):

    python python/examples/spark_score.py --model gbm.frk \\
        --input customers.parquet --output scored.parquet --keep id --reasons 4

On a cluster, the wheel must be importable on every executor (install it in
the executors' Python environment, or ship a packed virtual environment with
`--archives`; see the README), and the model file is read by the driver:

    spark-submit --master yarn --deploy-mode cluster \\
        --archives ferrisk-env.tar.gz#environment \\
        --conf spark.pyspark.python=./environment/bin/python \\
        --files gbm.frk \\
        spark_score.py --model gbm.frk --input s3a://bank/customers/ \\
        --output s3a://bank/scores/2026-11-30/ --keep id --reasons 4

Output columns: the `--keep` columns, then probability (float), decision
(the model's class name), points (float), error, warnings and, with
`--reasons k`, reason_1 .. reason_k (null where there is none).
"""

from __future__ import annotations

import argparse
import time
from typing import Iterator, List, Optional

def result_schema(input_schema, keep: List[str], reasons: int) -> str:
    """The DDL of the scored table: the kept columns with their input types,
    then the scorer's columns."""
    fields = {f.name: f for f in input_schema.fields}
    parts = [f"`{name}` {fields[name].dataType.simpleString()}" for name in keep]
    parts += [
        "probability float",
        "decision string",
        "points float",
        "error string",
        "warnings string",
    ]
    parts += [f"reason_{k} string" for k in range(1, reasons + 1)]
    return ", ".join(parts)


def score(df, model_bytes: bytes, keep: Optional[List[str]] = None, reasons: int = 0,
          lang: str = "en"):
    """`df` scored: a DataFrame of the `keep` columns and the scorer's.

    The model is checked on the driver first, so a damaged file fails the
    job before any task starts."""
    import ferrisk

    ferrisk.Scorer.load(model_bytes)
    keep = list(keep or [])
    spark = df.sparkSession
    model = spark.sparkContext.broadcast(model_bytes)

    # Runs on the executors: it refers to nothing of this module (pickled
    # by value), loads the scorer once per partition from the broadcast
    # bytes (a few milliseconds) and scores its Arrow batches.
    def run(batches: Iterator) -> Iterator:
        import ferrisk

        scorer = ferrisk.Scorer.load(model.value)
        for pdf in batches:
            out = scorer.predict(pdf, reasons=reasons, lang=lang)
            for i, name in enumerate(keep):
                out.insert(i, name, pdf[name].to_numpy())
            yield out

    return df.mapInPandas(run, schema=result_schema(df.schema, keep, reasons))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="model file (.frk), read by the driver")
    ap.add_argument("--input", required=True, help="Parquet table of customers")
    ap.add_argument("--output", required=True, help="where to write the scored Parquet table")
    ap.add_argument("--keep", default="", help="input columns to carry over, comma separated")
    ap.add_argument("--reasons", type=int, default=0, help="principal reasons per refused row")
    ap.add_argument("--lang", default="en", help="language of the reason texts (en, zh)")
    ap.add_argument("--master", default=None, help="e.g. local[*]; default: spark-submit's")
    a = ap.parse_args()

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("ferrisk-score")
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()
    with open(a.model, "rb") as f:
        model_bytes = f.read()
    keep = [c for c in a.keep.split(",") if c]
    start = time.perf_counter()
    df = spark.read.parquet(a.input)
    score(df, model_bytes, keep, a.reasons, a.lang).write.mode("overwrite").parquet(a.output)
    seconds = time.perf_counter() - start
    rows = spark.read.parquet(a.output).count()
    print(f"scored {rows} rows in {seconds:.1f} s -> {a.output}")
    spark.stop()


if __name__ == "__main__":
    main()
