"""T-scores and the WHO diagnostic classes of BMD (derived binary outcomes).

T-score = (BMD - young-adult mean) / young-adult SD, with the reference mean and SD of the
person's sex and the skeletal site (WHO 1994; Kanis et al. 2008, Bone 42:467). WHO classes: normal
T >= -1.0, osteopenia -2.5 < T < -1.0, osteoporosis T <= -2.5. The config's ``who_class`` outcomes
are 0/1: ``osteoporosis`` (T <= -2.5) and ``osteopenia_or_worse`` (T < -1.0). The reference table
(bundled ``resources/tscore_reference.tsv``, NHANES III femoral neck and total hip, Looker et al.
1998) has columns :data:`REFERENCE_COLUMNS`; a user's own table with the same columns, or an
outcome of type ``tscore`` (T-scores as measured), works too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vdrbone.errors import InputError

REFERENCE_COLUMNS = ["reference", "site", "sex", "mean", "sd", "unit", "source"]
BUNDLED_REFERENCE = Path(__file__).resolve().parents[3] / "resources" / "tscore_reference.tsv"
THRESHOLDS = {"osteoporosis": -2.5, "osteopenia_or_worse": -1.0}


def reference_path(path: str | Path | None) -> Path:
    """The reference table to read: ``path``, or the bundled one when ``path`` is the default."""
    if path is None:
        return BUNDLED_REFERENCE
    p = Path(path)
    if not p.exists() and not p.is_absolute() and p.as_posix() == "resources/tscore_reference.tsv":
        return BUNDLED_REFERENCE  # the bundled file, when run from another directory
    return p


def read_reference(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check a T-score reference table (``#`` lines are comments: the citation).

    Raises InputError naming the file and row when a column is missing, a sex is not
    female/male, a (reference, sex) pair repeats or an SD is not positive.
    """
    p = reference_path(path)
    if not p.is_file():
        raise InputError(f"tscore_reference: file {str(p)!r} does not exist")
    df = pd.read_csv(p, sep="\t", comment="#", dtype={"reference": str, "sex": str})
    missing = [c for c in REFERENCE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{p}: missing column(s) {missing}; expected {REFERENCE_COLUMNS}")
    for i, r in df.iterrows():
        if r["sex"] not in ("female", "male"):
            raise InputError(f"{p}, row {i + 1} ({r['reference']}): sex {r['sex']!r} is not female or male")
        if not (np.isfinite(r["sd"]) and r["sd"] > 0 and np.isfinite(r["mean"])):
            raise InputError(f"{p}, row {i + 1} ({r['reference']}): mean / sd must be numbers with sd > 0")
    dup = df[df.duplicated(["reference", "sex"], keep=False)]
    if not dup.empty:
        raise InputError(
            f"{p}: (reference, sex) repeated: {sorted(set(zip(dup.reference, dup.sex, strict=True)))}"
        )
    df.attrs["path"] = str(p)
    return df


def tscores(bmd, sex, reference: pd.DataFrame, key: str) -> np.ndarray:
    """T-scores of ``bmd`` (g/cm2) by ``sex`` (``female`` / ``male``; other values: NaN).

    Raises InputError when ``key`` is not in the reference table or lacks a sex present in the
    data.
    """
    ref = reference[reference["reference"] == key]
    if ref.empty:
        raise InputError(
            f"tscore reference {key!r} is not in {reference.attrs.get('path', 'the reference table')}; "
            f"available: {', '.join(sorted(reference['reference'].unique()))}"
        )
    bmd = np.asarray(bmd, dtype=float)
    sex = np.asarray(pd.Series(sex).astype(object).where(pd.Series(sex).notna(), None), dtype=object)
    out = np.full(bmd.shape, np.nan)
    for level in ("female", "male"):
        at = sex == level
        row = ref[ref["sex"] == level]
        if row.empty:
            if at.any():
                raise InputError(f"tscore reference {key!r} has no {level} row, but the data have {level}s")
            continue
        out[at] = (bmd[at] - float(row["mean"].iloc[0])) / float(row["sd"].iloc[0])
    return out


def who_class(t, cls: str) -> np.ndarray:
    """1.0 when the T-score is in the WHO class (``osteoporosis``: T <= -2.5; ``osteopenia_or_worse``:
    T < -1.0), 0.0 otherwise, NaN where the T-score is missing."""
    if cls not in THRESHOLDS:
        raise ValueError(f"class must be one of {list(THRESHOLDS)}, got {cls!r}")
    # rounded to 9 decimals, so that a BMD exactly at a threshold is classed as the rule says
    # (e.g. (0.558 - 0.858) / 0.120 is -2.5000000000000004 in binary floating point)
    t = np.round(np.asarray(t, dtype=float), 9)
    hit = t <= -2.5 if cls == "osteoporosis" else t < -1.0
    return np.where(np.isnan(t), np.nan, hit.astype(float))


def who_class_outcomes(
    derived: dict, values: dict, *, sex: pd.Series, outcomes: dict, reference: pd.DataFrame | None
) -> dict[str, np.ndarray]:
    """The 0/1 columns of the ``who_class`` outcomes, from the coded BMD / T-score columns."""
    out = {}
    for key, spec in derived.items():
        src = outcomes.get(spec["from"])
        if src is None or src["type"] not in ("continuous", "tscore"):
            raise InputError(
                f"config outcomes.{key}.from: {spec['from']!r} is not a continuous or tscore outcome"
            )
        if src["type"] == "tscore":
            t = np.asarray(values[spec["from"]], dtype=float)
        else:
            if not spec.get("reference"):
                raise InputError(
                    f"config outcomes.{key}.reference: needed for T-scores from {spec['from']!r}"
                )
            ref = reference if reference is not None else read_reference()
            t = tscores(values[spec["from"]], sex, ref, spec["reference"])
        out[key] = who_class(t, spec["class"])
    return out


def derivation_text(key: str, spec: dict, outcomes: dict, reference: pd.DataFrame | None = None) -> str:
    """One sentence saying how a ``who_class`` outcome was derived (for the report's methods)."""
    src = outcomes[spec["from"]]
    rule = "T-score <= -2.5" if spec["class"] == "osteoporosis" else "T-score < -1.0"
    label = src.get("label", spec["from"])
    if src["type"] == "tscore":
        return f"{key}: 1 when {rule} in {label} (T-scores as given in the phenotype table), else 0."
    where = ""
    if reference is not None:
        ref = reference[reference["reference"] == spec["reference"]]
        parts = [f"{r.sex} mean {r.mean:g} SD {r.sd:g} {r.unit}" for r in ref.itertuples()]
        sources = sorted(set(ref["source"]))
        where = f" ({'; '.join(parts)}; {'; '.join(sources)})"
    return (
        f"{key}: 1 when {rule}, else 0, with T = (BMD - mean) / SD of {label} against the young-adult "
        f"reference {spec['reference']!r} by sex{where}."
    )
