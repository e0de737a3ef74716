"""`paper build`: assemble every edition once, render each format, publish the landing page.

The only module that knows the order of the stages; each stage stays unaware of
the next. Artifacts are written whole (temporary file, then rename), so a
failed or interrupted build leaves the previous ones as they were.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.assemble import (
    Plan,
    assemble,
    csl_items,
    paper_targets,
    parse_all,
    plan_editions,
    scratch,
)
from pipeline.assemble.document import iso_date, title_with_subtitle
from pipeline.project import Project
from pipeline.render.job import Job
from pipeline.render.pandoc import RenderError
from pipeline.sources.paper import Sources

FORMATS = ("html", "pdf", "epub")
FILTERS = Path(__file__).resolve().parent / "filters"
BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class BuildError(Exception):
    """A request that cannot be built (exit 2), e.g. an unknown edition."""


@dataclass(frozen=True)
class Built:
    edition: str
    format: str
    path: Path
    seconds: float


def artifact_name(edition_id: str, fmt: str) -> str:
    return f"{edition_id}/index.html" if fmt == "html" else f"{edition_id}/{edition_id}.{fmt}"


def source_date(root: Path) -> int:
    """SOURCE_DATE_EPOCH, else the last commit's date: the same sources give the same bytes."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value.isdigit():
        return int(value)
    try:
        done = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%ct"],
                              capture_output=True, text=True, timeout=10, check=False)
        if done.returncode == 0 and done.stdout.strip().isdigit():
            return int(done.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    return 0


def template_resolver(root: Path) -> Callable[[str], Path]:
    """A project's templates/<name> overrides the built-in one, if it stays inside the project."""

    def find(name: str) -> Path:
        local = root / "templates" / name
        if local.is_file() and local.resolve().is_relative_to(root.resolve()):
            return local
        return BUILTIN_TEMPLATES / name

    return find


def choose(plans: list[Plan], wanted: list[str]) -> list[Plan]:
    if not wanted:
        return plans
    known = {p.id: p for p in plans}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise BuildError(f"no edition called {', '.join(repr(u) for u in unknown)}; "
                         f"the editions are: {', '.join(known)}")
    return [known[w] for w in dict.fromkeys(wanted)]


def parse_formats(value: str | None) -> list[str]:
    if not value:
        return list(FORMATS)
    chosen = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise BuildError(f"unknown format {', '.join(map(repr, unknown)) or repr(value)}; "
                         f"choose from {', '.join(FORMATS)}")
    return list(dict.fromkeys(chosen))


def safe_out(root: Path, out: Path) -> Path:
    """Never write into the sources: the output folder may not be the project or hold it."""
    out = out if out.is_absolute() else root / out
    resolved = out.resolve()
    if resolved == root.resolve() or root.resolve().is_relative_to(resolved):
        raise BuildError(f"--out {out} would write over the project; choose a folder such as build/")
    for folder in ("chapters", "case_studies", "figures", "templates"):
        if resolved.is_relative_to((root / folder).resolve()):
            raise BuildError(f"--out {out} is inside the project's {folder}/; choose a folder such as build/")
    return out


def render_one(job: Job, fmt: str) -> list[Path]:
    module = importlib.import_module(f"pipeline.render.{fmt}")
    return module.render(job)


def build(project: Project, sources: Sources, *, editions: list[str], formats: list[str],
          out: Path, jobs: int, report: Callable[[Built], None]) -> list[Built]:
    """Every requested edition in every requested format; RenderError stops with the first failure."""
    plans = choose(plan_editions(project, sources.chapters), editions)
    date = source_date(project.root)
    template = template_resolver(project.root)
    results: list[Built] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, scratch() as tmp:
        work = Path(tmp)
        parsed = parse_all(project, sources, pool.map)
        paper = paper_targets(project, parsed, plan_editions(project, sources.chapters))
        items = csl_items(project, sources, parsed)
        assembled = list(pool.map(
            lambda plan: assemble(plan, project, sources, parsed, paper, items, date, work), plans))

        def run(task: tuple[int, str]) -> list[Built]:
            index, fmt = task
            done = assembled[index]
            job_dir = work / f"{done.plan.id}-{fmt}"
            job_dir.mkdir()
            job = Job(project.root, done.plan.id, done.plan.kind, done.ast, project.lang,
                      out / done.plan.id, job_dir, date, template, lambda name: FILTERS / name)
            start = time.perf_counter()
            paths = render_one(job, fmt)
            seconds = time.perf_counter() - start
            built = [Built(done.plan.id, fmt, p, seconds) for p in paths]
            for b in built:
                report(b)
            return built

        tasks = [(i, fmt) for i in range(len(assembled)) for fmt in formats]
        for built in pool.map(run, tasks):
            results.extend(built)
    statuses = {ch.meta.get("status", "draft") for ch in sources.chapters}
    publish_all(project, sources.chapters, plan_editions(project, sources.chapters), out, date, template,
                "draft" if "draft" in statuses else "review" if "review" in statuses else "approved")
    return results


def publish_all(project: Project, chapters: list, plans: list[Plan], out: Path, date: int,
                template, status: str = "draft") -> list[Path]:
    """The landing page and manifest list every artifact present, built now or before."""
    from pipeline.assemble.editions import display_title
    from pipeline.assemble.i18n import terms
    from pipeline.publish import EditionResult, artifact, publish

    words = terms(project.lang)
    editions = []
    for plan in plans:
        found = [artifact(out, out / artifact_name(plan.id, fmt), fmt)
                 for fmt in FORMATS if (out / artifact_name(plan.id, fmt)).is_file()]
        if found:
            title = display_title(plan, chapters, words)
            editions.append(EditionResult(plan.id, title, plan.kind, tuple(found)))
    names = [p.name for p in project.editors]
    paper = {"title": project.title, "subtitle": project.subtitle, "lang": project.lang,
             "date": iso_date(date), "editors": names, "status": status,
             "cite_as": f"{', '.join(names)} ({iso_date(date)[:4]}). {title_with_subtitle(project)}."}
    return publish(out, paper, editions, template)


def progress_printer(stream=None) -> Callable[[Built], None]:
    """One line per artifact on a terminal; nothing in CI or when piped."""
    stream = stream or sys.stderr
    quiet = bool(os.environ.get("CI")) or not stream.isatty()

    def report(b: Built) -> None:
        if not quiet:
            print(f"  {b.format:<4}  {b.path}  ({b.seconds:.1f} s)", file=stream, flush=True)

    return report


__all__ = ["BuildError", "Built", "RenderError", "build", "parse_formats", "progress_printer", "safe_out"]
