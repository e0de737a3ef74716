"""Front matter: the fields every chapter must carry, with the right types and values."""

from __future__ import annotations

import re
from typing import Iterable

from pipeline.project import valid_lang
from pipeline.rules.context import Context, did_you_mean
from pipeline.rules.registry import Hit, rule
from pipeline.sources.chapters import Chapter

STATUSES = ("draft", "review", "approved")
KNOWN_FIELDS = (
    "title", "authors", "summary", "status", "lang", "peer", "subtitle", "keywords",
    "date", "abstract", "translation-of", "label",
)
ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$")


def _parsed(ctx: Context) -> Iterable[Chapter]:
    """Chapters whose front matter could be read; the others already have an FM00x error."""
    return (ch for ch in ctx.chapters if ch.meta_doc is not None and isinstance(ch.meta_doc.value, dict))


def _required(ch: Chapter) -> tuple[str, ...]:
    return ("title", "authors", "summary") + (("peer",) if ch.kind == "case-study" else ())


@rule("FM005", "required-field", "error", "front matter has title, authors and summary (and peer in a case study)")
def required_field(ctx: Context) -> Iterable[Hit]:
    hints = {
        "title": "the chapter's title",
        "authors": "a list of authors, each with a name",
        "summary": "one paragraph for the summary edition",
        "peer": "the id of your organisation as listed under peers in paper.yml",
    }
    for ch in _parsed(ctx):
        for name in _required(ch):
            value = ch.meta.get(name)
            if value is None or (isinstance(value, (str, list)) and not value):
                line, col = ch.meta_key_pos(name) if name in ch.meta else (ch.meta_line, 1)
                yield Hit(ch.path, line, col, f"front matter needs '{name}:' ({hints[name]})")


def _type_problems(ch: Chapter) -> Iterable[tuple[tuple, str]]:
    meta = ch.meta
    for name in ("title", "summary", "status", "lang", "peer", "subtitle"):
        value = meta.get(name)
        if value is not None and not isinstance(value, str):
            yield (name,), f"'{name}' must be text; put it in double quotes"
    authors = meta.get("authors")
    if authors is None:
        return
    if not isinstance(authors, list):
        yield ("authors",), "'authors' must be a list: one line '- name: ...' per author"
        return
    for i, author in enumerate(authors):
        if isinstance(author, str):
            yield ("authors", i), f"author '{author}' must be written as '- name: {author}'"
        elif not isinstance(author, dict):
            yield ("authors", i), "each author must be written as '- name: ...'"
        elif not isinstance(author.get("name"), str) or not author["name"].strip():
            yield ("authors", i), "each author needs a 'name:'"
        else:
            for key in ("affiliation", "orcid", "email"):
                if author.get(key) is not None and not isinstance(author[key], str):
                    yield ("authors", i, key), f"the author's '{key}' must be text"


@rule("FM006", "field-type", "error", "front matter values have the right type (text, list of authors with names)")
def field_type(ctx: Context) -> Iterable[Hit]:
    for ch in _parsed(ctx):
        for key, message in _type_problems(ch):
            line, col = ch.meta_pos(*key)
            yield Hit(ch.path, line, col, message)


def orcid_checksum_ok(digits: str) -> bool:
    """ISO 7064 MOD 11-2, as ORCID specifies for its last character."""
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


@rule("FM007", "orcid", "error", "an author's ORCID iD has the form 0000-0000-0000-000X and a valid check digit")
def orcid(ctx: Context) -> Iterable[Hit]:
    for ch in _parsed(ctx):
        authors = ch.meta.get("authors")
        for i, author in enumerate(authors if isinstance(authors, list) else []):
            if not isinstance(author, dict) or author.get("orcid") is None:
                continue
            value = str(author["orcid"]).strip()
            line, col = ch.meta_pos("authors", i, "orcid")
            match = ORCID.match(value)
            if not match:
                yield Hit(ch.path, line, col,
                          f"ORCID iD '{value}' must look like 0000-0002-1825-0097 (16 digits in groups of four)")
            elif not orcid_checksum_ok(match.group(1).replace("-", "")):
                yield Hit(ch.path, line, col,
                          f"ORCID iD '{value}' has a wrong check digit (last character); copy it again from orcid.org")


@rule("FM008", "status", "error", "status is one of draft, review, approved")
def status(ctx: Context) -> Iterable[Hit]:
    for ch in _parsed(ctx):
        value = ch.meta.get("status")
        if isinstance(value, str) and value not in STATUSES:
            line, col = ch.meta_pos("status")
            yield Hit(ch.path, line, col,
                      f"status '{value}' must be one of draft, review, approved{did_you_mean(value, STATUSES, 0.5)}")


@rule("FM009", "lang", "error", "lang is a valid BCP 47 language tag (en, de-DE, fr)")
def lang(ctx: Context) -> Iterable[Hit]:
    names = {"english": "en", "german": "de", "deutsch": "de", "french": "fr", "français": "fr",
             "francais": "fr", "finnish": "fi", "suomi": "fi", "spanish": "es"}
    for ch in _parsed(ctx):
        value = ch.meta.get("lang")
        if isinstance(value, str) and not valid_lang(value):
            line, col = ch.meta_pos("lang")
            hint = names.get(value.strip().lower())
            extra = f"; for this language write '{hint}'" if hint else " (e.g. en, de, fr, fi, en-GB)"
            yield Hit(ch.path, line, col, f"lang '{value}' is not a valid BCP 47 language tag{extra}")


@rule("FM010", "unknown-peer", "error", "a case study's peer is listed under peers in paper.yml")
def unknown_peer(ctx: Context) -> Iterable[Hit]:
    ids = [p.id for p in ctx.project.peers]
    for ch in _parsed(ctx):
        value = ch.meta.get("peer")
        if isinstance(value, str) and value and ctx.project.peer(value) is None:
            line, col = ch.meta_pos("peer")
            listed = did_you_mean(value, ids, 0.6) or (
                f"; paper.yml lists {', '.join(ids)}" if ids else "; paper.yml lists no peers yet"
            )
            yield Hit(ch.path, line, col, f"peer '{value}' is not listed under peers in paper.yml{listed}")


@rule("FM011", "duplicate-peer", "error", "each peer has at most one case study")
def duplicate_peer(ctx: Context) -> Iterable[Hit]:
    seen: dict[str, str] = {}
    for ch in _parsed(ctx):
        value = ch.meta.get("peer")
        if ch.kind != "case-study" or not isinstance(value, str) or not value:
            continue
        if value in seen:
            line, col = ch.meta_pos("peer")
            yield Hit(ch.path, line, col, f"peer '{value}' already has a case study: {seen[value]}")
        else:
            seen[value] = ch.path


@rule("FM012", "unknown-field", "warning", "a front matter field that looks like a misspelt known field")
def unknown_field(ctx: Context) -> Iterable[Hit]:
    for ch in _parsed(ctx):
        for name in ch.meta:
            if name in KNOWN_FIELDS:
                continue
            hint = did_you_mean(name, KNOWN_FIELDS, 0.7)
            if hint:
                line, col = ch.meta_key_pos(name)
                yield Hit(ch.path, line, col, f"unknown front matter field '{name}'{hint}")
