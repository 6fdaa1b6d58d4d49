"""Phenotype tables from statistical packages and spreadsheets: Stata, SPSS, SAS, Excel, Parquet.

Each reader gives what the text reader of :mod:`vdrbone.phenotypes` gives - a header, rows of
stripped strings and the row number of every row (the header is row 1, so an Excel row number is
the spreadsheet's) - plus the value labels of each column, so that coding, validation and the
messages (file, row, column) are the same for every format.

==============  ============================  ====================================================
extension       read with                     value labels
==============  ============================  ====================================================
``.dta``        pyreadstat (Stata)            Stata value labels
``.sav``/``.zsav``  pyreadstat (SPSS)         SPSS value labels
``.sas7bdat``   pyreadstat (SAS)              none (format catalogs are not read)
``.xlsx``       openpyxl (sheet from config)  none
``.parquet``    pyarrow                       none (dictionary columns read as their values)
==============  ============================  ====================================================

Values become text as a TSV would hold them: integers (also whole floats such as Stata's
``1.0``) without decimals, other floats in their shortest round-trip form (``0.953``), dates in
ISO form; system-missing values (Stata ``.``, SPSS sysmis, SAS ``.``, empty cells, nulls) are
empty, i.e. missing. A value label (``1 = "Female"``) may be used as a code in
``phenotype_coding`` and ``outcomes`` case/control codes in place of the stored value.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from vdrbone.errors import InputError

FORMATS = {
    ".dta": "Stata .dta",
    ".sav": "SPSS .sav",
    ".zsav": "SPSS .zsav",
    ".sas7bdat": "SAS .sas7bdat",
    ".xlsx": "Excel .xlsx",
    ".xlsm": "Excel .xlsm",
    ".parquet": "Parquet",
}


def is_binary_table(path: Path) -> bool:
    """True for the formats read here (by extension); TSV/CSV text goes to the text reader."""
    return Path(path).suffix.lower() in FORMATS


def _text(value) -> str:
    """A cell as the text a TSV would hold (empty for missing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _text(value.item())
    return str(value).strip()


def read_table(path: Path, *, sheet: str | int | None = None):
    """Header, rows (stripped strings), row numbers, a description of the format, value labels.

    ``value labels``: {column: {stored value as text: label}} (Stata, SPSS). ``sheet``: the Excel
    sheet, by name or number counting from 1 (``cohort.phenotype_sheet``; None: the first).
    Raises InputError naming the file (and the sheet) when it cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"phenotype file {path} does not exist")
    ext = path.suffix.lower()
    kind = FORMATS[ext]
    labels: dict[str, dict[str, str]] = {}
    try:
        if ext in (".dta", ".sav", ".zsav", ".sas7bdat"):
            header, data, labels = _readstat(path, ext)
        elif ext in (".xlsx", ".xlsm"):
            header, data, kind = _excel(path, sheet)
        else:
            header, data = _parquet(path)
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - each library raises its own errors
        raise InputError(f"{path}: cannot read it as {kind} ({type(err).__name__}: {err})") from None
    header = [_text(h) for h in header]
    if not header or all(not h for h in header):
        raise InputError(f"{path}: the phenotype file has no header ({kind})")
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise InputError(f"{path} line 1: column name(s) {', '.join(map(repr, dup))} appear more than once")
    rows, lines = [], []
    for i, values in enumerate(data, start=2):
        fields = [_text(v) for v in values]
        if all(not f for f in fields):
            continue  # an empty row, as the text reader skips blank lines
        rows.append(fields + [""] * (len(header) - len(fields)))
        lines.append(i)
    return header, rows, lines, kind, labels


def _readstat(path: Path, ext: str):
    import pyreadstat

    read = {
        ".dta": pyreadstat.read_dta,
        ".sav": pyreadstat.read_sav,
        ".zsav": pyreadstat.read_sav,
        ".sas7bdat": pyreadstat.read_sas7bdat,
    }[ext]
    # stored values, never their labels (SAS: no catalog file is read, so none are applied)
    options = {} if ext == ".sas7bdat" else {"apply_value_formats": False}
    frame, meta = read(str(path), **options)
    labels = {
        column: {_text(value): str(label) for value, label in mapping.items()}
        for column, mapping in (meta.variable_value_labels or {}).items()
    }
    data = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    return list(frame.columns), data, labels


def _excel(path: Path, sheet):
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    names = book.sheetnames
    if sheet is None:
        ws = book[names[0]]
    elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
        k = int(sheet)
        if not 1 <= k <= len(names):
            raise InputError(
                f"{path}: cohort.phenotype_sheet {sheet} is not a sheet number (the workbook has "
                f"{len(names)} sheet(s): {', '.join(map(repr, names))})"
            )
        ws = book[names[k - 1]]
    elif sheet in names:
        ws = book[sheet]
    else:
        raise InputError(
            f"{path}: no sheet {sheet!r} (cohort.phenotype_sheet); the workbook has the sheet(s) "
            f"{', '.join(map(repr, names))}"
        )
    rows = ws.iter_rows(values_only=True)
    header = next(rows, ())
    while header and header[-1] is None:
        header = header[:-1]
    data = [r[: len(header)] for r in rows]
    book.close()
    return list(header), data, f"Excel .xlsx, sheet {ws.title!r}"


def _parquet(path: Path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns = [col.to_pylist() for col in table.columns]
    return list(table.column_names), list(zip(*columns, strict=True)) if columns else []
