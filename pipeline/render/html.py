"""RENDER, HTML: one page per edition, `out_dir/index.html`, with in-page anchors.

Why one page: every cross-reference, citation and footnote is then an in-page link that cannot
break, the page works offline from a file:// URL, saves as one file plus its figures, and a reader
finds anything with Ctrl+F. The page loads nothing from the web: the stylesheet and every figure are
copied beside it, and math is written as MathML (no MathJax).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from pipeline.assemble.ast import elements, meta_text, stringify, walk
from pipeline.assemble.i18n import terms
from pipeline.render.images import image_relpath, image_sources, resolve_image
from pipeline.render.files import write_atomic
from pipeline.render.job import Job
from pipeline.render.pandoc import RenderError, run_pandoc

STYLESHEET = "style.css"

def labels(lang: str) -> dict[str, str]:
    """The page's own words in `lang` (BCP 47)."""
    return terms(lang or "en")


def render(job: Job) -> list[Path]:
    """Write `out_dir/index.html` with its stylesheet and figures; return [index.html].

    Images are checked before anything is written, and the page is written last, so a failure
    leaves no page pointing at missing files.
    """
    doc = job.document()
    images = {image_relpath(src): resolve_image(job.root, src) for src in image_sources(doc)}
    stylesheet = job.template(f"html/{STYLESHEET}")
    if not stylesheet.is_file():
        raise RenderError(f"the HTML stylesheet {stylesheet} is missing")
    words = labels(meta_text(doc, "lang") or job.lang)
    ast = json.dumps(prepare(doc, words), ensure_ascii=False, separators=(",", ":"))
    page = run_pandoc(pandoc_args(job, doc), cwd=job.root, stdin=ast.encode("utf-8"),
                      env={"SOURCE_DATE_EPOCH": str(job.source_date)})
    write_atomic(job.out_dir / "assets" / STYLESHEET, stylesheet.read_bytes())
    for rel, source in sorted(images.items()):
        write_atomic(job.out_dir / rel, source.read_bytes())
    index = job.out_dir / "index.html"
    write_atomic(index, page)
    return [index]


def pandoc_args(job: Job, doc: dict[str, Any]) -> list[str]:
    """Pandoc's command line: a standalone HTML5 page from our template, sandboxed, MathML math.

    No --number-sections (numbers are already in the AST) and no --embed-resources (figures are
    files beside the page, so the page stays small and each figure can be saved on its own).
    Headings move down one level so the page title is the only h1 (chapters h2, sections h3):
    screen readers treat every h1 as top level. The TOC depth counts the shifted levels, so 3
    here lists chapters and their sections, as --toc-depth=2 would without the shift.
    """
    words = labels(meta_text(doc, "lang") or job.lang)
    args = [
        "-f", "json", "-t", "html5", "--standalone",
        f"--template={job.template('html/page.html')}",
        "--sandbox", "--toc", "--toc-depth=3", "--shift-heading-level-by=1",
        "--section-divs", "--mathml",
        f"--variable=pagetitle:{html.escape(page_title(doc))}",
        f"--variable=label-skip:{html.escape(words['skip'])}",
        f"--variable=label-draft:{html.escape(words['draft'])}",
        f"--variable=label-cite:{html.escape(words['cite'])}",
    ]
    if not meta_text(doc, "toc-title"):
        args.append(f"--metadata=toc-title:{words['contents']}")
    if not meta_text(doc, "lang"):
        args.append(f"--metadata=lang:{job.lang}")
    if meta_text(doc, "status").strip().lower() == "draft":
        args.append("--variable=draft:true")
    return args


def page_title(doc: dict[str, Any]) -> str:
    """The browser tab's title: the document title, then the edition's name when it adds one."""
    title = meta_text(doc, "title")
    edition = meta_text(doc, "edition-title")
    return f"{title} – {edition}" if edition and edition not in title else title


# --- the AST as plain JSON: small walkers, no pandoc round trip --------------------------------

def prepare(doc: dict[str, Any], words: dict[str, str]) -> dict[str, Any]:
    """The AST as the HTML page needs it: fig-alt as the image's alt, tables that scroll, unique ids."""
    blocks = walk(doc.get("blocks", []), lambda node: wrap_table(use_fig_alt(node), words["table"]))
    unique_ids(blocks)
    return {**doc, "blocks": blocks}


# Ids the page template or pandoc's writer add around the body ("title" because the TOC link to a
# heading `title` gets the id `toc-title`).
RESERVED_IDS = frozenset({"main", "toc-title", "title", "TOC", "footnotes"})
# Where each element kind keeps its Attr ([id, classes, key-values]) in pandoc's JSON.
ATTR_INDEX = {"Header": 1, "Div": 0, "Span": 0, "Figure": 0, "Table": 0, "CodeBlock": 0,
              "Code": 0, "Link": 0, "Image": 0}


def unique_ids(blocks: list[Any]) -> None:
    """Rename, in place, every id already used earlier in the page (`x` -> `x-2`).

    One page holds every chapter, and chapters parsed one by one can each have a heading called
    "Context" with the automatic id `context`; a repeated id is invalid HTML and makes a link
    land on the wrong one. The first keeps its id (links to it stay right); later ones are renamed.
    """
    taken: set[str] = set(RESERVED_IDS)
    for node in elements(blocks):
        index = ATTR_INDEX.get(node.get("t", ""))
        if index is None:
            continue
        attr = node["c"][index]
        ident = attr[0]
        if not ident:
            continue
        if ident in taken:
            suffix = 2
            while f"{ident}-{suffix}" in taken:
                suffix += 1
            ident = attr[0] = f"{ident}-{suffix}"
        taken.add(ident)


def use_fig_alt(node: dict[str, Any]) -> dict[str, Any]:
    """An Image's `fig-alt` becomes its alt text (pandoc's HTML writer would ignore it)."""
    if node.get("t") != "Image":
        return node
    (ident, classes, pairs), inlines, target = node["c"]
    alt = next((value for key, value in pairs if key == "fig-alt"), None)
    if alt is None or not alt.strip():
        return node
    kept = [[key, value] for key, value in pairs if key not in ("fig-alt", "alt")]
    return {**node, "c": [[ident, classes, kept + [["alt", alt]]], inlines, target]}


def wrap_table(node: dict[str, Any], fallback: str) -> dict[str, Any]:
    """A Table inside a labelled, focusable region that scrolls sideways on a narrow screen.

    Scrolling the wrapper (not the table) keeps the table's semantics for screen readers; the
    label and tabindex let a keyboard user reach and scroll it.
    """
    if node.get("t") != "Table":
        return node
    caption = stringify(node["c"][1]) or fallback
    attrs = [["role", "region"], ["tabindex", "0"], ["aria-label", caption]]
    return {"t": "Div", "c": [["", ["table-scroll"], attrs], [node]]}
