"""Meta-analysis across cohorts (vdrbone.meta) against metafor::rma(method = "FE")."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from vdrbone.meta import (
    KEYS,
    cohort_weights,
    fixed_effect,
    meta_analysis,
    random_effects,
    side_by_side,
    tau2_dl,
    tau2_reml,
)

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


# --------------------------------------------------------------------------------------------
# random effects against metafor::rma(method = "DL" / "REML", test = "z" / "knha") + predict()
# --------------------------------------------------------------------------------------------
RE_REF = pd.read_csv(FIX / "metafor_re.tsv", sep="\t", skipinitialspace=True)
RE_IN = pd.read_csv(FIX / "re_estimates.tsv", sep="\t")


@pytest.mark.parametrize(
    "row", [r for _, r in RE_REF.iterrows()], ids=lambda r: f"{r.group}-{r.tau2_method}-{r.test}"
)
def test_random_effects_match_metafor(row):
    g = RE_IN[RE_IN["group"] == row["group"]]
    res = random_effects(
        g["yi"], g["sei"], tau2_method=row["tau2_method"], hartung_knapp=row["test"] == "knha"
    )
    pairs = {
        "tau2": "tau2", "re_estimate": "estimate", "re_standard_error": "standard_error",
        "re_ci_lower": "ci_lower", "re_ci_upper": "ci_upper", "re_statistic": "statistic",
        "re_p_value": "p_value", "pi_lower": "pi_lower", "pi_upper": "pi_upper",
    }  # fmt: skip
    for ours, theirs in pairs.items():
        np.testing.assert_allclose(res[ours], row[theirs], rtol=1e-6, atol=1e-10, err_msg=ours)
    assert (res["re_df"] == row["k"] - 1) if row["test"] == "knha" else np.isnan(res["re_df"])


def test_dl_and_reml_by_hand_and_errors():
    g = RE_IN[RE_IN["group"] == "heterogeneous"]
    assert tau2_dl(g["yi"], g["sei"]) > 0.1 and tau2_reml(g["yi"], g["sei"]) > 0.1
    hom = RE_IN[RE_IN["group"] == "homogeneous"]
    assert tau2_dl(hom["yi"], hom["sei"]) == 0 and tau2_reml(hom["yi"], hom["sei"]) == 0
    with pytest.raises(ValueError, match="tau2_method must be one of .* got 'PM'"):
        random_effects([0.1, 0.2], [0.1, 0.1], tau2_method="PM")
    with pytest.raises(ValueError, match="Hartung-Knapp needs at least 2 estimates, got 1"):
        random_effects([0.1], [0.1], hartung_knapp=True)


def test_meta_table_random_effect_columns_and_cohort_weights():
    tabs = cohorts()
    table = meta_analysis(tabs, tau2_method="DL").set_index(KEYS)
    row = table.loc[("rs731236", "fracture", "all", "additive", "per_allele")]
    assert row["re_method"] == "random effects, DL tau2"
    assert (
        row["pi_lower"] <= row["re_ci_lower"] <= row["re_estimate"] <= row["re_ci_upper"] <= row["pi_upper"]
    )
    w = cohort_weights(tabs, tau2_method="DL")
    mine = w[(w["variant"] == "rs731236") & (w["outcome"] == "fracture") & (w["stratum"] == "all")
             & (w["model"] == "additive")]  # fmt: skip
    assert list(mine["cohort"]) == ["A", "B", "C"]
    np.testing.assert_allclose(mine[["weight_fixed", "weight_random"]].sum(), [100, 100])
    # pooled log OR = weighted mean of the aligned cohort log ORs, fixed and random
    y = np.log(mine["estimate"].to_numpy())
    np.testing.assert_allclose(np.exp((mine["weight_fixed"] * y).sum() / 100), row["estimate"], rtol=1e-10)
    np.testing.assert_allclose(
        np.exp((mine["weight_random"] * y).sum() / 100), row["re_estimate"], rtol=1e-10
    )
    one = table.loc[("rs2228570", "fracture", "sex=female", "dominant", "carrier")]
    assert one["n_cohorts"] == 2 and np.isfinite(one["tau2"])


def test_combined_report_has_one_forest_per_selected_row_and_escapes():
    from vdrbone.meta import meta_tables
    from vdrbone.meta_report import render_combined_report

    tabs = cohorts()
    tabs["A"] = tabs["A"].assign(name=tabs["A"]["name"].replace("TaqI", "Taq<I>"))
    meta, weights = meta_tables(tabs)
    html = render_combined_report(
        meta, weights, cohort_names=list(tabs), models=["additive"], strata=["all"], tau2_method="REML",
        hartung_knapp=False,
    )  # fmt: skip
    n_rows = int(((meta["model"] == "additive") & (meta["stratum"] == "all")).sum())
    assert n_rows == 2 and html.count("<figure") == n_rows
    assert "Taq&lt;I&gt;" in html and "Taq<I>" not in html
    assert "95% prediction interval" in html
