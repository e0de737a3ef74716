"""paper.yml's severity overrides: by code, by family prefix, by glob; the last match wins."""

from __future__ import annotations

from pipeline.commands import run_check
from pipeline.project import load_project


def _paper(make_paper, severity_yaml: str):
    root = make_paper()
    config = root / "paper.yml"
    config.write_text(config.read_text().replace("summary_max_words: 30", "summary_max_words: 30\n" + severity_yaml))
    return root


def test_glob_lowers_a_rule_for_some_files_only(make_paper):
    root = _paper(make_paper, '  severity:\n    STR002: {"chapters/*.md": warning}\n')
    config = root / "paper.yml"
    config.write_text(config.read_text().replace("min: 20", "min: 100"))
    found = {(d.path, d.severity) for d in run_check(load_project(root)) if d.code == "STR002"}
    assert found == {("chapters/01-intro.md", "warning"), ("case_studies/alpha.md", "error")}


def test_family_prefix_and_last_match_wins(make_paper):
    root = _paper(make_paper, "  severity:\n    BIB: off\n    BIB010: warning\n")
    bib = root / "references.bib"
    bib.write_text(bib.read_text() + "\n@misc{lonely, author = {A, B}, title = {T}, year = {2000}}\n")
    project = load_project(root)
    assert project.rules.severity_for("BIB003", "references.bib", "error") == "off"
    codes = [d.code for d in run_check(project)]
    assert codes == ["BIB010"]


def test_bare_off_in_yaml_means_off(make_paper):
    root = _paper(make_paper, "  severity:\n    LNK002: off\n")
    intro = root / "chapters/01-intro.md"
    intro.write_text(intro.read_text().replace("https://example.org", "http://example.org"))
    assert run_check(load_project(root)) == []
