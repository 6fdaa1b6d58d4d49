"""Files: the one atomic-write helper and the one SHA-256 helper of the package.

Every table, JSON record, shareable copy and archive is written through :func:`atomic_path`:
the bytes go to a temporary file in the destination folder, are flushed to disk and then
renamed over the destination (``os.replace``), so a reader sees the old file or the complete
new one, never a partial one; on any error the temporary file is removed and the destination
is left as it was. Checksums are SHA-256 (FIPS 180-4), as in the GWAS-SSF metadata sidecar.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

CHUNK_SIZE = 1 << 20  # 1 MiB


def fsync_dir(directory: str | os.PathLike) -> None:
    """Flush a directory entry (a rename or link) to disk; a no-op where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _claim(tmp: str, path: str) -> None:
    """Move the finished ``tmp`` to ``path`` without ever replacing an existing file.

    ``os.link`` fails atomically when the name exists (``FileExistsError``). Where hard links
    are not supported, the name is first reserved with ``O_CREAT | O_EXCL`` and then replaced by
    the finished file.
    """
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise
    except OSError:
        pass  # no hard links on this file system
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(path)
        raise


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike, *, suffix: str = "", fsync: bool = False, overwrite: bool = True
) -> Iterator[str]:
    """Yield a temporary path beside ``path``; when the block succeeds, move it to ``path``.

    Parameters
    ----------
    path : the destination; its folder is created when missing.
    suffix : ending of the temporary name (``.gz`` lets pandas infer the compression).
    fsync : flush the file and the folder entry to disk (manifests and archives).
    overwrite : ``False`` never replaces an existing ``path``: the finished file is hard-linked
        to it, which fails atomically with ``FileExistsError`` when the name exists.

    On any error (in the block or in the move) the temporary file is removed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # a fresh name, created with the default mode (0666 less the umask), as open() would
    tmp = os.path.join(
        directory, f".{os.path.basename(path)}.partial-{os.getpid()}-{secrets.token_hex(4)}{suffix}"
    )
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _claim(tmp, path)
        if fsync:
            fsync_dir(directory)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes_atomic(data: bytes, path: str | os.PathLike, *, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path, fsync=fsync) as tmp:
        Path(tmp).write_bytes(data)


def sha256_file(path: str | os.PathLike, cache: dict | None = None) -> str:
    """SHA-256 hex digest of a file's bytes, read in 1 MiB chunks (constant memory).

    With ``cache`` (a dict, e.g. the run's ``.snakemake/vdrbone-sha256-cache.json``) the digest
    is memoised by (absolute path, size, modification time in ns), so an unchanged file is
    read once.
    """
    key = None
    if cache is not None:
        st = os.stat(path)
        key = f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}"
        if key in cache:
            return cache[key]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    value = digest.hexdigest()
    if key is not None:
        cache[key] = value
    return value
