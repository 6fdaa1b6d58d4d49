"""The phenotype table: reading, coding and validation; matching samples to the VCF.

Vocabulary of the coded table (the output of :func:`read_phenotypes`), one row per sample in
file order:

``sample``
    sample id (``str``, exactly as written after stripping blanks: ``"007"`` stays ``"007"``).
``sex``
    ``"female"``, ``"male"`` or ``<NA>`` (object column).
``t2dm``
    ``"yes"``, ``"no"`` or ``<NA>`` (object column).
one ``float64`` column per outcome key
    continuous / tscore outcomes as read; binary outcomes 1.0 (case), 0.0 (control), NaN.
``<key>.time``, ``<key>.entry``
    for a ``time_to_event`` outcome ``<key>`` (whose own column is the event indicator, 1.0 event,
    0.0 censored): follow-up time and, when configured, the delayed-entry time (same unit).
one ``float64`` column per covariate
    named as in the config.

Missing data: a cell is missing when its stripped text is empty or equals one of the stripped
``phenotype_coding.missing`` codes. Missing values are kept as NA/NaN; each analysis drops the
samples it cannot use (complete cases).

Plausibility rule for BMD: outcomes of type ``continuous`` are areal BMD in g/cm2 (see the
config schema) and must lie in [0.2, 2.5] (:data:`BMD_RANGE`); ``tscore`` outcomes have no range
check. An outcome may carry its own ``range: [lo, hi]`` (or ``range: null`` for none), which
overrides the default.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from vdrbone.errors import InputError
from vdrbone.phenotype_files import is_binary_table
from vdrbone.phenotype_files import read_table as read_binary_table
from vdrbone.strata import strata_masks

BMD_RANGE = (0.2, 2.5)
DELIMITERS = {"\t": "tab", ";": "semicolon", ",": "comma"}
MAX_SHOWN = 5
# How each outcome type is analysed (who_class outcomes are derived 0/1 outcomes).
OUTCOME_KINDS = {
    "continuous": "continuous",
    "tscore": "continuous",
    "binary": "binary",
    "who_class": "binary",
    "time_to_event": "time_to_event",
}


def outcome_kind(spec: dict) -> str:
    """``binary``, ``continuous`` or ``time_to_event``: how an outcome of the config is analysed."""
    return OUTCOME_KINDS[spec["type"]]


def time_column(key: str) -> str:
    """Column of the coded phenotype table holding the follow-up time of outcome ``key``."""
    return f"{key}.time"


def entry_column(key: str) -> str:
    """Column of the coded phenotype table holding the delayed-entry time of outcome ``key``."""
    return f"{key}.entry"


def _codes(values, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str | int | float):
        values = [values]
    return [str(v).strip() for v in values]


def _yes_no(cfg: dict, level: str):
    # YAML 1.1 reads unquoted yes/no as booleans: accept both spellings of the key.
    return cfg.get(level, cfg.get(level == "yes"))


def _detect_delimiter(header_line: str) -> str:
    """The delimiter (tab, semicolon, comma) that splits the header into the most fields."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: tab, then semicolon, then comma
    return best if counts[best] > 0 else "\t"


def _with_labels(mapping: dict, labels: dict[str, str] | None) -> dict:
    """``mapping`` (code -> level) extended so that a stored value whose value label is a code maps
    like that code (``1 = "Female"`` with ``female: [Female]`` accepts ``1``)."""
    if not labels:
        return mapping
    out = dict(mapping)
    for stored, label in labels.items():
        if label.strip() in mapping and stored not in mapping:
            out[stored] = mapping[label.strip()]
    return out


def _show(rows: list[tuple[int, str]]) -> str:
    shown = "; ".join(f"line {line}: {value!r}" for line, value in rows[:MAX_SHOWN])
    more = f" (and {len(rows) - MAX_SHOWN} more)" if len(rows) > MAX_SHOWN else ""
    return shown + more


def _read_table(path: Path) -> tuple[list[str], list[list[str]], list[int], str]:
    """Header, columns (stripped strings, one list per header column) and the file line number
    of every row. Blank rows are skipped; a row with another number of fields than the header
    raises InputError naming its line."""
    if not path.exists():
        raise InputError(f"phenotype file {path} does not exist")
    if not path.is_file():
        raise InputError(f"phenotype file {path} is not a regular file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError(
            f"{path} line {line}: not valid UTF-8 ({err.reason} at byte {err.start}); "
            "save the table as UTF-8 (with or without BOM)"
        ) from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first:
        raise InputError(f"{path}: the phenotype file is empty")
    delimiter = _detect_delimiter(first)
    split = _split_unquoted(text, delimiter, path=path)
    if split is None:
        split = _split_csv(text, delimiter, path=path)
    return (*split, DELIMITERS[delimiter])


def _split_csv(text: str, delimiter: str, *, path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """:func:`_read_table`'s header, columns and line numbers, read by ``csv.reader`` (quoted
    fields may hold delimiters and line breaks)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows, lines = [], []
    for fields in reader:
        if not fields or all(not f.strip() for f in fields):
            continue
        fields = [f.strip() for f in fields]
        if header is None:
            header = fields
            width = len(header)
            continue
        if len(fields) != width:
            raise InputError(
                f"{path} line {reader.line_num}: {len(fields)} fields, expected {width} as in the header "
                f"(delimiter detected: {DELIMITERS[delimiter]})"
            )
        rows.append(fields)
        lines.append(reader.line_num)
    assert header is not None
    _check_header(header, path)
    return header, _columns(rows, len(header)), lines


def _check_header(header: list[str], path: Path) -> None:
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise InputError(f"{path} line 1: column name(s) {', '.join(map(repr, dup))} appear more than once")


def _columns(rows: list[list[str]], width: int) -> list[list[str]]:
    """Rows of equal width as one list per column."""
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


# whitespace that str.strip() removes, besides the line end "\n" (ASCII; other text is stripped)
_ASCII_BLANKS = " \t\x0b\x0c\x1c\x1d\x1e\x1f"


def _split_unquoted(text: str, delimiter: str, *, path: Path):
    """:func:`_split_csv` for a text without quote characters, faster at 10^5 rows; None when
    the text needs the ``csv`` reader (quotes, NUL, a lone CR, no header).

    Without quotes every physical line is one row and its fields are the line split at the
    delimiter, exactly as ``csv.reader`` reads it; so the rows are split as one string (all data
    lines joined) and sliced into columns, and fields are stripped only when the text has
    whitespace other than the delimiter and the line ends (tests/test_phenotypes.py compares
    the two on awkward tables).
    """
    if '"' in text or "\x00" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")  # one line end, as csv.reader counts it
        if "\r" in text:
            return None
    lines = text.split("\n")
    # a blank row: every field empty after stripping (csv.reader's [] for an empty line too)
    kept = [i for i, ln in enumerate(lines) if ln.replace(delimiter, "").strip()]
    if not kept:
        return None  # no header: the csv reader path says so
    header_at, data = kept[0], kept[1:]
    header = [f.strip() for f in lines[header_at].split(delimiter)]
    width = len(header)
    for i in data:
        if lines[i].count(delimiter) != width - 1:
            n_fields = lines[i].count(delimiter) + 1
            raise InputError(  # as _split_csv's message
                f"{path} line {i + 1}: {n_fields} fields, expected {width} as in the header "
                f"(delimiter detected: {DELIMITERS[delimiter]})"
            )
    _check_header(header, path)
    flat = delimiter.join(lines[i] for i in data).split(delimiter) if data else []
    columns = [flat[j::width] for j in range(width)]
    blanks = _ASCII_BLANKS.replace(delimiter, "")
    if not text.isascii() or any(c in text for c in blanks):
        columns = [[f.strip() for f in col] for col in columns]
    return header, columns, [i + 1 for i in data]


def _parse_numeric(
    values: list[str | None], lines: list[int], *, path: Path, column: str, what: str
) -> np.ndarray:
    try:  # the common case: every value a finite number or missing
        out = np.array([math.nan if v is None else float(v) for v in values], dtype=float)
        if np.isfinite(out).sum() == len(values) - values.count(None):  # every present value finite
            return out
    except ValueError:
        pass
    out = np.full(len(values), np.nan)  # else value by value, to name the offending ones
    bad = []
    for i, v in enumerate(values):
        if v is None:
            continue
        try:
            x = float(v)
        except ValueError:
            x = math.nan
        if not math.isfinite(x):
            bad.append((lines[i], v))
        else:
            out[i] = x
    if bad:
        hint = ""
        if any(re.fullmatch(r"[+-]?\d+,\d+", v) for _, v in bad):
            hint = " (a decimal comma? write 0.85, not 0,85)"
        raise InputError(
            f"{path}, column {column!r} ({what}): {len(bad)} non-numeric value(s){hint}: {_show(bad)}; "
            "expected a number or a missing code"
        )
    return out


def read_phenotypes(
    path: str | Path,
    *,
    sample_column: str,
    coding: dict,
    outcomes: dict,
    covariates: list[str],
    tscore_reference: pd.DataFrame | None = None,
    interactions: list[dict] | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read, code and validate a phenotype table (TSV, CSV or semicolon-separated; Stata, SPSS,
    SAS, Excel or Parquet through :mod:`vdrbone.phenotype_files`).

    Parameters
    ----------
    path
        Text table, UTF-8 with or without BOM, LF or CRLF line ends; the delimiter (tab,
        semicolon or comma) is the one that splits the header into the most fields. Every
        value is read as a string and stripped; ids are never converted to numbers. ``.dta``,
        ``.sav``, ``.sas7bdat``, ``.xlsx`` and ``.parquet`` files give the same strings (row
        numbers in messages count the header as line 1), and their value labels may be used as
        codes (sex, T2DM, binary outcomes, missing codes) in place of the stored values.
    sample_column
        Column holding the sample ids (matched to the VCF sample names).
    coding
        ``Settings.phenotype_coding``: ``sex: {column, female, male}``,
        ``t2dm: {column, yes, no}``, ``missing: [codes]``.
    outcomes
        ``Settings.outcomes``: ``{key: {column, type, label, case, control, [range]}}``.
    covariates
        Numeric covariate columns.
    tscore_reference
        Young-adult reference table for ``who_class`` outcomes (see :mod:`vdrbone.tscore`);
        default the bundled ``resources/tscore_reference.tsv``.
    interactions
        ``Settings.interactions``: ``[{column, type, levels}]``; a continuous modifier column is
        numeric, a categorical one is kept as text (object column, NA missing) and every value
        must be one of ``levels`` when they are given.
    sheet
        Excel sheet (``cohort.phenotype_sheet``: name or number from 1; None: the first).

    Returns
    -------
    pandas.DataFrame
        Columns ``sample, sex, t2dm, <outcome keys>, <covariates>`` (see the module docstring);
        ``df.attrs['warnings']`` lists non-fatal findings, each naming the file and the column
        (sex or T2DM column without any value, outcome or covariate column without values, binary
        outcome without cases or controls). Constant covariates are checked on the analysed
        samples by :func:`covariate_warnings`.

    Raises
    ------
    InputError
        Missing file or columns, empty or duplicated sample ids, unknown sex/T2DM/binary codes,
        non-numeric or implausible values; the message names the file and column and shows the
        first offending lines (file line numbers, header = line 1) and values.
    """
    path = Path(path)
    missing_codes = set(_codes(coding.get("missing", []), "missing")) | {""}
    sex_cfg, t2dm_cfg = coding["sex"], coding["t2dm"]
    sex_map = {c: "female" for c in _codes(sex_cfg["female"], "female")}
    t2dm_map = {c: "yes" for c in _codes(_yes_no(t2dm_cfg, "yes"), "yes")}
    for c in _codes(sex_cfg["male"], "male"):
        if c in sex_map:
            raise InputError(f"config phenotype_coding.sex: code {c!r} is listed as both female and male")
        sex_map[c] = "male"
    for c in _codes(_yes_no(t2dm_cfg, "no"), "no"):
        if c in t2dm_map:
            raise InputError(f"config phenotype_coding.t2dm: code {c!r} is listed as both yes and no")
        t2dm_map[c] = "no"
    for name, mapping in (("sex", sex_map), ("t2dm", t2dm_map)):
        clash = sorted(set(mapping) & missing_codes)
        if clash:
            raise InputError(f"config phenotype_coding.{name}: code(s) {clash} are also missing codes")
    reserved = {"sample", "sex", "t2dm"}
    names = list(outcomes) + list(covariates)
    clash = sorted({n for n in names if n in reserved or names.count(n) > 1})
    if clash:
        raise InputError(
            "config: outcome keys and covariates must be unique and not 'sample', 'sex' or 't2dm'; "
            f"got {clash}"
        )

    labels: dict[str, dict[str, str]] = {}
    if is_binary_table(path):
        header, rows, lines, delim, labels = read_binary_table(path, sheet=sheet)
        columns = _columns(rows, len(header))
    else:
        header, columns, lines, delim = _read_table(path)
        delim = f"delimiter detected: {delim}"
    needed = {sample_column: "sample ids", sex_cfg["column"]: "sex", t2dm_cfg["column"]: "T2DM status"}
    for key, spec in outcomes.items():
        if spec["type"] == "time_to_event":
            for role in ("time", "event", "entry"):
                if spec.get(role):
                    needed.setdefault(spec[role], f"{role} of outcome {key}")
        elif spec["type"] != "who_class":
            needed.setdefault(spec["column"], f"outcome {key}")
    for cov in covariates:
        needed.setdefault(cov, "covariate")
    for spec in interactions or []:
        needed.setdefault(spec["column"], "interaction modifier")
    absent = [f"{c!r} ({what})" for c, what in needed.items() if c not in header]
    if absent:
        raise InputError(
            f"{path}: missing column(s) {', '.join(absent)}; the file has columns "
            f"{', '.join(map(repr, header))} ({delim})"
        )
    if not lines:
        raise InputError(f"{path}: the phenotype table has a header but no rows")
    idx = {c: i for i, c in enumerate(header)}

    def column(name: str) -> list[str | None]:
        missing = _with_labels(dict.fromkeys(missing_codes), labels.get(name))  # code -> None
        values = columns[idx[name]]
        return list(map(missing.get, values, values))  # None for a missing code, else the value

    ids = list(columns[idx[sample_column]])
    empty = [(ln, s) for ln, s in zip(lines, ids, strict=True) if s == ""]
    if empty:
        raise InputError(f"{path}, column {sample_column!r}: empty sample id at {_show(empty)}")
    if len(set(ids)) < len(ids):
        first_line: dict[str, int] = {}
        dups = []
        for ln, s in zip(lines, ids, strict=True):
            if s in first_line:
                dups.append((ln, f"{s} (first at line {first_line[s]})"))
            else:
                first_line[s] = ln
        raise InputError(f"{path}, column {sample_column!r}: duplicated sample id(s): {_show(dups)}")

    out: dict[str, object] = {"sample": pd.Series(ids, dtype=object)}
    for name, cfg, mapping in (("sex", sex_cfg, sex_map), ("t2dm", t2dm_cfg, t2dm_map)):
        mapping = _with_labels(mapping, labels.get(cfg["column"]))
        values = column(cfg["column"])
        bad = [(ln, v) for ln, v in zip(lines, values, strict=True) if v is not None and v not in mapping]
        if bad:
            accepted = ", ".join(f"{c!r}={lvl}" for c, lvl in mapping.items())
            raise InputError(
                f"{path}, column {cfg['column']!r} ({name}): unknown code(s) {_show(bad)}; accepted codes: "
                f"{accepted}; missing codes: {', '.join(map(repr, sorted(missing_codes)))}"
            )
        out[name] = pd.Series([pd.NA if v is None else mapping[v] for v in values], dtype=object)

    warnings: list[str] = []
    for key, spec in outcomes.items():
        kind = spec["type"]
        if kind == "who_class":
            continue  # derived below, from the BMD outcome it names
        if kind == "time_to_event":
            out.update(_time_to_event(key, spec, column, lines, path=path, missing_codes=missing_codes))
            n_events = int(np.nansum(out[key]))
            if n_events == 0:
                warnings.append(f"outcome {key} ({spec['event']}): no events")
            continue
        col = spec["column"]
        values = column(col)
        if kind == "binary":
            case, control = _codes(spec.get("case"), "case"), _codes(spec.get("control"), "control")
            if not case or not control:
                raise InputError(f"config outcomes.{key}: a binary outcome needs 'case' and 'control' codes")
            if set(case) & set(control):
                raise InputError(
                    f"config outcomes.{key}: code(s) {sorted(set(case) & set(control))} "
                    "are both case and control"
                )
            code = _with_labels({c: 1.0 for c in case} | {c: 0.0 for c in control}, labels.get(col))
            bad = [(ln, v) for ln, v in zip(lines, values, strict=True) if v is not None and v not in code]
            if bad:
                raise InputError(
                    f"{path}, column {col!r} (binary outcome {key}): value(s) neither case nor control: "
                    f"{_show(bad)}; case codes {case}, control codes {control}, missing codes "
                    f"{sorted(missing_codes)}"
                )
            arr = np.array([np.nan if v is None else code[v] for v in values], dtype=float)
            n_case, n_control = int((arr == 1).sum()), int((arr == 0).sum())
            if n_case == 0 or n_control == 0:
                warnings.append(
                    f"outcome {key}: column {col!r} in {path}: {n_case} cases and {n_control} controls"
                )
        elif kind in ("continuous", "tscore"):
            arr = _parse_numeric(values, lines, path=path, column=col, what=f"{kind} outcome {key}")
            default = BMD_RANGE if kind == "continuous" else None
            rng = spec.get("range", default)
            if rng is not None:
                lo, hi = float(rng[0]), float(rng[1])
                outside = np.flatnonzero(~np.isnan(arr) & ~((lo <= arr) & (arr <= hi)))
                bad = [(lines[i], values[i]) for i in outside]
                if bad:
                    unit = " g/cm2 (areal BMD)" if rng == default else ""
                    raise InputError(
                        f"{path}, column {col!r} (outcome {key}): {len(bad)} implausible value(s) outside "
                        f"{lo:g}-{hi:g}{unit}: {_show(bad)}; T-scores need outcome type 'tscore', "
                        "mg/cm2 must be divided by 1000"
                    )
            if np.isnan(arr).all():
                warnings.append(f"outcome {key}: column {col!r} in {path}: every value is missing")
        else:
            raise InputError(
                f"config outcomes.{key}: unknown type {kind!r}; expected one of {', '.join(OUTCOME_KINDS)}"
            )
        out[key] = arr
    derived = {k: s for k, s in outcomes.items() if s["type"] == "who_class"}
    if derived:
        from vdrbone.tscore import who_class_outcomes

        sex = pd.Series(out["sex"])
        out.update(who_class_outcomes(derived, out, sex=sex, outcomes=outcomes, reference=tscore_reference))
        for key in derived:
            n_case = int(np.nansum(out[key]))
            if n_case == 0 or n_case == int(np.isfinite(out[key]).sum()):
                warnings.append(
                    f"outcome {key} (derived): {n_case} cases of {int(np.isfinite(out[key]).sum())}"
                )
    for cov in covariates:
        arr = _parse_numeric(column(cov), lines, path=path, column=cov, what="covariate")
        if np.isnan(arr).all():
            warnings.append(f"covariate column {cov!r} in {path}: every value is missing")
        out[cov] = arr
    for spec in interactions or []:
        col = spec["column"]
        if col in out:
            continue  # a covariate too: already numeric
        if spec.get("type", "continuous") == "continuous":
            out[col] = _parse_numeric(column(col), lines, path=path, column=col, what="interaction modifier")
            continue
        values = column(col)
        levels = _codes(spec.get("levels"), "levels")
        bad = [
            (ln, v)
            for ln, v in zip(lines, values, strict=True)
            if levels and v is not None and v not in levels
        ]
        if bad:
            raise InputError(
                f"{path}, column {col!r} (categorical interaction modifier): value(s) not among the "
                f"configured levels {levels}: {_show(bad)}"
            )
        out[col] = pd.Series([pd.NA if v is None else v for v in values], dtype=object)
    df = pd.DataFrame(out)
    for name, what, cfg in (("sex", "sex", sex_cfg), ("t2dm", "T2DM", t2dm_cfg)):
        if df[name].isna().all():
            warnings.append(
                f"{what} column {cfg['column']!r} in {path}: every value is missing; "
                f"the {what} strata will be empty and no model adjusts for {what}"
            )
    df.attrs["warnings"] = warnings
    return df


def _time_to_event(key: str, spec: dict, column, lines, *, path: Path, missing_codes) -> dict:
    """Event indicator, follow-up time and entry time of one ``time_to_event`` outcome.

    ``event_codes`` / ``censor_codes`` code the event column (1.0 / 0.0); times must be positive
    numbers and an entry time must lie in [0, time); a sample with any of them missing is NaN in
    all three (it cannot contribute follow-up).
    """
    ev_codes = _codes(spec.get("event_codes", ["1"]), "event_codes")
    cens_codes = _codes(spec.get("censor_codes", ["0"]), "censor_codes")
    if set(ev_codes) & set(cens_codes):
        raise InputError(
            f"config outcomes.{key}: code(s) {sorted(set(ev_codes) & set(cens_codes))} are both "
            "event and censor codes"
        )
    code = {c: 1.0 for c in ev_codes} | {c: 0.0 for c in cens_codes}
    values = column(spec["event"])
    bad = [(ln, v) for ln, v in zip(lines, values, strict=True) if v is not None and v not in code]
    if bad:
        raise InputError(
            f"{path}, column {spec['event']!r} (event of outcome {key}): value(s) neither event nor "
            f"censored: {_show(bad)}; event codes {ev_codes}, censor codes {cens_codes}, missing codes "
            f"{sorted(missing_codes)}"
        )
    event = np.array([np.nan if v is None else code[v] for v in values], dtype=float)
    time = _parse_numeric(
        column(spec["time"]), lines, path=path, column=spec["time"], what=f"time of outcome {key}"
    )
    bad = [(ln, f"{t:g}") for ln, t in zip(lines, time, strict=True) if not np.isnan(t) and t <= 0]
    if bad:
        raise InputError(
            f"{path}, column {spec['time']!r} (time of outcome {key}): {len(bad)} value(s) not > 0: "
            f"{_show(bad)}"
        )
    out = {time_column(key): time}
    if spec.get("entry"):
        entry = _parse_numeric(
            column(spec["entry"]), lines, path=path, column=spec["entry"], what=f"entry time of outcome {key}"
        )
        bad = [
            (ln, f"entry {a:g}, time {t:g}")
            for ln, a, t in zip(lines, entry, time, strict=True)
            if not np.isnan(a) and not np.isnan(t) and not 0 <= a < t
        ]
        if bad:
            raise InputError(
                f"{path}, column {spec['entry']!r} (entry of outcome {key}): {len(bad)} sample(s) without "
                f"0 <= entry < time ({spec['time']}): {_show(bad)}"
            )
        out[entry_column(key)] = entry
    cols = list(out.values()) + [event]
    missing = np.isnan(np.column_stack(cols)).any(axis=1)
    for name in out:
        out[name] = np.where(missing, np.nan, out[name])
    out[key] = np.where(missing, np.nan, event)
    return out


def covariate_warnings(
    pheno: pd.DataFrame, covariates: list[str], strata: list[str], *, path: str = ""
) -> list[str]:
    """Covariates that no model can use: constant (or without values) in every stratum.

    Checked on the analysed samples (``pheno`` after matching to the VCF) in each configured
    stratum that has a value; such a covariate is dropped from every stratum's models (see
    :func:`vdrbone.association.stratum_design`), so the run says so at its start.
    """
    where = f" in {path}" if path else ""
    masks = strata_masks(pheno, strata)
    out = []
    for cov in covariates:
        x = pd.to_numeric(pheno[cov], errors="coerce").to_numpy(dtype=float)
        values = [x[m & np.isfinite(x)] for m in masks.values()]
        values = [v for v in values if v.size]
        if not values:
            out.append(f"covariate column {cov!r}{where}: no value among the {len(pheno)} analysed samples")
        elif all(np.ptp(v) == 0 for v in values):
            shown = ", ".join(f"{v:g}" for v in dict.fromkeys(float(v[0]) for v in values))
            out.append(
                f"covariate column {cov!r}{where}: constant in every stratum (value {shown}) among the "
                f"{len(pheno)} analysed samples; it is dropped from every model"
            )
    return out


def _normalisations() -> dict[str, callable]:
    return {
        "leading zeros removed": lambda s: s.lstrip("0") or "0",
        "letter prefix removed": lambda s: re.sub(r"^[A-Za-z_-]+", "", s),
        "part after the last '_' (FID_IID)": lambda s: s.rsplit("_", 1)[-1],
        "part before the first '_'": lambda s: s.split("_", 1)[0],
        "case ignored": str.lower,
    }


def match_samples(
    pheno_ids: list[str],
    vcf_ids: list[str],
    *,
    min_overlap: float,
    pheno_path: str = "",
    vcf_path: str = "",
    sample_column: str = "",
) -> tuple[pd.DataFrame, list[str]]:
    """Match phenotype sample ids to VCF sample names (exact string equality).

    Returns
    -------
    summary : pandas.DataFrame
        Rows ``in_vcf, in_phenotypes, in_both, only_vcf, only_phenotypes`` with columns
        ``measure, n, examples`` (up to 5 ids, comma-separated; individual-level, keep it in
        the run's working folder).
    matched : list of str
        Ids present in both, in VCF order.

    Raises
    ------
    InputError
        Duplicated VCF ids, no overlap, or ``in_both / n_phenotype_samples < min_overlap``;
        the message (one line) starts with ``no sample overlap`` or ``too little sample
        overlap``, shows up to 5 ids from each side with their file (and the phenotype table's
        ``sample_column``) and which id normalisation (leading zeros, prefixes, FID_IID) would
        have matched more samples.
    """
    if not 0 <= min_overlap <= 1:
        raise ValueError(f"min_overlap must lie in [0, 1], got {min_overlap}")
    pheno_ids, vcf_ids = [str(s) for s in pheno_ids], [str(s) for s in vcf_ids]
    for what, ids, where in (("VCF", vcf_ids, vcf_path), ("phenotype", pheno_ids, pheno_path)):
        if len(set(ids)) == len(ids):
            continue
        seen, dup = set(), []
        for s in ids:
            if s in seen and s not in dup:
                dup.append(s)
            seen.add(s)
        if dup:
            raise InputError(f"{where or what}: duplicated {what} sample id(s) {dup[:MAX_SHOWN]}")
    pheno_set, vcf_set = set(pheno_ids), set(vcf_ids)
    matched = [s for s in vcf_ids if s in pheno_set]
    only_vcf = [s for s in vcf_ids if s not in pheno_set]
    only_pheno = [s for s in pheno_ids if s not in vcf_set]

    def ex(ids: list[str]) -> str:
        return ", ".join(ids[:MAX_SHOWN])

    summary = pd.DataFrame(
        [
            ("in_vcf", len(vcf_ids), ex(vcf_ids)),
            ("in_phenotypes", len(pheno_ids), ex(pheno_ids)),
            ("in_both", len(matched), ex(matched)),
            ("only_vcf", len(only_vcf), ex(only_vcf)),
            ("only_phenotypes", len(only_pheno), ex(only_pheno)),
        ],
        columns=["measure", "n", "examples"],
    )
    fraction = len(matched) / len(pheno_ids) if pheno_ids else 0.0
    if not matched or fraction < min_overlap:
        hints = []
        for name, f in _normalisations().items():
            a, b = {f(s) for s in pheno_ids}, {f(s) for s in vcf_ids}
            # normalise one side, or both
            n_best = max(len(a & vcf_set), len(pheno_set & b), len(a & b))
            if n_best > len(matched):
                hints.append(f"{name}: {n_best} would match")
        hint = ("; with ids normalised - " + "; ".join(hints)) if hints else ""
        what = "no sample overlap" if not matched else "too little sample overlap"
        source = (pheno_path or "phenotype table") + (f", column {sample_column!r}" if sample_column else "")
        raise InputError(
            f"{what}: only {len(matched)} of {len(pheno_ids)} phenotype samples ({fraction:.1%}) "
            f"are in the VCF (minimum {min_overlap:.0%}). Phenotype ids ({source}): "
            f"{ex(pheno_ids)}; VCF ids ({vcf_path or 'VCF'}): {ex(vcf_ids)}. The usual cause is an ID "
            "format mismatch: prefixes ('S007' vs '007'), leading zeros ('7' vs '007') or PLINK-style "
            f"FID_IID names in the VCF ('FAM1_007'){hint}. Fix the ids in the phenotype table "
            "(cohort.sample_column)"
        )
    return summary, matched
