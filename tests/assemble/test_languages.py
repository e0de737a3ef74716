"""Editions in other languages: front matter read in one run, untranslated chapters marked."""

from __future__ import annotations

import pytest

from pipeline.assemble.document import parse_chapter, parse_front_matters
from pipeline.assemble.languages import localised
from pipeline.project import load_project
from pipeline.sources.chapters import parse_chapter as read_chapter

FRONT = [
    '---\ntitle: "Einleitung: *kurz* und `knapp`"\nsummary: >\n  Ein [Link](https://example.org) und\n'
    '  „Anführungszeichen“.\n\n  Zweiter Absatz.\nlang: de\n---\n',
    "---\ntitle: Plain\nsummary: One line, with a footnote-looking ^[note] and a [@wenger1998communities].\n---\n",
    "---\ntitle: 'Nur ein Titel'\n---\n",
]


def test_front_matter_read_together_is_read_as_each_alone(make_paper):
    project = load_project(make_paper())
    chapters = [read_chapter(f"chapters/x{i}.de.md", "chapter", text) for i, text in enumerate(FRONT)]
    together = parse_front_matters(project, chapters)
    alone = [parse_chapter(project, ch) for ch in chapters]
    assert together == alone
    assert parse_front_matters(project, []) == []


def test_an_untranslated_chapter_is_shown_in_its_language_after_a_note(make_paper):
    from pipeline.assemble import parse_all
    from pipeline.sources.paper import load_sources

    project = load_project(make_paper())
    parsed = parse_all(project, load_sources(project))
    view = localised(parsed, {}, set(), "en", "Noch nicht übersetzt.")
    intro = view["chapters/01-intro.md"]
    note, original = intro.blocks[0], intro.blocks[1]
    assert note["c"][0][1] == ["untranslated"] and "übersetzt" in str(note)
    assert original["c"][0][2] == [["lang", "en"]] and original["c"][1] == parsed["chapters/01-intro.md"].blocks
    assert intro.title[0]["c"][0][2] == [["lang", "en"]]
    with pytest.raises(KeyError):
        view["chapters/none.md"]
