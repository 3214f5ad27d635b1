"""Score pandas and pyarrow frames with a ferrisk model file.

The numbers are the runtime's (the Rust crate ``ferrisk``, the same code the
``ferrisk predict`` CLI, the HTTP service and the browser run): the
probabilities are bit-identical float32 values, and decisions, points and
reasons are the CLI's.

    >>> import ferrisk
    >>> scorer = ferrisk.Scorer.load("models/gbm.frk")        # doctest: +SKIP
    >>> out = scorer.predict(frame, reasons=4)                  # doctest: +SKIP
    >>> out[["probability", "decision", "points", "reason_1"]]  # doctest: +SKIP

This module only converts columns: a numeric column becomes float64 (NaN,
None and pandas' NA are missing values), any other column is factorised into
int32 codes and its distinct values (text, or numbers), each of which the
runtime parses as the CLI parses a CSV cell (trimmed; "", "NA" and "?" are
missing). Scoring runs in Rust with the GIL released.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from ._ferrisk import FerriskError, __version__
from ._ferrisk import Scorer as _Scorer

__all__ = ["Scorer", "FerriskError", "sbom", "__version__"]

# Columns a frame of results has, besides reason_k and contribution_<feature>.
RESULT_COLUMNS = ("probability", "decision", "points", "error", "warnings")


def sbom() -> Dict[str, Any]:
    """The CycloneDX software bill of materials of this wheel (every crate
    compiled into it, with version and licence), as a dict."""
    path = os.path.join(os.path.dirname(__file__), "sbom.cdx.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise FerriskError(f"this build of ferrisk ships no SBOM ({path}: {e.strerror})") from None


def _is_pandas(frame: Any) -> bool:
    return type(frame).__module__.split(".")[0] == "pandas" and hasattr(frame, "columns")


def _is_arrow(frame: Any) -> bool:
    return type(frame).__module__.split(".")[0] == "pyarrow" and hasattr(frame, "schema")


def _distinct_codes(codes: np.ndarray, uniques: Sequence[Any], name: str) -> Tuple:
    if len(uniques) >= 2**31 - 1:
        raise FerriskError(f"column '{name}': too many distinct values ({len(uniques)})")
    values = [u.item() if isinstance(u, np.generic) else u for u in uniques]
    codes32 = np.ascontiguousarray(codes, dtype=np.int32)
    return (name, "codes", codes32.tobytes(), values)


def _pandas_column(series: Any, name: str) -> Tuple:
    import pandas as pd

    kind = getattr(series.dtype, "kind", "O")
    if kind == "b":
        raise FerriskError(
            f"column '{name}': boolean values are neither numbers nor categories; "
            "convert them to text or 0/1 first"
        )
    if kind in "iuf":
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return (name, "numbers", np.ascontiguousarray(values).tobytes(), None)
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError as e:  # unhashable cells (lists, dicts)
        raise FerriskError(f"column '{name}': values are neither text nor numbers ({e})") from None
    return _distinct_codes(codes, list(uniques), name)


def _arrow_column(column: Any, name: str) -> Tuple:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.Array):
        column = pa.chunked_array([column], type=column.type)
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = column.type
    if pa.types.is_boolean(t):
        raise FerriskError(
            f"column '{name}': boolean values are neither numbers nor categories; "
            "convert them to text or 0/1 first"
        )
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        values = pc.fill_null(column.cast(pa.float64()), float("nan"))
        return (name, "numbers", np.ascontiguousarray(values.to_numpy()).tobytes(), None)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or _is_string_view(pa, t):
        encoded = column.combine_chunks().dictionary_encode()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        return _distinct_codes(codes, encoded.dictionary.to_pylist(), name)
    raise FerriskError(f"column '{name}': Arrow type {t} is neither text nor a number")


def _is_string_view(pa: Any, t: Any) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check and check(t))


class Scorer:
    """A ferrisk model file, loaded and checked, ready to score frames.

    Load it with :meth:`Scorer.load`. A scorer is immutable and may be shared
    by threads; scoring releases the GIL.
    """

    __slots__ = ("_inner",)

    def __init__(self, inner: _Scorer):
        if not isinstance(inner, _Scorer):
            raise TypeError("use ferrisk.Scorer.load(path_or_bytes)")
        self._inner = inner

    @classmethod
    def load(cls, source: Any) -> "Scorer":
        """Loads a model file from a path (str or os.PathLike), its bytes
        (bytes, bytearray, memoryview) or a binary file object. A damaged,
        truncated or foreign file raises :class:`FerriskError`."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls(_Scorer.from_bytes(bytes(source)))
        if isinstance(source, (str, os.PathLike)):
            return cls(_Scorer.from_path(os.fspath(source)))
        if hasattr(source, "read"):
            data = source.read()
            if not isinstance(data, (bytes, bytearray)):
                raise FerriskError("the file object must be opened in binary mode ('rb')")
            return cls(_Scorer.from_bytes(bytes(data)))
        raise FerriskError(
            f"Scorer.load takes a path, bytes or a binary file, not {type(source).__name__}"
        )

    @property
    def features(self) -> List[Tuple[str, str]]:
        """The model's input columns: (name, "numeric" | "categorical")."""
        return self._inner.features

    @property
    def positive(self) -> str:
        """The positive class: the decision when probability >= threshold."""
        return self._inner.positive

    @property
    def negative(self) -> str:
        return self._inner.negative

    @property
    def threshold(self) -> float:
        return self._inner.threshold

    @property
    def sha256(self) -> str:
        """SHA-256 of the model file's body (as decision records name it)."""
        return self._inner.sha256

    @property
    def algorithm(self) -> str:
        return self._inner.algorithm

    @property
    def explanation_method(self) -> str:
        return self._inner.explanation_method

    def __repr__(self) -> str:
        return (
            f"<ferrisk.Scorer {self.algorithm}, {len(self.features)} features, "
            f"sha256 {self.sha256[:12]}>"
        )

    def predict(
        self,
        frame: Any,
        *,
        reasons: int = 0,
        contributions: bool = False,
        all_reasons: bool = False,
        lang: str = "en",
    ) -> Any:
        """Scores every row of a pandas DataFrame or a pyarrow Table /
        RecordBatch that has the model's feature columns (other columns are
        ignored).

        Returns a frame of the same kind and length (pandas keeps the input's
        index) with the columns

        - ``probability`` (float32, NaN for a row that failed),
        - ``decision`` (the positive or negative class, None when failed),
        - ``points`` (float32 scorecard points),
        - ``error`` (why the row failed, else None),
        - ``warnings`` (imputed values, unknown categories, values outside the
          training range, joined by "; ", else None),
        - with ``reasons=k``: ``reason_1`` .. ``reason_k``, the principal
          reason texts (for refused rows, or every row with ``all_reasons``),
        - with ``contributions=True``: ``contribution_<feature>`` (float32),
          each feature's share of the score in the explanation's unit.

        A bad value fails its row, as in ``ferrisk predict``; a missing
        feature column or an unusable column type raises FerriskError.
        """
        if not isinstance(reasons, int) or isinstance(reasons, bool) or reasons < 0:
            raise FerriskError(f"reasons must be a whole number >= 0, not {reasons!r}")
        columns, rows, kind = self._columns(frame)
        explain = reasons > 0 or contributions
        raw = self._inner.score_columns(
            columns,
            rows,
            explain=explain,
            reasons=reasons,
            reasons_always=all_reasons,
            lang=lang,
        )
        out = self._results(raw, rows, reasons, contributions)
        if kind == "pandas":
            import pandas as pd

            return pd.DataFrame(out, index=frame.index)
        import pyarrow as pa

        return pa.table(
            {
                name: pa.array(values, type=pa.float32() if values.dtype == np.float32 else pa.string())
                for name, values in out.items()
            }
        )

    def _columns(self, frame: Any) -> Tuple[List[Tuple], int, str]:
        names = [name for name, _ in self.features]
        if _is_pandas(frame):
            present = {str(c): c for c in frame.columns}
            kind, rows = "pandas", len(frame)
            get = lambda n: _pandas_column(frame[present[n]], n)  # noqa: E731
        elif _is_arrow(frame):
            present = {n: n for n in frame.schema.names}
            kind, rows = "arrow", frame.num_rows
            get = lambda n: _arrow_column(frame.column(n), n)  # noqa: E731
        else:
            raise FerriskError(
                "predict takes a pandas DataFrame or a pyarrow Table, "
                f"not {type(frame).__module__}.{type(frame).__name__}"
            )
        for n in names:
            if n not in present:
                raise FerriskError(f"frame has no column '{n}'")
        # In the frame's column order, as the CLI parses a row's cells in
        # header order (a row's error names the first bad cell).
        wanted = set(names)
        order = [n for n in present if n in wanted]
        return [get(n) for n in order], rows, kind

    def _results(
        self, raw: Dict[str, Any], rows: int, reasons: int, contributions: bool
    ) -> Dict[str, Any]:
        decision = np.frombuffer(raw["decision"], dtype=np.uint8)
        labels = np.empty(rows, dtype=object)
        labels[decision == 1] = self.positive
        labels[decision == 0] = self.negative
        labels[decision == 255] = None
        errors = np.full(rows, None, dtype=object)
        for row, message in raw["errors"]:
            errors[row] = message
        warnings = np.full(rows, None, dtype=object)
        for row, message in raw["warnings"]:
            warnings[row] = message
        out: Dict[str, Any] = {
            "probability": np.frombuffer(raw["probability"], dtype=np.float32).copy(),
            "decision": labels,
            "points": np.frombuffer(raw["points"], dtype=np.float32).copy(),
            "error": errors,
            "warnings": warnings,
        }
        if reasons > 0:
            texts = np.array(raw["reasons"], dtype=object).reshape(rows, reasons)
            for k in range(reasons):
                out[f"reason_{k + 1}"] = texts[:, k]
        if contributions:
            names = [name for name, _ in self.features]
            c = np.frombuffer(raw["contributions"], dtype=np.float32).reshape(rows, len(names))
            for i, name in enumerate(names):
                out[f"contribution_{name}"] = c[:, i].copy()
        return out

