"""Run safety, through the workflow as a user runs it: ``verify`` on a fresh archive and on a
copy with one changed byte, and an interrupted run that leaves earlier runs intact, no partial
archive, and completes when rerun. (Two complete runs with different configs staying separate is
tests/test_workflow.py::test_end_to_end_two_runs_never_touch_each_other.)"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, default_config, snakemake, write_config

pytestmark = pytest.mark.slow


def small_config(**simulate) -> dict:
    """The default config on a 300-sample cohort with two outcomes (one BMD, fracture)."""
    cfg = default_config()
    cfg["simulate"].update({"n_samples": 300, "n_background": {"chr12": 10, "chrM": 2}, **simulate})
    cfg["outcomes"] = {k: v for k, v in cfg["outcomes"].items() if k in ("bmd_ls", "fracture")}
    cfg["simulate"]["effects"] = [e for e in cfg["simulate"]["effects"] if e["outcome"] in cfg["outcomes"]]
    return cfg


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def verify(archive: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO / "workflow" / "scripts"))
    return subprocess.run(
        [sys.executable, "-m", "vdrbone", "verify", str(archive)], capture_output=True, text=True, env=env
    )


def snapshot(dest: Path) -> Path:
    """A copy of the workflow (Snakefile, rules, scripts, schemas, resources, profiles)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copy2(REPO / "Snakefile", dest / "Snakefile")
    for sub in ("workflow", "resources", "config", "profiles"):
        if (REPO / sub).is_dir():
            shutil.copytree(REPO / sub, dest / sub, ignore=ignore)
    return dest / "Snakefile"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    snakefile = snapshot(tmp_path_factory.mktemp("workflow"))
    tmp = tmp_path_factory.mktemp("safety")
    raw = small_config()
    raw["report"] = {"suppress_below": 5}  # small-cell suppression on, as for a real cohort
    cfg = write_config(tmp / "a.yaml", raw)
    proc = snakemake(tmp, "--snakefile", str(snakefile), "--cores", "2", "--configfile", str(cfg))
    assert proc.returncode == 0, proc.stderr[-5000:]
    (run,) = (tmp / "results" / "runs").glob("synthetic-eur-*")
    archive = tmp / "results" / "archive" / f"{run.name}.tar.gz"
    assert archive.is_file()
    return {"tmp": tmp, "run": run, "archive": archive, "snakefile": snakefile}


def test_verify_passes_on_a_fresh_archive_and_names_a_changed_file(first_run, tmp_path):
    archive = first_run["archive"]
    ok = verify(archive)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK:")
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
    run_id = first_run["run"].name
    assert f"{run_id}/report/report.html" in names
    assert f"{run_id}/report/report.pdf" in names
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.extractfile(f"{run_id}/report/report.pdf").read(5) == b"%PDF-"
    assert f"{run_id}/shareable/tables/association.tsv" in names
    assert not any("/work/" in n or "calls" in n for n in names)  # no individual-level data

    # change one byte of one member in a copy (the original archive is never touched)
    target = f"{run_id}/shareable/tables/association.tsv"
    changed = tmp_path / "changed.tar.gz"
    with tarfile.open(archive, "r:gz") as tin, tarfile.open(changed, "w:gz") as tout:
        for info in tin:
            data = tin.extractfile(info).read() if info.isfile() else None
            if info.name == target:
                i = len(data) // 2
                data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
            tout.addfile(info, io.BytesIO(data) if data is not None else None)
    bad = verify(changed)
    assert bad.returncode == 1
    assert f"CHANGED: {target}" in bad.stderr
    assert "report.html" not in bad.stderr  # only the changed file is named
    assert verify(archive).returncode == 0


def test_with_suppression_no_count_below_k_in_the_archive(first_run):
    """Every table and the report in the archive: counts 1-4 appear only as <5."""
    counts = ("n", "n_cases", "n_controls", "n_called", "n_samples", "n_hom_other", "n_het", "n_hom_effect")
    counts += ("n_carriers", "n_missing", "n_heteroplasmic", "n_het_haploid", "n_other_allele", "n_low_gp")
    shown_small = 0
    with tarfile.open(first_run["archive"], "r:gz") as tar:
        members = {
            m.name: tar.extractfile(m).read().decode()
            for m in tar
            if m.isfile() and not m.name.endswith(".pdf")
        }
    for name, text in members.items():
        if name.endswith(".tsv"):
            table = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
            for col in set(counts) & set(table.columns):
                values = table[col]
                shown_small += int((values == "<5").sum())
                numeric = pd.to_numeric(values, errors="coerce")
                assert not ((numeric > 0) & (numeric < 5)).any(), (name, col)
            for col in {"genotype_counts", "alleles_observed", "note", "reason"} & set(table.columns):
                assert not table[col].str.contains(r"(?:=|:)[1-4]\b", regex=True).any(), (name, col)
        elif name.endswith("report.html"):
            spans = re.findall(r'<span class="n"[^>]*>([^<]*)</span>', text)
            assert spans and "<5" not in spans  # escaped in HTML
            assert "&lt;5" in spans
            for value in spans:
                assert value in ("", "0", "&lt;5", "suppressed") or int(value) >= 5, value
    assert shown_small > 0  # the mtDNA carrier cells of a 300-sample cohort are small


def test_interrupted_run_leaves_earlier_runs_intact_and_no_partial_archive(first_run):
    tmp, run, snakefile = first_run["tmp"], first_run["run"], first_run["snakefile"]
    runs_before = tree_digest(run)
    archives = tmp / "results" / "archive"
    archive_before = tree_digest(archives)
    index = tmp / "results" / "runs" / "index.tsv"
    index_before = index.read_bytes()

    raw = small_config(seed=11, outdir="results/synthetic/seed11")
    raw["cohort"]["vcf"] = [p.replace("synthetic-eur", "seed11") for p in raw["cohort"]["vcf"]]
    raw["cohort"]["phenotypes"] = raw["cohort"]["phenotypes"].replace("synthetic-eur", "seed11")
    cfg = write_config(tmp / "b.yaml", raw)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(tmp)]
    cmd += ["--cores", "2", "--configfile", str(cfg)]
    proc = subprocess.Popen(
        cmd,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so the jobs it started are killed too
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )
    new_run = None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            others = [p for p in (tmp / "results" / "runs").glob("synthetic-eur-*") if p != run]
            if others and list((others[0] / "logs").glob("associate.*.log")):
                new_run = others[0]
                break
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)
    assert new_run is not None, "the second run never reached the association jobs"
    assert proc.returncode != 0  # it was interrupted, not finished

    assert tree_digest(run) == runs_before
    assert tree_digest(archives) == archive_before
    assert sorted(os.listdir(archives)) == [f"{run.name}.tar.gz"]
    leftovers = [p for p in (tmp / "results").rglob("*") if ".partial" in p.name]
    assert leftovers == []
    assert not (new_run / "manifest.json").exists()
    assert index.read_bytes() == index_before

    # a rerun with the same config completes, and still leaves the first run alone
    done = snakemake(tmp, "--snakefile", str(snakefile), "--cores", "2", "--configfile", str(cfg))
    assert done.returncode == 0, done.stderr[-5000:]
    archive2 = archives / f"{new_run.name}.tar.gz"
    assert archive2.is_file() and verify(archive2).returncode == 0
    assert tree_digest(run) == runs_before
    assert {k: v for k, v in tree_digest(archives).items() if k in archive_before} == archive_before
    rows = pd.read_csv(index, sep="\t")
    assert list(rows["run_id"]) == [run.name, new_run.name]
    assert set(rows["status"]) == {"complete"}
