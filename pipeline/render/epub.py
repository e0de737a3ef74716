"""EPUB 3: one edition's finished AST -> out_dir/<edition_id>.epub.

Pandoc writes the book under --sandbox, so nothing in a chapter can make it read a file; the
project's images reach it through pipeline/filters/media.lua (the one reader of image files,
given the project root in PAPER_PROJECT_ROOT), after this module has resolved every image path
and refused any that leaves the project. Three measured quirks of pandoc 3.9's sandbox shape
the rest (see the functions that deal with each):

* it does not let the EPUB writer read --css or --epub-cover-image; naming the same files with
  --epub-embed-font puts them into the sandbox's file list, and `repack` then drops the copies
  that option adds under EPUB/fonts/;
* it ignores SOURCE_DATE_EPOCH (the writer's clock reads 1970), so `repack` writes
  dcterms:modified and every zip entry's time from job.source_date;
* a chapter Div around the level-1 heading stops --split-level=1 from starting a file per
  chapter, so `epub_blocks` unwraps chapters and turns part Divs into unlisted part headings.

The cover is a PNG drawn in-process by Typst from templates/epub/cover.typ.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any, Iterable

from pipeline.assemble.ast import elements, meta_text
from pipeline.render.files import write_atomic
from pipeline.render.images import image_sources, resolve_image
from pipeline.render.job import Job
from pipeline.render.pandoc import RenderError, run_pandoc

Node = Any  # a piece of Pandoc's JSON AST: dict, list or scalar

ROOT_ENV = "PAPER_PROJECT_ROOT"  # read by media.lua
COVER_PPI = 200  # cover.typ's 8 in x 12.8 in page -> 1600 x 2560 px
OPF = "EPUB/content.opf"
CHAPTER_FILE = re.compile(r"EPUB/text/ch\d+\.xhtml")


# ---------------------------------------------------------------- shaping the AST for EPUB


def attr(identifier: str, classes: list[str], pairs: list[list[str]]) -> list:
    return [identifier, classes, pairs]


def part_header(div: dict, number: int) -> dict:
    """A part Div as an unnumbered, unlisted level-1 heading: its own file, not in the TOC.

    pandoc starts an EPUB file only at a heading; `unlisted` keeps it out of the nav and
    epub:type="part" tells reading systems what it is.
    """
    identifier, classes, _ = div["c"][0]
    inlines: list = []
    for block in div["c"][1]:
        if block["t"] in ("Para", "Plain"):
            inlines += ([{"t": "Space"}] if inlines else []) + block["c"]
    classes = ["part", "unnumbered", "unlisted"] + [c for c in classes if c != "part"]
    return {"t": "Header", "c": [1, attr(identifier or f"part-{number}", classes, [["epub:type", "part"]]), inlines]}


def add_epub_type(header: dict, kind: str) -> dict:
    """The heading with epub:type=kind (pandoc puts it on the <section>), unless it has one."""
    level, (identifier, classes, pairs), inlines = header["c"]
    if not any(key == "epub:type" for key, _ in pairs):
        pairs = pairs + [["epub:type", kind]]
    return {"t": "Header", "c": [level, attr(identifier, classes, pairs), inlines]}


def unwrap_chapter(div: dict, moved: dict[str, str]) -> list:
    """The chapter's blocks with its level-1 heading marked as a chapter.

    Records chapter-<stem> -> the heading's id in `moved`, so links to the Div still land.
    """
    identifier, classes, _ = div["c"][0]
    blocks = list(div["c"][1])
    for index, block in enumerate(blocks):
        if block["t"] == "Header" and block["c"][0] == 1:
            level, (hid, hclasses, pairs), inlines = block["c"]
            extra = [c for c in classes if c not in hclasses]
            blocks[index] = add_epub_type({"t": "Header", "c": [level, attr(hid, hclasses + extra, pairs), inlines]},
                                          "chapter")
            if identifier and hid:
                moved[identifier] = hid
            break
    return blocks


def epub_blocks(blocks: list) -> tuple[list, dict[str, str]]:
    """Top-level blocks arranged so --split-level=1 gives one file per part, chapter and the references."""
    shaped: list = []
    moved: dict[str, str] = {}
    parts = 0
    for block in blocks:
        classes = block["c"][0][1] if block["t"] == "Div" else []
        if "part" in classes:
            parts += 1
            shaped.append(part_header(block, parts))
        elif "chapter" in classes:
            shaped += unwrap_chapter(block, moved)
        elif block["t"] == "Header" and block["c"][0] == 1 and block["c"][1][0] == "references":
            shaped.append(add_epub_type(block, "bibliography"))
        else:
            shaped.append(block)
    return shaped, moved


def retarget_links(blocks: list, moved: dict[str, str]) -> None:
    """Point links at an unwrapped chapter Div to its heading instead (in place)."""
    if not moved:
        return
    for element in elements(blocks):
        if element["t"] == "Link":
            target = element["c"][2]
            if target[0].startswith("#") and target[0][1:] in moved:
                target[0] = "#" + moved[target[0][1:]]


# ---------------------------------------------------------------- accessibility metadata


def meta_list(values: Iterable[str]) -> dict:
    return {"t": "MetaList", "c": [{"t": "MetaString", "c": value} for value in values]}


def accessibility(doc: dict, lang: str) -> dict[str, dict]:
    """schema.org accessibility metadata for pandoc's EPUB writer (keys from the pandoc 3.9 manual).

    Claims only what the pipeline guarantees: the check refuses images without a description
    (IMG004), headings are structured, the nav is a full TOC, the spine is the reading order,
    nothing flashes. The English summary is set only for English editions: it would mislabel
    the language of any other book (ASSEMBLE may set `accessibilitySummary` itself).
    """
    kinds = {element["t"] for element in elements(doc["blocks"])}
    images = "Image" in kinds
    features = ["structuralNavigation", "tableOfContents", "readingOrder"]
    features += ["alternativeText"] if images else []
    features += ["MathML"] if "Math" in kinds else []
    values: dict[str, dict] = {
        "accessModes": meta_list(["textual", "visual"] if images else ["textual"]),
        "accessModeSufficient": meta_list(["textual"]),
        "accessibilityFeatures": meta_list(features),
        "accessibilityHazards": meta_list(["none"]),
    }
    if lang.lower().split("-")[0] == "en":
        summary = ("Headings, a table of contents and the reading order follow the structure of the text. "
                   + ("Every image has a text description. " if images else "")
                   + ("Formulas are MathML. " if "Math" in kinds else "")
                   + "No content is known to flash, simulate motion or play sound.")
        values["accessibilitySummary"] = {"t": "MetaString", "c": summary}
    return values


def epub_document(doc: dict, lang: str) -> dict:
    """The AST as the EPUB writer should see it: shaped blocks, accessibility metadata added.

    Metadata ASSEMBLE already set wins over these defaults.
    """
    blocks, moved = epub_blocks(doc["blocks"])
    retarget_links(blocks, moved)
    meta = dict(doc.get("meta", {}))
    for key, value in accessibility(doc, lang).items():
        meta.setdefault(key, value)
    return {**doc, "meta": meta, "blocks": blocks}


# ---------------------------------------------------------------- cover


def cover_inputs(doc: dict, lang: str) -> dict[str, str]:
    """What cover.typ shows, as plain strings (passed as sys.inputs, never spliced into source)."""
    return {
        "title": meta_text(doc, "title"),
        "subtitle": meta_text(doc, "subtitle"),
        "edition": meta_text(doc, "edition-title"),
        "draft": "true" if meta_text(doc, "status").lower() == "draft" else "false",
        "lang": lang.split("-")[0].lower(),
    }


def make_cover(template: Path, inputs: dict[str, str]) -> bytes:
    """One PNG page drawn by Typst with its built-in fonts only, so every machine gets the same bytes."""
    import typst

    try:
        png = typst.compile(str(template), format="png", ppi=COVER_PPI, sys_inputs=inputs,
                            ignore_system_fonts=True)
    except Exception as err:  # typst raises its own error types; the user needs one line
        first = str(err).strip().splitlines()
        raise RenderError(f"the EPUB cover could not be drawn from {template.name}: "
                          f"{first[0] if first else type(err).__name__}") from None
    if not isinstance(png, bytes):
        raise RenderError(f"the EPUB cover template {template.name} must make exactly one page")
    return png


# ---------------------------------------------------------------- pandoc and the zip


def pandoc_args(job: Job, stylesheet: Path, cover: Path, output: Path) -> list[str]:
    """The pandoc command line. Stylesheet and cover are also named as 'fonts': that is what
    puts them into --sandbox's list of readable files (`repack` removes those copies)."""
    return [
        "-f", "json", "-t", "epub3", "--sandbox",
        "--lua-filter", str(job.filter("media.lua")),
        "--mathml",
        "--css", str(stylesheet), "--epub-embed-font", str(stylesheet),
        "--epub-cover-image", str(cover), "--epub-embed-font", str(cover),
        "--toc", "--toc-depth=2", "--split-level=1",
        "-o", str(output),
    ]


def zip_time(source_date: int) -> tuple[int, int, int, int, int, int]:
    """SOURCE_DATE_EPOCH as a zip entry time (UTC; zip cannot say anything before 1980)."""
    return max(time.gmtime(source_date)[:6], (1980, 1, 1, 0, 0, 0))


def fix_package(opf: str, helpers: Iterable[str], source_date: int) -> str:
    """content.opf without the helper 'font' items and with dcterms:modified from source_date."""
    for name in helpers:
        opf = re.sub(r'\n?[ \t]*<item\b[^>]*\bhref="fonts/' + re.escape(name) + r'"[^>]*/>', "", opf)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(source_date))
    opf, count = re.subn(r'(<meta property="dcterms:modified">)[^<]*(</meta>)', rf"\g<1>{stamp}\g<2>", opf)
    if count != 1:
        raise RenderError("pandoc wrote an EPUB package without one modification date; is this pandoc 3.9?")
    return opf


def page_title(xhtml: str) -> str:
    """A chapter file titled by its first heading: pandoc 3.9 titles it with its file name
    ("ch002.xhtml"), which is what a screen reader would announce for the page."""
    heading = re.search(r"<h1\b[^>]*>(.*?)</h1>", xhtml, re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", heading.group(1))).strip() if heading else ""
    if not text:
        return xhtml
    return re.sub(r"<title>ch\d+\.xhtml</title>", lambda _: f"<title>{text}</title>", xhtml, count=1)


def chapter_ids(files: dict[str, str]) -> dict[str, str]:
    """Each id in the chapter files -> the file (base name) that holds it, first file first."""
    owner: dict[str, str] = {}
    for name, xhtml in files.items():
        for ident in re.findall(r'\sid="([^"]+)"', xhtml):
            owner.setdefault(html.unescape(ident), name.rsplit("/", 1)[-1])
    return owner


def link_across_files(name: str, xhtml: str, owner: dict[str, str]) -> str:
    """Point '#id' at the file holding the id: pandoc 3.9 does this for headings and divs but not
    for figures, so a link to a figure in another chapter would lead nowhere (EPUBCheck RSC-012)."""
    here = name.rsplit("/", 1)[-1]

    def fix(match: re.Match) -> str:
        target = owner.get(html.unescape(match.group(1)))
        if target is None or target == here:
            return match.group(0)
        return f'href="{target}#{match.group(1)}"'

    return re.sub(r'href="#([^"]+)"', fix, xhtml)


def repack(epub: bytes, source_date: int, helpers: Iterable[str]) -> bytes:
    """The EPUB rezipped: helper copies under EPUB/fonts/ dropped, package fixed, chapter files
    titled, fixed times.

    Entry order, names and compression are kept (mimetype first and stored, as OCF requires);
    attributes and the creating system are fixed so the bytes do not depend on the machine.
    """
    helpers = list(helpers)
    dropped = {f"EPUB/fonts/{name}" for name in helpers}
    stamp = zip_time(source_date)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(epub)) as source, zipfile.ZipFile(out, "w") as target:
        names = source.namelist()
        if not names or names[0] != "mimetype" or OPF not in names:
            raise RenderError("pandoc wrote an EPUB with an unexpected layout; is this pandoc 3.9?")
        chapters = {n: source.read(n).decode("utf-8") for n in names if CHAPTER_FILE.fullmatch(n)}
        owner = chapter_ids(chapters)
        for info in source.infolist():
            if info.filename in dropped:
                continue
            data = source.read(info)
            if info.filename == OPF:
                data = fix_package(data.decode("utf-8"), helpers, source_date).encode("utf-8")
            elif info.filename in chapters:
                data = page_title(link_across_files(info.filename, chapters[info.filename], owner)).encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = info.compress_type
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data, compresslevel=9 if info.compress_type == zipfile.ZIP_DEFLATED else None)
    return out.getvalue()


# ---------------------------------------------------------------- the renderer


def stage(job: Job) -> tuple[dict, Path, Path]:
    """Check the AST, then write the stylesheet and the cover into work_dir under fixed names."""
    doc = job.document()
    if not meta_text(doc, "identifier"):
        raise RenderError("the edition has no identifier, so every EPUB build would get a new random one")
    for src in image_sources(doc):
        resolve_image(job.root, src)
    stylesheet = job.work_dir / "epub-style.css"
    try:
        shutil.copyfile(job.template("epub/style.css"), stylesheet)
    except OSError as err:
        raise RenderError(f"the EPUB stylesheet could not be read: {err.strerror or err}") from None
    cover = job.work_dir / "epub-cover.png"
    cover.write_bytes(make_cover(job.template("epub/cover.typ"), cover_inputs(doc, job.lang)))
    return doc, stylesheet, cover


def render(job: Job) -> list[Path]:
    """Write out_dir/<edition_id>.epub and return [its path]; RenderError on any failure."""
    doc, stylesheet, cover = stage(job)
    staged = job.work_dir / f"{job.edition_id}.pandoc.epub"
    document = json.dumps(epub_document(doc, job.lang), ensure_ascii=False, separators=(",", ":"))
    run_pandoc(
        pandoc_args(job, stylesheet, cover, staged),
        cwd=job.root,
        stdin=document.encode("utf-8"),
        env={"SOURCE_DATE_EPOCH": str(job.source_date), ROOT_ENV: str(job.root.resolve())},
    )
    try:
        book = repack(staged.read_bytes(), job.source_date, (stylesheet.name, cover.name))
    except (OSError, zipfile.BadZipFile):
        raise RenderError("pandoc reported success but wrote no readable EPUB file") from None
    target = job.out_dir / f"{job.edition_id}.epub"
    write_atomic(target, book)
    return [target]
