"""Tests for vdrbone.regression against R (glm/lm, anova, confint.default, AIC), PLINK 1.9 and PLINK 2.

Reference values: tests/fixtures/regression/make_fixtures.R (data + reference.tsv) and
make_plink.sh (plink/*.assoc.*, plink/*.glm).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import linalg, special, stats

from vdrbone import regression
from vdrbone.regression import (
    _firth_state,
    _modified_score,
    fit_firth,
    fit_linear,
    fit_logistic,
    genetic_models,
    interaction_test,
)

FIX = Path(__file__).parent / "fixtures" / "regression"
COV = ["age", "bmi", "sex"]
FIELDS = ["estimate", "standard_error", "ci_lower", "ci_upper", "statistic", "df", "p_value", "aic"]
REF_FIELDS = ["estimate", "se", "ci_lower", "ci_upper", "statistic", "df", "p_value", "aic"]
OUTCOMES = [("y_bin", "binary"), ("y_cont", "continuous")]


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return pd.read_csv(FIX / "cohort.csv")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(FIX / "reference.tsv", sep="\t", skipinitialspace=True)


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / f"{name}.csv")


def _arr(d: pd.DataFrame, col: str) -> np.ndarray:
    return d[col].to_numpy(dtype=float)


def _ref_row(ref, dataset, outcome, model, term):
    sel = ref[(ref.dataset == dataset) & (ref.outcome == outcome) & (ref.model == model) & (ref.term == term)]
    assert len(sel) == 1, (dataset, outcome, model, term)
    return sel.iloc[0]


def _assert_matches_r(row, r, *, rtol=1e-6):
    got = np.array([getattr(row, f) for f in FIELDS], dtype=float)
    want = r[REF_FIELDS].to_numpy(dtype=float)
    assert_allclose(got, want, rtol=rtol, err_msg=f"{row.model}/{row.term}")
    assert row.n == r["n"]


def _by_term(rows):
    return {(r.model, r.term): r for r in rows}


# ----------------------------------------------------------------------------------------------
# R reference (relative 1e-6)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("outcome", "otype"), OUTCOMES)
def test_genetic_models_match_r(cohort, ref, outcome, otype):
    rows = genetic_models(
        _arr(cohort, outcome), _arr(cohort, "g"), cohort[COV].to_numpy(float), outcome_type=otype
    )
    assert [(r.model, r.term) for r in rows] == [
        ("codominant", "het"),
        ("codominant", "hom_alt"),
        ("dominant", "carrier"),
        ("recessive", "hom_alt"),
        ("overdominant", "het"),
        ("additive", "per_allele"),
    ]
    for row in rows:
        _assert_matches_r(row, _ref_row(ref, "cohort", outcome, row.model, row.term))
        assert row.note == ""
        assert row.estimate_type == ("OR" if otype == "binary" else "beta")
    # all models on the same complete-case samples
    assert len({r.n for r in rows}) == 1
    if otype == "binary":
        keep = cohort[[outcome, "g", *COV]].notna().all(axis=1)
        assert rows[0].n_cases == int(cohort.loc[keep, outcome].sum())
        assert rows[0].n_cases + rows[0].n_controls == rows[0].n
        assert all(r.method.startswith("logistic, LRT") for r in rows)
    else:
        assert rows[0].n_cases is None
        assert all(r.method.startswith("linear, F test") for r in rows)
    assert rows[-1].method.endswith("per_allele = effect-allele count")


@pytest.mark.parametrize(("outcome", "otype"), OUTCOMES)
def test_additive_dosage_matches_r(cohort, ref, outcome, otype):
    rows = genetic_models(
        _arr(cohort, outcome),
        _arr(cohort, "g"),
        cohort[COV].to_numpy(float),
        outcome_type=otype,
        dosage=_arr(cohort, "ds"),
    )
    add = _by_term(rows)["additive", "per_allele"]
    _assert_matches_r(add, _ref_row(ref, "cohort_dosage", outcome, "additive", "per_allele"))
    assert add.method.endswith("per_allele = DS dosage")
    # the other models use hard calls: unchanged
    dom = _by_term(rows)["dominant", "carrier"]
    _assert_matches_r(dom, _ref_row(ref, "cohort", outcome, "dominant", "carrier"))


@pytest.mark.parametrize(("outcome", "otype"), OUTCOMES)
def test_no_covariates_matches_r(cohort, ref, outcome, otype):
    n = len(cohort)
    rows = genetic_models(_arr(cohort, outcome), _arr(cohort, "g"), np.empty((n, 0)), outcome_type=otype)
    add = _by_term(rows)["additive", "per_allele"]
    _assert_matches_r(add, _ref_row(ref, "cohort_nocov", outcome, "additive", "per_allele"))


@pytest.mark.parametrize(("outcome", "otype"), OUTCOMES)
def test_mtdna_carrier_matches_r(cohort, ref, outcome, otype):
    rows = genetic_models(
        _arr(cohort, outcome), _arr(cohort, "mt"), cohort[COV].to_numpy(float), outcome_type=otype, ploidy=1
    )
    assert [(r.model, r.term) for r in rows] == [("carrier", "carrier")]
    _assert_matches_r(rows[0], _ref_row(ref, "cohort_mt", outcome, "carrier", "carrier"))


@pytest.mark.parametrize(("outcome", "otype"), OUTCOMES)
@pytest.mark.parametrize("modifier", ["t2dm", "sex"])
def test_interaction_matches_r(cohort, ref, outcome, otype, modifier):
    # covariates age, bmi, sex; for the sex interaction the duplicate sex column is dropped
    res = interaction_test(
        _arr(cohort, outcome),
        _arr(cohort, "g"),
        _arr(cohort, modifier),
        cohort[COV].to_numpy(float),
        outcome_type=otype,
        modifier_name=modifier,
    )
    assert (res.model, res.term) == (f"interaction_{modifier}", f"per_allele_x_{modifier}")
    _assert_matches_r(res, _ref_row(ref, "cohort", outcome, res.model, res.term))
    assert res.df == 1


def test_sparse_estimable_models_match_r(ref):
    d = _data("sparse")
    rows = _by_term(
        genetic_models(_arr(d, "y_bin"), _arr(d, "g"), d[COV].to_numpy(float), outcome_type="binary")
    )
    for model, term in [("dominant", "carrier"), ("overdominant", "het"), ("additive", "per_allele")]:
        row = rows[model, term]
        assert row.note == "" and row.method.startswith("logistic, LRT")
        _assert_matches_r(row, _ref_row(ref, "sparse", "y_bin", model, term))


def test_kernels_match_r_coefficients(cohort, ref):
    d = cohort[["y_bin", "g", *COV]].dropna()
    X = np.column_stack([np.ones(len(d)), d[COV].to_numpy(float), d["g"].to_numpy(float)])
    r = _ref_row(ref, "cohort", "y_bin", "additive", "per_allele")
    fit = fit_logistic(X, d["y_bin"].to_numpy(float))
    assert fit.converged
    assert_allclose([fit.beta[-1], fit.se[-1]], [r["beta"], r["se"]], rtol=1e-8)
    assert_allclose(-2 * fit.loglik + 2 * X.shape[1], r["aic"], rtol=1e-10)


# ----------------------------------------------------------------------------------------------
# PLINK 1.9 (printed precision)
# ----------------------------------------------------------------------------------------------


def _plink19(model: str, kind: str) -> pd.DataFrame:
    return pd.read_csv(FIX / "plink" / f"cohort.plink19.{model}.assoc.{kind}", sep=r"\s+", dtype=str)


def _agrees_at_printed_precision(value: float, printed: str) -> bool:
    """|value - printed| is at most half a unit in the last printed digit."""
    mant = printed.lower().split("e")[0]
    exp = int(printed.lower().split("e")[1]) if "e" in printed.lower() else 0
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    half_unit = 0.5 * 10.0 ** (exp - decimals)
    return abs(value - float(printed)) <= half_unit * (1 + 1e-9)


@pytest.mark.parametrize(
    ("outcome", "otype", "kind"), [("y_bin", "binary", "logistic"), ("y_cont", "continuous", "linear")]
)
@pytest.mark.parametrize(
    ("plink_model", "model", "term"),
    [
        ("additive", "additive", "per_allele"),
        ("dominant", "dominant", "carrier"),
        ("recessive", "recessive", "hom_alt"),
    ],
)
def test_plink19_wald(cohort, outcome, otype, kind, plink_model, model, term):
    row = _by_term(
        genetic_models(
            _arr(cohort, outcome), _arr(cohort, "g"), cohort[COV].to_numpy(float), outcome_type=otype
        )
    )[model, term]
    p = _plink19(plink_model, kind).iloc[0]
    assert p["A1"] == "G" and int(p["NMISS"]) == row.n
    est_col = "OR" if kind == "logistic" else "BETA"
    beta = math.log(row.estimate) if kind == "logistic" else row.estimate
    checks = {
        est_col: row.estimate,
        "SE": row.standard_error,
        "L95": row.ci_lower,
        "U95": row.ci_upper,
        "STAT": beta / row.standard_error,  # Wald z (logistic) / t (linear)
    }
    for col, value in checks.items():
        assert _agrees_at_printed_precision(value, p[col]), (col, value, p[col])


def test_plink19_genotypic(cohort):
    # PLINK's genotypic model: ADD (0/1/2) + DOMDEV (0/1/0): hom_alt = 2 ADD, het = ADD + DOMDEV
    for outcome, otype, kind in [("y_bin", "binary", "logistic"), ("y_cont", "continuous", "linear")]:
        rows = _by_term(
            genetic_models(
                _arr(cohort, outcome), _arr(cohort, "g"), cohort[COV].to_numpy(float), outcome_type=otype
            )
        )
        p = _plink19("genotypic", kind).set_index("TEST")
        col = "OR" if kind == "logistic" else "BETA"
        het, hom = rows["codominant", "het"].estimate, rows["codominant", "hom_alt"].estimate
        if kind == "logistic":
            add, dom = math.sqrt(hom), het / math.sqrt(hom)
        else:
            add, dom = hom / 2, het - hom / 2
        assert _agrees_at_printed_precision(add, p.loc["ADD", col])
        assert _agrees_at_printed_precision(dom, p.loc["DOMDEV", col])
        if kind == "linear":
            # the F test of k nested terms in OLS is exactly the Wald chi-square / k
            assert _agrees_at_printed_precision(
                2 * rows["codominant", "het"].statistic, p.loc["GENO_2DF", "STAT"]
            )


# ----------------------------------------------------------------------------------------------
# Firth fallback vs PLINK 2 --glm firth
# ----------------------------------------------------------------------------------------------


def _plink2(dataset: str, model: str, mode: str = "firth") -> pd.DataFrame:
    return pd.read_csv(FIX / "plink" / f"{dataset}.plink2.{model}.{mode}.glm", sep="\t")


PLINK2_TERMS = {
    ("codominant", "het"): ("hethom", "HET"),
    ("codominant", "hom_alt"): ("hethom", "HOM"),
    ("dominant", "carrier"): ("dominant", "DOM"),
    ("recessive", "hom_alt"): ("recessive", "REC"),
    ("overdominant", "het"): ("hetonly", "HET"),
    ("additive", "per_allele"): ("additive", "ADD"),
}
# PLINK 2 (v2.00a3.5) runs Firth in single precision and stops when every step is <= 1e-4
# (FirthRegressionF: xconv = gconv = 1e-4). Coefficients along a flat direction of the penalised
# likelihood (effect-allele homozygote classes of 2-6 samples, SE > 1.5) therefore differ by up to
# 4e-4 relative; test_firth_is_the_optimum shows that ours is the maximum and PLINK's is not.
LOOSE = {
    ("sparse", "codominant", "hom_alt"),
    ("separation", "codominant", "hom_alt"),
    ("separation", "recessive", "hom_alt"),
}


@pytest.mark.parametrize("dataset", ["sparse", "separation"])
def test_firth_fallback_matches_plink2(dataset):
    d = _data(dataset)
    rows = genetic_models(_arr(d, "y_bin"), _arr(d, "g"), d[COV].to_numpy(float), outcome_type="binary")
    n_firth = 0
    for row in rows:
        if row.method.startswith("logistic, LRT"):
            continue
        n_firth += 1
        assert row.method == "logistic (Firth), penalised LRT; profile penalised-likelihood CI" + (
            "; per_allele = effect-allele count" if row.model == "additive" else ""
        )
        assert row.note == "firth-fallback: quasi-complete separation"
        assert math.isnan(row.aic)
        assert 0 < row.p_value < 1 and row.ci_lower < row.estimate < row.ci_upper
        pmodel, test = PLINK2_TERMS[row.model, row.term]
        p = _plink2(dataset, pmodel).set_index("TEST")
        # firth-fallback gives the same numbers for these rows
        assert_allclose(
            _plink2(dataset, pmodel, "firth-fallback").set_index("TEST").loc[test, "BETA"],
            p.loc[test, "BETA"],
        )
        rtol = 5e-4 if (dataset, row.model, row.term) in LOOSE else 1e-4
        # PLINK 2 --glm firth prints the Firth Wald SE, CI and test: our wald_* fields
        got = [
            math.log(row.estimate),
            row.standard_error,
            math.log(row.wald_ci_lower),
            math.log(row.wald_ci_upper),
        ]
        assert_allclose(got, p.loc[test, ["BETA", "SE", "L95", "U95"]].to_numpy(float), rtol=rtol)
        assert row.n == p.loc[test, "OBS_CT"]
        if row.df == 1:
            z = math.log(row.estimate) / row.standard_error
            assert_allclose(abs(z), abs(p.loc[test, "Z_STAT"]), rtol=rtol)
            assert_allclose(row.wald_p_value, p.loc[test, "P"], rtol=10 * rtol)
        else:
            # PLINK 2 prints the 2-df Wald test as chi-square / 2 ("Z_OR_F_STAT") with an F(2, n)
            # p-value; we report the 2-df Wald chi-square p-value.
            wald = stats.chi2.isf(row.wald_p_value, 2)
            assert_allclose(wald / 2, p.loc["GENO_2DF", "Z_OR_F_STAT"], rtol=1e-4)
    assert n_firth == (3 if dataset == "sparse" else 6)


def test_firth_sparse_keeps_estimable_models_plain():
    # PLINK 2 firth-fallback also stays with plain logistic regression for these
    d = _data("sparse")
    rows = _by_term(
        genetic_models(_arr(d, "y_bin"), _arr(d, "g"), d[COV].to_numpy(float), outcome_type="binary")
    )
    for model, term in [("dominant", "carrier"), ("additive", "per_allele")]:
        pmodel, test = PLINK2_TERMS[model, term]
        p = _plink2("sparse", pmodel, "firth-fallback").iloc[0]
        assert p["FIRTH?"] == "N"
        assert_allclose(
            [math.log(rows[model, term].estimate), rows[model, term].standard_error],
            [p["BETA"], p["SE"]],
            rtol=1e-4,
        )


def test_firth_kernel_matches_plink2_without_separation(cohort):
    d = cohort[["y_bin", "g", *COV]].dropna()
    X = np.column_stack([np.ones(len(d)), d[COV].to_numpy(float), d["g"].to_numpy(float)])
    fit = fit_firth(X, d["y_bin"].to_numpy(float))
    p = _plink2("cohort", "additive").iloc[0]
    assert fit.converged
    assert_allclose([fit.beta[-1], fit.se[-1]], [p["BETA"], p["SE"]], rtol=1e-4)


def test_firth_is_the_optimum():
    d = _data("sparse")
    g = _arr(d, "g")
    y = _arr(d, "y_bin")
    X = np.column_stack([np.ones(len(d)), d[COV].to_numpy(float), g == 1, g == 2]).astype(float)
    fit = fit_firth(X, y)

    def pll(b):
        return _firth_state(X, y, b)[-1]

    eps = 1e-6
    grad = [(pll(fit.beta + eps * e) - pll(fit.beta - eps * e)) / (2 * eps) for e in np.eye(X.shape[1])]
    assert_allclose(grad, 0, atol=1e-5)
    plink = fit.beta.copy()
    plink[-1] = _plink2("sparse", "hethom").set_index("TEST").loc["HOM", "BETA"]
    assert pll(fit.beta) > pll(plink)


def test_firth_penalised_lrt_uses_full_design_penalty():
    # logistf: the restricted fit keeps the tested coefficient at 0 and the full-design penalty
    d = _data("separation")
    g, y = _arr(d, "g"), _arr(d, "y_bin")
    X = np.column_stack([np.ones(len(d)), d[COV].to_numpy(float), g]).astype(float)
    full = fit_firth(X, y)
    fixed = np.zeros(X.shape[1], dtype=bool)
    fixed[-1] = True
    restricted = fit_firth(X, y, fixed=fixed)
    assert restricted.converged and restricted.beta[-1] == 0
    row = _by_term(genetic_models(y, g, d[COV].to_numpy(float), outcome_type="binary"))[
        "additive", "per_allele"
    ]
    stat = 2 * (full.penalised_loglik - restricted.penalised_loglik)
    assert_allclose(row.statistic, stat, rtol=1e-10)
    assert_allclose(row.p_value, stats.chi2.sf(stat, 1), rtol=1e-10)
    # the restricted penalised likelihood differs from refitting without the column
    dropped = fit_firth(X[:, :-1], y)
    assert abs(dropped.penalised_loglik - restricted.penalised_loglik) > 1e-3


def test_firth_prior_weights_equal_replicated_rows():
    # integer prior weights are frequency weights: the weighted fit, its penalised LRT and its
    # profile limits equal those on the data with each row repeated that many times (the
    # haplotype EM-GLM's fractional weights are checked against brglm2 in test_haplotypes.py)
    d = _data("separation")
    g, y = _arr(d, "g"), _arr(d, "y_bin")
    X = np.column_stack([np.ones(len(d)), d[COV].to_numpy(float), g]).astype(float)
    a = np.random.default_rng(3).integers(0, 4, len(d)).astype(float)
    rep = np.repeat(np.arange(len(d)), a.astype(int))
    w_fit, r_fit = fit_firth(X, y, weights=a), fit_firth(X[rep], y[rep])
    assert w_fit.converged and r_fit.converged
    assert_allclose(w_fit.beta, r_fit.beta, rtol=1e-8, atol=1e-10)
    assert_allclose(w_fit.cov, r_fit.cov, rtol=1e-7)
    assert_allclose(
        [w_fit.loglik, w_fit.penalised_loglik], [r_fit.loglik, r_fit.penalised_loglik], rtol=1e-10
    )
    j = X.shape[1] - 1
    assert_allclose(
        regression.penalised_lrt(X, y, w_fit, [j], weights=a),
        regression.penalised_lrt(X[rep], y[rep], r_fit, [j]),
        rtol=1e-7,
    )
    assert_allclose(
        regression.profile_limits(X, y, w_fit, j, weights=a),
        regression.profile_limits(X[rep], y[rep], r_fit, j),
        rtol=1e-7,
    )
    # unit weights change nothing; fractional weights change the fit
    assert_allclose(fit_firth(X, y, weights=np.ones(len(y))).beta, fit_firth(X, y).beta, rtol=1e-12)
    assert np.max(np.abs(fit_firth(X, y, weights=a / 2).beta - w_fit.beta)) > 1e-3
    with pytest.raises(ValueError, match="weights must be"):
        fit_firth(X, y, weights=-a)


def test_interaction_firth_fallback(cohort):
    d = cohort[["y_bin", "g", "t2dm", *COV]].dropna().copy()
    d.loc[(d.t2dm == 1) & (d.g >= 1), "y_bin"] = 1  # carriers with T2DM are all cases
    d.loc[(d.t2dm == 1) & (d.g == 0), "y_bin"] = 0
    res = interaction_test(
        _arr(d, "y_bin"),
        _arr(d, "g"),
        _arr(d, "t2dm"),
        d[COV].to_numpy(float),
        outcome_type="binary",
        modifier_name="t2dm",
    )
    assert res.method.startswith("logistic (Firth)")
    assert res.note.startswith("firth-fallback")
    assert np.isfinite(res.estimate) and 0 < res.p_value < 1


# ----------------------------------------------------------------------------------------------
# sparse data: rows with notes, never exceptions
# ----------------------------------------------------------------------------------------------


def _run(d, outcome="y_bin", otype="binary", **kw):
    return _by_term(
        genetic_models(_arr(d, outcome), _arr(d, "g"), d[COV].to_numpy(float), outcome_type=otype, **kw)
    )


@pytest.mark.parametrize(("outcome", "otype"), OUTCOMES)
def test_no_effect_allele_homozygotes(cohort, outcome, otype):
    d = cohort[cohort.g < 2]
    rows = _run(d, outcome, otype)
    absent = "genotype class absent (no effect-allele homozygotes)"
    for key in [("codominant", "hom_alt"), ("recessive", "hom_alt")]:
        assert rows[key].note == absent and math.isnan(rows[key].estimate) and math.isnan(rows[key].p_value)
    het, dom = rows["codominant", "het"], rows["dominant", "carrier"]
    assert het.df == 1 and "codominant reduced to 1 df" in het.note
    # with genotypes 0/1 only, het vs ref = carrier vs non-carrier = per allele
    for other in (dom, rows["additive", "per_allele"], rows["overdominant", "het"]):
        assert_allclose([het.estimate, het.p_value], [other.estimate, other.p_value], rtol=1e-8)
        assert other.note == ""


def test_no_reference_homozygotes(cohort):
    d = cohort[cohort.g >= 1]
    rows = _run(d)
    absent = "genotype class absent (no reference homozygotes)"
    for key in [("codominant", "het"), ("codominant", "hom_alt"), ("dominant", "carrier")]:
        assert rows[key].note == absent and math.isnan(rows[key].estimate)
    rec, over = rows["recessive", "hom_alt"], rows["overdominant", "het"]
    assert_allclose(rec.estimate, 1 / over.estimate, rtol=1e-8)  # 2 vs 1 and 1 vs 2
    assert_allclose(rec.p_value, over.p_value, rtol=1e-8)


def test_no_heterozygotes(cohort):
    rows = _run(cohort[cohort.g != 1])
    assert rows["overdominant", "het"].note == "genotype class absent (no heterozygotes)"
    assert rows["codominant", "het"].note == "genotype class absent (no heterozygotes)"
    assert np.isfinite(rows["codominant", "hom_alt"].estimate)
    assert_allclose(rows["dominant", "carrier"].estimate, rows["recessive", "hom_alt"].estimate, rtol=1e-8)


@pytest.mark.parametrize(
    ("subset", "note"),
    [
        (lambda d: d[d.g == 1], "monomorphic in this stratum"),
        (lambda d: d[d.y_bin == 0], "no cases"),
        (lambda d: d[d.y_bin == 1], "no controls"),
        (lambda d: d.iloc[:20], "too few samples (n="),
    ],
)
def test_not_estimable_gives_notes(cohort, subset, note):
    rows = list(_run(subset(cohort)).values())
    assert len(rows) == 6
    for r in rows:
        assert r.note.startswith(note), r.note
        assert math.isnan(r.estimate) and math.isnan(r.p_value)


def test_too_few_cases(cohort):
    d = cohort[(cohort.y_bin == 0) | (cohort.index < 20)]
    rows = _run(d, min_cases=10)
    n_cases = int(d.dropna(subset=["y_bin", "g", *COV]).y_bin.sum())
    assert 0 < n_cases < 10
    assert all(r.note == f"too few cases (n_cases={n_cases} < 10)" for r in rows.values())


def test_singular_design(cohort):
    d = cohort.dropna(subset=["y_cont", "g", *COV])
    cov = np.column_stack([d[COV].to_numpy(float), d["age"].to_numpy(float) * 2])
    rows = genetic_models(
        _arr(d, "y_cont"), _arr(d, "g"), cov, outcome_type="continuous", covariate_names=[*COV, "age2"]
    )
    assert all(r.note == "singular design (covariate collinear: age2)" for r in rows)
    # a covariate equal to the genotype makes every genetic model singular
    cov = np.column_stack([d[COV].to_numpy(float), d["g"].to_numpy(float)])
    rows = genetic_models(_arr(d, "y_bin"), _arr(d, "g"), cov, outcome_type="binary")
    assert _by_term(rows)["additive", "per_allele"].note.startswith("singular design (covariate collinear")


def test_interaction_notes(cohort):
    d = cohort.dropna(subset=["y_bin", "g", "t2dm", *COV])
    one = d[d.t2dm == 1]
    res = interaction_test(
        _arr(one, "y_bin"),
        _arr(one, "g"),
        _arr(one, "t2dm"),
        one[COV].to_numpy(float),
        outcome_type="binary",
        modifier_name="t2dm",
    )
    assert res.note == "modifier t2dm constant in this stratum" and math.isnan(res.p_value)
    two = d[d.g == 2]
    res = interaction_test(
        _arr(two, "y_bin"),
        _arr(two, "g"),
        _arr(two, "t2dm"),
        two[COV].to_numpy(float),
        outcome_type="binary",
        modifier_name="t2dm",
    )
    assert res.note == "monomorphic in this stratum"


def test_mtdna_monomorphic(cohort):
    d = cohort[cohort.mt == 0]
    rows = genetic_models(
        _arr(d, "y_bin"), _arr(d, "mt"), d[COV].to_numpy(float), outcome_type="binary", ploidy=1
    )
    assert [(r.model, r.note) for r in rows] == [("carrier", "monomorphic in this stratum")]


def test_invalid_input_raises(cohort):
    y, g, c = _arr(cohort, "y_bin"), _arr(cohort, "g"), cohort[COV].to_numpy(float)
    with pytest.raises(ValueError, match="effect-allele counts"):
        genetic_models(y, np.where(g == 2, 3.0, g), c, outcome_type="binary")
    with pytest.raises(ValueError, match="effect-allele counts"):
        genetic_models(y, g, c, outcome_type="binary", ploidy=1)
    with pytest.raises(ValueError, match="binary y must be 0/1"):
        genetic_models(_arr(cohort, "y_cont"), g, c, outcome_type="binary")
    with pytest.raises(ValueError, match="rows"):
        genetic_models(y, g, c[:10], outcome_type="binary")
    with pytest.raises(ValueError, match="outcome_type"):
        genetic_models(y, g, c, outcome_type="quantitative")
    with pytest.raises(ValueError, match="modifier_name"):
        interaction_test(y, g, _arr(cohort, "t2dm"), c, outcome_type="binary", modifier_name="age")


# ----------------------------------------------------------------------------------------------
# speed (sanity, not a timed assertion) and simulated recovery
# ----------------------------------------------------------------------------------------------


def test_large_sample_recovers_effects_quickly():
    rng = np.random.default_rng(7)
    n = 50_000
    cov = rng.normal(size=(n, 3))
    g = rng.binomial(2, 0.3, n).astype(float)
    eta = -1.0 + 0.25 * g + cov @ np.array([0.1, 0.2, -0.1])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    X = np.column_stack([np.ones(n), cov, g])
    t0 = time.perf_counter()
    fit = fit_logistic(X, y)
    elapsed = time.perf_counter() - t0
    print(f"logistic fit, {n} x {X.shape[1]}: {elapsed * 1e3:.1f} ms, {fit.n_iter} iterations")
    assert fit.converged
    assert abs(fit.beta[-1] - 0.25) < 4 * fit.se[-1]
    yc = 0.5 - 0.03 * g + rng.normal(0, 0.1, n)
    lin = fit_linear(X, yc)
    assert abs(lin.beta[-1] + 0.03) < 4 * lin.se[-1]


def test_separation_by_genotype_and_covariate(cohort):
    # no genotype class is pure, but g and age together separate cases from controls: the
    # diverging logistic fit (|beta| > 15 or no convergence) triggers the Firth fallback
    d = cohort.dropna(subset=["g", *COV]).copy()
    d["y_bin"] = (d.g + (d.age - 62) / 5 > 1).astype(float)
    rows = _run(d)
    add = rows["additive", "per_allele"]
    assert add.method.startswith("logistic (Firth)")
    assert add.note.startswith("firth-fallback")
    assert np.isfinite(add.estimate) and np.isfinite(add.standard_error)


def test_printed_precision_helper_can_fail():
    assert _agrees_at_printed_precision(1.63676, "1.637")
    assert not _agrees_at_printed_precision(1.6376, "1.637")
    assert _agrees_at_printed_precision(0.00016594, "0.0001659")
    assert not _agrees_at_printed_precision(3.53e-09, "3.527e-09")


def test_dosage_model_uses_every_dosage_and_class_models_every_hard_call():
    """Missing DS falls back to the hard call; DS without a hard call stays in the dosage model;
    the genotype-class models never lose samples because of DS. Checked with statsmodels."""
    import statsmodels.api as sm
    from scipy import stats as st

    rng = np.random.default_rng(7)
    n = 900
    g = rng.binomial(2, 0.4, n).astype(float)
    ds = np.clip(g + rng.normal(0, 0.15, n), 0, 2)
    age = rng.normal(60, 8, n)
    y = 0.8 + 0.03 * ds - 0.004 * age + rng.normal(0, 0.1, n)
    ds[:300] = np.nan  # DS missing: hard call used
    g[300:400] = np.nan  # below the GP threshold: no hard call, dosage only
    rows = genetic_models(y, g, age[:, None], outcome_type="continuous", dosage=ds, min_n=30)
    plain = genetic_models(y, g, age[:, None], outcome_type="continuous", min_n=30)
    for r, q in zip(rows, plain, strict=True):
        if r.model != "additive":
            assert r.n == q.n == 800 and r.p_value == q.p_value
    add = next(r for r in rows if r.model == "additive")
    assert add.n == 900 and "dosage model on n=900 (genotype-class models n=800)" in add.note
    filled = np.where(np.isnan(ds), g, ds)
    X0 = sm.add_constant(age)
    X1 = np.column_stack([X0, filled])
    m0, m1 = sm.OLS(y, X0).fit(), sm.OLS(y, X1).fit()
    np.testing.assert_allclose(add.estimate, m1.params[-1], rtol=1e-9)
    np.testing.assert_allclose(add.standard_error, m1.bse[-1], rtol=1e-9)
    f = (m0.ssr - m1.ssr) / (m1.ssr / m1.df_resid)
    np.testing.assert_allclose(add.statistic, f, rtol=1e-7)
    np.testing.assert_allclose(add.p_value, st.f.sf(f, 1, m1.df_resid), rtol=1e-7)


# --------------------------------------------------------------------------------------------
# covariate design: constant and aliased covariates dropped as R lm / glm alias them
# --------------------------------------------------------------------------------------------
def test_covariate_design_drops_constant_and_later_collinear_columns():
    rng = np.random.default_rng(7)
    n = 200
    age = rng.integers(40, 80, n).astype(float)
    bmi = np.full(n, 27.5)
    sex = rng.integers(0, 2, n).astype(float)
    months = 12 * age
    combo = 2 * age - 3 * sex + 1
    C = np.column_stack([age, bmi, months, sex, combo])
    d = regression.covariate_design(C, ["age_years", "bmi", "age_months", "sex", "combo"])
    assert d.names == ["age_years", "sex"] and d.kept == [0, 3]
    assert d.dropped == [
        ("bmi", "constant in this stratum"),
        ("age_months", "collinear with age_years"),
        ("combo", "collinear with age_years, sex"),
    ]
    assert d.note == (
        "covariate dropped: bmi (constant in this stratum); covariate dropped: age_months (collinear "
        "with age_years); covariate dropped: combo (collinear with age_years, sex)"
    )
    # the earlier column of a collinear pair is kept, whichever it is (formula order, as R)
    d = regression.covariate_design(np.column_stack([months, age]), ["age_months", "age_years"])
    assert d.names == ["age_months"] and d.dropped == [("age_years", "collinear with age_months")]


def test_covariate_design_tolerance_and_missing_rows():
    rng = np.random.default_rng(8)
    n = 300
    a = rng.normal(50, 10, n)
    near = 3 * a + rng.normal(0, 1e-7, n)  # residual about 1e-9 of the column's norm
    C = np.column_stack([a, near])
    assert regression.covariate_design(C, ["a", "near"]).dropped == [("near", "collinear with a")]
    assert regression.covariate_design(C, ["a", "near"], tol=1e-12).dropped == []
    # rows with a NaN are not part of the design: b is constant among the complete cases
    a[:5] = np.nan
    b = np.where(np.arange(n) < 5, 2.0, 1.0)
    d = regression.covariate_design(np.column_stack([a, b]), ["a", "b"])
    assert d.dropped == [("b", "constant in this stratum")]
    assert regression.covariate_design(np.empty((0, 2)), ["a", "b"]).names == ["a", "b"]
    with pytest.raises(ValueError, match=r"covariates must be \(n, 1\) for 1 names"):
        regression.covariate_design(C, ["a"])


# ----------------------------------------------------------------------------------------------
# Sparse data against R: penalised LRT and profile CI (brglm2 + direct maximisation), dosages
# (make_firth_fixtures.R -> firth_reference.tsv)
# ----------------------------------------------------------------------------------------------

FIRTH = "logistic (Firth), penalised LRT; profile penalised-likelihood CI"
R_FIELDS = ["estimate", "standard_error", "statistic", "df", "p_value", "wald_p_value", "wald_ci_lower"]
R_FIELDS += ["wald_ci_upper"]


@pytest.fixture(scope="module")
def firth_ref() -> pd.DataFrame:
    ref = pd.read_csv(FIX / "firth_reference.tsv", sep="\t", skipinitialspace=True)
    ref["term"] = ref["term"].str.replace(r"\d+$", "", regex=True)
    return ref.rename(columns={"se": "standard_error"})


def _assert_matches_firth_ref(row, r):
    """Estimates, SE, statistic, p and Wald values to 1e-6; profile limits to 1e-4 (relative)."""
    got = np.array([getattr(row, f) for f in R_FIELDS], dtype=float)
    assert_allclose(got, r[R_FIELDS].to_numpy(float), rtol=1e-6, err_msg=f"{row.model}/{row.term}")
    lims = [row.ci_lower, row.ci_upper]
    if r["fit"] == "firth":
        assert_allclose(np.log(lims), np.log(r[["ci_lower", "ci_upper"]].to_numpy(float)), rtol=1e-4)
        assert math.isnan(row.aic)
    else:  # ML: Wald CI, AIC
        assert_allclose(lims + [row.aic], r[["ci_lower", "ci_upper", "aic"]].to_numpy(float), rtol=1e-6)
    assert row.n == r["n"]


def _firth_ref_rows(ref, dataset):
    return ref[ref.dataset == dataset].itertuples(index=False)


def test_firth_recessive_no_case_homozygotes_uses_penalised_lrt(firth_ref):
    # the 9 effect-allele homozygotes are all controls: the Wald test understates the evidence
    d = _data("firth_recessive")
    rows = _run(d)
    sel = firth_ref[firth_ref.dataset == "firth_recessive"]
    for _, r in sel.iterrows():
        row = rows[r["model"], r["term"]]
        assert row.method == FIRTH and row.note == "firth-fallback: quasi-complete separation"
        _assert_matches_firth_ref(row, r)
    rec, cod = rows["recessive", "hom_alt"], rows["codominant", "hom_alt"]
    assert rec.p_value < 0.01 < 0.05 < rec.wald_p_value
    # the codominant pair: one 2-df penalised LRT shown on both rows
    assert cod.df == 2 and cod.p_value == rows["codominant", "het"].p_value
    # the other models have finite ML estimates
    assert rows["dominant", "carrier"].method.startswith("logistic, LRT")


def test_firth_complete_separation(firth_ref):
    # fitted without covariates (see make_firth_fixtures.R)
    d = _data("firth_complete")
    rows = _by_term(
        genetic_models(_arr(d, "y_bin"), _arr(d, "g"), np.empty((len(d), 0)), outcome_type="binary")
    )
    for _, r in firth_ref[firth_ref.dataset == "firth_complete"].iterrows():
        row = rows[r["model"], r["term"]]
        expected = FIRTH + ("; per_allele = effect-allele count" if r["model"] == "additive" else "")
        assert row.method == expected
        _assert_matches_firth_ref(row, r)
    dom = rows["dominant", "carrier"]
    assert dom.p_value < 1e-12 and dom.wald_p_value > 1e-6
    # the profile CI is asymmetric about the estimate (the Wald CI is symmetric on the log scale)
    assert math.log(dom.ci_upper / dom.estimate) > 1.5 * math.log(dom.estimate / dom.ci_lower)


def test_firth_interaction_with_separation_in_one_group(firth_ref):
    d = _data("firth_interaction")
    res = interaction_test(
        _arr(d, "y_bin"), _arr(d, "g"), _arr(d, "t2dm"), d[COV].to_numpy(float),
        outcome_type="binary", modifier_name="t2dm",
    )  # fmt: skip
    r = firth_ref[firth_ref.dataset == "firth_interaction"].iloc[0]
    assert res.method == FIRTH + "; per_allele = effect-allele count"
    assert res.note == "firth-fallback: quasi-complete separation"
    _assert_matches_firth_ref(res, r)


@pytest.mark.parametrize("dataset", ["dosage_overlap", "dosage_low"])
def test_dosage_checks_use_the_dosages(firth_ref, dataset):
    # dosage_overlap: every sample with rounded DS 1 or 2 is a case, but the dosages of cases and
    # controls overlap below 0.5: no separation, plain ML as R glm.
    # dosage_low: every DS below 0.5 (hard calls all 0): not monomorphic, estimated.
    d = _data(dataset)
    rows = genetic_models(
        _arr(d, "y_bin"), _arr(d, "g"), d[COV].to_numpy(float), outcome_type="binary", dosage=_arr(d, "ds")
    )
    add = _by_term(rows)["additive", "per_allele"]
    assert add.method == "logistic, LRT; per_allele = DS dosage" and add.note == ""
    _assert_matches_firth_ref(add, firth_ref[firth_ref.dataset == dataset].iloc[0])
    if dataset == "dosage_low":
        assert all(r.note == "monomorphic in this stratum" for r in rows if r.model != "additive")
    else:
        # the hard-call models do separate (classes 1 and 2 are all cases)
        assert _by_term(rows)["dominant", "carrier"].method == FIRTH


def test_dosage_separation_and_monomorphism_are_decided_on_dosages():
    rng = np.random.default_rng(3)
    n = 200
    covs = rng.normal(size=(n, 1))
    ds = np.round(rng.uniform(0, 0.49, n), 3)
    y = (ds > 0.3).astype(float)  # controls <= 0.3 < cases: quasi-complete separation on the DS
    g = np.zeros(n)
    add = _by_term(genetic_models(y, g, covs, outcome_type="binary", dosage=ds))["additive", "per_allele"]
    assert add.method == FIRTH + "; per_allele = DS dosage"
    assert add.note == "firth-fallback: quasi-complete separation"
    flat = np.full(n, 0.2)
    y = rng.binomial(1, 0.4, n).astype(float)
    add = _by_term(genetic_models(y, g, covs, outcome_type="binary", dosage=flat))["additive", "per_allele"]
    assert add.note == "monomorphic in this stratum" and math.isnan(add.p_value)


def test_ml_rows_carry_their_wald_values(cohort, ref):
    rows = _run(cohort)
    for (model, term), row in rows.items():
        assert (row.wald_ci_lower, row.wald_ci_upper) == (row.ci_lower, row.ci_upper)
        if row.df == 1:
            r = _ref_row(ref, "cohort", "y_bin", model, term)
            assert_allclose(row.wald_p_value, 2 * stats.norm.sf(abs(r["beta"] / r["se"])), rtol=1e-6)
    lin = _run(cohort, "y_cont", "continuous")
    assert all(math.isnan(r.wald_p_value) for r in lin.values())


def test_firth_converges_with_a_single_case_carrier():
    # one carrier, a case: leverage ~1, where the Fisher information understates the curvature of
    # the penalty and plain step halving oscillated between two points of equal penalised
    # likelihood (before: "Firth regression did not converge" on such mtDNA rows)
    rng = np.random.default_rng(5)
    n = 645
    age, bmi, sex = rng.normal(66, 8.7, n), rng.normal(30, 4.7, n), rng.binomial(1, 0.5, n)
    y = rng.binomial(1, 0.18, n).astype(float)
    carrier = np.zeros(n)
    carrier[np.flatnonzero(y)[0]] = 1
    X = np.column_stack([np.ones(n), age, bmi, sex, carrier])
    fit = fit_firth(X, y)
    assert fit.converged and fit.n_iter < 100
    _, mu, w, _, chol, _ = _firth_state(X, y, fit.beta)
    assert_allclose(_modified_score(X, y, mu, w, chol), 0, atol=1e-6)  # the gradient of the pll
    row = _by_term(genetic_models(y, carrier, X[:, 1:4], outcome_type="binary", ploidy=1))[
        "carrier", "carrier"
    ]
    assert row.method == FIRTH and np.isfinite([row.p_value, row.ci_lower, row.ci_upper]).all()


def test_wald_rows_of_a_near_separated_fit_give_an_infinite_limit_not_an_overflow():
    """A Firth fit with a huge standard error (a product term of two rare variants at 100,000
    people) has an upper Wald limit exp(b + 1.96 se) beyond float range: it is reported as inf
    (the epistasis job crashed with OverflowError before)."""
    rows = regression._wald_rows("epistasis", ["x"], np.array([2.0]), np.array([400.0]), True, {})
    assert rows[0].estimate == pytest.approx(math.exp(2.0))
    assert rows[0].ci_upper == math.inf and rows[0].ci_lower == 0.0
    assert regression.safe_exp(709.5) == math.inf and regression.safe_exp(1.0) == math.e


def test_profile_limits_without_a_consistent_bracket_are_nan_not_a_crash():
    """Epistasis of osteoporosis_fn at 100,000 simulated people: an mtDNA carrier column (5
    carriers, no case) and its product with a VDR SNP (6 non-zero) are nearly collinear, and the
    Firth estimates run far out (|beta| ~ 500). The restricted maximum at the inner end of the
    bracket then moves to another local maximum when Brent's method evaluates it again, so the
    bracket has no sign change: the limit is NaN (the row says the restricted fit did not
    converge) instead of the ValueError that stopped the epistasis job."""
    data = np.load(Path(__file__).parent / "fixtures" / "firth_flat_profile.npz")
    X, y = data["X"], data["y"]
    fit = regression.fit_firth(X, y)
    assert fit.converged and abs(fit.beta[5]) > 100
    lo, hi = regression.profile_limits(X, y, fit, 5)
    assert math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize("lower", [False, True])
def test_hat_diagonal_equals_the_straightforward_formula(lower):
    # _hat_diagonal (Cholesky factor, n x p product, row-wise sum of squares) against the
    # diagonal of W^1/2 X (X'WX)^-1 X' W^1/2 formed explicitly, with a high-leverage row, zero
    # weights and prior weights; and the weighted Gram matrix against X' diag(w) X
    rng = np.random.default_rng(11)
    n = 300
    X = np.column_stack([np.ones(n), rng.normal(50, 10, n), rng.binomial(1, 0.3, n), np.zeros(n)])
    X[0, 3] = 1.0  # a single carrier: leverage near 1
    mu = special.expit(X @ np.array([-1.0, 0.02, 0.5, 2.0]))
    prior = rng.uniform(0.0, 2.0, n)
    prior[:5] = [1.0, 0.0, 0.0, 0.5, 0.0]
    for w in (mu * (1 - mu), prior * mu * (1 - mu)):
        info = regression._weighted_gram(X, w)
        assert_allclose(info, X.T @ np.diag(w) @ X, rtol=1e-12)
        sw = np.sqrt(w)[:, None] * X
        straight = np.diag(sw @ np.linalg.inv(X.T @ np.diag(w) @ X) @ sw.T)
        h = regression._hat_diagonal(X, w, linalg.cho_factor(info, lower=lower))
        assert_allclose(h, straight, rtol=1e-10, atol=1e-14)
        assert h[0] > 0.5 and np.all(h[w == 0] == 0)
        assert_allclose(h.sum(), X.shape[1], rtol=1e-12)  # trace of the hat matrix = p


def test_checks_only_gives_the_sample_check_rows_without_fitting(monkeypatch):
    # checks_only (the mtDNA minimum-carrier rule replaces fitted rows): the same NaN rows as the
    # full call when a sample check fails; when they pass, NaN rows with an empty note, no fit
    rng = np.random.default_rng(8)
    n = 400
    c = rng.normal(size=(n, 1))
    y = rng.binomial(1, 0.3, n).astype(float)
    carrier = (rng.random(n) < 0.1).astype(float)
    m = rng.integers(0, 2, n).astype(float)
    g = rng.integers(0, 3, n).astype(float)
    failing = [
        (y[:20], carrier[:20], c[:20]),  # too few samples
        (np.zeros(n), carrier, c),  # no cases
        (y, np.zeros(n), c),  # monomorphic
    ]
    for yy, gg, cc in failing:
        full = genetic_models(yy, gg, cc, outcome_type="binary", ploidy=1)
        assert full[0].note
        assert genetic_models(yy, gg, cc, outcome_type="binary", ploidy=1, checks_only=True) == full
    for yy, gg, mm in [(y[:20], g[:20], m[:20]), (y, g, np.zeros(n)), (y, g * m, m)]:
        kw = dict(outcome_type="binary", modifier_name="t2dm")
        full = interaction_test(yy, gg, mm, c[: yy.size], **kw)
        assert full.note and interaction_test(yy, gg, mm, c[: yy.size], checks_only=True, **kw) == full

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted")

    monkeypatch.setattr(regression, "fit_logistic", no_fit)
    rows = genetic_models(y, carrier, c, outcome_type="binary", ploidy=1, checks_only=True)
    assert [(r.note, r.n, r.n_cases) for r in rows] == [("", n, int(y.sum()))]
    assert np.isnan(rows[0].p_value)
    row = interaction_test(y, g, m, c, outcome_type="binary", modifier_name="sex", checks_only=True)
    assert row.note == "" and np.isnan(row.p_value) and row.n == n


def test_rank_checks_and_linear_fit_reuse_one_qr_of_the_widest_design():
    """The R factor of a wider design ([X, extra], [X, y]) gives the same rank verdict as a QR of
    X itself, and fit_linear from a given R equals the fit that factorises [X, y] itself."""
    rng = np.random.default_rng(7)
    n = 2000
    age, bmi = rng.normal(60, 8, n), rng.normal(27, 4, n)
    g = rng.integers(0, 3, n).astype(float)
    y = 0.05 * g + 0.01 * age + rng.normal(size=n)
    designs = {
        "full rank": np.column_stack([np.ones(n), age, bmi, g]),
        "collinear": np.column_stack([np.ones(n), age, 2 * age + 1, g]),
        "nearly collinear": np.column_stack([np.ones(n), age, age + 1e-9 * rng.normal(size=n), g]),
        "zero column": np.column_stack([np.ones(n), age, np.zeros(n), g]),
    }
    for label, X in designs.items():
        wide = np.column_stack([X, g * age, y])
        own = regression._dependent_columns(X)
        assert regression._dependent_columns(X, np.linalg.qr(wide, mode="r")) == own, label
        assert (own != []) == (label != "full rank"), label
        names = [f"c{j}" for j in range(1, X.shape[1])]
        assert regression.collinear_note(
            X, names, r=np.linalg.qr(wide, mode="r")
        ) == regression.collinear_note(X, names)
    X = designs["full rank"]
    own, given = fit_linear(X, y), fit_linear(X, y, raug=np.linalg.qr(np.column_stack([X, y]), mode="r"))
    for a, b in ((own.beta, given.beta), (own.cov, given.cov), (own.effects, given.effects)):
        assert_allclose(b, a, rtol=1e-12)
    assert given.rss == pytest.approx(own.rss, rel=1e-12) and given.loglik == pytest.approx(
        own.loglik, rel=1e-12
    )


def test_distribution_tails_equal_scipy_stats_to_the_bit():
    """chi2_sf, f_sf and chi2_ppf (scipy.special kernels, no scipy.stats import) return exactly
    what scipy.stats.chi2 / f return, edge values included; Z95 is norm.ppf(0.975)."""
    rng = np.random.default_rng(3)
    xs = [
        0.0,
        -0.0,
        -1.0,
        1e-300,
        1e-12,
        math.inf,
        math.nan,
        *rng.exponential(3, 200),
        *rng.exponential(1e-4, 50),
    ]
    for x in xs:
        for df in (1, 2, 3):
            assert_allclose(regression.chi2_sf(x, df), stats.chi2.sf(x, df), rtol=0, atol=0, equal_nan=True)
        for dfn, dfd in ((1, 97.0), (2, 99_990.0), (1, 3.0)):
            assert_allclose(
                regression.f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd), rtol=0, atol=0, equal_nan=True
            )
    for q in (0.5, 0.9, 0.95, 0.99):
        assert regression.chi2_ppf(q, 1) == stats.chi2.ppf(q, 1)
    assert regression.Z95 == stats.norm.ppf(0.975)


def test_warm_start_skips_the_default_start_only_when_clearly_better(monkeypatch):
    """fit_logistic with ``start`` gives bit-identical fits whether or not the default start's
    log-likelihood is evaluated (the bound only skips it when the warm start is clearly better);
    a worse start still falls back to the default, with and without prior weights."""
    rng = np.random.default_rng(21)
    n = 3000
    X = np.column_stack([np.ones(n), rng.normal(60, 8, n), rng.integers(0, 3, n)])
    y = (rng.random(n) < special.expit(-3 + 0.04 * X[:, 1] + 0.2 * X[:, 2])).astype(float)
    w = rng.random(n)
    null = fit_logistic(X[:, :2], y)
    starts = {"null": np.append(null.beta, 0.0), "poor": np.array([5.0, -0.5, 3.0])}
    for weights in (None, w):
        for label, start in starts.items():
            got = fit_logistic(X, y, start=start, weights=weights)
            with monkeypatch.context() as m:
                m.setattr(regression, "_default_loglik_bound", lambda *a: math.inf)
                ref = fit_logistic(X, y, start=start, weights=weights)
            assert np.array_equal(got.beta, ref.beta) and got.loglik == ref.loglik, label
            assert got.n_iter == ref.n_iter and np.array_equal(got.cov, ref.cov), label
        # the bound is above the default start's log-likelihood
        b0 = regression._start(X, y, weights)
        default = regression._loglik_mu(special.expit(X @ b0), y > 0, weights)
        assert regression._default_loglik_bound(X, y > 0, weights, b0[0]) >= default
    assert regression._default_loglik_bound(X[:, 1:], y > 0, None, 0.0) == math.inf


def test_single_valued_is_unique_count_below_two():
    for a in (
        np.array([]),
        np.array([1.0]),
        np.array([2.0, 2.0]),
        np.array([0.0, 1.0, 1.0]),
        np.array([-0.0, 0.0]),
    ):
        assert regression._single_valued(a) == (len(np.unique(a)) < 2)


def test_shared_coding_factorisation_gives_each_designs_rank_verdict():
    """The rank checks of the binary genetic models read each design's R off one QR of
    [X0, het, hom] (_coding_r): same verdict as a QR of the design itself, collinear codings
    (a covariate equal to a genotype coding) and an absent class included."""
    rng = np.random.default_rng(17)
    n = 1500
    g = rng.integers(0, 3, n).astype(float)
    het, hom = (g == 1).astype(float), (g == 2).astype(float)
    age = rng.normal(60, 8, n)
    covariates = {
        "independent": [age],
        "het as covariate": [age, het],
        "g as covariate": [age, 2 * g + 1],
        "carrier as covariate": [het + hom],
        "no hom": [age],
    }
    for label, cols in covariates.items():
        gg = np.where(g == 2, 1.0, g) if label == "no hom" else g
        X0 = np.column_stack([np.ones(n), *cols])
        specs = regression._specs(gg, None, 2)
        wide = np.linalg.qr(np.column_stack([X0, (gg == 1).astype(float), (gg == 2).astype(float)]), mode="r")
        verdicts = []
        for spec in specs:
            if spec.note:
                continue
            X = np.column_stack([X0, spec.columns])
            shared = regression._dependent_columns(X, regression._coding_r(wide, X0.shape[1], spec.basis))
            assert shared == regression._dependent_columns(X), (label, spec.model)
            verdicts.append(bool(shared))
        assert any(verdicts) == (label not in ("independent", "no hom")), label


def test_loglik_mu_equals_the_where_formula_to_the_bit():
    rng = np.random.default_rng(2)
    mu = np.concatenate([[0.0, 1.0, 0.5, 1e-300, 1 - 1e-16], rng.random(5000)])
    case = rng.random(mu.size) < 0.3
    w = np.where(rng.random(mu.size) < 0.1, 0.0, rng.random(mu.size))
    for c in (case, np.r_[[False, True, True, True, False], case[5:]]):
        with np.errstate(divide="ignore"):
            terms = np.log(np.where(c, mu, 1.0 - mu))
        assert regression._loglik_mu(mu, c) == float(terms.sum())
        assert regression._loglik_mu(mu, c, w) == float(w[w > 0] @ terms[w > 0])


def test_linear_genetic_models_from_the_shared_qr_equal_each_designs_own_fit():
    """The linear genetic models read every coding's fit off one QR of [X0, het, hom, y]
    (_coding_r): the same estimates, SEs, F, p and AIC as fit_linear on each design itself, an
    absent genotype class and a covariate collinear with a coding included."""
    rng = np.random.default_rng(23)
    n = 3000
    age, bmi = rng.normal(60, 8, n), rng.normal(27, 4, n)
    for label in ("all classes", "no hom", "carrier as covariate"):
        g = rng.integers(0, 3, n).astype(float)
        if label == "no hom":
            g[g == 2] = 1.0
        c = np.column_stack([age, bmi] + ([(g > 0).astype(float)] if label != "all classes" else []))
        c = c[:, :2] if label == "no hom" else c
        y = 0.03 * g + 0.01 * age + rng.normal(size=n)
        rows = genetic_models(y, g, c, outcome_type="continuous")
        X0 = np.column_stack([np.ones(n), c])
        for spec in regression._specs(g, None, 2):
            got = [r for r in rows if r.model == spec.model and r.term in spec.terms]
            X = np.column_stack([X0, spec.columns])
            if spec.note or regression._dependent_columns(X):
                assert all(math.isnan(r.p_value) for r in got), (label, spec.model)
                continue
            fit, k = fit_linear(X, y), spec.columns.shape[1]
            p = X.shape[1]
            extra = float(np.sum(fit.effects[p - k :] ** 2)) / k
            f = extra / (fit.rss / (n - p))
            for r, j in zip(got, range(p - k, p), strict=True):
                assert r.estimate == pytest.approx(fit.beta[j], rel=1e-10), (label, spec.model)
                assert r.standard_error == pytest.approx(fit.se[j], rel=1e-10), (label, spec.model)
                assert r.statistic == pytest.approx(f, rel=1e-10), (label, spec.model)
                assert r.aic == pytest.approx(-2.0 * fit.loglik + 2.0 * (p + 1), rel=1e-12)


def test_separation_from_the_class_table_equals_the_per_sample_check():
    """_separation from the genotype-class table (one table for every coding) gives the verdicts
    of the per-sample masks (np.isin per group; the ordered coding by the case and control values)."""
    rng = np.random.default_rng(29)

    def direct(y, g, groups):
        if groups is None:
            return regression._ordered_separation(y, g)
        for grp in groups:
            m = np.isin(g, grp)
            k = int(m.sum())
            if k not in (0, g.size) and float(y[m].sum()) in (0.0, k):
                return True
        return False

    groups = [None, [(0,), (1,), (2,)], [(1, 2), (0,)], [(2,), (0, 1)], [(1,), (0, 2)], [(0,), (1,)]]
    verdicts = set()
    for _ in range(400):
        n = int(rng.integers(3, 12))
        g = rng.integers(0, int(rng.integers(1, 4)), n).astype(float)
        y = (rng.random(n) < rng.random()).astype(float)
        table = regression._class_table(y, g)
        for grp in groups:
            got = regression._separation(y, g, grp, table)
            assert got == direct(y, g, grp) == regression._separation(y, g, grp), (y, g, grp)
            verdicts.add(got)
    assert verdicts == {True, False}
