"""MAX3: the maximum of the dominant, recessive and additive trend tests (SNPassoc ``maxstat``).

Freidlin, Zheng, Li & Gastwirth (2002) MAX3 for a 2 x 3 case-control genotype table: the largest
of the three Cochran-Armitage trend chi-squares with scores (0, 0, 1) (recessive), (0, 1, 2)
(additive) and (0, 1, 1) (dominant). Its p-value accounts for the correlation between the three
statistics through their asymptotic joint normal distribution under the null, with correlations
from the genotype counts alone; no permutation is involved.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from vdrbone.contingency import trend_chisq
from vdrbone.results import TestResult

SCORES = {"recessive": (0.0, 0.0, 1.0), "additive": (0.0, 1.0, 2.0), "dominant": (0.0, 1.0, 1.0)}
MODEL, TERM = "max3", "max_over_models"
_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)


def score_correlation(genotype_counts) -> np.ndarray:
    """Null correlation matrix of the three trend statistics (order of :data:`SCORES`).

    For score vectors x, y and genotype totals n_k (cases + controls, N = sum n_k): corr =
    S_xy / sqrt(S_xx S_yy), S_xy = sum n_k x_k y_k - (sum n_k x_k)(sum n_k y_k) / N (Freidlin et al.
    2002; the case fraction cancels). Rows and columns of scores with zero variance are NaN.
    """
    n = np.asarray(genotype_counts, dtype=float)
    if n.shape != (3,) or (n < 0).any():
        raise ValueError(f"score_correlation: need 3 non-negative genotype counts, got {n}")
    s = np.array(list(SCORES.values()))
    total = n.sum()
    cov = (s * n) @ s.T - np.outer(s @ n, s @ n) / total
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    ok = sd > 1e-10 * np.sqrt(s**2 @ n)
    corr[~ok, :] = np.nan
    corr[:, ~ok] = np.nan
    return corr


def max_abs_normal_sf(m: float, corr) -> float:
    """P(max_i |Z_i| > m) for Z ~ N(0, corr) of rank 1 or 2 (exact up to quadrature error).

    The statistics of a 3-class table span at most 2 dimensions (the additive score is the sum
    of the dominant and recessive ones), so Z = A u with u standard bivariate normal and unit
    rows a_i of A. In polar coordinates P(max |a_i . u| > m) = (1/pi) int_0^pi exp(-r(t)^2 / 2) dt
    with r(t) = m / max_i |a_i . e(t)|; the integral is split where the active a_i changes and
    each piece done by 64-point Gauss-Legendre (no Monte Carlo, no cancellation at small p).
    Rank 1: the two-sided normal tail. Raises for rank 3 (not a 3-genotype MAX3 problem).
    """
    corr = np.asarray(corr, dtype=float)
    if corr.ndim != 2 or corr.shape[0] != corr.shape[1] or not np.isfinite(corr).all():
        raise ValueError(f"max_abs_normal_sf: corr must be a finite square matrix, got {corr}")
    if m <= 0:
        return 1.0
    vals, vecs = np.linalg.eigh(corr)
    keep = vals > 1e-9 * vals.max()
    rank = int(keep.sum())
    if rank == 1:
        return float(special.erfc(m / np.sqrt(2)))
    if rank != 2:
        raise ValueError(f"max_abs_normal_sf: correlation of rank {rank}; only rank 1 or 2 is supported")
    a = vecs[:, keep] * np.sqrt(vals[keep])
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    # directions where two |a_i . e| are equal: e perpendicular to a_i - a_j or a_i + a_j
    cuts = [0.0, np.pi]
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            for d in (a[i] - a[j], a[i] + a[j]):
                if np.hypot(*d) > 1e-12:
                    cuts.append((np.arctan2(d[1], d[0]) + np.pi / 2) % np.pi)
    cuts = np.unique(np.asarray(cuts))
    total = 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        if hi - lo < 1e-15:
            continue
        t = (hi - lo) / 2 * _GL_X + (hi + lo) / 2
        proj = np.abs(a @ np.vstack([np.cos(t), np.sin(t)])).max(axis=0)
        total += (hi - lo) / 2 * float(_GL_W @ np.exp(-0.5 * (m / proj) ** 2))
    return min(1.0, total / np.pi)


def max3(case_counts, control_counts) -> TestResult:
    """MAX3 test of one variant (row model ``max3``, term ``max_over_models``).

    Parameters
    ----------
    case_counts, control_counts : array_like of int, shape (3,)
        Genotype counts by effect-allele count 0, 1, 2.

    ``statistic`` is the largest of the recessive, additive and dominant trend chi-squares
    (:func:`vdrbone.contingency.trend_chisq`, as R ``prop.trend.test``); ``p_value`` is
    P(max |Z| >= sqrt(statistic)) under the asymptotic trivariate normal with the correlations of
    :func:`score_correlation` (:func:`max_abs_normal_sf`), as SNPassoc ``maxstat`` and R
    ``mvtnorm::pmvnorm``. ``extra`` holds the three chi-squares and ``method`` names the model
    that attained the maximum. Models whose score has no variance (e.g. no homozygotes for the
    effect allele) drop out; with none left, or no cases or controls, the row has a note.
    """
    case = np.asarray(case_counts, dtype=float)
    ctrl = np.asarray(control_counts, dtype=float)
    if case.shape != (3,) or ctrl.shape != (3,):
        raise ValueError(f"max3: need 3 genotype counts for cases and controls, got {case} and {ctrl}")
    n_cases, n_controls = int(case.sum()), int(ctrl.sum())
    res = TestResult(model=MODEL, term=TERM, n=n_cases + n_controls, n_cases=n_cases, n_controls=n_controls)
    if n_cases == 0 or n_controls == 0:
        res.note = "no cases or no controls"
        return res
    stats_ = {name: float(trend_chisq(case, ctrl, scores=s)) for name, s in SCORES.items()}
    res.extra = {f"chisq_{name}": v for name, v in stats_.items()}
    defined = [name for name, v in stats_.items() if np.isfinite(v)]
    if not defined:
        res.note = "monomorphic in this stratum"
        return res
    corr = score_correlation(case + ctrl)
    idx = [list(SCORES).index(name) for name in defined]
    best = max(defined, key=lambda name: stats_[name])
    res.statistic = stats_[best]
    res.p_value = float(max_abs_normal_sf(float(np.sqrt(res.statistic)), corr[np.ix_(idx, idx)]))
    res.method = (
        f"MAX3 over {'/'.join(defined)} trend tests (Freidlin et al. 2002), asymptotic trivariate-normal p;"
        f" max at {best}"
    )
    return res
