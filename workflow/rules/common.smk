# Helpers shared by the rules: config validation, the run id, paths and input functions.
# No rules in this file.
import math
import os
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "workflow", "scripts"))

from snakemake.exceptions import WorkflowError  # noqa: E402
from snakemake.logging import logger  # noqa: E402

from vdrbone.configuration import (  # noqa: E402
    check_config,
    check_run_folder,
    fingerprint,
    resolve_run_id,
    simulated_paths,
    validate_config,
)
from vdrbone.errors import InputError  # noqa: E402
from vdrbone.panel import read_panel  # noqa: E402


def _load_config(raw):
    """Validate the config and fail before any job runs, naming the bad key or file."""
    try:
        cfg = validate_config(
            raw, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
        )
        bundled = os.path.join(workflow.basedir, cfg["panel"])
        if not os.path.isabs(cfg["panel"]) and not os.path.exists(cfg["panel"]) and os.path.exists(bundled):
            cfg["panel"] = bundled  # the bundled panel, when running in another --directory
        panel = read_panel(cfg["panel"])
        for message in check_config(cfg, panel.ids):
            logger.warning(f"config: {message}")
    except InputError as exc:
        raise WorkflowError(f"configuration error: {exc}") from None
    return cfg


CFG = _load_config(config)
FINGERPRINT = fingerprint(
    CFG, workflow_dir=workflow.basedir, cache_path=".snakemake/vdrbone-sha256-cache.json"
)
RUN_ID = resolve_run_id(CFG, FINGERPRINT)
RUN_DIR = f"results/runs/{RUN_ID}"
try:
    check_run_folder(RUN_DIR, RUN_ID, FINGERPRINT)
except InputError as exc:
    raise WorkflowError(f"configuration error: {exc}") from None

OUTCOMES = list(CFG["outcomes"])


def _n_samples_estimate():
    """Cohort size for sizing job resources: simulate.n_samples, else the first VCF's header."""
    sim = CFG.get("simulate") or {}
    if sim.get("enabled"):
        return int(sim["n_samples"])
    try:
        from cyvcf2 import VCF

        return len(VCF(CFG["cohort"]["vcf"][0]).samples)
    except Exception:  # unreadable here: the extract job reports why; size for a biobank
        return 500_000


N_SAMPLES = _n_samples_estimate()


def mem_mb(base, per_1k):
    """Memory request (MB) of a job: ``base`` plus ``per_1k`` MB per 1,000 samples."""
    return int(base + per_1k * N_SAMPLES / 1000)


def runtime_min(base, per_1k):
    """Runtime request (minutes) of a job: ``base`` plus ``per_1k`` minutes per 1,000 samples."""
    return int(math.ceil(base + per_1k * N_SAMPLES / 1000))


GENERATED = simulated_paths(CFG)


wildcard_constraints:
    outcome="|".join(OUTCOMES),


def run_path(*parts):
    """A path inside this run's folder."""
    return os.path.join(RUN_DIR, *parts)


def vcf_inputs(wildcards):
    """The cohort VCFs plus their index files where they exist (or will be generated)."""
    files = []
    for path in CFG["cohort"]["vcf"]:
        files.append(path)
        if path in GENERATED:
            files.append(f"{path}.tbi")
        else:
            files += [f"{path}{ext}" for ext in (".tbi", ".csi") if os.path.exists(f"{path}{ext}")]
    return files


def shareable_tables():
    """Aggregate tables that go into the report and the archive."""
    return [
        run_path("tables", name)
        for name in (
            "extraction.tsv",
            "sample_matching.tsv",
            "qc_variants.tsv",
            "qc_samples_summary.tsv",
            "association.tsv",
            "genotype_counts.tsv",
            "bmd_by_genotype.tsv",
            "ld.tsv",
            "haplotypes.tsv",
            "haplotype_association.tsv",
        )
    ]


def final_outputs(wildcards):
    return [
        run_path("report", "report.html"),
        run_path("manifest.json"),
        f"results/archive/{RUN_ID}.tar.gz",
    ]


def run_dir_of(wildcards, input):
    """The run folder, inferred from the run record (no hard-coded path prefix)."""
    return os.path.dirname(input.run)
