"""STREGA / reviewer items on cohorts built to trigger them: the mtDNA minimum-carrier rule,
aliased tests kept once, the participant flow adding up to each model's n, the sample call-rate
filter, ancestry covariates and the primary family's config checks.

The cohort is the committed association fixture (tests/fixtures/association), edited per test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_association import FIX, VARIANTS, make_config, model_sample_mismatches

from vdrbone import families
from vdrbone.association import associate_outcome
from vdrbone.errors import InputError
from vdrbone.flow import flow_chains, flow_head
from vdrbone.panel import read_panel
from vdrbone.qc import analysed_samples, qc_samples, qc_samples_summary
from vdrbone.settings import check_config, settings_from_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def panel():
    return read_panel(REPO / "resources" / "vdr_snps.tsv").select(VARIANTS)


@pytest.fixture(scope="module")
def cohort():
    return pd.read_csv(FIX / "calls.tsv", sep="\t"), pd.read_csv(FIX / "phenotypes.tsv", sep="\t")


def set_carriers(calls: pd.DataFrame, carriers: set[str], variant: str = "m.4823") -> pd.DataFrame:
    """``variant`` carried by exactly ``carriers`` (every other called sample a non-carrier)."""
    calls = calls.copy()
    sel = (calls["variant"] == variant) & calls["effect_count"].notna()
    calls.loc[sel, "effect_count"] = calls.loc[sel, "sample"].isin(carriers).astype(float)
    return calls


def one(a: pd.DataFrame, variant: str, stratum: str, model: str) -> pd.Series:
    rows = a[(a["variant"] == variant) & (a["stratum"] == stratum) & (a["model"] == model)]
    assert len(rows) == 1, (variant, stratum, model, len(rows))
    return rows.iloc[0]


def complete(pheno: pd.DataFrame, outcome: str) -> pd.DataFrame:
    cols = [outcome, "age_years", "bmi", "sex", "t2dm"]
    return pheno[pheno[cols].notna().all(axis=1)]


# --------------------------------------------------------------------------------------------
# mtDNA: minimum carriers and carrier cases
# --------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_mt_stratum_below_the_minimum_gets_counts_and_exact_test_only(cohort, panel):
    """4 carriers in all (one of them a case): below mt_min_carriers=5, so the carrier model has
    no estimate and says why; Fisher's exact test and the counts remain. With the minimum at 4
    the estimate returns; with 0 carrier cases mt_min_carrier_cases stops it again."""
    calls, pheno = cohort
    cc = complete(pheno, "fracture")
    cases = list(cc.loc[cc["fracture"] == 1, "sample"][:1])
    controls = list(cc.loc[cc["fracture"] == 0, "sample"][:3])
    calls4 = set_carriers(calls, set(cases + controls))
    result = associate_outcome(
        calls4, pheno, panel, outcome="fracture", settings=settings_from_config(make_config())
    )
    a = result.association
    row = one(a, "m.4823", "all", "carrier")
    assert row["note"] == (
        "no regression estimate: 4 carrier(s) < association.mt_min_carriers=5 (counts and exact test only)"
    )
    assert np.isnan(row["estimate"]) and np.isnan(row["p_value"]) and row["n"] > 1000
    fisher = one(a, "m.4823", "all", "carrier_fisher")
    assert np.isfinite(fisher["p_value"]) and fisher["note"] == ""
    gc = result.genotype_counts
    model = gc[(gc["variant"] == "m.4823") & (gc["stratum"] == "all") & (gc["sample"] == "model")]
    assert model.loc[model["effect_count"] == 1, ["n_cases", "n_controls"]].values.tolist() == [[1, 3]]
    assert (row["n"], row["n_cases"], row["n_controls"]) == (
        model["n"].sum(),
        model["n_cases"].sum(),
        model["n_controls"].sum(),
    )
    # interactions in all: the carriers of each modifier group are fewer still
    for model_name in ("interaction_t2dm", "interaction_sex"):
        assert one(a, "m.4823", "all", model_name)["note"].startswith("no regression estimate: ")

    lowered = make_config(mt_min_carriers=4)
    a = associate_outcome(
        calls4, pheno, panel, outcome="fracture", settings=settings_from_config(lowered)
    ).association
    row = a[(a["variant"] == "m.4823") & (a["stratum"] == "all") & (a["model"] == "carrier")].iloc[0]
    assert np.isfinite(row["estimate"]) and "no regression estimate" not in row["note"]

    calls0 = set_carriers(calls, set(list(cc.loc[cc["fracture"] == 0, "sample"])[:6]))
    a = associate_outcome(
        calls0, pheno, panel, outcome="fracture", settings=settings_from_config(make_config())
    ).association
    row = a[(a["variant"] == "m.4823") & (a["stratum"] == "all") & (a["model"] == "carrier")].iloc[0]
    assert row["note"] == (
        "no regression estimate: 0 carrier case(s) < association.mt_min_carrier_cases=1 "
        "(counts and exact test only)"
    )
    # a continuous outcome has no carrier cases to count: only the carrier minimum applies
    a = associate_outcome(
        calls0, pheno, panel, outcome="bmd_ls", settings=settings_from_config(make_config())
    ).association
    row = a[(a["variant"] == "m.4823") & (a["stratum"] == "all") & (a["model"] == "carrier")].iloc[0]
    assert np.isfinite(row["estimate"]) and row["note"] == ""


# --------------------------------------------------------------------------------------------
# aliased tests
# --------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_interactions_with_the_same_design_are_kept_once(cohort, panel):
    """Every T2DM carrier is a female carrier and vice versa (the Mt15885 situation): SNP x T2DM
    and SNP x sex in 'all' are the same test. The first is kept; the second says so and leaves
    the family. In a stratum where they differ nothing is marked."""
    calls, pheno = cohort
    cc = complete(pheno, "bmd_ls")
    both = cc[(cc["t2dm"] == "yes") & (cc["sex"] == "female")]["sample"][:6]
    neither = cc[(cc["t2dm"] == "no") & (cc["sex"] == "male")]["sample"][:20]
    calls = set_carriers(calls, set(both) | set(neither))
    a = associate_outcome(
        calls, pheno, panel, outcome="bmd_ls", settings=settings_from_config(make_config())
    ).association
    rows = a[(a["variant"] == "m.4823") & (a["stratum"] == "all")].set_index("model")
    t2dm, sex = rows.loc["interaction_t2dm"], rows.loc["interaction_sex"]
    assert t2dm["note"] == "" and sex["note"] == (
        "aliased with interaction_t2dm in this stratum (same design on the same samples: one test, "
        "counted once)"
    )
    assert sex["p_value"] == pytest.approx(t2dm["p_value"], rel=1e-8)
    assert t2dm["family"] == "exploratory:bmd_ls" and sex["family"] == "none"
    assert np.isnan(sex["q_value"]) and np.isfinite(t2dm["q_value"])
    # a diploid SNP in the same stratum: different designs, nothing marked
    vdr = a[(a["variant"] == "rs731236") & (a["stratum"] == "all")]
    assert not vdr["note"].str.contains("aliased").any()


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_genetic_models_with_the_same_coding_are_kept_once(cohort, panel):
    """No homozygote of the effect allele: dominant, overdominant and the 1-df codominant model
    are the additive model's column. The additive row is kept (it is the primary model)."""
    calls, pheno = cohort
    calls = calls.copy()
    sel = (calls["variant"] == "rs731236") & (calls["effect_count"] == 2)
    calls.loc[sel, "effect_count"] = 1.0
    a = associate_outcome(
        calls, pheno, panel, outcome="bmd_ls", settings=settings_from_config(make_config())
    ).association
    rows = a[(a["variant"] == "rs731236") & (a["stratum"] == "all")].set_index(["model", "term"])
    assert rows.loc[("additive", "per_allele"), "note"] == ""
    assert rows.loc[("additive", "per_allele"), "family"] == "primary"
    for key in (("dominant", "carrier"), ("overdominant", "het"), ("codominant", "het")):
        assert "aliased with additive" in rows.loc[key, "note"], key
        assert rows.loc[key, "family"] == "none"
        assert rows.loc[key, "p_value"] == pytest.approx(rows.loc[("additive", "per_allele"), "p_value"])
    assert rows.loc[("recessive", "hom_alt"), "note"].startswith("genotype class absent") or np.isnan(
        rows.loc[("recessive", "hom_alt"), "p_value"]
    )


# --------------------------------------------------------------------------------------------
# participant flow and sample QC
# --------------------------------------------------------------------------------------------
def test_sample_call_rate_filter(cohort):
    calls, pheno = cohort
    calls = calls.copy()
    # two samples lose 2 of 5 calls (call rate 0.6), one loses 1 (0.8: kept)
    before = qc_samples(calls, min_call_rate=0.8)
    n_low = int((before["status"] == "low_call_rate").sum())  # the fixture's own: 2 of 5 missing
    for sample, lost in (("SIM000001", 2), ("SIM000002", 2), ("SIM000003", 1)):
        idx = calls.index[(calls["sample"] == sample) & (calls["status"] == "called")][:lost]
        calls.loc[idx, "effect_count"] = np.nan
        calls.loc[idx, "status"] = "missing"
    samples = qc_samples(calls, min_call_rate=0.8)
    status = samples.set_index("sample")["status"]
    assert status["SIM000001"] == status["SIM000002"] == "low_call_rate" and status["SIM000003"] == "ok"
    kept = analysed_samples(pheno, samples)
    assert len(kept) == len(pheno) - 2 - n_low and not kept["sample"].isin(["SIM000001", "SIM000002"]).any()
    summary = qc_samples_summary(samples, min_call_rate=0.8).set_index("measure")["value"]
    assert summary["n_low_call_rate"] == 2 + n_low and summary["n_analysed"] == len(kept)
    with pytest.raises(ValueError, match="min_call_rate must lie in"):
        qc_samples(calls, min_call_rate=1.5)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_participant_flow_adds_up_to_each_models_n(cohort, panel):
    """From the phenotype table to each analysed sample: every path (outcome x stratum x
    variant) adds up, ends at the genetic models' n, and names why people left (sex or T2DM
    missing, the other group, outcome and covariates missing, genotype not called)."""
    calls, pheno = cohort
    samples = qc_samples(calls[calls["sample"].isin(pheno["sample"])], min_call_rate=0.8)
    matching = pd.DataFrame(
        {"measure": ["in_vcf", "in_phenotypes", "in_both", "only_vcf", "only_phenotypes"],
         "n": [len(pheno) + 3, len(pheno) + 7, len(pheno), 3, 7]}
    )  # fmt: skip
    analysed = analysed_samples(pheno, samples)
    head = flow_head(matching, qc_samples_summary(samples, min_call_rate=0.8))
    assert head["n"].iloc[-1] == len(analysed)
    for outcome in ("bmd_ls", "fracture"):
        result = associate_outcome(
            calls, analysed, panel, outcome=outcome, settings=settings_from_config(make_config())
        )
        chains = flow_chains(pd.concat([head, result.flow], ignore_index=True))
        assert len(chains) == 9 * len(VARIANTS)
        a = result.association
        for (_o, stratum, variant), chain in chains.items():
            model = "carrier" if variant == "m.4823" else "codominant"
            row = a[(a["variant"] == variant) & (a["stratum"] == stratum) & (a["model"] == model)].iloc[0]
            assert chain["reason"].iloc[-1] == "analysed (genetic models)"
            assert chain["n"].iloc[-1] == row["n"], (stratum, variant)
            assert chain["n"].iloc[0] == len(pheno) + 7
        reasons = set(result.flow["reason"])
        assert {"sex missing", "t2dm missing", "sex not female", f"{outcome} missing",
                "bmi missing (covariate)", "genotype not called"} <= reasons  # fmt: skip
        # in 'all' people with sex or T2DM missing leave as covariates, not as a stratum
        assert "sex missing (covariate)" in set(result.flow.loc[result.flow["stratum"] == "all", "reason"])
        assert model_sample_mismatches(a, result.genotype_counts, result.bmd_by_genotype) == []
    broken = pd.concat([head, result.flow], ignore_index=True)
    broken.loc[broken["reason"] == "genotype not called", "n"] += 1
    with pytest.raises(
        ValueError, match=r"participant flow fracture/all/rs731236: 'analysed \(genetic models\)'"
    ):
        flow_chains(broken)


# --------------------------------------------------------------------------------------------
# ancestry covariates and the primary block
# --------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_ancestry_covariates_enter_every_model(cohort, panel):
    calls, pheno = cohort
    pheno = pheno.copy()
    rng = np.random.default_rng(1)
    pheno["PC1"], pheno["PC2"] = rng.normal(size=len(pheno)), rng.normal(size=len(pheno))
    cfg = make_config() | {"ancestry": {"covariates": ["PC1", "PC2", "bmi"]}}
    assert settings_from_config(cfg).model_covariates == ["age_years", "bmi", "PC1", "PC2"]
    a = associate_outcome(
        calls, pheno, panel, outcome="bmd_ls", settings=settings_from_config(cfg)
    ).association
    add = a[(a["model"] == "additive") & (a["stratum"] == "all")]
    assert (add["covariates"] == "age_years+bmi+PC1+PC2+sex+t2dm").all()


def test_primary_block_is_checked_against_the_analysis():
    from vdrbone.settings import load_yaml, validate_config

    cfg = validate_config(
        load_yaml(REPO / "config" / "config.yaml"), REPO / "workflow/schemas/config.schema.yaml"
    )
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv")
    ok = dict(cfg, primary={"variants": ["rs731236"], "outcomes": ["bmd_ls"], "strata": ["all"]})
    check_config(ok, panel.ids)
    for key, value, message in (
        (
            "variants",
            ["rs11568820"],
            "config key primary.variants: rs11568820 not among the analysed variants",
        ),
        ("outcomes", ["bmd_xx"], "config key primary.outcomes: bmd_xx not among the analysed outcomes"),
        ("strata", ["t2dm=maybe"], "config key primary.strata: t2dm=maybe not among the analysed strata"),
    ):
        with pytest.raises(InputError, match=message):
            check_config(dict(cfg, primary={key: value}), panel.ids)
    spec = families.primary_spec(settings_from_config({"primary": {}}), diploid=["a", "b"])
    assert spec.variants == ("a", "b") and spec.models == ("additive", "interaction_t2dm", "interaction_sex")


def test_panel_names_coding_strand_hgvs_and_the_literature_allele(tmp_path):
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv")
    taq, fok = panel["rs731236"], panel["rs2228570"]
    assert (taq.hgvs_c, taq.hgvs_p, taq.literature_allele, taq.literature_relation) == (
        "c.1056T>C", "p.Ile352=", "t", "same"
    )  # fmt: skip
    assert (fok.hgvs_c, fok.hgvs_p, fok.literature_relation) == ("c.2T>C", "p.Met1Thr", "opposite")
    assert panel["m.15885"].hgvs_c == "m.15885C>T" and panel["m.15885"].literature_relation == ""
    text = (REPO / "resources" / "vdr_snps.tsv").read_text(encoding="utf-8").splitlines()
    header = text[0].split("\t")
    row = text[1].split("\t")
    row[header.index("literature_allele")] = "x"
    bad = tmp_path / "panel.tsv"
    bad.write_text("\n".join([text[0], "\t".join(row)]) + "\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"line 2, column 'literature_allele': got 'x', expected one of the allele names"
    ):
        read_panel(bad)
    # the optional columns may be absent (older panels)
    keep = [i for i, c in enumerate(header) if c not in ("hgvs_c", "hgvs_p", "literature_allele")]
    old = tmp_path / "old.tsv"
    old.write_text(
        "\n".join("\t".join(line.split("\t")[i] for i in keep) for line in text) + "\n", encoding="utf-8"
    )
    assert read_panel(old)["rs731236"].literature_relation == ""


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------
def _svg(uri: str) -> str:
    import base64

    return base64.b64decode(uri.split(",", 1)[1]).decode("utf-8")


def test_figures_mark_firth_clipped_cis_carrier_contrasts_tiny_cells_and_missing_bars():
    from vdrbone import plots

    rows = pd.DataFrame(
        {
            "stratum": ["all", "t2dm=yes", "t2dm=no"],
            "estimate": [1.2, 0.46, 2.0],
            "ci_lower": [0.9, 0.02, 1.1],
            "ci_upper": [1.6, 132.0, 3.6],
            "p_value": [0.2, 0.6, 0.02],
            "n": ["100", "20", "80"],
            "note": ["", "firth-fallback: quasi-complete separation", ""],
        }
    )
    svg = _svg(plots.forest_plot(rows, estimate_type="OR", title="t", contrast="carriers vs non-carriers"))
    assert "Firth penalised estimate" in svg and "CI continues beyond the axis" in svg
    assert "Odds ratio carriers vs non-carriers" in svg and "132.00" in svg  # the numbers stay in full
    plain = rows.assign(note="", ci_lower=[0.9, 0.2, 1.1], ci_upper=[1.6, 1.5, 3.6])
    svg = _svg(plots.forest_plot(plain, estimate_type="OR", title="t"))
    assert "Firth penalised" not in svg and "beyond the axis" not in svg and "per effect allele" in svg
    means = pd.DataFrame(
        {
            "stratum": ["all", "all"],
            "genotype": ["A", "B"],
            "n": [100, 2],
            "mean": [1.0, 1.1],
            "sd": [0.1, 2.0],
        }
    )
    svg = _svg(plots.genotype_means_plot(means, strata=["all"], genotypes=["A", "B"], ylabel="y", title="t"))
    assert "n=2" in svg and "n=100" not in svg
    freqs = pd.DataFrame(
        {"haplotype": ["a", "b", "a"], "stratum": ["all", "all", "x"], "frequency": [0.5, 0.3, 0.6]}
    )
    svg = _svg(plots.haplotype_bars(freqs, title="h"))
    assert svg.count("no data") == 1  # b has no estimate in stratum x
