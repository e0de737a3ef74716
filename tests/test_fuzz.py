"""Property-based tests: whatever an author writes, the check answers with
diagnostics inside the file, never an exception, and an exit code that matches."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.diagnostics import Diagnostic
from pipeline.project import load_project
from pipeline.rules import check
from pipeline.sources.paper import load_sources
from tests.conftest import FIXTURES

MARKDOWN_ALPHABET = st.sampled_from(
    list("abc XYZ019\n\n\t#*_`~[](){}<>!@:;,.-=+|\\\"'$%&^/?") + ["é", "ü", "\u00a0", "\r\n", "---\n", "```\n", "@fig:x", "@sec:", "[@", "{#", "![", "](", "\ufeff"]
)
markdown_text = st.lists(MARKDOWN_ALPHABET, max_size=120).map("".join)
yaml_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
front_matter = st.dictionaries(
    st.sampled_from(["title", "authors", "summary", "status", "lang", "peer", "x"]), yaml_value, max_size=6
)
BIB_ALPHABET = st.sampled_from(
    list("@{}\",=#%\n abcAZ019") + ["@article{", "@string{", "crossref = {", "author = ", "title = {", "}\n", "@comment"]
)
bib_text = st.lists(BIB_ALPHABET, max_size=80).map("".join)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")


def _assert_inside(d: Diagnostic, root: Path) -> None:
    path = root / d.path
    assert path.exists(), d
    lines = _lines(path.read_bytes().decode("utf-8", errors="replace"))
    assert 1 <= d.line <= max(1, len(lines)), d
    assert 1 <= d.col <= len(lines[d.line - 1]) + 1, (d, lines[d.line - 1])


def _project(tmp: Path) -> Path:
    root = tmp / "p"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(FIXTURES / "base", root)
    return root


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(meta=front_matter, body=markdown_text)
def test_generated_chapters_never_crash(tmp_path_factory, meta, body):
    import yaml

    root = _project(tmp_path_factory.mktemp("fuzz"))
    head = yaml.safe_dump(meta, allow_unicode=True) if meta else ""
    (root / "chapters/02-fuzz.md").write_text(f"---\n{head}---\n{body}", encoding="utf-8")
    project = load_project(root)
    for d in check(project, load_sources(project)):
        _assert_inside(d, root)


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_as_a_chapter(tmp_path_factory, raw):
    root = _project(tmp_path_factory.mktemp("fuzz"))
    (root / "case_studies/beta.md").write_bytes(raw)
    project = load_project(root)
    for d in check(project, load_sources(project)):
        _assert_inside(d, root)


@SETTINGS
@given(bib=bib_text)
def test_generated_bibtex_never_crashes(tmp_path_factory, bib):
    root = _project(tmp_path_factory.mktemp("fuzz"))
    with (root / "references.bib").open("a", encoding="utf-8") as handle:
        handle.write("\n" + bib)
    project = load_project(root)
    for d in check(project, load_sources(project)):
        _assert_inside(d, root)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=markdown_text)
def test_exit_code_matches_the_diagnostics(tmp_path_factory, body):
    root = _project(tmp_path_factory.mktemp("fuzz"))
    (root / "chapters/02-fuzz.md").write_text(
        f"---\ntitle: F\nauthors: [{{name: A}}]\nsummary: S.\n---\n{body}", encoding="utf-8"
    )
    project = load_project(root)
    diagnostics = check(project, load_sources(project))
    expected = 1 if any(d.severity == "error" for d in diagnostics) else 0
    assert main(["-C", str(root), "check", "--format", "json"]) == expected
