"""Property-based tests: whatever an author writes, ``paper check`` answers with
diagnostics inside the file, never an exception, and an exit code that matches.

Each property feeds one kind of input to the real command (``pipeline.cli.main``,
JSON output) in a copy of tests/fixtures/base: generated front matter, Markdown
bodies, raw bytes (as a chapter, a .bib or paper.yml) and BibTeX. Runs are
reproducible (``derandomize``: the same examples on every machine, no example
database) and bounded: FUZZ_EXAMPLES examples per property, 800 by default
(about 3,200 in all, under a minute and a half on two cores). Set
PAPER_FUZZ_EXAMPLES to search longer locally.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from tests.conftest import FIXTURES

FUZZ_EXAMPLES = int(os.environ.get("PAPER_FUZZ_EXAMPLES", "800"))
SETTINGS = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
CHAPTER = "chapters/02-fuzz.md"


# ---------------------------------------------------------------------------
# The invariant every property checks
# ---------------------------------------------------------------------------


def _lines(data: bytes) -> list[str]:
    """A file's lines as diagnostics count them: BOM dropped, CRLF, CR and LF each one break."""
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def position_problem(root: Path, rel: str, line: int, col: int) -> str | None:
    """Why ``rel:line:col`` is not a position inside that file, or None if it is.

    A file that is missing or links outside the project can only be pointed at as 1:1.
    """
    path = root / rel
    if not path.is_file() or not path.resolve().is_relative_to(root.resolve()):
        return None if (line, col) == (1, 1) else f"{rel} cannot be read, so only 1:1 points into it"
    lines = _lines(path.read_bytes())
    if not 1 <= line <= len(lines):
        return f"line {line} is not among the file's {len(lines)} lines"
    if not 1 <= col <= len(lines[line - 1]) + 1:
        return f"column {col} is beyond the end of line {line} ({len(lines[line - 1])} characters)"
    return None


def checked(root: Path, capsys, config_may_fail: bool = False) -> list[dict]:
    """Run ``paper check --format json``; assert the contract; return the diagnostics."""
    code = main(["-C", str(root), "check", "--format", "json"])
    out, err = capsys.readouterr()
    assert "internal error" not in err, err
    diagnostics = json.loads(out)
    if code == 2 and config_may_fail:
        assert diagnostics and all(d["code"].startswith("CFG") and d["path"] == "paper.yml" for d in diagnostics)
    else:
        assert code == (1 if any(d["severity"] == "error" for d in diagnostics) else 0), (code, err)
    for d in diagnostics:
        problem = position_problem(root, d["path"], d["line"], d["col"])
        assert problem is None, (d, problem)
        assert d["message"].strip() and "\n" not in d["message"], d
    return diagnostics


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """One copy of the base paper per property; each example rewrites its own file."""
    monkeypatch.setenv("PAPER_DEBUG", "1")  # an exception surfaces as itself, for hypothesis to shrink
    root = tmp_path / "p"
    shutil.copytree(FIXTURES / "base", root)
    return root


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

MARKDOWN_ALPHABET = st.sampled_from(
    list("abc XYZ019\n\n\t#*_`~[](){}<>!@:;,.-=+|\\\"'$%&^/?") + [
        "é", "ü", "\u00a0", "\u2028", "\u202e", "\r\n", "\r", "---\n", "```\n", "~~~\n", "::: ", ":::\n",
        "@fig:x", "@sec:", "@tbl:t", "[@", "{#", "{#fig:x}", "{#sec:s}", "![", "](", "](../figures/diagram.png)",
        "](/etc/passwd)", "](file:///etc/passwd)", "](http://x.org)", "\ufeff", "[[TODO ", "]]", "<!--", "-->",
        "<div>", "</div>", "<span id=x>", "$$", "\\begin{x}", "\\end{x}", "{=html}", "```{=latex}\n", "^[",
        "[^1]", "[^1]: ", "> ", "- ", "1. ", "(@a) ", "## ", "#######", "\n=\n", "| a | b |\n|---|---|\n",
        ": Caption {#tbl:t}\n", "@wenger1998communities", "@nokey", "<https://x.org>", "&amp;", "\\@",
    ]
)
markdown_text = st.lists(MARKDOWN_ALPHABET, max_size=120).map("".join)

yaml_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
              st.sampled_from(["0000-0002-1825-0097", "alpha", "beta", "en", "de-DE", "xx-!!", "draft", "done"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
front_matter_fields = st.dictionaries(
    st.sampled_from(["title", "authors", "summary", "status", "lang", "peer", "orcid", "x", "titel"]),
    yaml_value, max_size=6,
)
YAML_PIECES = st.sampled_from([
    "title: ", "authors:\n", "  - name: ", "    orcid: ", "summary: ", "peer: ", "lang: ", "status: ", "\n", "  ",
    "\t", "- ", ": ", "? ", "&a ", "*a", "*b", "<<: *a\n", "!!python/object/apply:os.system ", "!!binary ",
    "!!str ", "!tag ", "[", "]", "{", "}", ", ", "\"", "'", "|\n", ">-\n", "%YAML 1.1\n", "...\n", "# c\n",
    "é", "\u2028", "\x85", "\ufeff", "0x1F", "1e999", "~", "null", "yes", "2020-02-30", "x", "Title words",
])
raw_front_matter = st.lists(YAML_PIECES, max_size=40).map("".join)

BIB_PIECES = st.sampled_from(
    list("@{}\",=#%()\n abcAZ019\\") + [
        "@article{", "@misc{k1,", "@book{k2,", "@inproceedings{k3,", "@string{", "@preamble{", "@comment{",
        "@blogpost{k1,", "@STRING(", "crossref = {k1}", "crossref = {k3}", "xref = k2", "author = ", "title = {",
        "title = k1", "journal = jnl", "year = 2020", "month = jan", "jnl = \"J\"", " # ", "}\n", ",\n",
        "é", "\r\n", "\t", "\\{", "\\}", "{{{{", "}}}}", "doi = {10.1/x}", "url = {http://x}",
    ]
)
bib_text = st.lists(BIB_PIECES, max_size=80).map("".join)
BYTE_PIECES = st.sampled_from([
    b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\r\n", b"\r", b"\n", b"---\n", b"title: T\n", b"\xe9", b"\xc3\xa9",
    b"\xf0\x9f\x98\x80", b"\xed\xa0\x80", b"\x80", b"[@k1]", b"#", b"\x1b[2J", b"@misc{k1,", b"}", b"PK\x03\x04",
])
raw_bytes = st.one_of(st.binary(max_size=300), st.lists(BYTE_PIECES, max_size=40).map(b"".join))

CITING = ("---\ntitle: Fuzz\nauthors: [{name: A}]\nsummary: S.\n---\n\n"
          "This chapter cites [@k1], [@k2; @k3] and @k4 in enough words for the minimum length rule.\n")


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@SETTINGS
@given(fields=front_matter_fields, raw=raw_front_matter, use_raw=st.booleans(), body=markdown_text)
def test_generated_chapters_never_crash(project, capsys, fields, raw, use_raw, body):
    import yaml

    head = raw if use_raw else (yaml.safe_dump(fields, allow_unicode=True) if fields else "")
    (project / CHAPTER).write_text(f"---\n{head}\n---\n{body}", encoding="utf-8")
    checked(project, capsys)


@SETTINGS
@given(body=markdown_text)
def test_generated_markdown_bodies_never_crash(project, capsys, body):
    (project / CHAPTER).write_text(
        f"---\ntitle: F\nauthors: [{{name: A}}]\nsummary: S.\n---\n{body}", encoding="utf-8"
    )
    checked(project, capsys)


@SETTINGS
@given(raw=raw_bytes, target=st.sampled_from(["case_studies/beta.md", "references.bib", "paper.yml"]))
def test_arbitrary_bytes_as_a_chapter_bibliography_or_config(project, capsys, raw, target):
    original = (project / target).read_bytes() if (project / target).exists() else None
    (project / target).write_bytes(raw)
    try:
        checked(project, capsys, config_may_fail=target == "paper.yml")
    finally:
        if original is None:
            (project / target).unlink()
        else:
            (project / target).write_bytes(original)


@SETTINGS
@given(bib=bib_text)
def test_generated_bibtex_never_crashes(project, capsys, bib):
    original = (FIXTURES / "base/references.bib").read_text(encoding="utf-8")
    (project / "references.bib").write_text(original + "\n" + bib, encoding="utf-8")
    (project / CHAPTER).write_text(CITING, encoding="utf-8")
    checked(project, capsys)
