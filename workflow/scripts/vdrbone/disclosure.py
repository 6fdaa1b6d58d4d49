"""Disclosure control of shareable outputs: small-cell suppression, in one place.

A count ``x`` of people (or alleles) is *small* when ``0 < x < k`` for the run's threshold
``k`` (``report.suppress_below``; 0 or 1 switches suppression off). Small counts are shown as
``<k``; frequencies, means and SDs of a small cell are withheld; counts that add up to a total
shown beside them get complementary (secondary) suppression, so the total cannot give a
suppressed cell back (Hundepool et al. 2012, *Statistical Disclosure Control*, ch. 4 and 5).

Used by the report (:mod:`vdrbone.report`), the shareable copies of the tables
(:func:`write_shareable_table`) and the meta-analysis (:func:`vdrbone.meta.suppress_combined`).
"""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pandas as pd

from vdrbone.files import atomic_path
from vdrbone.tables import NA, read_tsv, write_tsv

# Columns holding counts of people or alleles: small cells are suppressed in shareable outputs.
COUNT_COLUMNS = {
    "n",
    "n_cases",
    "n_controls",
    "n_called",
    "n_samples",
    "n_hom_other",
    "n_het",
    "n_hom_effect",
    "n_carriers",
    "n_missing",
    "n_missing_cases",
    "n_missing_controls",
    "n_heteroplasmic",
    "n_het_haploid",
    "n_other_allele",
    "n_low_gp",
    "n_other_ploidy",
    "n_records",
    "n_chromosomes",
    "n_obs",
    "count",
    "n_risk",
    "n_event",
    "n_censor",
}
# Proportions whose numerator or denominator is a count of the same row: withheld whenever any
# count of the row is suppressed (a frequency beside a total gives the count back).
FREQUENCY_COLUMNS = {
    "effect_allele_freq", "carrier_freq", "call_rate", "missing_rate", "freq_cases", "freq_controls",
    "freq", "frequency", "freq1", "freq2", "f_miss_cases", "f_miss_controls", "surv",
}  # fmt: skip
# Counts that add up to a total shown beside them (in the row, or over the rows of a group):
# when one is suppressed, the next smallest is too, so the total cannot give it back.
COMPLEMENT_SETS = (("n_hom_other", "n_het", "n_hom_effect"), ("n_cases", "n_controls"))
# Row groups of the descriptive tables whose counts add up to the stratum's totals.
GROUP_KEYS = ("outcome", "variant", "stratum")
# Columns derived from counts (frequency, mean...): withheld when one of those counts is suppressed
# (``n_obs``: the people with a value, in table1.tsv).
DERIVED_COLUMNS = {
    "freq_cases": ("n_cases",),
    "freq_controls": ("n_controls",),
    "freq": ("n",),
    "carrier_freq": ("n_carriers",),
    "mean": ("n", "n_obs"),
    "sd": ("n", "n_obs"),
    "median": ("n", "n_obs"),
}
# Free-text columns that may embed counts ("n=12", "A:801,G:3", "TT=3;Tt=40").
_TEXT_COUNT = re.compile(r"(\b(?:n|n_cases|n_controls)=|\b[ACGT]:|\b[A-Za-z/ ]+=)(\d+)")
_TEXT_COLUMNS = ("note", "reason", "genotype_counts", "alleles_observed")


def _finite(value) -> bool:
    try:
        return value is not None and value is not pd.NA and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def is_small(value, k: int) -> bool:
    """True when ``value`` is a count that suppression at threshold ``k`` hides: ``0 < value < k``.

    Missing values, zero and any count when ``k`` <= 1 (suppression off) are not small.
    """
    return k > 1 and _finite(value) and 0 < float(value) < k


def small_mask(values, k: int) -> np.ndarray:
    """Element-wise :func:`is_small` of an array-like of counts (non-numbers are not small)."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    if k <= 1:
        return np.zeros(x.shape, dtype=bool)
    x = np.nan_to_num(x)
    return (x > 0) & (x < k)


def suppress_count(value, threshold: int) -> str:
    """A count as text: ``""`` for missing, ``"<k"`` when 0 < value < ``threshold``, else the integer."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return ""
    if is_small(number, threshold):
        return f"<{threshold}"
    return str(int(round(number)))


def suppress_text(text, threshold: int):
    if threshold <= 1 or not isinstance(text, str):
        return text

    def repl(m):
        n = int(m.group(2))
        return m.group(1) + (f"<{threshold}" if is_small(n, threshold) else m.group(2))

    return _TEXT_COUNT.sub(repl, text)


def _complementary(out: pd.DataFrame, numbers: dict, small_by_col: dict) -> None:
    """Secondary suppression of the counts in :data:`COMPLEMENT_SETS` (updates ``small_by_col``).

    Within a row, and over the genotype rows of one outcome x variant x stratum group of the
    descriptive tables, a set of counts that adds up to a total shown elsewhere must not have
    exactly one suppressed cell: the next smallest non-zero cell is suppressed with it.
    """

    def second(cells: list[tuple[float, np.ndarray, int]]) -> None:
        hidden = [c for c in cells if c[1][c[2]]]
        if len(hidden) != 1:
            return
        shown = [c for c in cells if not c[1][c[2]] and np.isfinite(c[0]) and c[0] > 0]
        if shown:
            _, mask, i = min(shown, key=lambda c: c[0])
            mask[i] = True

    for cols in COMPLEMENT_SETS:
        present = [c for c in cols if c in numbers]
        if len(present) > 1:
            for i in range(len(out)):
                second([(float(numbers[c].iloc[i]), small_by_col[c], i) for c in present])
    if "effect_count" in out.columns and any(c in out.columns for c in GROUP_KEYS):
        keys = [c for c in GROUP_KEYS if c in out.columns]
        for col in ("n", "n_cases", "n_controls"):
            if col not in numbers:
                continue
            for rows in out.groupby(keys, dropna=False).indices.values():
                second([(float(numbers[col].iloc[i]), small_by_col[col], i) for i in rows])


def _complement_text(text):
    """``TT=17;Tt=21;tt=<5`` -> the smallest shown count hidden too, when exactly one is hidden."""
    if not isinstance(text, str) or text.count("<") != 1:
        return text
    parts = [p.split("=", 1) for p in text.split(";") if "=" in p]
    shown = [(int(v), i) for i, (_, v) in enumerate(parts) if v.isdigit() and int(v) > 0]
    if not shown:
        return text
    k = next(v for _, v in parts if v.startswith("<"))
    _, i = min(shown)
    parts[i][1] = k
    return ";".join(f"{a}={b}" for a, b in parts)


def suppress_counts(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Small-cell suppression of a shareable table.

    Counts in :data:`COUNT_COLUMNS` that are > 0 and below ``threshold`` become ``"<k"``; the
    columns of :data:`DERIVED_COLUMNS` (frequencies, means, SDs of that count's cell) become NaN
    in those rows; counts embedded in the text columns ``note``, ``reason``, ``genotype_counts``
    and ``alleles_observed`` are replaced the same way; a row with any suppressed count loses its
    :data:`FREQUENCY_COLUMNS` (for the genotype rows of the descriptive tables: the whole
    outcome x variant x stratum group); counts that add up to a total shown beside them get
    secondary suppression (:func:`_complementary`, ``genotype_counts`` strings likewise); in
    ``measure``/``value`` tables the values of ``n_*`` measures are treated as counts. Zero
    stays zero (an empty cell discloses nobody); NaN stays NaN. ``threshold`` 0 or 1 returns
    ``df`` unchanged. Count columns of the returned copy are strings.
    """
    if threshold <= 1:
        return df
    out = df.copy()
    small_by_col = {}
    numbers = {
        col: pd.to_numeric(out[col], errors="coerce") for col in COUNT_COLUMNS.intersection(out.columns)
    }
    for col, values in numbers.items():
        small_by_col[col] = small_mask(values, threshold)
    _complementary(out, numbers, small_by_col)
    for col, values in numbers.items():
        text = values.map(lambda v: suppress_count(v, threshold)).astype(object)
        out[col] = text.where(~small_by_col[col], f"<{threshold}")
    for col, count_cols in DERIVED_COLUMNS.items():
        for count_col in count_cols:
            if col in out.columns and count_col in small_by_col:
                out[col] = pd.to_numeric(out[col], errors="coerce").mask(small_by_col[count_col])
    any_small = np.zeros(len(out), dtype=bool)
    for mask in small_by_col.values():
        any_small |= mask
    for col in _TEXT_COLUMNS:
        if col in out.columns:
            before = out[col]
            out[col] = before.map(lambda t: suppress_text(t, threshold))
            any_small |= (out[col].astype(str) != before.astype(str)).to_numpy()
    if "genotype_counts" in out.columns:
        out["genotype_counts"] = out["genotype_counts"].map(_complement_text)
    if any(c in out.columns for c in GROUP_KEYS) and "effect_count" in out.columns:
        keys = [c for c in GROUP_KEYS if c in out.columns]
        any_small = out.assign(_s=any_small).groupby(keys, dropna=False)["_s"].transform("any").to_numpy()
    for col in FREQUENCY_COLUMNS.intersection(out.columns):
        out[col] = pd.to_numeric(out[col], errors="coerce").mask(any_small)
    if {"measure", "value"} <= set(out.columns):
        is_count = out["measure"].astype(str).str.startswith("n_")
        values = out["value"].astype(object)
        out["value"] = [
            suppress_count(v, threshold) if c else v for v, c in zip(values, is_count, strict=True)
        ]
    return out


def shareable_bytes(src: str, *, suppress_below: int) -> bytes:
    """The bytes of the shareable copy of the table ``src``: the file itself with
    ``suppress_below`` <= 1, else :func:`suppress_counts` of it written as
    :func:`vdrbone.tables.write_tsv` writes (NA for missing, full float precision)."""
    if suppress_below <= 1:
        with open(src, "rb") as fh:
            return fh.read()
    return suppress_counts(read_tsv(src), suppress_below).to_csv(sep="\t", index=False, na_rep=NA).encode()


def write_shareable_table(src: str, dst: str, *, suppress_below: int) -> None:
    """Write the shareable copy of the table ``src`` to ``dst`` (atomically): byte-identical
    with ``suppress_below`` <= 1, else :func:`suppress_counts` of the table (the same bytes as
    :func:`shareable_bytes`, which the report's downloads carry)."""
    if suppress_below <= 1:
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        return
    write_tsv(suppress_counts(read_tsv(src), suppress_below), dst)


def complementary(counts: list, k: int) -> list[bool]:
    """Cells to withhold besides the small ones (complementary suppression).

    When a row (or column) of counts with a shown total holds a suppressed cell (0 < count < k),
    its value could be recovered as total minus the other cells; the largest other cell is then
    withheld too. Returns one flag per cell; all False when nothing is small or ``k`` <= 1.
    """
    values = [float(c) if _finite(c) else math.nan for c in counts]
    small = [is_small(v, k) for v in values]
    out = [False] * len(values)
    if any(small):
        others = [(v, i) for i, v in enumerate(values) if not small[i] and math.isfinite(v) and v > 0]
        if others:
            out[max(others)[1]] = True
    return out
