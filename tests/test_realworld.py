"""Real material nobody here wrote must give no false alarm.

Read in place from ../shared/realworld (copied into a temporary project at test
time only, because paper.yml may only name files inside the project)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from pipeline.project import load_project
from pipeline.rules import check
from pipeline.sources.bibliography import load_bibliography
from pipeline.sources.paper import load_sources
from tests.conftest import realworld

# Pandoc's key grammar: internal punctuation must be followed by a letter, digit or '_'
SIMPLE_KEY = re.compile(r"^\w(?:\w|[:.#$%&\-+?<>~/](?=\w))*$")

BIBS = {
    "petsc": ["petsc/petsc.bib"],
    "iridia": [f"iridia/{n}.bib" for n in ("abbrev", "journals", "authors", "articles", "biblio", "crossref")],
    "turing-way": ["turing-way/references.bib"],
    "jabref-authors": ["jabref/jabref-authors.bib"],
    "testjabref": ["jabref/testjabref.bib"],
    "biblatex-examples": ["biblatex-examples/biblatex-examples.bib"],
}


def _complete(fields: dict[str, str], kind: str) -> bool:
    """Independent of the rules' code: what a careful editor would call a complete entry."""

    def has(*names):
        return any(fields.get(n, "").strip() for n in names)

    ok = has("author", "editor") and has("title") and has("year", "date")
    if kind == "article":
        ok = ok and has("journal", "journaltitle")
    if kind == "book":
        ok = ok and has("publisher")
    return ok


def _cite(key: str) -> str:
    return f"[@{key}]" if SIMPLE_KEY.match(key) else f"[@{{{key}}}]"


def _paper_citing(tmp_path: Path, name: str, files: list[str], count: int = 40) -> Path:
    root = tmp_path / name
    (root / "chapters").mkdir(parents=True)
    local = []
    for rel in files:
        source = realworld("bib", rel)
        shutil.copy(source, root / Path(rel).name)
        local.append(Path(rel).name)
    bib = load_bibliography([root / f for f in local], root)
    problem_keys = {p.key for p in bib.problems}
    chosen = [
        e.key for e in bib.entries.values()
        if e.key not in problem_keys
        and "}" not in e.key and "{" not in e.key
        and _complete(bib.resolved_fields(e.key), e.type)
    ]
    step = max(1, len(chosen) // count)
    keys = chosen[::step][:count]
    assert keys, f"no complete entry found in {name}"
    body = "\n\n".join(f"This sentence cites a real work {_cite(k)}." for k in keys)
    (root / "chapters/01-real.md").write_text(
        "---\ntitle: Real citations\nauthors:\n  - name: Tester\nsummary: Cites real entries.\n---\n\n"
        f"## Citations\n\n{body}\n",
        encoding="utf-8",
    )
    yaml_files = "\n".join(f"  - {f}" for f in local)
    (root / "paper.yml").write_text(f"title: Real\nbibliography:\n{yaml_files}\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("name", list(BIBS))
def test_citing_complete_entries_of_a_real_bibliography_passes(tmp_path, name):
    root = _paper_citing(tmp_path, name, BIBS[name])
    project = load_project(root)
    diagnostics = check(project, load_sources(project))
    errors = [d.text() for d in diagnostics if d.severity == "error"]
    assert errors == []


def test_iridia_in_pieces_is_one_database(tmp_path):
    """The files only work together; loaded in order, the authors resolve from macros."""
    root = _paper_citing(tmp_path, "iridia", BIBS["iridia"], count=10)
    bib = load_bibliography(sorted(root.glob("*.bib")), root)  # wrong order on purpose: still one database
    assert len(bib.entries) > 3000


def test_real_book_chapters_have_no_citation_error(tmp_path):
    book = realworld("book", "py-rse")
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    shutil.copy(book / "book.bib", root / "book.bib")
    names = []
    for source in sorted(book.glob("**/*.Rmd")) + sorted(book.glob("**/*.md")):
        rel = source.relative_to(book).as_posix().replace("/", "__")
        shutil.copy(source, root / "chapters" / rel)
        names.append(f"chapters/{rel}")
    contents = "\n".join(f"  - {n}" for n in names)
    (root / "paper.yml").write_text(f"title: Book\nbibliography: book.bib\ncontents:\n{contents}\n")
    start = time.perf_counter()
    project = load_project(root)
    diagnostics = check(project, load_sources(project))
    elapsed = time.perf_counter() - start
    citation_problems = [d.text() for d in diagnostics if d.code.startswith("CIT")]
    assert citation_problems == []
    uncited = [d for d in diagnostics if d.code == "BIB010"]
    assert len(uncited) == 80 - 59  # SOURCE.md: the book cites 59 of its 80 entries
    print(f"checked {len(names)} book files in {elapsed:.2f}s")
