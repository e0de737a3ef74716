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


def test_release_names_editions_that_exist_and_takes_nothing_else(make_paper):
    import pytest

    from pipeline.project import ConfigError

    root = make_paper()
    config = root / "paper.yml"
    base = config.read_text()
    config.write_text(base + "release:\n  require_approved: [paper, case-study-beta]\n")
    assert load_project(root).release_approved == ("paper", "case-study-beta")
    for bad, where, words in (("release:\n  require_approved: [papers]\n", (22, 22), "names no edition 'papers'"),
                              ("release:\n  approve: [paper]\n", (22, 12), "'release.approve' is not a setting"),
                              ("release: [paper]\n", (21, 10), "must be a mapping")):
        config.write_text(base + bad)
        with pytest.raises(ConfigError) as caught:
            load_project(root)
        found = [(d.line, d.col, d.message) for d in caught.value.diagnostics]
        assert len(found) == 1 and words in found[0][2], found
        assert found[0][:2] == where, found


def test_a_release_build_refuses_chapters_not_approved(make_paper, capsys):
    from pipeline.cli import main

    root = make_paper()
    config = root / "paper.yml"
    config.write_text(config.read_text() + "release:\n  require_approved: [case-study-alpha]\n")
    assert main(["-C", str(root), "build", "case-study-alpha", "--to", "html"]) == 0
    capsys.readouterr()
    assert main(["-C", str(root), "build", "case-study-alpha", "--to", "html", "--release"]) == 1
    assert "case_studies/alpha.md:8:9: error[REL001]" in capsys.readouterr().out
    chapter = root / "case_studies/alpha.md"
    chapter.write_text(chapter.read_text().replace("status: review", "status: approved"))
    assert main(["-C", str(root), "build", "case-study-alpha", "--to", "html", "--release"]) == 0
