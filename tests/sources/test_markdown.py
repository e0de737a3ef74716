"""The Markdown scanner: what Pandoc 3.9 reads, found without running Pandoc.

Three kinds of evidence:

* small table-driven cases, each pinning one rule with exact positions;
* Pandoc itself as the oracle (the bundled pandoc, ``-f markdown -t json``):
  the citation keys, heading levels and identifiers, and image sources it
  finds must be the scanner's -- on the table cases, on real documents read in
  place from ../shared/realworld, and on generated citation-heavy snippets;
* properties: any string scans without an exception, every position is inside
  the text, and the time stays linear on pathological input.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipeline.sources.markdown import Identifier, Link, NearMiss, Raw, Scan, scan

REALWORLD = Path(__file__).resolve().parents[2].parent / "shared" / "realworld"


# --------------------------------------------------------------------------
# Pandoc as the oracle
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """What Pandoc's AST holds: Cite keys, (level, id) of headers, image sources."""

    cites: tuple[str, ...]
    headings: tuple[tuple[int, str], ...]
    images: tuple[str, ...]


@lru_cache(maxsize=None)
def _pandoc_path() -> str | None:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except Exception:  # noqa: BLE001 - any failure means: no oracle here
        return None


@lru_cache(maxsize=None)
def pandoc_read(text: str) -> Read | None:
    """Run the bundled pandoc; None when Pandoc refuses the text (e.g. bad YAML)."""
    path = _pandoc_path()
    if path is None:
        pytest.skip("pypandoc-binary is not installed: no Pandoc to compare with")
    done = subprocess.run([path, "-f", "markdown", "-t", "json"], input=text.encode(), capture_output=True)
    if done.returncode != 0:
        return None
    return _collect(json.loads(done.stdout)["blocks"])


def _collect(blocks: list) -> Read:
    """Walk the AST. An implicit figure repeats its image description as the
    caption, and a note referred to twice is copied twice: each is counted once."""
    cites: list[str] = []
    headings: list[tuple[int, str]] = []
    images: list[str] = []
    notes: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("t")
        if kind == "Cite":
            cites.extend(c["citationId"] for c in node["c"][0])
        elif kind == "Header":
            headings.append((node["c"][0], node["c"][1][0]))
        elif kind == "Image":
            images.append(node["c"][2][0])
        elif kind == "Figure":
            walk(node["c"][2])
            return
        elif kind == "Note":
            content = json.dumps(_without_note_numbers(node["c"]), sort_keys=True)
            if content in notes:
                return
            notes.add(content)
        for value in node.values():
            walk(value)

    walk(blocks)
    return Read(tuple(cites), tuple(headings), tuple(images))


def _without_note_numbers(node):
    if isinstance(node, dict):
        return {k: _without_note_numbers(v) for k, v in node.items() if k not in ("citationNoteNum", "citationHash")}
    if isinstance(node, list):
        return [_without_note_numbers(v) for v in node]
    return node


def scanner_read(found: Scan) -> Read:
    return Read(
        tuple(c.key for c in found.citations),
        tuple((h.level, h.id or h.auto_id) for h in found.headings),
        tuple(i.src for i in found.images),
    )


def assert_agrees(text: str, first_line: int = 1) -> None:
    expected = pandoc_read(text)
    assert expected is not None, "Pandoc refused the text"
    found = scanner_read(scan(text, first_line))
    assert Counter(found.cites) == Counter(expected.cites), "citation keys differ from Pandoc's"
    assert found.headings == expected.headings, "headings (level, id) differ from Pandoc's"
    assert Counter(found.images) == Counter(expected.images), "image sources differ from Pandoc's"


# --------------------------------------------------------------------------
# Citations
# --------------------------------------------------------------------------

# text -> (key, line, col) of every citation, in reading order
CITATIONS = {
    "in-text": ("As @doe2020 shows.", [("doe2020", 1, 4)]),
    "group with locator": ("Known [@doe2020; @roe, p. 3].", [("doe2020", 1, 8), ("roe", 1, 18)]),
    "prefix": ("[see @doe, ch. 2]", [("doe", 1, 6)]),
    "suppress author": ("[-@doe] and -@roe", [("doe", 1, 3), ("roe", 1, 14)]),
    "braced": ("@{odd*key} and [@{https://x.org/a?b=1}]", [("odd*key", 1, 1), ("https://x.org/a?b=1", 1, 17)]),
    "braced key with a space is text": ("@{odd key*}", []),
    "star ends a key": ("[@anderson.ferris:genetic*1]", [("anderson.ferris:genetic", 1, 2)]),
    "final punctuation is not in the key": (
        "See @doe. @Foo_bar.baz. @Foo_bar--baz @a:b:",
        [("doe", 1, 5), ("Foo_bar.baz", 1, 11), ("Foo_bar", 1, 25), ("a:b", 1, 39)],
    ),
    "url-like key": ("@doi:10.1000/xyz//abc.", [("doi:10.1000/xyz//abc", 1, 1)]),
    "unicode keys": ("@Nüst2020docker, @пункт3, [@日本語]", [("Nüst2020docker", 1, 1), ("пункт3", 1, 18), ("日本語", 1, 28)]),
    "digit or underscore first": ("@1abc @_foo", [("1abc", 1, 1), ("_foo", 1, 7)]),
    "cross-references": (
        "See @fig:plot, @Fig:map, @tbl:res, @sec:intro and [@fig:a; @tbl:b].",
        [("fig:plot", 1, 5), ("Fig:map", 1, 16), ("tbl:res", 1, 26), ("sec:intro", 1, 36),
         ("fig:a", 1, 52), ("tbl:b", 1, 60)],
    ),
    "e-mail address": ("Write to ada@example.org.", []),
    "escaped at (bookdown ref)": (r"Figure \@ref(fig:x) shows it.", []),
    "after a word, a dot or emphasis": ("x.@doe x@doe *x*@doe (@doe)", [("doe", 1, 23)]),
    "code spans": ("`@doe` and ``a ` @b``", []),
    "fenced with backticks": ("```\n@doe\n```", []),
    "fenced with tildes and attributes": ("~~~ {.r}\n@doe\n~~~", []),
    "knitr chunk": ('```{r setup, echo=FALSE}\nx <- "@doe"\n```', []),
    "indented code": ("Text.\n\n    @doe\n", []),
    "raw block": ("```{=latex}\n\\cite{@doe}\n```", []),
    "raw inline": ("`@doe`{=html}", []),
    "raw TeX argument": (r"\emph{@doe} @roe", [("roe", 1, 13)]),
    "HTML comments": ("<!-- @doe -->\n\nText <!-- @roe\n\n@moe --> here", []),
    "math": ("$x @doe$ and $$@roe$$", []),
    "dollar amounts are not math": ("$5 and @doe $6", [("doe", 1, 8)]),
    "link destination": ("[text](https://x.org/@doe)", []),
    "link text": ("[see @doe](https://x.org)", [("doe", 1, 6)]),
    "autolinks": ("<https://x.org/@doe> <mailto:ada@x.org> <ada@x.org>", []),
    "image description": ("![Map from @doe](map.png)", [("doe", 1, 12)]),
    "span": ("[@doe]{.x}", [("doe", 1, 2)]),
    "example list labels": ("(@good) An example.\n\nAs (@good) shows, [@good] too.", [("good", 3, 20)]),
    "footnote": ("Text.[^1]\n\n[^1]: As @doe says.", [("doe", 3, 10)]),
    "unused footnote": ("Text.\n\n[^1]: As @doe says.", []),
    "inline note": ("Text.^[As @doe says.]", [("doe", 1, 11)]),
    "heading": ("# Results of @doe", [("doe", 1, 14)]),
    "list and quote": ("- item @a\n\n> quote @b", [("a", 1, 8), ("b", 3, 9)]),
    "pipe table cell": ("| a | b |\n|---|---|\n| @doe | x |", [("doe", 3, 3)]),
    "tab before the key": ("x\t@doe", [("doe", 1, 3)]),
    "a tab-indented line is code": ("\t@doe", []),
    "citation at the start of a continuation line": ("See\n@doe.", [("doe", 2, 1)]),
}


@pytest.mark.parametrize("text, expected", CITATIONS.values(), ids=CITATIONS.keys())
def test_citations(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert [(c.key, c.line, c.col) for c in scan(text).citations] == expected


@pytest.mark.parametrize("text", [t for t, _ in CITATIONS.values()], ids=CITATIONS.keys())
def test_citation_cases_agree_with_pandoc(text: str) -> None:
    assert_agrees(text)


def test_citation_flags() -> None:
    found = scan("[@a] @b @{c*1} @genetic*1 @doe. [@roe, p. 3]").citations
    assert [(c.key, c.bracketed, c.braced, c.trailing) for c in found] == [
        ("a", True, False, ""),
        ("b", False, False, ""),
        ("c*1", False, True, ""),
        ("genetic", False, False, "*1"),  # the rules offer @{genetic*1}
        ("doe", False, False, ""),  # sentence punctuation is not kept
        ("roe", True, False, ""),
    ]


def test_a_group_pandoc_cannot_read_is_in_text() -> None:
    """``[@a; x]``: a ';' with no key after it makes Pandoc read plain text."""
    assert [c.bracketed for c in scan("[@a; x] [x; @b] [@c; @d]").citations] == [False, False, True, True]


def test_positions_follow_first_line() -> None:
    found = scan("Intro.\n\n  - see @doe", first_line=12).citations
    assert [(c.line, c.col) for c in found] == [(14, 9)]


# --------------------------------------------------------------------------
# Headings and near misses
# --------------------------------------------------------------------------

# text -> (level, text, explicit id, auto id, line, col)
HEADINGS = {
    "ATX levels": ("# One\n\n## Two\n\n###### Six", [
        (1, "One", None, "one", 1, 1), (2, "Two", None, "two", 3, 1), (6, "Six", None, "six", 5, 1)]),
    "explicit id and class": ("## Methods {#sec:methods .unnumbered}", [
        (2, "Methods", "sec:methods", "methods", 1, 1)]),
    "closing hashes": ("## Title ##", [(2, "Title", None, "title", 1, 1)]),
    "setext": ("Title\n=====\n\nSub *part*\n---", [
        (1, "Title", None, "title", 1, 1), (2, "Sub part", None, "sub-part", 4, 1)]),
    "markup and punctuation": ("# Heading *emph* `code` [link](u) 3.5 -- done...", [
        (1, "Heading emph code link 3.5 -- done...", None, "heading-emph-code-link-3.5-done", 1, 1)]),
    "leading number": ("# 1. Intro", [(1, "1. Intro", None, "intro", 1, 1)]),
    "empty": ("#", [(1, "", None, "section", 1, 1)]),
    "repeated identifiers": ("# A\n\n# A\n\n# A {#a-1}\n\n# A", [
        (1, "A", None, "a", 1, 1), (1, "A", None, "a-1", 3, 1),
        (1, "A", "a-1", "a-2", 5, 1), (1, "A", None, "a-2", 7, 1)]),
    "non-ASCII letters": ("# Über Straße", [(1, "Über Straße", None, "über-straße", 1, 1)]),
    "trailing hash closes": ("# C#", [(1, "C", None, "c", 1, 1)]),
    "escaped hash stays": ("# Title \\#", [(1, "Title #", None, "title", 1, 1)]),
    "inside a list item": ("- item\n\n  ## Sub", [(2, "Sub", None, "sub", 3, 3)]),
    "citation in the text": ("## Results of @doe", [(2, "Results of @doe", None, "results-of-doe", 1, 1)]),
    "indented is text": ("  # x", []),
    "code comment is not a heading": ("```\n# comment\n```", []),
    "knitr comment is not a heading": ("```{r}\n# comment\n```", []),
    "attributes of an image belong to it": ("# ![Map](m.png){#fig:m}", [(1, "Map", None, "map", 1, 1)]),
}


@pytest.mark.parametrize("text, expected", HEADINGS.values(), ids=HEADINGS.keys())
def test_headings(text: str, expected: list[tuple]) -> None:
    found = [(h.level, h.text, h.id, h.auto_id, h.line, h.col) for h in scan(text).headings]
    assert found == expected


@pytest.mark.parametrize("text", [t for t, _ in HEADINGS.values()], ids=HEADINGS.keys())
def test_heading_cases_agree_with_pandoc(text: str) -> None:
    assert_agrees(text)


NEAR_MISSES = {
    "no space after the hashes": ("##Context\n\nText.", [NearMiss("heading-no-space", "##Context", 1, 1)]),
    "no blank line before": ("Some text.\n## Methods", [NearMiss("heading-no-blank-line", "## Methods", 2, 1)]),
    "in a list item": ("- item\n## Methods", [NearMiss("heading-no-blank-line", "## Methods", 2, 1)]),
    "a hashtag-like line in code is fine": ("```\n##Context\n```", []),
    "a real heading is not a near miss": ("Text.\n\n## Methods", []),
}


@pytest.mark.parametrize("text, expected", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_near_misses(text: str, expected: list[NearMiss]) -> None:
    found = scan(text)
    assert found.near_misses == expected
    assert_agrees(text)  # and Pandoc indeed reads no heading there


# --------------------------------------------------------------------------
# Identifiers, images, links, raw content
# --------------------------------------------------------------------------

IDENTIFIERS = {
    "heading": ("## Intro {#sec:intro}", [Identifier("sec:intro", "heading", 1, 11)]),
    "image": ("![Map](map.png){#fig:map width=50%}", [Identifier("fig:map", "image", 1, 17)]),
    "table caption after": ("| a |\n|---|\n| 1 |\n\nTable: Results {#tbl:res}", [Identifier("tbl:res", "table", 5, 17)]),
    "table caption before": (": Results {#tbl:res}\n\n| a |\n|---|\n| 1 |", [Identifier("tbl:res", "table", 1, 12)]),
    "fenced div": ("::: {#fig:panel .figure}\ntext\n:::", [Identifier("fig:panel", "div", 1, 6)]),
    "span": ("[text]{#sp .x}", [Identifier("sp", "span", 1, 8)]),
    "code block": ("``` {#lst:code .python}\nx = 1\n```", [Identifier("lst:code", "code", 1, 6)]),
    "inline code": ("`x`{#c1}", [Identifier("c1", "code", 1, 5)]),
    "HTML div": ('<div id="box">\n\ntext\n\n</div>', [Identifier("box", "div", 1, 6)]),
    "key=value id": ("## Intro {id=intro2}", [Identifier("intro2", "heading", 1, 11)]),
    "not in code": ("`## x {#no}`", []),
}


@pytest.mark.parametrize("text, expected", IDENTIFIERS.values(), ids=IDENTIFIERS.keys())
def test_identifiers(text: str, expected: list[Identifier]) -> None:
    assert scan(text).identifiers == expected


IMAGES = {
    "inline, title, attributes": (
        '![The *map* of @doe](fig/map.png "A title"){#fig:map fig-alt="A map" width=50%}',
        [("fig/map.png", "The map of @doe", {"fig-alt": "A map", "width": "50%"}, "fig:map", 1, 1)],
    ),
    "reference": ("See ![Map][m].\n\n[m]: fig/map.png", [("fig/map.png", "Map", {}, None, 1, 5)]),
    "shortcut reference": ("![map]\n\n[map]: a.png", [("a.png", "map", {}, None, 1, 1)]),
    "empty description": ("![](a.png)", [("a.png", "", {}, None, 1, 1)]),
    "space in the path": ("![x](<my file.png>)", [("my%20file.png", "x", {}, None, 1, 1)]),
    "in a list item": ("- ![x](a.png)", [("a.png", "x", {}, None, 1, 3)]),
    "undefined reference is text": ("![x][nope]", []),
    "in code": ("`![x](a.png)`", []),
    "escaped bang is a link": ("\\![x](a.png)", []),
}


@pytest.mark.parametrize("text, expected", IMAGES.values(), ids=IMAGES.keys())
def test_images(text: str, expected: list[tuple]) -> None:
    found = [(i.src, i.alt, i.attrs, i.id, i.line, i.col) for i in scan(text).images]
    assert found == expected


@pytest.mark.parametrize("text", [t for t, _ in IMAGES.values()], ids=IMAGES.keys())
def test_image_cases_agree_with_pandoc(text: str) -> None:
    assert_agrees(text)


LINKS = {
    "inline": ("[text](https://x.org) and [rel](other.md#sec)", [
        Link("https://x.org", 1, 1), Link("other.md#sec", 1, 27)]),
    "reference forms": ("[a][r] [r][] [r]\n\n[r]: https://r.org", [
        Link("https://r.org", 1, 1), Link("https://r.org", 1, 8), Link("https://r.org", 1, 14)]),
    "label case and spacing do not matter": ("[The  Book]\n\n[the book]: b.html", [Link("b.html", 1, 1)]),
    "autolinks": ("<https://x.org> <ada@x.org>", [Link("https://x.org", 1, 1), Link("mailto:ada@x.org", 1, 17)]),
    "implicit heading reference": ("# Intro\n\nSee [Intro].", [Link("#intro", 3, 5)]),
    "undefined reference is text": ("[nope] [x][nope]", []),
    "an image is not a link": ("![a](b.png)", []),
    "bare URL is text": ("https://x.org", []),
    "escaped bang": ("\\![x](a.png)", [Link("a.png", 1, 3)]),
}


@pytest.mark.parametrize("text, expected", LINKS.values(), ids=LINKS.keys())
def test_links(text: str, expected: list[Link]) -> None:
    assert scan(text).links == expected


RAW = {
    "fenced raw block": ("```{=html}\n<b>x</b>\n```", [Raw("html", "<b>x</b>", 1, 1)]),
    "inline raw": ("`#pagebreak()`{=typst}", [Raw("typst", "#pagebreak()", 1, 1)]),
    "script element": ("<script>alert(1)</script>", [Raw("html", "<script>alert(1)</script>", 1, 1)]),
    "div with a handler": ('<div onclick="x()">\n\ntext\n\n</div>', [
        Raw("html", '<div onclick="x()">', 1, 1), Raw("html", "</div>", 5, 1)]),
    "inline iframe": ('Text <iframe src="u"></iframe>', [
        Raw("html", '<iframe src="u">', 1, 6), Raw("html", "</iframe>", 1, 22)]),
    "TeX environment": ("\\begin{center}\nx\n\\end{center}", [Raw("tex", "\\begin{center}\nx\n\\end{center}", 1, 1)]),
    "TeX command": ("See \\cite{x}.", [Raw("tex", "\\cite{x}", 1, 5)]),
    "comments are not reported": ("<!-- a note -->\n\nText <!-- b -->", []),
    "code is not raw": ("`<script>`", []),
}


@pytest.mark.parametrize("text, expected", RAW.values(), ids=RAW.keys())
def test_raw(text: str, expected: list[Raw]) -> None:
    assert scan(text).raw == expected


# --------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------

WORDS = {
    "prose": ("One two three.", 3),
    "code, math, comments and URLs are not words": (
        "Use `ls -l` and $x + y$ here <!-- not counted --> [the site](https://x.org/a-b).", 5),
    "citation keys are not words": ("[see @doe, p. 3] says @roe", 4),
    "heading and list": ("# Title here\n\n- one\n- two", 4),
    "code block": ("```\na b c\n```\n\nword", 1),
    "table cells and caption": ("| a | b |\n|---|---|\n| c d | e |\n\nTable: Two words {#tbl:x}", 7),
    "punctuation alone is not a word": ("-- --- ... !", 0),
    "raw TeX and HTML are not words": ("\\newpage\n\n<div>inside</div>", 1),
    "link definitions": ("[a]: https://x.org \"Title words\"\n\nText.", 1),
}


@pytest.mark.parametrize("text, expected", WORDS.values(), ids=WORDS.keys())
def test_words(text: str, expected: int) -> None:
    assert scan(text).words == expected


# --------------------------------------------------------------------------
# Real documents, read in place, against Pandoc
# --------------------------------------------------------------------------

PANDOC_CORPORA = [
    "pandoc/test/markdown-citations.txt",
    "pandoc/test/testsuite.txt",
    "pandoc/test/markdown-reader-more.txt",
    "pandoc/MANUAL.txt",
]


def _book_chapters() -> list[str]:
    folder = REALWORLD / "book" / "py-rse"
    if not folder.is_dir():
        return ["book/py-rse/(absent)"]
    return sorted(str(p.relative_to(REALWORLD)) for p in folder.rglob("*.Rmd"))


def _realworld_text(rel: str) -> tuple[str, int]:
    """The body of a file in ../shared/realworld and its first line (YAML front matter removed)."""
    path = REALWORLD / rel
    if not path.is_file():
        pytest.skip(f"{path} is absent: the real-world corpus lives in ../shared next to the clone")
    text = path.read_text(encoding="utf-8")
    front = re.match(r"---\n.*?\n(?:---|\.\.\.)[ \t]*\n", text, re.DOTALL)
    if front is None:
        return text, 1
    return text[front.end() :], text.count("\n", 0, front.end()) + 1


@pytest.mark.parametrize("rel", PANDOC_CORPORA + _book_chapters())
def test_real_documents_agree_with_pandoc(rel: str) -> None:
    body, first_line = _realworld_text(rel)
    started = time.perf_counter()
    found = scan(body, first_line)
    assert time.perf_counter() - started < 1.0
    expected = pandoc_read(body)
    got = scanner_read(found)
    assert Counter(got.cites) == Counter(expected.cites)
    assert got.headings == expected.headings
    assert Counter(got.images) == Counter(expected.images)


def test_real_citation_corpus_positions() -> None:
    """markdown-citations.txt, as published with Pandoc: each citation where it is."""
    body, first_line = _realworld_text("pandoc/test/markdown-citations.txt")
    found = scan(body, first_line).citations
    lines = body.split("\n")
    for c in found:
        at = lines[c.line - first_line]
        assert at[c.col - 1] == "@", (c, at)
        assert at[c.col :].startswith(c.key)
    assert {c.key for c in found} == {"nonexistent", "item1", "item2", "пункт3"}


# --------------------------------------------------------------------------
# Properties: never raises, positions inside the text, Pandoc on random snippets
# --------------------------------------------------------------------------

MARKDOWN_PIECES = st.sampled_from(
    list("abc XYZ019\n\n\t#*_`~[](){}<>!@:;,.-=+|\\\"'$%&^/?") + [
        "é", "ü", "й", "\u00a0", "\r", "\u2028", "---\n", "```\n", "~~~", ":::", "@fig:x", "@sec:", "[@", "{#",
        "![", "](", "<!--", "-->", "<div>", "</div>", "<script>", "</script>", "[^1]", "[^1]: ", "\\begin{x}",
        "\\end{x}", "$$", "    ",
        "> ", "- ", "1. ", "(@) ", "| a |", "|---|", "+---+", "Table: ", "{=html}", "&amp;", "\ud800",
    ]
)


def _assert_positions_inside(text: str, first_line: int, found: Scan) -> None:
    lines = text.split("\n")
    items = (found.citations + found.headings + found.identifiers + found.images + found.links
             + found.raw + found.near_misses)
    for item in items:
        index = item.line - first_line
        assert 0 <= index < len(lines), item
        assert 1 <= item.col <= len(lines[index]) + 1, item
    assert found.words >= 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300), first_line=st.integers(1, 40))
def test_any_text_scans(text: str, first_line: int) -> None:
    _assert_positions_inside(text, first_line, scan(text, first_line))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(MARKDOWN_PIECES, max_size=80), first_line=st.integers(1, 40))
def test_any_markdown_scans(pieces: list[str], first_line: int) -> None:
    text = "".join(pieces)
    _assert_positions_inside(text, first_line, scan(text, first_line))


# Citation-heavy words, joined by spaces, newlines and blank lines. Fenced
# blocks and headings come with blank lines around them, as authors write them.
CITATION_WORDS = st.sampled_from([
    "@doe2020", "@Doe_2020a", "-@doe", "@doe.", "@doe,", "@doe;", "@fig:plot", "@tbl:res", "@Fig:x", "@sec:intro",
    "@{odd*key}", "@{https://x.org/a?b=1}", "@{odd key}", "@anderson.ferris:genetic*1", "@Nüst2020docker",
    "@пункт3", "[@doe]", "[@a; @b, p. 3]", "[see @doe, ch. 2]", "[-@doe]", "[@doe]{.x}", "(@doe)",
    "[@fig:a; @tbl:b]", "ada@example.org", "\\@ref(fig:x)", "`@code`", "``@x ` y``", "$@m$", "$$x @m$$", "$5",
    "<!-- @hidden -->", "[link](https://x.org/@u)", "[text @in](u.html)", "<https://x.org/@v>",
    "<mailto:ada@x.org>", "<ada@x.org>", "![alt @a](p.png)", "text", "word", "x.", "@", "[", "]", "(", ")",
    "\\", "$", "#", "\n\n## Head @h\n\n", "> quote @q", "- item @i", "1. item", "\n\n```\n@fenced\n```\n\n",
    "\n\n~~~ {.r}\n@tilde\n~~~\n\n", "\n    @indented\n", "\n\n```{=latex}\n\\cite{@raw}\n```\n\n", "`x`{=html}",
    "[^n]", "\n[^n]: note @fn\n", "&amp;", '"@quoted"', "'@single'", "é", "й", ":", ";", ",",
])
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n\n", ", ", "; "])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.tuples(CITATION_WORDS, SEPARATORS), min_size=1, max_size=14))
def test_citations_agree_with_pandoc_on_generated_text(parts: list[tuple[str, str]]) -> None:
    text = "".join(word + sep for word, sep in parts)
    expected = pandoc_read(text)
    assume(expected is not None)
    assert Counter(c.key for c in scan(text).citations) == Counter(expected.cites)


# --------------------------------------------------------------------------
# Time: linear, also on input made to be slow
# --------------------------------------------------------------------------


def _chapter(size: int) -> str:
    """A made-up chapter with every construct the scanner looks at."""
    block = (
        "## Section {#sec:s}\n\n"
        "Networks help teachers [@doe2020; @roe, p. 3], as @moe says; see @fig:map and the "
        "[handbook](https://example.org/handbook) or <https://example.org>. Write to ada@example.org.\n\n"
        "![A *map* of the sites](figures/map.png){#fig:map width=60%}\n\n"
        "- first point with `code @not` and $x^2$\n- second point[^n]\n\n"
        "[^n]: A note citing [-@doe2020].\n\n"
        "| Site | Pupils |\n|------|--------|\n| A    | 12     |\n\nTable: Sites {#tbl:sites}\n\n"
        "```python\nprint('@not a citation')\n```\n\n"
        "> Quoted text from @quote2019.\n\n"
    )
    return (block * (size // len(block) + 1))[:size]


def test_a_300_kb_chapter_is_fast() -> None:
    text = _chapter(300_000)
    started = time.perf_counter()
    found = scan(text)
    elapsed = time.perf_counter() - started
    assert len(found.citations) > 1000 and found.words > 10_000
    assert elapsed < 1.0, f"{elapsed:.2f} s"


PATHOLOGICAL = {
    "open brackets": "[" * 50_000,
    "close brackets": "]" * 50_000,
    "backticks": "`" * 50_000,
    "backtick runs": "` " * 25_000 + "``",
    "growing backtick runs": "".join("`" * k + " x " for k in range(1, 600)),
    "dollars": "$" * 50_000,
    "open math": "$a " * 30_000,
    "angle brackets": "<" * 50_000,
    "open tags": "<a b=" * 20_000,
    "open comments": "<!--" * 25_000,
    "at signs": "@" * 50_000,
    "open braced keys": "@{" * 50_000,
    "open images": "![" * 30_000,
    "open link destinations": "[a](" * 25_000,
    "open notes": "^[" * 40_000,
    "open TeX groups": "\\a{" * 30_000,
    "stars": "*a " * 40_000,
    "nested brackets": "[" * 5_000 + "a" + "](u)" * 5_000,
    "nested parentheses": "[a](" + "(" * 50_000,
    "deep quotes": ">" * 5_000 + " x",
    "deep lists": "\n".join(" " * (2 * (k % 10)) + "- x" for k in range(5_000)),
    "fences": "\n".join("`" * k for k in range(600, 3, -1)),
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_input_is_fast(text: str) -> None:
    started = time.perf_counter()
    scan(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f} s"
