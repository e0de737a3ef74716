"""Defence in depth: nothing unsafe from a chapter reaches any output, whatever the check said.

The RAW rules report problems to the author; this pass makes the parsed
chapter safe regardless, because a rule can be lowered in paper.yml
(RAW001) and a scanner can miss a case Pandoc reads differently. It works on
Pandoc's AST, after Pandoc has decided what is raw, with the same policy as
the rules (pipeline/rules/safety.py):

* raw blocks and inlines of a format the paper does not allow are dropped
  (raw TeX unless ``latex`` is allowed, Typst unless ``typst`` is);
* raw HTML is tokenised with Python's HTML parser and written back from the
  tokens: only known-safe elements and attributes, every text and attribute
  value escaped, comments and declarations dropped. Where HTML is not allowed
  only the plain structural tags survive; where it is, everything except the
  always-unsafe elements and attributes. Writing back from tokens (never
  patching the text with regular expressions) means a browser reads exactly
  the tags that were checked;
* ``javascript:``/``vbscript:`` (and non-image ``data:``) link targets
  become ``#``, such images give way to their description, and event handlers and script addresses are removed
  from every element's ``{key=value}`` attributes.
"""

from __future__ import annotations

import html
from typing import Any

from pipeline.assemble import ast as A
from pipeline.rules.safety import (
    SAFE_ELEMENTS,
    UNSAFE_ELEMENTS,
    VOID_ELEMENTS,
    Tag,
    dangerous_url,
    html_events,
    raw_family,
    structural_attribute,
    unsafe_attribute,
    valid_names,
)

# Where each element keeps its Attr ([id, classes, [[key, value], ...]]) in Pandoc's JSON.
ATTR_INDEX = {"Header": 1, "Div": 0, "Span": 0, "Figure": 0, "Table": 0, "CodeBlock": 0,
              "Code": 0, "Link": 0, "Image": 0}
# The HTML element each node becomes, for the attribute policy (an Image's src is an image address).
NODE_ELEMENT = {"Image": "img", "Link": "a"}


def sanitise(value: Any, allowed: frozenset[str]) -> Any:
    """A copy of ``value`` (blocks, inlines or any AST fragment) with nothing unsafe left in it."""
    return A.walk(value, lambda node: _clean_node(node, allowed))


def _clean_node(node: A.Node, allowed: frozenset[str]) -> Any:
    kind = node.get("t")
    if kind in ("RawBlock", "RawInline"):
        return _clean_raw(node, allowed)
    if kind in ATTR_INDEX:
        _clean_attr(node["c"][ATTR_INDEX[kind]], NODE_ELEMENT.get(kind, ""))
    if kind == "Link" and dangerous_url(str(node["c"][2][0])):
        node["c"][2] = ["#", node["c"][2][1]]
    if kind == "Image" and dangerous_url(str(node["c"][2][0]), image=True):
        return A.span(A.attr(), node["c"][1])  # its description: '#' is no image any output can show
    if kind == "Table":
        _clean_table(node["c"])
    return node


def _clean_raw(node: A.Node, allowed: frozenset[str]) -> Any:
    """The raw piece as it may reach the outputs, or [] (dropped)."""
    fmt, text = node["c"]
    family = raw_family(str(fmt))
    if family == "html":
        cleaned = clean_html(str(text), html_allowed="html" in allowed)
        return {"t": node["t"], "c": ["html", cleaned]} if cleaned else []
    if family in ("typst", "latex") and family in allowed:
        return node
    return []


def _clean_attr(attr: Any, element: str) -> None:
    """Remove, in place, key=value pairs that could run code (onclick=, href=javascript:...)."""
    if not (isinstance(attr, list) and len(attr) == 3 and isinstance(attr[2], list)):
        return
    attr[2] = [pair for pair in attr[2]
               if isinstance(pair, list) and len(pair) == 2
               and not unsafe_attribute(element, str(pair[0]), str(pair[1]))]


def _clean_table(content: list) -> None:
    """A table's head, bodies, foot, rows and cells carry attributes too (untagged in the JSON)."""
    _attr, _caption, _specs, head, bodies, foot = content

    def rows(items: list) -> None:
        for row in items:
            _clean_attr(row[0], "")
            for cell in row[1]:
                _clean_attr(cell[0], "")

    _clean_attr(head[0], "")
    rows(head[1])
    for body in bodies:
        _clean_attr(body[0], "")
        rows(body[2])
        rows(body[3])
    _clean_attr(foot[0], "")
    rows(foot[1])


def clean_html(text: str, html_allowed: bool) -> str:
    """``text`` written back from its tokens with only what the policy allows; '' when nothing is left.

    An unsafe element is dropped with everything inside it (the script's code,
    the iframe's fallback); a tag that is merely not allowed is dropped and its
    text kept. Text that could not be read as HTML is refused, not echoed.
    """
    events = html_events(text)
    if events is None:
        return ""
    out: list[str] = []
    skipping: str | None = None  # inside an unsafe element: drop until it closes
    depth = 0
    for event in events:
        if isinstance(event, str):
            if skipping is None:
                out.append(html.escape(event, quote=False))
            continue
        if skipping is not None:
            if event.name == skipping:
                depth += {"start": 1, "end": -1}.get(event.kind, 0)
                if depth == 0:
                    skipping = None
            continue
        if event.name in UNSAFE_ELEMENTS:
            if event.kind == "start" and event.name not in VOID_ELEMENTS:
                skipping, depth = event.name, 1
            continue
        if not valid_names(event.name) or not (html_allowed or event.name in SAFE_ELEMENTS):
            continue
        out.append(_write_tag(event, html_allowed))
    return "".join(out)


def _write_tag(tag: Tag, html_allowed: bool) -> str:
    if tag.kind == "end":
        return f"</{tag.name}>"
    parts = [tag.name]
    for name, value in tag.attrs:
        if not valid_names(tag.name, name) or unsafe_attribute(tag.name, name, value):
            continue
        if not html_allowed and not structural_attribute(tag.name, name):
            continue
        parts.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
    closing = "/" if tag.kind == "startend" and tag.name not in VOID_ELEMENTS else ""
    return "<" + " ".join(parts) + closing + ">"
