"""Multiple-testing adjustment of a family of p-values: the PLINK 1.9 ``--adjust`` set.

Bonferroni, Holm (1979) step-down, Sidak single-step and step-down, Benjamini-Hochberg (1995)
and Benjamini-Yekutieli (2001) step-up FDR, as PLINK 1.9 ``--adjust`` (columns BONF, HOLM,
SIDAK_SS, SIDAK_SD, FDR_BH, FDR_BY) and R ``p.adjust`` (methods "bonferroni", "holm", "BH",
"BY"; Sidak written out). The association table carries them as the columns of
:data:`ADJUSTED_COLUMNS`.
"""

from __future__ import annotations

import numpy as np

# Column of the association table -> PLINK 1.9 --adjust method (see :func:`adjust`).
ADJUSTED_COLUMNS = {
    "p_bonferroni": "bonferroni",
    "p_holm": "holm",
    "p_sidak_ss": "sidak_ss",
    "p_sidak_sd": "sidak_sd",
    "q_value": "bh",
    "q_by": "by",
}
METHODS = ("bonferroni", "holm", "sidak_ss", "sidak_sd", "bh", "by")


def _sidak(p: np.ndarray, k) -> np.ndarray:
    """1 - (1 - p)^k without cancellation for small p."""
    with np.errstate(divide="ignore"):
        return -np.expm1(k * np.log1p(-p))


def adjust(p, method: str) -> np.ndarray:
    """Adjusted p-values (or q-values) of one family of ``m`` tests.

    Parameters
    ----------
    p : array_like of float, shape (m,)
        The unadjusted p-values, all in [0, 1] (the caller removes NaN first).
    method : {"bonferroni", "holm", "sidak_ss", "sidak_sd", "bh", "by"}
        With p_(1) <= ... <= p_(m) and cumulative max (step-down) or min (step-up) so that the
        adjusted values keep the order of the p-values:

        - bonferroni: min(1, m p);
        - holm: step-down max_{j<=i} min(1, (m - j + 1) p_(j)) (Holm 1979);
        - sidak_ss: 1 - (1 - p)^m (Sidak 1967, single-step);
        - sidak_sd: step-down max_{j<=i} 1 - (1 - p_(j))^(m - j + 1) (Holm-Sidak);
        - bh: step-up min_{j>=i} min(1, m p_(j) / j) (Benjamini & Hochberg 1995);
        - by: bh with m replaced by m sum_{k=1..m} 1/k (Benjamini & Yekutieli 2001).

    Returns
    -------
    numpy.ndarray of float, shape (m,), in the input order. Ties keep equal adjusted values.
    """
    if method not in METHODS:
        raise ValueError(f"adjust: method must be one of {', '.join(METHODS)}, got {method!r}")
    p = np.asarray(p, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"adjust: p must be 1-D, got shape {p.shape}")
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        raise ValueError(
            f"adjust: p-values must lie in [0, 1], got {p[bad][:5]} at {np.flatnonzero(bad)[:5]}"
        )
    m = p.size
    if m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    if method == "sidak_ss":
        return _sidak(p, m)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - rank + 1) * ps))
    elif method == "sidak_sd":
        adj = np.maximum.accumulate(_sidak(ps, m - rank + 1))
    else:
        scale = m * (np.sum(1.0 / rank) if method == "by" else 1.0)
        adj = np.minimum(1.0, np.minimum.accumulate((scale * ps / rank)[::-1])[::-1])
    out = np.empty(m)
    out[order] = adj
    return out


def adjust_all(p) -> dict[str, np.ndarray]:
    """Every column of :data:`ADJUSTED_COLUMNS` for one family of p-values (see :func:`adjust`)."""
    return {col: adjust(p, method) for col, method in ADJUSTED_COLUMNS.items()}
