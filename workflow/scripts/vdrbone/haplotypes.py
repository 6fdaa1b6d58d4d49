"""Linkage disequilibrium, EM haplotype frequencies and haplotype association (unphased genotypes).

- :func:`ld_pair` / :func:`pairwise_ld`: two-locus D, D', r, r2 from the maximum-likelihood
  haplotype frequency of unphased genotypes, as R ``genetics::LD``: allele frequencies fixed at
  their sample values, the log-likelihood in the coupling-haplotype frequency maximised exactly
  (all stationary points from the score polynomial, the best one kept; ``genetics`` uses
  ``optimize``). ``D``, ``D'`` and ``r`` refer to the panel's *effect* alleles (``genetics``
  uses the major alleles, and reports ``|D'|``); ``r2`` and ``|D'|`` do not depend on that choice.
- :func:`haplotype_em`: haplotype frequencies by the EM algorithm of Excoffier & Slatkin (1995)
  as R ``haplo.stats::haplo.em`` (all loci at once, equal starting posteriors, no random starts,
  no posterior trimming), samples with some loci missing enumerated over all compatible
  haplotype pairs.
- :func:`haplotype_regression`: additive haplotype regression, each common haplotype against
  the reference (the most frequent) with rare haplotypes pooled in one ``rare`` term, adjusted
  for covariates. ``method='haplo_glm'`` (default): the joint likelihood of Lake et al. (2003)
  as ``haplo.stats::haplo.glm``: a GLM on the data expanded to one row per compatible haplotype
  pair, weighted by the pair's posterior given genotype *and* trait, alternated with EM updates
  of the haplotype frequencies until the observed-data log-likelihood changes by less than
  ``tol``; standard errors from the Louis (1982) information of coefficients and frequencies
  (haplo.glm's ``louis_info``, haplotypes below :data:`MIN_INFO` left out, generalised inverse);
  global test = likelihood ratio against the covariate-only model on the same samples (its
  genotype part from the plain EM), chi-square for both families. ``method='expected_counts'``:
  the covariates plus the posterior expected haplotype counts given the genotypes alone
  (Zaykin et al. 2002; Schaid et al. 2002) in an ordinary GLM, global LRT (logistic) or F test
  (linear) against the covariate-only model as in the association engine. The two agree
  when every phase is certain; otherwise haplo_glm also uses the trait to weigh the phases.
- :func:`haplotype_firth`: the Firth fallback of the logistic haplo_glm fit when a haplotype term
  separates (``|beta| > 15``, SE > 10 or singular information) or the EM-GLM diverges: the
  same EM-GLM loop with Firth's penalised likelihood (posterior pair weights as prior weights),
  then, with the final weights fixed, each term's penalised LRT and profile
  penalised-likelihood CI and the joint penalised LRT as the global test (as R ``logistf``).
- :func:`ld_table`, :func:`frequency_table`, :func:`association_table`: the tidy tables of the
  workflow (``ld.tsv``, ``haplotypes.tsv``, ``haplotype_association.tsv``).

Haplotype names: ``rflp`` is the literature letters in descending genomic position, i.e. along
VDR (minus strand) from 5' to 3' (``baT`` = BsmI b, ApaI a, TaqI T; with FokI: ``FbaT``);
``haplotype`` is the forward-strand nucleotides in the same locus order, joined by ``-``
(``C-C-A`` = BsmI C, ApaI C, TaqI A for ``baT``), so that the n-th nucleotide and the n-th letter
name the same locus. ``resources/populations.tsv`` lists its haplotypes in genomic order with
their variant ids. The pooled class is ``rare``.

Missing data: LD uses samples with both genotypes called; the EM uses samples with at least one
block locus called (partially missing samples are enumerated, as haplo.em); regression uses
those with the outcome and every covariate as well. Only hard calls (effect-allele counts) are
used, never DS dosages.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, special
from scipy.linalg import lapack

from vdrbone import regression
from vdrbone.association import (
    DesignLog,
    genotype_matrix,
    join_notes,
    stratum_design,
)
from vdrbone.errors import InputError
from vdrbone.families import adjust_global
from vdrbone.panel import Panel, PanelVariant
from vdrbone.phenotypes import outcome_kind
from vdrbone.results import ASSOCIATION_COLUMNS, TestResult
from vdrbone.settings import HaplotypeSettings, Settings
from vdrbone.strata import strata_masks, varying_factors

Z95 = float(special.ndtri(0.975))  # scipy.stats.norm.ppf(0.975), without importing scipy.stats
MIN_INFO = 0.001  # haplo.glm.control(haplo.min.info): haplotypes left out of the Louis information
RARE_TERM_MIN = 0.001  # haplo.glm.control(sum.rare.min): a rare term needs this pooled frequency
ABSENT_COUNT = 0.5  # a haplotype with fewer expected copies than this in a stratum is "absent"
MAX_ABS_BETA = 15.0
EPS_SVD = math.sqrt(np.finfo(float).eps)

LD_COLUMNS = [
    "variant1", "name1", "effect_allele1", "variant2", "name2", "effect_allele2", "stratum", "n",
    "freq1", "freq2", "d", "d_prime", "r", "r2", "statistic", "p_value", "method", "note",
]  # fmt: skip
FREQUENCY_COLUMNS = [
    "block", "variants", "stratum", "haplotype", "rflp", "frequency", "pooled", "members", "n",
    "n_chromosomes", "log_likelihood", "em_iterations", "converged", "method", "note",
]  # fmt: skip
ASSOCIATION_EXTRA = ["haplotype", "frequency", "members", "variants"]
LD_METHOD = "two-locus ML haplotype frequency from unphased genotypes (as genetics::LD)"
EM_METHOD = "EM (Excoffier & Slatkin 1995; as haplo.em)"


# --------------------------------------------------------------------------------------------
# pairwise LD
# --------------------------------------------------------------------------------------------


@dataclass
class LDResult:
    """One pair: ``n`` complete pairs, effect-allele frequencies, D, D' (signed), r, r2,
    chi-square ``2 n r2`` (1 df) with its p-value, or ``note`` with the reason (numbers NaN)."""

    n: int
    freq1: float = math.nan
    freq2: float = math.nan
    d: float = math.nan
    d_prime: float = math.nan
    r: float = math.nan
    r2: float = math.nan
    statistic: float = math.nan
    p_value: float = math.nan
    note: str = ""


def _xlogy(n: float, x: float) -> float:
    return 0.0 if n == 0 else (n * math.log(x) if x > 0 else -math.inf)


def ld_pair(g1, g2) -> LDResult:
    """LD between two diploid variants from effect-allele counts (0/1/2, NaN = not called).

    The coupling frequency ``x = p(effect1, effect2)`` maximises the two-locus likelihood of the
    3x3 genotype table with allele frequencies fixed at their sample values (complete pairs):
    ``l(x) = n11 log x + n10 log(p1 - x) + n01 log(p2 - x) + n00 log(1 - p1 - p2 + x)
    + n_dh log(x (1 - p1 - p2 + x) + (p1 - x)(p2 - x))`` (``n_dh`` double heterozygotes), as
    ``genetics::LD``. All roots of the score (a degree-5 polynomial) inside the admissible
    interval and its ends are compared, so the global maximum is found. ``D = x - p1 p2``,
    ``D' = D / Dmax`` (Lewontin 1964; signed, ``Dmax`` for the sign of D), ``r = D /
    sqrt(p1 q1 p2 q2)``, chi-square ``2 n r2``. Samples with either genotype missing are dropped.
    """
    g1 = np.asarray(g1, dtype=float)
    g2 = np.asarray(g2, dtype=float)
    if g1.shape != g2.shape or g1.ndim != 1:
        raise ValueError(f"g1 and g2 must be 1-D of equal length, got shapes {g1.shape} and {g2.shape}")
    ok = np.isfinite(g1) & np.isfinite(g2)
    a, b = g1[ok].astype(np.int64), g2[ok].astype(np.int64)
    bad = (a < 0) | (a > 2) | (b < 0) | (b > 2)
    if bad.any():
        raise ValueError(f"effect-allele counts must be 0, 1 or 2; {int(bad.sum())} other values")
    return ld_from_table(np.bincount(a * 3 + b, minlength=9).reshape(3, 3))


def ld_from_table(t) -> LDResult:
    """:func:`ld_pair` from the 3x3 table of complete pairs (rows: effect-allele count at the
    first variant, columns: at the second)."""
    t = np.asarray(t, dtype=float).reshape(3, 3)
    n = int(t.sum())
    if n == 0:
        return LDResult(0, note="no samples with both genotypes called")
    # allele counts: integers, exact in floating point
    p1 = (t[1].sum() + 2 * t[2].sum()) / (2 * n)
    p2 = (t[:, 1].sum() + 2 * t[:, 2].sum()) / (2 * n)
    res = LDResult(n, freq1=float(p1), freq2=float(p2))
    if p1 in (0.0, 1.0) or p2 in (0.0, 1.0):
        res.note = "monomorphic in this stratum"
        return res
    n11 = 2 * t[2, 2] + t[2, 1] + t[1, 2]
    n10 = 2 * t[2, 0] + t[2, 1] + t[1, 0]
    n01 = 2 * t[0, 2] + t[1, 2] + t[0, 1]
    n00 = 2 * t[0, 0] + t[1, 0] + t[0, 1]
    ndh = t[1, 1]
    q = 1.0 - p1 - p2
    lo, hi = max(0.0, -q), min(p1, p2)

    def dh(x):
        return 2 * x * x + (q - p1 - p2) * x + p1 * p2

    def loglik(x):
        return (
            _xlogy(n11, x)
            + _xlogy(n10, p1 - x)
            + _xlogy(n01, p2 - x)
            + _xlogy(n00, q + x)
            + _xlogy(ndh, dh(x))
        )

    # score * x (p1 - x)(p2 - x)(q + x) dh(x) as a polynomial in x
    P = np.polynomial.Polynomial
    fx, f1, f2, f0, fd = P([0, 1]), P([p1, -1]), P([p2, -1]), P([q, 1]), P([p1 * p2, q - p1 - p2, 2])
    poly = (
        n11 * f1 * f2 * f0 * fd
        - n10 * fx * f2 * f0 * fd
        - n01 * fx * f1 * f0 * fd
        + n00 * fx * f1 * f2 * fd
        + ndh * fx * f1 * f2 * f0 * fd.deriv()
    )
    candidates = [lo, hi]
    for root in poly.roots():
        if abs(root.imag) < 1e-8 * max(1.0, abs(root.real)) and lo < root.real < hi:
            x = float(root.real)
            dpoly = poly.deriv()
            for _ in range(3):  # polish
                d = dpoly(x)
                if d == 0:
                    break
                x_new = x - poly(x) / d
                if not lo < x_new < hi:
                    break
                x = x_new
            candidates.append(x)
    values = [loglik(x) for x in candidates]
    x = candidates[int(np.argmax(values))]
    d = x - p1 * p2
    dmax = min(p1 * (1 - p2), (1 - p1) * p2) if d > 0 else min(p1 * p2, (1 - p1) * (1 - p2))
    r = d / math.sqrt(p1 * (1 - p1) * p2 * (1 - p2))
    chisq = 2 * n * r * r
    res.d, res.d_prime, res.r, res.r2 = d, d / dmax, r, r * r
    res.statistic, res.p_value = chisq, regression.chi2_sf(chisq, 1)
    return res


def pairwise_ld(G: np.ndarray, variants: list[PanelVariant], masks: dict[str, np.ndarray]) -> pd.DataFrame:
    """LD table (columns :data:`LD_COLUMNS`) for every pair of ``variants`` in every stratum.

    ``G`` is samples x variants effect-allele counts (NaN = not called), columns as ``variants``.
    """
    G = np.asarray(G, dtype=float)
    if G.ndim != 2 or G.shape[1] != len(variants):
        raise ValueError(f"G must be (n, {len(variants)}), got shape {G.shape}")
    called = np.isfinite(G)
    counts = np.where(called, G, 0).astype(np.int64)
    pairs = list(itertools.combinations(range(len(variants)), 2))
    if ((counts < 0) | (counts > 2)).any():  # ld_pair reports the first pair with such counts
        for (i, j), mask in itertools.product(pairs, masks.values()):
            ld_pair(G[mask, i], G[mask, j])
        called &= (counts >= 0) & (counts <= 2)  # the others are in no complete pair of a stratum
    # each sample's genotype-table cell (3 a1 + a2; 9 = a genotype missing) of each pair, offset
    # by 10 per pair: one bincount per stratum gives every pair's 3x3 table
    code = np.full((len(G), len(pairs)), 9, dtype=np.int64)
    for k, (i, j) in enumerate(pairs):
        both = called[:, i] & called[:, j]
        code[both, k] = counts[both, i] * 3 + counts[both, j]
    code += 10 * np.arange(len(pairs))
    tables = {
        stratum: np.bincount(code[mask].ravel(), minlength=10 * len(pairs)).reshape(len(pairs), 10)[:, :9]
        for stratum, mask in masks.items()
    }
    rows = []
    for k, (i, j) in enumerate(pairs):
        v1, v2 = variants[i], variants[j]
        for stratum in masks:
            res = ld_from_table(tables[stratum][k])
            rows.append(
                {
                    "variant1": v1.id,
                    "name1": v1.name,
                    "effect_allele1": v1.effect_allele,
                    "variant2": v2.id,
                    "name2": v2.name,
                    "effect_allele2": v2.effect_allele,
                    "stratum": stratum,
                    **{k: getattr(res, k) for k in LDResult.__dataclass_fields__},
                    "method": LD_METHOD,
                }
            )
    out = pd.DataFrame(rows, columns=LD_COLUMNS)
    out["n"] = out["n"].astype("Int64")
    return out


# --------------------------------------------------------------------------------------------
# EM haplotype frequencies
# --------------------------------------------------------------------------------------------


@dataclass
class Expansion:
    """Every sample's compatible unordered haplotype pairs (rows grouped by sample).

    ``haplotypes`` (2^L, L) 0/1 effect-allele indicators; ``sample``, ``h1``, ``h2`` per row
    (``h1 <= h2``); ``coef`` 2 for heterozygous pairs, 1 for homozygous ones; ``starts`` the first
    row of each sample. Samples with the same genotype pattern have the same rows: ``patterns``
    holds them once per distinct pattern (an :class:`Expansion` whose "samples" are the
    patterns), ``pattern`` is each sample's pattern and ``row_of`` each row's row in ``patterns``.
    """

    haplotypes: np.ndarray
    sample: np.ndarray
    h1: np.ndarray
    h2: np.ndarray
    coef: np.ndarray
    starts: np.ndarray
    n: int
    patterns: Expansion | None = field(default=None, repr=False)
    pattern: np.ndarray | None = field(default=None, repr=False)
    row_of: np.ndarray | None = field(default=None, repr=False)


def _pattern_codes(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``code`` (n, L), values 0..3, in lexicographic order, and each row's index
    among them: ``np.unique(code, axis=0, return_inverse=True)`` through base-4 keys."""
    L = code.shape[1]
    key = code @ (4 ** np.arange(L - 1, -1, -1, dtype=np.int64))
    present = np.bincount(key, minlength=4**L) > 0
    keys = np.flatnonzero(present)
    rank = np.cumsum(present) - 1
    digits = (keys[:, None] // (4 ** np.arange(L - 1, -1, -1, dtype=np.int64))) % 4
    return digits, rank[key]


def expand_pairs(G: np.ndarray) -> Expansion:
    """Compatible haplotype pairs of each sample of ``G`` (n, L) (0/1/2, NaN = missing locus).

    A missing locus is enumerated over both alleles (as haplo.em). Every row of ``G`` must have
    at least one called locus. The pairs are found once per distinct genotype pattern and copied
    to the samples with that pattern.
    """
    G = np.asarray(G, dtype=float)
    if G.ndim != 2 or not 1 <= G.shape[1] <= 10:
        raise ValueError(f"G must be (n, L) with 1 <= L <= 10 loci, got shape {G.shape}")
    called = np.isfinite(G)
    if (~called.any(axis=1)).any():
        raise ValueError(f"{int((~called.any(axis=1)).sum())} samples have no called locus; drop them first")
    if ((G[called] != 0) & (G[called] != 1) & (G[called] != 2)).any():
        raise ValueError("effect-allele counts must be 0, 1 or 2 (NaN for missing)")
    n, L = G.shape
    H = np.array(list(itertools.product((0, 1), repeat=L)), dtype=np.int8)  # haplotype k: bits
    a, b = np.triu_indices(len(H))
    pair_geno = H[a] + H[b]  # (P, L)
    code = np.where(called, G, 3).astype(np.int64)
    patterns, pat_of = _pattern_codes(code)
    compatible = [
        np.flatnonzero(((pair_geno == p) | (p == 3)).all(axis=1)) for p in patterns
    ]  # indices into (a, b)
    psizes = np.array([len(c) for c in compatible])
    pstarts = np.concatenate([[0], np.cumsum(psizes)[:-1]])
    pair = np.concatenate(compatible)
    ph1, ph2 = a[pair], b[pair]
    pcoef = np.where(ph1 == ph2, 1.0, 2.0)
    patterns_ex = Expansion(
        haplotypes=H,
        sample=np.repeat(np.arange(len(patterns)), psizes),
        h1=ph1,
        h2=ph2,
        coef=pcoef,
        starts=pstarts,
        n=len(patterns),
    )
    counts = psizes[pat_of]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    total = int(counts.sum())
    within = np.arange(total) - np.repeat(starts, counts)
    row_of = np.repeat(pstarts[pat_of], counts) + within
    return Expansion(
        haplotypes=H,
        sample=np.repeat(np.arange(n), counts),
        h1=ph1[row_of],
        h2=ph2[row_of],
        coef=pcoef[row_of],
        starts=starts,
        n=n,
        patterns=patterns_ex,
        pattern=pat_of,
        row_of=row_of,
    )


def _group_logsumexp(lp: np.ndarray, ex: Expansion) -> np.ndarray:
    """log sum exp of ``lp`` over each sample's rows (``ex.starts``; ``ex.sample`` per row)."""
    m = np.maximum.reduceat(lp, ex.starts)
    return m + np.log(np.add.reduceat(np.exp(lp - m[ex.sample]), ex.starts))


def _log_prior(ex: Expansion, freqs: np.ndarray) -> np.ndarray:
    """Log prior probability of each pair row, ``log(coef f_h1 f_h2)``."""
    with np.errstate(divide="ignore"):
        return np.log(ex.coef) + np.log(freqs[ex.h1]) + np.log(freqs[ex.h2])


def _posterior(ex: Expansion, freqs: np.ndarray, log_density=None) -> tuple[np.ndarray, float]:
    """Posterior of each pair row and the log-likelihood sum_i log sum_pairs prior (x density).

    The prior part is computed once per distinct genotype pattern (``ex.patterns``) and copied
    to the rows: the same numbers as computing it row by row. Without ``log_density`` the whole
    posterior is a function of the pattern, so it is normalised per pattern and copied.
    """
    pe = ex.patterns
    if pe is None:
        lp = _log_prior(ex, freqs)
    elif log_density is None:
        lp_u = _log_prior(pe, freqs)
        tot_u = _group_logsumexp(lp_u, pe)
        post_u = np.exp(lp_u - tot_u[pe.sample])
        return post_u[ex.row_of], float(tot_u[ex.pattern].sum())
    else:
        lp = _log_prior(pe, freqs)[ex.row_of]
    if log_density is not None:
        lp = lp + log_density
    tot = _group_logsumexp(lp, ex)
    post = np.exp(lp - tot[ex.sample])
    return post, float(tot.sum())


def _count_freqs(ex: Expansion, post: np.ndarray) -> np.ndarray:
    k = len(ex.haplotypes)
    return (np.bincount(ex.h1, post, k) + np.bincount(ex.h2, post, k)) / (2.0 * ex.n)


@dataclass
class EMResult:
    """Haplotype frequencies of one EM run (``freqs`` indexed as ``expansion.haplotypes``)."""

    freqs: np.ndarray
    loglik: float
    n_iter: int
    converged: bool
    expansion: Expansion
    posterior: np.ndarray = field(repr=False)


# The EM stops when the log-likelihood changes by less than ``tol`` *and* every parameter has
# settled: at |ll| ~ 1e4-1e5 a change of 1e-10 is a few units of rounding, so the log-likelihood
# alone lets a slowly moving estimate stop one iteration earlier or later by chance (the
# summation order of numpy's reductions depends on memory alignment), moving reported
# estimates by up to 1e-5 of themselves between two runs of the same data.
SETTLE_RTOL = 1e-10


def _settled(new: np.ndarray, old: np.ndarray | None, rtol: float = SETTLE_RTOL) -> bool:
    """Whether every parameter of ``new`` moved from ``old`` by at most ``rtol`` of itself, or of
    a thousandth of the largest one for a parameter near zero: the EM's stopping rule on the
    parameters, beside the one on the log-likelihood, whose increments understate the distance
    to the maximum where the EM moves slowly."""
    if old is None:
        return False
    size = np.abs(new)
    return bool(np.all(np.abs(new - old) <= rtol * (size + 1e-3 * size.max())))


def haplotype_em(G: np.ndarray, *, max_iter: int = 5000, tol: float = 1e-10) -> EMResult:
    """EM haplotype frequencies of unphased genotypes (Excoffier & Slatkin 1995).

    Parameters
    ----------
    G : float array (n, L), effect-allele counts 0/1/2 of the block loci; NaN = not called
        (enumerated). Every sample needs at least one called locus.
    max_iter : EM iterations before giving up (``converged=False``).
    tol : convergence when the log-likelihood increases by less than ``tol`` and no frequency
        moves by more than :data:`SETTLE_RTOL` of itself (:func:`_settled`).

    Returns
    -------
    EMResult; the start is equal posterior weights over every sample's compatible pairs
    (haplo.em with ``random.start = 0``).
    """
    if max_iter < 1 or not tol > 0:
        raise ValueError(f"max_iter must be >= 1 and tol > 0, got {max_iter} and {tol}")
    ex = expand_pairs(G)
    sizes = np.diff(np.append(ex.starts, ex.h1.size))
    freqs = _count_freqs(ex, np.repeat(1.0 / sizes, sizes))
    ll_old = -math.inf
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (reported)
        post, ll = _posterior(ex, freqs)
        freqs, before = _count_freqs(ex, post), freqs
        if abs(ll - ll_old) < tol and _settled(freqs, before):
            converged = True
            break
        ll_old = ll
    post, ll = _posterior(ex, freqs)
    return EMResult(freqs=freqs, loglik=ll, n_iter=it, converged=converged, expansion=ex, posterior=post)


# --------------------------------------------------------------------------------------------
# the block and its names
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """Block variants in genomic order; names of the block and of its haplotypes."""

    variants: tuple[PanelVariant, ...]

    @property
    def ids(self) -> list[str]:
        return [v.id for v in self.variants]

    @property
    def name(self) -> str:
        """Variant names in literature order (descending position), e.g. ``BsmI-ApaI-TaqI``."""
        return "-".join(v.name for v in reversed(self.variants))

    def nucleotides(self, bits) -> str:
        """``C-C-A``: forward alleles of a 0/1 effect-allele vector (bits in genomic order), written
        in the locus order of :meth:`rflp` (descending position), e.g. ``baT`` = ``C-C-A``."""
        alleles = [v.effect_allele if b else v.other_allele for v, b in zip(self.variants, bits, strict=True)]
        return "-".join(reversed(alleles))

    def rflp(self, bits) -> str:
        """``baT``: literature letters in descending genomic position (VDR 5' to 3')."""
        parts = [
            v.label(v.effect_allele if b else v.other_allele)
            for v, b in zip(self.variants, bits, strict=True)
        ]
        return "".join(reversed(parts)) if all(len(p) == 1 for p in parts) else "-".join(reversed(parts))


def make_block(panel: Panel, ids: list[str]) -> Block:
    """The block of ``ids`` (diploid panel variants, at least two) in genomic (GRCh38) order."""
    if len(ids) < 2 or len(set(ids)) != len(ids):
        raise InputError(
            f"config key haplotypes.block: expected at least two distinct variant ids, got {ids}"
        )
    unknown = [i for i in ids if i not in panel.ids]
    if unknown:
        raise InputError(
            f"config key haplotypes.block: {', '.join(unknown)} not among the analysed variants "
            f"({', '.join(panel.ids)}); add them to `variants`"
        )
    haploid = [i for i in ids if panel[i].ploidy != 2]
    if haploid:
        raise InputError(f"config key haplotypes.block: {', '.join(haploid)} are not diploid variants")
    vs = sorted((panel[i] for i in ids), key=lambda v: v.pos_grch38)
    if len({v.chrom for v in vs}) > 1:
        raise InputError("config key haplotypes.block: the variants must lie on one chromosome")
    return Block(tuple(vs))


def without_unavailable(panel: Panel, hap: HaplotypeSettings, unavailable: dict[str, str] | None):
    """The haplotype settings with the block variants extraction could not give (``unavailable``:
    id -> ``extraction.tsv`` reason, e.g. ``not in the genotype files``) left out of the block, the
    note naming them ('' when none), and the name of the configured block."""
    ids = hap.ids
    name = make_block(panel, ids).name
    gone = [i for i in ids if i in (unavailable or {})]
    if not gone:
        return hap, "", name
    note = "; ".join(f"{panel[i].name} ({i}) left out of the block: {unavailable[i]}" for i in gone)
    return hap.without(gone), note, name


def _with_note(table: pd.DataFrame, note: str) -> pd.DataFrame:
    if note and len(table):
        old = table["note"].fillna("").astype(str)
        table = table.assign(note=np.where(old == "", note, old + "; " + note))
    return table


# --------------------------------------------------------------------------------------------
# frequency table
# --------------------------------------------------------------------------------------------


def frequency_rows(block: Block, G: np.ndarray, stratum: str, *, min_freq: float, max_iter: int, tol: float):
    """Rows of ``haplotypes.tsv`` for one stratum: common haplotypes (descending frequency), then
    the pooled ``rare`` class (frequency at or below ``min_freq``) with its members."""
    base = {"block": block.name, "variants": ",".join(block.ids), "stratum": stratum, "method": EM_METHOD}
    keep = np.isfinite(G).any(axis=1)
    n = int(keep.sum())
    if n == 0:
        return [{**base, "n": 0, "n_chromosomes": 0, "note": "no samples with a called block genotype"}]
    em = haplotype_em(G[keep], max_iter=max_iter, tol=tol)
    info = {
        **base,
        "n": n,
        "n_chromosomes": 2 * n,
        "log_likelihood": em.loglik,
        "em_iterations": em.n_iter,
        "converged": em.converged,
    }
    if not em.converged:
        return [{**info, "note": f"EM did not converge in {max_iter} iterations (em_max_iter)"}]
    rows, rare, rare_f = [], [], 0.0
    for k in np.argsort(-em.freqs, kind="stable"):
        f = float(em.freqs[k])
        bits = em.expansion.haplotypes[k]
        if f > min_freq:
            rows.append(
                {**info, "haplotype": block.nucleotides(bits), "rflp": block.rflp(bits), "frequency": f,
                 "pooled": False, "members": ""}
            )  # fmt: skip
        elif f * 2 * n >= 1e-6:
            rare.append(block.rflp(bits))
            rare_f += f
    rows.append(
        {**info, "haplotype": "rare", "rflp": "rare", "frequency": rare_f, "pooled": True,
         "members": ",".join(rare), "note": f"haplotypes with frequency <= min_freq {min_freq}"}
    )  # fmt: skip
    return rows


def frequency_table(
    block: Block, G: np.ndarray, masks: dict[str, np.ndarray], *, min_freq=0.01, max_iter=5000, tol=1e-10
) -> pd.DataFrame:
    """``haplotypes.tsv`` (columns :data:`FREQUENCY_COLUMNS`): EM frequencies per stratum."""
    rows = []
    for stratum, mask in masks.items():
        rows += frequency_rows(block, G[mask], stratum, min_freq=min_freq, max_iter=max_iter, tol=tol)
    out = pd.DataFrame(rows, columns=FREQUENCY_COLUMNS)
    for col in ("n", "n_chromosomes", "em_iterations"):
        out[col] = pd.to_numeric(out[col]).astype("Int64")
    return out


# --------------------------------------------------------------------------------------------
# regression kernels on the expanded data
# --------------------------------------------------------------------------------------------


def _weighted_lstsq(XF: np.ndarray, y: np.ndarray, sw: np.ndarray) -> np.ndarray:
    """``scipy.linalg.lstsq(X * sw[:, None], y * sw)`` for a full-length ``XF`` (n >= p) in
    Fortran order: the same LAPACK call (``gelsd``, scipy's default driver, with scipy's
    workspace and ``cond``) on arrays built for it and overwritten, without scipy's copies."""
    return _gelsd(XF * sw[:, None], y * sw)  # Fortran order, as LAPACK reads it


def _gelsd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``scipy.linalg.lstsq(a, b)[0]`` by LAPACK ``gelsd`` on ``a`` and ``b`` themselves
    (overwritten; ``a`` in Fortran order, m >= p, finite; else scipy's own answer or error)."""
    m, p = a.shape
    if m < p or not a.flags.f_contiguous or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return linalg.lstsq(a, b)[0]  # scipy's own answer (or error)
    gelsd, gelsd_lwork = lapack.get_lapack_funcs(("gelsd", "gelsd_lwork"), (a, b))
    cond = np.finfo(gelsd.dtype).eps
    work, iwork, info = gelsd_lwork(m, p, 1, cond)
    if info != 0:
        raise ValueError(f"gelsd workspace query failed (info {info})")
    x, _, _, info = gelsd(a, b, int(work.real), int(iwork.real), cond, True, True)
    if info != 0:
        raise linalg.LinAlgError(f"gelsd failed (info {info})")
    return x[:p]


@dataclass
class _Ambiguous:
    """The samples of an :class:`Expansion` with more than one compatible pair (phase or a
    missing locus uncertain): ``samples`` their indices, ``rows`` their rows (grouped by sample),
    ``starts`` each one's first position in ``rows`` and ``group`` each position's sample among
    them; ``single`` the other samples (one pair, posterior 1 whatever the parameters) and
    ``single_rows`` their rows."""

    samples: np.ndarray
    rows: np.ndarray
    starts: np.ndarray
    group: np.ndarray
    single: np.ndarray
    single_rows: np.ndarray


def _ambiguous(ex: Expansion) -> _Ambiguous:
    sizes = np.diff(np.append(ex.starts, ex.h1.size))
    multi = sizes > 1
    msizes = sizes[multi]
    single = np.flatnonzero(~multi)
    return _Ambiguous(
        samples=np.flatnonzero(multi),
        rows=np.flatnonzero(multi[ex.sample]),
        starts=np.concatenate([[0], np.cumsum(msizes)[:-1]]).astype(np.intp),
        group=np.repeat(np.arange(msizes.size), msizes),
        single=single,
        single_rows=ex.starts[single],
    )


class _PooledLeastSquares:
    """The weighted least squares of the linear EM-GLM (rows ``[X0[sample], Xh]``, response
    ``y[sample]``, weights the pair posteriors ``w``, summing to 1 over each sample's pairs) on
    fewer rows. With ``e_i = sum_j w_ij xh_ij``, ``sum_j w_ij (u_i - xh_ij' b)^2 = (u_i - e_i' b)^2
    + sum_j w_ij ((xh_ij - e_i)' b)^2`` (``u_i = y_i - x0_i' a``), so the same problem is: one row
    ``[x0_i, e_i | y_i]`` per sample, plus ``k`` rows ``[0, T | 0]`` with ``T'T`` the pooled
    within-sample covariance of the counts, ``sum_ij w_ij xh_ij xh_ij' - sum_i e_i e_i'`` (the
    first sum by pair; ``T`` from its eigendecomposition). The rows of the samples with one pair
    (``e_i = xh_i``, fixed) enter through the R of one QR (Golub & Van Loan, Matrix Computations,
    5.3: least squares updated by rows). Solved by LAPACK ``gelsd`` as :func:`_weighted_lstsq`:
    the same estimate up to rounding."""

    def __init__(self, X0: np.ndarray, Xh: np.ndarray, y: np.ndarray, ex: Expansion, amb: _Ambiguous):
        p0, k = X0.shape[1], Xh.shape[1]
        fixed = np.column_stack([X0[amb.single], Xh[amb.single_rows], y[amb.single]])
        r = np.linalg.qr(fixed, mode="r") if len(fixed) else np.empty((0, p0 + k + 1))
        na = amb.samples.size
        self.template = np.zeros((len(r) + na + k, p0 + k + 1), order="F")
        self.template[: len(r)] = r
        self.template[len(r) : len(r) + na, :p0] = X0[amb.samples]
        self.template[len(r) : len(r) + na, -1] = y[amb.samples]
        self.at, self.p0 = len(r), p0
        self.xh = np.ascontiguousarray(Xh[amb.rows].T)  # (k, rows): one contiguous row per term
        # each row's pair (h1, h2) and the term counts of each pair
        n_h = len(ex.haplotypes)
        self.pair = (ex.h1 * n_h + ex.h2)[amb.rows]
        self.counts = np.zeros((n_h * n_h, k))
        self.counts[self.pair] = Xh[amb.rows]
        self.amb = amb

    def solve(self, w: np.ndarray) -> np.ndarray:
        """The coefficients for pair weights ``w`` (all rows of the expansion)."""
        amb, at, p0 = self.amb, self.at, self.p0
        wa = w[amb.rows]
        a = self.template.copy(order="F")
        if amb.rows.size:
            na = amb.samples.size
            e = np.array([np.bincount(amb.group, wa * xh, na) for xh in self.xh])  # (k, na)
            # sum_ij w_ij xh_ij xh_ij' by pair, minus sum_i e_i e_i'
            w_pair = np.bincount(self.pair, wa, len(self.counts))
            lam, u = np.linalg.eigh(self.counts.T @ (w_pair[:, None] * self.counts) - e @ e.T)
            a[at : at + na, p0:-1] = e.T
            a[at + na :, p0:-1] = np.sqrt(np.maximum(lam, 0.0))[:, None] * u.T
        return _gelsd(a[:, :-1], a[:, -1].copy())


def _weighted_fit(X, y, w, binary, beta=None, maxit=50, tol=1e-10, pooled=None):
    """Weighted GLM (prior weights ``w``): the package's IRLS
    (:func:`vdrbone.regression.fit_logistic`, warm-started at ``beta``) for the logit link,
    weighted least squares for the identity link (by ``pooled``, a :class:`_PooledLeastSquares`
    of these rows, if at hand).

    Returns ``(beta, mu, converged)``; R ``glm.fit(weights = w)`` gives the same estimate.
    """
    if not binary:
        beta = _weighted_lstsq(np.asfortranarray(X), y, np.sqrt(w)) if pooled is None else pooled.solve(w)
        return beta, X @ beta, True
    fit = regression.fit_logistic(X, y, weights=w, start=beta, maxit=maxit, tol=tol)
    return fit.beta, special.expit(X @ fit.beta), fit.converged


_NORM_LOG_C = np.log(np.sqrt(2 * np.pi))  # scipy.stats.norm's log normalising constant


def _norm_logpdf(y, mu, scale: float) -> np.ndarray:
    """``scipy.stats.norm.logpdf(y, loc=mu, scale=scale)``, the same numbers, without its
    argument handling when every standardised value is finite (else scipy itself)."""
    if scale > 0:
        x = (y - mu) / scale
        if np.isfinite(x).all():
            return (-(x**2) / 2.0 - _NORM_LOG_C) - np.log(np.full(x.shape, scale))
    from scipy import stats  # only for a non-finite value or scale

    return stats.norm.logpdf(y, loc=mu, scale=scale)


def _log_density(y, mu, w, binary):
    if binary:
        with np.errstate(divide="ignore"):
            return np.where(y == 1, np.log(mu), np.log1p(-mu))
    mse = float(w @ (y - mu) ** 2) / float(w.sum())  # haplo.glm's dglm.fit: weighted ML variance
    return _norm_logpdf(y, mu, math.sqrt(mse))


def _term_counts(ex: Expansion, terms: list[list[int]]) -> np.ndarray:
    """Copies of each term's haplotypes (0, 1, 2) in each pair row, one column per term."""
    member = np.zeros((len(terms), len(ex.haplotypes)), dtype=bool)
    for i, t in enumerate(terms):
        member[i, t] = True
    return (member[:, ex.h1] * 1.0 + member[:, ex.h2]).T


def _louis_cov(ex: Expansion, X, y, mu, post, freqs, base, binary):
    """Covariance of the coefficients from the Louis (1982) information of (beta, frequencies),
    as haplo.glm's ``louis_info`` (haplotypes below MIN_INFO left out; generalised inverse).

    ``info = sum_rows w I_c - sum_rows w s s' + sum_i S_i S_i'`` (``I_c``, ``s``: complete-data
    information and score of a pair row, ``S_i = sum_j w_ij s_ij``). The frequency parts of
    ``s`` and ``I_c`` depend on the pair only: tabled once per pair, summed by pair. A sample with
    one pair (posterior 1) adds ``s s'`` to both of the last two sums: only the samples with
    several pairs enter them."""
    kept = freqs >= MIN_INFO
    keep_h = np.flatnonzero(kept)
    rows = kept[ex.h1] & kept[ex.h2]
    n_cov = X.shape[1]
    resid = y - mu
    vfunc = mu * (1 - mu)
    if not binary:
        mse = float(post @ resid**2) / (float(post.sum()) - n_cov)
        resid = resid / mse
        vfunc = np.full_like(mu, 1.0 / mse)
    params = [h for h in keep_h if h != base]
    pf = freqs[params]
    n_h = len(freqs)
    copies = np.zeros((n_h, len(params)))
    copies[params, np.arange(len(params))] = 1.0
    # per ordered pair (h1, h2): copies of each parameter haplotype and of the base
    c = (copies[:, None, :] + copies[None, :, :]).reshape(n_h * n_h, len(params))
    is_base = (np.arange(n_h) == base) * 1.0
    cb = (is_base[:, None] + is_base[None, :]).ravel()
    score_f = c / pf - (cb / freqs[base])[:, None]  # complete-data score for the frequencies
    pair = ex.h1 * n_h + ex.h2
    w_pair = np.bincount(pair[rows], post[rows], n_h * n_h)
    w, x = (post, X) if rows.all() else (post[rows], X[rows])
    comp = np.zeros((n_cov + len(params), n_cov + len(params)))
    comp[:n_cov, :n_cov] = regression._weighted_gram(x, w * (vfunc if x is X else vfunc[rows]))
    comp[n_cov:, n_cov:] = np.diag(w_pair @ (c / pf**2)) + float(w_pair @ cb) / freqs[base] ** 2
    amb = _ambiguous(ex)
    if (post[amb.single_rows] == 1.0).all():
        sub = rows[amb.rows]
        ra, group, n_groups = amb.rows[sub], amb.group[sub], amb.samples.size
    else:  # a posterior of a single pair is not 1 (not finite): every sample
        ra = np.flatnonzero(rows)
        group, n_groups = ex.sample[ra], ex.n
    # complete-data scores of those rows, one contiguous row per parameter (q, rows)
    s = np.empty((n_cov + len(params), len(ra)))
    np.multiply(X[ra].T, resid[ra], out=s[:n_cov])  # for beta
    s[n_cov:] = score_f.T[:, pair[ra]]  # for the frequencies
    ss = s * np.sqrt(post[ra])  # sum_rows w s s' = ss ss'
    S = np.array([np.bincount(group, v, n_groups) for v in s * post[ra]])  # E[score | data] per sample
    info = comp - ss @ ss.T + S @ S.T
    return np.linalg.pinv(info, rcond=EPS_SVD, hermitian=True)[:n_cov, :n_cov]


@dataclass
class HaplotypeFit:
    """One haplotype regression: coefficients of the haplotype columns and the global test."""

    beta: np.ndarray
    se: np.ndarray
    loglik: float
    loglik_null: float
    statistic: float
    df: int
    p_value: float
    df_residual: int
    converged: bool
    n_iter: int
    method: str
    aic: float = math.nan
    freqs: np.ndarray | None = None


def haplotype_regression(
    y,
    covariates,
    em: EMResult,
    *,
    terms: list[list[int]],
    base: int,
    outcome_type: str,
    method: str = "haplo_glm",
    max_iter: int = 500,
    tol: float = 1e-8,
) -> HaplotypeFit:
    """Additive haplotype regression of ``y`` on covariates and haplotype counts.

    Parameters
    ----------
    y : float array (n,), no missing values (0/1 for binary).
    covariates : float array (n, k), no missing values.
    em : :func:`haplotype_em` on the same n samples (starting frequencies and posteriors).
    terms : haplotype indices of each tested column: ``[h]`` for a common haplotype, the pooled
        rare haplotypes as one list (the column counts copies of any of them).
    base : index of the reference haplotype (its column is left out).
    outcome_type : ``'binary'`` (logistic) or ``'continuous'`` (linear).
    method : ``'haplo_glm'`` (Lake et al. 2003; EM-weighted GLM, Louis SEs, LRT) or
        ``'expected_counts'`` (posterior expected counts in an ordinary GLM; LRT / F test).
    max_iter, tol : EM-GLM iterations and convergence on the log-likelihood (haplo.glm: 500 and
        ``min(glm epsilon, 1e-6)`` = 1e-8), once the coefficients and frequencies have settled
        too (:func:`_settled`).

    Returns
    -------
    HaplotypeFit. The global test compares with the covariate-only model on the same samples
    (haplo_glm: its log-likelihood plus the plain EM genotype log-likelihood).
    """
    binary = outcome_type == "binary"
    y = np.asarray(y, dtype=float)
    C = np.asarray(covariates, dtype=float).reshape(len(y), -1)
    ex = em.expansion
    if ex.n != len(y):
        raise ValueError(f"the EM has {ex.n} samples, y has {len(y)}")
    Xh = _term_counts(ex, terms)
    X0 = np.column_stack([np.ones(len(y)), C])
    k = len(terms)
    null = regression.fit_logistic(X0, y) if binary else regression.fit_linear(X0, y)
    if method == "expected_counts":
        E = np.zeros((ex.n, k))
        np.add.at(E, ex.sample, em.posterior[:, None] * Xh)
        X = np.column_stack([X0, E])
        fit = regression.fit_logistic(X, y) if binary else regression.fit_linear(X, y)
        n, p = X.shape
        if binary:
            stat = max(2 * (fit.loglik - null.loglik), 0.0)
            pval = regression.chi2_sf(stat, k)
            label, aic = "logistic on expected haplotype counts, LRT", -2 * fit.loglik + 2 * p
        else:
            stat = max(((null.rss - fit.rss) / k) / (fit.rss / (n - p)), 0.0)
            pval = regression.f_sf(stat, k, n - p)
            label, aic = "linear on expected haplotype counts, F test", -2 * fit.loglik + 2 * (p + 1)
        return HaplotypeFit(
            fit.beta[-k:], fit.se[-k:], fit.loglik, null.loglik, stat, k, pval, n - p,
            fit.converged, fit.n_iter, label, aic, em.freqs,
        )  # fmt: skip
    if method != "haplo_glm":
        raise ValueError(f"method must be 'haplo_glm' or 'expected_counts', got {method!r}")
    X = np.column_stack([X0[ex.sample], Xh])
    pooled = None if binary else _PooledLeastSquares(X0, Xh, y, ex, _ambiguous(ex))
    ye = y[ex.sample]
    freqs, post = em.freqs.copy(), em.posterior.copy()
    beta, ll_old, converged, it, ll = None, -math.inf, False, 0, -math.inf
    mu = None
    for it in range(1, max_iter + 1):  # noqa: B007 (reported)
        previous = beta
        beta, mu, ok = _weighted_fit(X, ye, post, binary, beta, pooled=pooled)
        if not ok or not np.all(np.isfinite(beta)):
            break
        post, ll = _posterior(ex, freqs, _log_density(ye, mu, post, binary))
        freqs, before = _count_freqs(ex, post), freqs
        if abs(ll - ll_old) < tol and _settled(beta, previous) and _settled(freqs, before):
            converged = True
            break
        ll_old = ll
    n, p = len(y), X.shape[1]
    if not converged:
        nan = np.full(k, np.nan)
        return HaplotypeFit(nan, nan, ll, math.nan, math.nan, k, math.nan, n - p, False, it, "", freqs=freqs)
    cov = _louis_cov(ex, X, ye, mu, post, freqs, base, binary)
    se = np.sqrt(np.diag(cov))[-k:]
    ll0 = null.loglik + em.loglik
    stat = max(2 * (ll - ll0), 0.0)
    label = ("logistic" if binary else "linear") + " EM-GLM (haplo.glm), LRT"
    return HaplotypeFit(
        beta[-k:], se, ll, ll0, stat, k, regression.chi2_sf(stat, k), n - p, True, it, label, freqs=freqs
    )


FIRTH_METHOD = "logistic EM-GLM (haplo.glm, Firth), penalised LRT; profile penalised-likelihood CI"
FIRTH_GLOBAL_METHOD = "logistic EM-GLM (haplo.glm, Firth), penalised LRT"


@dataclass
class HaplotypeFirth:
    """Firth fallback of the logistic haplo.glm fit (:func:`haplotype_firth`).

    Per haplotype term (length k): ``beta`` (log OR), ``se`` (Louis), ``statistic`` / ``p_value``
    (penalised LRT, 1 df), ``ci_lower`` / ``ci_upper`` (profile penalised-likelihood 95% limits,
    log scale). ``global_statistic`` / ``global_p_value``: penalised LRT of all k terms (k df).
    ``fit``: the weighted Firth fit of the expanded data (all coefficients, inverse Fisher
    information); ``weights``: the posterior pair weights it used. NaN where a restricted fit did
    not converge.
    """

    beta: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    global_statistic: float
    global_p_value: float
    converged: bool
    n_iter: int
    fit: regression.RegressionFit | None = None
    weights: np.ndarray | None = field(default=None, repr=False)
    freqs: np.ndarray | None = None


def haplotype_firth(
    y, covariates, em: EMResult, *, terms: list[list[int]], base: int, max_iter: int = 500, tol: float = 1e-8
) -> HaplotypeFirth:
    """Firth fallback of the logistic EM-GLM: penalised likelihood on the expanded data.

    haplo.glm's EM-GLM loop (:func:`haplotype_regression`) with the weighted logistic fit
    replaced by Firth's penalised one (:func:`vdrbone.regression.fit_firth` with the posterior
    pair probabilities as prior weights ``a``: ``l_a(beta) + 0.5 log det X' diag(a mu (1 - mu))
    X``, Firth 1993): from the genotype-only EM posteriors, fit, update the posteriors given
    genotype and trait (at the Firth fitted probabilities) and the haplotype frequencies, until
    the observed-data log-likelihood changes by less than ``tol`` and the coefficients and
    frequencies have settled (:func:`_settled`). Inference is then conditional
    on the posterior weights of the final fit (as haplo.glm's final GLM): each term's penalised
    likelihood-ratio test (that coefficient fixed at 0, the others re-maximised, the penalty
    from the full design and the same weights; 1 df, as R ``logistf``), the profile
    penalised-likelihood 95% CI (Heinze & Schemper 2002) and the joint penalised LRT of all
    haplotype terms (k df; the global test). ``se``: Wald SE from the Louis (1982) information
    at the Firth estimate (as the ML rows), which also counts the phase and frequency
    uncertainty that the conditional tests leave out.

    Parameters
    ----------
    y, covariates, em, terms, base, max_iter, tol : as :func:`haplotype_regression` (binary
        ``y``).

    Returns
    -------
    HaplotypeFirth (``converged=False`` with NaN numbers when a Firth fit or the loop fails).
    """
    y = np.asarray(y, dtype=float)
    C = np.asarray(covariates, dtype=float).reshape(len(y), -1)
    ex = em.expansion
    if ex.n != len(y):
        raise ValueError(f"the EM has {ex.n} samples, y has {len(y)}")
    k = len(terms)
    Xh = _term_counts(ex, terms)
    X = np.column_stack([np.ones(ex.h1.size), C[ex.sample], Xh])
    ye = y[ex.sample]
    freqs, post = em.freqs.copy(), em.posterior.copy()
    fit, weights, ll_old, converged, it = None, post, -math.inf, False, 0
    previous = None
    for it in range(1, max_iter + 1):  # noqa: B007 (reported)
        fit = regression.fit_firth(X, ye, weights=post, start=None if fit is None else fit.beta)
        if not fit.converged:
            break
        weights = post
        mu = special.expit(X @ fit.beta)
        post, ll = _posterior(ex, freqs, _log_density(ye, mu, weights, True))
        freqs, before = _count_freqs(ex, post), freqs
        settled = previous is not None and _settled(fit.beta, previous) and _settled(freqs, before)
        previous = fit.beta
        if abs(ll - ll_old) < tol and settled:
            converged = True
            break
        ll_old = ll
    nan = np.full(k, np.nan)
    if not converged:
        return HaplotypeFirth(
            nan, nan, nan, nan, nan, nan, math.nan, math.nan, False, it, fit, weights, freqs
        )
    p = X.shape[1]
    idx = np.arange(p - k, p)
    mu = special.expit(X @ fit.beta)
    se = np.sqrt(np.diag(_louis_cov(ex, X, ye, mu, weights, freqs, base, True)))[idx]
    tests = [regression.penalised_lrt(X, ye, fit, [j], weights=weights) for j in idx]
    limits = [regression.profile_limits(X, ye, fit, int(j), weights=weights) for j in idx]
    g_stat, g_p = regression.penalised_lrt(X, ye, fit, idx, weights=weights)
    return HaplotypeFirth(
        beta=fit.beta[idx], se=se, statistic=np.array([t[0] for t in tests]),
        p_value=np.array([t[1] for t in tests]), ci_lower=np.array([lim[0] for lim in limits]),
        ci_upper=np.array([lim[1] for lim in limits]), global_statistic=g_stat, global_p_value=g_p,
        converged=True, n_iter=it, fit=fit, weights=weights, freqs=freqs,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# association table
# --------------------------------------------------------------------------------------------


def _stratum_rows(block, em, y, C, *, binary, cov_label, min_freq, hap, min_n, min_cases, reference_h):
    """Association rows of one stratum (TestResults with their haplotype labels)."""
    n = len(y)
    base_fields = {"n": n}
    if binary:
        base_fields.update(n_cases=int(y.sum()), n_controls=n - int(y.sum()))
    H = em.expansion.haplotypes
    nuc = [block.nucleotides(h) for h in H]
    rfl = [block.rflp(h) for h in H]
    out = []

    def add(res, h=None, members=""):
        res.extra = {
            "haplotype": nuc[h] if h is not None else ("rare" if members else ""),
            "frequency": float(em.freqs[h]) if h is not None else math.nan,
            "members": members,
        }
        out.append((res, h))

    def global_reason(note):
        add(TestResult(model="haplotype_global", term="global", note=note, **base_fields))
        return out, None

    if not em.converged:
        return global_reason(f"EM did not converge in {hap.em_max_iter} iterations (em_max_iter)")
    base = reference_h if reference_h is not None else int(np.argmax(em.freqs))
    if em.freqs[base] * 2 * n < ABSENT_COUNT:
        return global_reason(f"reference haplotype {rfl[base]} absent in this stratum")
    if em.freqs[base] <= min_freq:
        return global_reason(f"reference haplotype {rfl[base]} rare in this stratum (<= min_freq {min_freq})")
    order = [int(h) for h in np.argsort(-em.freqs, kind="stable") if h != base]
    common = [h for h in order if em.freqs[h] > min_freq]
    rare = [h for h in order if em.freqs[h] <= min_freq and em.freqs[h] * 2 * n >= 1e-6]
    rare_f = float(em.freqs[rare].sum()) if rare else 0.0
    terms = [[h] for h in common]
    merged = ""
    if rare and rare_f > RARE_TERM_MIN:
        terms.append(rare)
    elif rare:  # as haplo.glm: a rare class below sum.rare.min counts as the reference
        merged = (
            f"rare haplotypes {','.join(rfl[j] for j in rare)} (pooled frequency {rare_f:.3g} <= "
            f"{RARE_TERM_MIN}) merged into the reference"
        )
    note = regression.sample_checks(y, binary, n, 1 + C.shape[1] + max(len(terms), 1), min_n, min_cases)
    if not note and not terms:
        note = "no haplotype besides the reference in this stratum"
    if not note:
        note = regression.collinear_note(
            np.column_stack([np.ones(n), C]), cov_label.split("+") if cov_label else []
        )
    if note:
        return global_reason(note)
    fit = haplotype_regression(
        y, C, em, terms=terms, base=base, outcome_type="binary" if binary else "continuous",
        method=hap.method, max_iter=hap.em_max_iter, tol=hap.em_tol,
    )  # fmt: skip
    bad = ~np.isfinite(fit.se) | (np.abs(fit.beta) > MAX_ABS_BETA) | (fit.se > regression.MAX_SE)
    if binary and hap.method == "haplo_glm" and (not fit.converged or bad.any()):
        why = (
            "EM-GLM did not converge"
            if not fit.converged
            else "quasi-complete separation ("
            + ", ".join(rfl[t[0]] if len(t) == 1 else "rare" for t, b in zip(terms, bad, strict=True) if b)
            + ")"
        )
        firth = haplotype_firth(y, C, em, terms=terms, base=base, max_iter=hap.em_max_iter, tol=hap.em_tol)
        if firth.converged:
            for res, h, members in _firth_results(
                firth, terms, rfl, f"firth-fallback: {why}", merged, base_fields
            ):
                add(res, h, members)
            return out, base
        if not fit.converged:
            return global_reason(
                f"EM-GLM did not converge in {hap.em_max_iter} iterations (em_max_iter), "
                "with or without the Firth penalty"
            )
    if not fit.converged:
        return global_reason(f"EM-GLM did not converge in {hap.em_max_iter} iterations (em_max_iter)")
    etype = "OR" if binary else "beta"
    wald = "Wald z" if binary else f"Wald t ({fit.df_residual} df)"
    for i, t in enumerate(terms):
        h = t[0] if len(t) == 1 else None
        members = "" if h is not None else ",".join(rfl[j] for j in t)
        if bad[i]:
            why = "not estimable (separation or singular information)"
            if binary and hap.method == "haplo_glm":
                why += "; Firth regression did not converge"
            term = rfl[h] if h is not None else "rare"
            add(
                TestResult(model="haplotype", term=term, method=fit.method, note=why, **base_fields),
                h,
                members,
            )
            continue
        b, s = float(fit.beta[i]), float(fit.se[i])
        z = b / s
        if binary:
            stat, p = z * z, regression.chi2_sf(z * z, 1)
        else:
            stat, p = z * z, regression.f_sf(z * z, 1, fit.df_residual)
        lo, hi = b - Z95 * s, b + Z95 * s
        est = (
            (regression.safe_exp(b), regression.safe_exp(lo), regression.safe_exp(hi))
            if binary
            else (b, lo, hi)
        )
        add(
            TestResult(
                model="haplotype", term=rfl[h] if h is not None else "rare", estimate=est[0],
                estimate_type=etype, ci_lower=est[1], ci_upper=est[2], standard_error=s, statistic=stat,
                df=1.0, p_value=p, method=f"{fit.method.rsplit(',', 1)[0]}, {wald}", **base_fields,
                **({"wald_p_value": p, "wald_ci_lower": est[1], "wald_ci_upper": est[2]} if binary else {}),
            ),
            h, members,
        )  # fmt: skip
    add(
        TestResult(
            model="haplotype_global", term="global", statistic=fit.statistic, df=float(fit.df),
            p_value=fit.p_value, aic=fit.aic, method=fit.method, note=merged, **base_fields,
        )
    )  # fmt: skip
    return out, base


def _firth_results(firth: HaplotypeFirth, terms, rfl, note, merged, base_fields):
    """``(TestResult, haplotype, members)`` of a stratum fitted by :func:`haplotype_firth`: each
    term's penalised LRT and profile CI, its Louis-Wald z test and CI in ``wald_*``; then the
    global row with the joint penalised LRT."""
    got = []
    for i, t in enumerate(terms):
        h = t[0] if len(t) == 1 else None
        members = "" if h is not None else ",".join(rfl[j] for j in t)
        b, s = float(firth.beta[i]), float(firth.se[i])
        lo, hi = firth.ci_lower[i], firth.ci_upper[i]
        with np.errstate(over="ignore"):
            ci = np.exp([lo, hi])
        why = note
        if math.isnan(firth.p_value[i]):
            why += "; penalised LRT: restricted fit did not converge"
        if not (np.isfinite(lo) and np.isfinite(hi)):
            why += "; profile CI: restricted fit did not converge"
        got.append((
            TestResult(
                model="haplotype", term=rfl[h] if h is not None else "rare", estimate=regression.safe_exp(b),
                estimate_type="OR", ci_lower=float(ci[0]), ci_upper=float(ci[1]),
                standard_error=s, statistic=float(firth.statistic[i]), df=1.0,
                p_value=float(firth.p_value[i]), wald_p_value=regression.chi2_sf((b / s) ** 2, 1),
                wald_ci_lower=regression.safe_exp(b - Z95 * s),
                wald_ci_upper=regression.safe_exp(b + Z95 * s),
                method=FIRTH_METHOD, note=why, **base_fields,
            ),
            h, members,
        ))  # fmt: skip
    why = (
        note
        if not math.isnan(firth.global_p_value)
        else f"{note}; penalised LRT: restricted fit did not converge"
    )
    got.append((
        TestResult(
            model="haplotype_global", term="global", statistic=firth.global_statistic,
            df=float(len(terms)), p_value=firth.global_p_value, method=FIRTH_GLOBAL_METHOD,
            note=join_notes(why, merged), **base_fields,
        ), None, "",
    ))  # fmt: skip
    return got


def association_table(
    calls: pd.DataFrame,
    pheno: pd.DataFrame,
    panel: Panel,
    *,
    outcome: str,
    settings: Settings,
    unavailable=None,
) -> pd.DataFrame:
    """``haplotype_association.tsv`` rows of one outcome over the configured strata.

    The reference haplotype is the most frequent one of the ``all`` stratum, in every stratum.
    The common haplotypes (the model's terms) are chosen per stratum by ``min_freq`` in that
    stratum's samples: a haplotype common overall but at or below ``min_freq`` in a stratum is
    pooled with the rare ones there and gets a row saying so (``absent`` when fewer than 0.5
    copies are expected; ``pooled with the rare haplotypes in the rare term``, or ``merged into
    the reference`` when the rare haplotypes' pooled frequency is at most
    :data:`RARE_TERM_MIN` and, as in haplo.glm, they count as the reference), and one rare overall
    may be a term of its own in a stratum.
    Covariates and strata as the association engine
    (:func:`vdrbone.association.associate_outcome`), including the check of each stratum's
    covariate design (constant or collinear covariates dropped, with a note on the stratum's rows;
    ``df.attrs['covariate_design']`` lists the drops, columns
    :data:`vdrbone.association.DESIGN_COLUMNS`). Columns :data:`ASSOCIATION_COLUMNS` plus
    ``haplotype`` (nucleotides), ``frequency`` (EM frequency in the model's samples),
    ``members`` (of the ``rare`` term) and ``variants``; p-values of the ``haplotype_global``
    rows are adjusted (Bonferroni, BH) across the strata of the outcome. Block variants in
    ``unavailable`` are left out with a note (:func:`without_unavailable`); with fewer than two
    left, one ``haplotype_global`` row per stratum gives the reason.
    """
    hap, left_out, name = without_unavailable(panel, settings.haplotypes, unavailable)
    if len(hap.ids) < 2:
        note = f"{left_out}; fewer than two block variants left: no haplotypes"
        rows = [
            {**TestResult(model="haplotype_global", term="global", note=note).row(), "variant": name,
             "name": name, "outcome": outcome, "stratum": s}
            for s in strata_masks(pheno, list(settings.strata))
        ]  # fmt: skip
        return pd.DataFrame(rows).reindex(columns=ASSOCIATION_COLUMNS + ASSOCIATION_EXTRA)
    block = make_block(panel, hap.ids)
    spec = settings.outcome(outcome)
    binary = outcome_kind(spec) == "binary"
    min_n = int(settings.association.min_stratum_n)
    min_cases = int(settings.association.min_cases)
    tol = float(settings.association.collinearity_tolerance)
    dropped = DesignLog(outcome)
    samples = list(pheno["sample"].astype(str))
    G = genotype_matrix(calls, samples, block.ids, "effect_count")
    y = pheno[outcome].to_numpy(dtype=float)
    base_covs = settings.model_covariates
    cov_values = {c: pheno[c].to_numpy(dtype=float) for c in base_covs}
    sex, t2dm = pheno["sex"].astype(object), pheno["t2dm"].astype(object)
    cov_values["sex"] = np.where(sex.isna(), np.nan, (sex == "male").to_numpy(dtype=float))
    cov_values["t2dm"] = np.where(t2dm.isna(), np.nan, (t2dm == "yes").to_numpy(dtype=float))
    masks = strata_masks(pheno, list(settings.strata))
    if "all" not in masks:
        masks = {"all": np.ones(len(pheno), dtype=bool), **masks}
        report_all = False
    else:
        report_all = True

    rows = []
    reference_h, common_all = None, []
    for stratum, mask in masks.items():
        base_ok = np.column_stack([cov_values[c] for c in base_covs]) if base_covs else np.empty((len(y), 0))
        analysable = mask & np.isfinite(y) & np.isfinite(G).any(axis=1) & np.isfinite(base_ok).all(axis=1)
        cov_names = base_covs + varying_factors(stratum, analysable, cov_values)
        # complete cases over every covariate of the formula, dropped ones included (as R)
        C = np.column_stack([cov_values[c] for c in cov_names]) if cov_names else np.empty((len(y), 0))
        ok = mask & np.isfinite(y) & np.isfinite(G).any(axis=1) & np.isfinite(C).all(axis=1)
        design = stratum_design(cov_values, cov_names, analysable, tol=tol, min_n=min_n)
        if stratum != "all" or report_all:
            dropped.add(stratum, block.name, design)
        cov_names = design.names
        C = C[:, design.kept]
        label = "+".join(cov_names)
        n_ok = int(ok.sum())
        if n_ok == 0:
            r = TestResult(model="haplotype_global", term="global", note="no analysable samples", n=0)
            r.extra = {"haplotype": "", "frequency": math.nan, "members": ""}
            got = [(r, None)]
            ref = None
        else:
            em = haplotype_em(G[ok], max_iter=hap.em_max_iter, tol=hap.em_tol)
            res = _stratum_rows(
                block, em, y[ok], C[ok], binary=binary, cov_label=label, min_freq=hap.min_freq,
                hap=hap, min_n=min_n, min_cases=min_cases, reference_h=reference_h,
            )  # fmt: skip
            got, ref = res
            if stratum == "all" and ref is not None:
                reference_h = ref
                common_all = [h for _, h in got if h is not None]
            if stratum != "all" and ref is not None:
                present = {h for _, h in got if h is not None}
                # the rare haplotypes form a term only above RARE_TERM_MIN; else haplo.glm merges
                # them into the reference
                rare_term = any(r.model == "haplotype" and h is None for r, h in got)
                where = (
                    "pooled with the rare haplotypes in the rare term"
                    if rare_term
                    else f"merged into the reference (rare haplotypes' pooled frequency <= {RARE_TERM_MIN})"
                )
                for h in common_all:
                    if h not in present:
                        f = float(em.freqs[h])
                        why = (
                            "absent in this stratum"
                            if f * 2 * n_ok < ABSENT_COUNT
                            else f"rare in this stratum (frequency {f:.4g} <= min_freq {hap.min_freq}); "
                            + where
                        )
                        r = TestResult(
                            model="haplotype", term=block.rflp(em.expansion.haplotypes[h]), note=why, n=n_ok
                        )
                        r.extra = {"haplotype": block.nucleotides(em.expansion.haplotypes[h]), "frequency": f,
                                   "members": ""}  # fmt: skip
                        got.insert(-1, (r, h))
        if stratum == "all" and not report_all:
            continue
        H = np.array(list(itertools.product((0, 1), repeat=len(block.ids))), dtype=np.int8)
        ref_h = ref if ref is not None else reference_h
        ref_label = f"{block.rflp(H[ref_h])} ({block.nucleotides(H[ref_h])})" if ref_h is not None else ""
        for r, _h in got:
            r.note = join_notes(r.note, design.note)
            row = r.row()
            row.update(
                variant=block.name,
                name=block.name,
                outcome=outcome,
                stratum=stratum,
                effect_allele=row.get("haplotype", "") if r.model == "haplotype" else "",
                other_allele=block.nucleotides(H[ref_h]) if ref_h is not None else "",
                reference=ref_label,
                covariates=label,
                variants=",".join(block.ids),
            )
            rows.append(row)
    df = pd.DataFrame(rows)
    for col in ASSOCIATION_COLUMNS + ASSOCIATION_EXTRA:
        if col not in df:
            df[col] = np.nan
    for col in ("n", "n_cases", "n_controls"):
        df[col] = pd.to_numeric(df[col]).round().astype("Int64")
    df = adjust_global(df[ASSOCIATION_COLUMNS + ASSOCIATION_EXTRA])
    design = dropped.frame()
    df = _with_note(df, left_out)
    df.attrs["covariate_design"] = design
    return df


def ld_table(
    calls: pd.DataFrame, pheno: pd.DataFrame, panel: Panel, *, settings: Settings, unavailable=None
) -> pd.DataFrame:
    """``ld.tsv``: pairwise LD of the diploid panel variants in every configured stratum; a pair
    with a variant extraction could not give (``unavailable``: id -> reason) has that reason."""
    diploid = _diploid(panel)
    G = genotype_matrix(calls, list(pheno["sample"].astype(str)), [v.id for v in diploid], "effect_count")
    return _ld_table(G, diploid, strata_masks(pheno, list(settings.strata)), panel, unavailable)


def haplotype_frequency_table(
    calls: pd.DataFrame, pheno: pd.DataFrame, panel: Panel, *, settings: Settings, unavailable=None
):
    """``haplotypes.tsv``: EM frequencies of the configured block in every configured stratum.

    Block variants in ``unavailable`` (see :func:`without_unavailable`) are left out, with a note
    on every row; with fewer than two left, one row per stratum gives the reason."""
    samples = list(pheno["sample"].astype(str))
    return _frequency_table(
        lambda ids: genotype_matrix(calls, samples, ids, "effect_count"),
        strata_masks(pheno, list(settings.strata)), panel, settings, unavailable,
    )  # fmt: skip


def ld_and_frequency_tables(
    calls: pd.DataFrame, pheno: pd.DataFrame, panel: Panel, *, settings: Settings, unavailable=None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`ld_table` and :func:`haplotype_frequency_table` (the ``ld_haplotypes`` job) from one
    genotype matrix of the diploid variants (the block's columns taken from it) and one set of
    strata masks."""
    diploid = _diploid(panel)
    G = genotype_matrix(calls, list(pheno["sample"].astype(str)), [v.id for v in diploid], "effect_count")
    masks = strata_masks(pheno, list(settings.strata))
    column = {v.id: j for j, v in enumerate(diploid)}
    ld = _ld_table(G, diploid, masks, panel, unavailable)
    freqs = _frequency_table(lambda ids: G[:, [column[i] for i in ids]], masks, panel, settings, unavailable)
    return ld, freqs


def _diploid(panel: Panel) -> list[PanelVariant]:
    return sorted((v for v in panel if v.ploidy == 2), key=lambda v: (v.chrom, v.pos_grch38))


def _ld_table(G, diploid, masks, panel, unavailable) -> pd.DataFrame:
    table = pairwise_ld(G, diploid, masks)
    for vid, reason in (unavailable or {}).items():
        pair = (table["variant1"] == vid) | (table["variant2"] == vid)
        table.loc[pair, "note"] = f"{panel[vid].name} ({vid}): {reason}"
    return table


def _frequency_table(genotypes, masks, panel, settings, unavailable) -> pd.DataFrame:
    """:func:`haplotype_frequency_table` with ``genotypes(ids)`` the block's genotype matrix."""
    hap, dropped, name = without_unavailable(panel, settings.haplotypes, unavailable)
    if len(hap.ids) < 2:
        note = f"{dropped}; fewer than two block variants left: no haplotypes"
        rows = [{"block": name, "variants": "", "stratum": s, "n": 0, "note": note} for s in masks]
        return pd.DataFrame(rows, columns=FREQUENCY_COLUMNS)
    block = make_block(panel, hap.ids)
    G = genotypes(block.ids)
    table = frequency_table(block, G, masks, min_freq=hap.min_freq, max_iter=hap.em_max_iter, tol=hap.em_tol)
    return _with_note(table, dropped)


def empty_tables() -> dict[str, pd.DataFrame]:
    """The three tables with their columns and no rows (``haplotypes.enabled: false``)."""
    return {
        "ld": pd.DataFrame(columns=LD_COLUMNS),
        "haplotypes": pd.DataFrame(columns=FREQUENCY_COLUMNS),
        "association": pd.DataFrame(columns=ASSOCIATION_COLUMNS + ASSOCIATION_EXTRA),
    }
