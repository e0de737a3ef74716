"""Confinement: what an author's chapter may pass straight into the outputs.

Chapters arrive from many organisations and are built by CI into pages that
readers open, so Markdown is the contract and anything *raw* is an exception
the editors grant in paper.yml (``allow.raw: [html, typst, latex]``):

* RAW001: raw ``{=format}`` blocks and inlines, raw TeX, and raw HTML beyond a
  small set of harmless tags, need their format in ``allow.raw``. Raw HTML
  written straight into Markdown is HTML; the tags in ``SAFE_ELEMENTS`` with
  the attributes in ``SAFE_ATTRIBUTES`` (a ``<span class>``, a ``<br>``, a
  ``<kbd>``, a ``<details>``) never need it, since they only mark up text.
* RAW002: what could run code in a reader's browser or take over the page is
  an error even where HTML is allowed, and paper.yml cannot lower it: script,
  frame and plug-in elements, event-handler attributes, ``javascript:`` and
  ``vbscript:`` addresses (also in Markdown links, images and ``{key=value}``
  attributes), and ``data:`` addresses other than images.

The HTML policy lives here, where the check decides what is safe; ASSEMBLE's
sanitiser (pipeline/assemble/safety.py) applies the same policy to the parsed
chapters, so a rule switched off or a case the scanner misses still cannot
put anything unsafe into an output.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Iterable, Iterator

from pipeline.rules.context import Context
from pipeline.rules.registry import Hit, rule
from pipeline.sources.chapters import Chapter
from pipeline.sources.markdown import Raw, scan

# Pandoc's raw formats, by the family paper.yml's allow.raw names them with.
RAW_FAMILIES = {"html": "html", "html4": "html", "html5": "html",
                "latex": "latex", "tex": "latex", "typst": "typst"}
FAMILY_NAMES = {"html": "HTML", "latex": "TeX/LaTeX", "typst": "Typst"}

# Never allowed: each runs code, loads another page or program, or takes over the whole page.
UNSAFE_ELEMENTS = {
    "script": "runs code in readers' browsers",
    "iframe": "embeds another web page", "frame": "embeds another web page",
    "frameset": "replaces the page with other web pages", "portal": "embeds another web page",
    "object": "embeds a program or another page", "embed": "embeds a program or another page",
    "applet": "embeds a program",
    "base": "changes where every link of the page leads",
    "meta": "can redirect readers or change how the page loads",
    "link": "loads files from elsewhere into the page",
    "form": "collects readers' input and sends it elsewhere",
    "style": "restyles the whole page, not just this chapter",
    "noscript": "is read differently by browsers and sanitisers",
    "template": "is read differently by browsers and sanitisers",
    "xmp": "is read differently by browsers and sanitisers",
    "plaintext": "swallows the rest of the page",
    "noembed": "is read differently by browsers and sanitisers",
    "noframes": "is read differently by browsers and sanitisers",
}
# Elements without content: dropping one drops nothing after it.
VOID_ELEMENTS = frozenset({"area", "base", "br", "col", "embed", "frame", "hr", "img", "input", "link",
                           "meta", "param", "source", "track", "wbr"})
# Raw HTML an author may write without allow.raw: it marks up text and cannot load or run anything.
SAFE_ELEMENTS = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "del", "details", "dfn", "div", "em", "i",
    "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "time",
    "u", "var", "wbr",
})
SAFE_ATTRIBUTES = frozenset({"id", "class", "title", "lang", "dir", "role", "open", "datetime", "style"})
SAFE_LINK_ATTRIBUTES = frozenset({"href", "name", "target", "rel", "hreflang"})
# Attributes browsers read as addresses (a data: address here is a whole document, unless an image).
URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "cite",
    "longdesc", "codebase", "dynsrc", "lowsrc", "manifest", "ping", "profile", "usemap", "icon",
    "srcset", "imagesrcset", "archive", "classid", "code",
})
IMAGE_ELEMENTS = frozenset({"img", "source", "picture", "video", "image"})
# SVG animation can set another attribute (an href) to these values.
ANIMATION_ATTRIBUTES = frozenset({"values", "to", "from", "by"})
# Attributes that are only ever shown as text: "javascript: a history" is a fine title.
TEXT_ATTRIBUTES = frozenset({"title", "alt", "fig-alt", "lang", "class", "id", "abbr", "label"})
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:", "mocha:")
STYLE_DANGERS = ("javascript:", "vbscript:", "expression(", "-moz-binding", "behavior:")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_ATTR_NAME = re.compile(r"^[a-z_:][a-z0-9_:.-]*$")
_SQUEEZE = re.compile(r"[\x00-\x20\x7f]+")


# --- the policy, shared with ASSEMBLE's sanitiser -----------------------------------------------

def raw_family(fmt: str) -> str:
    """'html', 'latex' or 'typst' for the formats paper.yml can allow; other formats as written."""
    return RAW_FAMILIES.get(fmt.lower(), fmt.lower())


def dangerous_url(url: str, image: bool = False) -> str | None:
    """The scheme ('javascript', 'vbscript', 'data') when following ``url`` could run code.

    Browsers ignore tabs, newlines and control characters inside an address,
    so ``jav&#x09;ascript:`` is squeezed before it is compared.
    """
    squeezed = _SQUEEZE.sub("", url).lower()
    for scheme in SCRIPT_SCHEMES:
        if squeezed.startswith(scheme):
            return scheme[:-1]
    if squeezed.startswith("data:") and not (image and squeezed.startswith("data:image/")):
        return "data"
    return None


def unsafe_attribute(element: str, name: str, value: str | None) -> str | None:
    """Why an attribute could run code or take over the page, or None. Applies everywhere."""
    name = name.lower()
    if name.startswith("on") and len(name) > 2:
        return f"the event handler '{name}' runs code in readers' browsers"
    if name == "srcdoc":
        return "'srcdoc' embeds a whole web page"
    if name == "formaction":
        return "'formaction' sends readers' input elsewhere"
    if value is None:
        return None
    squeezed = _SQUEEZE.sub("", value).lower()
    image = element in IMAGE_ELEMENTS and name in ("src", "srcset", "poster", "href", "xlink:href")
    if name in URL_ATTRIBUTES:
        parts = value.split(",") if name.endswith("srcset") else [value]
        for part in parts:
            scheme = dangerous_url(part.strip().split(" ")[0] if name.endswith("srcset") else part, image)
            if scheme:
                return f"the '{name}' attribute holds a {scheme}: address, which can run code"
    elif name not in TEXT_ATTRIBUTES and not name.startswith("aria-") \
            and any(squeezed.startswith(s) for s in SCRIPT_SCHEMES):
        return f"the '{name}' attribute holds a script address, which can run code"
    if name in ANIMATION_ATTRIBUTES and any(s in squeezed for s in SCRIPT_SCHEMES):
        return f"the '{name}' attribute can turn a link into code"
    if name == "style" and any(d in squeezed for d in STYLE_DANGERS):
        return "this 'style' attribute can run code in old browsers"
    return None


def structural_attribute(element: str, name: str) -> bool:
    """An attribute a plain structural tag may carry without allow.raw."""
    name = name.lower()
    return (name in SAFE_ATTRIBUTES or name.startswith("aria-")
            or (element == "a" and name in SAFE_LINK_ATTRIBUTES))


def valid_names(element: str, attribute: str | None = None) -> bool:
    """Names we can write back unchanged; anything odder is dropped, never echoed."""
    return bool(_NAME.match(element)) and (attribute is None or bool(_ATTR_NAME.match(attribute)))


@dataclass(frozen=True)
class Tag:
    """One HTML start or end tag, its attributes unescaped; ``line`` 1-based, ``col`` 0-based, in the text."""

    name: str
    attrs: tuple[tuple[str, str | None], ...]
    kind: str  # 'start' | 'end' | 'startend'
    line: int
    col: int


class _Tokens(HTMLParser):
    """Python's HTML tokenizer as a list of events: tags, text; comments and declarations dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[Tag | str] = []

    def _tag(self, name: str, attrs: list, kind: str) -> None:
        line, col = self.getpos()
        self.events.append(Tag(name.lower(), tuple((k.lower(), v) for k, v in attrs), kind, line, col))

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._tag(tag, attrs, "start")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self._tag(tag, attrs, "startend")

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag, [], "end")

    def handle_data(self, data: str) -> None:
        self.events.append(data)


def html_events(text: str) -> list[Tag | str] | None:
    """Tags and text of an HTML fragment in order; None if the tokenizer gives up (treat as unsafe)."""
    tokens = _Tokens()
    try:
        tokens.feed(text)
        tokens.close()
    except Exception:  # the standard tokenizer is lenient; anything it cannot read is refused, not echoed
        return None
    return tokens.events


def tag_problems(tag: Tag, html_allowed: bool) -> Iterator[tuple[str, str]]:
    """('RAW002' | 'RAW001', why) for one start tag under the paper's allow-list."""
    if tag.name in UNSAFE_ELEMENTS:
        yield "RAW002", f"<{tag.name}> is never allowed in a chapter: it {UNSAFE_ELEMENTS[tag.name]}; remove it"
        return
    unsafe = False
    for name, value in tag.attrs:
        why = unsafe_attribute(tag.name, name, value)
        if why:
            unsafe = True
            yield "RAW002", f"unsafe HTML in <{tag.name}>: {why}; remove it"
    if html_allowed or unsafe:
        return
    if tag.name not in SAFE_ELEMENTS:
        hint = " (for an image write ![description](file))" if tag.name == "img" else ""
        yield "RAW001", (f"raw HTML <{tag.name}> is not allowed in this paper{hint}; write it in Markdown, "
                         "or ask the editors to add 'html' to allow.raw in paper.yml")
        return
    for name, _value in tag.attrs:
        if not structural_attribute(tag.name, name):
            yield "RAW001", (f"the attribute '{name}' on <{tag.name}> needs raw HTML, which is not allowed in "
                             "this paper; use a class, or ask the editors to add 'html' to allow.raw in paper.yml")


# --- finding raw pieces in a chapter -----------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    code: str
    line: int
    col: int
    message: str


class _Source:
    """A chapter's text with its line starts, to turn file positions into offsets and back."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def offset(self, line: int, col: int) -> int:
        return self.starts[min(max(line, 1), len(self.starts)) - 1] + col - 1

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def _origin(src: _Source, raw: Raw) -> tuple[bool, int, int]:
    """(written as ``{=format}``?, file position where ``raw.text`` starts).

    The scanner gives a raw piece's start: '<' or '\\' for HTML and TeX typed
    into the Markdown, a backtick or tilde for a ``{=format}`` code or fence,
    whose content then starts later (next line, or after the backticks).
    """
    start = src.offset(raw.line, raw.col)
    if src.text[start : start + 1] not in ("`", "~"):
        return False, raw.line, raw.col
    head = raw.text.split("\n", 1)[0]
    found = src.text.find(head, start, start + len(raw.text) + 4096) if head else -1
    if found < 0:
        return True, raw.line, raw.col
    return (True, *src.position(found))


def _raw_findings(src: _Source, raw: Raw, allowed: frozenset[str],
                  at: tuple[int, int] | None = None) -> Iterator[Finding]:
    """RAW001/RAW002 for one raw piece; ``at`` pins every finding to one place (front matter)."""
    family = raw_family(raw.format)
    written, line, col = (False, raw.line, raw.col) if at else _origin(src, raw)
    where = at or (raw.line, raw.col)
    if family != "html" or written:
        if family not in allowed:
            yield Finding("RAW001", *where, _format_message(family, raw))
        if family != "html":
            return
    events = html_events(raw.text)
    if events is None:
        yield Finding("RAW002", *where, "this raw HTML cannot be read safely; write it in Markdown")
        return
    html_allowed = "html" in allowed or written  # a {=html} piece is reported whole above
    for tag in events:
        if isinstance(tag, str) or tag.kind == "end":
            continue
        place = at or ((line, col + tag.col) if tag.line == 1 else (line + tag.line - 1, tag.col + 1))
        for code, message in tag_problems(tag, html_allowed):
            yield Finding(code, *place, message)


def _format_message(family: str, raw: Raw) -> str:
    if family in FAMILY_NAMES:
        name = FAMILY_NAMES[family]
        hint = ""
        if raw.format == "tex":
            snippet = raw.text.split("\n", 1)[0][:40]
            hint = f" ('{snippet}': a backslash before a word starts a TeX command; write \\\\ for a backslash)"
        return (f"raw {name} is not allowed in this paper{hint}; ask the editors to add '{family}' to "
                f"allow.raw in paper.yml, or write it in Markdown")
    return f"raw '{raw.format}' content is not shown by any edition of this paper; write it in Markdown"


# Pandoc's {#id .class key=value} attributes: on headings, links, images, spans, divs and code.
_ATTR_BLOCK = re.compile(r"\{([^{}\n]*)\}")
_ATTR_TOKEN = re.compile(
    r"""\s*(?:\#[^\s}]+|\.[^\s}]+|-|(?P<key>[A-Za-z_][\w:.-]*)=(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'}]+))\s*"""
)
_FENCE = re.compile(r"^ *(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def _attribute_findings(lines: list[str], first: int, last: int) -> Iterator[Finding]:
    """Event handlers and script addresses in Markdown attributes, outside code.

    Pandoc writes ``{onclick=...}`` into the HTML as it is, so it is as unsafe as
    raw HTML. Fenced code is skipped (its opening line's attributes are not) and
    code spans are blanked; a miss here is still removed by ASSEMBLE.
    """
    fence: str | None = None
    for no in range(first, last + 1):
        text = lines[no - 1]
        opening = _FENCE.match(text)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence) \
                    and not text[opening.end():].strip():
                fence = None
            continue
        if opening:
            fence = opening.group(1)
        else:
            text = _CODE_SPAN.sub(lambda m: " " * len(m.group()), text)
        for block in _ATTR_BLOCK.finditer(text):
            yield from _attribute_block(block, no)


def _attribute_block(block: re.Match, line: int) -> Iterator[Finding]:
    body, at, found = block.group(1), 0, []
    while at < len(body):
        token = _ATTR_TOKEN.match(body, at)
        if token is None or token.end() == at:
            return  # not an attribute block: ordinary braces in text
        if token.group("key"):
            value = token.group("value")
            if value[:1] in "\"'":
                value = value[1:-1]
            found.append((token.start("key"), token.group("key"), value))
        at = token.end()
    for start, key, value in found:
        why = unsafe_attribute("", key, value)
        if why:
            yield Finding("RAW002", line, block.start(1) + start + 1, f"unsafe attribute: {why}; remove it")


def _link_findings(links, images) -> Iterator[Finding]:
    for link in links:
        scheme = dangerous_url(link.url)
        if scheme:
            yield Finding("RAW002", link.line, link.col,
                          f"this link leads to a {scheme}: address, which can run code in readers' browsers; "
                          "link to a web page (https://...) instead")
    for image in images:
        scheme = dangerous_url(image.src, image=True)
        if scheme:
            yield Finding("RAW002", image.line, image.col,
                          f"this image's address is a {scheme}: address, which can run code; "
                          "use an image file in figures/")


def _front_matter_findings(ch: Chapter, src: _Source, allowed: frozenset[str]) -> Iterator[Finding]:
    """Pandoc reads title and summary as Markdown too, so they may carry raw pieces and links."""
    for name in ("title", "summary"):
        value = ch.meta.get(name)
        if not isinstance(value, str):
            continue
        at = ch.meta_pos(name)
        found = scan(value)
        for raw in found.raw:
            yield from _raw_findings(src, raw, allowed, at=at)
        for f in _link_findings(found.links, found.images):
            yield Finding(f.code, *at, f.message)
        value_lines = value.split("\n")
        for f in _attribute_findings(value_lines, 1, len(value_lines)):
            yield Finding(f.code, *at, f.message)


def chapter_findings(ch: Chapter, allowed: frozenset[str]) -> list[Finding]:
    """Every RAW001/RAW002 finding of one chapter, in file order."""
    src = _Source(ch.text)
    out: list[Finding] = []
    for raw in ch.scan.raw:
        out.extend(_raw_findings(src, raw, allowed))
    out.extend(_link_findings(ch.scan.links, ch.scan.images))
    if ch.text:
        out.extend(_attribute_findings(src.lines, ch.body_line, len(src.lines)))
    out.extend(_front_matter_findings(ch, src, allowed))
    return out


def _hits(ctx: Context, code: str) -> Iterable[Hit]:
    """Both rules read one pass over the raw pieces, kept on this run's Context."""
    found = ctx.__dict__.get("_safety_findings")
    if found is None:
        allowed = ctx.project.allow.raw
        found = ctx.__dict__["_safety_findings"] = [(ch.path, f) for ch in ctx.chapters
                                                     for f in chapter_findings(ch, allowed)]
    for path, f in found:
        if f.code == code:
            yield Hit(path, f.line, f.col, f.message)


@rule("RAW001", "raw-format", "error",
      "raw {=format} blocks, raw TeX and raw HTML beyond plain tags (span, div, br, sub, ...) need paper.yml allow.raw")
def raw_format(ctx: Context) -> Iterable[Hit]:
    return _hits(ctx, "RAW001")


@rule("RAW002", "unsafe-html", "error",
      "no script, frame, form or style elements, event handlers or javascript: links (cannot be lowered)")
def unsafe_html(ctx: Context) -> Iterable[Hit]:
    return _hits(ctx, "RAW002")
