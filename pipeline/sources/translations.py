"""Translations: files beside their source, ``chapters/intro.de.md`` for ``chapters/intro.md``.

A translation says in its front matter which version of the source it was made from,
``translation-of: <hash>``: the first 12 hex digits of the sha256 of the source's text
(as read: UTF-8, LF line ends, no byte-order mark). When the source changes, the hash no
longer matches and the check says so; to tell the translator *what* changed, the version
the hash names is looked up in git history (the only I/O here besides reading files).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipeline.project import Project
from pipeline.sources.chapters import Chapter, load_chapter
from pipeline.sources.text import decode

HASH_LENGTH = 12
HASH = re.compile(r"^[0-9a-f]{12,64}$")
_NAME = re.compile(r"^(?P<stem>.+)\.(?P<lang>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.md$")
GIT_HISTORY_LIMIT = 200  # versions of a source searched for the one a translation was made from


@dataclass
class Translation:
    chapter: Chapter  # the translation file, read as a chapter (its own path and positions)
    lang: str  # from the file name, as paper.yml's languages spell it
    base_text: str | None = None  # the source as it was when translated, when it has changed since

    @property
    def source(self) -> str:
        """The source chapter's path ('chapters/intro.md'); it may be missing (an orphan)."""
        return self.chapter.translates or ""

    @property
    def path(self) -> str:
        return self.chapter.path

    @property
    def has_body(self) -> bool:
        """A translation of front matter only (title, summary) serves the summary edition."""
        return bool(self.chapter.body.strip())

    @property
    def stamp(self) -> str | None:
        """translation-of as written: YAML reads 012345678901 as a number, so take the file's own text."""
        meta = self.chapter.meta if isinstance(self.chapter.meta, dict) else {}
        value = meta.get("translation-of")
        if isinstance(value, str):
            return value.strip().lower()
        if value is None or isinstance(value, (bool, list, dict)):
            return None
        line, col = self.chapter.meta_pos("translation-of")
        lines = self.chapter.text.split("\n")
        written = lines[line - 1][col - 1:] if 0 < line <= len(lines) else ""
        return (written.split("#", 1)[0].strip().strip("'\"") or None) if written else None


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def matches(stamp: str | None, text: str) -> bool:
    """``stamp`` names this text (12 or more hex digits of its sha256)."""
    return bool(stamp) and HASH.match(stamp or "") is not None \
        and hashlib.sha256(text.encode("utf-8")).hexdigest().startswith(stamp or "")


def split_name(rel: str, langs: tuple[str, ...]) -> tuple[str, str] | None:
    """'chapters/intro.de.md' -> ('chapters/intro.md', 'de') when 'de' is one of ``langs``."""
    folder, _, name = rel.rpartition("/")
    match = _NAME.match(name)
    if not match:
        return None
    lang = next((language for language in langs if language.lower() == match["lang"].lower()), None)
    if lang is None:
        return None
    return (f"{folder}/" if folder else "") + match["stem"] + ".md", lang


def translation_files(root: Path, folders: list[str], langs: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(path, source path, language) of every translation file in the chapters' folders, sorted."""
    found = []
    for folder in sorted(set(folders)):
        base = root / folder if folder else root
        try:
            names = sorted(p.name for p in base.iterdir() if p.is_file() or p.is_symlink())
        except OSError:
            continue
        for name in names:
            rel = f"{folder}/{name}" if folder else name
            split = split_name(rel, langs)
            if split and not name.startswith((".", "_")):
                found.append((rel, *split))
    return found


def load_translations(project: Project, chapters: list[Chapter], max_bytes: int) -> list[Translation]:
    """Every translation beside the paper's chapters (and in chapters/ and case_studies/)."""
    langs = project.translation_langs
    if not langs:
        return []
    by_path = {ch.path: ch for ch in chapters}
    folders = [ch.path.rpartition("/")[0] for ch in chapters] + ["chapters", "case_studies"]
    out = []
    for rel, source, lang in translation_files(project.root, folders, langs):
        src = by_path.get(source)
        kind = src.kind if src else ("case-study" if rel.startswith("case_studies/") else "chapter")
        chapter = load_chapter(project.root, rel, kind, max_bytes)
        chapter.translates = source  # so it takes its source's stem and label
        translation = Translation(chapter, lang)
        if src is not None and src.text and translation.stamp and not matches(translation.stamp, src.text):
            translation.base_text = version_from_git(project.root, source, translation.stamp)
        out.append(translation)
    return out


def version_from_git(root: Path, rel: str, stamp: str) -> str | None:
    """The committed version of ``rel`` whose hash is ``stamp``, if git has it."""
    if not HASH.match(stamp):
        return None
    try:
        log = subprocess.run(["git", "--literal-pathspecs", "-C", str(root), "log", f"-n{GIT_HISTORY_LIMIT}",
                              "--format=%H", "--", rel],
                             capture_output=True, text=True, timeout=20, check=False)
        for commit in log.stdout.split() if log.returncode == 0 else []:
            shown = subprocess.run(["git", "-C", str(root), "show", f"{commit}:./{rel}"],  # ./: from the project
                                   capture_output=True, timeout=20, check=False)
            if shown.returncode != 0:
                continue
            text, problem = decode(shown.stdout)
            if problem is None and text is not None and matches(stamp, text):
                return text
    except (OSError, subprocess.TimeoutExpired):
        return None
    return None
