"""SNP x SNP interaction (vdrbone.epistasis; SNPassoc interactionPval, log-additive) against R
glm / lm + anova on the association fixture cohort."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from vdrbone.epistasis import EPISTASIS_COLUMNS, epistasis_outcome, variant_pairs
from vdrbone.panel import read_panel
from vdrbone.regression import snp_interaction_test
from vdrbone.settings import settings_from_config

REPO = Path(__file__).resolve().parents[1]
ASSOC = REPO / "tests" / "fixtures" / "association"
FIX = REPO / "tests" / "fixtures" / "epistasis"
VARIANTS = ["rs731236", "rs7975232", "rs1544410", "rs2228570", "m.4823"]
KEYS = ["outcome", "stratum", "variant1", "variant2"]


def make_config() -> dict:
    return {
        "outcomes": {
            "bmd_ls": {"column": "ls_bmd", "type": "continuous"},
            "fracture": {"column": "any_fracture", "type": "binary", "case": ["1"], "control": ["0"]},
        },
        "covariates": ["age_years", "bmi"],
        "strata": ["all", "t2dm", "sex", "t2dm_sex"],
        "qc": {"action": "flag"},
        "association": {"min_stratum_n": 30, "min_cases": 5},
    }


@pytest.fixture(scope="module")
def cohort():
    calls = pd.read_csv(ASSOC / "calls.tsv", sep="\t")
    pheno = pd.read_csv(ASSOC / "phenotypes.tsv", sep="\t")
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(VARIANTS)
    return calls, pheno, panel


@pytest.fixture(scope="module")
def table(cohort):
    calls, pheno, panel = cohort
    return pd.concat(
        [
            epistasis_outcome(calls, pheno, panel, outcome=o, settings=settings_from_config(make_config()))
            for o in ("bmd_ls", "fracture")
        ]
    )


def test_pairs_skip_two_mtdna_variants():
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(["rs731236", "m.4823", "m.15885"])
    assert variant_pairs(panel) == [(0, 1), (0, 2)]


def test_every_pair_matches_r(table):
    ref = pd.read_csv(FIX / "r_epistasis.tsv", sep="\t", skipinitialspace=True)
    assert list(table.columns) == EPISTASIS_COLUMNS
    assert set(map(tuple, table[KEYS].to_numpy())) == set(map(tuple, ref[KEYS].to_numpy()))
    m = table.merge(ref, on=KEYS, suffixes=("", "_r"), validate="one_to_one")
    assert len(m) == 180
    assert (m["n"] == m["n_r"]).all() and (m["coding"] == "additive x additive").all()
    assert (m["covariates"] == m["covariates_r"]).all()
    plain = ~m["separated"].astype(str).str.strip().str.upper().eq("TRUE")
    firth = m["note"].fillna("").str.startswith("firth-fallback")
    singular = m["note"] == "singular design (product term collinear with the main effects)"
    # where R's fit diverges (|beta| > 15 or SE > 10), vdrbone refits by Firth and says so; where
    # the product is collinear with the main effects (R: deviance change below 0, p NA) it says so
    assert (firth == (~plain & ~singular)).all() and firth.sum() >= 3
    # R aliases the product (NA) or its deviance change is negative (p NA): exactly those rows
    assert (singular == m["p_value_r"].isna()).all() and singular.sum() == 2
    assert m.loc[singular, "p_value"].isna().all()
    c = m[plain & ~singular]
    assert len(c) >= 170 and (c["df"] == 1).all()
    for col in ("estimate", "standard_error", "ci_lower", "ci_upper", "statistic", "p_value"):
        assert_allclose(c[col].astype(float), c[f"{col}_r"].astype(float), rtol=1e-6, atol=0, err_msg=col)
    binary = c["outcome"] == "fracture"
    assert (c.loc[binary, "n_cases"].astype(int) == c.loc[binary, "n_cases_r"].astype(int)).all()
    assert (c.loc[binary, "method"] == "logistic, LRT; additive x additive (effect-allele counts)").all()
    assert (c.loc[~binary, "method"] == "linear, F test; additive x additive (effect-allele counts)").all()
    assert (c.loc[binary, "estimate_type"] == "OR").all() and (
        c.loc[~binary, "estimate_type"] == "beta"
    ).all()


def test_adjustment_within_outcome(table):
    for _, t in table.groupby("outcome"):
        ok = t["p_value"].notna()
        m = int(ok.sum())
        assert_allclose(t.loc[ok, "p_bonferroni"], np.minimum(1, m * t.loc[ok, "p_value"]), rtol=1e-12)
        assert (t.loc[ok, "q_value"] >= t.loc[ok, "p_value"] - 1e-15).all()
        assert t.loc[~ok, "p_bonferroni"].isna().all()


def test_edge_cases_give_reasons():
    rng = np.random.default_rng(2)
    n = 300
    g = rng.binomial(2, 0.3, n).astype(float)
    h = rng.binomial(1, 0.2, n).astype(float)
    y = rng.normal(size=n)
    C = rng.normal(size=(n, 1))
    ok = snp_interaction_test(y, g, h, C, outcome_type="continuous", ploidy2=1)
    assert ok.model == "snp_interaction" and ok.term == "g1_x_g2" and ok.df == 1 and np.isfinite(ok.p_value)
    mono = snp_interaction_test(y, g, np.zeros(n), C, outcome_type="continuous", variant_names=("rsA", "rsB"))
    assert mono.note == "rsB monomorphic in this stratum" and np.isnan(mono.p_value)
    same = snp_interaction_test(y, g, g, C, outcome_type="continuous")
    assert same.note == "singular design (the two variants are collinear: complete LD)"
    few = snp_interaction_test(y[:10], g[:10], g[:10], C[:10], outcome_type="continuous")
    assert few.note == "too few samples (n=10 < 30)"
    twice = snp_interaction_test(
        y, g, h, np.column_stack([C, 2 * C]), outcome_type="continuous",
        ploidy2=1, covariate_names=["age", "age2"],
    )  # fmt: skip
    assert twice.note == "singular design (covariate collinear: age2)" and np.isnan(twice.p_value)
    yb = (y > 0).astype(float)
    also = snp_interaction_test(yb, g, g, C, outcome_type="binary")
    assert also.note == "singular design (the two variants are collinear: complete LD)"
    with pytest.raises(ValueError, match=r"g2 must hold effect-allele counts 0..1 or NaN for ploidy 1"):
        snp_interaction_test(y, g, g, C, outcome_type="continuous", ploidy2=1)


def test_excluded_variant_gives_rows_with_the_reason(cohort):
    calls, pheno, panel = cohort
    qc = pd.DataFrame(
        {"variant": ["rs7975232"], "stratum": ["all"], "subset": ["all"], "flag": ["low_call_rate"],
         "reason": ["call rate 0.9000 < 0.95"]}
    )  # fmt: skip
    cfg = make_config()
    cfg["qc"]["action"] = "exclude"
    t = epistasis_outcome(calls, pheno, panel, outcome="bmd_ls", settings=settings_from_config(cfg), qc=qc)
    hit = t[(t["variant1"] == "rs7975232") | (t["variant2"] == "rs7975232")]
    assert len(hit) == 4 * 9 and hit["p_value"].isna().all()
    assert (hit["note"] == "rs7975232 excluded by QC (low_call_rate): call rate 0.9000 < 0.95").all()


def test_methods_and_config():
    from test_configuration import SCHEMA, default_config

    from vdrbone.methods import methods_sections
    from vdrbone.settings import validate_config

    cfg = validate_config(default_config(), SCHEMA)
    assert cfg["epistasis"] == {"enabled": True}
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(cfg["variants"])
    titles = {
        p["title"]: p["text"] for p in methods_sections(settings_from_config(cfg), panel=panel, versions={})
    }
    assert (
        "with its log-additive coding: the product of the two effect-allele counts"
        in titles["SNP x SNP interaction"]
    )
    cfg["epistasis"]["enabled"] = False
    assert "SNP x SNP interaction" not in {
        p["title"] for p in methods_sections(settings_from_config(cfg), panel=panel, versions={})
    }


def test_mtdna_pairs_follow_the_carrier_minimums(cohort, table):
    """A VDR x mtDNA product is estimated from the carriers alone: below
    association.mt_min_carriers carriers (or, binary, mt_min_carrier_cases carrier cases) in the
    model's sample the pair gets the single-variant models' reason, its counts and no estimate;
    VDR x VDR pairs are unchanged."""
    calls, pheno, panel = cohort
    cfg = make_config()
    cfg["association"] = {**cfg["association"], "mt_min_carriers": 10_000}
    got = epistasis_outcome(calls, pheno, panel, outcome="fracture", settings=settings_from_config(cfg))
    mt = got["variant2"] == "m.4823"
    assert mt.sum() == 4 * 9 and got.loc[mt, "p_value"].isna().all()
    notes = got.loc[mt, "note"]
    assert notes.str.fullmatch(
        r"no regression estimate: \d+ carrier\(s\) < association\.mt_min_carriers=10000 \(counts and exact "
        r"test only\)(; .*)?"
    ).all(), notes.tolist()
    before = table[table["outcome"] == "fracture"].set_index(KEYS)
    assert (
        got.loc[mt, "n"].to_numpy() == before.loc[got.loc[mt, KEYS].apply(tuple, axis=1), "n"].to_numpy()
    ).all()
    vdr = got[~mt].set_index(KEYS)
    assert_allclose(vdr["p_value"].astype(float), before.loc[vdr.index, "p_value"].astype(float), rtol=1e-12)
    cfg["association"] = {**make_config()["association"], "mt_min_carrier_cases": 10_000}
    got = epistasis_outcome(calls, pheno, panel, outcome="fracture", settings=settings_from_config(cfg))
    mt = got["variant2"] == "m.4823"
    assert got.loc[mt, "note"].str.startswith("no regression estimate: ").all()
    assert got.loc[mt, "note"].str.contains("association.mt_min_carrier_cases=10000").any()


def test_stratum_covariates_reused_over_pairs_equal_a_fresh_computation():
    """epistasis_outcome shares one StratumCovariates per stratum over the variant pairs: each
    call gives what stratum_covariates computes afresh, also when a genotype mask changes which
    factors vary (sex constant among the genotyped) or which covariates are kept, and its arrays
    cannot be changed by a caller."""
    from vdrbone.association import StratumCovariates, stratum_covariates

    rng = np.random.default_rng(7)
    n = 400
    sex = rng.integers(0, 2, n).astype(float)
    sex[rng.random(n) < 0.05] = np.nan  # y_reg is NaN where a candidate covariate is missing
    t2dm = rng.integers(0, 2, n).astype(float)
    age = rng.normal(60, 8, n)
    age[rng.random(n) < 0.05] = np.nan
    bmi = rng.normal(28, 4, n)
    y = rng.normal(size=n)
    y[rng.random(n) < 0.05] = np.nan
    cov_values = {"age": age, "bmi": bmi, "sex": sex, "t2dm": t2dm}
    mask = rng.random(n) < 0.8
    kw = dict(y=y, cov_values=cov_values, base_covs=["age", "bmi"], tol=1e-7, min_n=30)
    shared = StratumCovariates("all", mask, **kw)
    masks = [
        rng.random(n) < 0.97,
        sex == 1,  # sex constant among the genotyped: not a covariate, y_reg keyed anew
        rng.random(n) < 0.9,
        (sex == 0) | (rng.random(n) < 0.01),
        np.zeros(n, dtype=bool),  # nobody genotyped: too few, nothing dropped
        rng.random(n) < 0.97,
    ]
    seen = set()
    for genotyped in masks:
        y_a, C_a, d_a = shared(genotyped)
        y_b, C_b, d_b = stratum_covariates("all", mask, genotyped, **kw)
        np.testing.assert_array_equal(y_a, y_b)
        np.testing.assert_array_equal(C_a, C_b)
        assert (d_a.kept, d_a.names, d_a.dropped) == (d_b.kept, d_b.names, d_b.dropped)
        assert not y_a.flags.writeable and not C_a.flags.writeable
        assert y_b.flags.writeable and C_b.flags.writeable  # the one-off function's are the caller's
        seen.add(tuple(d_a.names))
    assert ("age", "bmi", "sex", "t2dm") in seen and ("age", "bmi", "t2dm") in seen
