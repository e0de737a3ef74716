"""`paper status` and `paper editions`: reports on the paper, for editors and for CI.

`status` answers "where does each chapter stand?" in one screen: who writes it,
how far it is (status, words against the limit), what it cites and shows, what
the check still finds in it, and who touched it last. It runs the check once and
never builds, so it is cheap enough for every pull request and never takes the
build lock. It is a report: it exits 0 whenever paper.yml loads.

`editions` lists the editions `paper build` would make, optionally only those a
set of changed files can affect, so a pull request builds only what it touched.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Iterable

from pipeline.diagnostics import Diagnostic, _one_line, _path
from pipeline.project import CONFIG_NAME, Project
from pipeline.sources.chapters import Chapter
from pipeline.sources.paper import CHAPTER_DIRS, Sources

if TYPE_CHECKING:
    from pipeline.assemble.editions import Plan

NONE = "—"  # what a cell shows when there is nothing to show (not a chapter's peer, no commit)


# --- the report, as values -------------------------------------------------------------------------


@dataclass(frozen=True)
class Commit:
    date: str  # YYYY-MM-DD, the committer date
    author: str


@dataclass(frozen=True)
class ChapterRow:
    path: str
    kind: str  # 'chapter' | 'case-study'
    title: str | None
    peer: str | None  # the peer's id (case studies)
    peer_name: str | None  # its name from paper.yml, else None
    status: str
    words: int
    words_min: int | None
    words_max: int | None
    citations: int  # citation uses (cross-references excluded)
    citation_keys: int  # distinct keys cited
    figures: int
    tables: int
    errors: int
    warnings: int
    last_commit: Commit | None


@dataclass(frozen=True)
class FileRow:
    """A file that is not a chapter but has problems (references.bib, an unlisted chapter)."""

    path: str
    errors: int
    warnings: int


@dataclass(frozen=True)
class Totals:
    chapters: int
    words: int
    citations: int
    citation_keys: int  # distinct keys across the paper, not the sum of the chapters'
    figures: int
    tables: int
    errors: int  # every diagnostic, chapters and other files
    warnings: int


@dataclass(frozen=True)
class Report:
    title: str
    chapters: tuple[ChapterRow, ...]
    other_files: tuple[FileRow, ...]
    totals: Totals
    languages: tuple[str, ...] = ()  # paper.yml's translations, the columns of the matrix
    translations: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (chapter, state per language)


# A translation's state: none yet; made from an older version of its source; current. 'summary'
# marks a translation of the front matter only (title and summary), which the summary edition needs.
TRANSLATION_STATES = ("missing", "stale", "current", "summary only", "summary only, stale")


def translation_state(translation, source: Chapter) -> str:
    from pipeline.sources.translations import matches

    if translation is None:
        return "missing"
    fresh = matches(translation.stamp, source.text)
    if translation.has_body:
        return "current" if fresh else "stale"
    return "summary only" if fresh else "summary only, stale"


def translation_matrix(project: Project, sources: Sources) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Chapter x language: which translations exist, and which are out of date."""
    found = {(t.source, t.lang): t for t in sources.translations}
    return tuple((ch.path, tuple(translation_state(found.get((ch.path, lang)), ch) for lang in
                                 project.translation_langs)) for ch in sources.chapters)


def problem_counts(diagnostics: Iterable[Diagnostic]) -> dict[str, tuple[int, int]]:
    """(errors, warnings) per path, so each row shows what `paper check` says about its file."""
    counts: dict[str, tuple[int, int]] = {}
    for d in diagnostics:
        errors, warnings = counts.get(d.path, (0, 0))
        counts[d.path] = (errors + (d.severity == "error"), warnings + (d.severity != "error"))
    return counts


def chapter_status(chapter: Chapter) -> str:
    """As the build reads it: a missing status is a draft; a wrong one is shown as written (FM008 flags it)."""
    value = chapter.meta.get("status", "draft")
    return str(value).strip() if value is not None else "draft"


def peer_of(project: Project, chapter: Chapter) -> tuple[str | None, str | None]:
    """(id, name): only case studies belong to a peer; an unknown id keeps no name (PEER rules report it)."""
    if chapter.kind != "case-study":
        return None, None
    peer_id = chapter.meta.get("peer")
    if not isinstance(peer_id, str):
        return None, None
    peer = project.peer(peer_id)
    return peer_id, (peer.name if peer else None)


def chapter_row(project: Project, chapter: Chapter, cited: list[str], problems: tuple[int, int],
                commit: Commit | None) -> ChapterRow:
    """One chapter's row; ``cited`` are its citation keys in order, as the citation rules see them."""
    peer_id, peer_name = peer_of(project, chapter)
    title = chapter.meta.get("title")
    return ChapterRow(
        path=chapter.path, kind=chapter.kind, title=title if isinstance(title, str) else None,
        peer=peer_id, peer_name=peer_name, status=chapter_status(chapter),
        words=chapter.scan.words,  # the count STR002 compares with rules.chapter_words
        words_min=project.rules.chapter_words_min, words_max=project.rules.chapter_words_max,
        citations=len(cited), citation_keys=len(set(cited)),
        figures=len(chapter.scan.images),
        # the scanner records a table by its caption's {#tbl:...} label: the tables the paper numbers
        tables=sum(1 for i in chapter.scan.identifiers if i.kind == "table"),
        errors=problems[0], warnings=problems[1], last_commit=commit,
    )


def collect(project: Project, sources: Sources, diagnostics: list[Diagnostic],
            commits: dict[str, Commit]) -> Report:
    """The whole report from values already computed: no I/O here, so it is easy to test."""
    from pipeline.rules.context import Context

    cited: dict[str, list[str]] = {ch.path: [] for ch in sources.chapters}
    for chapter, citation in Context(project, sources.chapters, sources.bibliography).citations:
        cited[chapter.path].append(citation.key)
    counts = problem_counts(diagnostics)
    rows = tuple(chapter_row(project, ch, cited[ch.path], counts.get(ch.path, (0, 0)), commits.get(ch.path))
                 for ch in sources.chapters)
    chapter_paths = {r.path for r in rows}
    others = tuple(FileRow(path, *counts[path]) for path in sorted(counts) if path not in chapter_paths)
    every_key = {key for keys in cited.values() for key in keys}
    totals = Totals(
        chapters=len(rows), words=sum(r.words for r in rows), citations=sum(r.citations for r in rows),
        citation_keys=len(every_key), figures=sum(r.figures for r in rows), tables=sum(r.tables for r in rows),
        errors=sum(r.errors for r in rows) + sum(o.errors for o in others),
        warnings=sum(r.warnings for r in rows) + sum(o.warnings for o in others),
    )
    return Report(project.short_title or project.title, rows, others, totals, project.translation_langs,
                  translation_matrix(project, sources) if project.translation_langs else ())


# --- git ---------------------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\t")


def git_log_command(marker: str, paths: list[str]) -> list[str]:
    """One `git log` for every file: newest first, each commit's header then the files it touched.

    Literal pathspecs after '--', so a file named '-x.md' or ':(glob)*' is only ever a
    file name; -z, so any byte in a name survives; no colour, no signature lines.
    """
    return ["git", "--literal-pathspecs", "-c", "log.showSignature=false", "log", "--relative",
            "--no-color", "--no-renames", f"--format={marker}%cs%x09%an", "--name-only", "-z", "--", *paths]


def parse_git_log(output: str, marker: str, wanted: set[str]) -> dict[str, Commit]:
    """The newest commit of each wanted file, from `git_log_command`'s output.

    Headers start with a random ``marker``, which no file name can guess, so a
    hostile name cannot pose as a commit.
    """
    found: dict[str, Commit] = {}
    current: Commit | None = None
    after_header = False
    for token in output.split("\0"):
        if token.startswith(marker) and _DATE.match(token, len(marker)):
            date, _, author = token[len(marker):].partition("\t")
            current, after_header = Commit(date, author), True
            continue
        name = token[1:] if after_header and token.startswith("\n") else token
        after_header = False
        if current is not None and name in wanted and name not in found:
            found[name] = current
    return found


def last_commits(root: Path, paths: list[str]) -> dict[str, Commit]:
    """Each file's last commit; empty outside a git repository or without git: a report never fails on it."""
    if not paths:
        return {}
    marker = f"\x01{secrets.token_hex(8)}\x02"
    try:
        done = subprocess.run(git_log_command(marker, paths), cwd=root, capture_output=True, timeout=30,
                              check=False, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except (OSError, subprocess.SubprocessError):
        return {}
    if done.returncode != 0:
        return {}
    return parse_git_log(done.stdout.decode("utf-8", "surrogateescape"), marker, set(paths))


# --- the three formats -------------------------------------------------------------------------------


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def words_cell(words: int, low: int | None, high: int | None) -> str:
    """'1,234 / 500–6,000': the count next to the limit STR002 holds it to."""
    if low is not None and high is not None:
        return f"{words:,} / {low:,}–{high:,}"
    if low is not None:
        return f"{words:,} / ≥ {low:,}"
    if high is not None:
        return f"{words:,} / ≤ {high:,}"
    return f"{words:,}"


def words_ok(row: ChapterRow) -> bool:
    return not ((row.words_min is not None and row.words < row.words_min)
                or (row.words_max is not None and row.words > row.words_max))


def citations_cell(uses: int, keys: int) -> str:
    return f"{uses:,} ({plural(keys, 'key')})"


def commit_cell(commit: Commit | None) -> tuple[str, str]:
    return (commit.date, _one_line(commit.author)) if commit else (NONE, NONE)


def peer_cell(row: ChapterRow) -> str:
    return _one_line(row.peer_name or row.peer or NONE)


HEADERS = ("file", "peer", "status", "words", "citations", "figures", "tables", "errors", "warnings",
           "last commit", "author")


def cells(row: ChapterRow) -> list[str]:
    """A chapter's row as text; every value from a file or from git is shown with control characters escaped."""
    return [_path(row.path), peer_cell(row), _one_line(row.status),
            words_cell(row.words, row.words_min, row.words_max), citations_cell(row.citations, row.citation_keys),
            f"{row.figures:,}", f"{row.tables:,}", f"{row.errors:,}", f"{row.warnings:,}",
            *commit_cell(row.last_commit)]


def other_cells(row: FileRow) -> list[str]:
    return [_path(row.path), NONE, NONE, NONE, NONE, NONE, NONE, f"{row.errors:,}", f"{row.warnings:,}", NONE, NONE]


def total_cells(t: Totals) -> list[str]:
    return [f"total ({plural(t.chapters, 'chapter')})", "", "", f"{t.words:,}",
            citations_cell(t.citations, t.citation_keys), f"{t.figures:,}", f"{t.tables:,}", f"{t.errors:,}",
            f"{t.warnings:,}", "", ""]


def to_json(report: Report) -> str:
    """A stable object for scripts: {"title", "chapters": [...], "other_files": [...], "totals": {...}}."""
    return json.dumps({"title": report.title, "chapters": [asdict(r) for r in report.chapters],
                       "other_files": [asdict(o) for o in report.other_files], "totals": asdict(report.totals),
                       "translations": {path: dict(zip(report.languages, states))
                                        for path, states in report.translations}},
                      ensure_ascii=False, indent=2) + "\n"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|@~])")


def md(text: str) -> str:
    """Text safe in a GitHub table cell: no '|' ends the cell, no '@' pings anyone, no markup acts."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def md_path(path: str) -> str:
    """A file name as code, which reads best; escaped text when a backtick or '|' would break the span."""
    return f"`{path}`" if not re.search(r"[`|]", path) else md(path)


def to_markdown(report: Report) -> str:
    """A GitHub-flavoured table for a pull-request comment or the job summary."""
    t = report.totals
    heading = (f"### Paper status: {md(_one_line(report.title))} — {plural(t.chapters, 'chapter')}, "
               f"{plural(t.words, 'word')}, {plural(t.errors, 'error')}, {plural(t.warnings, 'warning')}")
    align = ["---", "---", "---", "--:", "--:", "--:", "--:", "--:", "--:", "---", "---"]
    lines = [heading, "", "| " + " | ".join(HEADERS) + " |", "|" + "|".join(align) + "|"]
    for row in report.chapters:
        first, *rest = cells(row)
        lines.append("| " + " | ".join([md_path(first), *(md(c) for c in rest)]) + " |")
    for other in report.other_files:
        first, *rest = other_cells(other)
        lines.append("| " + " | ".join([md_path(first), *(md(c) for c in rest)]) + " |")
    lines.append("| " + " | ".join(f"**{md(c)}**" if c else "" for c in total_cells(t)) + " |")
    if report.translations:
        lines += ["", "#### Translations", "", "| file | " + " | ".join(md(lang) for lang in report.languages) + " |",
                  "|---|" + "---|" * len(report.languages)]
        lines += ["| " + " | ".join([md_path(path), *(md(state) for state in states)]) + " |"
                  for path, states in report.translations]
    return "\n".join(lines) + "\n"


STATUS_STYLES = {"draft": "dim", "review": "yellow", "approved": "green"}


def print_table(report: Report, stream: IO[str]) -> None:
    """A rich table; colour only on a terminal (rich decides), never wrapped when piped to a file."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=stream, highlight=False)
    if not console.is_terminal:
        console.width = 400  # a log or a file: one line per row, as wide as the table needs
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="right" if 3 <= i <= 8 else "left")
    for row in report.chapters:
        values = cells(row)
        styles = ["", "", STATUS_STYLES.get(row.status, "red"), "" if words_ok(row) else "red", "", "", "",
                  "red" if row.errors else "", "yellow" if row.warnings else "", "", ""]
        table.add_row(*(Text(v, style=s) for v, s in zip(values, styles)))
    for other in report.other_files:
        table.add_row(*(Text(v) for v in other_cells(other)))
    table.add_section()
    table.add_row(*(Text(v, style="bold") for v in total_cells(report.totals)))
    console.print(Text(_one_line(report.title), style="bold"))
    console.print(table)
    if report.translations:
        matrix = Table(box=box.SIMPLE_HEAD, show_edge=False, title="Translations", title_justify="left")
        matrix.add_column("file")
        for lang in report.languages:
            matrix.add_column(lang)
        colours = {"missing": "dim", "current": "green", "summary only": "green"}
        for path, states in report.translations:
            matrix.add_row(Text(path), *(Text(state, style=colours.get(state, "yellow")) for state in states))
        console.print(matrix)


def report_for(project: Project) -> Report:
    """Load, check once, ask git once."""
    from pipeline.rules import check
    from pipeline.sources.paper import load_sources

    sources = load_sources(project)
    diagnostics = check(project, sources)
    commits = last_commits(project.root, [ch.path for ch in sources.chapters])
    return collect(project, sources, diagnostics, commits)


def run_status(args: argparse.Namespace) -> int:
    """Exit 0 whenever paper.yml loads (a report, not a gate); 2 when it does not."""
    from pipeline.commands import _load

    project = _load(args)
    if isinstance(project, int):
        return project
    report = report_for(project)
    if args.format == "json":
        sys.stdout.write(to_json(report))
    elif args.format == "markdown":
        sys.stdout.write(to_markdown(report))
    else:
        print_table(report, sys.stdout)
    return 0


# --- editions ----------------------------------------------------------------------------------------

# Changed files that no edition reads: documentation, CI, the pipeline's tests, git and pre-commit settings.
IRRELEVANT_DIRS = (".github/", "docs/", "tests/", ".git/")
IRRELEVANT_NAMES = {".gitignore", ".gitattributes", ".editorconfig", ".pre-commit-config.yaml",
                    ".pre-commit-hooks.yaml", "LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"}


def project_relative(root: Path, path: str, cwd: Path) -> str | None:
    """``path`` (relative to ``cwd``, as git prints it) relative to the project, or None outside it.

    The file may be gone (deleted in the pull request), so only its folder is resolved.
    """
    given = Path(path) if Path(path).is_absolute() else cwd / path
    absolute = given.parent.resolve() / given.name
    root = root.resolve()
    if absolute == root:
        return "."
    if not absolute.is_relative_to(root):
        return None
    return absolute.relative_to(root).as_posix()


def affects(project: Project, chapters: set[str], rel: str) -> str:
    """What a changed file can change: 'chapter' (the editions holding it), 'all' or 'none'.

    Conservative: whatever could be an input (a setting, the bibliography, the style,
    a template, any image or file a chapter might show, the pipeline itself) is 'all';
    only what no edition reads is 'none'.
    """
    if rel in chapters:
        return "chapter"
    whole = {PurePosixPath(f).as_posix() for f in (CONFIG_NAME, *project.bibliography, project.csl)}
    if rel in whole or rel == "." or rel.startswith(("templates/", "figures/")):
        return "all"
    name = PurePosixPath(rel).name
    folder = PurePosixPath(rel).parent.as_posix()
    if rel.endswith(".md"):
        in_chapter_dir = folder in {d for d, _kind in CHAPTER_DIRS}
        if in_chapter_dir and not (project.root / rel).exists():
            return "all"  # a chapter deleted: the paper changes, and an offprint may go
        return "none"  # set aside, or documentation: no edition reads it
    if rel.startswith(IRRELEVANT_DIRS) or name in IRRELEVANT_NAMES:
        return "none"
    return "all"


def touched_editions(project: Project, plans: list[Plan], changed: list[str]) -> list[str]:
    """The ids of the editions the changed files (project-relative) can affect, in build order."""
    from pipeline.sources.translations import split_name

    chapters = {path for plan in plans for path in plan.chapters}
    hit: set[str] = set()
    for rel in changed:
        translated = split_name(rel, project.translation_langs)
        if translated is not None:  # intro.de.md: the editions in German that hold the introduction
            source, lang = translated
            hit.update(plan.id for plan in plans if plan.lang == lang and source in plan.chapters)
            continue
        effect = affects(project, chapters, rel)
        if effect == "all":
            return [plan.id for plan in plans]
        if effect == "chapter":
            hit.update(plan.id for plan in plans if rel in plan.chapters)
    return [plan.id for plan in plans if plan.id in hit]


def read_paths(source: str) -> list[str]:
    """Paths from a file or '-' (stdin): NUL-separated as `git diff -z` prints them, else one a line."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8", errors="surrogateescape")
    parts = text.split("\0") if "\0" in text else text.splitlines()
    return [p for p in parts if p]


def run_editions(args: argparse.Namespace) -> int:
    """Print edition ids one a line; with --touched-by/--touched-from only those the files can affect."""
    from pipeline.assemble.editions import plan_editions
    from pipeline.commands import _load
    from pipeline.sources.paper import load_sources

    project = _load(args)
    if isinstance(project, int):
        return project
    plans = plan_editions(project, load_sources(project).chapters)
    ids = [plan.id for plan in plans]
    given = list(args.touched_by or [])
    if args.touched_from is not None:
        try:
            given += read_paths(args.touched_from)
        except OSError as err:
            print(f"paper: cannot read {args.touched_from}: {err.strerror or err}", file=sys.stderr)
            return 2
    if args.touched_by is not None or args.touched_from is not None:
        cwd = Path.cwd()
        relative = [rel for p in given if (rel := project_relative(project.root, p, cwd)) is not None]
        ids = touched_editions(project, plans, relative)
    for edition_id in ids:
        print(edition_id)
    return 0
