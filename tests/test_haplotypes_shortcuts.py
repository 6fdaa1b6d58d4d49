"""The shortcuts of the haplotype code against the straightforward computations they replace:
the same numbers, bit for bit (genotype patterns in the EM, LD tables by bincount, the normal
log-density), or up to rounding where the algebra differs (the linear EM-GLM's least squares on
one row per sample, the Louis information by pair and over the samples with several pairs)."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas.testing as pd_testing
import pytest
from conftest import REPO
from numpy.testing import assert_allclose, assert_array_equal
from scipy import linalg, special, stats

from vdrbone import haplotypes as hp
from vdrbone.panel import read_panel


def random_genotypes(seed, n, n_loci, missing):
    rng = np.random.default_rng(seed)
    G = rng.binomial(2, rng.uniform(0.05, 0.6, n_loci), (n, n_loci)).astype(float)
    G[rng.random((n, n_loci)) < missing] = np.nan
    return G[np.isfinite(G).any(axis=1)]


def row_wise(ex):
    """The expansion without its genotype patterns: every computation row by row."""
    return dataclasses.replace(ex, patterns=None, pattern=None, row_of=None)


@pytest.mark.parametrize(("n_loci", "missing"), [(2, 0.0), (3, 0.1), (4, 0.3)])
def test_pattern_expansion_equals_per_sample_enumeration(n_loci, missing):
    G = random_genotypes(1, 300, n_loci, missing)
    ex = hp.expand_pairs(G)
    H = ex.haplotypes
    sample, h1, h2 = [], [], []
    for i, g in enumerate(G):  # each sample's compatible unordered pairs, in triu order
        for a, b in zip(*np.triu_indices(len(H)), strict=True):
            geno = H[a] + H[b]
            if all(np.isnan(x) or x == y for x, y in zip(g, geno, strict=True)):
                sample.append(i), h1.append(a), h2.append(b)
    assert_array_equal(ex.sample, sample)
    assert_array_equal(ex.h1, h1)
    assert_array_equal(ex.h2, h2)
    assert_array_equal(ex.coef, np.where(ex.h1 == ex.h2, 1.0, 2.0))
    assert_array_equal(ex.starts, np.flatnonzero(np.diff(np.append(-1, ex.sample))))
    # the distinct patterns, as np.unique, and their rows copied to the samples
    code = np.where(np.isfinite(G), G, 3).astype(np.int64)
    patterns, inverse = np.unique(code, axis=0, return_inverse=True)
    assert_array_equal(ex.pattern, inverse.ravel())
    assert ex.patterns.n == len(patterns)
    assert_array_equal(ex.patterns.h1[ex.row_of], ex.h1)
    assert_array_equal(ex.patterns.h2[ex.row_of], ex.h2)


@pytest.mark.parametrize(("seed", "n_loci", "missing"), [(2, 3, 0.0), (3, 3, 0.05), (4, 4, 0.2), (5, 2, 0.3)])
def test_em_on_genotype_patterns_equals_row_wise_em(seed, n_loci, missing):
    """haplotype_em normalises the posterior once per distinct genotype pattern: the same
    frequencies, log-likelihood, iterations and posteriors as the EM over every sample's rows."""
    G = random_genotypes(seed, 2000, n_loci, missing)
    em = hp.haplotype_em(G)
    ex = row_wise(em.expansion)
    sizes = np.diff(np.append(ex.starts, ex.h1.size))
    freqs = hp._count_freqs(ex, np.repeat(1.0 / sizes, sizes))
    ll_old, it = -math.inf, 0
    for it in range(1, 5001):  # noqa: B007
        post, ll = hp._posterior(ex, freqs)
        freqs, before = hp._count_freqs(ex, post), freqs
        if abs(ll - ll_old) < 1e-10 and hp._settled(freqs, before):
            break
        ll_old = ll
    post, ll = hp._posterior(ex, freqs)
    assert em.converged and em.n_iter == it > 2
    assert_array_equal(em.freqs, freqs)
    assert em.loglik == ll
    assert_array_equal(em.posterior, post)
    # with a trait density (the EM-GLM): the prior part per pattern, the rest per row
    density = np.random.default_rng(seed).normal(-1.0, 0.5, ex.h1.size)
    got, want = hp._posterior(em.expansion, em.freqs, density), hp._posterior(ex, em.freqs, density)
    assert_array_equal(got[0], want[0])
    assert got[1] == want[1]


def test_norm_logpdf_equals_scipy():
    rng = np.random.default_rng(6)
    y, mu = rng.normal(1.0, 0.2, 5000), rng.normal(1.0, 0.01, 5000)
    for scale in (1e-3, 0.137, 2.0, 1e5):
        assert_array_equal(hp._norm_logpdf(y, mu, scale), stats.norm.logpdf(y, loc=mu, scale=scale))
    y2, mu2 = np.append(y, [np.inf, np.nan]), np.append(mu, [0.0, 0.0])
    with np.errstate(divide="ignore"):  # not finite: scipy's own answers
        for yy, mm, scale in ((y, mu, 0.0), (y2, mu2, 1.0)):
            assert_array_equal(hp._norm_logpdf(yy, mm, scale), stats.norm.logpdf(yy, loc=mm, scale=scale))


def test_term_counts_equal_isin():
    ex = hp.expand_pairs(random_genotypes(8, 200, 3, 0.1))
    terms = [[7], [2], [1, 4, 5]]
    want = np.column_stack([np.isin(ex.h1, t) * 1.0 + np.isin(ex.h2, t) for t in terms])
    assert_array_equal(hp._term_counts(ex, terms), want)


def test_pairwise_ld_tables_equal_ld_pair():
    rng = np.random.default_rng(9)
    G = random_genotypes(9, 1000, 4, 0.05)
    G[0, 0], G[1, 1] = 0.5, 2.5  # truncated to 0 and 2, as ld_pair does
    variants = [v for v in read_panel(REPO / "resources" / "vdr_snps.tsv") if v.ploidy == 2][:4]
    ids = [v.id for v in variants]
    masks = {"all": np.ones(len(G), bool), "half": rng.random(len(G)) < 0.5, "none": np.zeros(len(G), bool)}
    table = hp.pairwise_ld(G, variants, masks)
    fields = list(hp.LDResult.__dataclass_fields__)
    got = table.set_index(["variant1", "variant2", "stratum"])
    for (i, j), (stratum, mask) in itertools.product(itertools.combinations(range(4), 2), masks.items()):
        want = hp.ld_pair(G[mask, i], G[mask, j])
        row = got.loc[(ids[i], ids[j], stratum)]
        assert row["note"] == want.note
        assert_array_equal(row[fields[:-1]].to_numpy(float), [getattr(want, f) for f in fields[:-1]])
    G[2, 2] = 3.0
    with pytest.raises(ValueError, match="0, 1 or 2; 1 other values"):
        hp.pairwise_ld(G, variants, masks)


@pytest.mark.parametrize(("n", "p"), [(5000, 8), (40, 3), (3, 5)])
def test_weighted_lstsq_equals_scipy_lstsq(n, p):
    """The weighted least squares of the linear EM-GLM calls LAPACK gelsd itself (no copies):
    the same solution as scipy.linalg.lstsq, bit for bit."""
    rng = np.random.default_rng(n)
    X = np.column_stack([np.ones(n), rng.normal(60, 10, n), rng.integers(0, 3, (n, p - 2))])
    y, w = rng.normal(1.0, 0.1, n), rng.random(n)
    w[: n // 10] = 0.0
    sw = np.sqrt(w)
    want = linalg.lstsq(X * sw[:, None], y * sw, check_finite=False)[0]
    assert_array_equal(hp._weighted_lstsq(np.asfortranarray(X), y, sw), want)


def expanded_problem(seed, n, n_loci, missing, single_only=False):
    """An expansion with covariates, a pooled term and posterior weights summing to 1 per sample."""
    rng = np.random.default_rng(seed)
    G = random_genotypes(seed, n, n_loci, missing)
    if single_only:  # at most one heterozygous locus, none missing: one pair per sample
        G = np.where(np.isnan(G), 0.0, G)
        G[:, 1:] = np.where(G[:, 1:] == 1, 0.0, G[:, 1:])
    ex = hp.expand_pairs(G)
    X0 = np.column_stack([np.ones(ex.n), rng.normal(60, 10, ex.n), rng.integers(0, 2, ex.n)])
    terms = [[1], [2], [3, 4, 5]]
    Xh = hp._term_counts(ex, terms)
    w = rng.random(ex.h1.size) ** 3
    w /= np.bincount(ex.sample, w, ex.n)[ex.sample]
    return ex, X0, Xh, w, rng


@pytest.mark.parametrize(
    ("seed", "n_loci", "missing", "single_only"),
    [(11, 3, 0.0, False), (12, 4, 0.2, False), (13, 3, 0.0, True)],
)
def test_pooled_least_squares_equals_expanded_weighted_lstsq(seed, n_loci, missing, single_only):
    """The linear EM-GLM's least squares on one row per sample (expected counts) plus the pooled
    within-sample covariance and the QR of the phase-certain samples: the weighted least squares
    of every expanded row (scipy's lstsq), up to rounding."""
    ex, X0, Xh, w, rng = expanded_problem(seed, 3000, n_loci, missing, single_only)
    y = 1.0 + 0.003 * X0[:, 1] + rng.normal(0, 0.1, ex.n)
    amb = hp._ambiguous(ex)
    assert (amb.samples.size == 0) == single_only and amb.single.size > 0
    X = np.column_stack([X0[ex.sample], Xh])
    sw = np.sqrt(w)
    want = linalg.lstsq(X * sw[:, None], y[ex.sample] * sw)[0]
    got = hp._PooledLeastSquares(X0, Xh, y, ex, amb).solve(w)
    assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def louis_reference(ex, X, y, mu, post, freqs, base, binary):
    """haplo.glm's louis_info as written: every kept row's scores, sums per sample by np.add.at."""
    kept = freqs >= hp.MIN_INFO
    rows = kept[ex.h1] & kept[ex.h2]
    n_cov = X.shape[1]
    resid, vfunc = y - mu, mu * (1 - mu)
    if not binary:
        mse = float(post @ resid**2) / (float(post.sum()) - n_cov)
        resid, vfunc = resid / mse, np.full_like(mu, 1.0 / mse)
    params = [h for h in np.flatnonzero(kept) if h != base]
    r, V, w, x = resid[rows], vfunc[rows], post[rows], X[rows]
    h1, h2 = ex.h1[rows], ex.h2[rows]
    c = np.column_stack([(h1 == h) * 1.0 + (h2 == h) for h in params])
    cb = (h1 == base) * 1.0 + (h2 == base)
    s = np.column_stack([r[:, None] * x, c / freqs[params] - (cb / freqs[base])[:, None]])
    S = np.zeros((ex.n, s.shape[1]))
    np.add.at(S, ex.sample[rows], w[:, None] * s)
    comp = np.zeros((s.shape[1], s.shape[1]))
    comp[:n_cov, :n_cov] = x.T @ (x * (w * V)[:, None])
    comp[n_cov:, n_cov:] = np.diag(w @ (c / freqs[params] ** 2)) + (w @ cb) / freqs[base] ** 2
    info = comp - s.T @ (w[:, None] * s) + S.T @ S
    return np.linalg.pinv(info, rcond=hp.EPS_SVD, hermitian=True)[:n_cov, :n_cov]


@pytest.mark.parametrize(
    ("seed", "binary", "normalised"), [(14, False, True), (15, True, True), (16, True, False)]
)
def test_louis_cov_equals_row_wise_louis_information(seed, binary, normalised):
    """The Louis covariance (frequency scores by pair, observed-minus-missing sums over the
    samples with several pairs) against the row-wise formula; a haplotype below MIN_INFO is left
    out of both. Posteriors not summing to 1 (a pair of a phase-certain sample below 1) take the
    all-samples branch."""
    ex, X0, Xh, w, rng = expanded_problem(seed, 2000, 4, 0.1)
    freqs = hp._count_freqs(ex, w)
    freqs[6] = hp.MIN_INFO / 2  # left out of the information
    freqs /= freqs.sum()
    if not normalised:
        w = w * rng.uniform(0.5, 1.0, w.size)
    X = np.column_stack([X0[ex.sample], Xh])
    beta = (
        np.array([-1.0, 0.01, 0.2, 0.3, -0.2, 0.1])
        if binary
        else np.array([1.0, 0.003, 0.0, 0.05, -0.02, 0.0])
    )
    mu = special.expit(X @ beta) if binary else X @ beta
    y = (rng.random(ex.n) < 0.3) * 1.0 if binary else 1.0 + rng.normal(0, 0.1, ex.n)
    base = int(np.argmax(freqs))
    kept = freqs >= hp.MIN_INFO
    assert not (kept[ex.h1] & kept[ex.h2]).all()  # some rows left out
    args = (ex, X, y[ex.sample], mu, w, freqs, base, binary)
    assert_allclose(hp._louis_cov(*args), louis_reference(*args), rtol=1e-9, atol=0)


def test_ld_and_frequency_tables_equal_the_two_tables():
    """The ld_haplotypes job's tables from one genotype matrix equal ld_table and
    haplotype_frequency_table, with an unavailable block variant too."""
    from test_haplotypes import cohort_tables

    from vdrbone.settings import settings_from_config

    calls, pheno, pnl, config = cohort_tables(500, 4)
    settings = settings_from_config(config)
    calls.loc[calls["variant"] == "rs7975232", "effect_count"] = np.nan
    for unavailable in (None, {"rs7975232": "not in the genotype files"}):
        ld, freqs = hp.ld_and_frequency_tables(calls, pheno, pnl, settings=settings, unavailable=unavailable)
        pd_testing.assert_frame_equal(
            ld, hp.ld_table(calls, pheno, pnl, settings=settings, unavailable=unavailable)
        )
        want = hp.haplotype_frequency_table(calls, pheno, pnl, settings=settings, unavailable=unavailable)
        pd_testing.assert_frame_equal(freqs, want)
