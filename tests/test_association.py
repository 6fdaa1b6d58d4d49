"""vdrbone.association: the per-outcome engine, end to end against R, and its sparse-data rows.

The committed cohort (tests/fixtures/association: calls.tsv, phenotypes.tsv, written by
make_cohort.py) is analysed by :func:`associate_outcome` for one continuous (bmd_ls) and one binary
(fracture) outcome over all nine strata; make_fixtures.R recomputes every row independently with
base R (chisq.test, fisher.test, prop.trend.test, glm/lm + anova, confint.default, AIC, aov,
kruskal.test, mantelhaen.test, Breslow-Day, p.adjust) and the descriptive tables. Every number is
compared at rtol 1e-6; labels (alleles, reference genotypes, terms, covariates, strata) are checked
against the panel. The kernels themselves are tested in test_contingency.py / test_regression.py.

Simulation studies (planted effects recovered, type-I error of the additive tests over 200 null
cohorts) are marked ``slow``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from vdrbone import association, families, flow, regression
from vdrbone.association import PRIMARY_MODELS, associate_outcome
from vdrbone.families import adjust_pvalues, merge_outcomes
from vdrbone.panel import read_panel
from vdrbone.qc import qc_variants
from vdrbone.settings import settings_from_config
from vdrbone.simulate import simulate_cohort

REPO = Path(__file__).resolve().parents[1]
FIX = REPO / "tests" / "fixtures" / "association"
VARIANTS = ["rs731236", "rs7975232", "rs1544410", "rs2228570", "m.4823"]
STRATA9 = [
    "all", "t2dm=yes", "t2dm=no", "sex=female", "sex=male",
    "t2dm=yes,sex=female", "t2dm=yes,sex=male", "t2dm=no,sex=female", "t2dm=no,sex=male",
]  # fmt: skip
NUMERIC = [
    "n", "n_cases", "n_controls", "estimate", "ci_lower", "ci_upper", "statistic", "df", "p_value",
    "aic", "delta_aic", "p_bonferroni", "q_value",
]  # fmt: skip
KEYS = ["variant", "stratum", "model", "term"]


def make_config(**association) -> dict:
    return {
        "outcomes": {
            "bmd_ls": {"column": "ls_bmd", "type": "continuous"},
            "fracture": {"column": "any_fracture", "type": "binary", "case": ["1"], "control": ["0"]},
        },
        "covariates": ["age_years", "bmi"],
        "strata": ["all", "t2dm", "sex", "t2dm_sex"],
        "genotypes": {"use_dosage": True},
        "qc": {"action": "flag"},
        # conditional rows (association.condition_on) have their own tests (test_conditional.py)
        "association": {"min_stratum_n": 30, "min_cases": 5, "condition_on": [], **association},
    }


@pytest.fixture(scope="module")
def panel():
    return read_panel(REPO / "resources" / "vdr_snps.tsv").select(VARIANTS)


@pytest.fixture(scope="module")
def cohort():
    calls = pd.read_csv(FIX / "calls.tsv", sep="\t")
    pheno = pd.read_csv(FIX / "phenotypes.tsv", sep="\t")
    return calls, pheno


@pytest.fixture(scope="module")
def results(cohort, panel):
    calls, pheno = cohort
    cfg = make_config()
    return {
        o: associate_outcome(calls, pheno, panel, outcome=o, settings=settings_from_config(cfg))
        for o in ("bmd_ls", "fracture")
    }


@pytest.fixture(scope="module")
def merged(results, panel):
    """association.tsv of the two outcomes: the primary family spans both."""
    spec = families.primary_spec(
        settings_from_config(make_config()), diploid=[v.id for v in panel if v.ploidy == 2]
    )
    return merge_outcomes([results[o].association for o in ("bmd_ls", "fracture")], spec=spec)


@pytest.fixture(scope="module")
def reference():
    return {
        name: pd.read_csv(FIX / f"r_{name}.tsv", sep="\t")
        for name in ("association", "genotype_counts", "bmd_by_genotype")
    }


# --------------------------------------------------------------------------------------------
# 1. every row against R
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["bmd_ls", "fracture"])
def test_every_row_matches_r(merged, reference, outcome):
    ours = merged[merged["outcome"] == outcome]
    ours = ours[ours["model"] != "max3"]  # checked against R in tests/test_maxstat.py
    ref = reference["association"]
    ref = ref[ref["outcome"] == outcome]
    assert not ours.duplicated(KEYS).any()
    assert set(map(tuple, ours[KEYS].to_numpy())) == set(map(tuple, ref[KEYS].to_numpy()))
    m = ours.merge(ref, on=KEYS, suffixes=("", "_r"), validate="one_to_one")
    assert len(m) == len(ours) == len(ref)
    assert (m["note"].fillna("") == "").all(), m.loc[m["note"].fillna("") != "", KEYS + ["note"]]
    for col in NUMERIC:
        got, want = m[col].astype(float).to_numpy(), m[f"{col}_r"].astype(float).to_numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"NaN pattern of {col}")
        assert_allclose(got, want, rtol=1e-6, atol=0, err_msg=col, equal_nan=True)
    assert (m["family"] == m["family_r"]).all()
    reg = m["covariates_r"].notna()
    assert reg.sum() > 100
    assert (m.loc[reg, "covariates"] == m.loc[reg, "covariates_r"]).all()


def test_families_and_their_adjustment(merged):
    """The primary family spans outcomes (additive + both interactions in all, 4 VDR SNPs x 2
    outcomes = 24 tests); each outcome's exploratory family holds its other family tests; the
    Bonferroni factor is each family's own m (R p.adjust values: test_every_row_matches_r)."""
    a = merged
    p = a["p_value"].notna()
    primary = a[a["family"] == "primary"]
    assert set(primary["model"]) == {"additive", "interaction_t2dm", "interaction_sex"}
    assert set(primary["stratum"]) == {"all"} and set(primary["outcome"]) == {"bmd_ls", "fracture"}
    assert set(primary["variant"]) == {"rs731236", "rs7975232", "rs1544410", "rs2228570"}
    for family, expected_m in (("primary", 24), ("exploratory:bmd_ls", 207), ("exploratory:fracture", 325)):
        fam = a[(a["family"] == family) & p].drop_duplicates(families.TEST_KEYS)
        assert len(fam) == expected_m, family
        assert_allclose(fam["p_bonferroni"], np.minimum(1, fam["p_value"] * expected_m), rtol=1e-12)
    others = a[a["family"] == "none"]
    assert not others["model"].isin(PRIMARY_MODELS).any()
    assert others["p_bonferroni"].isna().all() and others["q_value"].isna().all()
    # the two codominant rows share one test and one adjusted p
    cod = a[a["model"] == "codominant"].groupby(["outcome", "variant", "stratum"])["q_value"].nunique()
    assert (cod == 1).all()
    # delta-AIC: 0 for the best genetic model of each outcome x variant x stratum
    gen = a[a["model"].isin(families.GENETIC_MODELS) & a["aic"].notna()]
    assert (gen.groupby(["outcome", "variant", "stratum"])["delta_aic"].min() == 0).all()


def test_adjust_pvalues_ties_and_order():
    t = pd.DataFrame(
        {
            "variant": ["a", "a", "b", "c", "d", "d"],
            "stratum": ["all"] * 6,
            "model": ["additive", "anova", "additive", "additive", "codominant", "codominant"],
            "p_value": [0.01, 0.001, 0.04, np.nan, 0.03, 0.03],
        }
    )
    out = adjust_pvalues(t, spec=families.PrimarySpec(strata=("none",)))
    # family: a/additive 0.01, b/additive 0.04, d/codominant 0.03 (m = 3); R p.adjust(..., "BH")
    assert_allclose(out["p_bonferroni"].to_numpy(), [0.03, np.nan, 0.12, np.nan, 0.09, 0.09])
    assert_allclose(out["q_value"].to_numpy(), [0.03, np.nan, 0.04, np.nan, 0.04, 0.04])


def test_descriptive_tables_match_r(results, reference):
    """Both samples of the descriptive tables (everyone with genotype and outcome; the genetic
    models' complete cases) against R."""
    keys = ["outcome", "variant", "stratum", "sample", "effect_count"]
    gc = results["fracture"].genotype_counts
    ref = reference["genotype_counts"]
    m = gc.merge(ref, on=keys, suffixes=("", "_r"))
    assert len(m) == len(gc) == len(ref) == 2 * (5 * 9 * 3 - 9)
    for col in ("n_cases", "freq_cases", "n_controls", "freq_controls", "n", "freq"):
        assert_allclose(m[col].astype(float), m[f"{col}_r"].astype(float), rtol=1e-12, err_msg=col)
    bmd = results["bmd_ls"].bmd_by_genotype
    ref = reference["bmd_by_genotype"]
    m = bmd.merge(ref, on=keys, suffixes=("", "_r"))
    assert len(m) == len(bmd) == len(ref)
    for col in ("n", "mean", "sd", "median"):
        assert_allclose(m[col].astype(float), m[f"{col}_r"].astype(float), rtol=1e-10, err_msg=col)
    taq = gc[(gc["variant"] == "rs731236") & (gc["stratum"] == "all") & (gc["sample"] == "descriptive")]
    assert taq["genotype"].tolist() == ["A/A", "A/G", "G/G"]
    assert taq["rflp"].tolist() == ["TT", "Tt", "tt"]
    assert results["fracture"].bmd_by_genotype.empty and results["bmd_ls"].genotype_counts.empty


def model_sample_mismatches(association, counts, bmd) -> list[str]:
    """Every SNPassoc-style table (a variant x stratum's genetic models beside its counts): the
    counts of the model sample must add up to n, n_cases and n_controls of each genetic-model row
    (hard calls; a dosage model with its own n says so in its note)."""
    bad = []
    gen = association[
        association["model"].isin([*families.GENETIC_MODELS, "carrier"])
        & ~association["note"].fillna("").str.contains("dosage model on|excluded|not in the genotype files")
    ]
    for (outcome, variant, stratum), rows in gen.groupby(["outcome", "variant", "stratum"]):
        binary = rows["n_cases"].notna().any()
        table = counts if binary else bmd
        shown = table[
            (table["outcome"] == outcome) & (table["variant"] == variant) & (table["stratum"] == stratum)
            & (table["sample"] == "model")
        ]  # fmt: skip
        want = {"n": int(shown["n"].sum())}
        if binary:
            want |= {"n_cases": int(shown["n_cases"].sum()), "n_controls": int(shown["n_controls"].sum())}
        for col, value in want.items():
            got = set(rows[col].astype(int))
            if got != {value}:
                bad.append(
                    f"{outcome} {variant} {stratum} {col}: rows {sorted(got)}, model-sample counts {value}"
                )
    return bad


def test_counts_beside_estimates_come_from_the_model_sample(results):
    for outcome in ("bmd_ls", "fracture"):
        r = results[outcome]
        assert model_sample_mismatches(r.association, r.genotype_counts, r.bmd_by_genotype) == []
    # the two samples differ (covariates missing), so showing the descriptive counts would be wrong
    gc = results["fracture"].genotype_counts
    n = gc.groupby(["variant", "stratum", "sample"])["n"].sum().unstack()
    assert (n["model"] < n["descriptive"]).all()


EXPECTED_REFERENCE = {
    # (variant, model): reference genotype or group
    ("rs731236", "codominant"): "A/A (TT)",
    ("rs731236", "dominant"): "A/A (TT)",
    ("rs731236", "recessive"): "A/A (TT) + A/G (Tt)",
    ("rs731236", "overdominant"): "A/A (TT) + G/G (tt)",
    ("rs731236", "additive"): "A/A (TT)",
    ("rs731236", "allelic"): "A (T)",
    ("rs731236", "mantel_haenszel"): "A (T)",
    ("rs731236", "interaction_t2dm"): "ratio of per-allele ORs of G (t): t2dm=yes vs t2dm=no",
    ("rs731236", "interaction_sex"): "ratio of per-allele ORs of G (t): sex=female vs sex=male",
    ("rs7975232", "recessive"): "C/C (aa) + C/A (Aa)",
    ("rs7975232", "allelic"): "C (a)",
    ("rs1544410", "codominant"): "C/C (bb)",
    ("rs2228570", "recessive"): "A/A (ff) + A/G (Ff)",
    ("rs2228570", "allelic"): "A (f)",
    ("m.4823", "carrier"): "T (non-carrier)",
    ("m.4823", "carrier_fisher"): "T (non-carrier)",
}


def test_labels(results):
    fr, bmd = results["fracture"].association, results["bmd_ls"].association
    for (variant, model), want in EXPECTED_REFERENCE.items():
        rows = fr[(fr["variant"] == variant) & (fr["model"] == model)]
        assert len(rows) and (rows["reference"] == want).all(), (variant, model, set(rows["reference"]))
    alleles = {"rs731236": ("G", "A"), "rs7975232": ("A", "C"), "rs1544410": ("T", "C"),
               "rs2228570": ("G", "A"), "m.4823": ("C", "T")}  # fmt: skip
    for table in (fr, bmd):
        for vid, (eff, oth) in alleles.items():
            rows = table[table["variant"] == vid]
            assert (rows["effect_allele"] == eff).all() and (rows["other_allele"] == oth).all()
        assert set(table["outcome"]) <= {"fracture", "bmd_ls"}
    assert set(fr["stratum"]) == set(STRATA9) | {"by_t2dm", "by_sex"}
    assert set(bmd["stratum"]) == set(STRATA9)
    terms = {
        "codominant": {"het", "hom_alt"}, "dominant": {"carrier"}, "recessive": {"hom_alt"},
        "overdominant": {"het"}, "additive": {"per_allele"}, "allelic": {"alt_vs_ref"},
        "allelic_fisher": {"alt_vs_ref"}, "genotypic": {"genotype"}, "genotypic_fisher": {"genotype"},
        "trend": {"per_allele"}, "max3": {"max_over_models"}, "carrier": {"carrier"},
        "carrier_fisher": {"carrier"},
        "interaction_t2dm": {"per_allele_x_t2dm"}, "interaction_sex": {"per_allele_x_sex"},
        "mantel_haenszel": {"alt_vs_ref", "carrier"}, "breslow_day": {"alt_vs_ref", "carrier"},
        "anova": {"genotype"}, "kruskal_wallis": {"genotype"},
    }  # fmt: skip
    for table in (fr, bmd):
        for model, got in table.groupby("model")["term"]:
            assert set(got) <= terms[model], model
    assert set(bmd["model"]) == {"anova", "kruskal_wallis", "codominant", "dominant", "recessive",
                                 "overdominant", "additive", "carrier", "interaction_t2dm",
                                 "interaction_sex"}  # fmt: skip
    # mtDNA: carrier models only, no genotype models
    mt = fr[fr["variant"] == "m.4823"]
    assert not set(mt["model"]) & {"codominant", "additive", "allelic", "genotypic", "trend"}
    # estimate types
    reg = ["codominant", "dominant", "recessive", "overdominant", "additive", "carrier"]
    assert (fr.loc[fr["model"].isin(reg), "estimate_type"] == "OR").all()
    assert (bmd.loc[bmd["model"].isin(reg), "estimate_type"] == "beta").all()
    # covariates: sex and t2dm added only where the stratum does not fix them
    cov = fr[fr["model"] == "additive"].set_index(["variant", "stratum"])["covariates"]
    assert cov[("rs731236", "all")] == "age_years+bmi+sex+t2dm"
    assert cov[("rs731236", "t2dm=yes")] == "age_years+bmi+sex"
    assert cov[("rs731236", "sex=female")] == "age_years+bmi+t2dm"
    assert cov[("rs731236", "t2dm=no,sex=male")] == "age_years+bmi"
    inter = fr[fr["model"].str.startswith("interaction")].set_index(["variant", "stratum", "model"])
    assert inter.loc[("rs731236", "all", "interaction_t2dm"), "covariates"] == "age_years+bmi+sex+t2dm"
    assert inter.loc[("rs731236", "all", "interaction_sex"), "covariates"] == "age_years+bmi+t2dm+sex"
    assert inter.loc[("rs731236", "t2dm=no", "interaction_sex"), "covariates"] == "age_years+bmi+sex"
    # interactions only where documented
    got = set(zip(inter.index.get_level_values(1), inter.index.get_level_values(2), strict=True))
    assert got == {("all", "interaction_t2dm"), ("sex=female", "interaction_t2dm"),
                   ("sex=male", "interaction_t2dm"), ("all", "interaction_sex"),
                   ("t2dm=yes", "interaction_sex"), ("t2dm=no", "interaction_sex")}  # fmt: skip


# --------------------------------------------------------------------------------------------
# 2. sparse data: rows with reasons, never exceptions
# --------------------------------------------------------------------------------------------
def test_small_stratum_rows_not_estimable(cohort, panel):
    calls, pheno = cohort
    cfg = make_config(min_stratum_n=200)  # the t2dm=yes x sex cells hold about 160 people
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(cfg)
    ).association
    small = a[a["stratum"].isin(["t2dm=yes,sex=female", "t2dm=yes,sex=male"])]
    assert len(small) == 2 * (4 * 12 + 2)  # 12 rows per SNP with max3
    assert small["p_value"].isna().all() and small["estimate"].isna().all()
    assert small["note"].str.startswith("too few samples").all(), set(small["note"])
    assert small["p_bonferroni"].isna().all()
    big = a[a["stratum"] == "t2dm=no,sex=male"]
    assert big["p_value"].notna().all()
    # the family shrinks by the 2 x 4 x 8 + 2 primary tests of the small strata
    assert a.drop_duplicates(["variant", "stratum", "model"])["p_bonferroni"].notna().sum() == 337 - 66


def test_monomorphic_variant(cohort, panel):
    calls, pheno = cohort
    calls = calls.copy()
    sel = (calls["variant"] == "rs1544410") & calls["effect_count"].notna()
    calls.loc[sel, "effect_count"] = 0.0
    for outcome in ("fracture", "bmd_ls"):
        a = associate_outcome(
            calls, pheno, panel, outcome=outcome, settings=settings_from_config(make_config())
        ).association
        rows = a[a["variant"] == "rs1544410"]
        assert rows["p_value"].isna().all(), rows.loc[rows["p_value"].notna(), KEYS]
        assert (rows["note"].fillna("") != "").all()
        assert rows["note"].str.contains("monomorphic|one genotype class|informative strata").all()
        assert a.loc[a["variant"] == "rs731236", "p_value"].notna().all()


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_pooled_rows_with_one_informative_stratum(cohort, panel):
    """No T2DM=yes participant carries m.4823: the by_t2dm Mantel-Haenszel row used to show the
    T2DM=no stratum's own OR and p; now nothing is pooled, both rows say why, and the row leaves
    the multiple-testing family. Likewise for a SNP monomorphic in men (by_sex)."""
    calls, pheno = cohort
    calls = calls.copy()
    t2dm_yes = set(pheno.loc[pheno["t2dm"] == "yes", "sample"])
    men = set(pheno.loc[pheno["sex"] == "male", "sample"])
    sel = (calls["variant"] == "m.4823") & calls["sample"].isin(t2dm_yes) & calls["effect_count"].notna()
    calls.loc[sel, "effect_count"] = 0.0
    sel = (calls["variant"] == "rs1544410") & calls["sample"].isin(men) & calls["effect_count"].notna()
    calls.loc[sel, "effect_count"] = 0.0
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(make_config())
    ).association
    pooled = a[a["stratum"].isin(["by_t2dm", "by_sex"])].set_index(["variant", "stratum", "model"])
    for variant, stratum, note in (
        ("m.4823", "by_t2dm", "fewer than 2 informative strata (t2dm=yes: no carriers)"),
        ("rs1544410", "by_sex", "fewer than 2 informative strata (sex=male: no effect allele)"),
    ):
        alone = "t2dm=no" if stratum == "by_t2dm" else "sex=female"
        for model in ("mantel_haenszel", "breslow_day"):
            r = pooled.loc[(variant, stratum, model)]
            assert r["note"] == note, r["note"]
            cols = ["estimate", "ci_lower", "ci_upper", "standard_error", "statistic", "p_value"]
            assert r[cols + ["p_bonferroni", "q_value"]].isna().all(), r
            # people counted over the one informative stratum
            ref = a[(a["variant"] == variant) & (a["stratum"] == alone)]
            ref = ref[ref["model"] == ("carrier_fisher" if variant == "m.4823" else "allelic")].iloc[0]
            assert (r["n"], r["n_cases"], r["n_controls"]) == (ref["n"], ref["n_cases"], ref["n_controls"])
        # the other pooling of the same variant is unaffected
        other = "by_sex" if stratum == "by_t2dm" else "by_t2dm"
        r = pooled.loc[(variant, other, "mantel_haenszel")]
        assert r["note"] == "" and np.isfinite(r[["estimate", "p_value", "q_value"]].astype(float)).all()
    fam = a[(a["family"] == "exploratory:fracture") & a["p_value"].notna()].drop_duplicates(
        ["variant", "stratum", "model"]
    )
    assert not ((fam["variant"] == "m.4823") & (fam["stratum"] == "by_t2dm")).any()
    m = len(fam)
    assert_allclose(fam["p_bonferroni"], np.minimum(1, fam["p_value"] * m), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_zero_cases_in_a_genotype_class_uses_firth(cohort, panel):
    calls, pheno = cohort
    pheno = pheno.copy()
    taq = calls[calls["variant"] == "rs731236"].set_index("sample")["effect_count"]
    hom = pheno["sample"].map(taq).eq(2).to_numpy()
    pheno.loc[hom & pheno["fracture"].notna(), "fracture"] = 0
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(make_config())
    ).association
    r = a[(a["variant"] == "rs731236") & (a["stratum"] == "all")].set_index(["model", "term"])
    for key in (("codominant", "het"), ("codominant", "hom_alt"), ("recessive", "hom_alt")):
        assert r.loc[key, "note"].startswith("firth-fallback"), r.loc[key, "note"]
        assert "Firth" in r.loc[key, "method"]
        assert np.isfinite(r.loc[key, "estimate"]) and np.isfinite(r.loc[key, "p_value"])
    assert r.loc[("recessive", "hom_alt"), "estimate"] < 0.2
    for key in (("dominant", "carrier"), ("overdominant", "het"), ("additive", "per_allele")):
        assert r.loc[key, "note"] == "" and r.loc[key, "method"].startswith("logistic, LRT")
    # the contingency tests still give p-values; the genotype counts show the empty cell
    assert r.loc[("genotypic", "genotype"), "p_value"] < 1e-6
    assert np.isfinite(r.loc[("genotypic_fisher", "genotype"), "p_value"])
    gc = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(make_config())
    ).genotype_counts
    cell = gc[(gc["variant"] == "rs731236") & (gc["stratum"] == "all") & (gc["effect_count"] == 2)]
    assert cell["sample"].tolist() == ["descriptive", "model"] and cell["n_cases"].tolist() == [0, 0]


def test_qc_exclude_flagged_variant(cohort, panel):
    calls, pheno = cohort
    calls = calls.copy()
    # drop 10% of the ApaI calls: call rate 0.89 < 0.95
    idx = calls.index[calls["variant"] == "rs7975232"][::10]
    calls.loc[idx, ["effect_count", "genotype", "rflp", "status"]] = [np.nan, ".", ".", "missing"]
    qc = qc_variants(
        calls, pheno, panel, strata=["all"], binary_outcomes=["fracture"], min_call_rate=0.95, hwe_p=1e-6
    )
    assert (
        qc.loc[(qc["variant"] == "rs7975232") & (qc["subset"] == "all"), "flag"]
        .str.contains("low_call_rate")
        .all()
    )
    cfg = make_config()
    cfg["qc"]["action"] = "exclude"
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(cfg), qc=qc
    ).association
    apa = a[a["variant"] == "rs7975232"]
    taq = a[a["variant"] == "rs731236"]
    # the excluded variant keeps every row an included variant has, each with the reason
    keys = ["stratum", "model", "term"]
    assert apa[keys].values.tolist() == taq[keys].values.tolist()
    assert (
        len(apa) == 9 * 12 + 6 + 4
    )  # tests per stratum (with max3), 6 interaction rows, MH/BD by_t2dm and by_sex
    assert apa["p_value"].isna().all()
    assert apa["note"].str.startswith("excluded by QC (low_call_rate)").all()
    assert taq["p_value"].notna().all()
    # action 'flag' keeps the variant
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(make_config()), qc=qc
    ).association
    assert a.loc[a["variant"] == "rs7975232", "p_value"].notna().all()


def test_women_only_cohort(cohort, panel):
    calls, pheno = cohort
    women = pheno[pheno["sex"] == "female"].reset_index(drop=True)
    for outcome in ("fracture", "bmd_ls"):
        a = associate_outcome(
            calls, women, panel, outcome=outcome, settings=settings_from_config(make_config())
        ).association
        models = a[~a["model"].str.startswith("interaction")]
        assert not models["covariates"].fillna("").str.contains("sex").any()
        allrows = a[(a["stratum"] == "all") & (a["model"] == "additive")]
        assert (allrows["covariates"] == "age_years+bmi+t2dm").all() and allrows["p_value"].notna().all()
        male = a[a["stratum"].str.contains("sex=male")]
        assert male["p_value"].isna().all() and male["note"].str.contains("too few samples").all()
        inter = a[(a["model"] == "interaction_sex") & (a["stratum"] != "t2dm=yes")]
        assert inter["p_value"].isna().all()
        assert (inter["note"] == "modifier sex constant in this stratum").all(), set(inter["note"])
    a = associate_outcome(
        calls, women, panel, outcome="fracture", settings=settings_from_config(make_config())
    ).association
    by_sex = a[a["stratum"] == "by_sex"]
    assert by_sex["p_value"].isna().all() and (by_sex["note"] != "").all()


def test_t2dm_missing_entirely(cohort, panel):
    calls, pheno = cohort
    pheno = pheno.assign(t2dm=np.nan)
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(make_config())
    ).association
    models = a[~a["model"].str.startswith("interaction")]
    assert not models["covariates"].fillna("").str.contains("t2dm").any()
    r = a[(a["stratum"] == "all") & (a["model"] == "additive")]
    assert (r["covariates"] == "age_years+bmi+sex").all() and r["p_value"].notna().all()
    empty = a[a["stratum"].str.contains("t2dm=")]
    assert empty["p_value"].isna().all() and empty["note"].str.contains("too few samples").all()
    inter = a[a["model"] == "interaction_t2dm"]
    assert inter["p_value"].isna().all() and len(inter) == 5 * 3
    assert (inter["note"] == "modifier t2dm missing for every sample in this stratum").all()
    assert a.loc[a["stratum"] == "by_t2dm", "p_value"].isna().all()
    assert a.loc[(a["stratum"] == "by_sex") & (a["model"] == "mantel_haenszel"), "p_value"].notna().all()


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_no_cases_in_stratum(cohort, panel):
    """No fracture in T2DM: the T2DM strata are not estimable, and in 'all' the T2DM covariate
    separates the outcome, so the logistic models fall back to Firth and say so."""
    calls, pheno = cohort
    pheno = pheno.copy()
    pheno.loc[pheno["t2dm"] == "yes", "fracture"] = 0
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(make_config())
    ).association
    rows = a[a["stratum"].str.startswith("t2dm=yes")]
    assert rows["p_value"].isna().all()
    assert rows["note"].str.contains("no cases|too few").all(), set(rows["note"])
    reg = a[(a["stratum"] == "all") & a["model"].isin(["codominant", "additive", "interaction_t2dm"])]
    mt = reg["variant"] == "m.4823"
    assert reg[~mt]["note"].str.startswith("firth-fallback").all() and reg[~mt]["p_value"].notna().all()
    # mtDNA: no carrier case with T2DM, so the interaction gets no estimate (association.mt_min_carrier_cases)
    assert reg[mt]["note"].tolist() == [
        "no regression estimate: 0 carrier case(s) with modifier = 1 < association.mt_min_carrier_cases=1 "
        "(counts and exact test only)"
    ]
    assert a.loc[(a["stratum"] == "all") & (a["model"] == "allelic"), "note"].eq("").all()


# --------------------------------------------------------------------------------------------
# 4. simulation studies
# --------------------------------------------------------------------------------------------
def _cohort_tables(sim):
    """Long call table and coded phenotypes of a SimulatedCohort, as extraction would give them."""
    ids = sim.panel.ids
    n = sim.n_samples
    counts = np.where(sim.missing, np.nan, sim.genotypes.astype(float))
    calls = pd.DataFrame(
        {
            "sample": np.tile(sim.samples, len(ids)),
            "variant": np.repeat(ids, n),
            "effect_count": counts.reshape(-1),
            "dosage": np.nan,
        }
    )
    ph = sim.phenotypes.copy()
    ph["t2dm"] = np.where(ph["t2dm"], "yes", "no")
    ph = ph.astype({c: object for c in ph.columns if c != "sample"})
    for col in sim.phenotype_missing.columns:
        ph.loc[sim.phenotype_missing[col].to_numpy(), col] = np.nan
    for col in ("age_years", "bmi", "bmd_ls", "bmd_fn", "fracture"):
        ph[col] = ph[col].astype(float)
    return calls, ph


@pytest.mark.slow
def test_planted_effects_recovered(repo):
    panel = read_panel(repo / "resources" / "vdr_snps.tsv").select(["rs731236", "rs2228570"])
    effects = [
        {"variant": "rs731236", "outcome": "bmd_ls", "beta": -0.030},
        {"variant": "rs731236", "outcome": "bmd_fn", "beta": -0.025, "t2dm": "yes"},
        {"variant": "rs2228570", "outcome": "fracture", "beta": 0.35, "sex": "female"},
    ]
    sim = simulate_cohort(panel, n_samples=6000, seed=11, effects=effects, n_background=(0, 0))
    calls, ph = _cohort_tables(sim)
    cfg = make_config()
    cfg["outcomes"] = {
        "bmd_ls": {"type": "continuous"},
        "bmd_fn": {"type": "continuous"},
        "fracture": {"type": "binary"},
    }
    cfg["strata"] = ["all", "t2dm", "sex"]

    def p(table, variant, stratum, model="additive"):
        r = table[(table["variant"] == variant) & (table["stratum"] == stratum) & (table["model"] == model)]
        assert len(r) == 1, (variant, stratum, model)
        return float(r["p_value"].iloc[0])

    res = {
        o: associate_outcome(calls, ph, panel, outcome=o, settings=settings_from_config(cfg)).association
        for o in cfg["outcomes"]
    }
    ls, fn, fr = res["bmd_ls"], res["bmd_fn"], res["fracture"]
    # TaqI on lumbar spine BMD in everybody, negative per t allele
    for s in ("all", "t2dm=yes", "t2dm=no", "sex=female", "sex=male"):
        assert p(ls, "rs731236", s) < 1e-3, s
    assert p(ls, "rs731236", "all") < 1e-10
    b = ls[(ls["variant"] == "rs731236") & (ls["stratum"] == "all") & (ls["model"] == "additive")]
    assert b["ci_lower"].iloc[0] < -0.030 < b["ci_upper"].iloc[0]
    assert p(ls, "rs2228570", "all") > 1e-3
    # TaqI on femoral neck BMD only in T2DM
    assert p(fn, "rs731236", "t2dm=yes") < 1e-3
    assert p(fn, "rs731236", "t2dm=no") > 0.01
    assert p(fn, "rs731236", "all", "interaction_t2dm") < 1e-3
    assert p(fn, "rs2228570", "t2dm=yes") > 1e-3
    # FokI on fracture only in women (log OR 0.35 per F allele)
    assert p(fr, "rs2228570", "sex=female") < 1e-3
    assert p(fr, "rs2228570", "sex=male") > 0.01
    assert p(fr, "rs2228570", "all", "interaction_sex") < 0.05
    fem = fr[(fr["variant"] == "rs2228570") & (fr["stratum"] == "sex=female") & (fr["model"] == "additive")]
    assert fem["ci_lower"].iloc[0] < np.exp(0.35) < fem["ci_upper"].iloc[0]


@pytest.mark.slow
def test_type_one_error_of_additive_tests(repo):
    """Over 200 null cohorts (seeds 1..200, n = 900) the rejection rate at alpha 0.05 of the additive
    test in ``all`` (FokI on bmd_ls, linear F; FokI on fracture, logistic LRT; adjusted for age,
    BMI, sex and T2DM) lies in the central 95% binomial acceptance interval for p = 0.05, and the
    p-values do not depart grossly from uniform. The models are fitted by
    regression.genetic_models on the covariates the engine uses (checked against
    associate_outcome on the first seeds), to keep the study fast."""
    panel = read_panel(repo / "resources" / "vdr_snps.tsv").select(["rs2228570"])
    cfg = make_config()
    cfg["strata"] = ["all"]
    n_sim = 200
    pvals = {"bmd_ls": [], "fracture": []}
    for seed in range(1, n_sim + 1):
        sim = simulate_cohort(panel, n_samples=900, seed=seed, null=True, n_background=(0, 0))
        calls, ph = _cohort_tables(sim)
        g = calls["effect_count"].to_numpy(float)  # one variant, samples in phenotype order
        sex = np.where(ph["sex"].isna(), np.nan, (ph["sex"] == "male").astype(float))
        t2dm = np.where(ph["t2dm"].isna(), np.nan, (ph["t2dm"] == "yes").astype(float))
        covs = np.column_stack([ph["age_years"], ph["bmi"], sex, t2dm])
        for outcome, kind in (("bmd_ls", "continuous"), ("fracture", "binary")):
            rows = regression.genetic_models(
                ph[outcome].to_numpy(float), g, covs, outcome_type=kind, min_n=30, min_cases=5
            )
            p = next(r.p_value for r in rows if r.model == "additive")
            pvals[outcome].append(p)
            if seed <= 3:
                a = associate_outcome(
                    calls, ph, panel, outcome=outcome, settings=settings_from_config(cfg)
                ).association
                add = a[(a["model"] == "additive") & (a["stratum"] == "all")]
                assert add["covariates"].iloc[0] == "age_years+bmi+sex+t2dm"
                assert_allclose(add["p_value"].iloc[0], p, rtol=1e-12)
    lo, hi = stats.binom.ppf([0.025, 0.975], n_sim, 0.05)  # 4 and 16
    for outcome, ps in pvals.items():
        ps = np.asarray(ps)
        assert np.isfinite(ps).all()
        rejections = int((ps < 0.05).sum())
        assert lo <= rejections <= hi, (outcome, rejections, lo, hi)
        assert stats.kstest(ps, "uniform").pvalue > 0.001, outcome


def test_outcome_measured_in_one_sex_only(cohort, panel):
    """BMD recorded for women only: sex is not a covariate where the analysed samples are all
    women, so the models stay estimable and equal the women-only fit."""
    calls, pheno = cohort
    partial = pheno.copy()
    partial.loc[partial["sex"] != "female", "bmd_ls"] = np.nan  # men and unknown sex
    a = associate_outcome(
        calls, partial, panel, outcome="bmd_ls", settings=settings_from_config(make_config())
    ).association
    women = pheno[pheno["sex"] == "female"].reset_index(drop=True)
    b = associate_outcome(
        calls, women, panel, outcome="bmd_ls", settings=settings_from_config(make_config())
    ).association
    key = ["variant", "model", "term"]
    for stratum in ("all", "t2dm=yes", "t2dm=no"):
        x = a[(a["stratum"] == stratum) & a["model"].isin(["codominant", "additive"])].set_index(key)
        y = b[(b["stratum"] == stratum) & b["model"].isin(["codominant", "additive"])].set_index(key)
        assert "sex" not in "+".join(x["covariates"]) and x["p_value"].notna().all()
        np.testing.assert_allclose(x["estimate"], y.loc[x.index, "estimate"], rtol=1e-12)
        np.testing.assert_allclose(x["p_value"], y.loc[x.index, "p_value"], rtol=1e-12)


def test_too_small_rows_carry_their_counts_and_pooled_tests_respect_the_minimum(cohort, panel):
    calls, pheno = cohort
    cfg = make_config(min_stratum_n=400)
    a = associate_outcome(
        calls, pheno, panel, outcome="fracture", settings=settings_from_config(cfg)
    ).association
    row = a[(a["variant"] == "rs731236") & (a["stratum"] == "t2dm=yes") & (a["model"] == "allelic")].iloc[0]
    assert row["note"].startswith("too few samples (n=")
    n = int(row["note"].split("n=")[1].split(" ")[0])
    assert row["n"] == n and row["n_cases"] + row["n_controls"] == n
    pooled = a[(a["variant"] == "rs731236") & (a["stratum"] == "by_t2dm")]
    assert set(pooled["model"]) == {"mantel_haenszel", "breslow_day"}
    assert pooled["p_value"].isna().all() and pooled["note"].str.contains("t2dm=yes n=").all()
    assert not pooled["q_value"].notna().any()


def test_variant_not_in_the_genotype_files_gets_rows_with_the_reason(cohort, panel):
    """A variant extraction could not give (QC flag not_extracted) has every row, each with
    extraction's reason as the note, whatever qc.action is."""
    calls, pheno = cohort
    calls = calls.copy()
    gone = calls["variant"] == "rs7975232"
    calls.loc[gone, "effect_count"] = np.nan
    calls["status"] = np.where(gone, "excluded", np.where(calls["effect_count"].isna(), "missing", "called"))
    qc = qc_variants(
        calls, pheno, panel, strata=["all", "t2dm", "sex", "t2dm_sex"], binary_outcomes=["fracture"],
        min_call_rate=0.95, hwe_p=1e-6, unavailable={"rs7975232": "not in the genotype files"},
    )  # fmt: skip
    for action in ("flag", "exclude"):
        cfg = make_config()
        cfg["qc"]["action"] = action
        a = associate_outcome(
            calls, pheno, panel, outcome="fracture", settings=settings_from_config(cfg), qc=qc
        ).association
        apa, taq = a[a["variant"] == "rs7975232"], a[a["variant"] == "rs731236"]
        keys = ["stratum", "model", "term"]
        assert apa[keys].values.tolist() == taq[keys].values.tolist()
        assert (apa["note"] == "not in the genotype files").all() and apa["p_value"].isna().all()
        assert taq["p_value"].notna().any()


# --------------------------------------------------------------------------------------------
# degenerate covariates (tests/fixtures/covariates): R aliases them, so does the engine
# --------------------------------------------------------------------------------------------
DEGENERATE = REPO / "tests" / "fixtures" / "covariates"
BMI_NOTE = "covariate dropped: bmi (constant in this stratum)"
MONTHS_NOTE = "covariate dropped: age_months (collinear with age_years)"


@pytest.fixture(scope="module")
def degenerate(cohort):
    calls, _ = cohort
    pheno = pd.read_csv(DEGENERATE / "phenotypes.tsv", sep="\t")
    cfg = make_config()
    cfg["covariates"] = ["age_years", "bmi", "age_months"]
    return {
        o: associate_outcome(
            calls,
            pheno,
            panel_of(["rs731236", "rs2228570", "m.4823"]),
            outcome=o,
            settings=settings_from_config(cfg),
        )
        for o in ("bmd_ls", "fracture")
    }


def panel_of(ids):
    return read_panel(REPO / "resources" / "vdr_snps.tsv").select(ids)


@pytest.mark.parametrize("outcome", ["bmd_ls", "fracture"])
def test_degenerate_covariates_match_r(degenerate, outcome):
    """bmi constant among T2DM=yes and age_months = 12 age_years: the rows are estimated without
    them and equal R glm / lm fitted with the full formula (R aliases both), to 1e-6."""
    ref = pd.read_csv(DEGENERATE / "r_degenerate.tsv", sep="\t")
    ref = ref[ref["outcome"] == outcome]
    ours = degenerate[outcome].association
    m = ours.merge(ref, on=KEYS, suffixes=("", "_r"), validate="one_to_one")
    assert len(m) == len(ref) > 80
    assert (m["covariates"] == m["covariates_r"]).all(), m.loc[m["covariates"] != m["covariates_r"], KEYS]
    for col in [
        "n",
        "n_cases",
        "n_controls",
        "estimate",
        "ci_lower",
        "ci_upper",
        "statistic",
        "df",
        "p_value",
    ]:
        got, want = m[col].astype(float).to_numpy(), m[f"{col}_r"].astype(float).to_numpy()
        assert_allclose(got, want, rtol=1e-6, atol=0, err_msg=col, equal_nan=True)
    main = ~m["model"].str.startswith("interaction")
    assert_allclose(m.loc[main, "aic"].astype(float), m.loc[main, "aic_r"].astype(float), rtol=1e-6)
    # the note names what R aliased, once per dropped covariate
    for aliased, note in m.groupby("aliased")["note"]:
        expected = "; ".join(
            {"bmi": BMI_NOTE, "age_months": MONTHS_NOTE}[name] for name in aliased.split("+")
        )
        assert (note == expected).all(), (aliased, set(note))
    assert set(m.loc[m["stratum"].str.startswith("t2dm=yes"), "aliased"]) == {"bmi+age_months"}


def test_degenerate_covariates_listed_once_per_stratum(degenerate):
    table = degenerate["bmd_ls"].covariate_design
    assert list(table.columns) == ["outcome", "stratum", "covariate", "action", "reason", "variants"]
    assert not table.duplicated(["outcome", "stratum", "covariate"]).any()
    bmi = table[table["covariate"] == "bmi"]
    assert set(bmi["stratum"]) == {"t2dm=yes", "t2dm=yes,sex=female", "t2dm=yes,sex=male"}
    assert (bmi["reason"] == "constant in this stratum").all() and (bmi["action"] == "dropped").all()
    months = table[table["covariate"] == "age_months"]
    assert len(months) == 9 and (months["reason"] == "collinear with age_years").all()
    assert (months["variants"] == "rs731236,rs2228570,m.4823").all()
    # the unadjusted tests are not touched
    a = degenerate["bmd_ls"].association
    assert (a.loc[a["model"].isin(["anova", "kruskal_wallis"]), "note"].fillna("") == "").all()


def _svd_rank(m):
    # the straightforward rank: SVD of the n x k matrix with unit-norm columns
    norms = np.linalg.norm(m, axis=0)
    m = m[:, norms > 0] / norms[norms > 0]
    if m.shape[1] == 0:
        return 0
    sv = np.linalg.svd(m, compute_uv=False)
    return int((sv > association.ALIAS_TOL * sv[0]).sum())


def test_subset_rank_from_one_qr_equals_the_svd_rank_of_each_subset():
    # one QR of [X0, codings] (association._subset_rank) against an SVD of each n x k design:
    # aliased codings (no effect-allele homozygote: dominant = overdominant = additive), a
    # near-dependent column on either side of the tolerance, a zero column, repeated columns
    rng = np.random.default_rng(3)
    n = 2000
    g = rng.choice([0.0, 1.0], n, p=[0.7, 0.3])
    age, bmi = rng.normal(60, 9, n), rng.normal(28, 4, n)
    near = 0.5 * age + bmi
    m = np.column_stack(
        [
            np.ones(n),
            age,
            bmi,
            g == 1,
            g == 2,
            g >= 1,
            g,
            near + 1e-4 * rng.normal(size=n),  # rank-adding (relative 3e-6 > 1e-7)
            near + 1e-11 * rng.normal(size=n),  # dependent within tolerance
            np.zeros(n),
        ]
    ).astype(float)
    rank = association._subset_rank(m)
    subsets = [[0, 1, 2, *extra] for extra in ([3, 4], [5], [6], [7], [8], [9], [3, 4, 5], [7, 8], [])]
    subsets += [[0, 1, 2, 5, 0, 1, 2, 6], [0, 1, 2, 3, 0, 1, 2, 4], [9], [6, 6]]
    got = [rank(s) for s in subsets]
    assert got == [_svd_rank(m[:, s]) for s in subsets]
    assert got[:6] == [4, 4, 4, 4, 3, 3]  # hom_alt and zero columns add nothing, near[1e-11] neither
    assert association._span_equal(rank, [0, 1, 2, 5], [0, 1, 2, 6])  # dominant = additive here
    assert not association._span_equal(rank, [0, 1, 2, 5], [0, 1, 2, 7])


def test_same_design_with_shared_and_separate_null_columns():
    rng = np.random.default_rng(4)
    n = 500
    keep = np.ones(n, dtype=bool)
    g, mod, c = rng.integers(0, 3, n).astype(float), rng.integers(0, 2, n).astype(float), rng.normal(size=n)
    _, null_a, full_a = association.interaction_design(np.ones(n), g, mod, c[:, None])
    # the same design with the covariate rescaled and the columns reordered: same spans
    null_b = np.column_stack([np.ones(n), mod, 2.0 * c, g])
    full_b = np.column_stack([null_b, g * mod])
    assert association.same_design((keep, null_a, full_a), (keep, null_b, full_b))
    # a null design that is not the leading block of its full design
    assert association.same_design((keep, null_a, full_a), (keep, null_b[:, ::-1], full_b))
    other = np.column_stack([null_b, g * c])
    assert not association.same_design((keep, null_a, full_a), (keep, null_b, other))
    assert not association.same_design((keep, null_a, full_a), (~keep, null_b, full_b))


def _levels_per_element(values: pd.Series) -> np.ndarray:
    """The straightforward per-element coding of a categorical modifier column (as before)."""

    def text(x):
        if pd.isna(x):
            return None
        return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)

    return np.array([text(x) for x in values], dtype=object)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["yes", "no", None, np.nan, pd.NA, "no"], dtype=object),
        pd.Series(["1", "2", None]),
        pd.Series([1.0, 2.0, np.nan, 2.5, -0.0, 1e20, np.inf, 1.0]),
        pd.Series([1, 0, 2, 1]),
        pd.Series([True, False, True]),
        pd.Series([1, 1.0, True, "1", None, np.nan, 2.5, "a"], dtype=object),
        pd.Series([None, np.nan], dtype=object),
        pd.Series([], dtype=object),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series(["b", "a", None], dtype="category"),
        pd.Series(["x", "y", None], dtype="string"),
    ],
)
def test_levels_match_the_per_element_coding(values):
    from vdrbone.association import _levels

    got, want = _levels(values), _levels_per_element(values)
    assert got.dtype == object and got.tolist() == want.tolist()
    assert [type(x) for x in got] == [type(x) for x in want]


def test_genotype_matrices_match_a_per_row_fill():
    from vdrbone.association import genotype_matrices, genotype_matrix

    calls = pd.DataFrame(
        {
            "sample": ["s2", "s1", "s3", "s1", "s9", "s2", 7],
            "variant": ["v1", "v1", "v2", "v2", "v1", "v3", "v1"],
            "effect_count": [2.0, 0.0, 1.0, np.nan, 1.0, 1.0, 2.0],
            "dosage": ["1.9", "0.1", None, "x", "1.0", "1.2", "2"],
        }
    )
    samples, variants = ["s1", "s2", "s3", "7"], ["v1", "v2"]
    got = genotype_matrices(calls, samples, variants, ["effect_count", "dosage"])
    for column in ("effect_count", "dosage"):
        want = np.full((4, 2), np.nan)
        for r in calls.itertuples():
            if str(r.sample) in samples and r.variant in variants:
                want[samples.index(str(r.sample)), variants.index(r.variant)] = pd.to_numeric(
                    getattr(r, column), errors="coerce"
                )
        assert_allclose(got[column], want)
        assert_allclose(genotype_matrix(calls, samples, variants, column), want)
    with pytest.raises(ValueError, match="more than once"):
        genotype_matrix(pd.concat([calls, calls.iloc[:1]]), samples, variants, "effect_count")


def test_subset_rank_of_combined_columns_equals_the_explicit_columns():
    # mark_aliased_models: the codings as combinations of [het, hom] (extra=) give the ranks of
    # the explicit [X0, codings] matrix; with and without effect-allele homozygotes, and with a
    # covariate collinear with a coding
    rng = np.random.default_rng(8)
    n = 3000
    age = rng.normal(60, 9, n)
    for label in ("all classes", "no hom", "het as covariate"):
        g = rng.choice([0.0, 1.0], n) if label == "no hom" else rng.integers(0, 3, n).astype(float)
        het, hom = (g == 1).astype(float), (g == 2).astype(float)
        X0 = np.column_stack([np.ones(n), age, het] if label == "het as covariate" else [np.ones(n), age])
        codings = [het, hom, het + hom, hom, het, g]
        combine = np.zeros((X0.shape[1] + 2, 6))
        combine[-2:] = [[1, 0, 1, 0, 1, 1], [0, 1, 1, 1, 0, 2]]
        explicit = association._subset_rank(np.column_stack([X0, het, hom, *codings]))
        combined = association._subset_rank(np.column_stack([X0, het, hom]), combine)
        p = X0.shape[1] + 2
        base = list(range(X0.shape[1]))
        subsets = [
            base + [p + a for a in extra] for extra in ([0, 1], [2], [3], [4], [5], [2, 5], [0, 1, 5], [])
        ]
        assert [combined(s) for s in subsets] == [explicit(s) for s in subsets], label


def test_distinct_columns_keeps_each_column_once():
    rng = np.random.default_rng(6)
    n = 200
    a = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 3, n)])
    b = np.column_stack([a[:, 2], -a[:, 1], np.ones(n), a[:, 1] + 1e-12])  # equal sums are compared
    swap = a[::-1, 1]  # same sum as a[:, 1], other column
    m, index = association._distinct_columns([a, b, swap[:, None]])
    explicit = np.column_stack([a, b, swap])
    assert m.shape[1] == 6 and index == [0, 1, 2, 2, 3, 0, 4, 5]
    assert all(np.array_equal(m[:, index[j]], explicit[:, j]) for j in range(explicit.shape[1]))


def test_shared_factor_gives_the_same_genetic_rows_and_alias_notes():
    """associate_outcome's one QR of [1, C, het, hom] (linear: and y) passed to genetic_models
    (factor=) and mark_aliased_models (r=) gives the rows and notes of the calls that factorise
    their own designs: equal numbers (binary: to the bit), the same aliasing (here: no
    effect-allele homozygote, so dominant = overdominant = additive)."""
    rng = np.random.default_rng(31)
    n = 2000
    C = np.column_stack([rng.normal(60, 8, n), rng.integers(0, 2, n).astype(float)])
    for label in ("all classes", "no hom"):
        g = rng.integers(0, 3, n).astype(float)
        if label == "no hom":
            g[g == 2] = 1.0
        for outcome_type in ("binary", "continuous"):
            binary = outcome_type == "binary"
            y = (rng.random(n) < 0.3).astype(float) if binary else 0.05 * g + rng.normal(size=n)
            cols = [np.ones(n), C, (g == 1).astype(float), (g == 2).astype(float)]
            factor = np.linalg.qr(np.column_stack(cols if binary else [*cols, y]), mode="r")
            kw = dict(outcome_type=outcome_type, covariate_names=["age", "sex"])
            own = regression.genetic_models(y, g, C, **kw)
            shared = regression.genetic_models(y, g, C, factor=factor, **kw)
            association.mark_aliased_models(own, g, np.column_stack([np.ones(n), C]), dosage=False)
            association.mark_aliased_models(shared, g, None, dosage=False, r=factor[:5, :5])
            for a, b in zip(own, shared, strict=True):
                assert (a.model, a.term, a.note, a.extra.get("family")) == (
                    b.model, b.term, b.note, b.extra.get("family")
                ), label  # fmt: skip
                for f in ("estimate", "standard_error", "statistic", "p_value", "aic"):
                    x, z = getattr(a, f), getattr(b, f)
                    assert (
                        (x == z or (np.isnan(x) and np.isnan(z)))
                        if binary
                        else x == pytest.approx(z, rel=1e-12, nan_ok=True)
                    ), (label, outcome_type, a.model, f)
            assert any("aliased with additive" in r.note for r in shared) == (label == "no hom")


def test_aic_prefilter_never_hides_an_aliased_interaction_pair():
    """_may_share_design (equal n and full-model AIC) holds whenever same_design does (an aliased
    pair: every T2DM carrier is a female carrier and vice versa), for logistic and linear tests,
    and rules out a pair whose designs differ."""
    rng = np.random.default_rng(37)
    n = 3000
    age = rng.normal(60, 8, n)
    female, t2dm = rng.integers(0, 2, n).astype(float), rng.integers(0, 2, n).astype(float)
    g_free = (rng.random(n) < 0.1).astype(float)
    g_aliased = np.where((female == 1) & (t2dm == 1), g_free, 0.0)
    g_aliased[(female == 0) & (t2dm == 0)] = rng.random(int(((female == 0) & (t2dm == 0)).sum())) < 0.2
    seen = set()
    for g in (g_free, g_aliased):
        for outcome_type in ("binary", "continuous"):
            y = (
                (rng.random(n) < 0.3).astype(float)
                if outcome_type == "binary"
                else rng.normal(size=n) + 0.1 * g
            )
            c = np.column_stack([age, female, t2dm])
            kw = dict(outcome_type=outcome_type, covariate_names=["age", "sex", "t2dm"])
            first = regression.interaction_test(
                y, g, t2dm, c[:, :2], modifier_name="t2dm", **kw | {"covariate_names": ["age", "sex"]}
            )
            second = regression.interaction_test(
                y, g, female, c[:, [0, 2]], modifier_name="sex", **kw | {"covariate_names": ["age", "t2dm"]}
            )
            aliased = association.same_design(
                association.interaction_design(y, g, t2dm, c[:, :2]),
                association.interaction_design(y, g, female, c[:, [0, 2]]),
            )
            may = association._may_share_design(first.row(), second)
            assert may or not aliased, outcome_type
            seen.add((aliased, may))
    assert (True, True) in seen and (False, False) in seen


def test_flow_chains_equal_the_per_path_concatenation():
    """flow.flow_chains (row positions from one pass over plain lists) gives, for every
    (outcome, stratum, variant), the head rows + the stratum's shared rows + the variant's own rows
    in table order, in order of first appearance, as concatenating the groups of a groupby does;
    a path that does not add up raises naming it."""
    head = pd.DataFrame(
        {"outcome": [np.nan, np.nan], "stratum": "", "variant": "", "step": [1, 2],
         "kind": ["remaining", "excluded"], "reason": ["in", "gone"], "n": [100, 10]}
    )  # fmt: skip
    rows = []
    for o in ("fracture", "bmd_ls"):
        for s in ("all", "sex=female"):
            rows.append((o, s, "", "remaining", "in stratum", 90))
            for v, miss in (("rs2", 3), ("rs1", 4)):
                rows += [
                    (o, s, v, "excluded", "not called", miss),
                    (o, s, v, "remaining", "analysed", 90 - miss),
                ]
            rows.insert(len(rows) - 3, (o, s, "", "excluded", "late shared row", 0))  # interleaved
    body = pd.DataFrame(rows, columns=["outcome", "stratum", "variant", "kind", "reason", "n"])
    body.insert(3, "step", range(len(body)))
    table = pd.concat([head, body], ignore_index=True)
    f = table.fillna({"outcome": ""})
    want = {}
    for (o, s), part in f[f["outcome"] != ""].groupby(["outcome", "stratum"], sort=False):
        for v, own in part[part["variant"] != ""].groupby("variant", sort=False):
            want[(o, s, v)] = pd.concat(
                [f[f["outcome"] == ""], part[part["variant"] == ""], own], ignore_index=True
            )
    got = flow.flow_chains(table)
    paths = [(o, s, v) for o in ("fracture", "bmd_ls") for s in ("all", "sex=female") for v in ("rs2", "rs1")]
    assert list(got) == list(want) == paths
    for key in want:
        pd.testing.assert_frame_equal(got[key], want[key])
    assert list(flow.flow_paths(table)[("bmd_ls", "all", "rs1")]) == [0, 1, 14, 16, 18, 19]
    table.loc[len(table) - 1, "n"] += 1
    with pytest.raises(ValueError, match=r"participant flow bmd_ls/sex=female/rs1: 'analysed' has n=87"):
        flow.flow_paths(table)


def test_varying_factors_equal_a_count_of_distinct_values():
    """strata.varying_factors keeps sex / T2DM where the stratum does not fix them and they take
    two or more distinct finite values among the stratum's samples (np.unique over them)."""
    from vdrbone.strata import stratum_fixed, varying_factors

    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(0, 6))
        cov = {
            f: rng.choice([0.0, 1.0, -0.0, np.nan], size=n, p=rng.dirichlet(np.ones(4)))
            for f in ("sex", "t2dm")
        }
        mask = rng.random(n) < 0.7
        for stratum in ("all", "sex=female", "t2dm=yes", "t2dm=no,sex=male"):
            want = [
                f
                for f in ("sex", "t2dm")
                if stratum_fixed(stratum).get(f) is None
                and np.unique(cov[f][mask][np.isfinite(cov[f][mask])]).size > 1
            ]
            assert varying_factors(stratum, mask, cov) == want
