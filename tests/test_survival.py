"""Tests for vdrbone.survival against R survival (coxph Efron ties, anova LRT, cox.zph "km", survfit).

Reference values: tests/fixtures/survival/make_fixtures.R (r_cox.tsv, r_km.tsv) on cohort.tsv
from make_cohort.py; R and survival versions in r_version.txt.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from vdrbone import survival as sv

FIX = Path(__file__).parent / "fixtures" / "survival"
COV = ["age", "bmi", "sex", "t2dm"]
TOL = 1e-6


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return pd.read_csv(FIX / "cohort.tsv", sep="\t")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(FIX / "r_cox.tsv", sep="\t")


@pytest.mark.parametrize("entry", [False, True], ids=["right-censored", "delayed-entry"])
@pytest.mark.parametrize("column,ploidy", [("g", 2), ("mt", 1)])
def test_cox_models_match_r(cohort, ref, entry, column, ploidy):
    rows = sv.cox_genetic_models(
        cohort["time"], cohort["event"], cohort[column], cohort[COV].to_numpy(float),
        entry=cohort["entry"].to_numpy(float) if entry else None, ploidy=ploidy, covariate_names=COV,
    )  # fmt: skip
    genetic = [r for r in rows if r.model != "ph_test"]
    ph = [r for r in rows if r.model == "ph_test"]
    assert [r.model for r in genetic] == (
        ["codominant", "codominant", "dominant", "recessive", "overdominant", "additive"]
        if ploidy == 2
        else ["carrier"]
    )
    assert len(ph) == 2 * (5 if ploidy == 2 else 1)
    for r in genetic:
        want = ref[(ref.entry == entry) & (ref.model == r.model)]
        want = want[want.term == (r.term if r.model == "codominant" else "term")].iloc[0]
        assert r.estimate_type == "HR" and r.note == ""
        assert r.n == len(cohort) and r.n_cases == int(cohort["event"].sum())
        assert_allclose(math.log(r.estimate), want.beta, atol=TOL, rtol=TOL)
        assert_allclose(r.standard_error, want.se, atol=TOL, rtol=TOL)
        assert_allclose(math.log(r.ci_lower), want.beta - sv.Z95 * want.se, atol=TOL, rtol=TOL)
        assert_allclose(math.log(r.ci_upper), want.beta + sv.Z95 * want.se, atol=TOL, rtol=TOL)
        assert_allclose(r.statistic, want.lrt, atol=TOL, rtol=TOL)
        assert_allclose(r.p_value, want.lrt_p, atol=TOL, rtol=TOL)
    for r in ph:
        model = r.term.removesuffix("_global")
        want = ref[(ref.entry == entry) & (ref.model == model)].iloc[0]
        expected = want.zph_global_chisq if r.term.endswith("_global") else want.zph_term_chisq
        expected_p = want.zph_global_p if r.term.endswith("_global") else want.zph_term_p
        assert_allclose(r.statistic, expected, atol=TOL, rtol=TOL)
        assert_allclose(r.p_value, expected_p, atol=TOL, rtol=TOL)


def test_ph_test_flags_the_planted_non_proportional_covariate(cohort, ref):
    """cox.zph of sex (hazard shape differs by sex in make_cohort.py), per covariate term."""
    X = cohort[[*COV, "g"]].to_numpy(float)
    fit = sv.fit_cox(cohort["time"], cohort["event"], X)
    tab = sv.ph_test(cohort["time"], cohort["event"], X, fit.beta, terms={"sex": [2]})
    want = ref[(~ref.entry) & (ref.model == "additive")].iloc[0]
    assert_allclose(tab.iloc[0]["chisq"], want.zph_sex_chisq, rtol=TOL)
    assert tab["term"].tolist() == ["sex", "GLOBAL"]


def test_kaplan_meier_with_delayed_entry_matches_survfit(cohort):
    want = pd.read_csv(FIX / "r_km.tsv", sep="\t")
    d = cohort[cohort.g == 2]
    km = sv.kaplan_meier(d["time"], d["event"], entry=d["entry"])
    assert_allclose(km["time"], want["time"])
    assert_allclose(km["n_risk"], want["n_risk"])
    assert_allclose(km["surv"], want["surv"], rtol=TOL)


def test_no_events_in_a_genotype_group_is_a_row_with_a_reason(cohort):
    d = cohort.copy()
    d.loc[d.g == 2, "event"] = 0
    rows = sv.cox_genetic_models(d["time"], d["event"], d["g"], d[COV].to_numpy(float), min_events=5)
    by = {(r.model, r.term): r for r in rows}
    assert by[("recessive", "hom_alt")].note == sv.MONOTONE and math.isnan(
        by[("recessive", "hom_alt")].p_value
    )
    assert by[("dominant", "carrier")].note == "" and by[("dominant", "carrier")].p_value > 0


def test_too_few_events_and_bad_input():
    t = np.arange(1.0, 41.0)
    e = np.zeros(40)
    e[:2] = 1
    g = np.tile([0.0, 1.0, 2.0, 1.0], 10)
    rows = sv.cox_genetic_models(t, e, g, np.empty((40, 0)), min_events=5)
    assert {r.note for r in rows} == {"too few events (n_events=2 < 5)"}
    with pytest.raises(ValueError, match="entry must satisfy 0 <= entry < time; 1 samples"):
        sv.check_survival([1.0, 2.0], [1, 0], [0.5, 2.0])
    with pytest.raises(ValueError, match="event must be 0/1 or NaN; 1 other values, first \\[2.0\\]"):
        sv.check_survival([1.0, 2.0], [1, 2])


def _small_counting_data(seed: int, entry: bool):
    """60 samples, integer times (tied deaths, deaths tied with censorings), optional entry."""
    rng = np.random.default_rng(seed)
    n = 60
    t = rng.integers(2, 12, n).astype(float)
    e = (rng.uniform(size=n) < 0.6).astype(float)
    s = np.floor(rng.uniform(0, 1, n) * t) * (rng.uniform(size=n) < 0.5) if entry else None
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 3, n), rng.uniform(size=n) < 0.4]).astype(float)
    return t, e, s, X - X.mean(axis=0)


@pytest.mark.parametrize("entry", [False, True], ids=["right-censored", "delayed-entry"])
def test_risk_set_sums_match_a_loop_over_event_times(entry):
    t, e, s, X = _small_counting_data(3, entry)
    rs = sv.RiskSets(t, e, s)
    ut = np.unique(t[e == 1])
    assert len(ut) < (e == 1).sum()  # tied deaths
    assert (e == 0)[np.isin(t, ut)].any()  # a censoring tied with a death
    lo = np.zeros_like(t) if s is None else s
    at_risk = [(lo < u) & (u <= t) for u in ut]
    dead = [(t == u) & (e == 1) for u in ut]
    r = np.exp(X @ [0.3, -0.2, 0.5])
    values = np.column_stack([r, X])
    S, D = (x.T for x in rs.sums(np.ascontiguousarray(values[rs.order].T)))
    assert_allclose(S, [values[m].sum(axis=0) for m in at_risk], rtol=1e-13, atol=1e-12)
    assert_allclose(D, [values[m].sum(axis=0) for m in dead], rtol=1e-13, atol=1e-12)
    S0, D0 = rs.sums_sequential(r[rs.order])
    assert_allclose(S0, [r[m].sum() for m in at_risk], rtol=1e-13)
    assert_allclose(D0, [r[m].sum() for m in dead], rtol=1e-13)
    per_time = np.arange(1.0, ut.size + 1)
    spread = np.array([per_time[(lo[i] < ut) & (ut <= t[i])].sum() for i in range(t.size)])
    assert_allclose(rs.spread(per_time), spread[rs.order], rtol=1e-13)
    km = sv.kaplan_meier(t, e, entry=s)
    before = [km["surv"][km["time"] < u].min() if (km["time"] < u).any() else 1.0 for u in ut]
    assert_allclose(rs.km_left(), 1.0 - np.array(before), rtol=1e-13)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("entry", [False, True], ids=["right-censored", "delayed-entry"])
def test_cox_terms_match_a_loop_over_deaths(entry, ties):
    """Log partial likelihood, score and h-weighted sums of the risk-set means and covariances
    against the textbook per-death computation (Efron: the k-th of d tied deaths removes k/d of
    the deaths' sums)."""
    t, e, s, X = _small_counting_data(4, entry)
    beta = np.array([0.3, -0.2, 0.5])
    lo = np.zeros_like(t) if s is None else s
    r = np.exp(X @ beta)
    ll, score, mean_rows, var_rows = 0.0, np.zeros(3), [], []
    for u in np.unique(t[e == 1]):
        risk, dead = (lo < u) & (u <= t), (t == u) & (e == 1)
        d = int(dead.sum())
        for k in range(d):
            f = k / d if ties == "efron" else 0.0
            w = r * (risk - f * dead)
            s0, s1, s2 = w.sum(), w @ X, X.T @ (w[:, None] * X)
            mean = s1 / s0
            ll -= math.log(s0)
            score -= mean
            mean_rows.append(mean)
            var_rows.append(s2 / s0 - np.outer(mean, mean))
        ll += (X[dead] @ beta).sum()
        score += X[dead].sum(axis=0)
    mean_rows, var_rows = np.array(mean_rows), np.array(var_rows)
    h = np.linspace(-1.0, 2.0, len(var_rows))
    des = sv._Design(sv.RiskSets(t, e, s), X)
    got_ll, got_score, got_info, mean_sum, var_sum = sv._cox_terms(des, beta, ties)
    assert_allclose(got_ll, ll, rtol=1e-13)
    assert_allclose(got_score, score, rtol=1e-11, atol=1e-12)
    assert_allclose(got_info, var_rows.sum(axis=0), rtol=1e-12)
    assert_allclose(mean_sum(h), h @ mean_rows, rtol=1e-11, atol=1e-12)
    assert_allclose(var_sum(h), np.einsum("j,jab->ab", h, var_rows), rtol=1e-11, atol=1e-12)
    w = np.linspace(-1.0, 1.0, t.size)
    want = X[des.rs.order].T @ (w[:, None] * X[des.rs.order])
    assert des.products is not None
    assert_allclose(des.weighted_cross(w), want, rtol=1e-12, atol=1e-13)
    des.products = None  # designs too large for the pair products: one matrix product instead
    assert_allclose(des.weighted_cross(w), want, rtol=1e-12, atol=1e-13)
