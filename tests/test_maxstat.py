"""MAX3 (vdrbone.maxstat) against an R implementation (prop.trend.test, mvtnorm::pmvnorm and an
exact one-dimensional integral), plus a simulation of its null distribution."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from vdrbone.maxstat import max3, max_abs_normal_sf, score_correlation
from vdrbone.settings import settings_from_config

FIX = Path(__file__).resolve().parent / "fixtures" / "maxstat"
REF = pd.read_csv(FIX / "r_max3.tsv", sep="\t", skipinitialspace=True)


@pytest.mark.parametrize("row", [r for _, r in REF.iterrows()], ids=lambda r: f"{r.r0}-{r.r1}-{r.r2}")
def test_matches_r(row):
    res = max3([row.r0, row.r1, row.r2], [row.s0, row.s1, row.s2])
    assert res.model == "max3" and res.term == "max_over_models" and res.note == ""
    for name in ("recessive", "additive", "dominant"):
        want = row[f"chisq_{name}"]
        got = res.extra[f"chisq_{name}"]
        assert_allclose(got, want, rtol=1e-9, atol=1e-12) if np.isfinite(want) else np.isnan(got)
    assert_allclose(res.statistic, row.statistic, rtol=1e-9, atol=1e-12)
    # exact 1-D integral: 1e-6 relative
    assert_allclose(res.p_value, row.p_exact, rtol=1e-6)
    # Genz-Bretz is Monte Carlo and loses relative accuracy on this singular (rank 2) correlation
    # at small p, so it is compared where p > 1e-3, within 10x its own error estimate.
    if row.p_pmvnorm > 1e-3:
        assert_allclose(res.p_value, row.p_pmvnorm, rtol=1e-6, atol=10 * row.p_error)


def test_null_distribution_by_simulation():
    """Under H0 the MAX3 p-value is (asymptotically) uniform: P(p < 0.05) ~ 0.05."""
    rng = np.random.default_rng(3)
    freq = np.array([0.49, 0.42, 0.09])
    p = np.array([max3(rng.multinomial(500, freq), rng.multinomial(500, freq)).p_value for _ in range(2000)])
    rate = (p < 0.05).mean()
    assert abs(rate - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 2000), rate


def test_rank_and_edge_cases():
    corr = score_correlation([100, 80, 20])
    assert_allclose(np.diag(corr), 1)
    assert np.linalg.matrix_rank(corr, tol=1e-9) == 2
    # one variable: the two-sided normal tail
    assert_allclose(max_abs_normal_sf(1.959963984540054, [[1.0]]), 0.05, rtol=1e-12)
    with pytest.raises(ValueError, match="rank 3"):
        max_abs_normal_sf(2.0, np.eye(3))
    mono = max3([50, 0, 0], [60, 0, 0])
    assert np.isnan(mono.p_value) and mono.note == "monomorphic in this stratum"
    none = max3([0, 0, 0], [60, 10, 1])
    assert none.note == "no cases or no controls"
    with pytest.raises(ValueError, match=r"need 3 genotype counts"):
        max3([1, 2], [3, 4])


def test_association_rows():
    from test_association import REPO, VARIANTS, make_config

    from vdrbone.association import associate_outcome
    from vdrbone.panel import read_panel

    calls = pd.read_csv(REPO / "tests" / "fixtures" / "association" / "calls.tsv", sep="\t")
    pheno = pd.read_csv(REPO / "tests" / "fixtures" / "association" / "phenotypes.tsv", sep="\t")
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(VARIANTS)
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(make_config())
    ).association
    rows = a[a["model"] == "max3"]
    diploid = [v for v in VARIANTS if not v.startswith("m.")]
    assert set(rows["variant"]) == set(diploid) and (rows["term"] == "max_over_models").all()
    assert rows["p_bonferroni"].isna().all()  # outside the family
    trend = a[a["model"] == "trend"].set_index(["variant", "stratum"])
    for r in rows[rows["p_value"].notna()].itertuples():
        # MAX3 >= the additive trend chi-square; its p lies between the single-test p of the max
        # and three times it (Bonferroni over the three models)
        assert r.statistic >= trend.loc[(r.variant, r.stratum), "statistic"] - 1e-9
        single = stats.chi2.sf(r.statistic, 1)
        assert single - 1e-12 <= r.p_value <= min(1, 3 * single) + 1e-12
    off = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(make_config(max3=False))
    ).association
    assert not (off["model"] == "max3").any()
