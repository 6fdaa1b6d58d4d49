"""Reading and writing the workflow's tidy tables, and logging for the Snakemake scripts.

pandas is imported where a table is read or written, not at module level: a script that only
logs (``register_run``) then starts without it (~0.5 s).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from vdrbone.files import atomic_path, write_bytes_atomic

if TYPE_CHECKING:
    import pandas as pd

NA = "NA"


def write_tsv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a tidy table as TSV (NA for missing, full float precision), atomically.

    The text is that of ``df.to_csv(sep="\\t", index=False, na_rep="NA")``; a plain table of
    float64, integer and text columns is formatted by :func:`_tsv_text` (~2x faster at 10^5
    rows), anything else (and gzip) by pandas.
    """
    gz = Path(path).suffix == ".gz"
    text = None if gz else _tsv_text(df)
    with atomic_path(path, suffix=".gz" if gz else "") as tmp:
        if text is None:
            df.to_csv(tmp, sep="\t", index=False, na_rep=NA)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)


def write_header_tsv(columns: list[str], path: str | Path) -> None:
    """Write a table with no rows (its header line only), atomically and without pandas: the
    text :func:`write_tsv` writes for ``pd.DataFrame(columns=columns)`` (a job that is switched
    off, e.g. epistasis, then starts without importing pandas)."""
    if any(q in c for c in columns for q in _QUOTED):
        raise ValueError(f"write_header_tsv takes plain column names, got {columns!r}")
    write_bytes_atomic(("\t".join(columns) + "\n").encode("utf-8"), path)


# characters that make the csv writer behind DataFrame.to_csv quote a field (and NUL)
_QUOTED = ("\t", '"', "\n", "\r", "\x00")


def _tsv_text(df: pd.DataFrame) -> str | None:
    """The text ``df.to_csv(sep="\\t", index=False, na_rep="NA")`` writes, or None where this
    shortcut does not apply (other column types, text that the csv writer would quote, a single
    column, non-text column names).

    Column by column as pandas formats it: a float64 value as ``str`` of the NumPy float
    (shortest round-trip repr, the same text as Python's ``repr``), an integer as ``str``, text as
    is, NA for a missing value; each distinct value is formatted once (floats told apart by their
    bits, so -0.0 stays -0.0). tests/test_tables.py compares it with ``to_csv``.
    """
    import numpy as np
    import pandas as pd

    names = list(df.columns)
    if len(names) < 2 or not all(isinstance(c, str) for c in names):
        return None
    text, columns = list(names), []
    for j in range(len(names)):
        column = df.iloc[:, j]
        if not isinstance(column.dtype, np.dtype):  # extension types (Int64, category, ...)
            return None
        values = column.to_numpy()
        if values.dtype == np.float64:
            codes, distinct = pd.factorize(values.view(np.int64))
            numbers = distinct.view(np.float64)
            formatted = np.array([NA if x != x else repr(x) for x in numbers.tolist()], dtype=object)
            columns.append(formatted[codes].tolist())
        elif values.dtype.kind in "iu":
            codes, distinct = pd.factorize(values)
            columns.append(np.array([str(x) for x in distinct.tolist()], dtype=object)[codes].tolist())
        elif values.dtype == object:
            missing = pd.isna(values)
            present = values[~missing]
            if pd.api.types.infer_dtype(present, skipna=False) not in ("string", "empty"):
                return None
            values = values.copy()
            values[missing] = NA
            columns.append(values.tolist())
            text.append("".join(present))
        else:
            return None
    joined = "".join(text)
    if any(c in joined for c in _QUOTED):
        return None
    rows = map("\t".join, zip(*columns, strict=True))
    return os.linesep.join(["\t".join(names), *rows]) + os.linesep


def read_tsv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a table written by :func:`write_tsv` (sample ids stay strings)."""
    import pandas as pd

    dtype = kwargs.pop("dtype", {"sample": str, "variant": str})
    return pd.read_csv(path, sep="\t", na_values=[NA], keep_default_na=False, dtype=dtype, **kwargs)


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    """Write an individual-level work table (the long calls table) as Parquet (Apache Arrow,
    dictionary-encoded text), atomically: at 500,000 people about 7x faster to write and 5x
    faster to read than gzipped TSV, and every genotype-reading job reads it. Categorical text
    columns are stored with their dictionary as it is (no string hashing: ~2x faster to write
    at 10^5 samples, a third smaller, read back as fast) and :func:`read_parquet` returns them as
    text."""
    with atomic_path(path, suffix=".parquet") as tmp:
        df.to_parquet(tmp, index=False)


def read_parquet(
    path: str | Path, columns: list[str] | None = None, *, categorical: list[str] | None = None
) -> pd.DataFrame:
    """Read a table written by :func:`write_parquet`; missing text values come back as NaN, as
    :func:`read_tsv` gives them.

    ``columns``: read only those of these the file has (the text columns a job does not need are
    the slow part of reading the calls table). ``categorical``: text columns to return as pandas
    ``Categorical`` (straight from Parquet's dictionary encoding, no Python string per row;
    missing values are NaN codes) for readers that only compare or count their values.
    """
    import numpy as np
    import pandas as pd

    if columns is not None:
        import pyarrow.parquet as pq

        have = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in have]
    kwargs = {"read_dictionary": list(categorical)} if categorical else {}
    df = pd.read_parquet(path, columns=columns, **kwargs)
    for col in df.columns:  # written from Categorical columns: text again unless asked for
        if isinstance(df[col].dtype, pd.CategoricalDtype) and col not in (categorical or ()):
            df[col] = df[col].astype(object)
    for col in df.select_dtypes(include="object").columns:
        missing = df[col].isna()
        if missing.any():
            df[col] = df[col].where(~missing, np.nan)
    return df


def concat_tsv(paths: list[str | Path], out: str | Path) -> int:
    """Concatenate TSV files with identical headers into ``out`` (atomically); return data rows.

    Text concatenation keeps every value exactly as written (no re-typing of columns that are
    empty in one file); differing headers raise ValueError naming the file.
    """
    header, body = None, []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
            if header is None:
                header = first
            elif first != header:
                raise ValueError(f"{path}: header differs from {paths[0]}; cannot concatenate")
            body.extend(line if line.endswith("\n") else line + "\n" for line in fh if line.strip())
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(header or "")
        fh.writelines(body)
    return len(body)


@contextlib.contextmanager
def snakemake_logging(log_path: str | None):
    """Send logging and Python warnings of a Snakemake script to its ``log:`` file.

    An exception is written to the log with its message first (the part a user needs) and
    then re-raised so that the job fails and Snakemake removes its partial outputs.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)
    log = logging.getLogger("vdrbone")
    try:
        yield log
    except BaseException as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        log.debug("".join(traceback.format_exc()))
        raise
