"""The PDF renderer: a designed, tagged PDF/UA-1 file per edition, reproducible, failing in plain words."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pypdf
import pytest

from conftest import sample_ast
from pipeline.render import pdf
from pipeline.render.pandoc import RenderError

Doc = dict[str, Any]


# ---- helpers ---------------------------------------------------------------------------------------------

def render_pdf(job) -> Path:
    [path] = pdf.render(job)
    assert path == job.out_dir / f"{job.edition_id}.pdf"
    return path


def text_of(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def outline_titles(path: Path) -> list[str]:
    def flatten(items: list) -> Iterator[str]:
        for item in items:
            if isinstance(item, list):
                yield from flatten(item)
            else:
                yield item.title
    return list(flatten(pypdf.PdfReader(path).outline))


def walk(node: Any) -> Iterator[dict]:
    """Every AST element (a dict with 't') below node, parents first."""
    if isinstance(node, dict):
        if "t" in node:
            yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def edited(edit: Callable[[Doc], None], markdown: bytes | None = None) -> bytes:
    """The sample AST (or one from `markdown`) changed in place by `edit`."""
    doc = json.loads(sample_ast(markdown))
    edit(doc)
    return json.dumps(doc).encode()


def set_meta(**values: str) -> Callable[[Doc], None]:
    def edit(doc: Doc) -> None:
        for key, value in values.items():
            doc["meta"][key] = {"t": "MetaString", "c": value}
    return edit


def with_ast(job, ast: bytes):
    return dataclasses.replace(job, ast=ast)


# ---- content, structure, metadata ---------------------------------------------------------------------

def test_pdf_holds_title_numbered_figures_and_references(job_factory):
    text = text_of(render_pdf(job_factory()))
    assert "A tiny test paper" in text
    assert "Figure 1" in text and "Table 1" in text
    assert "Figure 1: A diagram of two connected networks" in text  # caption printed once, no Typst number
    assert "Figure 1: Figure 1" not in text
    assert "Communities of practice" in text and "Wenger, E. (1998)" in text
    assert "Contents" in text  # the table of contents, titled with toc-title
    assert "HOW TO CITE" in text and "Itor, E. (Ed.)" in text
    assert "DRAFT" in text  # status: draft


def test_outline_has_every_chapter_and_section_but_no_part(job_factory):
    titles = outline_titles(render_pdf(job_factory()))
    assert titles == [
        "1 Introduction", "1.1 Background", "1.1.1 A deeper point",
        "2 Alpha Foundation", "2.1 Context", "2.2 How it works", "References",
    ]


def test_document_metadata(job_factory):
    reader = pypdf.PdfReader(render_pdf(job_factory()))
    assert reader.metadata.title == "A tiny test paper: Networks in early STEM education"
    assert reader.metadata.author == "Ada Example, Bo Beispiel"
    assert reader.metadata.creation_date.year == 2023  # the AST's date, from SOURCE_DATE_EPOCH
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert "keywords" not in str(reader.metadata).lower()


def test_every_font_is_embedded_and_the_body_is_libertinus(job_factory):
    reader = pypdf.PdfReader(render_pdf(job_factory()))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            names.add(str(font["/BaseFont"]))
            described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = described["/FontDescriptor"].get_object()
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            assert embedded, font["/BaseFont"]
    assert any("LibertinusSerif-Regular" in name for name in names)


def test_pdf_is_tagged_pdf_ua_1(job_factory):
    reader = pypdf.PdfReader(render_pdf(job_factory()))  # compiling with ua-1 succeeding is the main check
    catalog = reader.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert catalog["/Lang"]
    assert "/StructTreeRoot" in catalog
    assert b"<pdfuaid:part>1</pdfuaid:part>" in catalog["/Metadata"].get_object().get_data()


def link_targets(reader: pypdf.PdfReader, page_index: int) -> list[int]:
    """1-based page numbers that the internal links on one page lead to."""
    targets = []
    for annot in reader.pages[page_index].get("/Annots", []):
        dest = annot.get_object().get("/Dest")
        if dest is None:
            continue
        dest = dest.get_object()
        page = reader.named_destinations[str(dest)].page if isinstance(dest, str) else dest[0]
        targets.append(reader.get_page_number(page.get_object()) + 1)
    return targets


def test_cross_references_and_citations_link_to_their_targets(job_factory):
    reader = pypdf.PdfReader(render_pdf(job_factory()))
    # page 4 opens chapter 1: Wenger 1998 -> references (7), Figure 1 and Table 1 -> here (4),
    # Section 2 -> chapter 2 (6), "background" -> 1.1 (4)
    assert {7, 4, 6} <= set(link_targets(reader, 3))
    assert set(link_targets(reader, 1)) == {4, 6, 7}  # the table of contents
    assert {6, 4} <= set(link_targets(reader, 5))  # Figure 2 (here), Section 1.1


def test_two_renders_are_byte_identical_wherever_the_project_lives(job_factory, tmp_path):
    job = job_factory("paper")
    first = render_pdf(job).read_bytes()
    second = render_pdf(job_factory("paper")).read_bytes()
    assert first == second
    moved = tmp_path / "elsewhere" / "project"
    shutil.copytree(job.root / "figures", moved / "figures")
    third = render_pdf(dataclasses.replace(job, root=moved, out_dir=moved / "build" / "paper")).read_bytes()
    assert third == first


def test_without_a_date_in_the_ast_the_pdf_is_dated_by_source_date(job_factory):
    undated = edited(lambda doc: doc["meta"].pop("date"))
    job = with_ast(job_factory("undated", source_date=1800000000), undated)
    created = pypdf.PdfReader(render_pdf(job)).metadata.creation_date
    assert (created.year, created.month, created.day) == (2027, 1, 15)


# ---- editions ---------------------------------------------------------------------------------------------

def test_title_page_then_contents_then_part_and_chapter_pages(job_factory):
    pages = [page.extract_text() for page in pypdf.PdfReader(render_pdf(job_factory())).pages]
    assert pages[0].startswith("FULL PAPER") and "A tiny test paper" in pages[0]
    assert "How to cite".upper() in pages[0] and not pages[0].rstrip().endswith("1")  # no page number
    assert pages[1].startswith("Contents")
    assert pages[2].startswith("Shared sections") and "Introduction" not in pages[2]  # a part page
    assert pages[3].startswith("1 Introduction\nAda Example") and pages[3].rstrip().endswith("4")
    assert pages[4].startswith("Case studies")
    assert pages[5].startswith("2 Alpha Foundation\nBo Beispiel")  # each chapter opens a page
    assert pages[6].startswith("References")


def test_summary_is_compact_without_contents(job_factory):
    paper = pypdf.PdfReader(render_pdf(job_factory("paper")))
    summary = pypdf.PdfReader(render_pdf(job_factory("summary", kind="summary")))
    assert len(summary.pages) < len(paper.pages)
    text = "\n".join(page.extract_text() for page in summary.pages)
    assert "Contents" not in text


def test_offprint_title_page_names_the_paper_and_how_to_cite(job_factory):
    job = job_factory("case-study-alpha", kind="offprint")
    job = with_ast(job, edited(set_meta(**{"paper-title": "The whole network paper"})))
    first = pypdf.PdfReader(render_pdf(job)).pages[0].extract_text()
    assert "Offprint from" in first
    assert "The whole network paper" in first
    assert "Itor, E. (Ed.)" in first


def test_letter_paper_on_request_a4_by_default(job_factory):
    a4 = pypdf.PdfReader(render_pdf(job_factory("paper"))).pages[0].mediabox
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)
    letter_job = with_ast(job_factory("letter"), edited(set_meta(papersize="us-letter")))
    letter = pypdf.PdfReader(render_pdf(letter_job)).pages[0].mediabox
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)


def test_language_and_region_come_from_the_bcp47_tag(job_factory):
    job = with_ast(job_factory("german"), edited(set_meta(lang="de-AT")))
    source = pdf.typst_source(job).decode()
    assert 'lang: "de"' in source and 'region: "AT"' in source
    assert pypdf.PdfReader(render_pdf(job)).trailer["/Root"]["/Lang"] == "de-AT"


# ---- what typst.lua fixes ---------------------------------------------------------------------------------

def test_images_carry_alt_text_and_root_paths(job_factory):
    source = pdf.typst_source(job_factory()).decode()
    assert 'image("/figures/diagram.png", alt: "A diagram of two connected networks")' in source
    assert 'image("/figures/chart.svg", alt: "A black square standing in for a chart")' in source  # fig-alt
    assert 'alt: "d = 0.4"' in source  # equations too: PDF/UA-1 wants alt text on math
    assert "#link(<fig:diagram>)[Figure 1]" in source and "<fig:diagram>" in source
    assert "numbering: none" in source


def _drop_image_descriptions(doc: Doc) -> None:
    for element in walk(doc["blocks"]):
        if element["t"] == "Image":
            element["c"][1] = []  # no description
            element["c"][0][2] = [kv for kv in element["c"][0][2] if kv[0] != "fig-alt"]


def test_image_without_alt_text_falls_back_to_the_caption(job_factory):
    job = with_ast(job_factory(), edited(_drop_image_descriptions))
    source = pdf.typst_source(job).decode()
    assert 'alt: "A diagram of two connected networks"' in source
    assert 'alt: "A chart of growth over time"' in source
    render_pdf(job)  # ua-1 would refuse an image without alt text


def test_inline_image_without_description_still_compiles(job_factory):
    markdown = b"---\ntitle: Inline\nlang: en\n---\n\nA logo ![](figures/diagram.png) in a line.\n"
    job = with_ast(job_factory(), sample_ast(markdown))
    assert 'alt: "diagram.png"' in pdf.typst_source(job).decode()
    render_pdf(job)


def test_links_to_missing_targets_keep_their_text(job_factory):
    markdown = (b"---\ntitle: Links\nlang: en\n---\n\n# Only {#sec:only}\n\n"
                b"See [Section 9.9 in the full paper](#sec:elsewhere), [here](#sec:only) and [@missing].\n")
    job = with_ast(job_factory(), sample_ast(markdown))
    source = pdf.typst_source(job).decode()
    assert "<sec:elsewhere>" not in source and "Section 9.9 in the full paper" in source
    assert "#link(<sec:only>)[here]" in source
    assert "#cite" not in source  # citeproc's text is kept; Typst is never asked to cite
    assert "Section 9.9 in the full paper" in text_of(render_pdf(job))


def test_table_cells_range_left_and_long_tables_get_content_widths(job_factory):
    long_text = "a long description of the work done here " * 3
    rows = "\n".join(f"| Row {i} | {long_text}| Yes |" for i in range(3))
    markdown = (f"---\ntitle: Tables\nlang: en\n---\n\n| Name | Description | Done |\n|-|-|-|\n{rows}\n\n"
                ": Table 1: Wide {{#tbl:wide}}\n").encode()
    source = pdf.typst_source(with_ast(job_factory(), sample_ast(markdown))).decode()
    assert "align: (left,left,left,)" in source
    assert "columns: (" in source and "%" in source  # widths from content, not from the dashes
    assert "#strong[Table 1:] Wide" in source


# ---- failures -----------------------------------------------------------------------------------------

def test_typst_error_is_a_render_error_and_the_old_pdf_stays(job_factory, tmp_path):
    broken = tmp_path / "broken.typ"
    broken.write_text("#let x = (\n$body$\n", encoding="utf-8")
    job = dataclasses.replace(job_factory(), template=lambda name: broken)
    target = job.out_dir / "paper.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"%PDF-1.7 the previous build")
    with pytest.raises(RenderError) as caught:
        pdf.render(job)
    message = str(caught.value)
    assert message.startswith("PDF: Typst could not make the paper edition")
    assert "\n" not in message
    assert target.read_bytes() == b"%PDF-1.7 the previous build"
    assert sorted(p.name for p in target.parent.iterdir()) == ["paper.pdf"]  # no temporary file left


def test_missing_image_is_a_plain_render_error(job_factory):
    job = job_factory()
    (job.root / "figures" / "chart.svg").unlink()
    with pytest.raises(RenderError, match=r"file not found .*chart\.svg"):
        pdf.render(job)
    assert not (job.out_dir / "paper.pdf").exists()


def test_missing_template_is_a_render_error(job_factory, tmp_path):
    job = dataclasses.replace(job_factory(), template=lambda name: tmp_path / "nowhere" / name)
    with pytest.raises(RenderError, match="template pdf/paper.typ is missing"):
        pdf.render(job)


def test_broken_ast_is_a_render_error(job_factory):
    with pytest.raises(RenderError, match="^pandoc failed"):
        pdf.render(with_ast(job_factory(), b"{not json"))


# ---- small pieces -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, literal", [
    ("Draft", '"Draft"'),
    ('Say "hi"', '"Say \\"hi\\""'),
    ("back\\slash", '"back\\\\slash"'),
    ("two\nlines", '"two\\nlines"'),
    ("tab\there", '"tab\\u{9}here"'),
])
def test_typst_string(text, literal):
    assert pdf.typst_string(text) == literal


def test_template_variables_localise_the_printed_words():
    variables = pdf.template_variables("offprint", "de-DE")
    assert 'term-offprint="Sonderdruck"' in variables and 'term-from="aus"' in variables
    assert "show-toc=true" not in variables
    assert "show-toc=true" in pdf.template_variables("paper", "en-GB")


def test_preview_gives_png_pages(job_factory):
    pages = pdf.preview(job_factory(), ppi=20)
    assert len(pages) > 1 and all(page.startswith(b"\x89PNG") for page in pages)
