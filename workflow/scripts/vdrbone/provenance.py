"""Provenance: run ids and fingerprints, the run manifest, the run archive, the run index and
``python -m vdrbone verify``.

A run is a function of (config, input files, workflow code). Its id is the cohort name plus
a fingerprint of those three, so an unchanged rerun resolves to the same run folder (and
Snakemake has nothing to do) while any change gets a new folder and leaves earlier runs alone.

Every run writes into ``results/runs/<run_id>/``. At the end of a run the manifest records what
was run (resolved config, command line, workflow commit, package versions, host platform), on
what (every input with its size and SHA-256) and what came out (every shareable output, with its
path relative to the run folder, size and SHA-256). The archive is a deterministic ``.tar.gz``
holding ``<run_id>/manifest.json`` and the shareable outputs; it is written once and never
overwritten, and it never holds individual-level data (anything under ``work/`` or a call table
``calls*.tsv*``). ``verify`` recomputes every checksum inside an archive against its manifest.

Checksums are SHA-256 (FIPS 180-4), as in the GWAS-SSF metadata sidecar.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fcntl
import fnmatch
import gzip
import hashlib
import importlib.metadata
import io
import json
import math
import os
import platform
import subprocess
import sys
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath, PurePosixPath

import vdrbone
from vdrbone.errors import InputError
from vdrbone.files import CHUNK_SIZE, atomic_path, sha256_file, write_bytes_atomic
from vdrbone.settings import run_inputs

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
PACKAGES = (
    "snakemake",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "scikit-allel",
    "cyvcf2",
    "pysam",
    "matplotlib",
    "jinja2",
    "weasyprint",
)
RUN_RECORD = "run.json"
_CODE_SUFFIXES = {".py", ".smk", ".yaml", ".yml", ".rst", ".html", ".j2", ".css", ".tsv"}
INDIVIDUAL_LEVEL_DIR = "work"
INDIVIDUAL_LEVEL_PATTERNS = ("calls*.tsv*",)
INDEX_COLUMNS = ("run_id", "date_utc", "cohort", "n_samples", "status", "archive")
UNKNOWN = "unknown"


# --------------------------------------------------------------------------- run ids


def code_files(workflow_dir: str | Path) -> list[Path]:
    """Files whose content defines what the workflow computes (rules, scripts, schemas, panel)."""
    root = Path(workflow_dir)
    files = [root / "Snakefile"] if (root / "Snakefile").exists() else []
    for sub in ("workflow", "resources"):
        base = root / sub
        if base.is_dir():
            files += [
                p
                for p in base.rglob("*")
                if p.is_file() and p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts
            ]
    return sorted(files)


def fingerprint(config: dict, *, workflow_dir: str | Path, cache_path: str | None = None) -> str:
    """Hex sha256 over the config (without run_id), the input files' contents and the code.

    Files the simulator generates are represented by the simulate section of the config
    (the simulation is deterministic for a seed), so the fingerprint is the same before and
    after they exist.
    """
    cache: dict = {}
    if cache_path and os.path.exists(cache_path):
        try:
            with open(cache_path, encoding="utf-8") as fh:
                cache = json.load(fh)
        except (OSError, ValueError):
            cache = {}
    h = hashlib.sha256()
    cfg = {k: v for k, v in config.items() if k != "run_id"}
    h.update(json.dumps(cfg, sort_keys=True, default=str).encode())
    # The inputs by content: VCFs with their index files (an index is a rule input, so adding or
    # rebuilding one must not rerun an existing run), the phenotype table and the panel.
    inputs, generated = run_inputs(config)
    for path in inputs:
        h.update(path.encode())
        if path not in generated:
            h.update(sha256_file(path, cache).encode())
    root = Path(workflow_dir)
    for path in code_files(root):
        h.update(str(path.relative_to(root)).encode())
        h.update(sha256_file(path, cache).encode())
    if cache_path:
        try:
            write_bytes_atomic(json.dumps(cache).encode(), cache_path)
        except OSError:
            pass
    return h.hexdigest()


def check_run_folder(run_dir: str | Path, run_id: str, fp: str, *, archive: str | Path | None = None) -> None:
    """Refuse to reuse a run id whose folder holds a run with another fingerprint, or whose
    archive exists while its run folder is gone (the archive would be written anew)."""
    record = Path(run_dir) / RUN_RECORD
    if not record.exists():
        if archive is not None and Path(archive).exists():
            raise InputError(
                f"run_id {run_id!r}: the archive {archive} exists but its run folder {run_dir} is "
                "missing, so this run would write the archive anew. Archives are never overwritten: "
                "restore the run folder, move the archive away yourself, or set another run_id."
            )
        return
    try:
        previous = json.loads(record.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError) as exc:
        raise InputError(f"{record} is unreadable ({exc}); choose another run_id") from exc
    if previous != fp:
        raise InputError(
            f"run_id {run_id!r}: {run_dir} already holds a run made with a different configuration, "
            f"inputs or workflow code (fingerprint {previous[:10] if previous else '?'} there, "
            f"{fp[:10]} now). Runs are never overwritten: set a new run_id, or run_id: null to "
            "derive one."
        )


# --------------------------------------------------------------------------- checksums, JSON


def _json_bytes(obj) -> bytes:
    """Canonical JSON text of ``obj`` (2-space indent, key order kept, UTF-8, no NaN)."""
    return (json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def write_json_atomic(obj, path: str | os.PathLike) -> None:
    """Write ``obj`` as JSON to ``path`` atomically.

    The text goes to a temporary file in the same folder, is fsynced and then renamed over
    ``path`` (``os.replace``), so a reader sees the old file or the complete new one, never a
    partial one. NaN and infinity are refused (``ValueError``): they are not JSON. On any
    error the temporary file is removed and ``path`` is left as it was.
    """
    write_bytes_atomic(_json_bytes(obj), path, fsync=True)


def _jsonable(value, where: str = "config"):
    """A JSON-ready deep copy: tuples/sets to lists, paths to str, dates to ISO 8601.

    NaN becomes ``null``. Anything else that JSON cannot hold raises ``ValueError`` naming the
    key (``where``), rather than being silently turned into text.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, set | frozenset):
        return sorted(_jsonable(v, f"{where}[]") for v in value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return _jsonable(value.item(), where)
    raise ValueError(f"{where}: a {type(value).__name__} cannot be written to the manifest as JSON")


# --------------------------------------------------------------------------- paths and privacy


def _check_run_id(run_id) -> str:
    if not isinstance(run_id, str) or run_id in ("", ".", "..") or any(c in run_id for c in "/\\\0\n\r\t"):
        raise ValueError(f"run_id must be one non-empty folder name without '/', got {run_id!r}")
    return run_id


def _individual_level_reason(relpath: str) -> str | None:
    """Why a run-relative path holds individual-level data (``None`` when it is shareable)."""
    parts = PurePosixPath(relpath).parts
    if parts and parts[0].lower() == INDIVIDUAL_LEVEL_DIR:
        return f"it lies under {INDIVIDUAL_LEVEL_DIR}/ (individual-level working data)"
    name = parts[-1].lower() if parts else ""
    for pattern in INDIVIDUAL_LEVEL_PATTERNS:
        if fnmatch.fnmatchcase(name, pattern):
            return f"its name matches {pattern!r} (the individual-level call table)"
    return None


def _run_relative(path: str, run_dir: str) -> str:
    """``path`` (absolute, relative to the working directory, or relative to ``run_dir``) as a
    POSIX path relative to ``run_dir``; ``ValueError`` when it lies outside the run folder."""
    path = os.fspath(path)
    run_abs = os.path.abspath(run_dir)
    if os.path.isabs(path):
        candidate = os.path.abspath(path)
    else:
        as_given = os.path.abspath(path)
        inside_as_given = os.path.commonpath([as_given, run_abs]) == run_abs and as_given != run_abs
        candidate = as_given if inside_as_given else os.path.abspath(os.path.join(run_dir, path))
    rel = os.path.relpath(candidate, run_abs)
    if rel == "." or rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        raise ValueError(f"{path}: not inside the run folder {run_dir}")
    return PurePosixPath(*PurePath(rel).parts).as_posix()


def _shareable_file(relpath: str, run_dir: str) -> str:
    """``run_dir``/``relpath``, a shareable file of the run; ``ValueError`` for individual-level data.

    Both the path as named and the file it resolves to (through symbolic links) are checked,
    so a link in ``tables/`` that points into ``work/`` is refused too.
    """
    reason = _individual_level_reason(relpath)
    if reason is None:
        real = os.path.realpath(os.path.join(run_dir, relpath))
        real_run = os.path.realpath(run_dir)
        if os.path.commonpath([real, real_run]) != real_run:
            reason = f"it resolves to {real}, outside the run folder"
        else:
            real_rel = os.path.relpath(real, real_run)
            resolved_reason = _individual_level_reason(real_rel)
            if resolved_reason is not None:
                reason = f"it resolves to {real_rel} and {resolved_reason}"
    if reason is not None:
        raise ValueError(
            f"{relpath}: refused as a shareable output because {reason}; "
            "individual-level data never leave the run folder"
        )
    full = os.path.join(run_dir, relpath)
    if not os.path.isfile(full):
        raise ValueError(f"{full}: not a regular file")
    return full


def _infer_run_dir(outputs: Sequence[str], run_id: str) -> str:
    """The run folder: the deepest ancestor named ``run_id`` of the first output."""
    if not outputs:
        raise ValueError("no outputs given and no run_dir: cannot tell where the run folder is")
    parts = PurePath(os.path.abspath(outputs[0])).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == run_id:
            return str(PurePath(*parts[: i + 1]))
    raise ValueError(f"{outputs[0]}: no folder named {run_id!r} in its path; pass run_dir=")


def _file_record(path: str, shown: str) -> dict:
    size = os.stat(path).st_size
    return {"path": shown, "size": size, "sha256": sha256_file(path)}


# --------------------------------------------------------------------------- provenance


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_utc(text: str, what: str) -> _dt.datetime:
    try:
        when = _dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(
            f"{what}: expected an ISO 8601 UTC time such as 2026-11-26T16:05:26Z, got {text!r}"
        ) from None
    if when.utcoffset() != _dt.timedelta(0):
        raise ValueError(f"{what}: expected a UTC time (ending in Z or +00:00), got {text!r}")
    return when


def collect_versions(packages: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    """Python, vdrbone and installed package versions (``None`` for a package not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version(), "vdrbone": vdrbone.__version__}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(workflow_dir: str, *args: str) -> str | None:
    """stdout of ``git -C workflow_dir args`` or ``None`` when git fails or is not installed."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")  # never take the index lock
    try:
        done = subprocess.run(
            ["git", "-C", workflow_dir, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(workflow_dir: str | os.PathLike) -> dict[str, str | bool]:
    """The workflow's git commit and whether its working tree has changes (untracked included).

    Both are ``"unknown"`` when ``workflow_dir`` is not in a git checkout or git is missing.
    """
    workflow_dir = os.fspath(workflow_dir)
    head = _git(workflow_dir, "rev-parse", "HEAD")
    commit = head.strip() if head else ""
    if not commit:
        return {"commit": UNKNOWN, "dirty": UNKNOWN}
    status = _git(workflow_dir, "status", "--porcelain")
    return {"commit": commit, "dirty": UNKNOWN if status is None else bool(status.strip())}


def build_manifest(
    *,
    run_id: str,
    config: Mapping,
    inputs: Sequence[str],
    outputs: Sequence[str],
    started_utc: str,
    command: Sequence[str] | None = None,
    workflow_dir: str,
    package_versions: Sequence[str] = PACKAGES,
    run_dir: str | None = None,
) -> dict:
    """The run manifest, a JSON-ready dict.

    Parameters
    ----------
    run_id : the run's id; the run folder is named after it.
    config : the resolved config (after schema defaults); stored as a JSON deep copy.
    inputs : input files (VCFs, indexes, phenotypes, panel...), recorded as given with size and
        SHA-256.
    outputs : shareable output files of the run, recorded with their path relative to the run
        folder (POSIX separators), size and SHA-256, sorted by path. Paths may be absolute,
        relative to the working directory or relative to the run folder. Anything under
        ``work/`` or named ``calls*.tsv*`` is refused (``ValueError``).
    started_utc : start time, ISO 8601 UTC (``...Z``). The end time is now.
    command : the command line; ``sys.argv`` when not given.
    workflow_dir : a folder of the workflow checkout, for ``git rev-parse HEAD`` and
        ``git status --porcelain`` (``"unknown"`` outside git, never an error).
    package_versions : pip names whose installed versions are recorded.
    run_dir : the run folder; by default the deepest folder named ``run_id`` in the outputs'
        paths.

    Returns
    -------
    dict with keys ``manifest_version, run_id, started_utc, finished_utc, command, workflow
    (git_commit, git_dirty), platform (platform, machine, python_implementation), versions,
    config, inputs, outputs``.
    """
    _check_run_id(run_id)
    _parse_utc(started_utc, "started_utc")
    if run_dir is None:
        run_dir = _infer_run_dir(outputs, run_id)
    if not os.path.isdir(run_dir):
        raise ValueError(f"{run_dir}: the run folder does not exist")
    input_records = []
    for path in dict.fromkeys(os.fspath(p) for p in inputs):
        if not os.path.isfile(path):
            raise ValueError(f"{path}: input is not a regular file")
        input_records.append(_file_record(path, path))
    relpaths = sorted({_run_relative(p, run_dir) for p in outputs})
    if MANIFEST_NAME in relpaths:
        raise ValueError(f"{MANIFEST_NAME} is written by the archive itself; do not list it as an output")
    output_records = [_file_record(_shareable_file(rel, run_dir), rel) for rel in relpaths]
    git = git_state(workflow_dir)
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "started_utc": started_utc,
        "finished_utc": _utc_now(),
        "command": [str(a) for a in (sys.argv if command is None else command)],
        "workflow": {"git_commit": git["commit"], "git_dirty": git["dirty"]},
        "platform": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
        },
        "versions": collect_versions(package_versions),
        "config": _jsonable(config),
        "inputs": input_records,
        "outputs": output_records,
    }


# --------------------------------------------------------------------------- archive


class _HashingReader:
    """A read-only file wrapper that feeds everything read through SHA-256."""

    def __init__(self, handle):
        self._handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.digest.update(data)
        return data


def _tarinfo(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def _write_tar_gz(handle, run_id: str, manifest: dict, files: list[tuple[str, str]], mtime: int) -> None:
    """Deterministic tar.gz: manifest first, then ``files`` (relpath, full path) in that order."""
    by_path = {o["path"]: o for o in manifest["outputs"]}
    with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=mtime, compresslevel=9) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = _json_bytes(manifest)
            tar.addfile(_tarinfo(f"{run_id}/{MANIFEST_NAME}", len(data), mtime), io.BytesIO(data))
            for rel, full in files:
                with open(full, "rb") as src:
                    size = os.fstat(src.fileno()).st_size
                    reader = _HashingReader(src)
                    tar.addfile(_tarinfo(f"{run_id}/{rel}", size, mtime), reader)
                expected = by_path[rel]
                if reader.digest.hexdigest() != expected["sha256"] or size != expected["size"]:
                    raise ValueError(f"{full}: changed since the manifest was written (SHA-256 differs)")


def _exists_error(archive_path: str) -> FileExistsError:
    return FileExistsError(
        f"{archive_path} already exists and is never overwritten: runs are immutable, so each "
        "run gets its own archive. Use a new run id (or move the old archive away by hand)."
    )


def write_archive(run_dir: str, members: Sequence[str], manifest: dict, archive_path: str) -> str:
    """Write the run archive: ``<run_id>/manifest.json`` plus the shareable ``members``.

    ``members`` are paths relative to ``run_dir`` (absolute paths, or paths relative to the
    working directory that lie in ``run_dir``, are accepted too) and must be exactly the
    manifest's outputs; each file's SHA-256 is checked against the manifest while it is archived.
    Anything under ``work/`` or named ``calls*.tsv*`` is refused (``ValueError``).

    The tar is deterministic: manifest first, then members sorted by path, every mtime set to the
    manifest's ``finished_utc``, uid/gid 0, no user or group names, PAX format, gzip header
    without file name and with the same mtime; the same inputs give the same bytes.

    The archive is written to a temporary file in the destination folder, fsynced, and then
    hard-linked to ``archive_path``, which fails if that name exists: an existing archive is
    never overwritten (``FileExistsError``), even by a concurrent writer. On any error the
    temporary file is removed and no archive is left behind.

    Returns
    -------
    str : ``archive_path``.
    """
    archive_path = os.fspath(archive_path)
    run_id = _check_run_id(manifest.get("run_id"))
    mtime = int(_parse_utc(manifest.get("finished_utc"), "manifest finished_utc").timestamp())
    if os.path.lexists(archive_path):
        raise _exists_error(archive_path)
    relpaths = sorted({_run_relative(m, run_dir) for m in members})
    files = [(rel, _shareable_file(rel, run_dir)) for rel in relpaths]
    listed = {o["path"] for o in manifest.get("outputs", [])}
    if set(relpaths) != listed:
        not_listed = sorted(set(relpaths) - listed)
        not_given = sorted(listed - set(relpaths))
        raise ValueError(
            "archive members must be exactly the manifest's outputs: "
            f"not in the manifest: {not_listed or 'none'}; "
            f"in the manifest but not given: {not_given or 'none'}"
        )
    try:
        with atomic_path(archive_path, fsync=True, overwrite=False) as tmp, open(tmp, "wb") as handle:
            _write_tar_gz(handle, run_id, manifest, files, mtime)
    except FileExistsError:
        raise _exists_error(archive_path) from None
    return archive_path


# --------------------------------------------------------------------------- verify


def _read_archive(archive_path: str) -> tuple[dict[str, list[str | None]], dict[str, bytes]]:
    """SHA-256 of every member (``None`` for a non-regular member) and the bytes of every
    top-level ``*/manifest.json``; ``InputError`` when the file is missing or not a tar.gz."""
    digests: dict[str, list[str | None]] = {}
    manifests: dict[str, bytes] = {}
    try:
        with tarfile.open(archive_path, mode="r:gz") as tar:
            for info in tar:
                if info.isdir():
                    continue
                digest = None
                if info.isreg():
                    parts = PurePosixPath(info.name).parts
                    is_manifest = len(parts) == 2 and parts[1] == MANIFEST_NAME
                    handle = tar.extractfile(info)
                    hasher = hashlib.sha256()
                    chunks = []
                    while chunk := handle.read(CHUNK_SIZE):
                        hasher.update(chunk)
                        if is_manifest:
                            chunks.append(chunk)
                    digest = hasher.hexdigest()
                    if is_manifest:
                        manifests[info.name] = b"".join(chunks)
                digests.setdefault(info.name, []).append(digest)
    except FileNotFoundError:
        raise InputError(f"{archive_path}: archive not found") from None
    except (OSError, EOFError, tarfile.TarError) as exc:
        raise InputError(f"{archive_path}: not a readable .tar.gz archive ({exc})") from None
    return digests, manifests


def _parse_manifest(manifests: dict[str, bytes]) -> tuple[dict | None, str | None]:
    """The archive's manifest, or ``None`` with the reason it cannot be used."""
    if len(manifests) != 1:
        found = ", ".join(sorted(manifests)) or "none"
        return None, f"expected exactly one <run_id>/{MANIFEST_NAME}, found {found}"
    ((name, data),) = manifests.items()
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{name} is not valid JSON ({exc})"
    top = PurePosixPath(name).parts[0]
    if not isinstance(manifest, dict) or manifest.get("run_id") != top:
        return None, f"{name}: run_id does not match the archive's top folder {top!r}"
    outputs = manifest.get("outputs")
    good = isinstance(outputs, list) and all(
        isinstance(o, dict) and isinstance(o.get("path"), str) and isinstance(o.get("sha256"), str)
        for o in outputs
    )
    if not good:
        return None, f"{name}: 'outputs' is not a list of {{path, size, sha256}} records"
    return manifest, None


def _check_archive(archive_path: str) -> tuple[dict | None, list[str]]:
    digests, manifests = _read_archive(archive_path)
    manifest, reason = _parse_manifest(manifests)
    if manifest is None:
        return None, [f"MANIFEST UNREADABLE: {reason}"]
    run_id = manifest["run_id"]
    problems = []
    expected = {f"{run_id}/{MANIFEST_NAME}"}
    for record in manifest["outputs"]:
        name = f"{run_id}/{record['path']}"
        expected.add(name)
        found = digests.get(name)
        if _individual_level_reason(record["path"]) is not None:
            problems.append(f"FORBIDDEN: {name} (individual-level data must not be archived)")
        if found is None:
            problems.append(f"MISSING: {name}")
        elif len(found) > 1:
            problems.append(f"DUPLICATE: {name} ({len(found)} members of that name)")
        elif found[0] != record["sha256"]:
            problems.append(f"CHANGED: {name}")
    problems += [f"UNEXPECTED: {name}" for name in sorted(set(digests) - expected)]
    return manifest, problems


def verify_archive(archive_path: str | os.PathLike) -> list[str]:
    """Check a run archive against the manifest it contains.

    Every output listed in ``<run_id>/manifest.json`` is hashed (SHA-256) inside the archive and
    compared with the manifest. Returns the problems, one string each, empty when all is well:
    ``CHANGED: <member>``, ``MISSING: <member>``, ``DUPLICATE: <member>``, ``UNEXPECTED: <member>``
    (a member the manifest does not list), ``FORBIDDEN: <member>`` (individual-level data listed)
    and ``MANIFEST UNREADABLE: <reason>``. A missing file or one that is not a tar.gz raises
    :class:`~vdrbone.errors.InputError`.
    """
    return _check_archive(os.fspath(archive_path))[1]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vdrbone verify <archive.tar.gz>``: 0 when it matches, 1 on problems, 2 when
    the archive cannot be read."""
    parser = argparse.ArgumentParser(
        prog="python -m vdrbone verify",
        description="Check a run archive: recompute the SHA-256 of every file against its manifest.",
    )
    parser.add_argument("archive", help="the run archive (.tar.gz) written at the end of a run")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        manifest, problems = _check_archive(args.archive)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"FAILED: {len(problems)} problem(s) in {args.archive}", file=sys.stderr)
        return 1
    print(f"OK: {len(manifest['outputs'])} files match the manifest (run {manifest['run_id']})")
    return 0


# --------------------------------------------------------------------------- run index


def append_run_index(index_path: str | os.PathLike, row: Mapping) -> None:
    """Append one row to the run index (``results/runs/index.tsv``).

    Columns: ``run_id, date_utc, cohort, n_samples, status, archive`` (``None`` is written as an
    empty field). The file is created with its header when absent; earlier lines are never
    rewritten. An exclusive ``fcntl.flock`` held from the header check to the fsync keeps
    concurrent runs from interleaving or writing the header twice.
    """
    index_path = os.fspath(index_path)
    missing = [c for c in INDEX_COLUMNS if c not in row]
    extra = [c for c in row if c not in INDEX_COLUMNS]
    if missing or extra:
        raise ValueError(f"run index row: missing columns {missing}, unknown columns {extra}")
    fields = []
    for column in INDEX_COLUMNS:
        value = "" if row[column] is None else str(row[column])
        if any(c in value for c in "\t\n\r"):
            raise ValueError(f"run index row: {column}={value!r} contains a tab or line break")
        fields.append(value)
    header = "\t".join(INDEX_COLUMNS) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(index_path)), exist_ok=True)
    with open(index_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            size = os.fstat(handle.fileno()).st_size
            text = ""
            if size == 0:
                text = header
            else:
                handle.seek(0)
                first = handle.readline().decode("utf-8", errors="replace")
                if first.rstrip("\r\n") != header.rstrip("\n"):
                    raise InputError(
                        f"{index_path}, line 1: expected the header {header.strip()!r}, "
                        f"found {first.rstrip()!r}"
                    )
                handle.seek(size - 1)
                if handle.read(1) != b"\n":  # an earlier writer died mid-line: start a new one
                    text = "\n"
            text += "\t".join(fields) + "\n"
            handle.write(text.encode("utf-8"))  # "a" mode: always at the end of the file
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
