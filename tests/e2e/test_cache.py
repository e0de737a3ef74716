"""The build cache: each kind of change re-renders exactly the files that depend on it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline import build as build_module
from pipeline.cli import main


@pytest.fixture
def paper(make_paper, monkeypatch):
    """The fixture paper built once; ``renders()`` then builds again and lists what was rendered."""
    root = make_paper()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    real = build_module.render_one
    calls: list[tuple[str, str]] = []

    def counting(job, fmt):
        calls.append((job.edition_id, fmt))
        return real(job, fmt)

    monkeypatch.setattr(build_module, "render_one", counting)
    assert main(["-C", str(root), "build"]) == 0
    assert len(calls) == 9

    def renders() -> set[tuple[str, str]]:
        calls.clear()
        assert main(["-C", str(root), "build"]) == 0
        return set(calls)

    return root, renders


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


ALL = {(e, f) for e in ("paper", "summary", "case-study-alpha") for f in ("html", "pdf", "epub")}


def test_nothing_changed_renders_nothing_and_keeps_every_byte(paper):
    root, renders = paper
    before = _digests(root / "build")
    assert renders() == set()
    assert _digests(root / "build") == before


def test_a_case_study_edit_renders_the_editions_that_hold_its_text(paper):
    root, renders = paper
    _edit(root / "case_studies/alpha.md", "in workshops", "in monthly workshops")
    assert renders() == {(e, f) for e in ("paper", "case-study-alpha") for f in ("html", "pdf", "epub")}


def test_an_uncited_entry_renders_nothing_and_a_cited_one_its_editions(paper):
    root, renders = paper
    bib = root / "references.bib"
    bib.write_text(bib.read_text() + "\n@misc{lonely2001, author = {Nobody, A.}, title = {Unread}, year = {2001}}\n")
    config = root / "paper.yml"
    config.write_text(config.read_text() + "rules:\n  severity: {BIB010: off}\n"
                      if "rules:" not in config.read_text() else
                      config.read_text().replace("rules:", "rules:\n  severity: {BIB010: off}", 1))
    assert renders() == set()
    _edit(bib, "Communities of Practice", "Communities of Practice Revisited")
    assert renders() == {(e, f) for e in ("paper",) for f in ("html", "pdf", "epub")}


def test_a_template_renders_its_format_and_paper_yml_everything(paper):
    root, renders = paper
    css = root / "templates/html/style.css"
    css.parent.mkdir(parents=True)
    css.write_text((Path(build_module.BUILTIN_TEMPLATES) / "html/style.css").read_text() + "\n/* ours */\n")
    assert renders() == {(e, f) for e, f in ALL if f == "html"}
    _edit(root / "paper.yml", "title: A tiny test paper", "title: A small test paper")
    assert renders() == ALL


def test_a_different_style_renders_the_editions_with_citations(paper):
    root, renders = paper
    config = root / "paper.yml"
    config.write_text(config.read_text() + "csl: chicago-author-date\n")
    assert renders() == {(e, f) for e in ("paper",) for f in ("html", "pdf", "epub")}


def test_a_corrupted_cache_entry_is_ignored(paper):
    root, renders = paper
    before = _digests(root / "build")
    for blob in (root / ".cache/build/blobs").rglob("*"):
        if blob.is_file():
            blob.write_bytes(b"not what the name promises")
    (root / "build/paper/paper.pdf").unlink()
    rendered = renders()
    assert ("paper", "pdf") in rendered
    assert _digests(root / "build") == before


def test_a_no_op_build_reads_no_chapter_and_runs_no_rule(paper, monkeypatch):
    """Nothing changed since the last build: the check's result and the outputs are reused."""
    root, renders = paper
    before = _digests(root / "build")
    import pipeline.rules
    import pipeline.sources.paper

    def must_not_run(*args, **kwargs):
        raise AssertionError("a no-op build loaded the sources or ran the rules")

    monkeypatch.setattr(pipeline.sources.paper, "load_sources", must_not_run)
    monkeypatch.setattr(pipeline.rules, "check", must_not_run)
    assert renders() == set()
    assert _digests(root / "build") == before


def test_an_output_changed_or_removed_since_the_build_is_put_back(paper):
    root, renders = paper
    before = _digests(root / "build")
    (root / "build/summary/summary.epub").unlink()
    (root / "build/paper/paper.pdf").write_bytes(b"%PDF- edited by hand")
    assert renders() == set()  # both come back from the render cache, byte for byte
    assert _digests(root / "build") == before


def test_the_cached_check_sees_every_change_it_depends_on(make_paper, capsys):
    """A chapter edit, an image removed, a bibliography edit: each is checked again."""
    root = make_paper()
    check = ["-C", str(root), "check", "--format", "json"]
    assert main(check) == 0
    assert main(check) == 0  # from the cache
    chapter = root / "case_studies/alpha.md"
    text = chapter.read_text()
    chapter.write_text(text + "\nAs argued elsewhere [@nosuchkey2020].\n")
    capsys.readouterr()
    assert main(check) == 1
    assert "CIT001" in capsys.readouterr().out
    chapter.write_text(text)
    assert main(check) == 0
    (root / "figures/diagram.png").unlink()
    capsys.readouterr()
    assert main(check) == 1
    assert "IMG" in capsys.readouterr().out


def test_a_foreign_check_entry_is_ignored(make_paper, capsys):
    root = make_paper()
    check = ["-C", str(root), "check", "--format", "json"]
    assert main(check) == 0
    for blob in (root / ".cache/build/blobs").rglob("*"):
        if blob.is_file():
            blob.write_bytes(b'[["x.md", 1, 1, "error", "XXX001", "forged"]]')
    capsys.readouterr()
    assert main(check) == 0
    assert "forged" not in capsys.readouterr().out
