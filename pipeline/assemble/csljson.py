"""Cited entries as CSL JSON: what citeproc reads is what the check validated.

The loading stage already resolved macros, ``#`` joins and crossref
inheritance, so each cited entry is written back as one plain biblatex record
under a neutral key and converted by Pandoc's own BibTeX reader, which knows
LaTeX accents, name particles and dates far better than we could by hand.
Odd keys, macros and the thousands of entries nobody cites never reach Pandoc.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from pipeline.cache import Cache, key
from pipeline.render.pandoc import RenderError, run_pandoc
from pipeline.sources.bibliography import Bibliography

_DROP = {"crossref", "xref", "ids", "file"}


def biblatex_record(key: str, entry_type: str, fields: dict[str, str]) -> str:
    """One entry; values keep their LaTeX, wrapped in braces (the loader checked their balance)."""
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in sorted(fields.items()) if name not in _DROP)
    return f"@{entry_type}{{{key},\n{body}\n}}\n"


def to_csl_json(bib: Bibliography, keys: Iterable[str], root: Path, cache: Cache | None = None) -> list[dict]:
    """CSL items for ``keys`` (each an entry of ``bib``), in the order given, with their real ids."""
    wanted = [k for k in dict.fromkeys(keys) if k in bib.entries]
    if not wanted:
        return []
    neutral = {f"ref{i:05d}": key for i, key in enumerate(wanted)}
    text = "".join(
        biblatex_record(alias, bib.entries[key].type, bib.resolved_fields(key))
        for alias, key in neutral.items()
    )
    name = key("csljson", text) if cache else None
    out = cache.get_value(name) if name else None
    if out is None:
        out = run_pandoc(["-f", "biblatex", "-t", "csljson", "--sandbox"], cwd=root, stdin=text.encode("utf-8"))
        if name:
            cache.put_value(name, out)
    try:
        items = json.loads(out.decode("utf-8"))
    except ValueError:
        raise RenderError("pandoc returned unreadable CSL JSON for the bibliography") from None
    for item in items:
        item["id"] = neutral.get(item.get("id"), item.get("id"))
    order = {key: i for i, key in enumerate(wanted)}
    return sorted(items, key=lambda item: order.get(item["id"], len(order)))
