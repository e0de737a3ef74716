"""Scan a chapter's Pandoc Markdown body for what the rules need, with positions.

INTERFACE (implemented by the scanner work; the rules depend on exactly this):

    scan(text: str, first_line: int = 1) -> Scan

``text`` is the chapter body (front matter already removed, BOM removed,
line endings normalised to "\n"); ``first_line`` is the file line on which
``text`` starts, so every position reported is a position in the file the
author edits. Lines and columns count from 1; columns count code points.

Must never raise on any input string (fuzzed), and run in linear-ish time.
No Pandoc call: it is a fast scanner that agrees with Pandoc 3.9's markdown
reader on what is a citation, a heading, an image, a link, code, etc.

How it works
------------
Like Pandoc's reader, in two passes. The block pass walks lines and tries
Pandoc's block parsers in Pandoc's order (fenced code, YAML block, lists,
HTML blocks, fenced divs, headings, tables, indented code, raw TeX, line
blocks, block quotes, rules, definition lists, notes, link definitions,
paragraphs); containers (lists, quotes, divs, notes, grid cells) are cut out
and scanned again, as Pandoc does. It collects the inline text runs
(paragraphs, headings, captions, cells), the link definitions and the example
labels. The inline pass then reads each run once, left to right, with
Pandoc's precedence: escapes, code spans, math, raw TeX and HTML, autolinks,
spans, links and images, then citations. Pandoc reads ``@key`` as a citation
wherever inline text is parsed (also inside link text, image descriptions,
spans and footnotes) unless the ``@`` directly follows a word (``ada@x.org``)
-- so the only work is to know exactly which text is inline text.

Findings
--------
* ``Citation.trailing``: the characters glued after an unbraced key that
  Pandoc left out of it (``@genetic*1`` -> ``'*1'``), up to whitespace or a
  bracket, brace, parenthesis, comma, semicolon or quote; trailing sentence
  punctuation (``.:!?``) is dropped, so ``@doe.`` gives ``''``. Braced keys
  have ``''``. ``bracketed`` is true for a ``[...]`` group Pandoc reads as a
  normal citation. In-text citations of example labels (``(@good)`` lists)
  are not citations, as in Pandoc.
* Headings: ``auto_id`` follows Pandoc's ``auto_identifiers`` including the
  ``-1``, ``-2`` suffixes for repeated identifiers within the text.
* Identifiers: ``{#id}`` on headings, images, table captions, fenced and
  HTML divs, spans, code; ``id=`` of raw HTML tags too (kind 'div', 'span'
  or 'other'), since a ``#link`` can reach them. Position: the ``#``.
* Raw: ``{=format}`` code and fences, raw TeX (format 'tex', as Pandoc names
  it) and every HTML tag or verbatim element (``<script>...</script>``);
  HTML comments are not reported.
* ``words``: whitespace-separated tokens that contain a letter or digit, in
  the prose Pandoc renders: paragraphs, headings, list items, table cells,
  captions, quotes, definition lists, notes, link texts and image
  descriptions. Not counted: code (blocks and spans), math, raw TeX/HTML,
  comments, URLs, attributes, link definitions and citation keys
  (``[see @doe, p. 3]`` counts ``see``, ``p.`` and ``3``).

Known divergences from Pandoc 3.9 (each one rare in real chapters)
------------------------------------------------------------------
Found by comparing with Pandoc on its own test documents, its manual, a
bookdown book and many thousands of generated snippets:

* A knitr chunk fence (```` ```{r name, echo=FALSE} ````) opens a code block
  here; Pandoc reads it as inline code (or, across a blank line, as text).
  Deliberate: R Markdown runs knitr first, and the author means code.
* Emphasis is approximated, not parsed: ``@`` right after a closing ``*``
  or ``_`` is not a citation (``*x*@y``), as in Pandoc; but an emphasis that
  never closes swallows the rest of its paragraph in Pandoc, so in
  ``# A _x {#id}`` the ``{#id}`` stays text there and is an id here.
* Raw TeX takes the arguments common commands take (``\\emph`` one) and
  every following ``{...}`` for the others; Pandoc knows more commands.
* Two bracket groups side by side (``[a][@b]``, ``[@a][t](u)``) follow
  Pandoc's reference-link rules only approximately.
* A code span or an HTML comment that starts in a heading line and ends on
  a later line extends the heading in Pandoc; here the heading is one line.
  A code span opened in a paragraph runs over a fenced code block that
  follows without a blank line in Pandoc; here the fence ends the paragraph.
* Simple and multiline table cells are read line by line, not cut into
  columns; pipe-table cells beyond the header's column count are kept.
* Autolinks accept a list of common URI schemes, not Pandoc's full list.
* After 1,000 blocks that end mid-line on one line (``<div><div>...``,
  ``<!-- --><!-- -->...``), the rest of that line is read as a paragraph:
  its inline HTML, citations and words are still found, in linear time.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Callable


@dataclass(frozen=True)
class Citation:
    """One ``@key`` that Pandoc reads as a citation (this includes ``@fig:x``)."""

    key: str  # as Pandoc reads it: '{...}' removed for braced keys
    line: int  # position of the '@'
    col: int
    braced: bool  # written @{key}
    bracketed: bool  # inside [ ... ] (normal citation) rather than in-text
    trailing: str  # chars glued right after the key that Pandoc left out of it, e.g. '*1'


@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # plain text of the heading (markup stripped)
    id: str | None  # explicit {#id}, if any
    auto_id: str  # the identifier Pandoc's auto_identifiers would give it
    line: int
    col: int


@dataclass(frozen=True)
class Identifier:
    """An explicit ``{#id}`` attribute and what it is attached to."""

    id: str
    kind: str  # 'heading' | 'image' | 'table' | 'div' | 'span' | 'code' | 'other'
    line: int
    col: int


@dataclass(frozen=True)
class Image:
    src: str
    alt: str  # plain text of the description in ![...]
    attrs: dict  # key=value attributes, e.g. {'fig-alt': '...', 'width': '50%'}
    id: str | None
    line: int  # position of the '!'
    col: int


@dataclass(frozen=True)
class Link:
    url: str
    line: int  # position of the link's '[' (or '<' of an autolink)
    col: int


@dataclass(frozen=True)
class Raw:
    """Raw content: a ``{=format}`` block/inline, or an HTML tag Pandoc passes through."""

    format: str  # 'html', 'typst', 'latex', ...
    text: str
    line: int
    col: int


@dataclass(frozen=True)
class NearMiss:
    """A line that looks like markup but that Pandoc will not read as such."""

    what: str  # 'heading-no-space' | 'heading-no-blank-line' | ...
    text: str
    line: int
    col: int


@dataclass
class Scan:
    citations: list[Citation] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    raw: list[Raw] = field(default_factory=list)
    near_misses: list[NearMiss] = field(default_factory=list)
    words: int = 0


def scan(text: str, first_line: int = 1) -> Scan:
    """Everything the rules need from one chapter body, in reading order."""
    lines = _Lines(_expand_tabs(raw, first_line + k) for k, raw in enumerate(text.split("\n")))
    doc = _Doc()
    start = _title_block_end(lines) if first_line == 1 else 0
    _Blocks(doc).run(lines, _Ctx(), start=start)
    return doc.finish()


# --------------------------------------------------------------------------
# Lines and positions
# --------------------------------------------------------------------------

_TAB_STOP = 4
_MAX_DEPTH = 40  # nesting (containers, brackets) followed; deeper input is read as text
# Blocks that may end mid-line and let another start on the rest of the same line
# ('<div><div>...'); each one copies the rest of the line, so past this many the
# rest is read as one paragraph (its inline HTML and citations are still found).
_MAX_CUTS_PER_LINE = 1000


@dataclass(frozen=True, slots=True)
class _Line:
    """Part of a file line: Pandoc expands tabs first, so ``text`` has none.

    ``base`` is where ``text`` starts in the expanded line and ``cmap`` maps
    expanded indices back to file columns (``None`` when the line had no tab),
    so a container prefix can be cut off without losing the position.
    """

    text: str
    no: int
    base: int
    cmap: tuple[int, ...] | None

    def col(self, i: int) -> int:
        j = self.base + max(0, min(i, len(self.text)))
        if self.cmap is None:
            return j + 1
        return self.cmap[min(j, len(self.cmap) - 1)]

    def cut(self, k: int) -> _Line:
        return _Line(self.text[k:], self.no, self.base + k, self.cmap)

    def head(self, k: int) -> _Line:
        return _Line(self.text[:k], self.no, self.base, self.cmap)


class _Lines(list):
    """A list of lines that carries its own indexes (code fences, searches)."""

    __slots__ = ("fences", "_found")

    def __init__(self, items=()):
        super().__init__(items)
        self.fences: dict[str, tuple[list[int], list[int]]] | None = None
        self._found: dict[str, tuple[int, tuple[int, int] | None]] = {}

    def find(self, needle: str, i: int, col: int = 0, fold: bool = False) -> tuple[int, int] | None:
        """First ``needle`` at line ``i`` (from ``col``) or later: (line, column),
        ignoring case if ``fold``. Later lines are searched once per needle,
        whatever the number of queries, so unclosed constructs stay linear."""
        if i < len(self):
            at = (self[i].text.lower() if fold else self[i].text).find(needle, col)
            if at >= 0:
                return i, at
        start = i + 1
        memo = f"{fold}:{needle}"
        last = self._found.get(memo)
        if last is not None and last[0] <= start and (last[1] is None or last[1][0] >= start):
            return last[1]
        found = None
        for k in range(start, len(self)):
            at = (self[k].text.lower() if fold else self[k].text).find(needle)
            if at >= 0:
                found = (k, at)
                break
        self._found[memo] = (start, found)
        return found


def _expand_tabs(raw: str, no: int) -> _Line:
    """Tabs become spaces to the next multiple of 4, as the pandoc command does."""
    if "\t" not in raw:
        return _Line(raw, no, 0, None)
    out: list[str] = []
    cmap: list[int] = []
    width = 0
    for j, ch in enumerate(raw):
        if ch == "\t":
            pad = _TAB_STOP - width % _TAB_STOP
            out.append(" " * pad)
            cmap.extend([j + 1] * pad)
            width += pad
        else:
            out.append(ch)
            cmap.append(j + 1)
            width += 1
    cmap.append(len(raw) + 1)
    return _Line("".join(out), no, 0, tuple(cmap))


def _title_block_end(lines: list[_Line]) -> int:
    """Skip a ``% title`` block: Pandoc keeps it as metadata, not text."""
    i = 0
    n = len(lines)
    for _ in range(3):
        if i >= n or not lines[i].text.startswith("%"):
            break
        i += 1
        while i < n and lines[i].text[:1] == " " and not _blank(lines[i].text):
            i += 1
    return i


def _blank(t: str) -> bool:
    return not t.strip(" \t")


def _indent(t: str) -> int:
    return len(t) - len(t.lstrip(" "))


# --------------------------------------------------------------------------
# What is found, collected during one scan
# --------------------------------------------------------------------------


@dataclass
class _Attrs:
    """A Pandoc attribute block ``{#id .class key=value}``."""

    id: str | None = None
    id_at: int = 0  # index of the '#' (or of 'id=') in the scanned string
    classes: list[str] = field(default_factory=list)
    kvs: dict[str, str] = field(default_factory=dict)


@dataclass
class _Ref:
    url: str
    attrs: _Attrs | None
    line: _Line
    used_by_image: bool = False


@dataclass
class _Segment:
    """Inline text cut out by the block pass, with a map back to the file."""

    role: str  # 'para' | 'heading' | 'caption' | 'cell' | 'term' | 'line'
    lines: list[_Line]
    note: tuple[str, int] | None = None  # the footnote definition (label, serial) it is in
    level: int = 0
    attrs: _Attrs | None = None
    at: tuple[int, int] = (0, 0)  # heading position

    def __post_init__(self) -> None:
        self.text = "\n".join(ln.text for ln in self.lines)
        self.starts: list[int] = []
        pos = 0
        for ln in self.lines:
            self.starts.append(pos)
            pos += len(ln.text) + 1

    def where(self, i: int) -> tuple[int, int]:
        k = max(0, bisect.bisect_right(self.starts, i) - 1)
        ln = self.lines[k]
        return ln.no, ln.col(i - self.starts[k])


@dataclass
class _PendingLink:
    url: str | None
    heading: int  # index into headings when the link is an implicit header reference
    line: int
    col: int


class _Doc:
    """The findings of one scan; the inline pass runs in ``finish``."""

    def __init__(self) -> None:
        self.out = Scan()
        self.segments: list[_Segment] = []
        self.refs: dict[str, _Ref] = {}
        self.header_keys: dict[str, int] = {}
        self.examples: dict[str, tuple[int, int]] = {}  # example label -> where it is defined
        self.notes: dict[str, int] = {}  # label -> serial of its last definition (Pandoc keeps that one)
        self.note_refs: set[str] = set()
        self.in_note: list[tuple[str, int]] = []
        self.links: list[_PendingLink] = []
        self.heading_ids: list[str] = []
        self.suffixes: dict[str, int] = {}  # see _unique
        self.cite_spans: list[tuple[int, int]] = []
        self.with_locator: set[int] = set()  # in-text citations followed by [...]

    # block pass ------------------------------------------------------------

    def segment(self, role: str, lines: list[_Line], **extra) -> None:
        if lines:
            note = self.in_note[-1] if self.in_note else None
            self.segments.append(_Segment(role, list(lines), note, **extra))

    def define_note(self, label: str) -> tuple[str, int]:
        self.notes[label] = len(self.segments)
        return label, self.notes[label]

    def note_used(self, note: tuple[str, int] | None) -> bool:
        """Text outside notes is used; a note's text only if the note is
        referred to and is the last definition of its label."""
        if note is None:
            return True
        label, serial = note
        return label in self.note_refs and self.notes.get(label) == serial

    def identifier(self, attrs: _Attrs | None, kind: str, line: _Line, offset: int = 0) -> None:
        if attrs is not None and attrs.id:
            self.out.identifiers.append(Identifier(attrs.id, kind, line.no, line.col(attrs.id_at - offset)))

    def raw(self, fmt: str, text: str, line: int, col: int) -> None:
        self.out.raw.append(Raw(fmt, text, line, col))

    def near_miss(self, what: str, line: _Line) -> None:
        k = _indent(line.text)
        self.out.near_misses.append(NearMiss(what, line.text.strip(), line.no, line.col(k)))

    # inline pass -----------------------------------------------------------

    def lookup(self, key: str) -> tuple[str | None, int] | None:
        """A reference label's target: a link definition, else a heading's text."""
        ref = self.refs.get(key)
        if ref is not None:
            return ref.url, -1
        if key in self.header_keys:
            return None, self.header_keys[key]
        return None

    def add_citation(self, c: Citation, span: tuple[int, int]) -> int:
        self.out.citations.append(c)
        self.cite_spans.append(span)
        return len(self.out.citations) - 1

    def finish(self) -> Scan:
        heads = [seg for seg in self.segments if seg.role == "heading"]
        for k, seg in enumerate(heads):
            key = _ref_key(seg.text)
            if key:
                self.header_keys[key] = k
        used: set[str] = set()
        for seg in heads:
            self._heading(seg, used)
        pending = [seg for seg in self.segments if seg.role != "heading"]
        while pending:  # a footnote nobody refers to is not in Pandoc's output
            ready = [seg for seg in pending if self.note_used(seg.note)]
            if not ready:
                break
            pending = [seg for seg in pending if not self.note_used(seg.note)]
            for seg in ready:
                self.out.words += _Inline(seg, self).read()
        return self._result()

    def _heading(self, seg: _Segment, used: set[str]) -> None:
        reader = _Inline(seg, self)
        self.out.words += reader.read()
        text = " ".join("".join(reader.plain).split())
        explicit = seg.attrs.id if seg.attrs is not None and seg.attrs.id else None
        if explicit:
            ident = explicit
            auto = _unique(_auto_identifier("".join(reader.ident)), used, self.suffixes)
        else:
            ident = auto = _unique(_auto_identifier("".join(reader.ident)), used, self.suffixes)
        used.add(ident)
        self.heading_ids.append(ident)
        self.out.headings.append(Heading(seg.level, text, explicit, auto, seg.at[0], seg.at[1]))

    def _example_ref(self, k: int, c: Citation) -> bool:
        """An in-text ``@label`` of an example list item is its number, not a
        citation -- unless a ``[...]`` locator follows and the item comes later."""
        defined = self.examples.get(c.key)
        if c.bracketed or defined is None:
            return False
        return (c.line, c.col) > defined or k not in self.with_locator

    def _result(self) -> Scan:
        out = self.out
        out.citations = [c for k, c in enumerate(out.citations) if not self._example_ref(k, c)]
        for pl in self.links:
            url = pl.url
            if url is None:
                url = "#" + self.heading_ids[pl.heading] if 0 <= pl.heading < len(self.heading_ids) else ""
            out.links.append(Link(url, pl.line, pl.col))
        for ref in self.refs.values():
            self.identifier(ref.attrs, "image" if ref.used_by_image else "other", ref.line)
        for name in ("citations", "headings", "identifiers", "images", "links", "raw", "near_misses"):
            getattr(out, name).sort(key=lambda x: (x.line, x.col))
        return out


def _unique(base: str, used: set[str], tried: dict[str, int]) -> str:
    """Pandoc appends -1, -2, ... (up to 60000) to an identifier already given in the text.

    ``tried`` remembers, per base, the lowest suffix that may still be free:
    ``used`` only grows, so the suffixes below it stay taken. Without it,
    50,000 headings of the same text (a file of '#' lines) took minutes.
    """
    if base not in used:
        return base
    n = tried.get(base, 1)
    while n <= 60000:
        candidate = f"{base}-{n}"
        if candidate not in used:
            tried[base] = n
            return candidate
        n += 1
    tried[base] = n
    return base


def _auto_identifier(text: str) -> str:
    """Pandoc's auto_identifiers: lowercase, keep letters, digits and ``_-.``,
    spaces to hyphens, drop everything before the first letter."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in "_-." or c.isspace())
    joined = "-".join(kept.split())
    k = 0
    while k < len(joined) and not joined[k].isalpha():
        k += 1
    return joined[k:] or "section"


def _ref_key(label: str) -> str:
    """How Pandoc compares reference labels: case and spacing do not matter."""
    return " ".join(label.split()).lower()


# --------------------------------------------------------------------------
# Block pass
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ctx:
    in_list: bool = False  # a list marker line ends a paragraph
    div_depth: int = 0  # a ':::' line ends a paragraph
    html_tag: str | None = None  # the closing tag of this HTML block ends a paragraph
    depth: int = 0


_FENCE_OPEN = re.compile(r"( {0,3})(`{3,}|~{3,})[ \t]*(.*?)[ \t]*$")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*$")
_KNITR_INFO = re.compile(r"\{[A-Za-z][\w.-]*(?:[ ,}]|$)")
_RAW_ATTR = re.compile(r"\{[ \t]*=([\w-]+)[ \t]*\}")
_YAML_OPEN = re.compile(r"---[ \t]*$")
_YAML_CLOSE = re.compile(r"(?:---|\.\.\.)[ \t]*$")
_DIV_OPEN = re.compile(r":{3,}[ \t]*")
_DIV_CLOSE = re.compile(r":{3,}[ \t]*$")
_ATX = re.compile(r"#+(?=[ \t]|$)")
_ATX_LIKE = re.compile(r" {0,3}#{1,6}[ \t]+\S")
_NO_SPACE = re.compile(r" {0,3}(#{1,6})([^\s#.)])")
_SETEXT = re.compile(r"(?:=+|-+)[ \t]*$")
_HRULE = re.compile(r" *([-*_])(?: *\1){2,}[ \t]*$")
_QUOTE = re.compile(r" {0,3}> ?")
_ORDERED = re.compile(
    r"\((?P<p>[0-9]+|#|[A-Za-z]+|@[\w-]*)\)|(?P<m>[0-9]+|#|[A-Za-z]+|@[\w-]*)(?P<d>[.)])"
)
_ORDERED_FIRST = "0123456789#(@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ROMAN = re.compile(r"m*(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")
_DEF_MARK = re.compile(r"( {0,2})[:~]( +|$)")
_NOTE_DEF = re.compile(r" {0,3}\[\^([^\s\]]+)\]:")
_NOTE_START = re.compile(r" {0,3}\[\^[^\s\]]+\]")
_DASHES = re.compile(r" {0,3}-+(?: +-+)*[ \t]*$")
_PIPE_SEP = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:[|+][ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_GRID_BORDER = re.compile(r" {0,3}\+(?:[-=:]+\+)+[ \t]*$")
_BEGIN_ENV = re.compile(r"\\begin\{([^{}\s]+)\}")
_LATEX_NAME = re.compile(r"\\([^\W\d_]+)\*?")
_HTML_ID = re.compile(r"""\sid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)

_TAG_NAME = r"[A-Za-z][A-Za-z0-9-]*"
_HTML_ATTR = r"""(?:\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)"""
_HTML_TAG = re.compile(
    rf"<(?:(?P<open>{_TAG_NAME})(?:{_HTML_ATTR})*\s*/?>|/(?P<close>{_TAG_NAME})\s*>|\?[^>]*\?>|![A-Za-z][^>]*>)"
)
_BLOCK_TAGS = frozenset(
    """address applet area article aside audio blockquote body button canvas caption center col colgroup
    dd del details dialog dir div dl dt embed fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6
    head header hgroup hr html iframe ins isindex legend li main map menu meta nav noframes noscript
    object ol optgroup option p pre progress script section source style summary svg table tbody td
    template textarea tfoot th thead title tr ul video""".split()
)
_VERBATIM_TAGS = frozenset({"pre", "script", "style", "textarea"})
# block tags Pandoc also accepts inside a paragraph; the others end the paragraph
_INLINE_TOO_TAGS = frozenset(
    "audio applet button iframe embed del ins progress map area noscript object svg video source".split()
)
_PARAGRAPH_STOP = re.compile(
    r"</?(?:" + "|".join(sorted(_BLOCK_TAGS - _INLINE_TOO_TAGS, key=len, reverse=True)) + r")[\s/>]",
    re.IGNORECASE,
)
_VOID_TAGS = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "meta", "source", "wbr"})
# LaTeX commands Pandoc reads inline, so that a line holding only them stays a paragraph
_INLINE_TEX = frozenset(
    """index emph textbf textit texttt textsc textsf textrm textup textmd textnormal textsl underline
    uline sout textsuperscript textsubscript textcolor colorbox fbox mbox hbox href url nolinkurl ref
    eqref pageref autoref cref Cref nameref label cite citep citet citealp citeauthor citeyear citetext
    parencite textcite autocite footcite fullcite nocite footnote footnotemark footnotetext thanks verb
    lstinline LaTeX TeX ldots dots today noindent linebreak newline includegraphics frac tfrac dfrac
    sqrt gls Gls glspl acrshort acrlong acrfull enquote foreign raisebox ensuremath hyperref hypertarget
    hyperlink phantom hphantom vphantom textquotedbl textquoteleft textquoteright""".split()
)


@dataclass(frozen=True, slots=True)
class _Marker:
    """A list item marker: what list it belongs to and where the content starts."""

    bullet: bool
    style: str  # 'num' | 'lower' | 'upper' | 'example' | 'bullet'
    delim: str
    width: int  # continuation indent: spaces before the content
    example: str | None


def _list_marker(t: str) -> _Marker | None:
    """Pandoc's listStart: a bullet or ordered marker after at most 3 spaces."""
    sp = _indent(t)
    if sp > 3 or sp >= len(t):
        return None
    c = t[sp]
    example = None
    if c in "*+-":
        if _HRULE.match(t):
            return None
        end, style, delim, bullet = sp + 1, "bullet", "", True
    else:
        m = _ORDERED.match(t, sp)
        if not m:
            return None
        body = m.group("p") if m.group("p") is not None else m.group("m")
        delim = "()" if m.group("p") is not None else m.group("d")
        style = _ordered_style(body)
        if style is None or (t.startswith("p.", sp) and re.match(r"p\. [0-9]", t[sp:])):
            return None
        if style == "example" and len(body) > 1:
            example = body[1:]
        end, bullet = m.end(), False
    if end == len(t):
        return _Marker(bullet, style, delim, end, example)
    if t[end] != " ":
        return None
    k = _indent(t[end + 1 :])
    if not bullet and delim == "." and _looks_like_initial(t[sp : end - 1]) and k == 0 and end + 1 < len(t):
        return None  # "A. Smith" is a name, not a list
    width = end + 1 + (k if k <= 3 else 0)
    return _Marker(bullet, style, delim, width, example)


def _ordered_style(body: str) -> str | None:
    if body.isdigit() or body == "#":
        return "num"
    if body.startswith("@"):
        return "example"
    if not body.isascii() or not body.isalpha():
        return None
    if len(body) == 1 or _ROMAN.fullmatch(body.lower()):
        if len(body) > 1 and body != body.lower() and body != body.upper():
            return None
        return "lower" if body.islower() else "upper"
    return None


def _looks_like_initial(body: str) -> bool:
    return len(body) == 1 and body.isupper()


def _same_list(a: _Marker, b: _Marker) -> bool:
    return a.bullet == b.bullet and (a.bullet or (a.delim == b.delim and a.style == b.style))


def _fence_info(info: str) -> tuple[str, object] | None:
    """What may follow a code fence in Pandoc 3.9: a word, ``{attributes}``,
    both, or ``{=format}``. knitr's ``{r ...}`` is accepted too (see above)."""
    if not info:
        return ("lang", None)
    if _RAW_ATTR.fullmatch(info):
        return ("raw", _RAW_ATTR.fullmatch(info).group(1))
    word = ""
    rest = info
    if not info.startswith("{"):
        m = re.match(r"\S+", info)
        word = m.group() if m else ""
        rest = info[len(word) :].lstrip(" \t")
        if not rest:
            return ("lang", None)
    if rest.startswith("{"):
        parsed = _parse_attrs(rest, 0, len(rest))
        if parsed is not None and not rest[parsed[1] :].strip(" \t"):
            return ("attrs", (parsed[0], len(info) - len(rest)))
        if not word and _KNITR_INFO.match(rest):
            return ("knitr", None)
    return None


def _closing_tag_at(t: str, tag: str) -> bool:
    return re.match(rf" {{0,3}}</{re.escape(tag)}\s*>", t, re.IGNORECASE) is not None


class _Blocks:
    """Pandoc's block grammar over lines, in Pandoc's order of attempts."""

    def __init__(self, doc: _Doc) -> None:
        self.doc = doc
        self.cuts: dict[int, int] = {}  # file line -> blocks that ended on it mid-line
        # Pandoc's order, each with the characters a line must start with (after
        # spaces) for it to apply, or None when the parser looks further itself
        self.parsers: tuple[tuple[Callable[[_Lines, int, _Ctx], int | None], str | None], ...] = (
            (self._fenced_code, "`~"), (self._yaml, "-"), (self._bullet_list, "*+-"),
            (self._html_block, "<"), (self._fenced_div, ":"), (self._setext, None), (self._atx, "#"),
            (self._table, None), (self._indented_code, None), (self._raw_tex, "\\"),
            (self._line_block, "|"), (self._block_quote, ">"), (self._hrule, "-*_"),
            (self._ordered_list, _ORDERED_FIRST), (self._definition_list, None), (self._note, "["),
            (self._reference, "["),
        )

    def run(self, lines: _Lines, ctx: _Ctx, stop: Callable[[str], bool] | None = None, start: int = 0) -> int:
        """Read blocks from ``start``; return where ``stop`` matched (or the end)."""
        i = start
        while i < len(lines):
            text = lines[i].text
            if _blank(text):
                i += 1
                continue
            if stop is not None and stop(text):
                return i
            j = self._block(lines, i, ctx)
            if j < i or (j == i and len(lines[i].text) >= len(text)):
                j = self._paragraph(lines, i, ctx)
            i = j
        return i

    def _block(self, lines: _Lines, i: int, ctx: _Ctx) -> int:
        first = lines[i].text.lstrip(" ")[:1]
        for parser, starts in self.parsers:
            if starts is None or first in starts:
                j = parser(lines, i, ctx)
                if j is not None:
                    return j
        return self._paragraph(lines, i, ctx)

    def _nested(self, lines: list[_Line], ctx: _Ctx) -> None:
        self.run(_Lines(lines), _Ctx(ctx.in_list, ctx.div_depth, ctx.html_tag, ctx.depth + 1))

    def _closer(self, t: str, ctx: _Ctx) -> bool:
        """A line that ends the enclosing fenced div or HTML block."""
        if ctx.div_depth and _DIV_CLOSE.match(t):
            return True
        return ctx.html_tag is not None and _closing_tag_at(t, ctx.html_tag)

    # code --------------------------------------------------------------------

    def _fence_at(self, lines: _Lines, i: int) -> tuple[int, tuple[str, object]] | None:
        """A complete fenced code block at line ``i``: (closing line, info)."""
        m = _FENCE_OPEN.match(lines[i].text)
        if not m:
            return None
        fence = m.group(2)
        if fence[0] == "`" and "`" in m.group(3):
            info = None
        else:
            info = _fence_info(m.group(3))
        if info is None:
            return None
        if lines.fences is None:
            lines.fences = self._fence_index(lines)
        idx, sizes = lines.fences.get(fence[0], ([], []))
        for k in range(bisect.bisect_right(idx, i), len(idx)):
            if sizes[k] >= len(fence):
                return idx[k], info
        return None

    @staticmethod
    def _fence_index(lines: _Lines) -> dict[str, tuple[list[int], list[int]]]:
        index: dict[str, tuple[list[int], list[int]]] = {}
        for k, ln in enumerate(lines):
            if ln.text[:4].lstrip(" ")[:1] in ("`", "~"):
                m = _FENCE_CLOSE.match(ln.text)
                if m:
                    at, sizes = index.setdefault(m.group(1)[0], ([], []))
                    at.append(k)
                    sizes.append(len(m.group(1)))
        return index

    def _fenced_code(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        found = self._fence_at(lines, i)
        if found is None:
            return None
        end, (kind, data) = found
        line = lines[i]
        if kind == "raw":
            body = "\n".join(ln.text for ln in lines[i + 1 : end])
            self.doc.raw(str(data), body, line.no, line.col(_indent(line.text)))
        elif kind == "attrs":
            attrs, offset = data
            info_at = _FENCE_OPEN.match(line.text).start(3)
            self.doc.identifier(attrs, "code", line, -(info_at + offset))
        return end + 1

    def _indented_code(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        if _indent(lines[i].text) < 4:
            return None
        j = last = i + 1
        while j < len(lines):
            t = lines[j].text
            if not _blank(t) and _indent(t) < 4:
                break
            j += 1
            if not _blank(t):
                last = j
        return last

    def _raw_tex(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        line = lines[i]
        t = line.text
        if len(t) < 2 or t[0] != "\\" or not t[1].isalpha():
            return None
        m = _BEGIN_ENV.match(t)
        if m:
            return self._raw_tex_env(lines, i, m.group(1))
        e = 0
        while e < len(t) and t[e] == "\\":
            name = _LATEX_NAME.match(t, e)
            if not name or name.group(1) in _INLINE_TEX:
                return None
            e = _latex_end(t, e, len(t), None)
            while e < len(t) and t[e] in " \t":
                e += 1
        if e < len(t):
            return None
        self.doc.raw("tex", t.strip(), line.no, line.col(0))
        return i + 1

    def _raw_tex_env(self, lines: _Lines, i: int, env: str) -> int | None:
        """``\\begin{env}`` ... ``\\end{env}`` (nested ones counted) is one raw block."""
        begin, end = "\\begin{" + env + "}", "\\end{" + env + "}"
        closing = lines.find(end, i)
        depth = 0
        for k in range(i, len(lines)):
            if closing is None:
                return None
            t = lines[k].text
            pos = 0
            while True:
                b = t.find(begin, pos)
                e = closing[1] if closing is not None and closing[0] == k and closing[1] >= pos else -1
                if e < 0 and b < 0:
                    break
                if b >= 0 and (e < 0 or b < e):
                    depth += 1
                    pos = b + len(begin)
                    continue
                if e < 0:
                    break
                depth -= 1
                pos = e + len(end)
                closing = lines.find(end, k, pos)
                if depth == 0:
                    body = "\n".join([ln.text for ln in lines[i:k]] + [t[:pos]])
                    self.doc.raw("tex", body, lines[i].no, lines[i].col(0))
                    rest = t[pos:]
                    if _blank(rest):
                        return k + 1
                    lines[k] = lines[k].cut(pos + _indent(rest))
                    return k
        return None

    # metadata, rules, line blocks --------------------------------------------------

    def _yaml(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        if not _YAML_OPEN.match(lines[i].text) or i + 1 >= len(lines) or _blank(lines[i + 1].text):
            return None
        for k in range(i + 1, len(lines)):
            if _YAML_CLOSE.match(lines[k].text):
                return k + 1
        return None

    def _hrule(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        return i + 1 if _HRULE.match(lines[i].text) else None

    def _line_block(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        j = i
        while j < len(lines):
            t = lines[j].text
            if t.startswith("| "):
                self.doc.segment("line", [lines[j].cut(2)])
            elif t.rstrip(" \t") == "|":
                pass
            elif j > i and t.startswith(" ") and not _blank(t):
                self.doc.segment("line", [lines[j]])
            else:
                break
            j += 1
        return j if j > i else None

    # headings ----------------------------------------------------------------

    def _atx(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        line = lines[i]
        m = _ATX.match(line.text)
        if not m:
            return None
        t = line.text
        k = m.end()
        while k < len(t) and t[k] in " \t":
            k += 1
        end, attrs = _heading_tail(t, k, closing_hashes=True)
        if _inline_stop(t[k:end], None) is not None:
            return None  # Pandoc's heading text cannot hold a block-level HTML tag
        if attrs is None and i + 1 < len(lines) and _ends_with_citation_then_group(t[k:end], lines[i + 1].text):
            # '# Title @doe' + a line starting '[@roe]': one citation, so the heading takes both lines
            self.doc.identifier(None, "heading", line)
            self.doc.segment("heading", [line.cut(k), lines[i + 1]], level=len(m.group()), at=(line.no, line.col(0)))
            return i + 2
        self._heading(line, k, end, len(m.group()), attrs, 0)
        return i + 1

    def _setext(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        if i + 1 >= len(lines) or lines[i + 1].text[:1] not in ("=", "-") or not _SETEXT.match(lines[i + 1].text):
            return None
        line = lines[i]
        k = _indent(line.text)
        end, attrs = _heading_tail(line.text, k, closing_hashes=False)
        if _inline_stop(line.text[k:end], None) is not None:
            return None
        self._heading(line, k, end, 1 if lines[i + 1].text[0] == "=" else 2, attrs, k)
        return i + 2

    def _heading(self, line: _Line, start: int, end: int, level: int, attrs: _Attrs | None, at: int) -> None:
        self.doc.identifier(attrs, "heading", line)
        self.doc.segment(
            "heading", [line.cut(start).head(max(0, end - start))],
            level=level, attrs=attrs, at=(line.no, line.col(at)),
        )

    # containers ----------------------------------------------------------------

    def _bullet_list(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        return self._list(lines, i, ctx, bullet=True)

    def _ordered_list(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        return self._list(lines, i, ctx, bullet=False)

    def _list(self, lines: _Lines, i: int, ctx: _Ctx, bullet: bool) -> int | None:
        first = _list_marker(lines[i].text)
        if first is None or first.bullet != bullet or ctx.depth >= _MAX_DEPTH:
            return None
        j = i
        while j < len(lines):
            mk = _list_marker(lines[j].text)
            if mk is None or not _same_list(first, mk):
                break
            if mk.example:
                line = lines[j]
                self.doc.examples.setdefault(mk.example, (line.no, line.col(_indent(line.text))))
            j = self._list_item(lines, j, mk, ctx)
        return j

    def _list_item(self, lines: _Lines, i: int, mk: _Marker, ctx: _Ctx) -> int:
        """Pandoc's rawListItem and listContinuation: cut the item out, read it again.
        Example lists (``(@)``) follow the four-space rule."""
        n = len(lines)
        ci = 4 if mk.style == "example" else mk.width
        item = [lines[i].cut(mk.width)]
        j = i + 1
        while j < n:
            t = lines[j].text
            if _blank(t) or _list_marker(t) is not None or self._fence_at(lines, j) or self._closer(t, ctx):
                break
            if _indent(t) >= ci and _list_marker(t.lstrip(" ")) is not None:
                break
            item.append(lines[j].cut(ci) if _indent(t) >= ci else lines[j])
            j += 1
        j = self._take_blanks(lines, j, item)
        while j < n:
            t = lines[j].text
            if _indent(t) < ci or _blank(t) or self._closer(t, ctx):
                break
            item.append(lines[j].cut(ci))
            j += 1
            while j < n:
                t = lines[j].text
                if _blank(t) or self._closer(t, ctx):
                    break
                if _indent(t) >= ci:
                    item.append(lines[j].cut(ci))
                elif _list_marker(t) is not None:
                    break
                else:
                    item.append(lines[j])
                j += 1
            j = self._take_blanks(lines, j, item)
        self._nested(item, _Ctx(True, ctx.div_depth, ctx.html_tag, ctx.depth))
        return j

    @staticmethod
    def _take_blanks(lines: _Lines, j: int, into: list[_Line]) -> int:
        while j < len(lines) and _blank(lines[j].text):
            into.append(lines[j])
            j += 1
        return j

    def _block_quote(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        m = _QUOTE.match(lines[i].text)
        if not m or ctx.depth >= _MAX_DEPTH:
            return None
        body = [lines[i].cut(m.end())]
        j = i + 1
        while j < len(lines):
            t = lines[j].text
            m = _QUOTE.match(t)
            if m:
                body.append(lines[j].cut(m.end()))
            elif (_blank(t) or (ctx.in_list and _list_marker(t) is not None)
                  or (t.lstrip(" ").startswith("```") and self._fence_at(lines, j)) or self._closer(t, ctx)):
                break
            else:
                body.append(lines[j])
            j += 1
        self._nested(body, ctx)
        return j

    def _fenced_div(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        line = lines[i]
        t = line.text
        m = _DIV_OPEN.match(t)
        if not m:
            return None
        rest_at = m.end()
        attrs = None
        if t.startswith("{", rest_at):
            parsed = _parse_attrs(t, rest_at, len(t))
            if parsed is None:
                return None
            attrs, tail_at = parsed
        else:
            word = re.compile(r"\S+").match(t, rest_at)
            if word is None:
                return None
            tail_at = word.end()
        if not re.fullmatch(r"[ \t]*:*[ \t]*", t[tail_at:]):
            return None
        self.doc.identifier(attrs, "div", line)
        if ctx.depth >= _MAX_DEPTH:
            return i + 1
        inner = _Ctx(ctx.in_list, ctx.div_depth + 1, ctx.html_tag, ctx.depth + 1)
        j = self.run(lines, inner, stop=lambda s: _DIV_CLOSE.match(s) is not None, start=i + 1)
        return j + 1 if j < len(lines) else j

    def _html_block(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        line = lines[i]
        t = line.text
        if not t.startswith("<"):
            return None
        if _COMMENT_OPEN.match(t):
            end = lines.find("-->", i, 4)
            if end is None:
                return None
            return self._after(lines, end[0], end[1] + 3)
        joined, starts = _join_some(lines, i, 12)
        m = _HTML_TAG.match(joined)
        if m is None:
            return None
        name = (m.group("open") or m.group("close") or "").lower()
        if name not in _BLOCK_TAGS:
            return None
        k, c = _unjoin(starts, m.end())
        tag = m.group()
        if m.group("close") or name in _VOID_TAGS or tag.endswith("/>"):
            self.doc.raw("html", tag, line.no, line.col(0))
            self._html_id(name, tag, line)
            return self._after(lines, i + k, c)
        if name in _VERBATIM_TAGS:
            end = lines.find("</" + name, i + k, c, fold=True)
            close = lines.find(">", end[0], end[1]) if end else None
            if close is None:
                return None
            element = "\n".join([ln.text for ln in lines[i : close[0]]] + [lines[close[0]].text[: close[1] + 1]])
            self.doc.raw("html", element, line.no, line.col(0))
            return self._after(lines, close[0], close[1] + 1)
        self.doc.raw("html", tag, line.no, line.col(0))
        self._html_id(name, tag, line)
        j = self._after(lines, i + k, c, keep_indent=name == "div")
        if ctx.depth >= _MAX_DEPTH:
            return j
        inner = _Ctx(ctx.in_list, ctx.div_depth, name, ctx.depth + 1)
        j = self.run(lines, inner, stop=lambda s: _closing_tag_at(s, name), start=j)
        if j >= len(lines):
            return j
        closing = lines[j]
        m = re.compile(rf" {{0,3}}</{re.escape(name)}\s*>", re.IGNORECASE).match(closing.text)
        self.doc.raw("html", m.group().strip(), closing.no, closing.col(_indent(closing.text)))
        return self._after(lines, j, m.end(), keep_indent=True)

    def _html_id(self, name: str, tag: str, line: _Line) -> None:
        m = _HTML_ID.search(tag)
        if m:
            ident = next(g for g in m.groups() if g is not None)
            kind = "div" if name == "div" else "span" if name == "span" else "other"
            if ident:
                self.doc.out.identifiers.append(Identifier(ident, kind, line.no, line.col(m.start() + 1)))

    def _after(self, lines: _Lines, k: int, c: int, keep_indent: bool = False) -> int:
        """Continue after column ``c`` of line ``k`` (a block may end mid-line)."""
        if k >= len(lines):
            return k
        rest = lines[k].text[c:]
        if _blank(rest):
            return k + 1
        cut = lines[k].cut(c if keep_indent else c + _indent(rest))
        if not self._may_cut(cut):
            self.doc.segment("para", [cut])
            return k + 1
        lines[k] = cut
        return k

    def _may_cut(self, line: _Line) -> bool:
        """False once a line has had _MAX_CUTS_PER_LINE blocks: keeps hostile lines linear."""
        count = self.cuts.get(line.no, 0) + 1
        self.cuts[line.no] = count
        return count <= _MAX_CUTS_PER_LINE

    def _definition_list(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        if not self._definition_ahead(lines, i) or ctx.depth >= _MAX_DEPTH:
            return None
        n = len(lines)
        j = i
        while j < n and not _blank(lines[j].text) and self._definition_ahead(lines, j):
            self.doc.segment("term", [lines[j]])
            j += 1
            while True:
                k = j + 1 if j < n and _blank(lines[j].text) else j
                m = _DEF_MARK.match(lines[k].text) if k < n else None
                if m is None:
                    break
                body, j = self._definition(lines, k, m)
                self._nested(body, ctx)
            while j < n and _blank(lines[j].text):
                j += 1
        return j

    def _definition_ahead(self, lines: _Lines, i: int) -> bool:
        k = i + 1
        marks = (":", "~")
        if k < len(lines) and lines[k].text.lstrip(" ")[:1] not in marks and (
            k + 1 >= len(lines) or lines[k + 1].text.lstrip(" ")[:1] not in marks
        ):
            return False
        if k < len(lines) and _blank(lines[k].text):
            k += 1
            if k < len(lines) and self._table(lines, k, _Ctx(), probe=True) is not None:
                return False
        return k < len(lines) and _DEF_MARK.match(lines[k].text) is not None

    def _definition(self, lines: _Lines, k: int, m: re.Match) -> tuple[list[_Line], int]:
        n = len(lines)
        remaining = 4 - (len(m.group(1)) + 1)
        spaces = len(m.group(2))
        start = m.start(2) + (remaining if spaces >= remaining else spaces)
        body = [lines[k].cut(start)]
        j = k + 1
        while j < n and not _blank(lines[j].text):
            t = lines[j].text
            if self._fence_at(lines, j) is not None:
                break
            if _indent(t) >= 4:
                body.append(lines[j].cut(4))
            elif _DEF_MARK.match(t):
                break
            else:
                body.append(lines[j])
            j += 1
        while True:
            b = j
            while b < n and _blank(lines[b].text):
                b += 1
            if b >= n or _indent(lines[b].text) < 4:
                break
            body.extend(lines[j:b])
            j = b
            while j < n and not _blank(lines[j].text):
                ln = lines[j]
                if _indent(ln.text) < 4 and _DEF_MARK.match(ln.text):
                    break
                body.append(ln.cut(4) if _indent(ln.text) >= 4 else ln)
                j += 1
        return body, j

    def _note(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        """``[^label]: text``: the note's blocks, read only if the note is used."""
        m = _NOTE_DEF.match(lines[i].text)
        if not m or ctx.depth >= _MAX_DEPTH:
            return None
        label = m.group(1)
        first = lines[i].cut(m.end())
        body = [first.cut(min(4, _indent(first.text)))]
        n = len(lines)
        j = self._note_lines(lines, i + 1, body)
        while True:
            b = j
            while b < n and _blank(lines[b].text):
                b += 1
            if b >= n or _indent(lines[b].text) < 4 or b == j:
                break
            body.extend(lines[j:b])
            j = self._note_lines(lines, b, body)
        self.doc.in_note.append(self.doc.define_note(label))
        self._nested(body, ctx)
        self.doc.in_note.pop()
        return j

    @staticmethod
    def _note_lines(lines: _Lines, j: int, body: list[_Line]) -> int:
        while j < len(lines) and not _blank(lines[j].text) and not _NOTE_START.match(lines[j].text):
            body.append(lines[j].cut(min(4, _indent(lines[j].text))))
            j += 1
        return j

    def _reference(self, lines: _Lines, i: int, ctx: _Ctx) -> int | None:
        """``[label]: url "title" {attrs}``, remembered for the inline pass."""
        line = lines[i]
        t = line.text
        sp = _indent(t)
        if sp > 3 or not t.startswith("[", sp) or t.startswith("[^", sp):
            return None
        close = _simple_bracket_end(t, sp)
        if close is None or not t.startswith(":", close + 1):
            return None
        label = t[sp + 1 : close]
        if _has_cite_key(label):
            return None
        joined, starts = _join_some(lines, i, 3)
        parsed = _parse_reference_target(joined, close + 2)
        if parsed is None:
            return None
        url, attrs, end = parsed
        k, _ = _unjoin(starts, end)
        key = _ref_key(label)
        if key:
            self.doc.refs[key] = _Ref(url, attrs, line)
        return i + k + 1

    # tables --------------------------------------------------------------------

    def _table(self, lines: _Lines, i: int, ctx: _Ctx, probe: bool = False) -> int | None:
        """A table with its caption (``Table: ...`` or ``: ...``) before or after."""
        n = len(lines)
        caption: tuple[int, int] | None = None
        t = i
        first = lines[i].text.lstrip(" ")[:1]
        below = lines[i + 1].text.lstrip(" ")[:1] if i + 1 < n else ""
        if first not in (":", "T", "-", "+") and below not in ("-", "|", ":") and "|" not in lines[i].text:
            return None
        if _caption_start(lines[i].text) is not None:
            end = _paragraph_end(lines, i)
            t = end
            while t < n and _blank(lines[t].text):
                t += 1
            caption = (i, end)
        body = self._table_body(lines, t) if t < n else None
        if body is None:
            return None
        end, emit = body
        if probe:
            return end
        emit()
        if caption is None:
            k = end
            while k < n and _blank(lines[k].text):
                k += 1
            if k < n and _caption_start(lines[k].text) is not None:
                caption = (k, _paragraph_end(lines, k))
                end = caption[1]
        if caption is not None:
            self._caption(lines[caption[0] : caption[1]])
        return end

    def _caption(self, cap: list[_Line]) -> None:
        first = cap[0]
        cap = [first.cut(_caption_start(first.text))] + cap[1:]
        last = cap[-1]
        t = last.text.rstrip(" \t")
        attrs = None
        if t.endswith("}"):
            b = t.rfind("{")
            parsed = _parse_attrs(t, b, len(t)) if b >= 0 else None
            if parsed is not None and parsed[1] == len(t):
                attrs = parsed[0]
                cap[-1] = last.head(b)
        self.doc.identifier(attrs, "table", last)
        self.doc.segment("caption", cap)

    def _table_body(self, lines: _Lines, t: int):
        head = lines[t].text
        below = lines[t + 1].text.lstrip(" ")[:1] if t + 1 < len(lines) else ""
        if "|" not in head and head.lstrip(" ")[:1] not in ("-", "+") and below != "-":
            return None
        for attempt in (self._pipe_table, self._multiline_table, self._simple_table, self._grid_table):
            found = attempt(lines, t)
            if found is not None:
                return found
        return None

    def _rows(self, lines: _Lines, rows: list[int]) -> Callable[[], None]:
        def emit() -> None:
            for k in rows:
                if not _blank(lines[k].text):
                    self.doc.segment("cell", [lines[k]])
        return emit

    def _pipe_table(self, lines: _Lines, t: int):
        n = len(lines)
        if t + 1 >= n or not _pipe_row(lines[t].text) or not _pipe_break(lines[t + 1].text):
            return None
        k = t + 2
        while k < n and not _blank(lines[k].text) and _pipe_row(lines[k].text):
            k += 1
        return k, self._rows(lines, [t] + list(range(t + 2, k)))

    def _simple_table(self, lines: _Lines, t: int):
        n = len(lines)
        headless = bool(_DASHES.match(lines[t].text))
        if headless:
            head, first = [], t + 1
        else:
            if t + 1 >= n or not _DASHES.match(lines[t + 1].text):
                return None
            head, first = [t], t + 2
        k = first
        while k < n and not _blank(lines[k].text) and not _DASHES.match(lines[k].text):
            k += 1
        if k == first:
            return None
        if k < n and _DASHES.match(lines[k].text) and (k + 1 >= n or _blank(lines[k + 1].text)):
            k += 1
        elif headless:
            return None
        return k, self._rows(lines, head + list(range(first, k)))

    def _multiline_table(self, lines: _Lines, t: int):
        n = len(lines)
        if not _DASHES.match(lines[t].text) or t + 1 >= n or _blank(lines[t + 1].text):
            return None
        k = t + 1
        while k < n and not _DASHES.match(lines[k].text):
            k += 1
        if k >= n:
            return None
        rows_from = k + 1
        if k == t + 1:
            return None
        end = rows_from
        while end < n:
            if _DASHES.match(lines[end].text) and (end + 1 >= n or _blank(lines[end + 1].text)):
                break
            end += 1
        if end >= n or end == rows_from:
            return None
        return end + 1, self._rows(lines, list(range(t + 1, k)) + list(range(rows_from, end)))

    def _grid_table(self, lines: _Lines, t: int):
        n = len(lines)
        if not _GRID_BORDER.match(lines[t].text):
            return None
        k = t + 1
        last_border = t
        while k < n:
            s = lines[k].text.lstrip(" ")
            if s.startswith("+") and _GRID_BORDER.match(lines[k].text):
                last_border = k
            elif not s.startswith("|"):
                break
            k += 1
        if last_border == t:
            return None
        rows = lines[t : last_border + 1]
        return last_border + 1, lambda: self._grid_cells(rows)

    def _grid_cells(self, rows: list[_Line]) -> None:
        """Each cell of a grid table is read as blocks. Cells are cut where a
        line has a ``|`` or ``+`` on a column boundary, so spanning cells stay whole."""
        bounds = sorted({p for ln in rows for p, ch in enumerate(ln.text) if ch == "+"})
        cells: dict[int, list[_Line]] = {}

        def flush(left: int) -> None:
            cell = cells.pop(left, None)
            if cell and any(not _blank(ln.text) for ln in cell):
                cut = min(_indent(ln.text) for ln in cell if not _blank(ln.text))
                self._nested([ln.cut(min(cut, _indent(ln.text))) for ln in cell], _Ctx())

        for ln in rows:
            t = ln.text
            if _GRID_BORDER.match(t):
                for left in list(cells):
                    flush(left)
                continue
            cuts = [p for p in bounds if p < len(t) and t[p] in "|+"]
            for a, b in zip(cuts, cuts[1:]):
                piece = t[a + 1 : b]
                if piece.strip(" \t") and not piece.strip(" \t:-=+"):
                    flush(a)
                else:
                    cells.setdefault(a, []).append(ln.cut(a + 1).head(b - a - 1))
        for left in list(cells):
            flush(left)

    # paragraphs ----------------------------------------------------------------

    def _paragraph(self, lines: _Lines, i: int, ctx: _Ctx) -> int:
        self._check_no_space(lines[i])
        j = self._paragraph_lines(lines, i, ctx)
        while True:  # an HTML comment opened in a paragraph runs to its end, blank lines or not
            text = "\n".join(ln.text for ln in lines[i:j])
            at = text.rfind("<!--")
            if at < 0 or text.find("-->", at + 4) >= 0 or not _COMMENT_OPEN.match(text, at):
                break
            end = lines.find("-->", j)
            if end is None or not _opens_comment(text, at):
                break
            j = self._paragraph_lines(lines, end[0], ctx)
        stop = _inline_stop("\n".join(ln.text for ln in lines[i:j]), ctx.html_tag)
        if stop is not None and stop > 0:
            k, c = _unjoin(_line_starts(lines[i:j]), stop)
            k += i
            if not self._may_cut(lines[k]):
                self.doc.segment("para", lines[i:j])
                return j
            self.doc.segment("para", lines[i:k] + ([lines[k].head(c)] if c > 0 else []))
            lines[k] = lines[k].cut(c)
            return k
        self.doc.segment("para", lines[i:j])
        return j

    def _paragraph_lines(self, lines: _Lines, i: int, ctx: _Ctx) -> int:
        """The lines after ``i`` that continue its paragraph."""
        j = i + 1
        while j < len(lines):
            t = lines[j].text
            if _blank(t) or (ctx.in_list and _list_marker(t) is not None) or self._closer(t, ctx):
                break
            if t.lstrip(" ").startswith("```") and self._fence_at(lines, j) is not None:
                break
            if _ATX_LIKE.match(t):
                self.doc.near_miss("heading-no-blank-line", lines[j])
            else:
                self._check_no_space(lines[j])
            j += 1
        return j

    def _check_no_space(self, line: _Line) -> None:
        m = _NO_SPACE.match(line.text)
        if m and m.group(2).isalnum():
            self.doc.near_miss("heading-no-space", line)


def _heading_tail(t: str, k: int, closing_hashes: bool) -> tuple[int, _Attrs | None]:
    """Where a heading's text ends: before ``{attributes}`` and closing ``#``s."""
    end = len(t.rstrip(" \t"))
    attrs = None
    if end > k and t[end - 1] == "}":
        b = t.rfind("{", k, end)
        tries = 0
        while b >= k and tries < 8:
            parsed = _parse_attrs(t, b, end)
            if parsed is not None and parsed[1] == end and not _attached(t, k, b):
                attrs = parsed[0]
                end = len(t[:b].rstrip(" \t"))
                break
            b = t.rfind("{", k, b)
            tries += 1
    if closing_hashes:
        h = end
        while h > k and t[h - 1] == "#":
            h -= 1
        if h < end and not (h > k and t[h - 1] == "\\"):
            end = len(t[:h].rstrip(" \t"))
    return max(end, k), attrs


def _attached(t: str, k: int, b: int) -> bool:
    """Whether the ``{`` at ``b`` belongs to a link, image, span or code span
    that ends right before it (then it is not the heading's)."""
    if b <= k:
        return False
    before = t[b - 1]
    if before == "`":
        return t.count("`", k, b) % 2 == 0 and t.count("`", k, b) >= 2
    if before == "]":
        return _simple_bracket_start(t, k, b - 1) is not None
    if before == ")":
        depth = 0
        for q in range(b - 1, k - 1, -1):
            depth += {")": 1, "(": -1}.get(t[q], 0)
            if depth == 0:
                return q > k and t[q - 1] == "]" and _simple_bracket_start(t, k, q - 1) is not None
    return False


def _simple_bracket_start(t: str, k: int, close: int) -> int | None:
    depth = 0
    for q in range(close, k - 1, -1):
        depth += {"]": 1, "[": -1}.get(t[q], 0)
        if depth == 0:
            return q
    return None


def _ends_with_citation_then_group(text: str, below: str) -> bool:
    """Pandoc reads ``@key`` + newline + ``[...]`` as one citation with a locator."""
    m = re.search(r"(?:^|[^\w.])-?@[\w*][^\s\[\]]*$", text)
    if m is None or not _KEY.fullmatch(text[m.end() - len(text.rsplit("@", 1)[1]) :]):
        return False
    b = below.lstrip(" \t")
    close = _simple_bracket_end(b, 0) if b.startswith("[") and not b.startswith("[^") else None
    return close is not None and (_has_cite_key(b[1:close]) or b[close + 1 : close + 2] not in ("[", "("))


def _caption_start(t: str) -> int | None:
    """Where a table caption's text starts (``Table:`` or ``:`` then text)."""
    sp = _indent(t)
    if sp > 3:
        return None
    if t.startswith("Table:", sp):
        k = sp + 6
    elif t.startswith(":", sp) and not (sp + 1 < len(t) and unicodedata.category(t[sp + 1]).startswith("P")):
        k = sp + 1
    else:
        return None
    if _blank(t[k:]):
        return None
    return k + _indent(t[k:])


def _paragraph_end(lines: list[_Line], i: int) -> int:
    j = i + 1
    while j < len(lines) and not _blank(lines[j].text):
        j += 1
    return j


def _line_starts(lines: list[_Line]) -> list[int]:
    starts = []
    pos = 0
    for ln in lines:
        starts.append(pos)
        pos += len(ln.text) + 1
    return starts


def _inline_stop(text: str, html_tag: str | None) -> int | None:
    """Where Pandoc's inline parser stops in ``text``: at a block-level HTML tag
    (``<div>``, ``</p>``...) or at the closing tag of the enclosing HTML block."""
    if not _PARAGRAPH_STOP.search(text) and (html_tag is None or "</" not in text):
        return None
    return _Inline(_Segment("para", [_Line(text, 0, 0, None)]), _Doc()).stop_at(html_tag)


def _opens_comment(text: str, at: int) -> bool:
    """Whether the ``<!--`` at ``at`` is read as a comment (not inside code)."""
    return _Inline(_Segment("para", [_Line(text, 0, 0, None)]), _Doc()).reaches(at)


def _pipe_row(t: str) -> bool:
    s = t.strip(" \t")
    if "|" not in s:
        return False
    return s.startswith("|") or "|" in s[:-1]


def _pipe_break(t: str) -> bool:
    if not _PIPE_SEP.match(t):
        return False
    s = t.strip(" \t")
    return s.startswith("|") or "|" in s.strip("|") or "+" in s


def _join_some(lines: list[_Line], i: int, count: int) -> tuple[str, list[int]]:
    """A few lines joined by "\\n", for constructs that may span lines."""
    parts = [ln.text for ln in lines[i : i + count]]
    starts = []
    pos = 0
    for p in parts:
        starts.append(pos)
        pos += len(p) + 1
    return "\n".join(parts), starts


def _unjoin(starts: list[int], offset: int) -> tuple[int, int]:
    k = max(0, bisect.bisect_right(starts, offset) - 1)
    return k, offset - starts[k]


def _simple_bracket_end(t: str, p: int) -> int | None:
    """The ``]`` closing the ``[`` at ``p`` on one line (escapes skipped)."""
    depth = 0
    k = p
    while k < len(t):
        c = t[k]
        if c == "\\":
            k += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return k
        k += 1
    return None


def _parse_reference_target(s: str, p: int) -> tuple[str, _Attrs | None, int] | None:
    """The URL, optional title and attributes of a link definition, from ``s[p:]``;
    the end must be the end of a line."""
    n = len(s)
    q = _skip_spnl(s, p, n)
    if q >= n or s[q] in "[\n":
        return None
    if s[q] == "<":
        e = s.find(">", q + 1)
        if e < 0:
            return None
        url = s[q + 1 : e]
        q = e + 1
    else:
        words = []
        while q < n and s[q] != "\n" and not (words and s[q] in "\"'({"):
            m = _NON_SPACE.match(s, q)
            if m is None:
                break
            words.append(m.group())
            q = m.end()
            while q < n and s[q] != "\n" and s[q].isspace():
                q += 1
        if not words:
            return None
        url = " ".join(words)
    r = _skip_spnl(s, q, n)
    if r < n and s[r] in "\"'(":
        close = ")" if s[r] == "(" else s[r]
        e = s.find(close, r + 1)
        line_end = s.find("\n", r + 1)
        if e >= 0 and (line_end < 0 or e < line_end):
            q = e + 1
    attrs = None
    r = q
    while r < n and s[r] in " \t":
        r += 1
    if r < n and s[r] == "{":
        parsed = _parse_attrs(s, r, n)
        if parsed is not None:
            attrs, q = parsed
    while q < n and s[q] in " \t":
        q += 1
    if q < n and s[q] != "\n":
        return None
    return _clean_url(url), attrs, q


def _skip_spnl(s: str, q: int, n: int) -> int:
    while q < n and s[q] in " \t":
        q += 1
    if q < n and s[q] == "\n":
        q += 1
        while q < n and s[q] in " \t":
            q += 1
    return q


# --------------------------------------------------------------------------
# Attributes, keys, URLs
# --------------------------------------------------------------------------

_IDENT = re.compile(r"[\w][\w\-:.]*")
# arguments Pandoc's LaTeX reader takes for common commands (others: all that follow)
_TEX_ARITY = {
    **dict.fromkeys(
        """emph textbf textit texttt textsc textsf textrm textup textmd textnormal textsl underline uline
        sout textsuperscript textsubscript index label ref eqref pageref autoref cref Cref nameref url
        nolinkurl footnote footnotetext thanks mbox hbox fbox cite citep citet citealp citeauthor
        citeyear parencite textcite autocite footcite fullcite nocite caption section subsection
        subsubsection chapter part paragraph subparagraph enquote sqrt vspace hspace
        includegraphics""".split(),
        1,
    ),
    **dict.fromkeys("href textcolor colorbox frac tfrac dfrac foreignlanguage".split(), 2),
    **dict.fromkeys("""LaTeX TeX ldots dots today noindent newline linebreak newpage clearpage pagebreak
        centering""".split(), 0),
}
_NON_SPACE = re.compile(r"\S+")
_KEY = re.compile(r"[\w*](?:\w|[:.#$%&\-+?<>~/](?=\w)|[:/](?=/))*")
_TRAIL = re.compile(r"[^\s\[\]{}()<>,;\"]*")
_EXAMPLE_REF = re.compile(r"[^\W_]*(?:[_-][^\W_]+)*")
_URI_UNSAFE = frozenset('<>|"{}[]^`')


def _spnl(s: str, q: int, hi: int) -> int | None:
    """Pandoc's spnl: spaces, at most one newline, spaces -- never a blank line."""
    while q < hi and s[q] in " \t":
        q += 1
    if q < hi and s[q] == "\n":
        q += 1
        while q < hi and s[q] in " \t":
            q += 1
        if q < hi and s[q] == "\n":
            return None
    return q


def _parse_attrs(s: str, p: int, hi: int) -> tuple[_Attrs, int] | None:
    """Pandoc's ``{#id .class key=value -}`` at ``p``: the attributes and the end."""
    if p >= hi or s[p] != "{":
        return None
    q = _spnl(s, p + 1, hi)
    attrs = _Attrs()
    while q is not None and q < hi and s[q] != "}":
        c = s[q]
        if c in "#.":
            m = _IDENT.match(s, q + 1, hi)
            if m is None:
                return None
            if c == "#":
                attrs.id, attrs.id_at = m.group(), q
            else:
                attrs.classes.append(m.group())
            q = m.end()
        else:
            m = _IDENT.match(s, q, hi)
            if m is not None and m.end() < hi and s[m.end()] == "=":
                value = _attr_value(s, m.end() + 1, hi)
                if value is None:
                    return None
                val, q = value
                key = m.group()
                if key == "id":
                    attrs.id, attrs.id_at = val, m.start()
                elif key == "class":
                    attrs.classes.extend(val.split())
                else:
                    attrs.kvs[key] = val
            elif c == "-":
                attrs.classes.append("unnumbered")
                q += 1
            else:
                return None
        q = _spnl(s, q, hi)
    if q is None or q >= hi:
        return None
    return attrs, q + 1


def _attr_value(s: str, v: int, hi: int) -> tuple[str, int] | None:
    if v < hi and s[v] in "\"'":
        quote = s[v]
        if s.startswith(quote * 2, v):
            return "", v + 2
        if v + 1 < hi and s[v + 1] not in " \t\n":
            e = v + 1
            while True:
                e = s.find(quote, e, hi)
                if e < 0:
                    return None
                slashes = 0
                while s[e - 1 - slashes] == "\\":
                    slashes += 1
                if slashes % 2 == 0:
                    return _unescape(s[v + 1 : e]), e + 1
                e += 1
    e = v
    while e < hi and s[e] not in " \t\n\r}":
        e += 2 if s[e] == "\\" and e + 1 < hi else 1
    return _unescape(s[v:e]), min(e, hi)


def _unescape(t: str) -> str:
    """Backslash escapes and entities, as Pandoc's litChar reads them."""
    if "\\" in t:
        t = re.sub(r"\\([^\w\s])", r"\1", t)
    if "&" in t:
        t = html.unescape(t)
    return t


def _escape_uri(u: str) -> str:
    """Pandoc's escapeURI: percent-encode spaces and ``<>|"{}[]^` ``."""
    if not any(ch.isspace() or ch in _URI_UNSAFE for ch in u):
        return u
    out = []
    for ch in u:
        if ch.isspace() or ch in _URI_UNSAFE:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
        else:
            out.append(ch)
    return "".join(out)


def _clean_url(raw: str) -> str:
    return _escape_uri(" ".join(_unescape(raw).split()))


def _has_cite_key(label: str) -> bool:
    """Whether Pandoc could read ``label`` (inside brackets) as a citation."""
    at = label.find("@")
    while at >= 0:
        prev = label[at - 1] if at > 0 else " "
        if not prev.isalnum() and prev != "\\" and at + 1 < len(label):
            nxt = label[at + 1]
            if nxt == "{" or _KEY.match(label, at + 1):
                return True
        at = label.find("@", at + 1)
    return False


def _trailing(s: str, end: int, hi: int) -> str:
    m = _TRAIL.match(s, end, hi)
    return m.group().rstrip(".:!?") if m else ""


def _latex_end(s: str, p: int, hi: int, braces: Callable[[int], int | None] | None) -> int:
    """End of a raw TeX command at ``p``: its name, ``*``, then ``[options]``,
    then ``{arguments}`` -- as many as a common command takes, else all of
    them, which is what Pandoc takes for a command it does not know."""
    m = _LATEX_NAME.match(s, p, hi)
    e = m.end()
    wanted = _TEX_ARITY.get(m.group(1), -1)
    in_options = True
    while wanted != 0:
        j = e
        while j < hi and s[j] in " \t":
            j += 1
        if in_options and j < hi and s[j] == "[":
            k = s.find("]", j, min(hi, j + 300))
            if k < 0:
                break
            e = k + 1
        elif j < hi and s[j] == "{":
            in_options = False
            k = braces(j) if braces is not None else _brace_end(s, j, hi)
            if k is None or k >= hi:
                break
            e = k + 1
            wanted -= 1
        else:
            break
    return e


def _brace_end(s: str, p: int, hi: int) -> int | None:
    depth = 0
    k = p
    while k < hi:
        c = s[k]
        if c == "\\":
            k += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return k
        k += 1
    return None


def _smart(t: str) -> str:
    """Pandoc's smart punctuation, which decides what an identifier keeps."""
    if "-" in t or "..." in t:
        t = t.replace("---", "\u2014").replace("--", "\u2013").replace("...", "\u2026")
    return t


def _ends_str(run: str) -> bool:
    """Whether Pandoc's last token in ``run`` is a Str, which stops a citation
    right after it: letters and digits, or dots that are not an ellipsis."""
    dots = len(run) - len(run.rstrip("."))
    if dots:
        return dots % 3 != 0
    return run[-1].isalnum()


# --------------------------------------------------------------------------
# Inline pass
# --------------------------------------------------------------------------

_SPECIAL = re.compile(r"[`\\$<\[!@*_&^]")
_TICKS = re.compile(r"`+")
_WHITESPACE = re.compile(r"\s")
_NOTE_REF = re.compile(r"\[\^[^\s\]\[][^\s\]]*\]")
_COMMENT_OPEN = re.compile(r"<!--(?!-?>)")
_ENTITY = re.compile(r"&(?:#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});")
_SCHEMES = frozenset(
    """http https ftp ftps sftp file mailto tel sms news nntp irc ircs doi data urn ssh git svn ws wss
    geo magnet xmpp sip sips telnet ldap gopher rtsp javascript about chrome hdl info isbn issn arxiv
    pmid s3 gs hdfs webcal feed dns cid mid""".split()
)
_AUTO_URI = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}):([^\s<>]*)>")
_EMAIL_WORD = r"[^\W_]+(?:[!#$%&'*+/=?^_`{|}~;-][^\W_]+)*"
_AUTO_EMAIL = re.compile(rf"<({_EMAIL_WORD}(?:\.{_EMAIL_WORD})*@[^\W_]+(?:-[^\W_]+)*(?:\.[^\W_]+(?:-[^\W_]+)*)*)>")


class _Inline:
    """Reads one segment's inline text once, left to right.

    Pandoc's precedence: a backslash escape, a code span, math, raw TeX or
    HTML, an autolink, a span, link or image and finally ``@``. Brackets,
    braces, parentheses and backtick runs are matched once for the whole
    segment, so every construct is found in linear time.
    """

    def __init__(self, seg: _Segment, doc: _Doc) -> None:
        self.s = seg.text
        self.seg = seg
        self.doc = doc
        self.words: list[str] = []
        self.plain: list[str] = []
        self.ident: list[str] = []
        self._finds: dict[str, tuple[int, int]] = {}
        self._pairs: dict[str, dict[int, int]] = {}
        self._ticks: dict[int, list[int]] | None = None
        self._codes: dict[int, tuple[int, int, int, int] | None] = {}
        self._ws: tuple[int, int] = (-1, -1)

    def read(self) -> int:
        """Scan the whole segment; return its word count."""
        end = len(self.s)
        if self.seg.role in ("cell", "term", "line"):  # Pandoc reads these on their own:
            stop = self.stop_at(None)  # a block-level tag ends the text, the rest is lost
            end = stop if stop is not None else end
        self.run(0, end, 0, False, True)
        return sum(1 for w in "".join(self.words).split() if any(ch.isalnum() for ch in w))

    # sinks --------------------------------------------------------------------

    def _text(self, t: str, smart: bool = True) -> None:
        self.words.append(t)
        self.plain.append(t)
        self.ident.append(_smart(t) if smart else t)

    def _hidden(self, shown: str = "") -> None:
        """Text that is not prose (code, math, keys): visible in headings only."""
        self.words.append(" ")
        self.plain.append(shown)
        self.ident.append(shown)

    def _pos(self, i: int) -> tuple[int, int]:
        return self.seg.where(i)

    # lookups ------------------------------------------------------------------

    def _find(self, needle: str, start: int) -> int:
        last = self._finds.get(needle)
        if last is not None and last[0] <= start and (last[1] < 0 or last[1] >= start):
            return last[1]
        found = self.s.find(needle, start)
        self._finds[needle] = (start, found)
        return found

    def _next_space(self, start: int) -> int:
        last_start, found = self._ws
        if last_start >= 0 and last_start <= start and found >= start:
            return found
        m = _WHITESPACE.search(self.s, start)
        found = m.start() if m else len(self.s)
        self._ws = (start, found)
        return found

    def _pair(self, kind: str) -> dict[int, int]:
        """Matching closers for ``[``, ``(``, ``{`` (TeX) or ``{`` (raw), computed once."""
        if kind not in self._pairs:
            self._pairs[kind] = self._brackets() if kind == "[" else _pairs(self.s, kind)
        return self._pairs[kind]

    def _brackets(self) -> dict[int, int]:
        """Pandoc's balanced brackets: escapes, code, raw HTML and TeX are skipped."""
        s = self.s
        n = len(s)
        match: dict[int, int] = {}
        stack: list[int] = []
        finder = re.compile(r"[\[\]\\`<$]")
        p = 0
        while p < n:
            m = finder.search(s, p)
            if m is None:
                break
            p = m.start()
            c = s[p]
            if c == "\\":
                if p + 1 < n and s[p + 1].isalpha():
                    p = _latex_end(s, p, n, self._tex_brace)
                else:
                    p += 2
            elif c == "`":
                code = self._code_span(p, n)
                p = code[3] if code else self._tick_run_end(p)
            elif c == "<":
                tag = self._tag_end(p, n)
                p = tag if tag else p + 1
            elif c == "$":
                math = self._math_end(p, n)
                p = math[2] if math else p + 1
            elif c == "[":
                stack.append(p)
                p += 1
            else:
                if stack:
                    match[stack.pop()] = p
                p += 1
        return match

    def _tex_brace(self, p: int) -> int | None:
        return self._pair("{").get(p)

    def _tick_run_end(self, p: int) -> int:
        e = p
        while e < len(self.s) and self.s[e] == "`":
            e += 1
        return e

    def _code_span(self, p: int, hi: int) -> tuple[int, int, int, int] | None:
        """Pandoc's code span at a backtick run: (literal ticks, content start,
        content end, end). A run of n ticks closes at the next run of exactly n;
        if there is none, one tick is literal and the rest is tried again."""
        known = self._codes.get(p, False)
        if known is None or (known and known[3] <= hi):
            return known  # (no closer anywhere, or the one found fits)
        if self._ticks is None:
            self._ticks = {}
            for m in _TICKS.finditer(self.s):
                self._ticks.setdefault(m.end() - m.start(), []).append(m.start())
        e = self._tick_run_end(p)
        found = None
        for size in range(e - p, 0, -1):
            starts = self._ticks.get(size)
            if not starts:
                continue
            k = bisect.bisect_left(starts, e)
            if k < len(starts) and starts[k] + size <= hi:
                close = starts[k]
                found = (e - p - size, e, close, close + size)
                break
        if hi == len(self.s):
            self._codes[p] = found
        return found

    def _tag_end(self, p: int, hi: int) -> int | None:
        s = self.s
        if _COMMENT_OPEN.match(s, p):
            e = self._find("-->", p + 4)
            return e + 3 if 0 <= e and e + 3 <= hi else None
        if p + 1 >= hi or not (s[p + 1].isalpha() or s[p + 1] in "/?!"):
            return None
        gt = self._find(">", p)
        if gt < 0 or gt >= hi:
            return None
        m = _HTML_TAG.match(s, p, min(hi, max(gt + 1, p + 2000)))
        return m.end() if m else None

    def reaches(self, at: int) -> bool:
        """Whether position ``at`` starts a token (is not inside an escape or code)."""
        s = self.s
        p = 0
        finder = re.compile(r"[\\`]")
        while p < at:
            m = finder.search(s, p, at)
            if m is None:
                return True
            p = m.start()
            if s[p] == "\\":
                p += 2
            else:
                code = self._code_span(p, len(s))
                p = code[3] if code else self._tick_run_end(p)
        return p == at

    def stop_at(self, html_tag: str | None) -> int | None:
        """The first tag that ends inline text, skipping escapes, code and math."""
        s = self.s
        n = len(s)
        finder = re.compile(r"[\\`<$@\[]")
        p = 0
        key_end = -1
        while True:
            m = finder.search(s, p)
            if m is None:
                return None
            p = m.start()
            c = s[p]
            if c == "\\":
                p += 2
            elif c == "`":
                code = self._code_span(p, n)
                p = code[3] if code else self._tick_run_end(p)
            elif c == "$":
                math = self._math_end(p, n)
                p = math[2] if math else p + 1
            elif c == "@":
                key = _KEY.match(s, p + 1) if p == key_end or p == 0 or not s[p - 1].isalnum() else None
                p = key.end() if key else p + 1
                key_end = p if key else -1
            elif c == "[":  # bracketed text is read on its own: a tag in it ends only it
                close = self._pair("[").get(p)
                p = close + 1 if close is not None else p + 1
            elif _COMMENT_OPEN.match(s, p):
                p = self._tag_end(p, n) or p + 1
            else:
                tag = _HTML_TAG.match(s, p, min(n, p + 2000))
                if tag is None:
                    p += 1
                    continue
                name = (tag.group("open") or tag.group("close") or "").lower()
                if name in _BLOCK_TAGS and name not in _INLINE_TOO_TAGS:
                    return p
                if html_tag is not None and tag.group("close") and name == html_tag:
                    return p
                p = tag.end()

    # the scan -------------------------------------------------------------------

    def run(self, lo: int, hi: int, depth: int, in_cite: bool, links_ok: bool,
            semis: list[int] | None = None) -> list[int]:
        """Scan ``s[lo:hi]``; return the indices of the citations found at this level."""
        s = self.s
        cites: list[int] = []
        last_str = -1  # end of the last Str token: '@' there is not a citation
        openers: list[tuple[int, int, str]] = []  # open emphasis: (plain index, ident index, delimiter)
        dash_after_str = False  # a '-' right before the next '@' follows a Str
        p = lo
        while p < hi:
            m = _SPECIAL.search(s, p, hi)
            q = m.start() if m else hi
            if q > p:
                chunk = s[p:q]
                self._text(chunk)
                if semis is not None and ";" in chunk:
                    semis.extend(p + k for k, ch in enumerate(chunk) if ch == ";")
                if chunk[-1] == "-":
                    dash_after_str = last_str == p if len(chunk) == 1 else _ends_str(chunk[:-1])
                if _ends_str(chunk):
                    last_str = q
                p = q
                if p >= hi:
                    break
            c = s[p]
            if c == "@":
                p = self._at(p, hi, last_str == p, in_cite, cites, dash_after_str)
            elif c == "`":
                p = self._backticks(p, hi)
            elif c == "\\":
                p = self._backslash(p, hi)
            elif c == "$":
                p = self._dollar(p, hi)
            elif c == "<":
                p = self._angle(p, hi, links_ok, depth)
            elif c == "[":
                p = self._bracket(p, hi, depth, links_ok)
            elif c == "!":
                p = self._bang(p, hi, depth, links_ok)
            elif c == "^":
                p = self._caret(p, hi, depth, links_ok)
            elif c == "&":
                p = self._entity(p, hi)
            else:
                p, closed = self._emphasis(p, hi, last_str, openers)
                if closed:
                    last_str = p
        for at_plain, at_ident, delimiter in openers:  # never closed: plain text after all
            self.plain[at_plain] = delimiter
            self.ident[at_ident] = delimiter
        return cites

    def _emphasis(self, p: int, hi: int, last_str: int,
                  openers: list[tuple[int, int, str]]) -> tuple[int, bool]:
        """Emphasis delimiters, nested as Pandoc nests them: dropped from the
        text when they open or close, and a closing one counts as a Str (no
        citation right after it). ``*`` is closed by one star, ``**`` by two
        (two stars inside ``*`` open a strong), ``***`` by any; a run of four
        or more stars is text."""
        s = self.s
        c = s[p]
        e = p
        while e < hi and s[e] == c:
            e += 1
        run = e - p
        nxt = s[e] if e < hi else " "
        if openers and openers[-1][2][0] == c and (c == "*" or not nxt.isalnum()):
            opened = len(openers[-1][2])
            need = opened if opened <= 2 else min(run, 3)
            if run >= need and not (opened == 1 and run == 2):
                openers.pop()
                return p + need, True
        if run >= 4:
            self._text(s[p:e])
            return e, False
        if not nxt.isspace() and (c == "*" or last_str != p):
            self.plain.append("")
            self.ident.append("")
            openers.append((len(self.plain) - 1, len(self.ident) - 1, s[p:e]))
            return e, False
        self._text(s[p:e])
        return e, False

    def _at(self, p: int, hi: int, after_str: bool, in_cite: bool, cites: list[int], dash_after_str: bool) -> int:
        s = self.s
        if not after_str:
            key = self._cite_key(p + 1, hi)
            if key is not None:
                name, end, braced = key
                line, col = self._pos(p)
                trailing = "" if braced else _trailing(s, end, hi)
                cites.append(self.doc.add_citation(Citation(name, line, col, braced, in_cite, trailing), (p, end)))
                if self.ident and self.ident[-1].endswith("-") and s[p - 1 : p] == "-" and not dash_after_str:
                    # '-@key' (suppress author) is one citation whose text is '@key'; not after a word
                    self.ident[-1] = self.ident[-1][:-1]
                    self.plain[-1] = self.plain[-1][:-1]
                self._hidden(s[p:end])
                if not in_cite and s.startswith("[", end):
                    group = self._pair("[").get(end)
                    if group is not None and _has_cite_key(s[end + 1 : group]):
                        self.ident.append(" ")  # '@a [@b]' is one Cite: '@a [@b]'
                after = _spnl(s, end, hi)
                if after is not None and s.startswith("[", after) and not s.startswith("[^", after):
                    group = self._pair("[").get(after)
                    if group is not None and group < hi and s[group + 1 : group + 2] not in ("[", "("):
                        self.doc.with_locator.add(cites[-1])  # '@good [p. 3]' stays a citation
                return end
        m = _EXAMPLE_REF.match(s, p + 1, hi)
        end = m.end() if m else p + 1
        self._text(s[p:end])
        return end

    def _cite_key(self, q: int, hi: int) -> tuple[str, int, bool] | None:
        s = self.s
        if q >= hi:
            return None
        if s[q] == "{":
            e = self._pair("{raw").get(q)
            if e is None or e >= hi or self._next_space(q) < e:
                return None
            return s[q + 1 : e], e + 1, True
        m = _KEY.match(s, q, hi)
        return (m.group(), m.end(), False) if m else None

    def _backticks(self, p: int, hi: int) -> int:
        s = self.s
        code = self._code_span(p, hi)
        if code is None:
            e = min(self._tick_run_end(p), hi)
            self._text(s[p:e])
            return e
        literal, start, end, after = code
        if literal:
            self._text(s[p : p + literal])
        content = " ".join(s[start:end].split())
        raw = _RAW_ATTR.match(s, after, hi)
        if raw is not None:
            line, col = self._pos(p + literal)
            self.doc.raw(raw.group(1), content, line, col)
            self._hidden()
            return raw.end()
        self._hidden(content)
        parsed = _parse_attrs(s, after, hi) if after < hi and s[after] == "{" else None
        if parsed is not None:
            self._identifier(parsed[0], "code")
            return parsed[1]
        return after

    def _backslash(self, p: int, hi: int) -> int:
        s = self.s
        nxt = s[p + 1] if p + 1 < hi else ""
        if nxt == "\n":
            self._hidden(" ")
            return p + 1
        if nxt and not nxt.isalnum():
            self._text("\u00a0" if nxt == " " else nxt, smart=False)
            return p + 2
        if nxt.isalpha():
            if s.startswith("\\begin{", p):
                env = _BEGIN_ENV.match(s, p, hi)
                if env is not None:
                    close = self._find("\\end{" + env.group(1) + "}", env.end())
                    if 0 <= close < hi:
                        end = close + len(env.group(1)) + 6
                        self._raw_tex(p, end)
                        return end
            end = _latex_end(s, p, hi, self._tex_brace)
            self._raw_tex(p, end)
            return end
        self._text("\\")
        return p + 1

    def _raw_tex(self, p: int, end: int) -> None:
        line, col = self._pos(p)
        self.doc.raw("tex", self.s[p:end], line, col)
        self._hidden()

    def _dollar(self, p: int, hi: int) -> int:
        math = self._math_end(p, hi)
        if math is None:
            self._text("$")
            return p + 1
        start, end, after = math
        self._hidden(self.s[start:end])
        return after

    def _math_end(self, p: int, hi: int) -> tuple[int, int, int] | None:
        """Pandoc's tex_math_dollars at ``p``: (content start, content end, end).
        ``$$...$$``, else ``$...$`` whose opening ``$`` is not followed by a space
        nor the closing one preceded by a space or followed by a digit."""
        s = self.s
        if s.startswith("$$", p):
            e = self._find("$$", p + 3)
            if 0 <= e and e + 2 <= hi and e - p < 20000:
                return p + 2, e, e + 2
        q = p + 1
        if q >= hi or s[q] in " \t\n$":
            return None
        k = q
        limit = min(hi, p + 20000)  # (Pandoc's closing '$' may not follow whitespace)
        while k < limit:
            c = s[k]
            if c == "$" and k > q:
                if k + 1 < hi and s[k + 1].isdigit():
                    return None
                return q, k, k + 1
            if c == "\\":
                if s.startswith("text{", k + 1):
                    close = self._tex_brace(k + 5)
                    k = close + 1 if close is not None and close < hi else k + 2
                else:
                    k += 2
                continue
            if c in " \t\n":
                e = k
                while e < hi and s[e] in " \t\n":
                    e += 1
                if e < hi and s[e] == "$":
                    return None
                k = e
                continue
            k += 1
        return None

    def _angle(self, p: int, hi: int, links_ok: bool, depth: int) -> int:
        s = self.s
        window = min(hi, p + 2048)
        if links_ok:
            m = _AUTO_URI.match(s, p, window)
            if m is not None and m.group(1).lower() in _SCHEMES:
                url = m.group(1) + ":" + m.group(2)
                self._link(_escape_uri(html.unescape(url)), p)
                self._hidden(url)
                return m.end()
            m = _AUTO_EMAIL.match(s, p, window)
            if m is not None:
                self._link("mailto:" + m.group(1), p)
                self._hidden(m.group(1))
                return m.end()
        end = self._tag_end(p, hi)
        if end is None:
            self._text("<")
            return p + 1
        if not _COMMENT_OPEN.match(s, p):
            tag = s[p:end]
            name = re.match(r"</?([A-Za-z][A-Za-z0-9-]*)", tag)
            if depth > 0 and name is not None and name.group(1).lower() in _BLOCK_TAGS - _INLINE_TOO_TAGS:
                return hi  # Pandoc reads bracketed text on its own and drops it from here
            line, col = self._pos(p)
            self.doc.raw("html", tag, line, col)
            idm = _HTML_ID.search(tag)
            name = re.match(r"<(\w+)", tag)
            if idm is not None and name is not None:
                ident = next(g for g in idm.groups() if g is not None)
                kind = {"div": "div", "span": "span"}.get(name.group(1).lower(), "other")
                if ident:
                    iline, icol = self._pos(p + idm.start() + 1)
                    self.doc.out.identifiers.append(Identifier(ident, kind, iline, icol))
        self._hidden()
        return end

    def _entity(self, p: int, hi: int) -> int:
        m = _ENTITY.match(self.s, p, hi)
        if m is not None:
            decoded = html.unescape(m.group())
            if decoded != m.group():
                self._text(decoded, smart=False)
                return m.end()
        self._text("&")
        return p + 1

    def _caret(self, p: int, hi: int, depth: int, links_ok: bool) -> int:
        """``^sup^`` (no spaces inside), else ``^[inline note]`` -- unless the
        brackets are a link, span or reference, which Pandoc 3.9 prefers."""
        s = self.s
        close = self._find("^", p + 1)
        space = self._next_space(p + 1)
        if p + 1 < close < min(hi, space) and depth < _MAX_DEPTH:
            self.run(p + 1, close, depth + 1, False, links_ok)
            return close + 1
        q = self._pair("[").get(p + 1) if p + 1 < hi and s[p + 1] == "[" else None
        if q is None or q >= hi or depth >= _MAX_DEPTH or (q + 1 < hi and s[q + 1] in "([{"):
            self._text("^")
            return p + 1
        self.run(p + 2, q, depth + 1, False, links_ok)
        return q + 1

    # brackets -------------------------------------------------------------------

    def _bracket(self, p: int, hi: int, depth: int, links_ok: bool) -> int:
        """``[`` starts a note reference, a span, a link or a citation group --
        tried in Pandoc 3.9's order -- or is a plain bracket."""
        s = self.s
        note = _NOTE_REF.match(s, p, hi)
        if note is not None:
            marker = note.group()
            self.doc.note_refs.add(marker[2:-1])
            if marker[2:-1] in self.doc.notes:
                self.words.append(" ")
                self.ident.append(marker)  # Pandoc names headings before notes are resolved
            else:
                self._text(marker)
            return note.end()
        q = self._pair("[").get(p)
        if q is None or q >= hi or depth >= _MAX_DEPTH:
            self._text("[")
            return p + 1
        after = q + 1
        if after < hi and s[after] == "{":
            parsed = _parse_attrs(s, after, hi)
            if parsed is not None:
                self._identifier(parsed[0], "span")
                self.run(p + 1, q, depth + 1, False, links_ok)
                return parsed[1]
        if links_ok:
            target = self._target(p, q, hi)
            if target is not None:
                url, heading, attrs, end = target
                if end == after and url is None and heading < 0:
                    # undefined [text][ref]: literal text; Pandoc reads [ref] on its own
                    self._text("[")
                    self.run(p + 1, q, depth + 1, False, links_ok)
                    self._text("]")
                    r = self._pair("[")[after]
                    self._bracket(after, r + 1, depth + 1, links_ok)
                    return r + 1
                self._pending_link(url, heading, p)
                if attrs is not None:
                    self._identifier(attrs, "other")
                self.run(p + 1, q, depth + 1, False, False)
                return end
        semis: list[int] = []
        self._text("[")
        cites = self.run(p + 1, q, depth + 1, True, links_ok, semis)
        self._text("]")
        if cites and not self._citation_group(p + 1, cites, semis):
            for k in cites:
                self.doc.out.citations[k] = replace(self.doc.out.citations[k], bracketed=False)
        return after

    def _citation_group(self, lo: int, cites: list[int], semis: list[int]) -> bool:
        """Pandoc's normalCite grammar: ``[prefix @key suffix; ...]``. A ``;``
        after the last key, or right before a key without being the separator
        after the previous one, makes the whole group plain text."""
        spans = [self.doc.cite_spans[k] for k in cites]
        if semis and semis[-1] > spans[-1][0]:
            return False
        s = self.s
        prev_end = lo
        k = 0
        for index, (start, end) in enumerate(spans):
            between = []
            while k < len(semis) and semis[k] < start:
                if semis[k] >= prev_end:
                    between.append(semis[k])
                k += 1
            if between:
                last = between[-1]
                direct = s[last + 1 : start].strip(" \t\n-") == ""
                if direct and (index == 0 or len(between) > 1):
                    return False
            prev_end = end
        return True

    def _target(self, p: int, q: int, hi: int) -> tuple[str | None, int, _Attrs | None, int] | None:
        """Where ``[text]`` at ``p``..``q`` points: (url, heading, attributes, end).
        An undefined ``[text][ref]`` gives (None, -1, None, q + 1)."""
        s = self.s
        after = q + 1
        if after < hi and s[after] == "(":
            src = self._source(after, hi)
            if src is not None:
                url, end = src
                attrs = None
                if end < hi and s[end] == "{":
                    parsed = _parse_attrs(s, end, hi)
                    if parsed is not None:
                        attrs, end = parsed
                return url, -1, attrs, end
        if after < hi and s[after] == "[":
            r = self._pair("[").get(after)
            if r is not None and r < hi and not _has_cite_key(s[after + 1 : r]):
                label = s[after + 1 : r] if s[after + 1 : r].strip() else s[p + 1 : q]
                found = self.doc.lookup(_ref_key(label))
                if found is None:
                    return None, -1, None, after
                return found[0], found[1], self._ref_attrs(label), r + 1
        found = self.doc.lookup(_ref_key(s[p + 1 : q]))
        if found is None:
            return None
        return found[0], found[1], self._ref_attrs(s[p + 1 : q]), after

    def _ref_attrs(self, label: str) -> _Attrs | None:
        ref = self.doc.refs.get(_ref_key(label))
        return ref.attrs if ref is not None else None

    def _source(self, a: int, hi: int) -> tuple[str, int] | None:
        """Pandoc's link destination ``(url "title")`` starting at ``a``."""
        s = self.s
        parens = self._pair("(")
        if a not in parens:
            return None
        q = a + 1
        while q < hi and s[q] in " \t":
            q += 1
        if q < hi and s[q] == "<":
            e = self._find(">", q + 1)
            if e < 0 or e >= hi:
                return None
            url = s[q + 1 : e]
            q = e + 1
        else:
            start = q
            while q < hi:
                c = s[q]
                if c == "(":
                    q = parens[q] + 1 if q in parens and parens[q] < hi else q + 1
                elif c == ")":
                    break
                elif c in " \t\n":
                    e = q
                    while e < hi and s[e] in " \t\n":
                        e += 1
                    if e < hi and s[e] in "\"')":
                        break
                    q = e
                elif c == "\\":
                    q += 2
                else:
                    q += 1
            url = s[start:q]
        r = _spnl(s, q, hi)
        if r is not None and r < hi and s[r] in "\"'" and r > q:
            title_end = self._title_end(r, hi)
            if title_end is not None:
                q = title_end
        while q < hi and s[q] in " \t":
            q += 1
        if q >= hi or s[q] != ")":
            return None
        return _clean_url(url), q + 1

    def _title_end(self, r: int, hi: int) -> int | None:
        s = self.s
        quote = s[r]
        e = r + 1
        limit = min(hi, r + 4000)
        while e < limit:
            e = s.find(quote, e, limit)
            if e < 0:
                return None
            if e + 1 >= hi or not s[e + 1].isalnum():
                return e + 1
            e += 1
        return None

    def _bang(self, p: int, hi: int, depth: int, links_ok: bool) -> int:
        s = self.s
        q = self._pair("[").get(p + 1) if p + 1 < hi and s[p + 1] == "[" else None
        if q is None or q >= hi or depth >= _MAX_DEPTH:
            self._text("!")
            return p + 1
        target = self._target(p + 1, q, hi)
        if target is None or (target[0] is None and target[1] < 0):
            self._text("!")
            return p + 1
        url, heading, attrs, end = target
        if url is None:
            url = "#" + self.doc.heading_ids[heading] if 0 <= heading < len(self.doc.heading_ids) else ""
        ref = self.doc.refs.get(_ref_key(s[p + 2 : q])) if s[q + 1 : q + 2] != "(" else None
        if ref is not None:
            ref.used_by_image = True
        plain, ident = self.plain, self.ident
        self.plain, self.ident = [], []
        self.run(p + 2, q, depth + 1, False, links_ok)
        alt = " ".join("".join(self.plain).split())
        plain.extend(self.plain)
        ident.extend(self.ident)
        self.plain, self.ident = plain, ident
        line, col = self._pos(p)
        kvs = dict(attrs.kvs) if attrs is not None else {}
        ident_value = attrs.id if attrs is not None and attrs.id else None
        self.doc.out.images.append(Image(url, alt, kvs, ident_value, line, col))
        if attrs is not None and (ref is None or attrs is not ref.attrs):
            self._identifier(attrs, "image")
        return end

    # findings ---------------------------------------------------------------------

    def _pending_link(self, url: str | None, heading: int, p: int) -> None:
        line, col = self._pos(p)
        self.doc.links.append(_PendingLink(url, heading, line, col))

    def _link(self, url: str, p: int) -> None:
        self._pending_link(url, -1, p)

    def _identifier(self, attrs: _Attrs, kind: str) -> None:
        if attrs.id:
            line, col = self._pos(attrs.id_at)
            self.doc.out.identifiers.append(Identifier(attrs.id, kind, line, col))


def _pairs(s: str, kind: str) -> dict[int, int]:
    """Matching closers by a stack: ``(`` and TeX ``{`` skip backslash escapes,
    raw ``{`` (Pandoc's ``@{key}``) does not."""
    opener = kind[0]
    closer = {"(": ")", "{": "}"}[opener]
    escapes = kind != "{raw"
    match: dict[int, int] = {}
    stack: list[int] = []
    finder = re.compile("[" + re.escape(opener + closer) + ("\\\\" if escapes else "") + "]")
    p = 0
    n = len(s)
    while True:
        m = finder.search(s, p)
        if m is None:
            return match
        p = m.start()
        c = s[p]
        if c == "\\":
            p += 2
            continue
        if c == opener:
            stack.append(p)
        elif stack:
            match[stack.pop()] = p
        p += 1
        if p >= n:
            return match
