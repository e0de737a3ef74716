"""Citations: every key a chapter cites is in the bibliography, as Pandoc will read it."""

from __future__ import annotations

from typing import Iterable

from pipeline.rules.context import Context, did_you_mean
from pipeline.rules.registry import Hit, rule

_MISREAD_TAIL = "*=!'\"()[]{},;"


def _misread_key(key: str, trailing: str, entries) -> str | None:
    """The longer bibliography key an author meant when Pandoc stopped reading early.

    Pandoc ends a key at characters such as '*', so '@genetic*1' silently cites
    'genetic'. We try the key with each prefix of the glued-on text.
    """
    if not trailing:
        return None
    for end in range(len(trailing), 0, -1):
        candidate = key + trailing[:end]
        if candidate in entries:
            return candidate
    return None


@rule("CIT002", "misread-key", "error",
      "a citation key with a character Pandoc stops at (like '*') is written @{key}")
def misread_key(ctx: Context) -> Iterable[Hit]:
    for ch, c in ctx.citations:
        if c.braced:
            continue
        meant = _misread_key(c.key, c.trailing, ctx.bib.entries)
        if meant:
            yield Hit(ch.path, c.line, c.col,
                      f"Pandoc reads '@{c.key + c.trailing}' as a citation of '{c.key}'; "
                      f"to cite '{meant}' write [@{{{meant}}}]")


@rule("CIT001", "unknown-citation", "error", "every cited key exists in the bibliography")
def unknown_citation(ctx: Context) -> Iterable[Hit]:
    entries = ctx.bib.entries
    files = ", ".join(ctx.project.bibliography) or "a bibliography (none is set in paper.yml)"
    for ch, c in ctx.citations:
        if c.key in entries:
            continue
        if not c.braced and _misread_key(c.key, c.trailing, entries):
            continue  # CIT002 explains this one better
        hint = did_you_mean(c.key, entries.keys()) or f"; add its entry to {files}"
        broken = next((p for p in ctx.bib.problems if p.code == "BIB001" and p.key in (c.key, None)), None)
        if broken is not None:
            hint += f" (an entry that could not be read is at {broken.path}:{broken.line})"
        yield Hit(ch.path, c.line, c.col, f"unknown citation key '{c.key}'{hint}")
