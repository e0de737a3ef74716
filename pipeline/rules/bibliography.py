"""Bibliography: the entries the paper cites are complete and safe to render.

Content rules are errors only for what the paper cites (and the crossref
parents those inherit from); a shared lab bibliography may hold thousands of
entries nobody here cites, and those never block a build.
"""

from __future__ import annotations

import re
from typing import Iterable

from pipeline.rules.context import Context, did_you_mean
from pipeline.rules.registry import Hit, rule
from pipeline.sources.bibliography import BibEntry

KNOWN_TYPES = frozenset(
    """article book booklet conference inbook incollection inproceedings manual mastersthesis
    misc phdthesis proceedings techreport unpublished
    artwork audio bibnote bookinbook collection commentary customa customb customc customd
    custome customf dataset electronic image inreference jurisdiction legal legislation letter
    movie music mvbook mvcollection mvproceedings mvreference online patent performance
    periodical reference report review set software standard suppbook suppcollection
    suppperiodical thesis unpublished video www xdata""".split()
)
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
DOI_URL = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.IGNORECASE)
URL = re.compile(r"^(https?|ftp)://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$|^(https?|ftp)://localhost\b\S*$")


def _problems(ctx: Context, code: str) -> Iterable[Hit]:
    """Loader problems; those about an entry nobody cites never block a build."""
    cited = ctx.cited_closure
    for p in ctx.bib.problems:
        if p.code == code:
            spoiled = [k for k in p.affects if k in cited]  # cited entries that use a broken @string
            yield Hit(p.path, p.line, p.col, p.message, at_most_warning=p.key not in cited and not spoiled,
                      key=p.key or next(iter(spoiled), None))


def _entry_hit(entry: BibEntry, message: str, field: str | None = None) -> Hit:
    line = entry.field_lines.get(field, entry.line) if field else entry.line
    return Hit(entry.path, line, entry.col if line == entry.line else 1, message, key=entry.key)


def _cited_entries(ctx: Context) -> Iterable[BibEntry]:
    entries = ctx.bib.entries
    return (entries[k] for k in sorted(ctx.cited_keys, key=lambda k: (entries[k].path, entries[k].line)))


@rule("BIB001", "bib-syntax", "error", "every block of the .bib files can be read (braces, commas, '@type{key,')")
def bib_syntax(ctx: Context) -> Iterable[Hit]:
    return _problems(ctx, "BIB001")


@rule("BIB002", "duplicate-key", "error", "no bibliography key is defined twice (reported at the duplicate)")
def duplicate_key(ctx: Context) -> Iterable[Hit]:
    for hit in _problems(ctx, "BIB002"):
        yield Hit(hit.path, hit.line, hit.col, hit.message, key=hit.key)


@rule("BIB009", "undefined-macro", "error", "every @string macro a field uses is defined")
def undefined_macro(ctx: Context) -> Iterable[Hit]:
    return _problems(ctx, "BIB009")


@rule("BIB011", "duplicate-macro", "warning", "no @string macro is defined twice")
def duplicate_macro(ctx: Context) -> Iterable[Hit]:
    return _problems(ctx, "BIB011")


@rule("BIB012", "bib-unreadable", "error", "every bibliography file is readable UTF-8 text")
def bib_unreadable(ctx: Context) -> Iterable[Hit]:
    for hit in _problems(ctx, "BIB012"):
        yield Hit(hit.path, hit.line, hit.col, hit.message, key=hit.key)


def _missing_fields(entry_type: str, fields: dict[str, str]) -> list[str]:
    def has(*names: str) -> bool:
        return any(fields.get(n, "").strip() for n in names)

    missing = []
    if not has("author", "editor"):
        missing.append("author (or editor)")
    if not has("title"):
        missing.append("title")
    if not has("year", "date"):
        missing.append("year (or date)")
    if entry_type == "article" and not has("journal", "journaltitle"):
        missing.append("journal")
    if entry_type == "book" and not has("publisher"):
        missing.append("publisher")
    return missing


@rule("BIB003", "required-bib-field", "error",
      "a cited entry has author or editor, title, year or date; journal for @article, publisher for @book")
def required_bib_field(ctx: Context) -> Iterable[Hit]:
    for entry in _cited_entries(ctx):
        missing = _missing_fields(entry.type, ctx.bib.resolved_fields(entry.key))
        if missing:
            yield _entry_hit(entry,
                             f"entry '{entry.key}' is cited but has no {', no '.join(missing)}; "
                             "add the missing field(s) so the reference list is complete")


@rule("BIB004", "missing-crossref", "error", "a cited entry's crossref/xref parent exists")
def missing_crossref(ctx: Context) -> Iterable[Hit]:
    entries = ctx.bib.entries
    for key in sorted(ctx.cited_closure, key=lambda k: (entries[k].path, entries[k].line)):
        entry = entries[key]
        parent = ctx.bib.parent_key(key)
        field = "crossref" if "crossref" in entry.fields else "xref"
        if parent is not None and parent not in entries:
            yield _entry_hit(entry,
                             f"entry '{key}' refers to '{parent}' ({field}), which is not in the "
                             f"bibliography{did_you_mean(parent, entries.keys())}", field)


def _cycles(ctx: Context) -> list[list[str]]:
    """Every crossref cycle once, as the list of its keys in chain order."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles = []
    for start in ctx.bib.entries:
        path: list[str] = []
        key: str | None = start
        while key is not None and key in ctx.bib.entries and state.get(key) is None:
            state[key] = 1
            path.append(key)
            key = ctx.bib.parent_key(key)
        if key is not None and state.get(key) == 1:
            cycles.append(path[path.index(key):])
        for k in path:
            state[k] = 2
    return cycles


@rule("BIB005", "crossref-cycle", "error", "crossref chains end (a cycle makes Pandoc run out of memory)")
def crossref_cycle(ctx: Context) -> Iterable[Hit]:
    for cycle in _cycles(ctx):
        entries = [ctx.bib.entries[k] for k in cycle]
        first = min(entries, key=lambda e: (e.path, e.line))
        reaches = not ctx.cited_closure.isdisjoint(cycle)  # a cited entry inherits through it
        shown = cycle if len(cycle) <= 6 else cycle[:3] + [f"... ({len(cycle) - 5} more) ..."] + cycle[-2:]
        chain = " -> ".join(shown + [cycle[0]])
        hit = _entry_hit(first, f"crossref cycle {chain}; remove one of these crossref fields", "crossref")
        yield Hit(hit.path, hit.line, hit.col, hit.message, at_most_warning=not reaches, key=first.key)


@rule("BIB006", "doi-form", "warning", "a cited entry's doi is a bare DOI such as 10.1093/jopart/mum015")
def doi_form(ctx: Context) -> Iterable[Hit]:
    for entry in _cited_entries(ctx):
        doi = entry.fields.get("doi", "").strip()
        if not doi or DOI.match(doi):
            continue
        bare = DOI_URL.sub("", doi)
        advice = (f"write just '{bare}'" if DOI.match(bare)
                  else "a DOI starts with '10.' and a slash follows the prefix, e.g. 10.1093/jopart/mum015")
        yield _entry_hit(entry, f"entry '{entry.key}' has a malformed doi '{doi[:80]}'; {advice}", "doi")


@rule("BIB007", "url-form", "warning", "a cited entry's url is a complete web address (https://...)")
def url_form(ctx: Context) -> Iterable[Hit]:
    for entry in _cited_entries(ctx):
        url = entry.fields.get("url", "").strip()
        if url and not URL.match(url.replace("\\%", "%").replace("\\_", "_").replace("\\#", "#")):
            yield _entry_hit(entry,
                             f"entry '{entry.key}' has a malformed url '{url[:80]}'; "
                             "write the full address starting with https://", "url")


@rule("BIB008", "unknown-entry-type", "error", "a cited entry has a known BibTeX/biblatex type (@article, @book, ...)")
def unknown_entry_type(ctx: Context) -> Iterable[Hit]:
    cited = ctx.cited_keys
    for entry in ctx.bib.entries.values():
        if entry.type not in KNOWN_TYPES:
            yield Hit(entry.path, entry.line, entry.col,
                      f"entry '{entry.key}' has an unknown type '@{entry.type}'"
                      f"{did_you_mean(entry.type, KNOWN_TYPES, 0.6) or '; use @misc if nothing else fits'}",
                      at_most_warning=entry.key not in cited, key=entry.key)


@rule("BIB010", "uncited-entry", "warning",
      "every bibliography entry is cited somewhere (switch off for a shared bibliography)")
def uncited_entry(ctx: Context) -> Iterable[Hit]:
    closure = ctx.cited_closure
    for entry in ctx.bib.entries.values():
        if entry.key not in closure:
            yield Hit(entry.path, entry.line, entry.col, f"entry '{entry.key}' is not cited in any chapter",
                      key=entry.key)
