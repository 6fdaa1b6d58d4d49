"""Runtime profiles: profiles/slurm resolves without a cluster and shows what would be submitted.

The real SLURM run (sbatch on a one-node localhost cluster) is tests/cluster/run_slurm.sh
(`make cluster-test`); these tests need no SLURM, only the executor plugin installed
(requirements-cluster.txt).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO, default_config, snakemake, write_config

PROFILES = REPO / "profiles"
SLURM_PROFILE = PROFILES / "slurm"
PLUGIN_MISSING = importlib.util.find_spec("snakemake_executor_plugin_slurm") is None
# Keys that would put science (or a cohort) into a runtime profile.
SCIENCE_KEYS = {"config", "configfile", "configfiles", "config-file"}


def read_profile(name: str) -> dict:
    with open(PROFILES / name / "profile.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def local_rules() -> set[str]:
    """Rule names listed in ``localrules:`` directives of the Snakefile and workflow/rules/*.smk."""
    names: set[str] = set()
    for path in [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"^localrules:[ \t]*((?:.*\n)(?:[ \t]+\S.*\n?)*)", text, flags=re.M):
            names.update(re.findall(r"[A-Za-z_]\w*", block))
    return names


def job_stats(output: str) -> dict[str, int]:
    """The ``Job stats`` table of a dry run as {rule: number of jobs}."""
    match = re.search(r"^Job stats:\n.*\n-+\s+-+\n((?:.+\n)+?)total\s+\d+", output, flags=re.M)
    assert match, f"no job stats table in the dry-run output:\n{output[-3000:]}"
    return {rule: int(count) for rule, count in (line.split() for line in match.group(1).splitlines())}


def dry_run(folder: Path, n_samples: int) -> str:
    cfg = default_config()
    cfg["simulate"].update({"n_samples": n_samples, "n_background": {"chr12": 40, "chrM": 5}})
    path = write_config(folder / "config.yaml", cfg)
    proc = snakemake(folder, "--profile", str(SLURM_PROFILE), "-n", "--configfile", str(path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    return out


@pytest.fixture(scope="module")
def slurm_dry_runs(tmp_path_factory) -> dict[int, str]:
    """Output of ``snakemake --profile profiles/slurm -n`` for a small and a biobank-size cohort."""
    if PLUGIN_MISSING:
        pytest.skip(
            "snakemake-executor-plugin-slurm is not installed: pip install -r requirements-cluster.txt"
        )
    return {n: dry_run(tmp_path_factory.mktemp(f"dry{n}"), n) for n in (800, 200_000)}


def test_profiles_hold_runtime_settings_only():
    from snakemake.cli import get_argument_parser

    options = {opt for action in get_argument_parser()._actions for opt in action.option_strings}
    for name in ("default", "slurm"):
        profile = read_profile(name)
        assert not SCIENCE_KEYS & set(profile), f"profiles/{name} sets config keys"
        # Plugin options (slurm-*) are only registered when the plugin is installed.
        unknown = {
            key
            for key in profile
            if f"--{key}" not in options and not (PLUGIN_MISSING and key.startswith("slurm-"))
        }
        assert not unknown, f"profiles/{name}: not Snakemake options: {sorted(unknown)}"


def test_slurm_profile_settings():
    profile = read_profile("slurm")
    assert profile["executor"] == "slurm"
    assert profile["jobs"] >= 1 and profile["latency-wait"] >= 5 and profile["retries"] >= 1
    defaults = profile["default-resources"]
    assert defaults["mem_mb"] > 0 and defaults["runtime"] > 0
    # Account and partition are the user's: no placeholder value that sbatch would reject.
    assert "slurm_account" not in defaults and "slurm_partition" not in defaults


def test_slurm_dry_run_shows_submitted_and_local_jobs(slurm_dry_runs):
    out = slurm_dry_runs[800]
    assert re.search(r"Using profiles? \S*profiles/slurm", out), out[:500]
    stats = job_stats(out)
    local = local_rules() & set(stats)
    submitted = {rule: n for rule, n in stats.items() if rule not in local}
    table = "\n".join(
        f"{rule:<30} {n:>3}  {'local' if rule in local else 'sbatch'}" for rule, n in stats.items()
    )
    print(f"jobs of `snakemake --profile profiles/slurm -n`:\n{table}")

    outcomes = default_config()["outcomes"]
    assert stats["associate"] == len(outcomes) == 6, table  # one SLURM job per outcome
    # The compute steps go through sbatch; target, merge, report and archive run locally.
    assert {"simulate", "extract", "phenotypes", "qc", "associate"} <= set(submitted), table
    assert {"all", "register_run", "merge_association", "report", "archive"} <= local, table
    assert sum(submitted.values()) >= 8, table
    # Every job carries memory and runtime for sbatch (--mem, -t).
    resources = re.findall(r"^\s+resources: (.*)$", out, flags=re.M)
    assert len(resources) == sum(stats.values())
    assert all("mem_mb=" in line and "runtime=" in line for line in resources)


def test_slurm_requests_grow_with_the_cohort(slurm_dry_runs):
    def associate_request(n_samples: int) -> tuple[int, int]:
        out = slurm_dry_runs[n_samples]
        block = re.search(r"^rule associate:\n(?:\s+.*\n)*?\s+resources: (.*)$", out, flags=re.M)
        assert block, out[-2000:]
        res = dict(item.split("=", 1) for item in block.group(1).split(", ") if "=" in item)
        return int(res["mem_mb"]), int(res["runtime"])

    small, large = associate_request(800), associate_request(200_000)
    assert large[0] > small[0] and large[1] > small[1], (small, large)
