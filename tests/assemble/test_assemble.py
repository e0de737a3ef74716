"""ASSEMBLE on the fixture paper: editions, numbers, cross-references, citations."""

from __future__ import annotations

import shutil

import pytest

from pipeline.assemble import ast as A
from pipeline.assemble.crossref import number, resolve
from pipeline.assemble.csljson import biblatex_record, to_csl_json
from pipeline.assemble.i18n import terms
from pipeline.project import load_project
from pipeline.sources.paper import load_sources
from tests.conftest import assembled_editions


@pytest.fixture
def built(make_paper, tmp_path):
    """Assemble every default edition of a copy of the base fixture; {edition id: JSON doc}."""

    def run(edit=None):
        shutil.rmtree(tmp_path / "base", ignore_errors=True)
        root = make_paper()
        if edit:
            edit(root)
        return assembled_editions(root, tmp_path / "work", 1_700_000_000)

    return run


def _links(doc) -> list[tuple[str, str]]:
    return [(A.stringify(n["c"][1]), n["c"][2][0]) for n in A.nodes(doc["blocks"], "Link")]


def test_default_editions_are_the_paper_the_summary_and_one_offprint_per_case_study(built):
    assert list(built()) == ["paper", "summary", "case-study-alpha"]


def test_references_become_numbered_links_and_captions_carry_the_numbers(built):
    doc = built()["paper"]
    links = _links(doc)
    assert ("Figure 1", "#fig:diagram") in links
    assert ("Table 1", "#tbl:peers") in links
    assert ("Section 1.1", "#sec:background") in links
    text = A.stringify(doc["blocks"])
    assert "Figure 1: A diagram of two connected networks" in text
    assert "Table 1: The peers at a glance" in text
    assert "@fig" not in text and "@tbl" not in text and "??" not in text


def test_chapters_are_numbered_through_the_paper_with_parts(built):
    doc = built()["paper"]
    headers = [(h["c"][0], A.stringify(h["c"][2])) for h in A.nodes(doc["blocks"], "Header")]
    assert headers[0] == (1, "1 Introduction")
    assert (1, "2 Alpha Foundation: a network of learning centres") in headers
    assert (2, "2.2 How it works") in headers
    assert headers[-1] == (1, "References")
    parts = [A.stringify(d["c"][1]) for d in A.nodes(doc["blocks"], "Div") if "part" in d["c"][0][1]]
    assert parts == ["Shared sections", "Case studies"]


def test_an_offprint_names_what_it_leaves_out_in_plain_text(built):
    doc = built()["case-study-alpha"]
    text = A.stringify(doc["blocks"])
    assert "Section 1.1 in the full paper describes" in text
    assert not any(target == "#sec:background" for _, target in _links(doc))
    headers = [A.stringify(h["c"][2]) for h in A.nodes(doc["blocks"], "Header")]
    assert headers[:3] == ["Alpha Foundation: a network of learning centres", "1 Context", "2 How it works"]
    assert A.stringify(doc["meta"]["subtitle"]["c"]).startswith("From A tiny test paper")


def test_the_summary_holds_each_chapter_summary_not_its_body(built):
    doc = built()["summary"]
    text = A.stringify(doc["blocks"])
    assert "A short summary of the introduction" in text and "How the Alpha Foundation runs" in text
    assert "Networks of practice matter" not in text
    assert not list(A.nodes(doc["blocks"], "Figure"))


def test_citations_are_processed_and_only_cited_works_are_listed(built):
    doc = built()["paper"]
    refs = next(d for d in A.nodes(doc["blocks"], "Div") if d["c"][0][0] == "refs")
    entries = [d["c"][0][0] for d in refs["c"][1]]
    assert entries and all(e.startswith("ref-") for e in entries)
    assert "ref-wenger1998communities" in entries
    assert "Wenger" in A.stringify(refs["c"][1])
    assert not list(A.nodes(doc["blocks"], "Cite")) or all(
        n["c"][1] and "@" not in A.stringify(n["c"][1]) for n in A.nodes(doc["blocks"], "Cite"))


def test_image_paths_are_rebased_from_the_chapter_to_the_project_root(built):
    doc = built()["paper"]
    sources = [n["c"][2][0] for n in A.nodes(doc["blocks"], "Image")]
    assert sources == ["figures/diagram.png"]


def test_metadata_identifies_each_edition_stably(built):
    first, second = built(), built()
    for edition in first:
        assert first[edition]["meta"]["identifier"] == second[edition]["meta"]["identifier"]
    ids = {doc["meta"]["identifier"]["c"] for doc in first.values()}
    assert len(ids) == len(first)
    assert first["paper"]["meta"]["date"]["c"] == "2023-11-14"


def test_crossref_parent_fields_reach_csl_json(make_paper):
    project = load_project(make_paper())
    sources = load_sources(project)
    (child,) = to_csl_json(sources.bibliography, ["child2020"], project.root)
    assert child["id"] == "child2020"
    assert child.get("container-title") or child.get("publisher"), child


def test_a_record_never_carries_crossref_or_raw_macros():
    record = biblatex_record("ref00000", "article", {"title": "A {UNESCO} study", "crossref": "x", "year": "2020"})
    assert "crossref" not in record and "title = {A {UNESCO} study}" in record


def test_grouped_and_mixed_references():
    blocks = [
        A.header(1, A.attr("sec:a"), A.text("A")),
        {"t": "Figure", "c": [A.attr("fig:x"), [None, [A.plain(A.text("Cap"))]], [A.plain([])]]},
        A.para([{"t": "Cite", "c": [[
            {"citationId": "fig:x", "citationPrefix": [], "citationSuffix": [], "citationMode": {"t": "NormalCitation"},
             "citationNoteNum": 1, "citationHash": 0},
            {"citationId": "Sec:a", "citationPrefix": [], "citationSuffix": [], "citationMode": {"t": "NormalCitation"},
             "citationNoteNum": 1, "citationHash": 0},
        ], []]}]),
    ]
    here = number(blocks, terms("de"))
    out = resolve(blocks, here, {}, terms("de"))
    assert A.stringify(out[-1]["c"]) == "Abbildung 1; Abschnitt 1"


def test_references_per_chapter_when_paper_yml_asks(built):
    def per_chapter(root):
        config = root / "paper.yml"
        config.write_text(config.read_text() + "references: chapter\n")
        case = root / "case_studies/alpha.md"
        case.write_text(case.read_text().replace("in workshops", "in workshops [@provan2008modes; @wenger1998communities]"))

    doc = built(per_chapter)["paper"]
    assert not any(h["c"][1][0] == "references" for h in A.nodes(doc["blocks"], "Header"))
    lists = {d["c"][0][0]: [e["c"][0][0] for e in d["c"][1]]
             for d in A.nodes(doc["blocks"], "Div") if d["c"][0][0].startswith("refs-")}
    assert lists["refs-alpha"] == ["alpha-ref-provan2008modes", "alpha-ref-wenger1998communities"]
    assert "01-intro-ref-wenger1998communities" in lists["refs-01-intro"]
    targets = {t[1:] for _, t in _links(doc) if "-ref-" in t}
    assert targets == {entry for entries in lists.values() for entry in entries}


def test_automatic_heading_ids_are_unique_across_chapters(built):
    def same_headings(root):
        intro = root / "chapters/01-intro.md"
        intro.write_text(intro.read_text() + "\n## Context\n\nSee [the context](#context).\n")

    doc = built(same_headings)["paper"]
    ids = [h["c"][1][0] for h in A.nodes(doc["blocks"], "Header")]
    assert len(ids) == len(set(ids))
    assert "01-intro-context" in ids and "alpha-context" in ids
    assert "sec:background" in ids  # written by the author: unchanged
    assert ("the context", "#01-intro-context") in _links(doc)


def test_allowed_remote_images_become_links_never_fetched(built):
    def remote(root):
        (root / "paper.yml").write_text((root / "paper.yml").read_text() + "allow:\n  remote_images: true\n")
        case = root / "case_studies/alpha.md"
        case.write_text(case.read_text() + "\n![A remote chart](https://example.org/chart.png)\n")

    doc = built(remote)["paper"]
    assert not any(n["c"][2][0].startswith("https://") for n in A.nodes(doc["blocks"], "Image"))
    assert ("A remote chart", "https://example.org/chart.png") in _links(doc)
