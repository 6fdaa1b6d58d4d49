"""Allele-, genotype- and carrier-level tests on contingency tables, pooled tests across strata,
and BMD-by-genotype tests.

All counts refer to the panel's **effect allele** (never "whichever allele is minor").
Diploid genotype counts are arrays ``[n_hom_other, n_het, n_hom_effect]`` (effect-allele count
0, 1, 2), one for cases and one for controls; haploid (mtDNA) counts are ``[n_noncarrier,
n_carrier]``. Allele tables are 2 x 2 with rows case/control and columns effect/other allele.

Every test returns a :class:`vdrbone.results.TestResult`. Model names and terms (the
``association.tsv`` vocabulary, PLINK ``--assoc``/``--model`` in brackets):

==================== ================ =====================================================
model                term             test
==================== ================ =====================================================
``allelic``          ``alt_vs_ref``   Pearson chi-square, 1 df, 2x2 allele table (ALLELIC)
``allelic_fisher``   ``alt_vs_ref``   Fisher exact, 2x2 allele table (``--assoc fisher``)
``genotypic``        ``genotype``     Pearson chi-square, 2 df, 2x3 table (GENO)
``genotypic_fisher`` ``genotype``     Fisher exact, 2x3 table (``--model fisher`` GENO)
``trend``            ``per_allele``   Cochran-Armitage trend, scores 0/1/2 (TREND)
``dominant_chisq``   ``dominant``     Pearson chi-square, 1 df, carriers vs non-carriers (DOM)
``recessive_chisq``  ``recessive``    Pearson chi-square, 1 df, homozygotes vs others (REC)
``carrier_fisher``   ``carrier``      Fisher exact, 2x2 carrier x case table (haploid mtDNA)
``mantel_haenszel``  ``alt_vs_ref``   CMH chi-square and MH common OR across strata (``--mh``)
``breslow_day``      ``alt_vs_ref``   Breslow-Day test of OR homogeneity, Tarone-corrected
``anova``            ``genotype``     one-way ANOVA F of a continuous outcome by genotype
``kruskal_wallis``   ``genotype``     Kruskal-Wallis H by genotype, tie-corrected
==================== ================ =====================================================

The pooled tests take haploid carrier tables too (``ploidy=1``; term ``carrier``).

Sparse data never raise: ``note`` says why a quantity is NaN (``"no cases"``, ``"no
controls"``, ``"monomorphic"``, ``"one genotype class"``, ``"zero cell: OR not estimable"``,
``"fewer than 2 informative strata (t2dm=yes: no carriers)"``), and a chi-square or Fisher
p-value is still reported wherever it is defined. Programming
errors (wrong shapes, negative or non-integer counts) raise ``ValueError`` with the numbers.

The kernels :func:`pearson_chisq` and :func:`trend_chisq` accept stacks of tables (leading
batch axes) for use over many variants x strata at once.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special

from vdrbone.results import TestResult

__all__ = [
    "allele_counts",
    "allele_table",
    "genotype_table",
    "pearson_chisq",
    "trend_chisq",
    "allelic",
    "allelic_fisher",
    "genotypic",
    "genotypic_fisher",
    "trend",
    "dominant_chisq",
    "recessive_chisq",
    "carrier_fisher",
    "informative_strata",
    "mantel_haenszel",
    "breslow_day",
    "anova_by_genotype",
    "kruskal_by_genotype",
    "fisher_exact_2x2",
    "fisher_exact_2x3",
    "conditional_odds_ratio",
]

Z95 = 1.959963984540054  # qnorm(0.975)
# R fisher.test: tables with probability <= P(observed) * (1 + 1e-7) count as "as extreme".
FISHER_REL_ERR = 1 + 1e-7
NOTE_ZERO_CELL = "zero cell: OR not estimable"
NOTE_MONOMORPHIC = "monomorphic"
NOTE_NO_CASES = "no cases"
NOTE_NO_CONTROLS = "no controls"
NOTE_ONE_CLASS = "one genotype class"


# ----------------------------------------------------------------------------------------------
# input validation and descriptive tables
# ----------------------------------------------------------------------------------------------
def _as_counts(x, name: str, length: int | None = None) -> np.ndarray:
    """Validate a 1-D count vector (non-negative integers) and return it as int64."""
    arr = np.asarray(x)
    if arr.ndim != 1 or (length is not None and arr.shape[0] != length):
        want = f"shape ({length},)" if length is not None else "a 1-D array"
        raise ValueError(f"{name}: expected {want} of counts, got shape {arr.shape}")
    return _check_integral(arr, name)


def _check_integral(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype.kind not in "iuf" and arr.size:
        raise ValueError(f"{name}: counts must be numeric, got dtype {arr.dtype}")
    a = arr.astype(float)
    bad = ~np.isfinite(a) | (a < 0) | (a != np.round(a))
    if bad.any():
        raise ValueError(
            f"{name}: counts must be finite non-negative integers; offending values {a[bad][:5].tolist()}"
        )
    return a.astype(np.int64)


def allele_counts(genotype_counts) -> np.ndarray:
    """Effect- and other-allele counts ``[n_effect, n_other]`` from diploid genotype counts.

    Parameters
    ----------
    genotype_counts : array_like of int, shape (3,)
        ``[n_hom_other, n_het, n_hom_effect]``.
    """
    g = _as_counts(genotype_counts, "genotype_counts", 3)
    return np.array([g[1] + 2 * g[2], 2 * g[0] + g[1]], dtype=np.int64)


def allele_table(case_counts, control_counts) -> np.ndarray:
    """2 x 2 allele table (rows case/control, columns effect/other allele), int64."""
    return np.vstack([allele_counts(case_counts), allele_counts(control_counts)])


def genotype_table(case_counts, control_counts, *, labels=None) -> pd.DataFrame:
    """Genotype counts and within-group frequencies, one row per effect-allele count.

    Parameters
    ----------
    case_counts, control_counts : array_like of int, shape (3,) or (2,)
        Counts by effect-allele count 0, 1(, 2); length 2 for haploid variants.
    labels : sequence of str, optional
        Genotype names in the same order (for example from ``PanelVariant.genotype_names``).

    Returns
    -------
    DataFrame with columns ``effect_allele_count, genotype, n_cases, n_controls, freq_cases,
    freq_controls`` (frequencies NaN when the group is empty).
    """
    case = _as_counts(case_counts, "case_counts")
    ctrl = _as_counts(control_counts, "control_counts", case.shape[0])
    if case.shape[0] not in (2, 3):
        raise ValueError(f"genotype_table: expected 2 (haploid) or 3 (diploid) classes, got {case.shape[0]}")
    if labels is None:
        labels = [str(i) for i in range(case.shape[0])]
    if len(labels) != case.shape[0]:
        raise ValueError(f"genotype_table: {len(labels)} labels for {case.shape[0]} genotype classes")
    with np.errstate(invalid="ignore", divide="ignore"):
        fc = case / case.sum() if case.sum() else np.full(case.shape, np.nan)
        fo = ctrl / ctrl.sum() if ctrl.sum() else np.full(ctrl.shape, np.nan)
    return pd.DataFrame(
        {
            "effect_allele_count": np.arange(case.shape[0]),
            "genotype": list(labels),
            "n_cases": case,
            "n_controls": ctrl,
            "freq_cases": fc,
            "freq_controls": fo,
        }
    )


def _genotype_pair(case_counts, control_counts, length: int = 3) -> tuple[np.ndarray, np.ndarray]:
    return (
        _as_counts(case_counts, "case_counts", length),
        _as_counts(control_counts, "control_counts", length),
    )


def _group_note(n_cases: int, n_controls: int) -> str:
    if n_cases == 0 and n_controls == 0:
        return "no samples"
    if n_cases == 0:
        return NOTE_NO_CASES
    if n_controls == 0:
        return NOTE_NO_CONTROLS
    return ""


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


# ----------------------------------------------------------------------------------------------
# vectorised kernels
# ----------------------------------------------------------------------------------------------
def pearson_chisq(tables) -> tuple[np.ndarray, np.ndarray]:
    """Pearson chi-square (no continuity correction) for a stack of r x c tables.

    Parameters
    ----------
    tables : array_like, shape (..., r, c)
        Counts; the leading axes are batch axes.

    Returns
    -------
    statistic, df : ndarray, shape (...)
        Empty rows and columns (zero margin) are dropped, as in
        ``chisq.test(tab[rowSums > 0, colSums > 0], correct = FALSE)``; so
        ``df = (non-empty rows - 1) * (non-empty columns - 1)``. Where df is 0 the statistic is NaN.
    """
    t = np.asarray(tables, dtype=float)
    if t.ndim < 2:
        raise ValueError(f"pearson_chisq: expected tables of shape (..., r, c), got {t.shape}")
    rows = t.sum(axis=-1, keepdims=True)
    cols = t.sum(axis=-2, keepdims=True)
    total = t.sum(axis=(-2, -1), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = rows * cols / total
        cell = np.where(expected > 0, (t - expected) ** 2 / np.where(expected > 0, expected, 1.0), 0.0)
    stat = cell.sum(axis=(-2, -1))
    df = ((rows[..., 0] > 0).sum(axis=-1) - 1) * ((cols[..., 0, :] > 0).sum(axis=-1) - 1)
    df = np.maximum(df, 0)
    stat = np.where(df > 0, stat, np.nan)
    return stat, df


def trend_chisq(case_counts, control_counts, *, scores=(0.0, 1.0, 2.0)) -> np.ndarray:
    """Cochran-Armitage trend chi-square (1 df) for stacks of genotype counts.

    Computed as R ``prop.trend.test(x = cases, n = cases + controls, score)``, i.e. with the
    binomial variance p(1-p) * sum n_i (s_i - s_bar)^2 (N, not N - 1, in the denominator), which
    is also PLINK ``--model`` TREND (Armitage 1955).

    Parameters
    ----------
    case_counts, control_counts : array_like, shape (..., k)
        Genotype counts by class; ``scores`` has length k.

    Returns
    -------
    ndarray, shape (...): the statistic; NaN when there are no cases, no controls, or only one
    genotype class (zero score variance).
    """
    x = np.asarray(case_counts, dtype=float)
    y = np.asarray(control_counts, dtype=float)
    s = np.asarray(scores, dtype=float)
    if x.shape != y.shape or x.shape[-1] != s.shape[0]:
        raise ValueError(f"trend_chisq: shapes {x.shape}, {y.shape} and scores {s.shape} do not match")
    n = x + y
    big_n = n.sum(axis=-1)
    r = x.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pbar = r / big_n
        t = (x * s).sum(axis=-1) - pbar * (n * s).sum(axis=-1)
        sxx = (n * s**2).sum(axis=-1) - (n * s).sum(axis=-1) ** 2 / big_n
        var = pbar * (1 - pbar) * sxx
        defined = (sxx > 1e-10 * (n * s**2).sum(axis=-1)) & (var > 0)
        stat = np.where(defined, t**2 / np.where(defined, var, 1.0), np.nan)
    return stat


def _chisq_sf(df, stat):
    """Upper tail of the chi-square distribution with ``df`` degrees of freedom."""
    with np.errstate(invalid="ignore"):
        return special.chdtrc(df, stat)


def _woolf(table: np.ndarray) -> tuple[float, float, float, float, str]:
    """Sample OR (a d / b c) with the Woolf (log) 95% CI; NaN and a note if a cell is zero."""
    a, b, c, d = (float(v) for v in np.asarray(table).ravel())
    if min(a, b, c, d) <= 0:
        return math.nan, math.nan, math.nan, math.nan, NOTE_ZERO_CELL
    log_or = math.log(a) + math.log(d) - math.log(b) - math.log(c)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return math.exp(log_or), se, math.exp(log_or - Z95 * se), math.exp(log_or + Z95 * se), ""


# ----------------------------------------------------------------------------------------------
# exact (hypergeometric) machinery
# ----------------------------------------------------------------------------------------------
_LOG_FACTORIAL = special.gammaln(np.arange(1025, dtype=float) + 1)


def _log_factorial(n_max: int) -> np.ndarray:
    """log(k!) for k = 0..n_max (cached and grown on demand)."""
    global _LOG_FACTORIAL
    if n_max >= _LOG_FACTORIAL.shape[0]:
        size = max(int(n_max) + 1, 2 * _LOG_FACTORIAL.shape[0])
        _LOG_FACTORIAL = special.gammaln(np.arange(size, dtype=float) + 1)
    return _LOG_FACTORIAL


def _hyper_support(table: np.ndarray):
    """Support and log-probabilities of cell [0, 0] of a 2x2 table given its margins."""
    t = np.asarray(table, dtype=np.int64)
    m, n = int(t[:, 0].sum()), int(t[:, 1].sum())  # column totals (effect, other)
    k = int(t[0].sum())  # row 1 total
    lf = _log_factorial(m + n)
    lo, hi = max(0, k - n), min(k, m)
    s = np.arange(lo, hi + 1)
    logd = (
        (lf[m] - lf[s] - lf[m - s])
        + (lf[n] - lf[k - s] - lf[n - k + s])
        - (lf[m + n] - lf[k] - lf[m + n - k])
    )
    return s, logd, int(t[0, 0]), lo, hi


def fisher_exact_2x2(table) -> float:
    """Two-sided Fisher exact p-value of a 2 x 2 table, as R ``fisher.test``.

    Sums the hypergeometric probabilities of all tables with the observed margins whose
    probability is <= P(observed) * (1 + 1e-7). Returns 1.0 when a margin is zero (a single
    table is possible).
    """
    t = np.asarray(table)
    if t.shape != (2, 2):
        raise ValueError(f"fisher_exact_2x2: expected a 2x2 table, got shape {t.shape}")
    s, logd, x, lo, _ = _hyper_support(_check_integral(t, "table"))
    thr = logd[x - lo] + math.log(FISHER_REL_ERR)
    return float(min(1.0, np.exp(special.logsumexp(logd[logd <= thr]))))


def conditional_odds_ratio(table, *, conf_level: float = 0.95) -> tuple[float, float, float]:
    """Conditional maximum-likelihood OR and exact CI of a 2 x 2 table, as R ``fisher.test``.

    The OR maximises the noncentral hypergeometric likelihood of cell [0, 0] given the margins;
    the CI inverts the two one-sided exact tests at (1 - conf_level) / 2 each (Cornfield 1956;
    R's algorithm). Roots are found on the log-OR scale to ~1e-12 relative (R's ``uniroot``
    default tolerance is ~1e-4, so R's printed values agree to about 4 digits). The estimate is
    0 (or inf) and the lower (upper) limit 0 (inf) when the observed cell is at the edge of its
    support. Returns ``(estimate, lower, upper)``.
    """
    t = np.asarray(table)
    if t.shape != (2, 2):
        raise ValueError(f"conditional_odds_ratio: expected a 2x2 table, got shape {t.shape}")
    if not 0 < conf_level < 1:
        raise ValueError(f"conditional_odds_ratio: conf_level must be in (0, 1), got {conf_level}")
    t = _check_integral(t, "table")
    s, logd, x, lo, hi = _hyper_support(t)
    if lo == hi:
        return math.nan, math.nan, math.nan
    sf = s.astype(float)
    below = s <= x
    above = s >= x

    def probs(theta: float) -> np.ndarray:
        v = logd + theta * sf
        v = np.exp(v - v.max())
        return v / v.sum()

    def mean(theta: float) -> float:
        return float(probs(theta) @ sf)

    def solve(f, guess: float) -> float:
        # f is monotone in theta; expand a bracket around the guess, then Brent.
        a, b, step = guess - 1.0, guess + 1.0, 2.0
        fa, fb = f(a), f(b)
        while fa * fb > 0:
            a, b, step = a - step, b + step, step * 2
            fa, fb = f(a), f(b)
            if step > 1e4:
                return math.nan
        from scipy.optimize import brentq  # imported when needed: scipy.optimize takes 0.3 s to load

        return brentq(f, a, b, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)

    a_, b_, c_, d_ = (float(v) + 0.5 for v in t.ravel())
    guess = math.log(a_ * d_ / (b_ * c_))
    alpha = (1 - conf_level) / 2
    est = 0.0 if x == lo else math.inf if x == hi else math.exp(solve(lambda th: mean(th) - x, guess))
    lower = 0.0 if x == lo else math.exp(solve(lambda th: probs(th)[above].sum() - alpha, guess))
    upper = math.inf if x == hi else math.exp(solve(lambda th: probs(th)[below].sum() - alpha, guess))
    return est, lower, upper


def _last_at_or_below(f, lo: np.ndarray, hi: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """Vectorised binary search: largest x in [lo, hi] with f(x) <= thr, for f non-decreasing
    on [lo, hi]; returns lo - 1 where f(lo) > thr."""
    lo0, hi0 = lo, np.maximum(hi, lo)  # evaluation is kept inside the original (valid) range
    lo = lo.copy()
    hi = hi.copy()
    res = lo - 1
    while True:
        active = lo <= hi
        if not active.any():
            return res
        mid = (lo + hi) // 2
        ok = f(np.clip(mid, lo0, hi0)) <= thr
        res = np.where(active & ok, mid, res)
        lo = np.where(active & ok, mid + 1, lo)
        hi = np.where(active & ~ok, mid - 1, hi)


def fisher_exact_2x3(table, *, neglect: float = 1e-10) -> tuple[float, dict]:
    """Two-sided Fisher exact (Freeman-Halton) p-value of a 2 x 3 table, as R ``fisher.test``.

    The p-value is the sum of the probabilities of all tables with the observed margins whose
    multivariate hypergeometric probability is <= P(observed) * (1 + 1e-7) (R's tolerance).
    With row 1 totals R1 and column totals C0, C1, C2 a table has two free cells x0, x1 and
    ``log P = log C(C0,x0) + log C(C1,x1) + log C(C2,R1-x0-x1) - log C(N,R1)`` (log-factorial
    table). The enumeration is organised by slices of x0:

    * the slice total is the hypergeometric probability H(x0) (Vandermonde), and every table in
      a slice has P <= H(x0); slices with H(x0) <= P(observed) therefore count whole, in closed
      form, with no inner enumeration;
    * in the remaining slices x1 | x0 is hypergeometric, hence unimodal: the tables with P above
      the threshold form one interval around the mode, found by binary search, and only the two
      tails outside it are summed, each from its crossing point outwards down to
      P(observed) * exp(-D).

    Bound: every neglected table has P < P(observed) e^-D, there are fewer than T = (C0 + 1)
    (C1 + 1) of them, and p >= P(observed); so the relative error is below T e^-D. D is chosen
    as log(T / neglect) (about 45 for N = 100,000), which keeps the summed band of tables at
    O(D * sqrt(det Cov)) ~ 1e6 for N = 100,000, i.e. tens of milliseconds. The algorithm is
    exact up to ``neglect`` for every N and never needs a Monte Carlo fallback.

    Returns
    -------
    p_value, info : float, dict
        ``info`` has ``tables_summed`` (band tables evaluated) and ``slices`` (x0 slices).
    """
    t = _check_integral(np.asarray(table), "table")
    if t.shape != (2, 3):
        raise ValueError(f"fisher_exact_2x3: expected a 2x3 table, got shape {t.shape}")
    c0, c1, c2 = (int(v) for v in t.sum(axis=0))
    r1 = int(t[0].sum())
    big_n = c0 + c1 + c2
    lf = _log_factorial(big_n)
    log_denom = lf[big_n] - lf[r1] - lf[big_n - r1]

    def log_p(x0, x1):
        x2 = r1 - x0 - x1
        return (
            -lf[x0]
            - lf[c0 - x0]
            - lf[x1]
            - lf[c1 - x1]
            - lf[x2]
            - lf[c2 - x2]
            + (lf[c0] + lf[c1] + lf[c2] - log_denom)
        )

    thr = float(log_p(int(t[0, 0]), int(t[0, 1]))) + math.log(FISHER_REL_ERR)
    n_tables = (c0 + 1.0) * (c1 + 1.0)
    depth = math.log(n_tables / neglect)
    floor = thr - depth
    m12 = c1 + c2
    x0 = np.arange(max(0, r1 - m12), min(c0, r1) + 1)
    k = r1 - x0
    log_h = (lf[c0] - lf[x0] - lf[c0 - x0]) + (lf[m12] - lf[k] - lf[m12 - k]) - log_denom
    whole = log_h <= thr
    pieces = [log_h[whole]]
    mid = ~whole
    x0m, km = x0[mid], k[mid]
    summed = 0
    if x0m.size:
        lo_sup = np.maximum(0, km - c2)
        hi_sup = np.minimum(c1, km)
        mode = np.clip(((km + 1) * (c1 + 1)) // (m12 + 2), lo_sup, hi_sup)
        log_mode = log_p(x0m, mode)
        all_below = log_mode <= thr
        pieces.append(log_h[mid][all_below])
        keep = ~all_below
        x0m, lo_sup, hi_sup, mode = x0m[keep], lo_sup[keep], hi_sup[keep], mode[keep]

        def f_left(x):
            return log_p(x0m, x)

        def f_right(x):  # reflected so that it is non-decreasing
            return log_p(x0m, -x)

        thr_v = np.full(x0m.shape, thr)
        floor_v = np.full(x0m.shape, floor)
        # left tail: x1 in (left_floor, left_cross], both found on the non-decreasing part [lo, mode]
        left_cross = _last_at_or_below(f_left, lo_sup, mode, thr_v)
        left_floor = _last_at_or_below(f_left, lo_sup, left_cross, floor_v)
        # right tail, by reflection x -> -x of the non-increasing part [mode, hi]
        right_cross = -_last_at_or_below(f_right, -hi_sup, -mode, thr_v)
        right_floor = -_last_at_or_below(f_right, -hi_sup, -right_cross, floor_v)
        starts = np.concatenate([left_floor + 1, right_cross])
        lengths = np.concatenate([left_cross - left_floor, right_floor - right_cross])
        slices = np.concatenate([x0m, x0m])
        lengths = np.maximum(lengths, 0)
        summed = int(lengths.sum())
        if summed:
            offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
            x1 = np.repeat(starts, lengths) + (np.arange(summed) - offsets)
            pieces.append(log_p(np.repeat(slices, lengths), x1))
    allv = np.concatenate(pieces)
    p = float(np.exp(special.logsumexp(allv))) if allv.size else 0.0
    return min(1.0, p), {"tables_summed": summed, "slices": int(x0.size)}


# ----------------------------------------------------------------------------------------------
# allele-level tests
# ----------------------------------------------------------------------------------------------
def _allele_setup(case_counts, control_counts):
    case, ctrl = _genotype_pair(case_counts, control_counts)
    tab = np.vstack([allele_counts(case), allele_counts(ctrl)])
    n_cases, n_controls = int(case.sum()), int(ctrl.sum())
    note = _group_note(n_cases, n_controls)
    if not note and (tab[:, 0].sum() == 0 or tab[:, 1].sum() == 0):
        note = NOTE_MONOMORPHIC
    return case, ctrl, tab, n_cases, n_controls, note


def allelic(case_counts, control_counts) -> TestResult:
    """Allelic test: Pearson chi-square (1 df, no continuity correction) on the 2 x 2 allele table
    and the allelic OR of the effect allele (cases vs controls) with its Woolf (log) 95% CI.

    Same as R ``chisq.test(correct = FALSE)`` and PLINK 1.9 ``--assoc --ci 0.95`` (CHISQ, OR,
    SE, L95, U95) with A1 = effect allele. Each person contributes two alleles. The OR is NaN
    with note ``"zero cell: OR not estimable"`` when an allele cell is zero; the chi-square is
    still reported. ``extra`` holds the four allele counts.

    Parameters
    ----------
    case_counts, control_counts : array_like of int, shape (3,)
        ``[n_hom_other, n_het, n_hom_effect]``; missing genotypes are simply not counted.
    """
    case, ctrl, tab, n_cases, n_controls, note = _allele_setup(case_counts, control_counts)
    res = TestResult(
        model="allelic",
        term="alt_vs_ref",
        estimate_type="OR",
        df=1,
        n=n_cases + n_controls,
        n_cases=n_cases,
        n_controls=n_controls,
        method="Pearson chi-square on the 2x2 allele table, no continuity correction; "
        "sample OR with Woolf 95% CI",
        extra=_allele_extra(tab),
    )
    if note:
        res.note = note
        return res
    stat, _ = pearson_chisq(tab)
    res.statistic = float(stat)
    res.p_value = float(_chisq_sf(1, stat))
    res.estimate, res.standard_error, res.ci_lower, res.ci_upper, res.note = _woolf(tab)
    return res


def _allele_extra(tab: np.ndarray) -> dict:
    return {
        "case_effect_alleles": int(tab[0, 0]),
        "case_other_alleles": int(tab[0, 1]),
        "control_effect_alleles": int(tab[1, 0]),
        "control_other_alleles": int(tab[1, 1]),
    }


def allelic_fisher(case_counts, control_counts) -> TestResult:
    """Fisher exact test (two-sided) on the 2 x 2 allele table, with the conditional MLE OR of
    the effect allele and its exact 95% CI, as R ``fisher.test`` (PLINK ``--assoc fisher`` gives
    the same p-value but the sample OR).

    The sample OR is in ``extra['or_sample']``. With a zero allele cell the conditional MLE is
    0 or inf: ``estimate`` is then NaN with note ``"zero cell: OR not estimable"``, and R's
    boundary values are kept in ``extra`` (``or_cmle``, ``ci_exact_lower``, ``ci_exact_upper``).
    """
    case, ctrl, tab, n_cases, n_controls, note = _allele_setup(case_counts, control_counts)
    res = TestResult(
        model="allelic_fisher",
        term="alt_vs_ref",
        estimate_type="OR",
        n=n_cases + n_controls,
        n_cases=n_cases,
        n_controls=n_controls,
        method="Fisher exact test (two-sided) on the 2x2 allele table; conditional MLE OR with exact "
        "95% CI (R fisher.test)",
        extra=_allele_extra(tab),
    )
    if note:
        res.note = note
        return res
    res.p_value = fisher_exact_2x2(tab)
    est, lower, upper = conditional_odds_ratio(tab)
    res.extra["or_sample"] = _woolf(tab)[0]
    if (tab == 0).any():
        res.note = NOTE_ZERO_CELL
        res.extra.update(or_cmle=est, ci_exact_lower=lower, ci_exact_upper=upper)
    else:
        res.estimate, res.ci_lower, res.ci_upper = est, lower, upper
    return res


def carrier_fisher(case_counts, control_counts) -> TestResult:
    """Carrier test for a haploid (mtDNA) variant: two-sided Fisher exact test on the 2 x 2
    carrier x case table, with the sample OR of carriers vs non-carriers and its Woolf 95% CI.

    Parameters
    ----------
    case_counts, control_counts : array_like of int, shape (2,)
        ``[n_noncarrier, n_carrier]`` (effect-allele count 0, 1); heteroplasmic or missing calls
        are not counted.

    The OR is NaN with note ``"zero cell: OR not estimable"`` when a cell is zero (the p-value is
    still reported); the conditional MLE OR of R ``fisher.test`` is in ``extra['or_cmle']``.
    """
    case, ctrl = _genotype_pair(case_counts, control_counts, 2)
    n_cases, n_controls = int(case.sum()), int(ctrl.sum())
    tab = np.array([[case[1], case[0]], [ctrl[1], ctrl[0]]], dtype=np.int64)
    res = TestResult(
        model="carrier_fisher",
        term="carrier",
        estimate_type="OR",
        n=n_cases + n_controls,
        n_cases=n_cases,
        n_controls=n_controls,
        method="Fisher exact test (two-sided) on the 2x2 carrier x case table; sample OR with Woolf 95% CI",
        extra={"case_carriers": int(case[1]), "control_carriers": int(ctrl[1])},
    )
    note = _group_note(n_cases, n_controls)
    if not note and (tab[:, 0].sum() == 0 or tab[:, 1].sum() == 0):
        note = NOTE_MONOMORPHIC
    if note:
        res.note = note
        return res
    res.p_value = fisher_exact_2x2(tab)
    res.estimate, res.standard_error, res.ci_lower, res.ci_upper, res.note = _woolf(tab)
    res.extra["or_cmle"] = conditional_odds_ratio(tab)[0]
    return res


# ----------------------------------------------------------------------------------------------
# genotype-level tests
# ----------------------------------------------------------------------------------------------
def _genotype_setup(case_counts, control_counts):
    case, ctrl = _genotype_pair(case_counts, control_counts)
    n_cases, n_controls = int(case.sum()), int(ctrl.sum())
    note = _group_note(n_cases, n_controls)
    classes = int(((case + ctrl) > 0).sum())
    if not note:
        if allele_counts(case + ctrl).min() == 0:
            note = NOTE_MONOMORPHIC
        elif classes < 2:
            note = NOTE_ONE_CLASS
    return case, ctrl, n_cases, n_controls, classes, note


def genotypic(case_counts, control_counts) -> TestResult:
    """Genotypic (codominant) test: Pearson chi-square on the 2 x 3 genotype table, 2 df.

    Same as R ``chisq.test(correct = FALSE)`` and PLINK 1.9 ``--model`` GENO (run with
    ``--cell 0``; PLINK by default skips tables with a cell below 5). An empty genotype class
    (no case and no control) is dropped and df reduced to 1, with a note; R would return NaN.
    """
    case, ctrl, n_cases, n_controls, classes, note = _genotype_setup(case_counts, control_counts)
    res = TestResult(
        model="genotypic",
        term="genotype",
        n=n_cases + n_controls,
        n_cases=n_cases,
        n_controls=n_controls,
        method="Pearson chi-square on the 2x3 genotype table, no continuity correction",
    )
    if note:
        res.note = note
        return res
    stat, df = pearson_chisq(np.vstack([case, ctrl]))
    res.statistic, res.df = float(stat), int(df)
    res.p_value = float(_chisq_sf(df, stat))
    if classes < 3:
        res.note = f"empty genotype class dropped: df = {int(df)}"
    return res


def genotypic_fisher(case_counts, control_counts) -> TestResult:
    """Fisher exact (Freeman-Halton) test on the 2 x 3 genotype table, two-sided.

    Same p-value as R ``fisher.test`` (network algorithm) and PLINK 1.9 ``--model fisher``
    GENO. Computed exactly by :func:`fisher_exact_2x3` (slice-wise enumeration with
    closed-form slice totals; relative error < 1e-10), fast up to N = 100,000 and beyond, so no
    Monte Carlo is used. Empty genotype classes do not change the p-value.
    """
    case, ctrl, n_cases, n_controls, classes, note = _genotype_setup(case_counts, control_counts)
    res = TestResult(
        model="genotypic_fisher",
        term="genotype",
        n=n_cases + n_controls,
        n_cases=n_cases,
        n_controls=n_controls,
        method="Fisher exact test (Freeman-Halton, two-sided) on the 2x3 genotype table; exact "
        "enumeration by slices",
    )
    if note:
        res.note = note
        return res
    res.p_value, info = fisher_exact_2x3(np.vstack([case, ctrl]))
    res.extra = {"tables_summed": info["tables_summed"]}
    if classes < 3:
        res.note = "empty genotype class"
    return res


def trend(case_counts, control_counts) -> TestResult:
    """Cochran-Armitage trend test, scores 0/1/2 effect alleles, 1 df.

    Same as R ``prop.trend.test(cases, cases + controls, score = 0:2)`` and PLINK 1.9
    ``--model`` TREND (Armitage 1955). ``extra['direction']`` is +1 when the case fraction rises
    with the effect-allele count, -1 when it falls.
    """
    case, ctrl, n_cases, n_controls, classes, note = _genotype_setup(case_counts, control_counts)
    res = TestResult(
        model="trend",
        term="per_allele",
        df=1,
        n=n_cases + n_controls,
        n_cases=n_cases,
        n_controls=n_controls,
        method="Cochran-Armitage trend test, scores 0/1/2 (R prop.trend.test)",
    )
    if note:
        res.note = note
        return res
    stat = float(trend_chisq(case, ctrl))
    res.statistic = stat
    res.p_value = float(_chisq_sf(1, stat))
    n = case + ctrl
    slope = (case * np.arange(3)).sum() - case.sum() / n.sum() * (n * np.arange(3)).sum()
    res.extra = {"direction": int(np.sign(slope))}
    return res


def _collapsed(case_counts, control_counts, model: str) -> TestResult:
    case, ctrl, n_cases, n_controls, classes, note = _genotype_setup(case_counts, control_counts)
    if model == "dominant_chisq":
        tab = np.array([[case[1] + case[2], case[0]], [ctrl[1] + ctrl[2], ctrl[0]]])
        what, term = "carriers (1-2 effect alleles) vs non-carriers", "dominant"
    else:
        tab = np.array([[case[2], case[0] + case[1]], [ctrl[2], ctrl[0] + ctrl[1]]])
        what, term = "effect-allele homozygotes vs others", "recessive"
    res = TestResult(
        model=model,
        term=term,
        estimate_type="OR",
        df=1,
        n=n_cases + n_controls,
        n_cases=n_cases,
        n_controls=n_controls,
        method=f"Pearson chi-square on the 2x2 table of {what}, no continuity correction; sample OR "
        "with Woolf 95% CI",
    )
    if note == NOTE_ONE_CLASS:
        note = ""  # e.g. only heterozygotes: the collapsed table may still be defined
    if not note and (tab[:, 0].sum() == 0 or tab[:, 1].sum() == 0):
        note = "no variation in the collapsed table"
    if note:
        res.note = note
        return res
    stat, _ = pearson_chisq(tab)
    res.statistic = float(stat)
    res.p_value = float(_chisq_sf(1, stat))
    res.estimate, res.standard_error, res.ci_lower, res.ci_upper, res.note = _woolf(tab)
    return res


def dominant_chisq(case_counts, control_counts) -> TestResult:
    """PLINK ``--model`` DOM: Pearson chi-square (1 df) of effect-allele carriers (1 or 2 copies)
    vs non-carriers, cases vs controls, with the sample OR and Woolf 95% CI."""
    return _collapsed(case_counts, control_counts, "dominant_chisq")


def recessive_chisq(case_counts, control_counts) -> TestResult:
    """PLINK ``--model`` REC: Pearson chi-square (1 df) of effect-allele homozygotes vs the other
    genotypes, cases vs controls, with the sample OR and Woolf 95% CI."""
    return _collapsed(case_counts, control_counts, "recessive_chisq")


# ----------------------------------------------------------------------------------------------
# stratified 2 x 2 x K
# ----------------------------------------------------------------------------------------------
NOTE_FEW_STRATA = "fewer than 2 informative strata"


def _strata(tables, name: str) -> np.ndarray:
    t = np.asarray(tables)
    if t.ndim != 3 or t.shape[1:] != (2, 2):
        raise ValueError(f"{name}: expected tables of shape (K, 2, 2), got {t.shape}")
    if t.shape[0] == 0:
        raise ValueError(f"{name}: no strata (K = 0)")
    return _check_integral(t.reshape(-1), "tables").reshape(t.shape).astype(float)


def _mh_sums(t: np.ndarray):
    a, b, c, d = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1]
    n = a + b + c + d
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(n > 0, a * d / n, 0.0)
        s = np.where(n > 0, b * c / n, 0.0)
    return a, b, c, d, n, r, s


def informative_strata(tables, *, ploidy: int = 2, labels=None) -> tuple[np.ndarray, list[str]]:
    """Which strata of a 2 x 2 x K set carry information about a common odds ratio, and why not.

    A stratum is informative when it has both outcome levels (cases and controls) and both
    exposure levels (effect and other allele; for haploid tables carriers and non-carriers),
    i.e. no zero margin. Other strata add nothing to the Mantel-Haenszel sums or the
    Breslow-Day statistic.

    Parameters
    ----------
    tables : array_like of int, shape (K, 2, 2)
        Rows case/control, columns effect/other allele (haploid: carrier/non-carrier).
    ploidy : int
        2 (allele tables) or 1 (carrier tables): only the wording of the reasons.
    labels : sequence of str, optional
        Stratum names for the reasons (default ``stratum 1`` ... ``stratum K``).

    Returns
    -------
    informative : ndarray of bool, shape (K,)
    gaps : list of str
        One entry per non-informative stratum, e.g. ``"t2dm=yes: no carriers"``.
    """
    if ploidy not in (1, 2):
        raise ValueError(f"informative_strata: ploidy must be 1 or 2, got {ploidy}")
    t = _strata(tables, "informative_strata")
    k = t.shape[0]
    labels = [f"stratum {i + 1}" for i in range(k)] if labels is None else [str(x) for x in labels]
    if len(labels) != k:
        raise ValueError(f"informative_strata: {len(labels)} labels for {k} strata")
    rows, cols = t.sum(axis=2), t.sum(axis=1)
    informative = (rows > 0).all(axis=1) & (cols > 0).all(axis=1)
    exposure = ("no carriers", "no non-carriers") if ploidy == 1 else ("no effect allele", "no other allele")
    gaps = []
    for i in np.flatnonzero(~informative):
        if t[i].sum() == 0:
            lacks = ["no samples"]
        else:
            lacks = [w for w, m in zip((NOTE_NO_CASES, NOTE_NO_CONTROLS), rows[i], strict=True) if m == 0]
            lacks += [w for w, m in zip(exposure, cols[i], strict=True) if m == 0]
        gaps.append(f"{labels[i]}: {', '.join(lacks)}")
    return informative, gaps


def _pooled_setup(tables, name: str, *, ploidy: int, labels, min_strata: int, res: TestResult):
    """Shared start of the pooled tests: informative strata, people counts and the notes.

    Fills ``res.n``/``n_cases``/``n_controls`` (people = alleles / ploidy over the informative
    strata), ``res.term`` and ``res.extra['strata']``; returns the informative tables, or
    ``None`` with ``res.note`` set when fewer than ``min_strata`` strata are informative.
    """
    if ploidy not in (1, 2):
        raise ValueError(f"{name}: ploidy must be 1 or 2, got {ploidy}")
    t = _strata(tables, name)
    ok, gaps = informative_strata(t, ploidy=ploidy, labels=labels)
    ti = t[ok]
    res.n = int(round(ti.sum() / ploidy))
    res.n_cases = int(round(ti[:, 0].sum() / ploidy))
    res.n_controls = int(round(ti[:, 1].sum() / ploidy))
    res.extra = {"strata": int(ok.sum())}
    if ploidy == 1:
        res.term = "carrier"
        res.method += " (carrier x case tables)"
    if ok.sum() < min_strata:
        res.note = f"{NOTE_FEW_STRATA} ({'; '.join(gaps)})" if gaps else NOTE_FEW_STRATA
        return None
    if gaps:
        what = "stratum" if len(gaps) == 1 else "strata"
        res.note = f"{len(gaps)} {what} with a zero margin dropped ({'; '.join(gaps)})"
    return ti


def mantel_haenszel(tables, *, ploidy: int = 2, labels=None, min_strata: int = 2) -> TestResult:
    """Cochran-Mantel-Haenszel test and Mantel-Haenszel common OR across K strata.

    Parameters
    ----------
    tables : array_like of int, shape (K, 2, 2)
        Allele tables, rows case/control, columns effect/other allele, one per stratum
        (``ploidy=1``: carrier/non-carrier columns).
    ploidy : int
        Alleles per person: ``n``, ``n_cases`` and ``n_controls`` count people; 1 also sets the
        term to ``carrier``.
    labels : sequence of str, optional
        Stratum names used in the notes.
    min_strata : int
        With fewer informative strata (:func:`informative_strata`) nothing is pooled: estimate,
        CI, SE, statistic and p are NaN and the note names what each other stratum lacks
        (``"fewer than 2 informative strata (t2dm=yes: no carriers)"``). 1 allows the
        single-stratum statistic (R ``mantelhaen.test`` refuses K < 2).

    CMH chi-square (1 df) without continuity correction, as R ``mantelhaen.test(correct =
    FALSE)`` and PLINK 1.9 ``--mh``; MH OR = sum(a d / n) / sum(b c / n) with the Robins,
    Breslow & Greenland (1986) variance of log OR for the 95% CI. Only informative strata enter
    (the others add 0 to every sum; they are named in the note); ``n`` counts the people in them.
    """
    res = TestResult(
        model="mantel_haenszel",
        term="alt_vs_ref",
        estimate_type="OR",
        df=1,
        method="Cochran-Mantel-Haenszel chi-square without continuity correction; MH OR with "
        "Robins-Breslow-Greenland 95% CI",
    )
    t = _pooled_setup(tables, "mantel_haenszel", ploidy=ploidy, labels=labels, min_strata=min_strata, res=res)
    if t is None:
        return res
    a, b, c, d, n, r, s = _mh_sums(t)
    r1, c1 = a + b, a + c
    expected = r1 * c1 / n
    var = r1 * (n - r1) * c1 * (n - c1) / (n**2 * (n - 1))  # > 0 in informative strata
    res.statistic = float((a - expected).sum() ** 2 / var.sum())
    res.p_value = float(_chisq_sf(1, res.statistic))
    rs, ss = r.sum(), s.sum()
    if rs > 0 and ss > 0:
        p_, q_ = (a + d) / n, (b + c) / n
        var_log = (
            (p_ * r).sum() / (2 * rs**2)
            + (p_ * s + q_ * r).sum() / (2 * rs * ss)
            + (q_ * s).sum() / (2 * ss**2)
        )
        se = math.sqrt(var_log)
        res.estimate = rs / ss
        res.standard_error = se
        res.ci_lower = math.exp(math.log(res.estimate) - Z95 * se)
        res.ci_upper = math.exp(math.log(res.estimate) + Z95 * se)
    else:
        res.note = _join(res.note, NOTE_ZERO_CELL)
    return res


def _breslow_day_parts(t: np.ndarray, psi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed a, expected A under the common OR ``psi`` and Var(a) per informative stratum.

    A solves ``A (n - r1 - c1 + A) = psi (r1 - A)(c1 - A)`` (the root within the support) and
    ``Var = (1/A + 1/(r1 - A) + 1/(c1 - A) + 1/(n - r1 - c1 + A))^-1``.
    """
    a, b, c, d, n, _, _ = _mh_sums(t)
    r1, c1 = a + b, a + c
    r2 = n - r1
    lo, hi = np.maximum(0, c1 - r2), np.minimum(r1, c1)
    if abs(psi - 1) < 1e-12:
        big_a = r1 * c1 / n
    else:
        qa = 1 - psi
        qb = n - r1 - c1 + psi * (r1 + c1)
        qc = -psi * r1 * c1
        disc = np.sqrt(np.maximum(qb**2 - 4 * qa * qc, 0))
        # numerically stable pair of roots
        q = -0.5 * (qb + np.copysign(disc, qb))
        roots = np.stack([q / qa, qc / q])
        inside = (roots >= lo - 1e-9) & (roots <= hi + 1e-9)
        big_a = np.where(inside[0], roots[0], roots[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        v = 1 / (1 / big_a + 1 / (r1 - big_a) + 1 / (c1 - big_a) + 1 / (r2 - c1 + big_a))
    return a, big_a, v


def breslow_day(tables, *, ploidy: int = 2, labels=None) -> TestResult:
    """Breslow-Day test of homogeneity of the odds ratios across K strata, with Tarone's
    correction (K - 1 df).

    Breslow & Day (1980): for each informative stratum the expected cell A under the
    Mantel-Haenszel common OR and its variance Var (:func:`_breslow_day_parts`);
    ``BD = sum (a - A)^2 / Var``. Tarone (1985) corrects for the MH OR not being the conditional
    MLE: ``BD_T = BD - (sum (a - A))^2 / sum Var``, as ``DescTools::BreslowDayTest(correct =
    TRUE)`` and SAS PROC FREQ. ``statistic`` and ``p_value`` are Tarone's; the uncorrected
    statistic (PLINK 1.9 ``--bd``) and its p are in ``extra['statistic_uncorrected']`` and
    ``extra['p_uncorrected']``. Strata with a zero margin carry no information about their OR
    and are left out (df = informative strata - 1, named in the note); with fewer than 2
    informative strata nothing is tested (note as in :func:`mantel_haenszel`). ``n``,
    ``n_cases`` and ``n_controls`` count people in the informative strata.

    Parameters
    ----------
    tables : array_like of int, shape (K, 2, 2)
        As for :func:`mantel_haenszel`.
    ploidy, labels : as for :func:`mantel_haenszel`.
    """
    res = TestResult(
        model="breslow_day",
        term="alt_vs_ref",
        method="Breslow-Day test of OR homogeneity with Tarone's correction, MH common OR",
    )
    t = _pooled_setup(tables, "breslow_day", ploidy=ploidy, labels=labels, min_strata=2, res=res)
    if t is None:
        return res
    _, _, _, _, _, r, s = _mh_sums(t)
    rs, ss = r.sum(), s.sum()
    if not (rs > 0 and ss > 0):
        res.note = _join(res.note, NOTE_ZERO_CELL)
        return res
    a, big_a, v = _breslow_day_parts(t, rs / ss)
    plain = float(((a - big_a) ** 2 / v).sum())
    tarone = max(0.0, plain - float((a - big_a).sum() ** 2 / v.sum()))
    df = t.shape[0] - 1
    res.statistic, res.df = tarone, df
    res.p_value = float(_chisq_sf(df, tarone))
    res.extra.update(statistic_uncorrected=plain, p_uncorrected=float(_chisq_sf(df, plain)))
    return res


# ----------------------------------------------------------------------------------------------
# continuous outcome by genotype
# ----------------------------------------------------------------------------------------------
def _continuous_setup(y, groups, name: str):
    yv = np.asarray(y, dtype=float)
    g = np.asarray(groups, dtype=float)
    if yv.ndim != 1 or g.shape != yv.shape:
        raise ValueError(f"{name}: y and groups must be 1-D of equal length, got {yv.shape} and {g.shape}")
    keep = np.isfinite(yv) & np.isfinite(g) & (g >= 0)
    yv, g = yv[keep], g[keep]
    levels, codes = _levels_and_codes(g)
    return yv, codes, levels, int((~keep).sum())


def _levels_and_codes(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(g, return_inverse=True)`` of finite codes ``g >= 0``; genotype codes (small
    whole numbers) by counting instead of sorting."""
    whole = g.astype(np.int64)
    if g.size == 0 or whole.max() > 64 or not np.array_equal(whole, g):
        return np.unique(g, return_inverse=True)
    present = np.bincount(whole) > 0
    return np.flatnonzero(present).astype(g.dtype), (np.cumsum(present) - 1)[whole]


def anova_by_genotype(y, groups) -> TestResult:
    """One-way ANOVA F test of a continuous outcome (e.g. BMD) across genotype groups.

    Same as R ``anova(lm(y ~ factor(g)))``. Samples with NaN outcome or NaN / negative group code
    (e.g. -1, the scikit-allel missing genotype) are dropped. ``df`` is the numerator df (k - 1,
    k = non-empty groups); the denominator df n - k is in ``extra['df_denominator']`` and in
    ``method`` (``F(k - 1, n - k)``). ``extra`` also has the group means and sizes.

    Parameters
    ----------
    y : array_like of float, shape (n,)
    groups : array_like, shape (n,)
        Genotype codes (effect-allele counts 0/1/2, or 0/1 for haploid carriers).
    """
    yv, codes, levels, dropped = _continuous_setup(y, groups, "anova_by_genotype")
    k = levels.size
    n = yv.size
    res = TestResult(
        model="anova",
        term="genotype",
        n=n,
        method="one-way ANOVA F test (R anova(lm(y ~ factor(genotype))))",
    )
    sizes = np.bincount(codes, minlength=k).astype(float) if k else np.zeros(0)
    means = np.bincount(codes, weights=yv, minlength=k) / sizes if k else np.zeros(0)
    res.extra = {
        "dropped_missing": dropped,
        "group_sizes": {int(lv): int(sz) for lv, sz in zip(levels, sizes, strict=True)},
        "group_means": {int(lv): float(m) for lv, m in zip(levels, means, strict=True)},
    }
    if k < 2:
        res.note = NOTE_ONE_CLASS if k == 1 else "no samples"
        return res
    if n - k < 1:
        res.note = f"no residual df (n = {n}, groups = {k})"
        return res
    grand = yv.mean()
    ssb = float((sizes * (means - grand) ** 2).sum())
    ssw = float(((yv - means[codes]) ** 2).sum())
    res.df = k - 1
    res.extra["df_denominator"] = n - k
    res.method = f"one-way ANOVA F({k - 1}, {n - k}) test (R anova(lm(y ~ factor(genotype))))"
    if ssw <= 0:
        res.note = "no residual variance"
        return res
    res.statistic = (ssb / (k - 1)) / (ssw / (n - k))
    res.p_value = float(special.fdtrc(k - 1, n - k, res.statistic))
    return res


def midranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid-ranks of ``x`` (ties get the mean of their ranks, as ``scipy.stats.rankdata`` and R
    ``rank``) and the size of each group of tied values (ascending values), from one sort (any
    order within ties: tied values get the same mid-rank)."""
    order = np.argsort(x)
    xs = x[order]
    first = np.flatnonzero(np.concatenate([[True], xs[1:] != xs[:-1]])[: xs.size])
    counts = np.diff(first, append=xs.size)
    ranks = np.empty(xs.size)
    ranks[order] = np.repeat((first + 1) + (counts - 1) / 2, counts)
    return ranks, counts


def kruskal_by_genotype(y, groups) -> TestResult:
    """Kruskal-Wallis rank-sum test of a continuous outcome across genotype groups, k - 1 df.

    Mid-ranks for ties and the tie correction 1 - sum(t^3 - t) / (n^3 - n), chi-square reference
    distribution, as R ``kruskal.test``. Missing data are dropped as in :func:`anova_by_genotype`.
    """
    yv, codes, levels, dropped = _continuous_setup(y, groups, "kruskal_by_genotype")
    k, n = levels.size, yv.size
    res = TestResult(
        model="kruskal_wallis",
        term="genotype",
        n=n,
        method="Kruskal-Wallis rank-sum test with tie correction (R kruskal.test)",
        extra={"dropped_missing": dropped},
    )
    if k < 2:
        res.note = NOTE_ONE_CLASS if k == 1 else "no samples"
        return res
    ranks, tie_counts = midranks(yv)
    sizes = np.bincount(codes, minlength=k).astype(float)
    rsum = np.bincount(codes, weights=ranks, minlength=k)
    h = 12.0 / (n * (n + 1)) * float((rsum**2 / sizes).sum()) - 3.0 * (n + 1)
    corr = 1.0 - float((tie_counts.astype(float) ** 3 - tie_counts).sum()) / (float(n) ** 3 - n)
    res.df = k - 1
    if corr <= 0:
        res.note = "all values tied"
        return res
    res.statistic = h / corr
    res.p_value = float(_chisq_sf(k - 1, res.statistic))
    return res
