"""The workflow as a user runs it: dry run, lint, config errors before any job, end to end."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, default_config, snakemake, write_config

from vdrbone.results import ASSOCIATION_COLUMNS


def small_config(**simulate) -> dict:
    cfg = default_config()
    cfg["simulate"].update({"n_samples": 800, "n_background": {"chr12": 40, "chrM": 5}, **simulate})
    return cfg


def test_dry_run_shows_per_outcome_jobs(tmp_path):
    cfg = write_config(tmp_path / "config.yaml", small_config())
    proc = snakemake(tmp_path, "-n", "--configfile", str(cfg), "--cores", "1")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    for rule in (
        "simulate",
        "extract",
        "phenotypes",
        "qc",
        "associate",
        "merge_association",
        "epistasis",
        "permutation",
        "report",
        "archive",
    ):
        assert rule in out
    assert re.search(r"^associate\s+6$", out, re.M)  # one job per outcome, haplotypes included
    assert not re.search(r"^(haplotype_assoc|merge_haplotypes)\s", out, re.M)
    assert not (tmp_path / "results").exists()  # a dry run writes nothing


def test_lint_is_clean():
    proc = snakemake(REPO, "--lint", "--configfile", str(REPO / "config" / "config.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["cohort"].update(colour="red"), "unknown config key 'colour' in cohort"),
        (lambda c: c["simulate"].update(n_samples="many"), "config key simulate.n_samples"),
        (
            lambda c: (c["simulate"].update(enabled=False), c["cohort"].update(phenotypes="missing.tsv")),
            "config key cohort.phenotypes: file 'missing.tsv' does not exist",
        ),
        (lambda c: c.update(variants=["rs731236", "rs0"]), "unknown variant id(s) rs0"),
    ],
)
def test_bad_config_fails_before_any_job(tmp_path, mutate, message):
    cfg = small_config()
    mutate(cfg)
    path = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    assert message in proc.stderr + proc.stdout
    assert not (tmp_path / "results").exists()


def test_duplicate_config_key_fails_naming_the_key_both_lines_and_the_file(tmp_path):
    """Two `bmd_site:` under `outcomes`: YAML (and Snakemake's loader) would keep the last."""
    cfg = small_config()
    cfg["outcomes"] = {"bmd_site": cfg["outcomes"]["bmd_ls"], "fracture": cfg["outcomes"]["fracture"]}
    path = write_config(tmp_path / "config.yaml", cfg)
    text = path.read_text().replace(
        "outcomes:\n", "outcomes:\n  bmd_site: {column: fn_bmd, type: continuous}\n"
    )
    path.write_text(text)
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if line.startswith("  bmd_site:")]
    assert len(lines) == 2
    proc = snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert (
        f"duplicate config key 'bmd_site' under outcomes in {path}: lines {lines[0]} and {lines[1]}" in out
    ), out
    assert not (tmp_path / "results").exists()


def sha256_tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_end_to_end_two_runs_never_touch_each_other(tmp_path):
    """Full default workflow on a small synthetic cohort; a second config gets its own run."""
    cfg = write_config(tmp_path / "a.yaml", small_config())
    proc = snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg))
    assert proc.returncode == 0, proc.stderr[-5000:]
    runs = sorted((tmp_path / "results" / "runs").glob("synthetic-eur-*"))
    assert len(runs) == 1
    run = runs[0]
    for rel in (
        "run.json",
        "manifest.json",
        "report/report.html",
        "report/report.pdf",
        "tables/association.tsv",
        "tables/table1.tsv",
        "tables/qc_variants.tsv",
        "tables/extraction.tsv",
        "tables/sample_matching.tsv",
        "work/calls.parquet",
    ):
        assert (run / rel).is_file(), rel
    assert (tmp_path / "results" / "archive" / f"{run.name}.tar.gz").is_file()
    assoc = pd.read_csv(run / "tables" / "association.tsv", sep="\t")
    assert list(assoc.columns[: len(ASSOCIATION_COLUMNS)]) == ASSOCIATION_COLUMNS
    assert set(assoc["outcome"]) == {
        "bmd_ls",
        "bmd_fn",
        "bmd_th",
        "fracture",
        "fracture_tte",
        "osteoporosis_fn",
    }
    tte = assoc[assoc["outcome"] == "fracture_tte"]
    assert {"HR"} == set(tte.loc[tte["model"] == "additive", "estimate_type"])
    assert (tte["model"] == "ph_test").any() and (assoc["model"] == "effect_by_vitd_supplement").any()
    assert json.loads((run / "run.json").read_text())["run_id"] == run.name
    # issue 13: conditional rows, differential missingness, SNP x SNP pairs and permutation tables
    assert (assoc["model"] == "conditional").sum() > 0
    tte_cond = assoc[(assoc["outcome"] == "fracture_tte") & (assoc["model"] == "conditional")]
    assert len(tte_cond) and tte_cond["note"].str.startswith("not computed for time-to-event outcomes").all()
    tm = pd.read_csv(run / "tables" / "qc_test_missing.tsv", sep="\t")
    assert set(tm["outcome"]) == {"fracture", "osteoporosis_fn"} and tm["p_test_missing"].notna().any()
    epi = pd.read_csv(run / "tables" / "epistasis.tsv", sep="\t")
    # binary and continuous outcomes (not the time-to-event one) x 9 strata x 14 pairs
    assert set(epi["outcome"]) == set(assoc["outcome"]) - {"fracture_tte"}
    assert len(epi) == 5 * 9 * 14 and epi["p_value"].notna().sum() > 100
    assert epi.loc[epi["p_value"].isna(), "note"].notna().all()  # rare mtDNA: a reason, not a gap
    perm = pd.read_csv(run / "tables" / "permutation.tsv", sep="\t")
    assert (perm.loc[perm["statistic"].notna(), "n_perm"] == 1000).all() and perm["emp2"].notna().any()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["config"]["permutation"]["seed"] == 20261130
    before = sha256_tree(run)
    archive_before = sha256_tree(tmp_path / "results" / "archive")

    # Snakemake's built-in report is built from the outputs marked with report().
    proc = snakemake(tmp_path, "--configfile", str(cfg), "--report", str(tmp_path / "sm_report.zip"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "sm_report.zip").stat().st_size > 10_000
    assert sha256_tree(run) == before

    # An unchanged rerun is a no-op.
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr

    # A changed config gets a new run folder and archive; the first run is untouched.
    raw2 = small_config(seed=7, outdir="results/synthetic/seed7")
    raw2["cohort"]["vcf"] = [p.replace("synthetic-eur", "seed7") for p in raw2["cohort"]["vcf"]]
    raw2["cohort"]["phenotypes"] = raw2["cohort"]["phenotypes"].replace("synthetic-eur", "seed7")
    cfg2 = write_config(tmp_path / "b.yaml", raw2)
    proc = snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg2))
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert len(list((tmp_path / "results" / "runs").glob("synthetic-eur-*"))) == 2
    assert sha256_tree(run) == before
    assert len(list((tmp_path / "results" / "archive").glob("*.tar.gz"))) == 2
    after = sha256_tree(tmp_path / "results" / "archive")
    assert {k: after[k] for k in archive_before} == archive_before
    index = pd.read_csv(tmp_path / "results" / "runs" / "index.tsv", sep="\t")
    assert len(index) == 2 and set(index["status"]) == {"complete"}

    # The same explicit run_id with another config is refused, before any job.
    raw2["run_id"] = run.name
    write_config(cfg2, raw2)
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg2))
    assert proc.returncode != 0
    assert "already holds a run made with a different configuration" in proc.stderr + proc.stdout
    assert sha256_tree(run) == before
    shutil.rmtree(tmp_path / "results" / "synthetic", ignore_errors=True)


def simulate_cohort(outdir: Path, n_samples: int) -> Path:
    """A small synthetic cohort written by the simulator's command line (default config)."""
    proc = subprocess.run(
        [sys.executable, "-m", "vdrbone", "simulate", "--config", str(REPO / "config" / "config.yaml"),
         "--outdir", str(outdir), "--n-samples", str(n_samples)],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return outdir


def test_bad_phenotype_value_fails_with_message_and_no_partial_outputs(tmp_path):
    """A job that fails on bad input names the column and line, and leaves nothing half-written."""
    sim_dir = simulate_cohort(tmp_path / "cohort", 200)
    pheno = sim_dir / "phenotypes.tsv"
    lines = pheno.read_text().splitlines()
    header = lines[0].split("\t")
    fields = lines[3].split("\t")
    fields[header.index("ls_bmd")] = "1,05"
    lines[3] = "\t".join(fields)
    pheno.write_text("\n".join(lines) + "\n")
    cfg = small_config()
    cfg["simulate"]["enabled"] = False
    cfg["cohort"].update(
        vcf=[str(sim_dir / "chr12.vcf.gz"), str(sim_dir / "chrM.vcf.gz")], phenotypes=str(pheno)
    )
    path = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "ls_bmd" in out and "line 4" in out and "1,05" in out
    runs = list((tmp_path / "results" / "runs").glob("*"))
    assert len(runs) == 1
    assert not (runs[0] / "tables" / "sample_matching.tsv").exists()
    assert not (runs[0] / "work" / "phenotypes.tsv").exists()
    assert not (tmp_path / "results" / "archive").exists()


@pytest.mark.slow
def test_degenerate_covariates_are_dropped_said_once_per_stratum_and_reported(tmp_path):
    """bmi constant among T2DM=yes, age_months = 12 age_years, centre constant everywhere: the run
    completes, the models leave them out where they are degenerate and every place says so."""
    sim_dir = simulate_cohort(tmp_path / "cohort", 600)
    pheno = pd.read_csv(sim_dir / "phenotypes.tsv", sep="\t", dtype=str, keep_default_na=False)
    pheno.loc[pheno["diabetes"].isin(["yes", "1"]) & (pheno["bmi"] != ""), "bmi"] = "27.0"
    age = pd.to_numeric(pheno["age_years"], errors="coerce")
    pheno["age_months"] = [f"{12 * a:g}" if np.isfinite(a) else "" for a in age]
    pheno["centre"] = "3"
    pheno.to_csv(sim_dir / "phenotypes.tsv", sep="\t", index=False)
    cfg = small_config()
    cfg["simulate"]["enabled"] = False
    cfg["cohort"].update(
        vcf=[str(sim_dir / "chr12.vcf.gz"), str(sim_dir / "chrM.vcf.gz")],
        phenotypes=str(sim_dir / "phenotypes.tsv"),
    )
    cfg["covariates"] = ["age_years", "bmi", "age_months", "centre"]
    cfg["strata"] = ["all", "t2dm"]
    path = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-5000:]
    (run,) = [p for p in (tmp_path / "results" / "runs").glob("*") if p.is_dir()]
    design = pd.read_csv(run / "tables" / "covariate_design.tsv", sep="\t")
    assert not design.duplicated(["outcome", "stratum", "covariate"]).any()
    got = {(r.stratum, r.covariate, r.reason) for r in design.itertuples() if r.outcome == "bmd_ls"}
    assert got == {
        ("t2dm=yes", "bmi", "constant in this stratum"),
        *((s, "age_months", "collinear with age_years") for s in ("all", "t2dm=yes", "t2dm=no")),
        *((s, "centre", "constant in this stratum") for s in ("all", "t2dm=yes", "t2dm=no")),
    }
    assoc = pd.read_csv(run / "tables" / "association.tsv", sep="\t")
    reg = assoc[(assoc["model"] == "additive") & (assoc["outcome"] == "bmd_ls")].set_index(
        ["variant", "stratum"]
    )
    assert (reg.xs("t2dm=yes", level="stratum")["covariates"] == "age_years+sex").all()
    assert (reg.xs("t2dm=no", level="stratum")["covariates"] == "age_years+bmi+sex").all()
    assert reg["p_value"].notna().all()
    assert (
        reg.xs("t2dm=yes", level="stratum")["note"]
        .str.contains("covariate dropped: bmi (constant in this stratum)", regex=False)
        .all()
    )
    phenotypes_log = (run / "logs" / "phenotypes.log").read_text()
    assert (
        f"WARNING vdrbone: covariate column 'centre' in {sim_dir / 'phenotypes.tsv'}: constant in every "
        "stratum (value 3)" in phenotypes_log
    )
    associate_log = (run / "logs" / "associate.bmd_ls.log").read_text()
    # once for the single-variant models and once for the haplotype models (the same job)
    assert associate_log.count("covariate dropped: age_months") == 2
    assert (
        "outcome bmd_ls: covariate dropped: age_months (collinear with age_years) from the models of "
        "strata all, t2dm=yes, t2dm=no" in associate_log
    )
    assert (
        "outcome bmd_ls: covariate dropped: age_months (collinear with age_years) from the haplotype "
        "models of strata all, t2dm=yes, t2dm=no" in associate_log
    )
    html = (run / "report" / "report.html").read_text()
    assert "Covariates dropped from the models" in html and "constant in every stratum" in html


def two_cohort_config(n_samples: int = 400) -> dict:
    """Two simulated cohorts (EUR and EAS) under `cohorts`, with the default analysis settings."""
    cfg = small_config(n_samples=n_samples)
    cohort, sim = cfg.pop("cohort"), cfg.pop("simulate")
    items = []
    for name, population, seed in (("eur", "EUR", 3), ("eas", "EAS", 4)):
        outdir = f"results/synthetic/{name}"
        items.append(
            {
                "cohort": dict(
                    cohort,
                    name=name,
                    vcf=[f"{outdir}/chr12.vcf.gz", f"{outdir}/chrM.vcf.gz"],
                    phenotypes=f"{outdir}/phenotypes.tsv",
                ),
                "simulate": dict(sim, outdir=outdir, population=population, seed=seed),
            }
        )
    cfg["cohorts"] = items
    return cfg


def test_dry_run_with_two_cohorts_has_jobs_per_cohort_and_a_combine_job(tmp_path):
    path = write_config(tmp_path / "config.yaml", two_cohort_config())
    proc = snakemake(tmp_path, "-n", "--configfile", str(path), "--cores", "1")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert re.search(r"^associate\s+12$", out, re.M)  # 6 outcomes x 2 cohorts
    assert re.search(r"^simulate\s+2$", out, re.M)
    assert re.search(r"^archive\s+2$", out, re.M)
    assert re.search(r"^combine\s+1$", out, re.M)
    assert re.search(r"^combined_report\s+1$", out, re.M)


@pytest.mark.slow
def test_two_cohorts_get_their_own_runs_and_a_meta_analysis(tmp_path):
    from vdrbone.meta import fixed_effect, random_effects

    path = write_config(tmp_path / "config.yaml", two_cohort_config())
    proc = snakemake(tmp_path, "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-5000:]
    runs = {p.name.split("-")[0]: p for p in (tmp_path / "results" / "runs").glob("*-*")}
    assert set(runs) == {"eur", "eas"}
    assert len(list((tmp_path / "results" / "archive").glob("*.tar.gz"))) == 2
    (combined,) = (tmp_path / "results" / "combined").glob("combined-*")
    meta = pd.read_csv(combined / "meta_analysis.tsv", sep="\t")
    summary = pd.read_csv(combined / "summary.tsv", sep="\t")
    assert {"eur:estimate", "eas:estimate", "eur:p_value", "eas:n"} <= set(summary.columns)
    key = dict(variant="rs731236", outcome="bmd_ls", stratum="all", model="additive", term="per_allele")
    per = {
        name: pd.read_csv(run / "tables" / "association.tsv", sep="\t").query(
            " and ".join(f"{k} == {v!r}" for k, v in key.items())
        )
        for name, run in runs.items()
    }
    expected = fixed_effect(
        [per["eur"]["estimate"].item(), per["eas"]["estimate"].item()],
        [per["eur"]["standard_error"].item(), per["eas"]["standard_error"].item()],
    )
    row = meta.query(" and ".join(f"{k} == {v!r}" for k, v in key.items()))
    assert len(row) == 1 and row["n_cohorts"].item() == 2
    for col in ("estimate", "standard_error", "p_value", "q_statistic", "i2"):
        np.testing.assert_allclose(row[col].item(), expected[col], rtol=1e-9)
    # random effects (default REML, no Hartung-Knapp) and the forest plot of the combined report
    re_expected = random_effects(
        [per["eur"]["estimate"].item(), per["eas"]["estimate"].item()],
        [per["eur"]["standard_error"].item(), per["eas"]["standard_error"].item()],
    )
    for col in ("tau2", "re_estimate", "re_standard_error", "re_p_value", "pi_lower", "pi_upper"):
        np.testing.assert_allclose(row[col].item(), re_expected[col], rtol=1e-9, atol=1e-15)
    assert row["re_method"].item() == "random effects, REML tau2"
    weights = pd.read_csv(combined / "meta_cohorts.tsv", sep="\t")
    mine = weights.query(" and ".join(f"{k} == {v!r}" for k, v in key.items()))
    assert list(mine["cohort"]) == ["eur", "eas"]
    html = (combined / "report.html").read_text()
    assert "Forest plot: TaqI (rs731236), bmd_ls, All: additive per_allele" in html
    assert html.count("data:image/svg+xml;base64,") >= 5


def test_hg19_chrM_is_refused_with_its_reason_and_no_partial_outputs(tmp_path):
    """A VCF whose chrM is hg19's Yoruba sequence (16,571 bp) stops the run at extraction."""
    sim_dir = simulate_cohort(tmp_path / "cohort", 100)
    samples = pd.read_csv(sim_dir / "phenotypes.tsv", sep="\t", dtype=str)["participant"].tolist()
    bad = tmp_path / "chrM_hg19.vcf"
    bad.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chrM,length=16571>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        + "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples])
        + "\n"
        + "\t".join(["chrM", "4823", ".", "T", "C", ".", "PASS", ".", "GT", *["0"] * len(samples)])
        + "\n"
    )
    cfg = small_config()
    cfg["simulate"]["enabled"] = False
    cfg["cohort"].update(
        vcf=[str(sim_dir / "chr12.vcf.gz"), str(bad)], phenotypes=str(sim_dir / "phenotypes.tsv")
    )
    path = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, "--cores", "1", "--keep-going", "--configfile", str(path))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "16571" in out and "rCRS" in out
    (run,) = (tmp_path / "results" / "runs").glob("*")
    assert not (run / "work" / "calls.parquet").exists()
    assert not (run / "tables" / "extraction.tsv").exists()
    assert not list(run.glob("**/.*.tmp*"))
    assert not (tmp_path / "results" / "archive").exists()


@pytest.mark.slow
def test_chr12_only_vcf_runs_and_reports_the_mtdna_variants_as_absent(tmp_path):
    """Array data without mtDNA, run with the default variants: the run completes, and the report
    and the tables say m.4823 and m.15885 are not in the genotype files."""
    sim_dir = simulate_cohort(tmp_path / "cohort", 200)
    cfg = small_config()
    cfg["simulate"]["enabled"] = False
    chr12 = str(sim_dir / "chr12.vcf.gz")
    cfg["cohort"].update(vcf=[chr12], phenotypes=str(sim_dir / "phenotypes.tsv"))
    path = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-5000:]
    (run,) = (p for p in (tmp_path / "results" / "runs").glob("*") if p.is_dir())
    ext = pd.read_csv(run / "tables" / "extraction.tsv", sep="\t").set_index("variant")
    mt = ["m.4823", "m.15885"]
    assert (ext.loc[mt, "reason"] == "not in the genotype files").all()
    assert (ext.loc[mt, "files_searched"] == chr12).all() and not ext.loc[mt, "found"].any()
    assert ext.drop(index=mt)["found"].all() and (ext["n_other_ploidy"] == 0).all()
    log = (run / "logs" / "extract.log").read_text()
    assert "m.4823 (Mt4823) at chrM/MT:4823 (GRCh38) is not in the genotype files" in log
    assert f"searched: {chr12}" in log
    qc = pd.read_csv(run / "tables" / "qc_variants.tsv", sep="\t")
    qmt = qc[qc["variant"].isin(mt)]
    assert len(qmt) and (qmt["reason"] == "not in the genotype files").all()
    assert (qmt["flag"] == "not_extracted").all()
    assoc = pd.read_csv(run / "tables" / "association.tsv", sep="\t")
    amt = assoc[assoc["variant"].isin(mt)]
    assert set(amt["variant"]) == set(mt) and set(amt["outcome"]) == set(assoc["outcome"])
    assert (amt["note"] == "not in the genotype files").all() and amt["p_value"].isna().all()
    assert assoc.loc[~assoc["variant"].isin(mt), "p_value"].notna().any()
    html = (run / "report" / "report.html").read_text()
    summary = html[html.index('<section id="summary">') : html.index('<section id="qc">')]
    assert "2 requested variants not analysed" in summary
    for vid, name in (("m.4823", "Mt4823"), ("m.15885", "Mt15885")):
        assert f"<b>{name}</b> {vid}: not in the genotype files" in summary


def test_truncated_vcf_fails_naming_the_file_and_no_partial_outputs(tmp_path):
    """A bgzipped VCF cut short (interrupted copy, its index copied whole) stops the run at
    extraction, naming the file and where it ends."""
    sim_dir = simulate_cohort(tmp_path / "cohort", 100)
    good = sim_dir / "chr12.vcf.gz"
    data = good.read_bytes()
    cut = tmp_path / "copied" / "chr12.vcf.gz"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) * 3 // 4])
    for ext in (".tbi", ".csi"):
        if Path(str(good) + ext).exists():
            shutil.copy(str(good) + ext, str(cut) + ext)
    cfg = small_config()
    cfg["simulate"]["enabled"] = False
    cfg["cohort"].update(
        vcf=[str(cut), str(sim_dir / "chrM.vcf.gz")], phenotypes=str(sim_dir / "phenotypes.tsv")
    )
    path = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, "--cores", "1", "--keep-going", "--configfile", str(path))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert f"{cut} is cut short: it ends at byte {len(data) * 3 // 4}" in out
    assert "copy it again from the source" in out
    (run,) = (tmp_path / "results" / "runs").glob("*")
    assert not (run / "work" / "calls.parquet").exists()
    assert not (run / "tables" / "extraction.tsv").exists()
    assert not list(run.glob("**/.*.tmp*"))
    assert not (tmp_path / "results" / "archive").exists()


@pytest.mark.slow
def test_default_run_shows_counts_from_the_model_sample_and_a_flow_that_adds_up(tmp_path):
    """The default workflow (small cohort): for every SNPassoc-style table (outcome x variant x
    stratum) the model-sample counts add up to n, n_cases and n_controls of the estimates' rows;
    every participant-flow path adds up and ends at the genetic models' n; the primary family
    spans the outcomes; the report carries the STREGA appendix."""
    from test_association import model_sample_mismatches

    from vdrbone.flow import flow_chains

    cfg = write_config(tmp_path / "config.yaml", small_config())
    proc = snakemake(tmp_path, "--cores", "2", "--configfile", str(cfg))
    assert proc.returncode == 0, proc.stderr[-5000:]
    run = next((tmp_path / "results" / "runs").glob("synthetic-eur-*"))
    read = {"sep": "\t", "keep_default_na": False, "na_values": ["NA"]}
    assoc = pd.read_csv(run / "tables" / "association.tsv", **read)
    counts = pd.read_csv(run / "tables" / "genotype_counts.tsv", **read)
    bmd = pd.read_csv(run / "tables" / "bmd_by_genotype.tsv", **read)
    flow = pd.read_csv(run / "tables" / "participant_flow.tsv", dtype={"variant": str}, **read)
    assert set(counts["sample"]) == set(bmd["sample"]) == {"descriptive", "model"}
    assert model_sample_mismatches(assoc, counts, bmd) == []
    chains = flow_chains(flow)
    outcomes = set(default_config()["outcomes"])
    assert len(chains) == len(outcomes) * 9 * 6
    for (outcome, stratum, variant), chain in chains.items():
        model = "carrier" if variant.startswith("m.") else "codominant"
        row = assoc[
            (assoc["outcome"] == outcome) & (assoc["variant"] == variant) & (assoc["stratum"] == stratum)
            & (assoc["model"] == model)
        ]  # fmt: skip
        assert chain["n"].iloc[-1] == row["n"].iloc[0], (outcome, stratum, variant)
    primary = assoc[assoc["family"] == "primary"]
    assert set(primary["outcome"]) == outcomes
    assert len(primary.drop_duplicates(["outcome", "variant", "stratum", "model"])) == len(outcomes) * 4 * 3
    html = (run / "report" / "report.html").read_text(encoding="utf-8")
    assert "Appendix: STREGA checklist" in html and "Participant flow" in html
    assert "BH-adjusted p" in html


def test_plink_bed_with_swapped_alleles_runs_with_the_build_inferred_and_reported(tmp_path):
    """cohort.genotypes names a PLINK 1 .bed (A1/A2 swapped, as PLINK 1.9 writes a minor REF) with
    build auto: the build comes from the panel alleles, extraction.tsv and the report say so, and
    the association matches the VCF's calls (tests/test_genotype_files.py compares the tables)."""
    from genotype_encodings import write_bed

    sim_dir = simulate_cohort(tmp_path / "cohort", 200)
    bed = write_bed(
        [str(sim_dir / "chr12.vcf.gz"), str(sim_dir / "chrM.vcf.gz")], str(tmp_path / "arr"), swap=True
    )
    cfg = small_config()
    cfg["simulate"]["enabled"] = False
    del cfg["cohort"]["vcf"]
    cfg["cohort"].update(genotypes=[bed], phenotypes=str(sim_dir / "phenotypes.tsv"))
    path = write_config(tmp_path / "config.yaml", cfg)
    proc = snakemake(tmp_path, "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-5000:]
    (run,) = (p for p in (tmp_path / "results" / "runs").glob("*") if p.is_dir())
    ext = pd.read_csv(run / "tables" / "extraction.tsv", sep="\t")
    assert ext["found"].all() and (ext["file"] == bed).all()
    assert (ext.loc[~ext["variant"].str.startswith("m."), "match"] == "swapped").all()
    assert (ext["build"] == "GRCh38").all()
    assert ext["build_source"].str.startswith("inferred from the panel alleles (cohort.build: auto)").all()
    assert {"filter", "info"} <= set(ext.columns)
    assoc = pd.read_csv(run / "tables" / "association.tsv", sep="\t")
    assert assoc["p_value"].notna().sum() > 50
    html = (run / "report" / "report.html").read_text()
    assert "GRCh38 (inferred from the panel alleles (cohort.build: auto): 4 of 4 chr12 panel variants" in html
