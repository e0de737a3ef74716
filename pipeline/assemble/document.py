"""An edition as one Pandoc document: chapters in order, with title block, parts and references.

Each chapter is parsed by Pandoc on its own, so a chapter cannot break the
structure around it (an unclosed fence stays inside its chapter), and one
parse serves every edition that holds the chapter.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import unquote

from pipeline.assemble import ast as A
from pipeline.assemble.editions import Plan
from pipeline.assemble.safety import sanitise
from pipeline.project import Project
from pipeline.render.pandoc import RenderError, run_pandoc
from pipeline.sources.chapters import Chapter


@dataclass(frozen=True)
class Parsed:
    """One chapter as Pandoc read it."""

    path: str
    kind: str
    stem: str
    title: list[A.Node]  # inlines
    summary: list[A.Node]  # blocks
    blocks: list[A.Node]
    authors: tuple[dict, ...]
    lang: str | None
    status: str
    api: list[int]


def _front_matter(chapter: Chapter) -> str:
    """Only the fields Pandoc should read as Markdown, re-serialised (JSON is YAML)."""
    fields = {k: chapter.meta[k] for k in ("title", "summary") if isinstance(chapter.meta.get(k), str)}
    return "---\n" + json.dumps(fields, ensure_ascii=False) + "\n---\n\n"


def rebase_images(blocks: list[A.Node], chapter_path: str) -> list[A.Node]:
    """Image paths as written are relative to the chapter; the edition needs them from the root."""
    folder = posixpath.dirname(chapter_path)

    def visit(node: A.Node) -> Any:
        if node["t"] != "Image":
            return None
        target = node["c"][2]
        src = unquote(target[0].split("#", 1)[0].split("?", 1)[0])
        if "://" in src or src.startswith(("/", "data:")):
            return None
        node["c"][2] = [posixpath.normpath(posixpath.join(folder, src)), target[1]]
        return node

    return A.walk(blocks, visit)


def parse_chapter(project: Project, chapter: Chapter) -> Parsed:
    source = (_front_matter(chapter) + chapter.body).encode("utf-8")
    doc = _read(project, source, chapter.path)
    return parsed_from(project, chapter, doc.get("meta", {}), doc["blocks"], doc["pandoc-api-version"])


def parse_front_matters(project: Project, chapters: list[Chapter]) -> list[Parsed]:
    """Chapters of front matter only (translations of a title and summary), in one Pandoc run.

    Pandoc reads each title and summary exactly as it reads them in a chapter's own front
    matter: as Markdown inside YAML metadata, here one list item per chapter.
    """
    if not chapters:
        return []
    fields = [{k: ch.meta[k] for k in ("title", "summary") if isinstance(ch.meta.get(k), str)} for ch in chapters]
    source = ("---\n" + json.dumps({"chapters": fields}, ensure_ascii=False) + "\n---\n").encode("utf-8")
    doc = _read(project, source, ", ".join(ch.path for ch in chapters[:3]))
    items = doc.get("meta", {}).get("chapters", {}).get("c", [])
    if len(items) != len(chapters):
        raise RenderError("pandoc returned the front matter of fewer chapters than it was given")
    return [parsed_from(project, ch, item.get("c", {}) if isinstance(item, dict) else {}, [],
                        doc["pandoc-api-version"]) for ch, item in zip(chapters, items)]


def _read(project: Project, source: bytes, what: str) -> dict:
    out = run_pandoc(["-f", "markdown", "-t", "json", "--sandbox"], cwd=project.root, stdin=source)
    try:
        return json.loads(out.decode("utf-8"))
    except ValueError:
        raise RenderError(f"{what}: pandoc returned an unreadable document") from None


def parsed_from(project: Project, chapter: Chapter, meta: dict, body: list[A.Node], api: list[int]) -> Parsed:
    """The chapter as the editions use it, from what Pandoc read: sanitised, images from the root."""
    title = meta.get("title", {}).get("c", []) if meta.get("title", {}).get("t") == "MetaInlines" else []
    summary = meta.get("summary", {})
    summary_blocks = (summary.get("c", []) if summary.get("t") == "MetaBlocks"
                      else [A.para(summary.get("c", []))] if summary.get("t") == "MetaInlines" else [])
    authors = tuple(a for a in chapter.meta.get("authors") or [] if isinstance(a, dict))
    lang = chapter.meta.get("lang") if isinstance(chapter.meta.get("lang"), str) else None
    status = chapter.meta.get("status") if isinstance(chapter.meta.get("status"), str) else "draft"
    allowed = project.allow.raw  # whatever the check reported, nothing unsafe goes further
    blocks = rebase_images(sanitise(body, allowed), chapter.path)
    if project.allow.remote_images:
        blocks = remote_images_as_links(blocks)
    return Parsed(chapter.path, chapter.kind, chapter.stem, sanitise(title, allowed) or A.text(chapter.stem),
                  sanitise(summary_blocks, allowed), blocks, authors, lang, status, api)


def remote_images_as_links(blocks: list[A.Node]) -> list[A.Node]:
    """An image on the web becomes a link to it, described by its alt text.

    The build is offline and an edition loads nothing from the web, so even where paper.yml
    allows remote images they are never fetched or embedded: the reader follows the link.
    """

    def visit(node: A.Node) -> Any:
        if node["t"] != "Image" or not node["c"][2][0].lower().startswith(("http://", "https://")):
            return None
        description = node["c"][1] or A.text(node["c"][2][0])
        return A.link([A.span(A.attr("", ["remote-image"]), description)], node["c"][2][0])

    return A.walk(blocks, visit)


def unique_heading_ids(parsed: list[Parsed], explicit: dict[str, set[str]]) -> list[Parsed]:
    """Pandoc's automatic ids ('context', 'how-it-works') repeat in every case study once merged.

    Each chapter's automatic ids get its file stem as a prefix ('luma-context'); links
    follow: within the chapter always, from other chapters when only one chapter had the id.
    Ids an author wrote ({#sec:x}, {#background}) are never changed.
    """
    renames: dict[str, dict[str, str]] = {}
    owners: dict[str, list[str]] = {}
    for p in parsed:
        mine: dict[str, str] = {}
        for h in A.nodes(p.blocks, "Header"):
            ident = h["c"][1][0]
            if ident and ident not in explicit.get(p.path, set()):
                mine[ident] = f"{p.stem}-{ident}"
                owners.setdefault(ident, []).append(p.path)
        renames[p.path] = mine
    unique = {old: renames[paths[0]][old] for old, paths in owners.items() if len(paths) == 1}
    out = []
    for p in parsed:
        mine = renames[p.path]

        def visit(node: A.Node, mine=mine) -> Any:
            if node["t"] == "Header" and node["c"][1][0] in mine:
                node["c"][1][0] = mine[node["c"][1][0]]
            elif node["t"] == "Link" and node["c"][2][0].startswith("#"):
                target = node["c"][2][0][1:]
                new = mine.get(target) or unique.get(target)
                if new:
                    node["c"][2][0] = "#" + new
            return node

        out.append(dataclasses.replace(p, blocks=A.walk(p.blocks, visit)))
    return out


def author_line(authors: tuple[dict, ...]) -> list[A.Node]:
    """'Ada Example (Example Foundation) ORCID; Ben Other' as inlines."""
    out: list[A.Node] = []
    for i, person in enumerate(authors):
        if i:
            out += [{"t": "Str", "c": ";"}, {"t": "Space"}]
        out.append(A.span(A.attr("", ["author"]), A.text(str(person.get("name", "")))))
        if person.get("affiliation"):
            out += [{"t": "Space"}, A.span(A.attr("", ["affiliation"]), A.text(f"({person['affiliation']})"))]
        if person.get("orcid"):
            orcid = str(person["orcid"])
            out += [{"t": "Space"}, A.link(A.text("ORCID"), f"https://orcid.org/{orcid}",
                                           A.attr("", ["orcid"], {"aria-label": f"ORCID {orcid}"}))]
    return out


def chapter_div(p: Parsed, body: list[A.Node], paper_lang: str, numbered: bool) -> A.Node:
    kv = {"source": p.path}
    if p.lang and p.lang != paper_lang:
        kv["lang"] = p.lang
    heading = A.header(1, A.attr(f"sec:{p.stem}", [] if numbered else ["unnumbered"]), A.clone(p.title))
    authors = [A.div(A.attr("", ["authors"]), [A.para(author_line(p.authors))])] if p.authors else []
    return A.div(A.attr(f"chapter-{p.stem}", ["chapter", p.kind]), [heading, *authors, *A.clone(body)])


def part_div(name: str) -> A.Node:
    return A.div(A.attr("", ["part"]), [A.para(A.text(name))])


def edition_blocks(plan: Plan, parsed: dict[str, Parsed], project: Project, terms: dict[str, str]) -> list[A.Node]:
    """The chapters of one edition; the summary edition takes each chapter's summary instead of its body."""
    lead = project.executive_summary
    chapters = [parsed[p] for p in plan.chapters if p in parsed]
    blocks: list[A.Node] = []
    if plan.kind == "summary":
        for p in chapters:
            if p.path == lead:
                blocks.insert(0, chapter_div(p, p.blocks, project.lang, numbered=False))
            else:
                blocks.append(chapter_div(p, p.summary, project.lang, numbered=False))
        return blocks
    if plan.kind == "offprint":
        return [chapter_div(p, p.blocks, project.lang, numbered=False) for p in chapters]
    kinds = {p.kind for p in chapters if p.path != lead}
    previous = None
    for p in chapters:
        if p.path == lead:
            blocks.append(chapter_div(p, p.blocks, project.lang, numbered=False))
            continue
        if len(kinds) > 1 and p.kind != previous:
            blocks.append(part_div(terms["cases"] if p.kind == "case-study" else terms["shared"]))
        previous = p.kind
        blocks.append(chapter_div(p, p.blocks, project.lang, numbered=True))
    return blocks


def cited_keys(blocks: list[A.Node], known: set[str]) -> list[str]:
    """Bibliography keys cited in these blocks, first citation first."""
    keys = (c["citationId"] for cite in A.nodes(blocks, "Cite") for c in cite["c"][0])
    return [k for k in dict.fromkeys(keys) if k in known]


def iso_date(source_date: int) -> str:
    return datetime.fromtimestamp(source_date, tz=timezone.utc).strftime("%Y-%m-%d")


def edition_identifier(project: Project, edition_id: str) -> str:
    """Stable across builds (EPUB readers use it to know a book they already have)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"paper-press:{project.title}:{edition_id}"))


def _names(people) -> list[str]:
    return [str(p.get("name") if isinstance(p, dict) else p.name) for p in people]


def _join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " & " + names[-1] if names else ""


def title_with_subtitle(project: Project) -> str:
    """'Title: Subtitle', or 'Title? Subtitle' when the title already ends in punctuation."""
    if not project.subtitle:
        return project.title
    joiner = " " if project.title.rstrip()[-1:] in "?!.:" else ": "
    return project.title.rstrip() + joiner + project.subtitle


def overall_status(statuses: Iterable[str]) -> str:
    """An edition (or the paper) is as far along as its least finished chapter."""
    found = set(statuses)
    return "draft" if "draft" in found or not found else "review" if "review" in found else "approved"


def paper_citation(project: Project, year: str, edition_title: str | None = None) -> str:
    """How to cite the paper (or one of its whole-paper editions, named in brackets)."""
    bracket = f" ({edition_title})" if edition_title else ""
    return f"{_join_names(_names(project.editors))} ({year}). {title_with_subtitle(project)}{bracket}."


def edition_meta(plan: Plan, project: Project, parsed: dict[str, Parsed], terms: dict[str, str],
                 source_date: int) -> dict[str, A.Node]:
    """Title block, identifiers and the 'how to cite' line of one edition."""
    chapters = [parsed[p] for p in plan.chapters if p in parsed]
    year = iso_date(source_date)[:4]
    editors = _names(project.editors)
    full_title = title_with_subtitle(project)
    status = overall_status(p.status for p in chapters)
    if plan.kind == "offprint" and chapters:
        lead = chapters[0]
        title = A.stringify(lead.title)
        people = _names(lead.authors)
        edition_title = plan.title or terms["offprint"]
        cite = (f"{_join_names(people)} ({year}). {title}. In {_join_names(editors)} (Eds.), "
                f"{full_title}.")
        description = A.stringify(lead.summary)
    else:
        title = project.title
        people = editors
        edition_title = plan.title or (terms["summary"] if plan.kind == "summary" else terms["paper"])
        cite = paper_citation(project, year, edition_title if plan.kind == "summary" else None)
        summary_of = next((p for p in chapters if p.path == project.executive_summary), chapters[0] if chapters else None)
        description = A.stringify(summary_of.summary) if summary_of else ""
    meta: dict[str, A.Node] = {
        "title": A.meta_inlines(A.text(title)),
        "author": A.meta_list([A.meta_inlines(A.text(n)) for n in people]),
        "lang": A.meta_string(project.lang),
        "date": A.meta_string(iso_date(source_date)),
        "identifier": A.meta_string(edition_identifier(project, plan.id)),
        "edition-id": A.meta_string(plan.id),
        "edition-kind": A.meta_string(plan.kind),
        "edition-title": A.meta_inlines(A.text(edition_title)),
        "paper-title": A.meta_inlines(A.text(project.title)),
        "cite-as": A.meta_inlines(A.text(cite)),
        "toc-title": A.meta_inlines(A.text(terms["contents"])),
        "description": A.meta_string(description),
        "status": A.meta_string(status),
        "draft-label": A.meta_inlines(A.text(terms["draft"])),
        "cite-label": A.meta_inlines(A.text(terms["cite"])),
        "link-citations": A.meta_bool(True),
        "papersize": A.meta_string(project.papersize),
    }
    if project.short_title:
        meta["short-title"] = A.meta_inlines(A.text(project.short_title))
    if project.subtitle and plan.kind != "offprint":
        meta["subtitle"] = A.meta_inlines(A.text(project.subtitle))
    if plan.kind == "offprint":
        meta["subtitle"] = A.meta_inlines(A.text(f"{terms['from'].capitalize()} {full_title}"))
    return meta


def references_blocks(terms: dict[str, str]) -> list[A.Node]:
    return [A.header(1, A.attr("references", ["unnumbered"]), A.text(terms["references"])),
            A.div(A.attr("refs", ["references"]), [])]


def split_references(blocks: list[A.Node], terms: dict[str, str]) -> list[A.Node]:
    """One list after each chapter instead of one at the end (citeproc itself only makes one).

    Each chapter gets copies of the entries it cites, with ids made unique per
    chapter, and its citation links are pointed at its own copies.
    """
    refs = next((b for b in blocks if b.get("t") == "Div" and b["c"][0][0] == "refs"), None)
    if refs is None:
        return blocks
    entries = {e["c"][0][0]: e for e in refs["c"][1] if e.get("t") == "Div"}
    out = []
    for block in blocks:
        if block is refs or (block.get("t") == "Header" and block["c"][1][0] == "references"):
            continue
        if block.get("t") == "Div" and "chapter" in block["c"][0][1]:
            block = _chapter_references(block, entries, terms)
        out.append(block)
    return out


def _chapter_references(chapter: A.Node, entries: dict[str, A.Node], terms: dict[str, str]) -> A.Node:
    stem = chapter["c"][0][0].removeprefix("chapter-")
    keys = [f"ref-{c['citationId']}" for cite in A.nodes(chapter, "Cite") for c in cite["c"][0]]
    mine = [k for k in dict.fromkeys(keys) if k in entries]
    if not mine:
        return chapter
    order = list(entries)
    mine.sort(key=order.index)

    def relink(node: A.Node):
        if node["t"] == "Link" and node["c"][2][0].removeprefix("#") in mine:
            node["c"][2][0] = f"#{stem}-{node['c'][2][0][1:]}"
        return node

    body = A.walk(chapter["c"][1], relink)
    copies = []
    for key in mine:
        entry = A.clone(entries[key])
        entry["c"][0][0] = f"{stem}-{key}"
        copies.append(entry)
    body += [A.header(2, A.attr(f"references-{stem}", ["unnumbered"]), A.text(terms["references"])),
             A.div(A.attr(f"refs-{stem}", ["references"]), copies)]
    return A.div(chapter["c"][0], body)
