"""Read a chapter: front matter with positions, and its scanned Markdown body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.sources.markdown import Scan, scan
from pipeline.sources.text import decode, read_bytes
from pipeline.sources.yamlnodes import YamlDoc, YamlError, parse_yaml

_FENCE_OPEN = re.compile(r"---[ \t]*\n")
_FENCE_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class LoadProblem:
    """A problem found while reading, before any rule runs (SRC*, FM001-FM004, FM013)."""

    code: str
    line: int
    col: int
    message: str


@dataclass
class Chapter:
    path: str  # project-relative posix path
    kind: str  # 'chapter' or 'case-study'
    text: str = ""  # whole file, normalised
    meta: dict[str, Any] = field(default_factory=dict)
    meta_doc: YamlDoc | None = None
    meta_line: int = 1  # file line of the opening '---'
    body: str = ""
    body_line: int = 1  # file line where the body starts
    scan: Scan = field(default_factory=Scan)
    problems: list[LoadProblem] = field(default_factory=list)
    translates: str | None = None  # a translation's source path: it takes that chapter's stem and label

    @property
    def readable(self) -> bool:
        """The file could be read as text (its body can be checked even if front matter failed)."""
        return not any(p.code.startswith("SRC") for p in self.problems)

    @property
    def stem(self) -> str:
        return Path(self.translates or self.path).stem

    @property
    def label(self) -> str:
        """Every chapter can be referenced as @sec:<file stem>."""
        return f"sec:{self.stem}"

    def meta_pos(self, *key: Any) -> tuple[int, int]:
        """File position of a front matter value (or of the block when it is missing)."""
        if self.meta_doc is None:
            return (self.meta_line, 1)
        line, col = self.meta_doc.pos(tuple(key), default=(0, 1))
        return (self.meta_line + line, col)

    def meta_key_pos(self, *key: Any) -> tuple[int, int]:
        """File position of a field's name, e.g. of 'lang:' itself."""
        if self.meta_doc is None or tuple(key) not in self.meta_doc.key_positions:
            return self.meta_pos(*key)
        line, col = self.meta_doc.key_positions[tuple(key)]
        return (self.meta_line + line, col)


def split_front_matter(text: str) -> tuple[str | None, int, str, int] | LoadProblem:
    """(yaml text, its first file line, body, body's first file line), or why not.

    The block must open on the file's first non-blank line, as the contract says;
    Pandoc would otherwise read a stray '---' as a horizontal rule.
    """
    stripped = text.lstrip("\n")
    skipped = len(text) - len(stripped)
    if not _FENCE_OPEN.match(stripped + ("\n" if stripped.rstrip() == "---" else "")):
        return LoadProblem(
            "FM001",
            skipped + 1,
            1,
            "the chapter has no front matter; start the file with a line '---', then "
            "title, authors and summary, then a closing '---'",
        )
    open_line = skipped + 1
    rest_start = stripped.find("\n") + 1 if "\n" in stripped else len(stripped)
    rest = stripped[rest_start:]
    close = _FENCE_CLOSE.search(rest)
    if close is None:
        return LoadProblem(
            "FM002",
            open_line,
            1,
            "the front matter is never closed; add a line '---' after its last field",
        )
    yaml_text = rest[: close.start()]
    body_start = close.end() + 1 if close.end() < len(rest) else len(rest)
    body = rest[body_start:]
    body_line = open_line + 1 + yaml_text.count("\n") + 1
    return yaml_text, open_line + 1, body, body_line


def parse_chapter(path: str, kind: str, text: str) -> Chapter:
    chapter = Chapter(path=path, kind=kind, text=text)
    split = split_front_matter(text)
    if isinstance(split, LoadProblem):
        chapter.problems.append(split)
        chapter.body, chapter.body_line = text, 1
        chapter.scan = scan(text, 1)
        return chapter
    yaml_text, yaml_line, body, body_line = split
    chapter.meta_line = yaml_line - 1
    chapter.body, chapter.body_line = body, body_line
    chapter.scan = scan(body, body_line)
    try:
        doc = parse_yaml(yaml_text)
    except YamlError as err:
        chapter.problems.append(
            LoadProblem("FM003", yaml_line + err.line - 1, err.col, f"front matter: {err.message}")
        )
        return chapter
    chapter.meta_doc = doc
    for key, line, col in doc.duplicates:
        chapter.problems.append(
            LoadProblem(
                "FM013",
                chapter.meta_line + line,
                col,
                f"front matter field '{'.'.join(map(str, key))}' is given twice; keep one",
            )
        )
    if doc.value is None:
        doc.value = {}
    if not isinstance(doc.value, dict):
        chapter.problems.append(
            LoadProblem(
                "FM004",
                yaml_line,
                1,
                "the front matter must be a list of 'field: value' lines (title, authors, summary)",
            )
        )
        return chapter
    chapter.meta = doc.value
    return chapter


def load_chapter(root: Path, rel: str, kind: str, max_bytes: int) -> Chapter:
    """The only I/O of this module: read one chapter file, never one outside the project."""
    if not (root / rel).resolve().is_relative_to(root.resolve()):
        chapter = Chapter(path=rel, kind=kind)
        chapter.problems.append(
            LoadProblem("SRC005", 1, 1, "this file is a link to a file outside the project; "
                                        "replace the link with the file itself")
        )
        return chapter
    data, problem = read_bytes(root / rel, max_bytes)
    if problem is None and data is not None:
        text, problem = decode(data)
        if problem is None and text is not None:
            return parse_chapter(rel, kind, text)
    chapter = Chapter(path=rel, kind=kind)
    assert problem is not None
    chapter.problems.append(LoadProblem(problem.code, problem.line, problem.col, problem.message))
    return chapter
