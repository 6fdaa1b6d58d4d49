"""Across cohorts: side-by-side summary, fixed-effect and random-effects meta-analysis.

Each cohort's ``association.tsv`` row carries an estimate (OR or beta) with its standard error
(of log OR for ORs). Rows are matched on (variant, outcome, stratum, model, term); an effect
reported for the other allele in one cohort (a panel with another effect allele) is turned
round before pooling; rows without a finite estimate and SE are left out with a note. Beside the
inverse-variance fixed effect, each row carries a random-effects estimate (DerSimonian-Laird or
REML tau2, optionally Hartung-Knapp-Sidik-Jonkman) with its 95% prediction interval, and
:func:`cohort_weights` gives the per-cohort aligned estimates and weights the forest plots draw.
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
    "q_statistic", "q_df", "q_p_value", "i2",
    "tau2", "re_estimate", "re_ci_lower", "re_ci_upper", "re_standard_error", "re_statistic", "re_df",
    "re_p_value", "pi_lower", "pi_upper", "re_method", "method", "note",
]  # fmt: skip
RE_COLUMNS = [
    "tau2", "re_estimate", "re_ci_lower", "re_ci_upper", "re_standard_error", "re_statistic", "re_df",
    "re_p_value", "pi_lower", "pi_upper",
]  # fmt: skip
COHORT_COLUMNS = [
    *KEYS, "name", "estimate_type", "cohort", "n", "estimate", "ci_lower", "ci_upper", "standard_error",
    "weight_fixed", "weight_random",
]  # fmt: skip
TAU2_METHODS = ("DL", "REML")
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
    y, se = _check(y, se, "fixed_effect")
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


def _check(y, se, who: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    if y.shape != se.shape or y.ndim != 1 or y.size < 1:
        raise ValueError(f"{who}: y and se must be 1-D of the same length, got {y.shape} and {se.shape}")
    if not (np.isfinite(y).all() and np.isfinite(se).all() and (se > 0).all()):
        raise ValueError(f"{who}: estimates and SEs must be finite with SE > 0, got {y} and {se}")
    return y, se


def tau2_dl(y, se) -> float:
    """DerSimonian & Laird (1986) moment estimate: max(0, (Q - (k - 1)) / (S1 - S2 / S1)), with
    S1 = sum w, S2 = sum w^2, w = 1/se^2 and Q Cochran's statistic (metafor ``method = "DL"``)."""
    y, se = _check(y, se, "tau2_dl")
    w = 1.0 / se**2
    mu = (w * y).sum() / w.sum()
    q = (w * (y - mu) ** 2).sum()
    return float(max(0.0, (q - (y.size - 1)) / (w.sum() - (w**2).sum() / w.sum())))


def tau2_reml(y, se, *, tol: float = 1e-12, max_iter: int = 1000) -> float:
    """Restricted maximum-likelihood tau2 by Fisher scoring (Viechtbauer 2005), as metafor
    ``rma(method = "REML")``: start at the Hedges estimate, step (y'P'Py - tr P) / tr(PP) with
    P = W - W 1 (1'W1)^-1 1'W, halved while the step would go below 0, truncated at 0;
    converged when tau2 changes by less than ``tol``. Raises when ``max_iter`` is reached."""
    y, se = _check(y, se, "tau2_reml")
    v = se**2
    k = y.size
    if k == 1:
        return 0.0
    tau2 = max(0.0, float(((y - y.mean()) ** 2).sum() / (k - 1) - v.mean()))
    for _ in range(max_iter):
        w = 1.0 / (v + tau2)
        P = np.diag(w) - np.outer(w, w) / w.sum()
        Py = P @ y
        adj = float((Py @ Py - np.trace(P)) / np.trace(P @ P))
        while tau2 + adj < 0:
            adj /= 2
            if abs(adj) < tol:
                adj = -tau2
                break
        new = max(0.0, tau2 + adj)
        if abs(new - tau2) < tol:
            return new
        tau2 = new
    raise ValueError(f"tau2_reml: Fisher scoring did not converge in {max_iter} iterations (y={y}, se={se})")


def random_effects(y, se, *, tau2_method: str = "REML", hartung_knapp: bool = False) -> dict:
    """Random-effects pooling with tau2 by DerSimonian-Laird or REML, as metafor ``rma``.

    Weights w* = 1/(se^2 + tau2); estimate = sum(w* y)/sum(w*), SE = sum(w*)^-1/2 with a z test
    and normal CI; with ``hartung_knapp`` (Hartung & Knapp 2001; Sidik & Jonkman 2002; metafor
    ``test = "knha"``) the SE is multiplied by sqrt(sum w*(y - estimate)^2 / (k - 1)) (not
    truncated at 1) and the test and CI use t on k - 1 df. The 95% prediction interval (Higgins,
    Thompson & Spiegelhalter 2009) is estimate +- c sqrt(tau2 + SE^2), with c the normal or (with
    Hartung-Knapp) the t_{k-1} quantile, as metafor ``predict.rma``. ``re_df`` is NaN for z tests.
    Needs k >= 2 cohorts for Hartung-Knapp (k - 1 df).
    """
    if tau2_method not in TAU2_METHODS:
        raise ValueError(f"random_effects: tau2_method must be one of {TAU2_METHODS}, got {tau2_method!r}")
    y, se = _check(y, se, "random_effects")
    k = y.size
    if hartung_knapp and k < 2:
        raise ValueError(f"random_effects: Hartung-Knapp needs at least 2 estimates, got {k}")
    tau2 = tau2_dl(y, se) if tau2_method == "DL" else tau2_reml(y, se)
    w = 1.0 / (se**2 + tau2)
    mu = float((w * y).sum() / w.sum())
    mu_se = float(1.0 / np.sqrt(w.sum()))
    if hartung_knapp:
        mu_se *= float(np.sqrt((w * (y - mu) ** 2).sum() / (k - 1)))
        df = k - 1
        crit = float(stats.t.ppf(0.975, df))
        stat = mu / mu_se if mu_se > 0 else np.nan
        p = float(2 * stats.t.sf(abs(stat), df)) if np.isfinite(stat) else np.nan
    else:
        df = np.nan
        crit = Z95
        stat = mu / mu_se
        p = float(2 * stats.norm.sf(abs(stat)))
    half_pi = crit * np.sqrt(tau2 + mu_se**2)
    return {
        "tau2": tau2,
        "re_estimate": mu,
        "re_standard_error": mu_se,
        "re_ci_lower": mu - crit * mu_se,
        "re_ci_upper": mu + crit * mu_se,
        "re_statistic": stat,
        "re_df": df,
        "re_p_value": p,
        "pi_lower": mu - half_pi,
        "pi_upper": mu + half_pi,
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


def meta_analysis(
    tables: dict[str, pd.DataFrame], *, tau2_method: str = "REML", hartung_knapp: bool = False
) -> pd.DataFrame:
    """Fixed- and random-effects meta-analysis row per (variant, outcome, stratum, model, term).

    ``tables`` maps a cohort name to its association table. A row enters when its estimate and
    standard error are finite and the SE positive. Alleles are aligned to the first cohort's
    effect allele; for per-allele, allelic and interaction terms a swapped effect allele is turned
    round (sign of beta / log OR), the overdominant contrast is the same either way, and other
    genotype-class terms cannot be aligned: that cohort is left out with a note. Cohorts whose
    rows were adjusted for different covariates are pooled with a note saying so. ORs are pooled
    on the log scale and reported as ORs. The random-effects columns (:func:`random_effects` with
    ``tau2_method`` and ``hartung_knapp``; ``re_method`` says which) need 2 or more cohorts.
    """
    return meta_tables(tables, tau2_method=tau2_method, hartung_knapp=hartung_knapp)[0]


def cohort_weights(
    tables: dict[str, pd.DataFrame], *, tau2_method: str = "REML", hartung_knapp: bool = False
) -> pd.DataFrame:
    """The cohorts that entered each meta-analysis row (columns :data:`COHORT_COLUMNS`): estimate
    and 95% Wald CI aligned to the pooled effect allele (ORs back on the OR scale), SE, and the
    percentage weights of the fixed (1/se^2) and random (1/(se^2 + tau2)) models, as metafor
    ``weights()``. This is what the forest plots of the combined report draw."""
    return meta_tables(tables, tau2_method=tau2_method, hartung_knapp=hartung_knapp)[1]


def meta_tables(
    tables: dict[str, pd.DataFrame], *, tau2_method: str = "REML", hartung_knapp: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(:func:`meta_analysis`, :func:`cohort_weights`) from one pass over the cohorts."""
    if not tables:
        raise ValueError("meta_analysis: no cohorts given")
    frames = []
    for cohort, df in tables.items():
        d = df.copy()
        d["cohort"] = cohort
        frames.append(d)
    alls = pd.concat(frames, ignore_index=True)
    alls = alls[alls["estimate_type"].isin(["OR", "beta"])]
    rows, per_cohort = [], []
    re_label = f"random effects, {tau2_method} tau2" + (", Hartung-Knapp" if hartung_knapp else "")
    for key, grp in alls.groupby(KEYS, sort=False):
        first = grp.iloc[0]
        effect, other = first["effect_allele"], first["other_allele"]
        ys, ses, used, notes, ns, n = [], [], [], [], [], 0
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
            ns.append(int(r["n"]) if pd.notna(r["n"]) else np.nan)
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
        is_or = first["estimate_type"] == "OR"
        if len(used) >= 1:
            res = fixed_effect(ys, ses)
            tau2 = np.nan
            if len(used) >= 2:
                res.update(random_effects(ys, ses, tau2_method=tau2_method, hartung_knapp=hartung_knapp))
                res["re_method"] = re_label
                tau2 = res["tau2"]
            else:
                notes.append("one cohort only: no heterogeneity test, no random effects")
            if is_or:
                for col in ("estimate", "ci_lower", "ci_upper", *RE_COLUMNS[1:4], "pi_lower", "pi_upper"):
                    if col in res:
                        res[col] = float(np.exp(res[col]))
            out.update(res)
            w_fixed = 1.0 / np.asarray(ses) ** 2
            w_random = 1.0 / (np.asarray(ses) ** 2 + tau2) if np.isfinite(tau2) else np.full(len(ses), np.nan)
            for i, cohort in enumerate(used):
                lo, hi = ys[i] - Z95 * ses[i], ys[i] + Z95 * ses[i]
                est = [ys[i], lo, hi]
                if is_or:
                    est = [float(np.exp(x)) for x in est]
                per_cohort.append(
                    dict(
                        zip(KEYS, key, strict=True),
                        name=first["name"],
                        estimate_type=first["estimate_type"],
                        cohort=cohort,
                        n=ns[i],
                        estimate=est[0],
                        ci_lower=est[1],
                        ci_upper=est[2],
                        standard_error=ses[i],
                        weight_fixed=100 * w_fixed[i] / w_fixed.sum(),
                        weight_random=100 * w_random[i] / w_random.sum(),
                    )
                )
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
    table["re_method"] = table["re_method"].fillna("")
    return table[META_COLUMNS], pd.DataFrame(per_cohort, columns=COHORT_COLUMNS)


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
