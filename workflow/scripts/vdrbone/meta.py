"""Across cohorts: side-by-side summary and inverse-variance fixed-effect meta-analysis.

Each cohort's ``association.tsv`` row carries an estimate (OR or beta) with its standard error
(of log OR for ORs). Rows are matched on (variant, outcome, stratum, model, term); an effect
reported for the other allele in one cohort (a panel with another effect allele) is turned
round before pooling; rows without a finite estimate and SE are left out with a note.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from vdrbone.disclosure import suppress_count

KEYS = ["variant", "outcome", "stratum", "model", "term"]
META_COLUMNS = [
    *KEYS[:1], "name", *KEYS[1:], "effect_allele", "other_allele", "reference", "n_cohorts", "cohorts", "n",
    "estimate", "estimate_type", "ci_lower", "ci_upper", "standard_error", "statistic", "p_value",
    "q_statistic", "q_df", "q_p_value", "i2", "method", "note",
]  # fmt: skip
Z95 = stats.norm.ppf(0.975)
# Terms whose coefficient changes sign when the other allele is counted (per-allele effects and
# their interactions), and contrasts that do not change at all (heterozygotes vs homozygotes).
SIGN_FLIP_TERMS = ("per_allele", "alt_vs_ref", "per_allele_x_t2dm", "per_allele_x_sex")
SWAP_INVARIANT = {("overdominant", "het")}


def fixed_effect(y, se) -> dict:
    """Inverse-variance fixed-effect pooling of estimates ``y`` with standard errors ``se``.

    Weights w = 1/se^2; pooled = sum(w y)/sum(w), SE = sum(w)^-1/2, z = pooled/SE with a
    two-sided normal p; Cochran's Q = sum(w (y - pooled)^2) on k - 1 df; I^2 = max(0, (Q -
    (k - 1))/Q) x 100 (Higgins & Thompson 2002), as R ``metafor::rma(method = "FE")``.
    ``y`` is on the additive scale (beta, or log OR). Non-finite entries or SE <= 0 raise.
    """
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    if y.shape != se.shape or y.ndim != 1 or y.size < 1:
        raise ValueError(
            f"fixed_effect: y and se must be 1-D of the same length, got {y.shape} and {se.shape}"
        )
    if not (np.isfinite(y).all() and np.isfinite(se).all() and (se > 0).all()):
        raise ValueError(f"fixed_effect: estimates and SEs must be finite with SE > 0, got {y} and {se}")
    w = 1.0 / se**2
    pooled = float((w * y).sum() / w.sum())
    pooled_se = float(1.0 / np.sqrt(w.sum()))
    z = pooled / pooled_se
    k = y.size
    q = float((w * (y - pooled) ** 2).sum())
    i2 = max(0.0, (q - (k - 1)) / q) * 100.0 if q > 0 else 0.0
    return {
        "estimate": pooled,
        "standard_error": pooled_se,
        "ci_lower": pooled - Z95 * pooled_se,
        "ci_upper": pooled + Z95 * pooled_se,
        "statistic": z,
        "p_value": float(2 * stats.norm.sf(abs(z))),
        "q_statistic": q,
        "q_df": k - 1,
        "q_p_value": float(stats.chi2.sf(q, k - 1)) if k > 1 else np.nan,
        "i2": i2,
    }


def _aligned(row: pd.Series, effect: str, other: str) -> tuple[float, float] | None:
    """(estimate on the additive scale, SE) for ``effect`` allele, or None if alleles differ."""
    est = float(row["estimate"])
    y = np.log(est) if row["estimate_type"] == "OR" else est
    if (row["effect_allele"], row["other_allele"]) == (effect, other):
        return y, float(row["standard_error"])
    if (row["effect_allele"], row["other_allele"]) == (other, effect):
        if row["term"] in SIGN_FLIP_TERMS:
            return -y, float(row["standard_error"])
        if (row["model"], row["term"]) in SWAP_INVARIANT:
            return y, float(row["standard_error"])
    return None


def meta_analysis(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Fixed-effect meta-analysis row per (variant, outcome, stratum, model, term) across cohorts.

    ``tables`` maps a cohort name to its association table. A row enters when its estimate and
    standard error are finite and the SE positive. Alleles are aligned to the first cohort's
    effect allele; for per-allele, allelic and interaction terms a swapped effect allele is turned
    round (sign of beta / log OR), the overdominant contrast is the same either way, and other
    genotype-class terms cannot be aligned: that cohort is left out with a note. Cohorts whose
    rows were adjusted for different covariates are pooled with a note saying so. ORs are pooled
    on the log scale and reported as ORs.
    """
    if not tables:
        raise ValueError("meta_analysis: no cohorts given")
    frames = []
    for cohort, df in tables.items():
        d = df.copy()
        d["cohort"] = cohort
        frames.append(d)
    alls = pd.concat(frames, ignore_index=True)
    alls = alls[alls["estimate_type"].isin(["OR", "beta"])]
    rows = []
    for key, grp in alls.groupby(KEYS, sort=False):
        first = grp.iloc[0]
        effect, other = first["effect_allele"], first["other_allele"]
        ys, ses, used, notes, n = [], [], [], [], 0
        for _, r in grp.iterrows():
            ok = (
                np.isfinite(float(r["estimate"]))
                and np.isfinite(float(r["standard_error"]))
                and float(r["standard_error"]) > 0
                and (r["estimate_type"] != "OR" or float(r["estimate"]) > 0)
            )
            if not ok:
                notes.append(f"{r['cohort']}: no estimate")
                continue
            aligned = _aligned(r, effect, other)
            if aligned is None:
                notes.append(f"{r['cohort']}: effect allele {r['effect_allele']} differs, not aligned")
                continue
            ys.append(aligned[0])
            ses.append(aligned[1])
            used.append(str(r["cohort"]))
            n += int(r["n"]) if pd.notna(r["n"]) else 0
        out = dict(zip(KEYS, key, strict=True))
        out.update(
            name=first["name"],
            effect_allele=effect,
            other_allele=other,
            reference=first["reference"],
            n_cohorts=len(used),
            cohorts=",".join(used),
            n=n,
            estimate_type=first["estimate_type"],
            method="inverse-variance fixed effect; Cochran's Q, I2",
        )
        if len(used) >= 1:
            res = fixed_effect(ys, ses)
            if first["estimate_type"] == "OR":
                for col in ("estimate", "ci_lower", "ci_upper"):
                    res[col] = float(np.exp(res[col]))
            out.update(res)
            if len(used) < 2:
                notes.append("one cohort only: no heterogeneity test")
        else:
            notes.append("no cohort with an estimate")
        if "covariates" in grp and grp["covariates"].fillna("").nunique() > 1:
            adj = ", ".join(
                f"{c}: {v or 'none'}"
                for c, v in zip(grp["cohort"], grp["covariates"].fillna(""), strict=True)
            )
            notes.append(f"covariates differ across cohorts ({adj})")
        out["note"] = "; ".join(notes)
        rows.append(out)
    table = pd.DataFrame(rows)
    for col in META_COLUMNS:
        if col not in table:
            table[col] = np.nan
    return table[META_COLUMNS]


def side_by_side(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (variant, outcome, stratum, model, term), with each cohort's n, estimate,
    CI and p-value side by side (columns ``<cohort>:estimate`` and so on)."""
    wide = None
    values = ("n", "estimate", "ci_lower", "ci_upper", "p_value")
    for cohort, df in tables.items():
        present = [c for c in values if c in df.columns]
        part = df[[*KEYS, "name", "effect_allele", "estimate_type", *present]]
        part = part.drop_duplicates(KEYS).rename(columns={c: f"{cohort}:{c}" for c in present})
        if wide is None:
            wide = part
        else:
            wide = wide.merge(
                part.drop(columns=["name", "effect_allele", "estimate_type"]), on=KEYS, how="outer"
            )
    return wide.reset_index(drop=True)


def suppress_combined(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Small-cell suppression of the sample counts (``n`` and ``<cohort>:n``), by
    :func:`vdrbone.disclosure.suppress_count` as in the report and the shareable tables."""
    if threshold <= 1:
        return table
    out = table.copy()
    for col in out.columns:
        if col == "n" or col.endswith(":n"):
            out[col] = [suppress_count(v, threshold) for v in out[col]]
    return out
