"""One function per CLI command; each returns the exit code."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pipeline.diagnostics import FORMATTERS, Diagnostic, format_text
from pipeline.project import CONFIG_NAME, ConfigError, Project, load_project

if TYPE_CHECKING:  # the build stack is imported only when `paper build` runs
    from pipeline.build import Failure
    from pipeline.sources.paper import Sources


def _load(args: argparse.Namespace) -> Project | int:
    from pipeline.cli import project_root

    root = project_root(args)
    if root is None:
        where = args.directory or "this folder"
        print(f"paper: no {CONFIG_NAME} found in {where} or any folder above it; "
              "run 'paper init' to start a paper", file=sys.stderr)
        return 2
    try:
        return load_project(root)
    except ConfigError as err:
        formatter = FORMATTERS.get(getattr(args, "format", "text"), FORMATTERS["text"])
        sys.stdout.write(formatter(err.diagnostics))
        return 2


def _relative_paths(project: Project, paths: list[str]) -> list[str] | str:
    out = []
    for p in paths:
        absolute = Path(p).resolve()
        if not absolute.is_relative_to(project.root.resolve()):
            return f"paper: '{p}' is not inside the paper project at {project.root}"
        rel = absolute.relative_to(project.root.resolve()).as_posix()
        if not absolute.is_file():
            return f"paper: '{p}' does not exist"
        out.append(rel)
    return out


def fingerprint(project: Project, skip: list[Path] | None = None) -> str:
    """The project as the check and the build see it (see cache.project_fingerprint)."""
    from pipeline.cache import project_fingerprint
    from pipeline.project import CONFIG_NAME
    from pipeline.sources.paper import chapter_paths

    read = [CONFIG_NAME, *chapter_paths(project), *project.bibliography]
    if project.languages:  # a stale translation is explained from git history: a commit changes that
        read += git_head(project.root)
    return project_fingerprint(project.root, read, skip or [])


def git_head(root: Path) -> list[str]:
    """The files naming the current commit (.git/HEAD and the branch it points to), if any.

    Relative to ``root``, which may be a folder inside the repository.
    """
    for folder in (root, *root.resolve().parents):
        git = folder / ".git"
        if git.is_dir():
            break
    else:
        return []
    try:
        ref = (git / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return []
    found = [git / "HEAD", git / "packed-refs"]
    if ref.startswith("ref: ") and ".." not in ref:
        found.append(git / ref[5:])
    return [os.path.relpath(path, root) for path in found]


def run_check(project: Project, only: list[str] | None = None, *, known_fingerprint: str | None = None,
              use_cache: bool = True, sources: "Callable[[], Sources] | None" = None,
              release: bool = False) -> list[Diagnostic]:
    """The check's diagnostics, from the cache when nothing it reads has changed.

    ``known_fingerprint`` is the project's fingerprint when the caller has one already. The cached
    value is JSON (never pickle: a cache folder is not trusted to run code).
    """
    from pipeline.cache import Cache, key
    from pipeline.rules import check
    from pipeline.sources.paper import load_sources

    cache = Cache(project.root / ".cache" / "build") if use_cache else None
    name = key("check", known_fingerprint or fingerprint(project), json.dumps(only), str(release)) if cache else ""
    if cache and (raw := cache.get_value(name)) is not None:
        try:
            return [Diagnostic(*row) for row in json.loads(raw)]
        except (ValueError, TypeError):
            pass
    diagnostics = check(project, sources() if sources else load_sources(project), only, release=release)
    if cache:
        rows = [[d.path, d.line, d.col, d.severity, d.code, d.message] for d in diagnostics]
        cache.put_value(name, json.dumps(rows).encode("utf-8"))
    return diagnostics


def cmd_check(args: argparse.Namespace) -> int:
    project = _load(args)
    if isinstance(project, int):
        return project
    only = None
    if args.paths:
        only = _relative_paths(project, args.paths)
        if isinstance(only, str):
            print(only, file=sys.stderr)
            return 2
    start = time.perf_counter()
    diagnostics = run_check(project, only, use_cache=not args.no_cache)
    if args.format == "text":
        sys.stdout.write(format_text(diagnostics, count=not args.quiet))
    else:
        sys.stdout.write(FORMATTERS[args.format](diagnostics))
    if args.verbose:
        print(f"paper: checked {project.root} in {time.perf_counter() - start:.2f} s", file=sys.stderr)
    failing = {"error", "warning"} if args.strict else {"error"}
    return 1 if any(d.severity in failing for d in diagnostics) else 0


def _shown(path: Path) -> str:
    """A path as the user can type it: relative below the current folder, else absolute."""
    absolute = path.resolve()
    return str(absolute.relative_to(Path.cwd().resolve())) if absolute.is_relative_to(Path.cwd().resolve()) \
        else str(absolute)


def cmd_build(args: argparse.Namespace) -> int:
    """Exit 0 built; 1 check errors; 2 usage or another build running; 3 something could not be built.

    A failure costs only its own file: one line each on stderr, naming edition and format,
    and everything else is still built and listed on the landing page.
    """
    from pipeline.build import (
        BuildError,
        OutputError,
        build_unless_current,
        parse_formats,
        safe_out,
        shown,
    )
    from pipeline.sources.paper import load_sources
    from pipeline.terminal import QUIET, BuildProgress, verbosity

    project = _load(args)
    if isinstance(project, int):
        return project
    try:
        formats = parse_formats(args.to)
        out = safe_out(project.root, Path(args.out) if args.out else project.root / "build")
    except BuildError as err:
        print(f"paper: {err}", file=sys.stderr)
        return 2
    use_cache = not getattr(args, "no_cache", False)
    loaded: list[Sources] = []

    def sources() -> Sources:
        if not loaded:
            loaded.append(load_sources(project))
        return loaded[0]

    project_print = fingerprint(project, [out]) if use_cache else None
    diagnostics = run_check(project, known_fingerprint=project_print, use_cache=use_cache, sources=sources,
                            release=getattr(args, "release", False))
    if any(d.severity == "error" for d in diagnostics):
        sys.stdout.write(FORMATTERS["text"](diagnostics))
        print("paper: the check found errors; nothing was built or replaced", file=sys.stderr)
        return 1
    start = time.perf_counter()
    level = verbosity(args.quiet, args.verbose)
    try:
        with BuildProgress(level) as progress:
            outcome = build_unless_current(project, sources, project_print, editions=args.editions, formats=formats,
                                           out=out, jobs=args.jobs or os.cpu_count() or 1,
                                           report=progress, use_cache=use_cache)
    except BuildError as err:
        print(f"paper: {err}", file=sys.stderr)
        return 2
    except OutputError as err:
        print(f"paper: {err}; nothing was built, and the previous files were left as they were", file=sys.stderr)
        return 3
    built = outcome.built
    editions = len({b.edition for b in built})
    if built and level > QUIET:
        done = "are up to date" if outcome.reused else f"built in {time.perf_counter() - start:.1f} s"
        print(f"{len(built)} files of {editions} editions {done}: {_shown(out / 'index.html')}")
    if not outcome.failures:
        return 0
    for failure in outcome.failures:
        print(failure_line(failure), file=sys.stderr)
    failed = sum({"render": 1, "assemble": len(formats)}.get(f.stage, 0) for f in outcome.failures)
    if not built:
        print(f"paper: nothing was built; the previous files in {shown(out, project.root)} were left as they were",
              file=sys.stderr)
    elif failed:
        print(f"paper: {failed} of the {outcome.attempted} files could not be built; the others were built, "
              "and the previous files of the failed ones were left as they were", file=sys.stderr)
    return 3


FORMAT_NAMES = {"html": "HTML", "pdf": "PDF", "epub": "EPUB"}


def failure_line(failure: "Failure") -> str:
    """One plain line for a build failure: what failed (edition, format), why, what was kept."""
    name = FORMAT_NAMES.get(failure.format or "", (failure.format or "").upper())
    reason = failure.reason.removeprefix(f"{name}: ") if name else failure.reason
    if failure.stage == "render":
        return (f"paper: the {name} of edition '{failure.edition}' failed: {reason}; "
                "its previous file was left as it was")
    if failure.stage == "assemble":
        return (f"paper: edition '{failure.edition}' could not be put together: {reason}; "
                "its previous files were left as they were")
    if failure.stage == "publish":
        return f"paper: the landing page and manifest could not be written: {reason}"
    return f"paper: no edition could be built: {reason}"


def cmd_rules(args: argparse.Namespace) -> int:
    from pipeline.rules import RULES

    rows = [(r.code, r.severity, r.name, r.description) for r in RULES.values()]
    if args.format == "json":
        keys = ("code", "severity", "name", "description")
        print(json.dumps([dict(zip(keys, row)) for row in rows], indent=2))
    elif args.format == "markdown":
        print(rules_markdown())
    else:
        width = max(len(r[2]) for r in rows)
        for code, severity, name, description in rows:
            print(f"{code:<6}  {severity:<7}  {name:<{width}}  {description}")
    return 0


def rules_markdown() -> str:
    """The README's rule table, generated so that docs and code cannot drift apart."""
    from pipeline.rules import RULES

    lines = ["| code | default | name | what it checks |", "|---|---|---|---|"]
    for r in RULES.values():
        lines.append(f"| {r.code} | {r.severity} | `{r.name}` | {r.description.replace('|', '/')} |")
    return "\n".join(lines)


def cmd_init(args: argparse.Namespace) -> int:
    from pipeline.scaffold import init_project

    target = Path(args.dir)
    if (target / CONFIG_NAME).exists():
        print(f"paper: {target / CONFIG_NAME} already exists; not touching it", file=sys.stderr)
        return 1
    try:
        created = init_project(target)
    except OSError as err:
        print(f"paper: cannot create the project in {target}: {err.strerror or err}", file=sys.stderr)
        return 2
    for path in created:
        print(f"created {path}")
    print(f"Next: cd {target} && paper check")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from pipeline.cli import project_root

    root = project_root(args)
    if root is None:
        print(f"paper: no {CONFIG_NAME} found; nothing to clean", file=sys.stderr)
        return 2
    for name in ("build", ".cache"):
        folder = root / name
        if folder.is_symlink():
            folder.unlink()
        elif folder.exists():
            shutil.rmtree(folder)
            print(f"removed {os.path.relpath(folder)}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from pipeline.scaffold import run_new

    return run_new(args)


def cmd_status(args: argparse.Namespace) -> int:
    from pipeline.status import run_status

    return run_status(args)


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    from pipeline.cli import _parser

    print(shtab.complete(_parser(), shell=args.shell))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from pipeline.serve import run_serve

    return run_serve(args)


def cmd_editions(args: argparse.Namespace) -> int:
    from pipeline.status import run_editions

    return run_editions(args)
