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
from tests.conftest import REALWORLD, realworld

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


# ---------------------------------------------------------------------------
# Broken and odd bibliographies, through the whole check
# ---------------------------------------------------------------------------

ODD_FOLDERS = ("bibtexparser-v1", "jabref")  # test files of two BibTeX parsers: bad input on purpose
_BIB_ROOT = REALWORLD / "bib"
ODD_BIBS = sorted(
    p.relative_to(_BIB_ROOT).as_posix() for folder in ODD_FOLDERS for p in (_BIB_ROOT / folder).glob("*.bib")
) if _BIB_ROOT.exists() else []

# What a careful editor would want the check to say about the files made to be wrong.
ODD_EXPECTED = {
    "bibtexparser-v1/crossref_cascading_cycle.bib": {("BIB005", "error")},  # Pandoc runs out of memory on it
    "bibtexparser-v1/crossref_missing_entries.bib": {("BIB004", "error")},
    "bibtexparser-v1/xref_missing_entries.bib": {("BIB004", "error")},
    # ids aliases are not followed (nor are they by Pandoc): the parent is missing
    "bibtexparser-v1/crossref_cascading_aliases.bib": {("BIB004", "error")},
    "bibtexparser-v1/wrong.bib": {("BIB008", "error")},  # @wrong{foo, ...}
    # '@STRING ( ... )': Pandoc would stop there, but it never reads the file (only cited entries reach it)
    "bibtexparser-v1/article_with_strings.bib": {("BIB001", "warning")},
    "bibtexparser-v1/fieldname.bib": {("BIB001", "error")},  # Dc.Date
    "bibtexparser-v1/biber-examples.bib": {("BIB002", "error"), ("BIB008", "error")},  # tmn4 twice; @conversation
    "jabref/bibWithUserComments.bib": {("BIB001", "warning")},  # '@Comment this in ...' between entries
    "jabref/biblatex-software.bib": {("BIB008", "error")},  # @softwareversion: did you mean 'software'?
    "jabref/othertype.bib": {("BIB008", "error")},  # @other
    "jabref/reallyunknowntype.bib": {("BIB008", "error")},
}


def _project_citing_every_entry(tmp_path: Path, rel: str) -> Path:
    """A new paper whose only chapter cites every key of the file, so every content rule applies."""
    source = realworld("bib", *rel.split("/"))
    root = tmp_path / "odd"
    (root / "chapters").mkdir(parents=True)
    shutil.copy(source, root / "real.bib")
    bib = load_bibliography([root / "real.bib"], root)
    keys = [k for k in bib.entries if "{" not in k and "}" not in k]
    cites = "\n\n".join(f"It cites {_cite(k)}." for k in keys) or "It cites nothing."
    (root / "chapters/01-odd.md").write_text(
        "---\ntitle: Odd bibliography\nauthors:\n  - name: Tester\nsummary: Cites every entry.\n---\n\n"
        f"## Citations\n\n{cites}\n", encoding="utf-8")
    (root / "paper.yml").write_text("title: Odd\nbibliography: real.bib\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("rel", ODD_BIBS or ["(absent)"])
def test_every_broken_bibliography_gets_clean_diagnostics(tmp_path, capsys, rel):
    """No exception, positions inside the file, the exit code the diagnostics call for, in seconds."""
    import json

    from pipeline.cli import main
    from tests.test_fuzz import position_problem

    if rel == "(absent)":
        realworld("bib", ODD_FOLDERS[0])  # skips, with the reason
    root = _project_citing_every_entry(tmp_path, rel)
    started = time.perf_counter()
    code = main(["-C", str(root), "check", "--format", "json"])
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert "internal error" not in err, err
    diagnostics = json.loads(out)
    assert code == (1 if any(d["severity"] == "error" for d in diagnostics) else 0)
    for d in diagnostics:
        assert position_problem(root, d["path"], d["line"], d["col"]) is None, d
        assert d["message"].strip() and "\n" not in d["message"]
    bib_problems = {(d["code"], d["severity"]) for d in diagnostics
                    if d["path"] == "real.bib" and d["code"] not in ("BIB003", "BIB006", "BIB007", "BIB010")}
    assert bib_problems == ODD_EXPECTED.get(rel, set()), [d for d in diagnostics if d["path"] == "real.bib"]
    assert elapsed < 10, f"{elapsed:.1f} s"
