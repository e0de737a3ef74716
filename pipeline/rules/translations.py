"""Translations: never stale in silence, never poorer than their source.

A translation (``chapters/intro.de.md`` beside ``chapters/intro.md``) names the version of
its source it was made from (``translation-of``). These rules compare the two; the rules of
the other families run over each translation with a body as well (see ``check``), as if it
were the chapter, in a paper of its language.
"""

from __future__ import annotations

from typing import Iterable

from pipeline.rules.context import Context, is_crossref
from pipeline.rules.registry import Hit, rule
from pipeline.sources.chapters import Chapter, parse_chapter
from pipeline.sources.translations import HASH, Translation, matches, source_hash


def _sources(ctx: Context) -> dict[str, Chapter]:
    return {ch.path: ch for ch in ctx.chapters}


def _stamp_pos(t: Translation) -> tuple[int, int]:
    return t.chapter.meta_pos("translation-of") if "translation-of" in t.chapter.meta else (1, 1)


def _checkable(ctx: Context) -> Iterable[tuple[Translation, Chapter]]:
    """Translations whose file and source were both read, with their source."""
    sources = _sources(ctx)
    for t in ctx.translations:
        source = sources.get(t.source)
        if source is not None and source.readable and t.chapter.readable and isinstance(t.chapter.meta, dict) \
                and t.chapter.meta_doc is not None:
            yield t, source


@rule("TRN001", "stale-translation", "warning",
      "a translation was made from its source as it is now (translation-of holds the source's current hash)")
def stale_translation(ctx: Context) -> Iterable[Hit]:
    for t, source in _checkable(ctx):
        if not t.stamp or not HASH.match(t.stamp) or matches(t.stamp, source.text):
            continue
        line, col = _stamp_pos(t)
        what = changes(t.base_text, source) if t.base_text is not None else \
            "the version it was made from is not in the git history, so what changed cannot be shown"
        yield Hit(t.path, line, col,
                  f"this translation is out of date: {source.path} changed since it was translated ({what}); "
                  f"bring the translation up to date, then set 'translation-of: {source_hash(source.text)}'")


def changes(before_text: str, now: Chapter) -> str:
    """What a translator needs to know: sections added and removed, words, title and summary."""
    before = parse_chapter(now.path, now.kind, before_text)
    old = [h.text for h in before.scan.headings]
    new = [h.text for h in now.scan.headings]
    parts = []
    added = [h for h in new if h not in old]
    removed = [h for h in old if h not in new]
    if added:
        parts.append("sections added: " + ", ".join(f"'{h}'" for h in added[:5]) + (" ..." if len(added) > 5 else ""))
    if removed:
        parts.append("sections removed: " + ", ".join(f"'{h}'" for h in removed[:5])
                     + (" ..." if len(removed) > 5 else ""))
    delta = now.scan.words - before.scan.words
    parts.append(f"{abs(delta)} words {'more' if delta >= 0 else 'fewer'} ({before.scan.words} -> {now.scan.words})"
                 if delta else f"the same number of words ({now.scan.words}), so sentences were reworded")
    for name in ("title", "summary"):
        if before.meta.get(name) != now.meta.get(name):
            parts.append(f"its {name} changed")
    return "; ".join(parts)


def _missing(source: Chapter, translation: Chapter) -> list[str]:
    keys = lambda ch: {c.key for c in ch.scan.citations if not is_crossref(c.key)}  # noqa: E731
    refs = lambda ch: {c.key[0].lower() + c.key[1:] for c in ch.scan.citations if is_crossref(c.key)}  # noqa: E731
    labels = lambda ch: {i.id for i in ch.scan.identifiers if is_crossref(i.id)}  # noqa: E731
    out = []
    for what, found in (("citations", keys), ("labels", labels), ("cross-references", refs)):
        lost = sorted(found(source) - found(translation))
        if lost:
            out.append(f"{what} " + ", ".join(f"'{x}'" for x in lost[:8]) + (" ..." if len(lost) > 8 else ""))
    figures, kept = len(source.scan.images), len(translation.scan.images)
    if kept < figures:
        out.append(f"{figures - kept} of its {figures} images")
    return out


@rule("TRN002", "translation-lost", "error",
      "a translation with a body keeps every citation, label, cross-reference and image of its source")
def translation_lost(ctx: Context) -> Iterable[Hit]:
    for t, source in _checkable(ctx):
        if not t.has_body:
            continue
        lost = _missing(source, t.chapter)
        if lost:
            yield Hit(t.path, t.chapter.body_line, 1,
                      f"this translation lost what its source {source.path} has: {'; '.join(lost)}; "
                      "put them back where the translated text says the same")


@rule("TRN003", "orphan-translation", "error", "a translation file translates a chapter of the paper")
def orphan_translation(ctx: Context) -> Iterable[Hit]:
    sources = _sources(ctx)
    for t in ctx.translations:
        if t.source not in sources:
            yield Hit(t.path, 1, 1, f"this file is named as a translation into '{t.lang}' of {t.source}, which is "
                                    "not a chapter of the paper; rename it, or remove it")


@rule("TRN004", "translation-of", "error",
      "a translation names the version of its source it was made from (translation-of) and its language")
def translation_of(ctx: Context) -> Iterable[Hit]:
    for t, source in _checkable(ctx):
        current = source_hash(source.text)
        value = t.chapter.meta.get("translation-of")
        if value is None:
            yield Hit(t.path, t.chapter.meta_line, 1,
                      f"this translation does not say which version of {source.path} it translates; add "
                      f"'translation-of: {current}' to its front matter (the source's hash as it is now)")
        elif not t.stamp or not HASH.match(t.stamp):
            line, col = _stamp_pos(t)
            yield Hit(t.path, line, col, f"'translation-of' must be the source's hash, 12 hex digits such as "
                                         f"'{current}' (the hash of {source.path} as it is now)")
        lang = t.chapter.meta.get("lang")
        if isinstance(lang, str) and lang.lower() != t.lang.lower():
            line, col = t.chapter.meta_pos("lang")
            yield Hit(t.path, line, col, f"lang is '{lang}', but the file name says '{t.lang}'")


@rule("TRN005", "translation-front-matter", "error",
      "a translation gives a title and a summary in its language (a file of front matter only is fine)")
def translation_front_matter(ctx: Context) -> Iterable[Hit]:
    limit = ctx.project.rules.summary_max_words
    for t, _source in _checkable(ctx):
        if t.has_body:
            continue  # the front matter rules check it like a chapter
        for name in ("title", "summary"):
            value = t.chapter.meta.get(name)
            if not isinstance(value, str) or not value.strip():
                yield Hit(t.path, t.chapter.meta_line, 1, f"this translation has no {name}; add the {name} "
                                                          f"of the chapter in '{t.lang}' to its front matter")
        summary = t.chapter.meta.get("summary")
        if isinstance(summary, str) and len(summary.split()) > limit:
            line, col = t.chapter.meta_pos("summary")
            yield Hit(t.path, line, col, f"the summary has {len(summary.split())} words; at most {limit} "
                                         "(rules.summary_max_words)")
