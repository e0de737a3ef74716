"""A content-addressed cache in the project's `.cache/`: never redo a render whose inputs are unchanged.

A key is the sha256 of everything a step depends on (its input bytes, the templates and
filters, the pipeline's own code, the Pandoc and Typst versions), so a changed input can
only miss, never hit stale. Stored bytes are named by their own sha256 and checked on every
read: a corrupted or foreign entry is ignored and the step simply runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from pipeline.render.files import write_atomic

PIPELINE = Path(__file__).resolve().parent
FORMAT_VERSION = b"paper-cache-1"

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(folders: Iterable[Path]) -> str:
    """Every file below the folders, by relative path and content (a missing folder counts as empty)."""
    digest = hashlib.sha256()
    for folder in folders:
        digest.update(str(folder).encode() + b"\0")
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(sha256(path.read_bytes()).encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def tool_digest() -> str:
    """The pipeline's own code and the versions of Pandoc and Typst: any change misses."""
    import typst

    from pipeline.render.pandoc import pandoc_path

    pandoc = Path(pandoc_path())
    stat = pandoc.stat() if pandoc.exists() else None
    versions = f"{getattr(typst, '__version__', '?')}:{pandoc}:{stat.st_size if stat else 0}"
    return sha256(FORMAT_VERSION + versions.encode() + tree_digest([PIPELINE]).encode())


# Never inputs: version control, caches, environments and the default output folder.
SKIPPED_ANYWHERE = frozenset({".git", ".hg", ".svn", ".cache", "__pycache__", "node_modules"})
SKIPPED_AT_TOP = frozenset({"build", ".venv", "venv", ".tox"})


def project_fingerprint(root: Path, read: Iterable[str], skip: Iterable[Path] = ()) -> str:
    """What the check and the build can see of the project, cheaply.

    The files every run reads anyway (``read``: paper.yml, the chapters, the bibliographies)
    count by content, so an edit is never missed, even within the file system's timestamp
    resolution. Every other file counts by path, size, mode and modification time, as make and
    ninja judge them: an image, a linked file, a template or a file appearing or going away all
    change the fingerprint. ``skip`` are more folders to leave out (an --out folder inside the
    project).
    """
    digest = hashlib.sha256()
    for rel in sorted(set(read)):
        try:
            data = (root / rel).read_bytes()
        except OSError as err:
            data = f"unreadable:{err.errno}".encode()
        digest.update(f"{rel}\0{sha256(data)}\n".encode())
    skipped = {os.path.normpath(str(path)) for path in skip}
    for folder, dirs, files in os.walk(root):
        top = folder == str(root)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_ANYWHERE and not (top and d in SKIPPED_AT_TOP)
                         and os.path.normpath(os.path.join(folder, d)) not in skipped)
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]):
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
                target = os.readlink(path) if os.path.islink(path) else ""
            except OSError:
                continue
            rel = os.path.relpath(path, root)
            digest.update(f"{rel}\0{st.st_size}:{st.st_mode}:{st.st_mtime_ns}:{target}\n".encode())
    return digest.hexdigest()


def key(*parts: bytes | str) -> str:
    digest = hashlib.sha256(tool_digest().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(str(len(data)).encode() + b":" + data)
    return digest.hexdigest()


class Cache:
    def __init__(self, folder: Path):
        self.folder = folder

    def _blob(self, digest: str) -> Path:
        return self.folder / "blobs" / digest[:2] / digest

    def _entry(self, name: str) -> Path:
        return self.folder / "entries" / name[:2] / name

    def get_bytes(self, digest: str) -> bytes | None:
        """The blob named ``digest``, only if its content still has that digest."""
        try:
            data = self._blob(digest).read_bytes()
        except OSError:
            return None
        return data if sha256(data) == digest else None

    def put_bytes(self, data: bytes) -> str:
        digest = sha256(data)
        if self.get_bytes(digest) is None:
            write_atomic(self._blob(digest), data)
        return digest

    def get_value(self, name: str) -> bytes | None:
        """A value stored under a key: the entry names a blob, which is checked."""
        try:
            digest = self._entry(name).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return self.get_bytes(digest) if len(digest) == 64 else None

    def put_value(self, name: str, data: bytes) -> None:
        try:
            write_atomic(self._entry(name), self.put_bytes(data).encode("ascii"))
        except OSError:  # a cache that cannot be written only costs time
            pass


def save_files(cache: Cache, name: str, out: Path, files: list[tuple[Path, str]], artifacts: list[Path]) -> None:
    """Store what a render wrote (paths relative to ``out``) and which of them are the artifacts."""
    try:
        for path, digest in files:
            data = path.read_bytes()
            if sha256(data) != digest:
                return  # changed under us: do not cache
            cache.put_bytes(data)
        record_ = {"files": [[path.relative_to(out).as_posix(), digest] for path, digest in files],
                   "artifacts": [p.relative_to(out).as_posix() for p in artifacts]}
        cache.put_value(name, json.dumps(record_, sort_keys=True).encode("utf-8"))
    except (OSError, ValueError):
        pass


def restore_files(cache: Cache, name: str, out: Path) -> list[Path] | None:
    """Put a cached render's files back (only those missing or different); None on any doubt."""
    raw = cache.get_value(name)
    if raw is None:
        return None
    try:
        record_ = json.loads(raw)
        files = [(str(rel), str(digest)) for rel, digest in record_["files"]]
        artifacts = [str(rel) for rel in record_["artifacts"]]
    except (ValueError, KeyError, TypeError):
        return None
    root = out.resolve()
    for rel, digest in files:
        target = (out / rel).resolve()
        if not target.is_relative_to(root):
            return None  # a foreign entry pointing out of the build folder
        try:
            if target.is_file() and sha256(target.read_bytes()) == digest:
                continue
        except OSError:
            pass
        data = cache.get_bytes(digest)
        if data is None:
            return None
        write_atomic(target, data)
    return [out / rel for rel in artifacts]
