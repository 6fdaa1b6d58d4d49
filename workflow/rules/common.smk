# Helpers shared by the rules: config validation, run ids, paths and input functions.
# No rules in this file. Every run-specific rule carries the {run_id} wildcard; RUNS maps each
# run id to its single-cohort config (one per entry of `cohorts`, or the one `cohort`).
import hashlib
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "workflow", "scripts"))

from snakemake.exceptions import WorkflowError  # noqa: E402
from snakemake.logging import logger  # noqa: E402

from vdrbone.provenance import check_run_folder, fingerprint  # noqa: E402
from vdrbone.settings import (  # noqa: E402
    check_config,
    check_config_files,
    cohort_configs,
    model_covariates,
    resolve_run_id,
    simulated_paths,
    suppress_below,
    validate_config,
)
from vdrbone.errors import InputError  # noqa: E402
from vdrbone.genotype_files import companion_files, genotype_samples  # noqa: E402
from vdrbone.panel import read_panel  # noqa: E402
from vdrbone.phenotypes import outcome_kind  # noqa: E402

# Run ids resolved by the main Snakemake process, handed to cluster jobs (which re-read the
# workflow) through the environment, so that every job of a run uses the same run folder.
RUNS_ENV = "VDRBONE_RUNS"


def _load_configs(raw):
    """Validate the config; one checked config per cohort. Fails before any job runs.

    Every config file Snakemake read (the `configfile:` default and each --configfile) is read
    again with a loader that refuses duplicate keys, which Snakemake's loader would let through.
    """
    try:
        check_config_files(workflow.configfiles)
        cfg = validate_config(
            raw, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
        )
        bundled = os.path.join(workflow.basedir, cfg["panel"])
        if not os.path.isabs(cfg["panel"]) and not os.path.exists(cfg["panel"]) and os.path.exists(bundled):
            cfg["panel"] = bundled  # the bundled panel, when running in another --directory
        panel = read_panel(cfg["panel"])
        cohorts = cohort_configs(cfg)
        for cohort in cohorts:
            for message in check_config(cohort, panel.ids, {v.id: v.ploidy for v in panel}):
                logger.warning(f"config: {message}")
    except InputError as exc:
        raise WorkflowError(f"configuration error: {exc}") from None
    return cohorts


def _config_key(cfg):
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _resolve_runs(cohorts):
    """{run_id: config} and {run_id: fingerprint}; refuse an explicit id holding another run."""
    known = json.loads(os.environ.get(RUNS_ENV, "{}"))
    runs, fingerprints = {}, {}
    for cfg in cohorts:
        key = _config_key(cfg)
        if key in known:
            run_id, fp = known[key]
        else:
            fp = fingerprint(
                cfg, workflow_dir=workflow.basedir, cache_path=".snakemake/vdrbone-sha256-cache.json"
            )
            run_id = resolve_run_id(cfg, fp)
            try:
                check_run_folder(
                    f"results/runs/{run_id}", run_id, fp, archive=f"results/archive/{run_id}.tar.gz"
                )
            except InputError as exc:
                raise WorkflowError(f"configuration error: {exc}") from None
        runs[run_id], fingerprints[run_id] = cfg, fp
        known[key] = [run_id, fp]
    os.environ[RUNS_ENV] = json.dumps(known)
    return runs, fingerprints


COHORTS = _load_configs(config)
RUNS, FINGERPRINTS = _resolve_runs(COHORTS)
RUN_IDS = list(RUNS)
# Settings shared by every cohort (panel, variants, outcomes, models); never cohort files.
CFG = COHORTS[0]
OUTCOMES = list(CFG["outcomes"])
SIMS = {}
for _cfg in COHORTS:
    if _cfg.get("simulate", {}).get("enabled"):
        if _cfg["simulate"]["outdir"] in SIMS:
            raise WorkflowError(
                f"configuration error: two cohorts simulate into {_cfg['simulate']['outdir']}; "
                "give each its own simulate.outdir"
            )
        SIMS[_cfg["simulate"]["outdir"]] = _cfg
COMBINED_ID = f"combined-{hashlib.sha256('|'.join(sorted(RUN_IDS)).encode()).hexdigest()[:10]}"


def _n_samples(cfg):
    """Cohort size for sizing job resources: simulate.n_samples, else the first genotype file's samples."""
    sim = cfg.get("simulate") or {}
    if sim.get("enabled"):
        return int(sim["n_samples"])
    cohort = cfg["cohort"]
    try:
        return len(
            genotype_samples(
                cohort["genotypes"][:1],
                file_format=cohort.get("format", "auto"),
                sample_file=cohort.get("sample_file"),
            )
        )
    except Exception:  # unreadable here: the extract job reports why; size for a biobank
        return 500_000


N_SAMPLES = max(_n_samples(cfg) for cfg in COHORTS)


def mem_mb(base, per_1k):
    """Memory request (MB) of a job: ``base`` plus ``per_1k`` MB per 1,000 samples (largest cohort)."""
    return int(base + per_1k * N_SAMPLES / 1000)


def runtime_min(base, per_1k):
    """Runtime request (minutes) of a job: ``base`` plus ``per_1k`` minutes per 1,000 samples."""
    return int(math.ceil(base + per_1k * N_SAMPLES / 1000))


# Scheduling (Snakemake `priority:`; among the jobs ready to run, higher first): the longest
# jobs first, so that those left for the end, while the merge and the report wait, are short
# (longest processing time first). At 100,000 samples, default config: epistasis, permutation
# and the association of a binary or time-to-event outcome take 11-13 s each, that of a
# continuous outcome 6 s, every other job 2 s or less (benchmarks/README.md, "Scale").
LONG_JOB, MEDIUM_JOB = 2, 1


def associate_priority(wildcards):
    """An outcome's association job: logistic (Firth) and Cox models take about twice as long."""
    return MEDIUM_JOB if outcome_kind(CFG["outcomes"][wildcards.outcome]) == "continuous" else LONG_JOB


def permutation_priority(wildcards):
    perm = CFG["permutation"]
    return LONG_JOB if perm["n"] > 0 or perm["adaptive"] else 0


def epistasis_priority(wildcards):
    return LONG_JOB if CFG["epistasis"]["enabled"] else 0


wildcard_constraints:
    run_id="|".join(re.escape(r) for r in RUN_IDS),
    outcome="|".join(re.escape(o) for o in OUTCOMES),
    simdir="|".join(re.escape(d) for d in SIMS) or "^$",


def run_config(wildcards):
    """The single-cohort config of a run."""
    return RUNS[wildcards.run_id]


def run_fingerprint(wildcards):
    return FINGERPRINTS[wildcards.run_id]


def run_sample_column(wildcards):
    """The phenotype table's column of VCF sample ids."""
    return RUNS[wildcards.run_id]["cohort"]["sample_column"]


def run_genotypes(wildcards):
    """The cohort's genotype files, as listed in the config (cohort.genotypes)."""
    return list(RUNS[wildcards.run_id]["cohort"]["genotypes"])


def run_build(wildcards):
    return RUNS[wildcards.run_id]["cohort"]["build"]


def run_format(wildcards):
    """The genotype files' format (cohort.format: auto, vcf, bcf, bed, pgen, bgen)."""
    return RUNS[wildcards.run_id]["cohort"]["format"]


def run_phenotype_sheet(wildcards):
    """The phenotype workbook's sheet (cohort.phenotype_sheet), or None."""
    return RUNS[wildcards.run_id]["cohort"].get("phenotype_sheet")


def bgen_sample_file(wildcards):
    """The BGEN .sample file named in the config (cohort.sample_file), or none."""
    path = RUNS[wildcards.run_id]["cohort"].get("sample_file")
    return [path] if path else []


def genotype_companions(wildcards):
    """The files read with the cohort's genotype files (index, .bim/.fam, .pvar/.psam,
    .bgi/.sample) where they exist (or will be generated)."""
    cfg = RUNS[wildcards.run_id]
    cohort = cfg["cohort"]
    generated = simulated_paths(cfg)
    files = []
    for path in cohort["genotypes"]:
        if path in generated:
            files.append(f"{path}.tbi")
        else:
            files += companion_files(
                path, file_format=cohort["format"], sample_file=cohort.get("sample_file")
            )
    return [f for f in dict.fromkeys(files) if f not in cohort["genotypes"]]


def phenotype_table(wildcards):
    return RUNS[wildcards.run_id]["cohort"]["phenotypes"]


def tscore_reference_table(wildcards):
    """The T-score reference table of who_class outcomes (the bundled one by default)."""
    path = CFG["tscore_reference"]
    bundled = os.path.join(workflow.basedir, "resources", "tscore_reference.tsv")
    if path == "resources/tscore_reference.tsv" and not os.path.exists(path):
        return bundled
    return path


def cohort_inputs(wildcards):
    """Every input file of a run: genotype files, phenotype table, panel (for checksums)."""
    cfg = RUNS[wildcards.run_id]
    return [*cfg["cohort"]["genotypes"], cfg["cohort"]["phenotypes"], cfg["panel"]]


def simulate_logs(wildcards):
    """The simulator's log, when the run's cohort is simulated (its warnings go in the report)."""
    sim = RUNS[wildcards.run_id].get("simulate") or {}
    return [f"{sim['outdir']}/simulate.log"] if sim.get("enabled") else []


def simulate_config(wildcards):
    """The config of the cohort simulated into {simdir}."""
    return SIMS[wildcards.simdir]


# Aggregate tables of a run that go into the report and (suppressed) into the archive.
SHAREABLE_TABLES = [
    "results/runs/{run_id}/tables/extraction.tsv",
    "results/runs/{run_id}/tables/sample_matching.tsv",
    "results/runs/{run_id}/tables/qc_variants.tsv",
    "results/runs/{run_id}/tables/qc_samples_summary.tsv",
    "results/runs/{run_id}/tables/qc_test_missing.tsv",
    "results/runs/{run_id}/tables/association.tsv",
    "results/runs/{run_id}/tables/genotype_counts.tsv",
    "results/runs/{run_id}/tables/bmd_by_genotype.tsv",
    "results/runs/{run_id}/tables/covariate_design.tsv",
    "results/runs/{run_id}/tables/epistasis.tsv",
    "results/runs/{run_id}/tables/permutation.tsv",
    "results/runs/{run_id}/tables/participant_flow.tsv",
    "results/runs/{run_id}/tables/kaplan_meier.tsv",
    "results/runs/{run_id}/tables/power.tsv",
    "results/runs/{run_id}/tables/ld.tsv",
    "results/runs/{run_id}/tables/haplotypes.tsv",
    "results/runs/{run_id}/tables/haplotype_association.tsv",
    "results/runs/{run_id}/tables/table1.tsv",
]
# Their small-cell-suppressed copies, the ones the archive packs.
SHAREABLE_COPIES = [
    "results/runs/{run_id}/shareable/tables/extraction.tsv",
    "results/runs/{run_id}/shareable/tables/sample_matching.tsv",
    "results/runs/{run_id}/shareable/tables/qc_variants.tsv",
    "results/runs/{run_id}/shareable/tables/qc_samples_summary.tsv",
    "results/runs/{run_id}/shareable/tables/qc_test_missing.tsv",
    "results/runs/{run_id}/shareable/tables/association.tsv",
    "results/runs/{run_id}/shareable/tables/genotype_counts.tsv",
    "results/runs/{run_id}/shareable/tables/bmd_by_genotype.tsv",
    "results/runs/{run_id}/shareable/tables/covariate_design.tsv",
    "results/runs/{run_id}/shareable/tables/epistasis.tsv",
    "results/runs/{run_id}/shareable/tables/permutation.tsv",
    "results/runs/{run_id}/shareable/tables/participant_flow.tsv",
    "results/runs/{run_id}/shareable/tables/kaplan_meier.tsv",
    "results/runs/{run_id}/shareable/tables/power.tsv",
    "results/runs/{run_id}/shareable/tables/ld.tsv",
    "results/runs/{run_id}/shareable/tables/haplotypes.tsv",
    "results/runs/{run_id}/shareable/tables/haplotype_association.tsv",
    "results/runs/{run_id}/shareable/tables/table1.tsv",
]


def run_logs(wildcards):
    """The logs of a run's jobs before the report (their warnings go in the report), plus the
    simulator's log when the run's cohort is simulated."""
    logs = [
        f"results/runs/{wildcards.run_id}/logs/{name}.log"
        for name in (
            "register_run",
            "extract",
            "phenotypes",
            "qc",
            "merge_association",
            "epistasis",
            "permutation",
            "ld_haplotypes",
            "table1",
        )
    ]
    logs += [f"results/runs/{wildcards.run_id}/logs/associate.{o}.log" for o in OUTCOMES]
    return logs + simulate_logs(wildcards)


def final_outputs(wildcards):
    """Per run: report, manifest, archive; with several cohorts, the combined tables too."""
    targets = []
    for run_id in RUN_IDS:
        targets += [
            f"results/runs/{run_id}/report/report.html",
            f"results/runs/{run_id}/manifest.json",
            f"results/archive/{run_id}.tar.gz",
        ]
    if len(RUN_IDS) > 1:
        targets += [
            f"results/combined/{COMBINED_ID}/summary.tsv",
            f"results/combined/{COMBINED_ID}/meta_analysis.tsv",
            f"results/combined/{COMBINED_ID}/meta_cohorts.tsv",
            f"results/combined/{COMBINED_ID}/report.html",
        ]
    return targets


def run_dir_of(wildcards, input):
    """The run folder, inferred from the run record (no hard-coded path prefix)."""
    return os.path.dirname(input.run)
