"""Citeproc on the citations alone gives the same edition as citeproc on the whole edition."""

from __future__ import annotations

import json
import shutil

import pytest

import pipeline.assemble as assemble_module
from pipeline.assemble.citeproc import citations, is_note_style, skeleton
from pipeline.project import style_file
from tests.conftest import assembled_editions

TRICKY = """
## Citations everywhere {#sec:everywhere}

As @wenger1998communities argues, and as others agree [see @provan2008modes, p. 231;
@wenger1998communities, ch. 2], networks matter [-@provan2008modes].
Two works of one author in one year: [@same2020a; @same2020b].[^one]

[^one]: A note that cites twice: @provan2008modes and [@child2020, pp. 3-4].

| Form | Source |
|------|--------|
| Lead | [@provan2008modes] |

: Forms of governance, after @provan2008modes. {#tbl:forms}

A second note.[^two] And text again [@same2020b].

[^two]: Only one citation here [@wenger1998communities].
"""

EXTRA_BIB = """
@article{same2020a, author = {Lee, Ann}, title = {First Study}, journal = {Journal A}, year = {2020}}
@article{same2020b, author = {Lee, Ann}, title = {Second Study}, journal = {Journal A}, year = {2020}}
"""


def _editions(root, tmp_path, force_whole: bool, monkeypatch) -> dict[str, dict]:
    if force_whole:
        monkeypatch.setattr(assemble_module, "is_note_style", lambda style: True)
    else:
        monkeypatch.setattr(assemble_module, "is_note_style", is_note_style)
    return assembled_editions(root, tmp_path / ("whole" if force_whole else "skeleton"))


@pytest.mark.parametrize("style", ["apa", "ieee", "chicago-author-date", "modern-language-association",
                                   "harvard-cite-them-right"])
def test_the_skeleton_gives_what_the_whole_edition_gives(make_paper, tmp_path, monkeypatch, style):
    root = make_paper()
    chapter = root / "case_studies/alpha.md"
    chapter.write_text(chapter.read_text() + TRICKY)
    (root / "references.bib").write_text((root / "references.bib").read_text() + EXTRA_BIB)
    (root / "paper.yml").write_text((root / "paper.yml").read_text() + f"csl: {style}\n")
    whole = _editions(root, tmp_path, True, monkeypatch)
    quick = _editions(root, tmp_path, False, monkeypatch)
    assert quick == whole
    text = json.dumps(whole["paper"])
    assert "same2020a" in text and "Cite" in text


def test_the_skeleton_holds_only_citations_in_order_with_their_notes():
    cite = lambda key: {"t": "Cite", "c": [[{"citationId": key}], [{"t": "Str", "c": key}]]}  # noqa: E731
    doc = {"pandoc-api-version": [1, 23, 1], "meta": {}, "blocks": [
        {"t": "Para", "c": [{"t": "Str", "c": "prose"}, cite("a"),
                            {"t": "Note", "c": [{"t": "Para", "c": [cite("b"), cite("c")]}]}]},
        {"t": "Div", "c": [["refs", [], []], []]},
    ]}
    assert [c["c"][0][0]["citationId"] for _n, c in citations(doc["blocks"])] == ["a", "b", "c"]
    skel = skeleton(doc)
    assert "prose" not in json.dumps(skel)
    assert [b["t"] for b in skel["blocks"]] == ["Para", "Para", "Div"]
    note = skel["blocks"][1]["c"][0]
    assert note["t"] == "Note" and len(note["c"][0]["c"]) == 3  # b, a space, c: one note, as in the text


def test_a_note_style_goes_whole_to_citeproc():
    assert is_note_style(style_file("chicago-notes-bibliography").read_bytes())
    assert not is_note_style(style_file("apa").read_bytes())
    assert not is_note_style(b"<style class='in-text'><info/></style>")
    assert skeleton({"pandoc-api-version": [1], "meta": {}, "blocks": []}) is None  # no reference list


def test_editing_prose_runs_no_citeproc(make_paper, tmp_path, monkeypatch):
    """The cache key is the skeleton: text around the citations may change freely."""
    from pipeline import cli

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = make_paper()
    assert cli.main(["-C", str(root), "build", "--to", "html"]) == 0
    runs: list[list[str]] = []
    real = assemble_module.run_pandoc

    def counting(args, **kwargs):
        runs.append(args)
        return real(args, **kwargs)

    monkeypatch.setattr(assemble_module, "run_pandoc", counting)
    chapter = root / "case_studies/alpha.md"
    chapter.write_text(chapter.read_text().replace("in workshops", "in monthly workshops"))
    assert cli.main(["-C", str(root), "build", "--to", "html"]) == 0
    assert not [a for a in runs if "--citeproc" in a]
    chapter.write_text(chapter.read_text() + "\nMore, as shown before [@provan2008modes].\n")
    assert cli.main(["-C", str(root), "build", "--to", "html"]) == 0
    assert [a for a in runs if "--citeproc" in a]
    shutil.rmtree(root / ".cache")
