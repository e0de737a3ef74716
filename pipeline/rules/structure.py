"""Structure: required case-study sections, heading levels, lengths, placeholders."""

from __future__ import annotations

import re
from typing import Iterable

from pipeline.rules.context import Context
from pipeline.rules.registry import Hit, rule
from pipeline.sources.chapters import Chapter
from pipeline.sources.markdown import Heading
from pipeline.sources.paper import CHAPTER_DIRS, is_chapter_file

PLACEHOLDER_OPEN = re.compile(r"\[\[\s*TODO\b", re.IGNORECASE)


def placeholders(text: str) -> Iterable[tuple[int, int]]:
    """(start, end) of each '[[TODO ...]]', which may span lines.

    A loop rather than one lazy regex: with a lazy regex, every unclosed
    '[[TODO' scans to the end of the file, and a file full of them took
    minutes. Once no ']]' follows, no later placeholder can close either.
    """
    pos = 0
    while True:
        opening = PLACEHOLDER_OPEN.search(text, pos)
        if opening is None:
            return
        close = text.find("]]", opening.end())
        if close < 0:
            return
        yield opening.start(), close + 2
        pos = close + 2


def normalise(title: str) -> str:
    """Headings match whatever the case, spacing or trailing punctuation."""
    return " ".join(title.casefold().replace("\u00a0", " ").split()).rstrip(" .:")


def _last_line(ch: Chapter) -> int:
    return max(1, len(ch.text.rstrip("\n").split("\n")))


def _case_studies(ctx: Context) -> Iterable[Chapter]:
    return (ch for ch in ctx.chapters if ch.kind == "case-study" and ch.readable)


def _required_positions(ch: Chapter, required: tuple[str, ...]) -> dict[str, Heading]:
    found: dict[str, Heading] = {}
    for h in ch.scan.headings:
        key = normalise(h.text)
        if h.level == 2 and key not in found:
            found[key] = h
    return {name: found[normalise(name)] for name in required if normalise(name) in found}


@rule("STR001", "required-section", "error",
      "a case study has every heading of rules.case_study_sections, as a level-2 heading (##)")
def required_section(ctx: Context) -> Iterable[Hit]:
    required = ctx.project.rules.case_study_sections
    for ch in _case_studies(ctx):
        present = _required_positions(ch, required)
        for i, name in enumerate(required):
            if name in present:
                continue
            wrong_level = next(
                (h for h in ch.scan.headings if normalise(h.text) == normalise(name)), None
            )
            near = next(
                (m for m in ch.scan.near_misses if normalise(m.text.lstrip("#")) == normalise(name)), None
            )
            if wrong_level is not None:
                marks = "#" * wrong_level.level
                yield Hit(ch.path, wrong_level.line, wrong_level.col,
                          f"section '{name}' must be a level-2 heading ('## {name}'), not '{marks} {name}'")
            elif near is not None:
                yield Hit(ch.path, near.line, near.col,
                          f"required section '## {name}' is not read as a heading here: "
                          f"{_near_miss_fix(near.what)}")
            else:
                following = next((present[n] for n in required[i + 1:] if n in present), None)
                line = following.line if following else _last_line(ch)
                where = f"before '## {following.text}'" if following else "at the end"
                yield Hit(ch.path, line, 1,
                          f"required section '## {name}' is missing; add it {where} "
                          f"(rules.case_study_sections in paper.yml)")


@rule("STR006", "section-order", "warning", "a case study's required sections come in the order paper.yml lists them")
def section_order(ctx: Context) -> Iterable[Hit]:
    required = ctx.project.rules.case_study_sections
    for ch in _case_studies(ctx):
        present = _required_positions(ch, required)
        ordered = [present[n] for n in required if n in present]
        for before, after in zip(ordered, ordered[1:]):
            if after.line < before.line:
                yield Hit(ch.path, after.line, after.col,
                          f"section '{after.text}' should come after '{before.text}' "
                          "(the order of rules.case_study_sections)")
                break


@rule("STR002", "chapter-length", "error", "a chapter's word count is within rules.chapter_words (min, max)")
def chapter_length(ctx: Context) -> Iterable[Hit]:
    rules = ctx.project.rules
    for ch in ctx.chapters:
        if not ch.readable:
            continue
        words = ch.scan.words
        line, col = ch.meta_key_pos("title") if "title" in ch.meta else (ch.meta_line, 1)
        if rules.chapter_words_min is not None and words < rules.chapter_words_min:
            yield Hit(ch.path, line, col,
                      f"the chapter has {words} words; it needs at least {rules.chapter_words_min} "
                      "(rules.chapter_words in paper.yml)")
        elif rules.chapter_words_max is not None and words > rules.chapter_words_max:
            yield Hit(ch.path, line, col,
                      f"the chapter has {words} words; it may have at most {rules.chapter_words_max} "
                      "(rules.chapter_words in paper.yml): shorten it or split it")


@rule("STR003", "summary-length", "error", "a chapter's summary has at most rules.summary_max_words words")
def summary_length(ctx: Context) -> Iterable[Hit]:
    limit = ctx.project.rules.summary_max_words
    for ch in ctx.chapters:
        summary = ch.meta.get("summary")
        if isinstance(summary, str) and len(summary.split()) > limit:
            line, col = ch.meta_pos("summary")
            yield Hit(ch.path, line, col,
                      f"the summary has {len(summary.split())} words; keep it to {limit} or fewer")


@rule("STR004", "heading-skip", "error", "headings do not skip a level (## then ####)")
def heading_skip(ctx: Context) -> Iterable[Hit]:
    for ch in ctx.chapters:
        previous = 1  # the chapter title is the level-1 heading
        for h in ch.scan.headings:
            if h.level == 1:
                continue
            if h.level > previous + 1:
                yield Hit(ch.path, h.line, h.col,
                          f"heading '{h.text}' is level {h.level} but follows a level-{previous} heading; "
                          f"use {'#' * (previous + 1)}")
            previous = h.level


@rule("STR005", "body-level-1", "error", "the body has no level-1 heading (#): the title comes from front matter")
def body_level_one(ctx: Context) -> Iterable[Hit]:
    for ch in ctx.chapters:
        if any(p.code == "FM001" for p in ch.problems):
            continue  # without front matter the whole text is the body; FM001 says enough
        for h in ch.scan.headings:
            if h.level == 1:
                yield Hit(ch.path, h.line, h.col,
                          f"'# {h.text}' is a level-1 heading; the chapter title comes from 'title:' "
                          "in the front matter, so sections start at '##'")


def _near_miss_fix(what: str) -> str:
    return {
        "heading-no-space": "put a space after the '#' signs",
        "heading-no-blank-line": "leave an empty line before it",
    }.get(what, "check the line's markup")


@rule("STR007", "not-a-heading", "warning", "a line that looks like a heading but that Pandoc reads as text")
def not_a_heading(ctx: Context) -> Iterable[Hit]:
    for ch in ctx.chapters:
        for m in ch.scan.near_misses:
            if m.what.startswith("heading"):
                yield Hit(ch.path, m.line, m.col,
                          f"'{m.text.strip()[:60]}' is not read as a heading: {_near_miss_fix(m.what)}")


@rule("STR008", "not-in-contents", "warning", "every chapter file in chapters/ and case_studies/ is listed in paper.yml contents")
def not_in_contents(ctx: Context) -> Iterable[Hit]:
    """With an explicit reading order, a new file is silently left out of every edition."""
    listed = ctx.project.contents
    if listed is None:
        return
    folders = {folder for folder, _kind in CHAPTER_DIRS}
    for rel in ctx.project_files:
        if rel.rpartition("/")[0] in folders and rel not in listed and is_chapter_file(rel, ctx.project):
            yield Hit(rel, 1, 1, "this chapter is not listed under 'contents' in paper.yml, so no edition "
                                 "includes it and it is not checked; add it there (or start its file name "
                                 "with '_' to keep it aside as a draft)")


@rule("PLH001", "placeholder", "warning", "a [[TODO: ...]] placeholder is still waiting for the peer")
def placeholder(ctx: Context) -> Iterable[Hit]:
    for ch in ctx.chapters:
        # counted incrementally: one line of a file may hold 100,000 placeholders
        line, line_start, counted = 1, 0, 0
        for start, end in placeholders(ch.text):
            line += ch.text.count("\n", counted, start)
            line_start = max(line_start, ch.text.rfind("\n", counted, start) + 1)
            counted = start
            col = start - line_start + 1
            text = " ".join(ch.text[start:end].split())
            yield Hit(ch.path, line, col, f"placeholder to fill in: {text[:100]}")
