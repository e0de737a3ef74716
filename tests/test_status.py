"""`paper status` and `paper editions` on a copy of the shipped paper.

Status is a report editors and CI read: its numbers must be the ones the check
and the build use (the STR002 word count, the citation rules' citations, the
check's diagnostics per file), its git columns must survive any file name, and
it must never fail because git is missing. `editions --touched-by` decides what
a pull request builds, so it must never leave out an edition a change can affect.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.project import load_project
from pipeline.sources.paper import chapter_paths, load_sources
from pipeline.status import Commit, last_commits, parse_git_log, words_cell

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / ".venv" / "bin" / "paper"
SHIPPED = ("paper.yml", "chapters", "case_studies", "figures", "references.bib")
ANSI = re.compile(r"\x1b\[")
ALL_EDITIONS = ["paper", "summary", "case-study-siemens-stiftung", "case-study-kinder-forschen",
                "case-study-smithsonian", "case-study-luma", "case-study-lamap", "case-study-oce", "summary-de", "summary-fr"]


def copy_shipped(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    return copy_shipped(tmp_path / "paper")


def git(root: Path, *args: str, author: str = "Ada Editor", date: str = "2024-03-01T12:00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_COMMITTER_NAME": author,
           "GIT_AUTHOR_EMAIL": "ed@example.org", "GIT_COMMITTER_EMAIL": "ed@example.org",
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                   cwd=root, env=env, check=True, capture_output=True)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def status_json(capsys, root: Path) -> dict:
    code, out, _ = run(capsys, "-C", str(root), "status", "--format", "json")
    assert code == 0
    return json.loads(out)


# --- status ------------------------------------------------------------------------------------------


CHAPTER_KEYS = {"path", "kind", "title", "peer", "peer_name", "status", "words", "words_min", "words_max",
                "citations", "citation_keys", "figures", "tables", "errors", "warnings", "last_commit"}
TOTAL_KEYS = {"chapters", "words", "citations", "citation_keys", "figures", "tables", "errors", "warnings"}


def test_json_has_one_row_per_chapter_in_reading_order(shipped, capsys):
    report = status_json(capsys, shipped)
    assert set(report) == {"title", "chapters", "other_files", "totals", "translations"}
    project = load_project(shipped)
    sources = load_sources(project)
    assert [r["path"] for r in report["chapters"]] == chapter_paths(project)
    for row, chapter in zip(report["chapters"], sources.chapters):
        assert set(row) == CHAPTER_KEYS
        assert row["words"] == chapter.scan.words  # what STR002 compares with the limit
        assert (row["words_min"], row["words_max"]) == (500, 6000)
        assert row["status"] in ("draft", "review", "approved")
        assert row["citation_keys"] <= row["citations"]
        if row["kind"] == "case-study":
            assert row["peer_name"] == project.peer(row["peer"]).name
        else:
            assert row["peer"] is None and row["peer_name"] is None
    luma = next(r for r in report["chapters"] if r["path"] == "case_studies/luma.md")
    assert luma["peer_name"] == "LUMA Center Finland"
    introduction = next(r for r in report["chapters"] if r["path"] == "chapters/introduction.md")
    assert introduction["figures"] >= 1 and introduction["tables"] >= 1


def test_totals_are_the_sums_of_the_rows(shipped, capsys):
    report = status_json(capsys, shipped)
    rows = report["chapters"] + report["other_files"]
    totals = report["totals"]
    assert set(totals) == TOTAL_KEYS
    assert totals["chapters"] == len(report["chapters"])
    for key in ("words", "citations", "figures", "tables"):
        assert totals[key] == sum(r[key] for r in report["chapters"]), key
    for key in ("errors", "warnings"):
        assert totals[key] == sum(r[key] for r in rows), key
    # distinct keys across the paper: at least any chapter's, at most the sum of them
    per_chapter = [r["citation_keys"] for r in report["chapters"]]
    assert max(per_chapter) <= totals["citation_keys"] <= sum(per_chapter)


def check_counts(capsys, root: Path) -> dict[str, tuple[int, int]]:
    code, out, _ = run(capsys, "-C", str(root), "check", "--format", "json")
    assert code in (0, 1)
    counts: dict[str, tuple[int, int]] = {}
    for d in json.loads(out):
        errors, warnings = counts.get(d["path"], (0, 0))
        counts[d["path"]] = (errors + (d["severity"] == "error"), warnings + (d["severity"] == "warning"))
    return counts


def test_errors_and_warnings_match_the_check_file_by_file(shipped, capsys):
    luma = shipped / "case_studies" / "luma.md"
    luma.write_text(luma.read_text().replace("## Context", "## Context\n\nAs [@nobody2099] wrote.", 1))
    bib = shipped / "references.bib"
    bib.write_text(bib.read_text() + "\n@misc{uncited2020, title = {Nobody cites this}, year = {2020}}\n")
    expected = check_counts(capsys, shipped)
    assert expected["case_studies/luma.md"][0] >= 1, "the broken citation is an error"
    report = status_json(capsys, shipped)
    shown = {r["path"]: (r["errors"], r["warnings"]) for r in report["chapters"] + report["other_files"]}
    assert {path: n for path, n in shown.items() if n != (0, 0)} == expected
    assert "references.bib" in {o["path"] for o in report["other_files"]}


def markdown_cells(line: str) -> list[str]:
    """A GitHub table row's cells: '|' ends a cell unless escaped."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return re.split(r"(?<!\\)\|", line[1:-1])


def test_markdown_is_a_heading_and_one_table_with_the_totals(shipped, capsys):
    code, out, _ = run(capsys, "-C", str(shipped), "status", "--format", "markdown")
    assert code == 0
    lines = out.rstrip("\n").split("\n")
    assert lines[0].startswith("### Paper status: IDoS learning paper — 11 chapters")
    assert lines[1] == ""
    table = lines[2:]
    table = table[:table.index("")] if "" in table else table  # then the translations matrix
    assert all(line.startswith("|") for line in table)
    assert re.fullmatch(r"\|(:?-+:?\|)+", table[1])
    width = len(markdown_cells(table[0]))
    assert width == table[1].count("|") - 1
    assert all(len(markdown_cells(line)) == width for line in table[2:])
    others = [line for line in table if re.search(r"\.(de|fr)\.md`", line)]  # translations' own warnings
    assert len(table) == 2 + 11 + len(others) + 1  # header, alignment, chapters, other files, totals
    assert "`case_studies/luma.md`" in out and "LUMA Center Finland" in out
    assert table[-1].startswith("| **total (11 chapters)** |")
    assert "500–6,000" in out


def test_the_table_has_no_escape_codes_when_not_a_terminal(shipped):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS")}
    done = subprocess.run([str(PAPER), "-C", str(shipped), "status"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert not ANSI.search(done.stdout)
    for path in chapter_paths(load_project(shipped)):
        line = next(line for line in done.stdout.splitlines() if path in line)  # one line a row, not wrapped
        assert re.search(r"\d / 500–6,000", line)
    assert "total (11 chapters)" in done.stdout


def test_the_table_has_colour_on_a_terminal(shipped):
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    env = {**{k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}, "TERM": "xterm-256color"}
    try:
        done = subprocess.run([str(PAPER), "-C", str(shipped), "status"], stdout=follower, stderr=subprocess.PIPE,
                              env=env, timeout=60)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert ANSI.search(b"".join(chunks).decode("utf-8", "replace"))


def test_last_commit_survives_hostile_file_names(shipped, capsys):
    """'-x.md' is no option, 'a b.md' one name, and '*.md' no glob: each gets its own commit."""
    yml = shipped / "paper.yml"
    text = yml.read_text()
    text = re.sub(r"\ncontents:\n(  - .*\n)+", "\n", text)  # the folders give the order, new files included
    yml.write_text(text)
    git(shipped, "init", "-q")
    git(shipped, "add", "-A")
    git(shipped, "commit", "-qm", "the paper", date="2024-03-01T12:00:00")
    conclusions = (shipped / "chapters" / "conclusions.md").read_text()
    for name in ("-x.md", "a b.md", "*.md"):
        (shipped / "chapters" / name).write_text(conclusions)
    git(shipped, "add", "--", "chapters/-x.md", "chapters/a b.md", "chapters/*.md")
    git(shipped, "commit", "-qm", "odd names", author="Bob | @someone", date="2024-04-02T12:00:00")
    luma = shipped / "case_studies" / "luma.md"
    luma.write_text(luma.read_text() + "\nOne more sentence.\n")
    git(shipped, "commit", "-qam", "later", author="Cleo Peer", date="2024-05-03T12:00:00")
    (shipped / "chapters" / "uncommitted.md").write_text(conclusions)

    report = status_json(capsys, shipped)
    commits = {r["path"]: r["last_commit"] for r in report["chapters"]}
    for name in ("chapters/-x.md", "chapters/a b.md", "chapters/*.md"):
        assert commits[name] == {"date": "2024-04-02", "author": "Bob | @someone"}, name
    assert commits["case_studies/luma.md"] == {"date": "2024-05-03", "author": "Cleo Peer"}
    assert commits["chapters/research.md"] == {"date": "2024-03-01", "author": "Ada Editor"}
    assert commits["chapters/uncommitted.md"] is None

    code, out, _ = run(capsys, "-C", str(shipped), "status", "--format", "markdown")
    row = next(line for line in out.splitlines() if "a b.md" in line)
    assert "Bob \\| \\@someone" in row, "a name can neither end the cell nor ping anyone"
    assert len(markdown_cells(row)) == len(markdown_cells(out.splitlines()[2]))
    uncommitted = next(line for line in out.splitlines() if "uncommitted.md" in line)
    assert uncommitted.endswith("| — | — |")


def test_no_git_history_or_no_git_is_a_dash_not_an_error(shipped, capsys, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(shipped.parent))
    report = status_json(capsys, shipped)
    assert all(r["last_commit"] is None for r in report["chapters"])
    monkeypatch.setenv("PATH", str(shipped / "no-such-folder"))
    assert last_commits(shipped, ["chapters/introduction.md"]) == {}
    code, out, _ = run(capsys, "-C", str(shipped), "status", "--format", "markdown")
    assert code == 0 and "| — | — |" in out


def test_a_file_name_cannot_pose_as_a_commit():
    marker = "\x01secret\x02"
    forged = "\x01guess\x022099-01-01\tMallory"
    output = (f"{marker}2024-01-02\tAda\0\nchapters/a.md\0{forged}\0chapters/b.md\0"
              f"{marker}2023-01-01\tBo\0\nchapters/b.md\0")
    found = parse_git_log(output, marker, {"chapters/a.md", "chapters/b.md", forged})
    assert found == {"chapters/a.md": Commit("2024-01-02", "Ada"), forged: Commit("2024-01-02", "Ada"),
                     "chapters/b.md": Commit("2024-01-02", "Ada")}


def test_words_cell_shows_the_limit_that_applies():
    assert words_cell(1234, 500, 6000) == "1,234 / 500–6,000"
    assert words_cell(1234, 500, None) == "1,234 / ≥ 500"
    assert words_cell(1234, None, 6000) == "1,234 / ≤ 6,000"
    assert words_cell(12, None, None) == "12"


def test_an_unreadable_paper_yml_exits_two(shipped, capsys):
    (shipped / "paper.yml").write_text("title: [unclosed\n")
    for fmt in ("table", "json", "markdown"):
        code, out, _ = run(capsys, "-C", str(shipped), "status", "--format", fmt)
        assert code == 2
        assert "paper.yml" in out
    code, _, err = run(capsys, "-C", str(shipped.parent / "nowhere"), "status")
    assert code == 2 and "paper.yml" in err


# --- editions ----------------------------------------------------------------------------------------


def editions(capsys, root: Path, *args: str) -> list[str]:
    code, out, err = run(capsys, "-C", str(root), "editions", *args)
    assert code == 0, err
    return out.split()


def test_editions_lists_what_build_would_build(shipped, capsys):
    assert editions(capsys, shipped) == ALL_EDITIONS


@pytest.mark.parametrize("changed, expected", [
    (["case_studies/luma.md"], ["paper", "summary", "case-study-luma", "summary-de", "summary-fr"]),
    (["chapters/introduction.md"], ["paper", "summary", "summary-de", "summary-fr"]),
    (["case_studies/luma.md", "case_studies/oce.md"],
     ["paper", "summary", "case-study-luma", "case-study-oce", "summary-de", "summary-fr"]),
    (["case_studies/luma.de.md"], ["summary-de"]),  # a translation: the editions in its language
    (["references.bib"], ALL_EDITIONS),
    (["paper.yml"], ALL_EDITIONS),
    (["figures/timeline.svg"], ALL_EDITIONS),
    (["templates/html/style.css"], ALL_EDITIONS),
    (["pipeline/build.py"], ALL_EDITIONS),  # unknown inside the project: it could be an input
    (["case_studies/gone.md"], ALL_EDITIONS),  # a deleted chapter changes the paper
    (["README.md"], []),
    (["docs/screenshots/x.png", ".github/workflows/check.yml", "tests/test_x.py", "NOTES.md"], []),
    (["README.md", "case_studies/oce.md"], ["paper", "summary", "case-study-oce", "summary-de", "summary-fr"]),
    ([], []),
])
def test_editions_touched_by(shipped, capsys, monkeypatch, changed, expected):
    monkeypatch.chdir(shipped)  # paths are relative to the current folder, as git diff prints them
    args = ["--touched-by", *changed] if changed else ["--touched-by"]
    with_cwd = [str(shipped / p) for p in changed]  # absolute paths mean the same files
    assert editions(capsys, shipped, *args) == expected
    assert editions(capsys, shipped, "--touched-by", *with_cwd) == expected


def test_editions_touched_by_is_relative_to_the_current_folder(shipped, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(shipped / "case_studies")
    assert editions(capsys, shipped, "--touched-by", "luma.md") == ["paper", "summary", "case-study-luma",
                                                                    "summary-de", "summary-fr"]
    outside = tmp_path / "elsewhere.bib"
    assert editions(capsys, shipped, "--touched-by", str(outside)) == []


def test_a_chapter_set_aside_touches_nothing(shipped, capsys, monkeypatch):
    monkeypatch.chdir(shipped)
    (shipped / "chapters" / "_draft.md").write_text("---\ntitle: later\n---\n")
    assert editions(capsys, shipped, "--touched-by", "chapters/_draft.md") == []


def test_editions_touched_from_git_diff_z(shipped, capsys, monkeypatch):
    monkeypatch.chdir(shipped)
    listing = shipped.parent / "changed"
    listing.write_bytes(b"README.md\0case_studies/lamap.md\0")
    assert editions(capsys, shipped, "--touched-from", str(listing)) == ["paper", "summary", "case-study-lamap",
                                                                         "summary-de", "summary-fr"]
    listing.write_text("docs/a.md\n")
    assert editions(capsys, shipped, "--touched-from", str(listing)) == []
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("references.bib\n"))
    assert editions(capsys, shipped, "--touched-from", "-") == ALL_EDITIONS
    code, _, err = run(capsys, "-C", str(shipped), "editions", "--touched-from", str(shipped / "missing"))
    assert code == 2 and "cannot read" in err
