"""Gene-environment interaction with any modifier: the test and the SNP effect by modifier level.

:func:`modifier_interaction` tests the log-additive SNP x modifier interaction for a binary
(logistic), continuous (linear) or time-to-event (Cox, Efron ties) outcome, with a continuous
modifier (one product term), a 0/1 modifier, or a categorical one (one product term per
non-reference level), and gives the per-allele SNP effect at each level of a categorical modifier
or at the 10th, 50th and 90th percentiles of a continuous one.

Vocabulary of the rows (config ``interactions``; ``<column>`` is the modifier's column):

- ``model`` ``interaction_<column>``, ``term`` ``per_allele_x_<column>`` (one product term), or
  ``per_allele_x_<column>:<level>`` (categorical modifier with more than two levels: one row per
  product term, each vs the reference level; all rows carry the joint k-df test). ``statistic``,
  ``df``, ``p_value``: LRT (logistic, Cox) or F test (linear, ``df_denominator`` the residual df)
  of the product term(s), comparing ``y ~ covariates + modifier + g + g:modifier`` with the model
  without ``g:modifier`` on the same complete-case samples (R ``anova(m0, m1)``). ``estimate``:
  the interaction coefficient (exp for OR / HR: ratio of per-allele ORs / HRs).
- ``model`` ``effect_by_<column>``, ``term`` ``per_allele_at_<level>`` or ``per_allele_at_p10`` /
  ``p50`` / ``p90``: the per-allele effect at that level or percentile (R ``quantile`` type 7 over
  the analysed samples), ``b_g + m b_gxm`` with its Wald 95% CI and Wald chi-square (1 df) from
  the full model's covariance; ``extra['reference']`` says the modifier value (the association
  table's ``reference`` column).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from vdrbone import regression, survival
from vdrbone.results import TestResult

PERCENTILES = (10, 50, 90)


def modifier_design(values, *, modifier_type: str, levels: list[str] | None = None):
    """Columns coding a modifier, their labels and the reference level.

    ``continuous``: the values (one column); ``categorical``: indicators of ``levels[1:]`` vs
    ``levels[0]`` (values must be strings among ``levels``; NaN / None = missing). Returns
    ``(M (n, k) float with NaN rows for missing, labels, reference)``.
    """
    if modifier_type == "continuous":
        m = np.asarray(values, dtype=float)
        return m[:, None], [""], ""
    if modifier_type != "categorical":
        raise ValueError(f"modifier_type must be 'continuous' or 'categorical', got {modifier_type!r}")
    v = np.asarray(values, dtype=object)
    missing = _not_text(v)
    present = set(v[~missing].tolist())
    levels = [str(x) for x in levels] if levels else sorted(present)
    unknown = sorted(present - set(levels))
    if unknown:
        raise ValueError(f"modifier values {unknown} are not among the levels {levels}")
    if len(levels) < 2:
        raise ValueError(f"a categorical modifier needs at least 2 levels, got {levels}")
    M = np.column_stack([(v == lvl).astype(float) for lvl in levels[1:]])
    M[missing] = np.nan
    return M, list(levels[1:]), levels[0]


def _not_text(v: np.ndarray) -> np.ndarray:
    """Bool mask of the elements of object array ``v`` that are not strings (missing levels):
    vectorised when every non-null element is a string, element by element otherwise."""
    if pd.api.types.infer_dtype(v, skipna=True) in ("string", "empty"):
        return pd.isna(v)
    return np.array([not isinstance(x, str) for x in v], dtype=bool)


def _fit(kind, X, y, time, entry, raug=None, risk_sets=None):
    """(beta, cov, loglik, rss, converged) of the model of ``kind``; X without intercept;
    ``raug``: R factor of ``[1, X, y]`` if already computed (linear, :func:`regression.fit_linear`);
    ``risk_sets``: the :class:`vdrbone.survival.RiskSets` of a Cox model's samples."""
    n = X.shape[0]
    if kind == "time_to_event":
        f = survival.fit_cox(time, y, X, entry=entry, risk_sets=risk_sets)
        return f.beta, f.cov, f.loglik, math.nan, f.converged, 0
    Xi = np.column_stack([np.ones(n), X])
    if kind == "binary":
        f = regression.fit_logistic(Xi, y)
        return f.beta[1:], f.cov[1:, 1:], f.loglik, math.nan, f.converged, 1
    f = regression.fit_linear(Xi, y, raug=raug)
    return f.beta[1:], f.cov[1:, 1:], f.loglik, f.rss, True, 1


def modifier_interaction(
    y,
    effect_count,
    modifier,
    covariates,
    *,
    outcome_type: str,
    name: str,
    modifier_type: str = "continuous",
    levels: list[str] | None = None,
    time=None,
    entry=None,
    covariate_names=None,
    effects_by: bool = True,
    min_n: int = 30,
    min_cases: int = 1,
) -> list[TestResult]:
    """SNP (log-additive) x modifier interaction test and the SNP effect by modifier level.

    Parameters
    ----------
    y : float array (n,): the outcome (0/1 binary; event 0/1 for ``time_to_event``); NaN missing.
    effect_count : float array (n,): effect-allele counts 0/1/2 (or a dosage); NaN not called.
    modifier : array (n,): numbers (continuous, or 0/1) or level strings (categorical).
    covariates : float array (n, k); columns equal to a modifier column are dropped.
    outcome_type : ``binary`` | ``continuous`` | ``time_to_event``.
    name : the modifier's name (``model`` ``interaction_<name>``, ``effect_by_<name>``).
    modifier_type : ``continuous`` (a 0/1 column is continuous too) or ``categorical``.
    levels : categorical levels, the first being the reference (default: sorted values).
    time, entry : follow-up of a ``time_to_event`` outcome (see :func:`vdrbone.survival.fit_cox`).
    effects_by : also return the ``effect_by_<name>`` rows.
    min_n, min_cases : as :func:`vdrbone.regression.genetic_models` (cases = events for Cox).

    Returns
    -------
    list of TestResult: the interaction row(s), then the effect-by-level rows. Complete cases
    (outcome, genotype, modifier, covariates, follow-up). Data that allow no estimate give NaN
    rows with the reason in ``note`` (too few samples, monomorphic, a constant modifier, a level
    without samples, a singular design, separation or a non-converged fit).
    """
    if outcome_type not in ("binary", "continuous", "time_to_event"):
        raise ValueError(f"outcome_type must be binary, continuous or time_to_event, got {outcome_type!r}")
    y = regression._as_1d(y, "y")
    n_all = y.size
    g = regression._as_1d(effect_count, "effect_count", n_all)
    c = np.asarray(covariates, dtype=float).reshape(n_all, -1)
    names = regression._names(covariate_names, c.shape[1])
    M, labels, ref_level = modifier_design(modifier, modifier_type=modifier_type, levels=levels)
    if M.shape[0] != n_all:
        raise ValueError(f"modifier has {M.shape[0]} values, expected {n_all}")
    tte = outcome_type == "time_to_event"
    t = s = None
    if tte:
        t, _, s = survival.check_survival(time, y, entry)
    keep = ~np.isnan(y) & ~np.isnan(g) & ~np.isnan(M).any(axis=1) & ~np.isnan(c).any(axis=1)
    if tte:
        keep &= ~np.isnan(t) & (True if s is None else ~np.isnan(s))
    y, g, M, c = y[keep], g[keep], M[keep], c[keep]
    t = None if t is None else t[keep]
    s = None if s is None else s[keep]
    same = [j for j in range(c.shape[1]) if any(np.array_equal(c[:, j], M[:, i]) for i in range(M.shape[1]))]
    if same:
        c = np.delete(c, same, axis=1)
        names = [x for j, x in enumerate(names) if j not in same]
    n, k = y.size, M.shape[1]
    base = regression.sample_counts(y, outcome_type != "continuous")
    model = f"interaction_{name}"
    terms = [f"per_allele_x_{name}"] if k == 1 else [f"per_allele_x_{name}:{lab}" for lab in labels]
    if modifier_type == "categorical":
        by_levels = [ref_level, *labels]
        by_terms = [f"per_allele_at_{lvl}" for lvl in by_levels]
        by_values = [np.zeros(k)] + [np.eye(k)[i] for i in range(k)]
        by_refs = [f"{name}={lvl}" for lvl in by_levels]
    else:
        q = np.percentile(M[:, 0], PERCENTILES) if n else np.full(3, np.nan)
        by_terms = [f"per_allele_at_p{p}" for p in PERCENTILES]
        by_values = [np.array([v]) for v in q]
        by_refs = [f"{name}={v:.4g} ({p}th percentile)" for p, v in zip(PERCENTILES, q, strict=True)]
    by_model = f"effect_by_{name}"

    def nan_rows(note):
        rows = [TestResult(model=model, term=term, note=note, **base) for term in terms]
        if effects_by:
            rows += [TestResult(model=by_model, term=term, note=note, **base) for term in by_terms]
        return rows

    p_full = c.shape[1] + 2 * k + 1
    note = regression.sample_checks(
        y, outcome_type == "binary", n, p_full + (0 if tte else 1), min_n, min_cases
    )
    if tte and not note:
        note = survival._event_checks(y, n, p_full, min_n, min_cases)
    if note:
        return nan_rows(note)
    if regression._single_valued(g):
        return nan_rows("monomorphic in this stratum")
    if modifier_type == "categorical":
        counts = M.sum(axis=0)
        empty = [lab for lab, cnt in zip(labels, counts, strict=True) if cnt == 0]
        if counts.sum() == n:
            empty.insert(0, ref_level)
        if empty:
            return nan_rows(f"no samples at {name} level(s) {', '.join(map(str, empty))} in this stratum")
    elif np.ptp(M[:, 0]) == 0:
        return nan_rows(f"modifier {name} constant in this stratum")
    X0 = np.column_stack([c, M, g])
    X = np.column_stack([X0, g[:, None] * M])
    Xi = np.column_stack([np.ones(n), X])
    # one QR serves both rank checks ([1, c] and [1, X]) and, linear, the full model's fit
    linear = outcome_type == "continuous"
    r = np.linalg.qr(np.column_stack([Xi, y]) if linear else Xi, mode="r")
    note = regression.collinear_note(Xi[:, : 1 + c.shape[1]], names, r=r)
    if not note and regression._dependent_columns(Xi, r):
        note = f"singular design (covariate collinear with {name}, genotype or the interaction)"
    if note:
        return nan_rows(note)
    rs = survival.RiskSets(t, y, s) if tte else None  # one time order for both Cox fits
    b0, _, ll0, rss0, ok0, _ = _fit(outcome_type, X0, y, t, s, risk_sets=rs)
    b1, cov1, ll1, rss1, ok1, _ = _fit(outcome_type, X, y, t, s, r if linear else None, risk_sets=rs)
    p = X.shape[1]
    idx = np.arange(p - k, p)
    ig = p - k - 1  # the genotype main effect
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(cov1))
    if (
        not (ok0 and ok1)
        or np.any(np.abs(b1[[ig, *idx]]) > regression.MAX_ABS_BETA)
        or np.any(~(se[[ig, *idx]] <= regression.MAX_SE))
    ):
        return nan_rows("interaction not estimable (separation or no convergence)")
    ratio = outcome_type != "continuous"
    etype = {"binary": "OR", "continuous": "beta", "time_to_event": "HR"}[outcome_type]
    if outcome_type == "continuous":
        df_res = n - p - 1
        stat = max(((rss0 - rss1) / k) / (rss1 / df_res), 0.0)
        pval = regression.f_sf(stat, k, df_res)
        method, extra = "linear, F test", {"df_residual": float(df_res)}
    else:
        stat = max(2.0 * (ll1 - ll0), 0.0)
        pval = regression.chi2_sf(stat, k)
        method = "logistic, LRT" if outcome_type == "binary" else survival.METHOD
        extra = {}
    method += "; per_allele = effect-allele count"

    def effect(b, s_):
        lo, hi = b - regression.Z95 * s_, b + regression.Z95 * s_
        return (
            (regression.safe_exp(b), regression.safe_exp(lo), regression.safe_exp(hi))
            if ratio
            else (b, lo, hi)
        )

    rows = []
    for term, j in zip(terms, idx, strict=True):
        est, lo, hi = effect(b1[j], se[j])
        r = TestResult(
            model=model, term=term, estimate=est, estimate_type=etype, ci_lower=lo, ci_upper=hi,
            standard_error=float(se[j]), statistic=stat, df=float(k), p_value=pval, method=method, **base,
        )  # fmt: skip
        r.extra = dict(extra)
        rows.append(r)
    if effects_by:
        for term, w, ref in zip(by_terms, by_values, by_refs, strict=True):
            a = np.zeros(p)
            a[ig] = 1.0
            a[idx] = w
            b, v = float(a @ b1), float(a @ cov1 @ a)
            est, lo, hi = effect(b, math.sqrt(v))
            r = TestResult(
                model=by_model, term=term, estimate=est, estimate_type=etype, ci_lower=lo, ci_upper=hi,
                standard_error=math.sqrt(v), statistic=b * b / v, df=1.0,
                p_value=regression.chi2_sf(b * b / v, 1),
                method=method.split(",")[0] + ", Wald; per_allele = effect-allele count", **base,
            )  # fmt: skip
            r.extra = {"reference": ref}
            rows.append(r)
    return rows
