"""Methods generated from what happened: two runs of the association engine on the committed
cohort (tests/fixtures/association), one with hard calls only and no separation, one with DS
dosages and a genotype class without cases (Firth rows); each Methods sentence appears exactly
when its condition held in that run, and the p-value legend names the test of every row kind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_association import FIX, VARIANTS, make_config

from vdrbone import families
from vdrbone.association import associate_outcome
from vdrbone.families import merge_outcomes
from vdrbone.methods import RunFacts, methods_sections, p_value_legend, run_facts
from vdrbone.panel import read_panel
from vdrbone.settings import load_yaml, settings_from_config, validate_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def panel():
    return read_panel(REPO / "resources" / "vdr_snps.tsv").select(VARIANTS)


def config() -> dict:
    cfg = validate_config(
        load_yaml(REPO / "config" / "config.yaml"), REPO / "workflow" / "schemas" / "config.schema.yaml"
    )
    cfg["variants"] = VARIANTS
    cfg["outcomes"] = make_config()["outcomes"]
    cfg["primary"]["variants"] = VARIANTS[:4]
    return cfg


def run(calls, pheno, panel) -> pd.DataFrame:
    spec = families.primary_spec(settings_from_config(config()), diploid=VARIANTS[:4])
    parts = [
        associate_outcome(
            calls, pheno, panel, outcome=o, settings=settings_from_config(make_config())
        ).association
        for o in ("bmd_ls", "fracture")
    ]
    return merge_outcomes(parts, spec=spec)


@pytest.fixture(scope="module")
def runs(panel):
    calls = pd.read_csv(FIX / "calls.tsv", sep="\t")
    pheno = pd.read_csv(FIX / "phenotypes.tsv", sep="\t")
    plain = run(calls, pheno, panel)
    # with dosages (hard call + noise) and no fracture among TaqI G/G: separation, Firth rows
    rng = np.random.default_rng(7)
    dosed = calls.copy()
    diploid = dosed["variant"].isin(VARIANTS[:4]) & dosed["effect_count"].notna()
    noise = rng.uniform(-0.2, 0.2, int(diploid.sum()))
    dosed.loc[diploid, "dosage"] = np.clip(dosed.loc[diploid, "effect_count"] + noise, 0, 2)
    taq = calls[calls["variant"] == "rs731236"].set_index("sample")["effect_count"]
    sparse = pheno.copy()
    hom = sparse["sample"].map(taq).eq(2).to_numpy()
    sparse.loc[hom & sparse["fracture"].notna(), "fracture"] = 0
    firth = run(dosed, sparse, panel)
    return {"plain": plain, "firth": firth}


def text(cfg, panel, facts) -> dict[str, str]:
    return {
        p["title"]: p["text"]
        for p in methods_sections(settings_from_config(cfg), panel=panel, versions={}, facts=facts)
    }


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_methods_sentences_appear_exactly_when_their_condition_held(runs, panel):
    cfg = config()
    extraction = pd.DataFrame({"variant": VARIANTS, "build": "GRCh38", "n_low_gp": 0})
    plain = run_facts({"association": runs["plain"], "extraction": extraction})
    firth = run_facts(
        {"association": runs["firth"], "extraction": extraction.assign(n_low_gp=[0, 3, 0, 0, 0])}
    )
    assert plain.dosage_rows == 0 and plain.firth_rows == 0
    assert firth.dosage_rows > 0 and firth.firth_rows > 0

    a, b = text(cfg, panel, plain), text(cfg, panel, firth)
    # dosages
    assert "no imputed dosages were present" in a["Genotype calls"]
    assert "Log-additive models used imputed dosages" not in a["Genotype calls"]
    assert (
        f"Log-additive models used imputed dosages ({firth.dosage_rows} additive rows; expected "
        "effect-allele counts: FORMAT DS, or from the genotype probabilities of GP-only VCF records "
        "and BGEN files)" in b["Genotype calls"]
    )
    assert "no imputed dosages" not in b["Genotype calls"]
    # Firth
    assert "no Firth fit was needed" in a["Separation and sparse data"]
    assert "firth-fallback" not in a["Separation and sparse data"]
    assert (
        f"Firth's penalised likelihood was used in {firth.firth_rows} row(s)"
        in b["Separation and sparse data"]
    )
    assert "no Firth fit was needed" not in b["Separation and sparse data"]
    # GP threshold: only where calls fell below it
    assert "genotype probability" not in a["Genotype calls"]
    assert "3 call(s) below it were set missing" in b["Genotype calls"]
    # build: detected (config auto) and named
    assert "the genome build (GRCh38) was detected from the VCF header" in a["Variants"]
    # the primary family's size is this run's
    assert (
        f"(m = {plain.family_sizes['primary']} tests with a p-value)"
        in a["Primary analysis and multiple testing"]
    )
    # without facts the text describes the settings
    settings = text(cfg, panel, None)
    assert "GP-only VCF records and BGEN files) where present" in settings["Genotype calls"]


def test_methods_state_definitions_ancestry_and_sample_flow(panel):
    cfg = config()
    facts = RunFacts(in_phenotypes=1510, in_both=1500, only_vcf=2, low_call_rate=3, analysed=1497,
                     heteroplasmic={"m.4823": 9})  # fmt: skip
    t = text(cfg, panel, facts)
    assert (
        "Of 1510 participants in the phenotype table, 1500 were in the genotype files (2 genotyped"
        in t["Quality control"]
    )
    assert (
        "3 with a sample call rate below 0.8 over the panel were excluded, leaving 1497"
        in t["Quality control"]
    )
    assert "Heteroplasmic calls set missing: m.4823 9." in t["Genotype calls"]
    assert (
        "No ancestry covariates (principal components) were supplied"
        in t["Missing data and population stratification"]
    )
    assert "haplogroup markers" in t["Variants"]
    assert "laboratory QC: not provided" in t["Study design and definitions"]
    cfg["ancestry"] = {"covariates": ["PC1", "PC2"]}
    cfg["definitions"]["genotyping_qc"] = "5% duplicates, 99.9% concordance"
    t = text(cfg, panel, facts)
    assert (
        "Ancestry was adjusted for by the covariates PC1 and PC2"
        in t["Missing data and population stratification"]
    )
    assert "laboratory QC: 5% duplicates, 99.9% concordance" in t["Study design and definitions"]
    # the effect allele's relation to the literature's usual one, with the coding-strand names
    assert (
        "TaqI rs731236 (forward A>G; VDR c.1056T>C, p.Ile352=; effect allele G = t, the allele the literature"
        in t["Variants"]
    )
    assert (
        "FokI rs2228570 (forward A>G; VDR c.2T>C, p.Met1Thr; effect allele G = F; the literature "
        "usually counts f" in t["Variants"]
    )


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_p_value_legend_is_true_for_every_row_kind(runs):
    legend = p_value_legend(runs["firth"])
    shown = runs["firth"][runs["firth"]["p_value"].notna()]
    assert legend["rows"].sum() == len(shown)
    tests = legend.groupby("model")["test"].apply(set)
    assert any(t.startswith("penalised likelihood-ratio test (Firth)") for t in tests["codominant"])
    assert any(t.startswith("likelihood-ratio test") for t in tests["codominant"])
    assert any(t.startswith("F test") for t in tests["codominant"])
    assert tests["allelic_fisher"] == {
        "Fisher's exact test on the 2x2 allele table (OR: conditional MLE with exact 95% CI)"
    }
    assert tests["carrier_fisher"] == {
        "Fisher's exact test on the 2x2 carrier x case table (OR: sample OR with Woolf 95% CI)"
    }
    # every Firth row is counted under a Firth legend entry, and only those
    firth_rows = int(shown["method"].str.contains("Firth").sum())
    assert legend.loc[legend["test"].str.contains("Firth"), "rows"].sum() == firth_rows > 0
