"""PDF: the edition's AST -> Typst source (pandoc, template, typst.lua) -> PDF/UA-1 (Typst, in a child process).

Typst runs through its Python binding, so no `typst` executable and no LaTeX are needed. The PDF is tagged
and compiled against the PDF/UA-1 standard, which makes Typst refuse a document with an image or equation
lacking alt text or without a language; typst.lua supplies both. Only the fonts built into Typst (and a
project's own `templates/pdf/fonts/`, if it has one) are used, never the machine's: the same input gives the
same bytes on every machine.

Typst's root (what `#image`, `#read` and `#include` can reach) is a scratch folder holding copies of the
images the edition uses, under their project-relative paths (typst.lua writes them as `/figures/x.svg`),
so raw Typst in a chapter or a template reaches nothing else of the project or the machine. Typst runs in
a child process (pipeline/render/typst_run.py) so that a compile past PAPER_TIMEOUT can be stopped.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from pipeline.assemble.i18n import terms
from pipeline.render.files import write_atomic
from pipeline.render.images import image_relpath, image_sources, resolve_image
from pipeline.render.job import Job
from pipeline.render.pandoc import RenderError, run_pandoc, timeout_seconds
from pipeline.render.process import TIMEOUT_ENV, TimedOut, seconds
from pipeline.render.typst_run import TypstCrashed, TypstFailed, compile_isolated

log = logging.getLogger(__name__)

TEMPLATE = "pdf/paper.typ"
FILTER = "typst.lua"
FONTS = "pdf/fonts"
STANDARDS = ["ua-1"]
# Editions long enough to need a table of contents; a summary or an offprint is read straight through.
KINDS_WITH_TOC = frozenset({"paper", "custom"})


def render(job: Job) -> list[Path]:
    """Write out_dir/<edition_id>.pdf and return its path; RenderError (one plain line) on failure."""
    source = typst_source(job)
    pdf = compile_pdf(source, job)
    target = job.out_dir / f"{job.edition_id}.pdf"
    write_atomic(target, pdf)
    return [target]


def typst_source(job: Job) -> bytes:
    """Pandoc's Typst text for the edition: our template, our filter, nothing read outside the project."""
    template = job.template(TEMPLATE)
    if not template.is_file():
        raise RenderError(f"PDF: the template {TEMPLATE} is missing")
    args = [
        "-f", "json", "-t", "typst", "--sandbox",
        "--template", str(template),
        "--lua-filter", str(job.filter(FILTER)),
        *template_variables(job.kind, job.lang),
    ]
    env = {"SOURCE_DATE_EPOCH": str(job.source_date)}
    return run_pandoc(args, cwd=job.root, stdin=job.ast, env=env)


def template_variables(kind: str, lang: str) -> list[str]:
    """The template's switches and printed words, as `-V` arguments (words already Typst strings)."""
    words = terms(lang)
    variables = {
        "edition-kind": typst_string(kind),
        "term-draft": typst_string(words["draft"]),
        "term-cite": typst_string(words["cite"]),
        "term-offprint": typst_string(words["offprint"]),
        "term-from": typst_string(words["from"]),
    }
    if kind in KINDS_WITH_TOC:
        variables["show-toc"] = "true"
    return [arg for name, value in variables.items() for arg in ("-V", f"{name}={value}")]


def typst_string(text: str) -> str:
    """A Typst string literal: the template splices these into code, where markup escaping would be wrong."""
    escaped = []
    for char in text:
        if char in '\\"':
            escaped.append("\\" + char)
        elif char == "\n":
            escaped.append("\\n")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{{{ord(char):x}}}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def compile_pdf(source: bytes, job: Job) -> bytes:
    """Typst source -> PDF/UA-1 bytes, dated by SOURCE_DATE_EPOCH."""
    pdf = compile_typst(source, job, output_format="pdf")
    if not isinstance(pdf, bytes) or not pdf:
        raise RenderError(f"PDF: Typst produced nothing for the {job.edition_id} edition")
    return pdf


def preview(job: Job, ppi: float = 110) -> list[bytes]:
    """Every page of the edition's PDF as a PNG image (for screenshots), from the same source and fonts."""
    pages = compile_typst(typst_source(job), job, output_format="png", ppi=ppi)
    return pages if isinstance(pages, list) else [pages]


def compile_typst(
    source: bytes, job: Job, *, output_format: str, ppi: float | None = None
) -> bytes | list[bytes]:
    """Run Typst on ``source`` with only the edition's images in its root; RenderError in plain words."""
    fonts = job.template(FONTS)
    options: dict[str, object] = {"pdf_standards": STANDARDS} if output_format == "pdf" else {}
    if ppi is not None:
        options["ppi"] = ppi
    limit = timeout_seconds()
    root = typst_root(job)
    try:
        compiled = compile_isolated(
            source, root=root, work=job.work_dir, font_paths=[str(fonts)] if fonts.is_dir() else [],
            output_format=output_format, timestamp=job.source_date, options=options, timeout=limit)
    except TypstFailed as err:
        message = without_root(plain_error(err), root)
        raise RenderError(f"PDF: Typst could not make the {job.edition_id} edition: {message}") from None
    except TimedOut:
        raise RenderError(f"PDF: Typst was still making the {job.edition_id} edition after {seconds(limit)} "
                          f"and was stopped ({TIMEOUT_ENV} sets the limit in seconds)") from None
    except TypstCrashed as err:
        raise RenderError(f"PDF: Typst crashed on the {job.edition_id} edition: {one_line(str(err))}") from None
    for warning in dedupe(compiled.warnings):
        log.warning("PDF %s: %s", job.edition_id, warning)
    if len(compiled.outputs) == 1:
        return compiled.outputs[0]
    return compiled.outputs or b""


def typst_root(job: Job) -> Path:
    """A fresh folder in work_dir holding a copy of each image the edition uses, at its project path.

    Typst compiles with this folder as its root: typst.lua's `/figures/x.svg` finds the copy, and a
    raw `#read("/paper.yml")` or `#image("/../secret")` finds nothing. Images are checked by the same
    rules as the other formats (inside the project, no link leading out) before they are copied.
    """
    root = Path(tempfile.mkdtemp(prefix="typst-root-", dir=job.work_dir))
    for src in image_sources(job.document()):
        relative = image_relpath(src)
        if not (job.root / relative).exists():
            raise RenderError(f"PDF: image file not found in the project: {relative}")
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resolve_image(job.root, src), target)
    return root


def without_root(message: str, root: Path) -> str:
    """Typst's message with the scratch root cut from its paths ('searched at /paper.yml'), and why
    a file outside the edition's images is never found."""
    for prefix in dict.fromkeys((str(root.resolve()), str(root))):
        message = message.replace(prefix, "")
    if "file not found" in message:
        message += "; Typst can read only the images the edition shows"
    return message


def one_line(text: str) -> str:
    """White space collapsed: a message is one line on the terminal."""
    return " ".join(text.split())


def plain_error(err: TypstFailed) -> str:
    """Typst's message in one line, with its first hint: the user fixes a chapter, not our Typst source."""
    message = one_line(str(getattr(err, "message", "") or err)).removeprefix("error: ")
    hints: Sequence[str] = getattr(err, "hints", None) or []
    if hints:
        message += f" (hint: {one_line(hints[0])})"
    return message


def dedupe(messages: Iterable[str]) -> list[str]:
    """Each distinct warning once, in order: a missing glyph can warn hundreds of times."""
    return list(dict.fromkeys(one_line(str(message)) for message in messages))
