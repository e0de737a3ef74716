"""Small constructors and walkers for Pandoc's JSON AST (pandoc-types 1.23)."""

from __future__ import annotations

import marshal
import re
from typing import Any, Callable, Iterator

Node = dict[str, Any]
Attr = list[Any]  # [id, [classes], [[key, value], ...]]


def attr(ident: str = "", classes: list[str] | None = None, kv: dict[str, str] | None = None) -> Attr:
    return [ident, list(classes or []), [[k, v] for k, v in (kv or {}).items()]]


def text(value: str) -> list[Node]:
    """Plain text as Str and Space inlines (no Markdown is read)."""
    out: list[Node] = []
    for i, word in enumerate(re.split(r"\s+", value.strip())):
        if i:
            out.append({"t": "Space"})
        if word:
            out.append({"t": "Str", "c": word})
    return out


def para(inlines: list[Node]) -> Node:
    return {"t": "Para", "c": inlines}


def plain(inlines: list[Node]) -> Node:
    return {"t": "Plain", "c": inlines}


def div(a: Attr, blocks: list[Node]) -> Node:
    return {"t": "Div", "c": [a, blocks]}


def span(a: Attr, inlines: list[Node]) -> Node:
    return {"t": "Span", "c": [a, inlines]}


def header(level: int, a: Attr, inlines: list[Node]) -> Node:
    return {"t": "Header", "c": [level, a, inlines]}


def link(inlines: list[Node], target: str, a: Attr | None = None) -> Node:
    return {"t": "Link", "c": [a or attr(), inlines, [target, ""]]}


def meta_inlines(inlines: list[Node]) -> Node:
    return {"t": "MetaInlines", "c": inlines}


def meta_string(value: str) -> Node:
    return {"t": "MetaString", "c": value}


def meta_list(items: list[Node]) -> Node:
    return {"t": "MetaList", "c": items}


def meta_bool(value: bool) -> Node:
    return {"t": "MetaBool", "c": value}


def clone(value: Any) -> Any:
    """A deep copy of an AST fragment (dicts, lists, strings, numbers): marshal copies that kind of
    data in C, ten times faster than copy.deepcopy, which matters when an edition copies a paper."""
    return marshal.loads(marshal.dumps(value))


def walk(value: Any, visit: Callable[[Node], Any]) -> Any:
    """Rebuild ``value`` bottom-up; ``visit`` may return a replacement node, a list to splice, or None."""
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            new = walk(item, visit)
            if isinstance(item, dict) and "t" in item and isinstance(new, list):
                out.extend(new)
            else:
                out.append(new)
        return out
    if isinstance(value, dict):
        rebuilt = {k: walk(v, visit) for k, v in value.items()}
        if "t" in rebuilt:
            replaced = visit(rebuilt)
            return rebuilt if replaced is None else replaced
        return rebuilt
    return value


def nodes(value: Any, kind: str) -> Iterator[Node]:
    """Every node of type ``kind`` in document order (pre-order)."""
    if isinstance(value, list):
        for item in value:
            yield from nodes(item, kind)
    elif isinstance(value, dict):
        if value.get("t") == kind:
            yield value
        for v in value.values():
            if isinstance(v, (list, dict)):
                yield from nodes(v, kind)


def elements(value: Any) -> Iterator[Node]:
    """Every AST element (a dict with a 't') under ``value``, parents before children, in document order."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "t" in item:
                yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def stringify(value: Any) -> str:
    """Plain text of inlines, blocks or a meta value, as pandoc's stringify gives it.

    What a screen reader, a PDF outline or an HTML <title> needs: notes and raw
    code are left out; links, images, spans and citations give their text.
    """
    parts: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
            return
        if not isinstance(node, dict):
            return
        kind, content = node.get("t"), node.get("c")
        if kind in ("Str", "MetaString"):
            parts.append(str(content))
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            parts.append(" ")
        elif kind in ("Code", "Math"):
            parts.append(str(content[-1]))
        elif kind in ("Note", "RawInline", "RawBlock"):
            return
        elif kind in ("Image", "Link", "Span", "Quoted", "Cite"):
            visit(content[1])  # [0] holds attributes, the quote type or the citation records
        elif content is not None:
            visit(content)

    visit(value)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def meta_text(doc: dict, key: str) -> str:
    """A metadata field as plain text ('' when absent)."""
    return stringify(doc.get("meta", {}).get(key, []))
