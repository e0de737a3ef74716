"""Citeproc on the citations alone, so that editing prose never runs it again.

Pandoc's citeproc is the slowest step of assembling an edition that cites much, and
its output for an author-date or numeric style depends only on the citations, in
order, with the notes they sit in, and on the entries and the style — not on the
words around them. So ASSEMBLE hands citeproc a skeleton: every citation of the
edition in document order (those sharing a footnote kept together in one note),
then the reference list's place. Its output is spliced back, citation by citation,
into the edition. The skeleton is also the cache key: an edit that changes no
citation hits the cache.

A note style (CSL ``class="note"``) moves citations into footnotes and after the
punctuation that follows them, which depends on the text; for those, and whenever
the spliced result would not line up one for one, the whole edition goes to citeproc.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.assemble import ast as A

_NOTE_CLASS = re.compile(rb"<style\b[^>]*\bclass\s*=\s*[\"']note[\"']", re.S)


def is_note_style(style: bytes) -> bool:
    """Whether the CSL style puts citations in footnotes (its root element says class="note")."""
    head = style[: style.find(b">", style.find(b"<style")) + 1] if b"<style" in style else b""
    return bool(_NOTE_CLASS.search(head))


def _citations(value: Any, note: int | None, found: list[tuple[int | None, A.Node]], notes: list[int]) -> None:
    """Every Cite in document order with the footnote it is in (not inside a Cite's own text)."""
    if isinstance(value, list):
        for item in value:
            _citations(item, note, found, notes)
    elif isinstance(value, dict):
        kind = value.get("t")
        if kind == "Cite":
            found.append((note, value))
            return
        if kind == "Note":
            notes[0] += 1
            note = notes[0]
        for child in value.values():
            if isinstance(child, (list, dict)):
                _citations(child, note, found, notes)


def citations(blocks: list[A.Node]) -> list[tuple[int | None, A.Node]]:
    found: list[tuple[int | None, A.Node]] = []
    _citations(blocks, None, found, [0])
    return found


def skeleton(doc: dict) -> dict | None:
    """The citations of ``doc`` and its reference list, nothing else; None when it has no list."""
    refs = [b for b in doc["blocks"] if b.get("t") == "Div" and b["c"][0][0] == "refs"]
    if len(refs) != 1:
        return None
    paragraphs: list[A.Node] = []
    group: list[A.Node] = []
    current: int | None = None
    for note, cite in citations(doc["blocks"]):
        if group and (note is None or note != current):
            paragraphs.append(A.para([{"t": "Note", "c": [A.para(_spaced(group))]}]))
            group = []
        if note is None:
            paragraphs.append(A.para([cite]))
        else:
            group.append(cite)
            current = note
    if group:
        paragraphs.append(A.para([{"t": "Note", "c": [A.para(_spaced(group))]}]))
    return {"pandoc-api-version": doc["pandoc-api-version"], "meta": doc["meta"],
            "blocks": paragraphs + refs}


def _spaced(inlines: list[A.Node]) -> list[A.Node]:
    out: list[A.Node] = []
    for inline in inlines:
        if out:
            out.append({"t": "Space"})
        out.append(inline)
    return out


def splice(doc: dict, processed: dict) -> dict | None:
    """``doc`` with each citation and the reference list as citeproc rendered them in the skeleton.

    None when the two do not line up one for one (then the caller runs the whole edition).
    """
    rendered = [cite for _note, cite in citations(processed["blocks"])]
    refs = [b for b in processed["blocks"] if b.get("t") == "Div" and b["c"][0][0] == "refs"]
    original = citations(doc["blocks"])
    if len(rendered) != len(original) or len(refs) != 1:
        return None
    if any(_ids(c) != _ids(r) for (_n, c), r in zip(original, rendered)):
        return None
    queue = iter(rendered)
    ids = {id(cite) for _n, cite in original}

    def visit(node: A.Node) -> Any:
        if id(node) in ids:
            return next(queue)
        return None

    out = dict(doc)
    out["meta"] = processed["meta"]
    out["blocks"] = _replace(doc["blocks"], visit)
    out["blocks"] = [A.clone(refs[0]) if b.get("t") == "Div" and b["c"][0][0] == "refs" else b
                     for b in out["blocks"]]
    return out


def _ids(cite: A.Node) -> list[str]:
    return [c.get("citationId") for c in cite["c"][0]]


def _replace(value: Any, visit) -> Any:
    """``value`` rebuilt with each node ``visit`` answers for replaced (pre-order, not below it)."""
    if isinstance(value, list):
        return [_replace(item, visit) for item in value]
    if isinstance(value, dict):
        new = visit(value) if "t" in value else None
        if new is not None:
            return new
        return {k: _replace(v, visit) if isinstance(v, (list, dict)) else v for k, v in value.items()}
    return value

