"""Tests for vdrbone.provenance: manifest contents, the immutable deterministic archive, verify, run index."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import re
import subprocess
import sys
import tarfile
import threading
import time
from datetime import datetime

import pytest

import vdrbone
from vdrbone import provenance as mf
from vdrbone.errors import InputError
from vdrbone.files import CHUNK_SIZE, sha256_file

RUN_ID = "synthetic-eur-3f9a1c"
STARTED = "2026-11-26T16:00:00Z"
ASSOCIATION = b"variant\tp_value\nrs731236\t0.0123\n"
REPORT = b"<html><body>aggregate only</body></html>\n"


@pytest.fixture(autouse=True)
def _no_enclosing_git(tmp_path, monkeypatch):
    # tmp_path must never be seen as part of some enclosing git checkout.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


@pytest.fixture
def run(tmp_path):
    """A run folder with two shareable outputs, individual-level work files and two inputs."""
    run_dir = tmp_path / "results" / "runs" / RUN_ID
    (run_dir / "tables").mkdir(parents=True)
    (run_dir / "report").mkdir()
    (run_dir / "work").mkdir()
    (run_dir / "tables" / "association.tsv").write_bytes(ASSOCIATION)
    (run_dir / "report" / "report.html").write_bytes(REPORT)
    (run_dir / "work" / "calls.tsv").write_bytes(b"sample\trs731236\nP001\tAG\n")
    (run_dir / "tables" / "calls_chr12.tsv.gz").write_bytes(b"\x1f\x8b individual")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    big = inputs / "chr12.vcf.gz"
    big.write_bytes(bytes(range(256)) * 10_000)  # 2.56 MB: spans several 1 MiB chunks
    (inputs / "phenotypes.tsv").write_bytes(b"participant\tgender\nP001\tF\n")
    return run_dir


def _manifest(rundir, tmp_path, **options):
    options = {
        "run_id": RUN_ID,
        "config": {"cohort": {"name": "synthetic-eur", "vcf": ("a.vcf.gz",)}, "qc": {"hwe_p": 1e-6}},
        "inputs": [str(tmp_path / "inputs" / "chr12.vcf.gz"), str(tmp_path / "inputs" / "phenotypes.tsv")],
        "outputs": [str(rundir / "tables" / "association.tsv"), str(rundir / "report" / "report.html")],
        "started_utc": STARTED,
        "command": ["snakemake", "--cores", "1"],
        "workflow_dir": str(tmp_path),
        **options,
    }
    return mf.build_manifest(**options)


def _archive(run_dir, tmp_path, name="run.tar.gz"):
    manifest = _manifest(run_dir, tmp_path)
    path = str(tmp_path / name)
    mf.write_archive(str(run_dir), ["tables/association.tsv", "report/report.html"], manifest, path)
    return path, manifest


def _rewrite(src, dst, *, change=None, drop=None, add=None):
    """Copy a tar.gz member by member, altering one member's bytes, dropping or adding one."""
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        for info in tin:
            data = tin.extractfile(info).read()
            if info.name == drop:
                continue
            if info.name == change:
                data = bytes([data[0] ^ 0x01]) + data[1:]
            tout.addfile(info, io.BytesIO(data))
        if add:
            info = tarfile.TarInfo(add[0])
            info.size = len(add[1])
            tout.addfile(info, io.BytesIO(add[1]))
    return dst


def _leftovers(folder):
    return sorted(p for p in os.listdir(folder) if ".partial-" in p)


# --------------------------------------------------------------------------- checksums and manifest


def test_sha256_file_matches_hashlib_across_chunks(tmp_path):
    data = os.urandom(CHUNK_SIZE * 2 + 17)
    (tmp_path / "x").write_bytes(data)
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(tmp_path / "x") == hashlib.sha256(data).hexdigest()
    assert sha256_file(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()


def test_manifest_records_checksums_sizes_versions_and_provenance(run, tmp_path):
    manifest = _manifest(run, tmp_path)
    json.dumps(manifest, allow_nan=False)  # JSON-serialisable as it stands

    assert manifest["run_id"] == RUN_ID
    assert manifest["started_utc"] == STARTED
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["finished_utc"])
    assert manifest["finished_utc"] >= STARTED
    assert manifest["command"] == ["snakemake", "--cores", "1"]
    assert manifest["config"] == {
        "cohort": {"name": "synthetic-eur", "vcf": ["a.vcf.gz"]},
        "qc": {"hwe_p": 1e-6},
    }

    for record in manifest["inputs"]:
        data = open(record["path"], "rb").read()
        assert record["size"] == len(data)
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert [os.path.basename(r["path"]) for r in manifest["inputs"]] == ["chr12.vcf.gz", "phenotypes.tsv"]
    assert manifest["inputs"][0]["size"] == 2_560_000

    assert manifest["outputs"] == [
        {"path": "report/report.html", "size": len(REPORT), "sha256": hashlib.sha256(REPORT).hexdigest()},
        {
            "path": "tables/association.tsv",
            "size": len(ASSOCIATION),
            "sha256": hashlib.sha256(ASSOCIATION).hexdigest(),
        },
    ]

    versions = manifest["versions"]
    assert versions["python"] == platform.python_version()
    assert versions["vdrbone"] == vdrbone.__version__
    for name in mf.PACKAGES:
        assert versions[name] == importlib.metadata.version(name), name
    assert manifest["platform"] == {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python_implementation": platform.python_implementation(),
    }
    assert manifest["workflow"] == {"git_commit": "unknown", "git_dirty": "unknown"}


def test_manifest_defaults_and_output_path_forms(run, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["snakemake", "-n"])
    monkeypatch.chdir(tmp_path)
    manifest = _manifest(
        run,
        tmp_path,
        command=None,
        # relative to the working directory, and relative to the run folder with run_dir given
        outputs=[f"results/runs/{RUN_ID}/tables/association.tsv", "report/report.html"],
        run_dir=f"results/runs/{RUN_ID}",
        package_versions=["numpy", "no-such-package-vdrbone"],
    )
    assert manifest["command"] == ["snakemake", "-n"]
    assert [o["path"] for o in manifest["outputs"]] == ["report/report.html", "tables/association.tsv"]
    assert manifest["versions"]["numpy"] == importlib.metadata.version("numpy")
    assert manifest["versions"]["no-such-package-vdrbone"] is None
    assert "pandas" not in manifest["versions"]


def test_manifest_git_commit_and_dirty_flag_in_a_git_checkout(run, tmp_path):
    repo = tmp_path / "wf"
    repo.mkdir()
    (repo / "Snakefile").write_text("rule all:\n")

    def git(*args):
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repo), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q")
    git("add", "Snakefile")
    git("commit", "-q", "-m", "init")
    head = git("rev-parse", "HEAD")
    assert re.fullmatch(r"[0-9a-f]{40}", head)

    clean = _manifest(run, tmp_path, workflow_dir=str(repo))
    assert clean["workflow"] == {"git_commit": head, "git_dirty": False}
    (repo / "Snakefile").write_text("rule all:\n    input: []\n")
    dirty = _manifest(run, tmp_path, workflow_dir=str(repo))
    assert dirty["workflow"] == {"git_commit": head, "git_dirty": True}


def test_manifest_git_unknown_when_git_is_not_installed(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert (
        _manifest(run, tmp_path, workflow_dir=str(tmp_path / "missing"))["workflow"]["git_commit"]
        == "unknown"
    )


@pytest.mark.parametrize(
    "output, message",
    [
        ("work/calls.tsv", "under work/"),
        ("tables/calls_chr12.tsv.gz", "calls"),
        ("../../outside.tsv", "not inside the run folder"),
    ],
)
def test_manifest_refuses_individual_level_or_outside_outputs(run, tmp_path, output, message):
    (tmp_path / "results" / "outside.tsv").write_text("x\n")
    with pytest.raises(ValueError, match=message):
        _manifest(run, tmp_path, outputs=[output], run_dir=str(run))


def test_manifest_refuses_bad_start_time_and_unserialisable_config(run, tmp_path):
    with pytest.raises(ValueError, match="ISO 8601"):
        _manifest(run, tmp_path, started_utc="26/11/2026 16:00")
    with pytest.raises(ValueError, match="UTC"):
        _manifest(run, tmp_path, started_utc="2026-11-26T16:00:00+01:00")
    with pytest.raises(ValueError, match=r"config\.cohort\.handle: a object"):
        _manifest(run, tmp_path, config={"cohort": {"handle": object()}})


def test_write_json_atomic_round_trip_and_failure_leaves_old_file(tmp_path):
    path = tmp_path / "manifest.json"
    mf.write_json_atomic({"a": [1, 2], "b": "é"}, path)
    assert json.loads(path.read_text("utf-8")) == {"a": [1, 2], "b": "é"}
    before = path.read_bytes()
    with pytest.raises(ValueError):
        mf.write_json_atomic({"p": float("nan")}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- archive and verify


def test_archive_round_trip_layout_and_verify_ok(run, tmp_path, capsys):
    path, manifest = _archive(run, tmp_path)
    mtime = int(datetime.fromisoformat(manifest["finished_utc"]).timestamp())
    with tarfile.open(path, "r:gz") as tar:
        infos = tar.getmembers()
        assert [i.name for i in infos] == [
            f"{RUN_ID}/manifest.json",
            f"{RUN_ID}/report/report.html",
            f"{RUN_ID}/tables/association.tsv",
        ]
        assert {(i.uid, i.gid, i.uname, i.gname, i.mtime, i.mode) for i in infos} == {
            (0, 0, "", "", mtime, 0o644)
        }
        assert json.loads(tar.extractfile(infos[0]).read()) == manifest
        assert tar.extractfile(infos[2]).read() == ASSOCIATION
    assert _leftovers(tmp_path) == []

    assert mf.verify_archive(path) == []
    assert mf.main([path]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == f"OK: 2 files match the manifest (run {RUN_ID})"
    assert out.err == ""


def test_verify_names_exactly_the_changed_file(run, tmp_path, capsys):
    path, _ = _archive(run, tmp_path)
    bad = _rewrite(path, str(tmp_path / "changed.tar.gz"), change=f"{RUN_ID}/tables/association.tsv")
    assert mf.verify_archive(bad) == [f"CHANGED: {RUN_ID}/tables/association.tsv"]
    assert mf.main([bad]) == 1
    out = capsys.readouterr()
    assert f"CHANGED: {RUN_ID}/tables/association.tsv" in out.err.splitlines()
    assert "report.html" not in out.err
    assert out.out == ""


def test_verify_names_missing_and_unexpected_members(run, tmp_path, capsys):
    path, _ = _archive(run, tmp_path)
    dropped = _rewrite(path, str(tmp_path / "dropped.tar.gz"), drop=f"{RUN_ID}/report/report.html")
    assert mf.verify_archive(dropped) == [f"MISSING: {RUN_ID}/report/report.html"]
    added = _rewrite(path, str(tmp_path / "added.tar.gz"), add=(f"{RUN_ID}/work/calls.tsv", b"P001\tAG\n"))
    assert mf.verify_archive(added) == [f"UNEXPECTED: {RUN_ID}/work/calls.tsv"]
    assert mf.main([added]) == 1
    assert f"UNEXPECTED: {RUN_ID}/work/calls.tsv" in capsys.readouterr().err


def test_verify_reports_an_unreadable_manifest(run, tmp_path, capsys):
    path, _ = _archive(run, tmp_path)
    garbled = _rewrite(path, str(tmp_path / "garbled.tar.gz"), change=f"{RUN_ID}/manifest.json")
    problems = mf.verify_archive(garbled)
    assert len(problems) == 1 and problems[0].startswith("MANIFEST UNREADABLE:")
    no_manifest = _rewrite(path, str(tmp_path / "none.tar.gz"), drop=f"{RUN_ID}/manifest.json")
    assert mf.verify_archive(no_manifest) == [
        "MANIFEST UNREADABLE: expected exactly one <run_id>/manifest.json, found none"
    ]
    assert mf.main([no_manifest]) == 1


def test_verify_missing_or_corrupt_archive_exits_2(tmp_path, capsys):
    missing = str(tmp_path / "nope.tar.gz")
    assert mf.main([missing]) == 2
    assert f"{missing}: archive not found" in capsys.readouterr().err
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not gzip")
    assert mf.main([str(junk)]) == 2
    assert "not a readable .tar.gz archive" in capsys.readouterr().err
    with pytest.raises(InputError, match="archive not found"):
        mf.verify_archive(missing)


def test_verify_through_the_package_command_line(run, tmp_path):
    path, _ = _archive(run, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "vdrbone", "verify", path], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"OK: 2 files match the manifest (run {RUN_ID})"


def test_archive_is_never_overwritten(run, tmp_path):
    path, manifest = _archive(run, tmp_path)
    old = open(path, "rb").read()
    (run / "tables" / "association.tsv").write_bytes(b"changed\n")
    newer = _manifest(run, tmp_path)
    with pytest.raises(FileExistsError, match=r"run\.tar\.gz already exists.*runs are immutable"):
        mf.write_archive(str(run), ["tables/association.tsv", "report/report.html"], newer, path)
    assert open(path, "rb").read() == old
    assert _leftovers(tmp_path) == []


def test_archive_concurrent_writer_is_not_clobbered(run, tmp_path, monkeypatch):
    # Another writer creates the archive after our existence check, while ours is being written.
    manifest = _manifest(run, tmp_path)
    path = tmp_path / "run.tar.gz"
    real_fsync = os.fsync

    def fsync_then_race(fd):
        real_fsync(fd)
        if not path.exists():
            path.write_bytes(b"the other writer's archive")

    monkeypatch.setattr(mf.os, "fsync", fsync_then_race)
    with pytest.raises(FileExistsError, match="runs are immutable"):
        mf.write_archive(str(run), ["tables/association.tsv", "report/report.html"], manifest, str(path))
    assert path.read_bytes() == b"the other writer's archive"
    assert _leftovers(tmp_path) == []


def test_archive_fallback_without_hard_links_still_refuses_to_clobber(run, tmp_path, monkeypatch):
    manifest = _manifest(run, tmp_path)

    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(mf.os, "link", no_links)
    first = str(tmp_path / "a.tar.gz")
    mf.write_archive(str(run), ["tables/association.tsv", "report/report.html"], manifest, first)
    assert mf.verify_archive(first) == []
    path = tmp_path / "b.tar.gz"
    real_fsync = os.fsync

    def fsync_then_race(fd):
        real_fsync(fd)
        if not path.exists():
            path.write_bytes(b"other")

    monkeypatch.setattr(mf.os, "fsync", fsync_then_race)
    with pytest.raises(FileExistsError, match="runs are immutable"):
        mf.write_archive(str(run), ["tables/association.tsv", "report/report.html"], manifest, str(path))
    assert path.read_bytes() == b"other"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["addfile", "fsync"])
def test_failure_mid_write_leaves_no_archive_and_no_temp_file(run, tmp_path, monkeypatch, where):
    manifest = _manifest(run, tmp_path)
    if where == "addfile":
        real_addfile = tarfile.TarFile.addfile

        def addfile_then_fail(self, tarinfo, fileobj=None):
            if tarinfo.name.endswith("association.tsv"):
                raise OSError(28, "No space left on device")
            return real_addfile(self, tarinfo, fileobj)

        monkeypatch.setattr(tarfile.TarFile, "addfile", addfile_then_fail)
    else:

        def fsync_fails(fd):
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(mf.os, "fsync", fsync_fails)
    path = tmp_path / "run.tar.gz"
    with pytest.raises(OSError):
        mf.write_archive(str(run), ["tables/association.tsv", "report/report.html"], manifest, str(path))
    assert not path.exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "member, message",
    [
        ("work/calls.tsv", "under work/"),
        ("tables/calls_chr12.tsv.gz", r"calls\*\.tsv\*"),
        ("tables/link.tsv", "resolves to .*work"),
    ],
)
def test_archive_refuses_individual_level_data(run, tmp_path, member, message):
    (run / "tables" / "link.tsv").symlink_to(run / "work" / "calls.tsv")
    manifest = _manifest(run, tmp_path)
    path = tmp_path / "run.tar.gz"
    with pytest.raises(ValueError, match=message):
        mf.write_archive(str(run), ["tables/association.tsv", member], manifest, str(path))
    assert not path.exists()
    assert _leftovers(tmp_path) == []


def test_archive_members_must_match_the_manifest(run, tmp_path):
    manifest = _manifest(run, tmp_path)
    path = tmp_path / "run.tar.gz"
    with pytest.raises(ValueError, match=r"in the manifest but not given: \['report/report.html'\]"):
        mf.write_archive(str(run), ["tables/association.tsv"], manifest, str(path))
    (run / "tables" / "association.tsv").write_bytes(ASSOCIATION.replace(b"0.0123", b"0.0124"))
    with pytest.raises(ValueError, match="association.tsv: changed since the manifest was written"):
        mf.write_archive(str(run), ["tables/association.tsv", "report/report.html"], manifest, str(path))
    assert not path.exists()
    assert _leftovers(tmp_path) == []


def test_archive_bytes_are_deterministic(run, tmp_path, monkeypatch):
    manifest = _manifest(run, tmp_path)
    members = ["tables/association.tsv", "report/report.html"]
    first = mf.write_archive(str(run), members, manifest, str(tmp_path / "a.tar.gz"))
    os.utime(run / "tables" / "association.tsv", (1_000_000_000, 1_000_000_000))
    later = time.time() + 86_400  # a day later: no clock time may reach the tar or gzip headers
    monkeypatch.setattr(time, "time", lambda: later)
    # Same files named another way and in another order, into a differently named archive.
    second = mf.write_archive(
        str(run),
        [str(run / "report" / "report.html"), "tables/association.tsv"],
        manifest,
        str(tmp_path / "b.tar.gz"),
    )
    assert open(first, "rb").read() == open(second, "rb").read()


# --------------------------------------------------------------------------- run index


def _row(i, **changes):
    row = {
        "run_id": f"run{i}",
        "date_utc": "2026-11-26T16:00:00Z",
        "cohort": "synthetic-eur",
        "n_samples": 3000,
        "status": "ok",
        "archive": f"results/runs/run{i}.tar.gz",
    }
    return {**row, **changes}


def test_run_index_header_once_and_rows_appended(tmp_path):
    index = tmp_path / "results" / "runs" / "index.tsv"
    mf.append_run_index(index, _row(1))
    first = index.read_bytes()
    mf.append_run_index(str(index), _row(2, n_samples=None))
    text = index.read_text()
    assert index.read_bytes().startswith(first)
    assert text.splitlines() == [
        "run_id\tdate_utc\tcohort\tn_samples\tstatus\tarchive",
        "run1\t2026-11-26T16:00:00Z\tsynthetic-eur\t3000\tok\tresults/runs/run1.tar.gz",
        "run2\t2026-11-26T16:00:00Z\tsynthetic-eur\t\tok\tresults/runs/run2.tar.gz",
    ]


def test_run_index_concurrent_appends_do_not_interleave(tmp_path):
    index = tmp_path / "index.tsv"

    def writer(k):
        for i in range(25):
            mf.append_run_index(index, _row(f"{k}-{i}", cohort="c" * 2000))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = index.read_text().splitlines()
    assert lines[0].startswith("run_id\t") and len(lines) == 151
    assert sorted(line.split("\t")[0] for line in lines[1:]) == sorted(
        f"run{k}-{i}" for k in range(6) for i in range(25)
    )
    assert all(len(line.split("\t")) == 6 for line in lines)


def test_run_index_waits_for_the_exclusive_lock(tmp_path):
    index = tmp_path / "index.tsv"
    index.touch()
    with open(index, "ab") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        writer = threading.Thread(target=mf.append_run_index, args=(index, _row(1)))
        writer.start()
        writer.join(timeout=0.3)
        assert writer.is_alive() and index.read_bytes() == b""  # blocked while another run holds it
        fcntl.flock(holder.fileno(), fcntl.LOCK_UN)
    writer.join(timeout=10)
    assert not writer.is_alive()
    assert index.read_text().splitlines()[1].startswith("run1\t")


def test_run_index_rejects_bad_rows_and_a_foreign_header(tmp_path):
    index = tmp_path / "index.tsv"
    with pytest.raises(ValueError, match=r"missing columns \['archive'\]"):
        mf.append_run_index(index, {k: v for k, v in _row(1).items() if k != "archive"})
    with pytest.raises(ValueError, match="tab or line break"):
        mf.append_run_index(index, _row(1, cohort="a\tb"))
    index.write_text("id\tdate\n")
    with pytest.raises(InputError, match=r"index\.tsv, line 1: expected the header"):
        mf.append_run_index(index, _row(1))
    assert index.read_text() == "id\tdate\n"
