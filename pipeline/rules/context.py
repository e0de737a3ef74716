"""What the rules look at: the loaded paper plus indexes built once from it."""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from functools import cached_property

from pipeline.project import Project
from pipeline.sources.bibliography import Bibliography
from pipeline.sources.chapters import Chapter
from pipeline.sources.markdown import Citation

CROSSREF = re.compile(r"^(fig|tbl|sec):", re.IGNORECASE)
SKIP_DIRS = {"build", "node_modules", "__pycache__"}
LABEL_KINDS = {"fig": "figure", "tbl": "table", "sec": "section"}


def is_crossref(key: str) -> bool:
    """pandoc-crossref's prefixes; '@Fig:x' is the capitalised form of '@fig:x'."""
    match = CROSSREF.match(key)
    return bool(match) and match.group(1) in ("fig", "tbl", "sec", "Fig", "Tbl", "Sec")


def label_of(key: str) -> str:
    return key[0].lower() + key[1:]


@dataclass(frozen=True)
class Place:
    chapter: Chapter
    line: int
    col: int


@dataclass
class Context:
    project: Project
    chapters: list[Chapter]
    bib: Bibliography
    release: bool = False  # `paper build --release`: the release rules apply too
    translations: list = field(default_factory=list)  # sources.translations.Translation, beside the chapters

    @cached_property
    def citations(self) -> list[tuple[Chapter, Citation]]:
        """Bibliography citations (cross-references excluded), in reading order."""
        return [
            (ch, c) for ch in self.chapters for c in ch.scan.citations if not is_crossref(c.key)
        ]

    @cached_property
    def cited_keys(self) -> set[str]:
        return {c.key for _, c in self.citations if c.key in self.bib.entries}

    @cached_property
    def cited_closure(self) -> set[str]:
        """Cited entries and the crossref parents they inherit from."""
        out: set[str] = set()
        for key in self.cited_keys:
            while key and key in self.bib.entries and key not in out:
                out.add(key)
                key = self.bib.parent_key(key)
        return out

    @cached_property
    def crossrefs(self) -> list[tuple[Chapter, Citation]]:
        return [(ch, c) for ch in self.chapters for c in ch.scan.citations if is_crossref(c.key)]

    @cached_property
    def labels(self) -> dict[str, list[tuple[Place, str]]]:
        """Every explicit id in the paper (and each chapter's own sec:<stem>), with its kind."""
        out: dict[str, list[tuple[Place, str]]] = {}
        for ch in self.chapters:
            line, col = ch.meta_pos("title")
            out.setdefault(ch.label, []).append((Place(ch, line, col), "chapter"))
            for ident in ch.scan.identifiers:
                out.setdefault(ident.id, []).append((Place(ch, ident.line, ident.col), ident.kind))
        return out

    @cached_property
    def anchors(self) -> set[str]:
        """Ids a '#link' can reach: explicit ids and Pandoc's automatic heading ids."""
        found = set(self.labels)
        for ch in self.chapters:
            found.update(h.auto_id for h in ch.scan.headings if h.id is None)
        return found

    @cached_property
    def project_files(self) -> list[str]:
        """Every file of the project (posix, relative), skipping tool and output folders."""
        root = self.project.root
        found = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            rel = os.path.relpath(folder, root)
            found.extend(os.path.normpath(os.path.join(rel, f)).replace(os.sep, "/") for f in sorted(files))
        return found


def suggest(word: str, candidates, cutoff: float = 0.75) -> str | None:
    """The closest candidate, preferring a case-insensitive exact match."""
    pool = list(candidates)
    lower = word.lower()
    for candidate in pool:
        if candidate.lower() == lower:
            return candidate
    close = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if close:
        return close[0]
    if len(word) >= 4:  # an author who typed only the start of a long key
        longer = sorted((c for c in pool if c.lower().startswith(lower)), key=len)
        if longer:
            return longer[0]
    return None


def did_you_mean(word: str, candidates, cutoff: float = 0.75) -> str:
    best = suggest(word, candidates, cutoff)
    return f"; did you mean '{best}'?" if best else ""
