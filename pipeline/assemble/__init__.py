"""ASSEMBLE: every edition as one finished Pandoc AST (chapters, numbers, citations).

Format-independent work happens here exactly once per edition, so HTML, PDF
and EPUB are written from the same document and cannot disagree.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.assemble import ast as A
from pipeline.assemble.citeproc import is_note_style, splice
from pipeline.assemble.citeproc import skeleton as citeproc_skeleton
from pipeline.assemble.crossref import Target, number, resolve
from pipeline.assemble.csljson import to_csl_json
from pipeline.assemble.document import (
    Parsed,
    cited_keys,
    edition_blocks,
    edition_meta,
    parse_chapter,
    parse_front_matters,
    references_blocks,
    split_references,
    unique_heading_ids,
)
from pipeline.assemble.editions import Plan, plan_editions
from pipeline.assemble.i18n import terms as terms_for
from pipeline.assemble.languages import as_source, localised
from pipeline.assemble.safety import sanitise
from pipeline.cache import Cache, key
from pipeline.project import Project, style_file
from pipeline.render.pandoc import RenderError, run_pandoc
from pipeline.sources.paper import Sources

__all__ = ["Assembled", "Plan", "assemble", "csl_items", "parse_all", "plan_editions", "paper_targets"]


@dataclass(frozen=True)
class Assembled:
    plan: Plan
    ast: bytes


def parse_all(project: Project, sources: Sources, map_fn=map, cache: Cache | None = None) -> dict[str, Parsed]:
    """Every readable chapter parsed once (``map_fn`` may run them in parallel), or taken from the cache."""
    chapters = [ch for ch in sources.chapters if ch.readable]
    parsed = list(map_fn(lambda ch: parse_cached(project, ch, cache), chapters))
    explicit = {ch.path: {h.id for h in ch.scan.headings if h.id} for ch in chapters}
    return {p.path: p for p in unique_heading_ids(parsed, explicit)}


@dataclass(frozen=True)
class LanguageView:
    """What the editions in one language are made of: the project in that language, its chapters, numbers."""

    project: Project
    parsed: dict[str, Parsed]
    paper: dict[str, Target]


def parse_translations(project: Project, sources: Sources, parsed: dict[str, Parsed], map_fn=map,
                       cache: Cache | None = None) -> dict[str, tuple[dict[str, Parsed], set[str]]]:
    """Per language: each readable translation of a chapter, filed under its source, and those with a body."""
    usable = [t for t in sources.translations if t.source in parsed and t.chapter.readable
              and isinstance(t.chapter.meta, dict)]
    whole = [t for t in usable if t.has_body]
    brief = [t for t in usable if not t.has_body]  # title and summary only: one Pandoc run for all
    done = [*map_fn(lambda t: parse_cached(project, t.chapter, cache), whole),
            *parse_many_front_matters(project, [t.chapter for t in brief], cache)]
    out: dict[str, tuple[dict[str, Parsed], set[str]]] = {}
    for t, p in zip(whole + brief, done):
        mine, full = out.setdefault(t.lang, ({}, set()))
        mine[t.source] = as_source(p, parsed[t.source], t.lang)
        if t.has_body:
            full.add(t.source)
    for lang, (mine, full) in out.items():
        explicit = {t.source: {h.id for h in t.chapter.scan.headings if h.id} for t in usable if t.lang == lang}
        renamed = unique_heading_ids([mine[path] for path in sorted(full)], explicit)
        mine.update({q.path: q for q in renamed})
    return out


def language_view(project: Project, lang: str, parsed: dict[str, Parsed],
                  translated: tuple[dict[str, Parsed], set[str]] | None, plans: list[Plan]) -> LanguageView:
    there = project.in_language(lang)
    mine, full = translated or ({}, set())
    chapters = localised(parsed, mine, full, project.lang, terms_for(lang)["untranslated"])
    return LanguageView(there, chapters, paper_targets(there, chapters, plans))


def parse_cached(project: Project, chapter, cache: Cache | None) -> Parsed:
    """A chapter as Pandoc read it, keyed by its text and what the paper allows of raw formats."""
    found = cached_parse(project, chapter, cache)
    if found is not None:
        return found
    result = parse_chapter(project, chapter)
    store_parse(project, chapter, cache, result)
    return result


def _parse_key(project: Project, chapter) -> str:
    allow = ",".join(sorted(project.allow.raw)) + f"|{project.allow.remote_images}"
    return key("parse", chapter.path, chapter.kind, allow, chapter.text)


def cached_parse(project: Project, chapter, cache: Cache | None) -> Parsed | None:
    stored = cache.get_value(_parse_key(project, chapter)) if cache else None
    if stored is None:
        return None
    try:
        fields = json.loads(stored)
        fields["authors"] = tuple(fields["authors"])
        return Parsed(**fields)
    except (ValueError, TypeError, KeyError):
        return None  # a foreign entry: parse again


def store_parse(project: Project, chapter, cache: Cache | None, result: Parsed) -> None:
    if cache:
        cache.put_value(_parse_key(project, chapter),
                        json.dumps(dataclasses.asdict(result), ensure_ascii=False).encode("utf-8"))


def parse_many_front_matters(project: Project, chapters: list, cache: Cache | None) -> list[Parsed]:
    """Files of front matter only, those not in the cache read by Pandoc all at once."""
    found = [cached_parse(project, ch, cache) for ch in chapters]
    missing = [ch for ch, p in zip(chapters, found) if p is None]
    fresh = iter(parse_front_matters(project, missing))
    out = []
    for ch, p in zip(chapters, found):
        if p is None:
            p = next(fresh)
            store_parse(project, ch, cache, p)
        out.append(p)
    return out


def guide_document(parsed: Parsed, lang: str) -> bytes:
    """The writer's guide as a page of its own: its first level-1 heading becomes the title."""
    blocks = list(parsed.blocks)
    title = parsed.title
    first = next((i for i, b in enumerate(blocks) if b.get("t") == "Header" and b["c"][0] == 1), None)
    if first is not None:
        title = blocks.pop(first)["c"][2]
    meta = {"title": A.meta_inlines(title), "lang": A.meta_string(parsed.lang or lang)}
    return json.dumps({"pandoc-api-version": parsed.api, "meta": meta, "blocks": blocks},
                      ensure_ascii=False).encode("utf-8")


def paper_targets(project: Project, parsed: dict[str, Parsed], plans: list[Plan]) -> dict[str, Target]:
    """The full paper's numbers, so an edition can name a figure it leaves out ('Figure 3 in the full paper')."""
    terms = terms_for(project.lang)
    paper = next((p for p in plans if p.kind == "paper"), Plan("paper", "paper", None, tuple(parsed)))
    return number(edition_blocks(paper, parsed, project, terms), terms)


def csl_items(project: Project, sources: Sources, parsed: dict[str, Parsed],
              cache: Cache | None = None) -> dict[str, dict]:
    """CSL JSON of every entry any chapter cites, converted in one Pandoc run for all editions."""
    known = set(sources.bibliography.entries)
    keys = cited_keys([b for p in parsed.values() for b in (*p.blocks, *p.summary)], known)
    return {item["id"]: item for item in to_csl_json(sources.bibliography, keys, project.root, cache)}


def csl_path(project: Project) -> Path:
    local = project.root / project.csl
    if project.csl.endswith(".csl") or "/" in project.csl:
        return local
    found = style_file(project.csl)
    if found is None:
        raise RenderError(f"the citation style '{project.csl}' is not installed")
    return found


def with_citations(doc: dict, chosen: str, style: bytes, scratch: Path, cwd: Path, cache: Cache | None) -> dict:
    """``doc`` with its citations and reference list rendered by citeproc (see assemble/citeproc.py)."""
    skeleton = None if is_note_style(style) else citeproc_skeleton(doc)
    if skeleton is not None:
        done = splice(doc, run_citeproc(skeleton, chosen, style, scratch, cwd, cache))
        if done is not None:
            return done
    return run_citeproc(doc, chosen, style, scratch, cwd, cache)


def run_citeproc(doc: dict, chosen: str, style: bytes, scratch: Path, cwd: Path, cache: Cache | None) -> dict:
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    name = key("citeproc", data, chosen, style) if cache else None
    cached = cache.get_value(name) if name else None
    if cached is not None:
        try:
            return json.loads(cached)
        except ValueError:
            pass
    refs, csl = scratch.with_suffix(".refs.json"), scratch.with_suffix(".csl")
    refs.write_text(chosen, encoding="utf-8")
    csl.write_bytes(style)
    data = run_pandoc(["-f", "json", "-t", "json", "--sandbox", "--citeproc",
                       "--bibliography", str(refs), "--csl", str(csl)], cwd=cwd, stdin=data)
    if name:
        cache.put_value(name, data)
    return json.loads(data)


def assemble(plan: Plan, project: Project, sources: Sources, parsed: dict[str, Parsed],
             paper: dict[str, Target], items: dict[str, dict], source_date: int, work_dir: Path,
             cache: Cache | None = None) -> Assembled:
    terms = terms_for(project.lang)
    blocks = edition_blocks(plan, parsed, project, terms)  # chapter_div copies what it takes
    mode = {"paper": "chapters", "custom": "chapters", "offprint": "sections"}.get(plan.kind, "none")
    here = number(blocks, terms, mode)
    blocks = resolve(blocks, here, paper, terms)
    cited = cited_keys(blocks, set(sources.bibliography.entries))
    if cited:
        blocks += references_blocks(terms)
    api = next(iter(parsed.values())).api if parsed else [1, 23, 1]
    doc = {"pandoc-api-version": api, "meta": edition_meta(plan, project, parsed, terms, source_date),
           "blocks": blocks}
    if cited:
        chosen = json.dumps([items[k] for k in cited if k in items], ensure_ascii=False, sort_keys=True)
        doc = with_citations(doc, chosen, csl_path(project).read_bytes(),
                             work_dir / f"{plan.id}", project.root, cache)
        for name in ("bibliography", "csl"):  # citeproc's scratch paths: not part of the edition
            doc["meta"].pop(name, None)
        doc["blocks"] = sanitise(doc["blocks"], project.allow.raw)  # a .bib url is author input too
        if project.references == "chapter":
            doc["blocks"] = split_references(doc["blocks"], terms)
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return Assembled(plan, data)
