"""Numbers and cross-references, done once on the AST so every format prints the same.

pandoc-crossref style: ``@fig:x`` becomes a link reading "Figure 3", ``@Fig:x``
the same at the start of a sentence. Figures and tables are numbered through
the edition, sections as chapter.section. The numbers are written into the
headings and captions themselves, so HTML, EPUB and PDF cannot disagree, and
no format's own numbering is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.assemble.ast import Node, attr, link, span, stringify, text, walk

PREFIXES = ("fig", "tbl", "sec")


@dataclass(frozen=True)
class Target:
    kind: str  # 'fig' | 'tbl' | 'sec'
    number: str  # '' when unnumbered
    title: str  # plain text, used when there is no number


def _prefix_caption(caption: list[Any], words: list[Node]) -> None:
    blocks = caption[1]
    if blocks and blocks[0]["t"] in ("Plain", "Para"):
        blocks[0]["c"][:0] = words
    else:
        blocks.insert(0, {"t": "Plain", "c": words[:-1]})


def _label_words(term: str, n: int) -> list[Node]:
    """'Figure 3: ' in a caption, the number kept in its own span for styling."""
    return [span(attr("", ["caption-label"]), [*text(term), {"t": "Space"}, {"t": "Str", "c": f"{n}:"}]),
            {"t": "Space"}]


class _Numberer:
    """Walks the blocks in reading order, writing numbers in and remembering every label."""

    def __init__(self, terms: dict[str, str], mode: str):
        self.terms = terms
        self.chapter_numbers = mode == "chapters"
        self.section_numbers = mode != "none"
        self.chapter = 0
        self.numbered_chapter = False
        self.sections: list[int] = []
        self.counts: dict[str, int] = {}
        self.targets: dict[str, Target] = {}

    def blocks(self, blocks: list[Node]) -> None:
        for block in blocks:
            t = block.get("t")
            if t == "Header":
                self.header(block)
            elif t == "Figure":
                self.captioned(block, "fig", "figure")
            elif t == "Table":
                self.captioned(block, "tbl", "table")
            if t in ("Div", "BlockQuote", "Figure"):
                inner = block["c"][1] if t == "Div" else block["c"] if t == "BlockQuote" else block["c"][2]
                self.blocks(inner)

    def header(self, node: Node) -> None:
        level, a, inlines = node["c"]
        unnumbered = "unnumbered" in a[1]
        number = ""
        if level == 1:
            self.sections = []
            self.numbered_chapter = not unnumbered and self.chapter_numbers
            if self.numbered_chapter:
                self.chapter += 1
                number = str(self.chapter)
        elif not unnumbered and self.section_numbers and (self.numbered_chapter or not self.chapter_numbers) \
                and level <= 3:
            depth = level - 1
            self.sections = (self.sections + [0] * depth)[:depth]
            self.sections[-1] += 1
            parts = ([str(self.chapter)] if self.numbered_chapter else []) + [str(n) for n in self.sections]
            number = ".".join(parts)
        if number:
            inlines[:0] = [span(attr("", ["header-section-number"]), [{"t": "Str", "c": number}]), {"t": "Space"}]
            a[2].append(["number", number])
        if a[0]:
            self.targets[a[0]] = Target("sec", number, stringify(inlines[2:] if number else inlines))

    def captioned(self, node: Node, prefix: str, term: str) -> None:
        """A Figure or Table with a fig:/tbl: id: the next number, written into its caption."""
        ident = node["c"][0][0]
        if not ident.startswith(prefix + ":"):
            return
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        n = self.counts[prefix]
        self.targets[ident] = Target(prefix, str(n), "")
        _prefix_caption(node["c"][1], _label_words(self.terms[term], n))


def number(blocks: list[Node], terms: dict[str, str], mode: str = "chapters") -> dict[str, Target]:
    """Write numbers into headings and captions (in place); return every label's target.

    ``mode``: 'chapters' numbers chapters and their sections (4, 4.2); 'sections' numbers
    sections only (an offprint's single chapter: 1, 2); 'none' numbers no heading (a summary).
    Figures and tables are numbered in every mode.
    """
    numberer = _Numberer(terms, mode)
    numberer.blocks(blocks)
    return numberer.targets


def _is_crossref(key: str) -> bool:
    return key.split(":", 1)[0].lower() in PREFIXES and ":" in key


def reference_text(target: Target, terms: dict[str, str]) -> str:
    """'Figure 3' (the terms are capitalised, as English, German and Finnish style guides want)."""
    if not target.number:
        return target.title
    word = {"fig": terms["figure"], "tbl": terms["table"], "sec": terms["section"]}[target.kind]
    return f"{word} {target.number}"


def resolve(blocks: list[Node], here: dict[str, Target], paper: dict[str, Target],
            terms: dict[str, str]) -> list[Node]:
    """Replace every crossref Cite: a link inside the edition, plain text with the paper's number outside."""

    def one(citation: dict) -> list[Node]:
        key = citation["citationId"]
        label = key[0].lower() + key[1:]
        prefix = citation.get("citationPrefix", [])
        suffix = citation.get("citationSuffix", [])
        if label in here:
            body = [link(text(reference_text(here[label], terms)), "#" + label)]
        elif label in paper:
            outside = terms["outside"].format(ref=reference_text(paper[label], terms))
            body = [span(attr("", ["crossref-outside"]), text(outside))]
        else:  # the check reports it; never print a raw '@fig:x'
            body = [span(attr("", ["crossref-missing"]), text("??"))]
        out = list(prefix) + ([{"t": "Space"}] if prefix else []) + body
        return out + list(suffix)

    def visit(node: Node) -> Any:
        if node["t"] != "Cite":
            return None
        citations = node["c"][0]
        if not any(_is_crossref(c["citationId"]) for c in citations):
            return None
        out: list[Node] = []
        rest = [c for c in citations if not _is_crossref(c["citationId"])]
        for i, citation in enumerate(c for c in citations if _is_crossref(c["citationId"])):
            if i:
                out += [{"t": "Str", "c": ";"}, {"t": "Space"}]
            out += one(citation)
        if rest:
            out += [{"t": "Space"}, {"t": "Cite", "c": [rest, text("; ".join("@" + c["citationId"] for c in rest))]}]
        return out

    return walk(blocks, visit)
