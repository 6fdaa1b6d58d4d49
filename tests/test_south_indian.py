"""The published South Indian postmenopausal study, fed through the whole workflow as a cohort.

/work/shared/VARIANTS.md ("Reference cohorts") and tests/fixtures/contingency/south_indian.tsv:
50 osteoporotic women vs 50 controls; ApaI AA/Aa/aa = 32/12/3 (47 cases genotyped) vs 19/23/8,
genotype chi-square 8.96 (p = 0.011); TaqI TT/Tt/tt = 20/28/2 vs 2/32/16, chi-square 25.88
(p = 0.000002), allelic OR 3.7778 (T vs t). The counts are written as a GRCh38 chr12 VCF and a
phenotype table (all women, T2DM unknown) and analysed by ``snakemake`` in a temporary folder with
strata [all] and no covariates; the published figures must come out of
``results/runs/*/tables/association.tsv`` at the published rounding.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, default_config, snakemake, write_config

from vdrbone.panel import read_panel

N_CASES = N_CONTROLS = 50
# forward (VCF) genotypes per group, panel alleles: TaqI A = T, G = t; ApaI A = A, C = a
TAQI = {"case": {"0/0": 20, "0/1": 28, "1/1": 2}, "control": {"0/0": 2, "0/1": 32, "1/1": 16}}
APAI = {  # ref C (a), alt A (A): AA = 1/1, Aa = 0/1, aa = 0/0
    "case": {"1/1": 32, "0/1": 12, "0/0": 3, "./.": 3},
    "control": {"1/1": 19, "0/1": 23, "0/0": 8},
}


def _column(spec: dict) -> list[str]:
    out = []
    for gt, k in spec.items():
        out += [gt] * k
    return out


def write_cohort(folder: Path, panel_path: Path) -> tuple[Path, Path]:
    panel = read_panel(panel_path)
    taq, apa = panel["rs731236"], panel["rs7975232"]
    samples = [f"SI{i:03d}" for i in range(1, N_CASES + N_CONTROLS + 1)]
    gts = {}
    for v, spec in ((taq, TAQI), (apa, APAI)):
        col = _column(spec["case"]) + _column(spec["control"])
        assert len(col) == len(samples)
        gts[v.id] = col
    lines = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=chr12,length=133275309,assembly=GRCh38>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
    ]
    for v in sorted((taq, apa), key=lambda v: v.pos_grch38):
        fields = ["chr12", str(v.pos_grch38), v.id, v.ref, v.alt, ".", "PASS", ".", "GT"]
        lines.append("\t".join(fields + gts[v.id]))
    vcf = folder / "south_indian.vcf"
    vcf.write_text("\n".join(lines) + "\n")
    pheno = pd.DataFrame(
        {
            "participant": samples,
            "gender": "F",
            "diabetes": "NA",
            "osteoporosis": ["1"] * N_CASES + ["0"] * N_CONTROLS,
        }
    )
    path = folder / "phenotypes.tsv"
    pheno.to_csv(path, sep="\t", index=False)
    return vcf, path


def config_for(folder: Path, vcf: Path, pheno: Path, panel: Path) -> Path:
    cfg = default_config()
    cfg["run_id"] = None
    cfg["cohort"] = {
        "name": "south-indian",
        "vcf": [str(vcf)],
        "build": "GRCh38",
        "phenotypes": str(pheno),
        "sample_column": "participant",
        "synthetic": True,
    }
    cfg["simulate"]["enabled"] = False
    cfg["panel"] = str(panel)
    cfg["variants"] = ["rs731236", "rs7975232"]
    cfg["phenotype_coding"] = {
        "sex": {"column": "gender", "female": ["F"], "male": ["M"]},
        "t2dm": {"column": "diabetes", "yes": ["1"], "no": ["0"]},
        "missing": ["", "NA"],
    }
    cfg["outcomes"] = {
        "osteoporosis": {
            "column": "osteoporosis",
            "type": "binary",
            "label": "Osteoporosis",
            "case": ["1"],
            "control": ["0"],
        }
    }
    cfg["covariates"] = []
    cfg["interactions"] = []  # the published table has no 25(OH)D or supplement data
    cfg["strata"] = ["all"]
    # the published table analysed everyone with each genotype: no sample call-rate filter (with
    # two variants, the default 0.8 would drop the 3 cases without an ApaI call from TaqI too)
    cfg["qc"]["min_sample_call_rate"] = 0
    if "haplotypes" in cfg:
        cfg["haplotypes"]["enabled"] = False
    return write_config(folder / "config.yaml", cfg)


def run_association(tmp_path: Path, panel: Path) -> pd.DataFrame:
    vcf, pheno = write_cohort(tmp_path, panel)
    cfg = config_for(tmp_path, vcf, pheno, panel)
    proc = snakemake(tmp_path, "--configfile", str(cfg), "--cores", "1")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    tables = list((tmp_path / "results" / "runs").glob("*/tables/association.tsv"))
    assert len(tables) == 1
    return pd.read_csv(tables[0], sep="\t")


def row(assoc: pd.DataFrame, variant: str, model: str) -> pd.Series:
    r = assoc[(assoc["variant"] == variant) & (assoc["model"] == model) & (assoc["stratum"] == "all")]
    assert len(r) == 1, (variant, model, len(r))
    return r.iloc[0]


@pytest.mark.slow
def test_published_table_through_the_workflow(tmp_path):
    assoc = run_association(tmp_path, REPO / "resources" / "vdr_snps.tsv")
    assert set(assoc["outcome"]) == {"osteoporosis"}
    assert set(assoc["stratum"]) == {"all"}  # no by_t2dm / by_sex rows: no such strata
    apa = row(assoc, "rs7975232", "genotypic")
    assert round(apa["statistic"], 2) == 8.96 and round(apa["p_value"], 3) == 0.011
    assert (apa["n"], apa["n_cases"], apa["n_controls"], apa["df"]) == (97, 47, 50, 2)
    taq = row(assoc, "rs731236", "genotypic")
    assert round(taq["statistic"], 2) == 25.88 and round(taq["p_value"], 6) == 0.000002
    assert (taq["n"], taq["n_cases"], taq["n_controls"]) == (100, 50, 50)
    allelic = row(assoc, "rs731236", "allelic")
    assert allelic["effect_allele"] == "G" and allelic["reference"] == "A (T)"
    # OR(t vs T) = (32 x 36) / (68 x 64) = 0.264706 = 1 / 3.77778 (the published 3.7778, T vs t)
    assert round(allelic["estimate"], 5) == 0.26471 and round(1 / allelic["estimate"], 4) == 3.7778
    # no sex or T2DM covariate: everybody is a woman and T2DM is unknown
    additive = row(assoc, "rs731236", "additive")
    assert pd.isna(additive["covariates"]) or additive["covariates"] == ""
    assert pd.notna(additive["p_value"])
    inter = assoc[assoc["model"].str.startswith("interaction")]
    assert inter["p_value"].isna().all()
    gc = pd.read_csv(next((tmp_path / "results" / "runs").glob("*/tables/genotype_counts.tsv")), sep="\t")
    # the descriptive sample (everyone with a TaqI call) and the model's sample: here the same people
    for sample in ("descriptive", "model"):
        taq_counts = gc[(gc["variant"] == "rs731236") & (gc["sample"] == sample)].sort_values("effect_count")
        assert taq_counts["rflp"].tolist() == ["TT", "Tt", "tt"]
        assert taq_counts["n_cases"].tolist() == [20, 28, 2]
        assert taq_counts["n_controls"].tolist() == [2, 32, 16]


@pytest.mark.slow
def test_user_panel_with_t_as_effect_allele(tmp_path):
    """A user panel naming A (T) as TaqI's effect allele reproduces the published OR 3.7778."""
    panel = tmp_path / "my_panel.tsv"
    shutil.copy(REPO / "resources" / "vdr_snps.tsv", panel)
    table = pd.read_csv(panel, sep="\t", dtype=str, keep_default_na=False)
    table.loc[table["id"] == "rs731236", "effect_allele"] = "A"
    table.to_csv(panel, sep="\t", index=False)
    assoc = run_association(tmp_path, panel)
    allelic = row(assoc, "rs731236", "allelic")
    assert (allelic["effect_allele"], allelic["other_allele"]) == ("A", "G")
    assert allelic["reference"] == "G (t)"
    assert round(allelic["estimate"], 4) == 3.7778
    taq = row(assoc, "rs731236", "genotypic")
    assert round(taq["statistic"], 2) == 25.88
    assert row(assoc, "rs731236", "recessive")["reference"] == "G/G (tt) + A/G (Tt)"
