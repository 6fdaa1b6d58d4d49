"""Meta-analysis across cohorts (vdrbone.meta) against metafor::rma(method = "FE")."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from vdrbone.meta import KEYS, fixed_effect, meta_analysis, side_by_side

FIX = REPO / "tests" / "fixtures" / "meta"


def cohorts() -> dict[str, pd.DataFrame]:
    d = pd.read_csv(FIX / "cohort_estimates.tsv", sep="\t")
    return {c: g.drop(columns="cohort").reset_index(drop=True) for c, g in d.groupby("cohort")}


def test_matches_metafor_fixed_effect():
    ref = pd.read_csv(FIX / "metafor_fe.tsv", sep="\t")
    ours = meta_analysis(cohorts())
    merged = ref.merge(ours, on=KEYS, suffixes=("_r", ""))
    assert len(merged) == len(ref) == 4
    for _, row in merged.iterrows():
        scale = np.exp if row["estimate_type"] == "OR" else (lambda x: x)
        for col in ("estimate", "ci_lower", "ci_upper"):
            np.testing.assert_allclose(row[col], scale(row[f"{col}_r"]), rtol=1e-6)
        for col in ("standard_error", "statistic", "p_value", "q_statistic", "q_p_value", "i2"):
            np.testing.assert_allclose(row[col], row[f"{col}_r"], rtol=1e-6, atol=1e-12)
        assert row["n_cohorts"] == row["k"]


def test_alignment_missing_estimates_and_notes():
    ours = meta_analysis(cohorts()).set_index(KEYS)
    frac = ours.loc[("rs731236", "fracture", "all", "additive", "per_allele")]
    assert frac["effect_allele"] == "G" and frac["cohorts"] == "A,B,C"  # C's A-allele OR turned round
    fok = ours.loc[("rs2228570", "fracture", "sex=female", "dominant", "carrier")]
    assert fok["n_cohorts"] == 2 and "C: no estimate" in fok["note"]
    assert fok["n"] == 1450 + 600


def test_genotype_class_terms_are_not_turned_round():
    tabs = cohorts()
    b = tabs["B"].copy()
    sel = b["term"] == "hom_alt"
    b.loc[sel, ["effect_allele", "other_allele"]] = ["A", "G"]
    tabs["B"] = b
    row = (
        meta_analysis(tabs).set_index(KEYS).loc[("rs2228570", "bmd_fn", "t2dm=yes", "codominant", "hom_alt")]
    )
    assert row["n_cohorts"] == 2 and "B: effect allele A differs, not aligned" in row["note"]


def test_fixed_effect_by_hand_and_errors():
    y, se = np.array([0.1, 0.3]), np.array([0.1, 0.2])
    w = 1 / se**2
    res = fixed_effect(y, se)
    np.testing.assert_allclose(res["estimate"], (w * y).sum() / w.sum())
    np.testing.assert_allclose(res["standard_error"], w.sum() ** -0.5)
    assert res["q_df"] == 1
    with pytest.raises(ValueError, match="SE > 0"):
        fixed_effect([0.1], [0.0])


def test_side_by_side():
    wide = side_by_side(cohorts())
    row = wide[(wide["variant"] == "rs731236") & (wide["outcome"] == "bmd_ls")].iloc[0]
    assert row["A:estimate"] == -0.0291 and row["C:n"] == 5400
    assert len(wide) == 4


def test_interaction_and_overdominant_terms_align_and_covariate_differences_are_noted():
    base = {"variant": "rs1", "name": "X", "outcome": "y", "stratum": "all", "reference": "", "n": 100,
            "estimate_type": "beta", "standard_error": 0.1}  # fmt: skip
    a = pd.DataFrame([
        dict(base, model="interaction_t2dm", term="per_allele_x_t2dm", effect_allele="G", other_allele="A",
             estimate=0.2, covariates="age"),
        dict(base, model="overdominant", term="het", effect_allele="G", other_allele="A", estimate=0.3,
             covariates="age"),
    ])  # fmt: skip
    b = a.assign(effect_allele="A", other_allele="G", estimate=[-0.2, 0.3], covariates=["age+sex", "age"])
    meta = meta_analysis({"a": a, "b": b}).set_index("model")
    assert meta.loc["interaction_t2dm", "n_cohorts"] == 2
    np.testing.assert_allclose(meta.loc["interaction_t2dm", "estimate"], 0.2)
    np.testing.assert_allclose(meta.loc["overdominant", "estimate"], 0.3)
    assert "covariates differ across cohorts (a: age, b: age+sex)" in meta.loc["interaction_t2dm", "note"]
    assert meta.loc["overdominant", "note"] == ""
