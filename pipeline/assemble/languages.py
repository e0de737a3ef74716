"""An edition in another language: each chapter's translation where there is one, else its source.

Nothing is left out for want of a translation: a chapter (or, in the summary edition, a
summary) not yet translated is shown in its original language, marked with that language
(for hyphenation and screen readers) and preceded by a note in the edition's language. A
translation of front matter only gives the chapter its translated title and summary.
"""

from __future__ import annotations

import dataclasses

from pipeline.assemble import ast as A
from pipeline.assemble.document import Parsed


def as_source(translation: Parsed, source: Parsed, lang: str) -> Parsed:
    """A parsed translation, filed under its source's path and stem (its labels, its place in editions)."""
    return dataclasses.replace(translation, path=source.path, stem=source.stem, kind=source.kind,
                               lang=translation.lang or lang)


def _note(text: str) -> A.Node:
    return A.div(A.attr("", ["untranslated"]), [A.para(A.text(text))])


def _original(blocks: list[A.Node], lang: str) -> list[A.Node]:
    return [A.div(A.attr("", ["original-language"], {"lang": lang}), blocks)] if blocks else []


def localised(parsed: dict[str, Parsed], translated: dict[str, Parsed], full: set[str], source_lang: str,
              note: str) -> dict[str, Parsed]:
    """The chapters of an edition in one language, keyed by their source paths.

    ``translated``: the translations into that language (as_source), by source path; ``full``:
    the source paths whose translation has a body.
    """
    out: dict[str, Parsed] = {}
    for path, source in parsed.items():
        mine = translated.get(path)
        if mine is not None and path in full:
            out[path] = mine
            continue
        body = [_note(note), *_original(source.blocks, source.lang or source_lang)]
        if mine is not None:  # front matter only: translated title and summary, original body
            out[path] = dataclasses.replace(source, title=mine.title, summary=mine.summary, blocks=body,
                                            lang=mine.lang)
        else:
            title = [A.span(A.attr("", [], {"lang": source.lang or source_lang}), source.title)]
            summary = [_note(note), *_original(source.summary, source.lang or source_lang)]
            out[path] = dataclasses.replace(source, title=title, summary=summary, blocks=body, lang=None)
    return out
