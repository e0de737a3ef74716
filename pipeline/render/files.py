"""Artifacts appear whole or not at all.

Everything the build writes into the output folder goes through `write_atomic`: the bytes go to
a temporary file beside the target (`.<name>.<8 random characters>.tmp`), are flushed to disk,
and the file is renamed over the target in one step. A build killed at any moment (SIGKILL, a
power cut after the data reached the disk) leaves either the previous file or the new one,
never half of one; what it does leave is a temporary file, which `stale_temporaries` finds so
the next build can remove it.
"""

from __future__ import annotations

import contextvars
import errno
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

# While a render is recorded (for the build cache), each file written and its sha256.
_written: contextvars.ContextVar[list[tuple[Path, str]] | None] = contextvars.ContextVar("written", default=None)

# write_atomic's temporary names: mkstemp adds 8 characters from [a-z0-9_].
TEMPORARY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside the target and rename: a reader (or a crash) never sees half a file.

    Any failure (read-only folder, full disk, a file where a folder must be) is an OSError whose
    filename is the target, not the temporary file, so the message names what could not be written.
    """
    try:
        make_folder(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise OSError(err.errno, err.strerror or str(err), str(path)) from err
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        files = _written.get()
        if files is not None:
            files.append((path, hashlib.sha256(data).hexdigest()))
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise


def make_folder(folder: Path) -> None:
    """mkdir -p, where a file in the way is 'Not a directory' rather than a puzzling 'File exists'."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as err:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from err


def stale_temporaries(folder: Path) -> Iterator[Path]:
    """write_atomic's temporary files under ``folder`` (not following links): what a killed build left."""
    for parent, _dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            if TEMPORARY.match(name):
                yield Path(parent) / name


def recorded(run, *args):
    """Run ``run(*args)``; return its result and the files it wrote with write_atomic (path, sha256)."""
    files: list[tuple[Path, str]] = []
    token = _written.set(files)
    try:
        return run(*args), files
    finally:
        _written.reset(token)
