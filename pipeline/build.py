"""`paper build`: assemble every edition once, render each format, publish the landing page.

The only module that knows the order of the stages; each stage stays unaware of
the next. Artifacts are written whole (temporary file, then rename), so a
failed or interrupted build leaves the previous ones as they were.

Faults stay local: a renderer that fails, crashes or runs past PAPER_TIMEOUT costs
its own (edition, format) and nothing else; the build goes on, publishes the
landing page and manifest over whatever exists, and returns each failure. One
build at a time writes an output folder (a lock), and it starts by removing
what a killed build left there (temporary files, its scratch folder).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pipeline import BUILTIN_TEMPLATES
from pipeline.assemble import (
    Assembled,
    Plan,
    assemble,
    csl_items,
    language_view,
    paper_targets,
    parse_all,
    parse_translations,
    plan_editions,
)
from pipeline.assemble.document import iso_date, overall_status, paper_citation
from pipeline.cache import Cache, key, restore_files, save_files, sha256, tree_digest
from pipeline.project import Project
from pipeline.render.files import TEMPORARY, make_folder, recorded, stale_temporaries
from pipeline.render.job import Job
from pipeline.render.pandoc import RenderError, timeout_seconds
from pipeline.render.process import stop_all
from pipeline.sources.paper import Sources

FORMATS = ("html", "pdf", "epub")
FILTERS = Path(__file__).resolve().parent / "filters"


LOCK_NAME = ".lock"
SCRATCH_PREFIX = ".work-"
SCRATCH = re.compile(r"^\.work-[a-z0-9_]{8}$")  # tempfile.mkdtemp's 8 random characters


class BuildError(Exception):
    """A request that cannot be built (exit 2), e.g. an unknown edition."""


class BuildBusy(BuildError):
    """Another build holds the output folder's lock (exit 2): waiting could hang CI."""


class OutputError(Exception):
    """The output folder cannot be written at all (exit 3): read-only, full, or a file."""


@dataclass(frozen=True)
class Built:
    edition: str
    format: str
    path: Path
    seconds: float


@dataclass(frozen=True)
class Failure:
    """One part of the build that failed; everything else was still built.

    stage: 'read' (the chapters or bibliography, so every edition), 'assemble' (one edition),
    'render' (one edition in one format) or 'publish' (the landing page and manifest).
    """

    stage: str
    reason: str
    edition: str | None = None
    format: str | None = None


@dataclass
class Outcome:
    built: list[Built] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    attempted: int = 0  # (edition, format) pairs asked for
    reused: bool = False  # nothing had changed: the output folder was left as it was


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
          out: Path, jobs: int, report: Callable[[Built], None], use_cache: bool = True) -> Outcome:
    """Every requested edition in every requested format; each failure is collected, not raised.

    Raises BuildError (exit 2) for a bad request or a busy output folder, OutputError (exit 3)
    when the output folder cannot be written at all.
    """
    all_plans = plan_editions(project, sources.chapters)
    plans = choose(all_plans, editions)
    try:
        timeout_seconds()
    except RenderError as err:
        raise BuildError(str(err)) from None
    date = source_date(project.root)
    template = template_resolver(project.root)
    outcome = Outcome(attempted=len(plans) * len(formats))
    label = shown(out, project.root)
    with output_lock(out, label):
        clean_leftovers(out, [p.id for p in all_plans])
        with scratch_folder(out, label) as work:
            cache = Cache(project.root / ".cache" / "build") if use_cache else None
            render_all(project, sources, plans, formats, out, work, jobs, date, template, report, outcome, cache)
            if "html" in formats and project.guide:
                try:
                    render_guide(project, out, work, date, template, cache)
                except (RenderError, OSError) as err:
                    outcome.failures.append(Failure("render", reason(err, project.root, out, work), "guide", "html"))
        try:
            publish_all(project, sources.chapters, all_plans, out, date, template)
        except (RenderError, OSError) as err:
            outcome.failures.append(Failure("publish", reason(err, project.root, out, work)))
    return outcome


def build_unless_current(project: Project, load: Callable[[], Sources], fingerprint: str | None, *,
                         editions: list[str], formats: list[str], out: Path, jobs: int,
                         report: Callable[[Built], None], use_cache: bool = True) -> Outcome:
    """``build``, unless the output folder is exactly what a build of the same inputs left there.

    ``fingerprint`` is the project's (cache.project_fingerprint, with ``out`` left out of it).
    Then nothing is read, rendered or written: the sources are loaded only when a build runs.
    """
    cache = Cache(project.root / ".cache" / "build") if use_cache and fingerprint else None
    name = key("build", fingerprint or "", str(source_date(project.root)), "\0".join(editions),
               "\0".join(formats), str(out.resolve())) if cache else ""
    if cache and (current := up_to_date(cache, name, out)) is not None:
        for b in current.built:
            report(b)
        return current
    outcome = build(project, load(), editions=editions, formats=formats, out=out, jobs=jobs, report=report,
                    use_cache=use_cache)
    if cache and not outcome.failures:
        remember(cache, name, out, outcome)
    return outcome


def output_files(out: Path) -> dict[str, str] | None:
    """Every file a build leaves in ``out`` (not its lock or a running build's scratch), by content."""
    files: dict[str, str] = {}
    try:
        for path in sorted(out.rglob("*")):
            rel = path.relative_to(out)
            if rel.parts[0] == LOCK_NAME or SCRATCH.match(rel.parts[0]) or path.is_dir():
                continue
            if path.is_symlink() or not path.is_file():
                return None
            files[rel.as_posix()] = sha256(path.read_bytes())
    except OSError:
        return None
    return files


def remember(cache: Cache, name: str, out: Path, outcome: Outcome) -> None:
    files = output_files(out)
    if files is None:
        return
    built = [[b.edition, b.format, b.path.relative_to(out).as_posix()] for b in outcome.built
             if b.path.is_relative_to(out)]
    if len(built) != len(outcome.built):
        return
    record_ = {"files": files, "built": built, "attempted": outcome.attempted}
    cache.put_value(name, json.dumps(record_, sort_keys=True).encode("utf-8"))


def up_to_date(cache: Cache, name: str, out: Path) -> Outcome | None:
    """The recorded outcome, if ``out`` holds exactly the files that build left; else None."""
    raw = cache.get_value(name)
    if raw is None:
        return None
    try:
        record_ = json.loads(raw)
        files = {str(k): str(v) for k, v in record_["files"].items()}
        built = [Built(str(e), str(f), out / str(rel), 0.0) for e, f, rel in record_["built"]]
        attempted = int(record_["attempted"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if output_files(out) != files:
        return None
    return Outcome(built=built, attempted=attempted, reused=True)


def render_all(project: Project, sources: Sources, plans: list[Plan], formats: list[str], out: Path,
               work: Path, jobs: int, date: int, template: Callable[[str], Path],
               report: Callable[[Built], None], outcome: Outcome, cache: Cache | None = None) -> None:
    """Read once, assemble each edition, render each (edition, format); failures into ``outcome``."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            run_stages(pool, project, sources, plans, formats, out, work, date, template, report, outcome, cache)
        except BaseException:  # Ctrl-C: drop what has not started, stop what runs, then let it propagate
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise


def run_stages(pool: ThreadPoolExecutor, project: Project, sources: Sources, plans: list[Plan],
               formats: list[str], out: Path, work: Path, date: int, template: Callable[[str], Path],
               report: Callable[[Built], None], outcome: Outcome, cache: Cache | None = None) -> None:
    """The stages of render_all, on ``pool``."""

    def why(err: BaseException) -> str:
        return reason(err, project.root, out, work)

    # Every edition becomes one AST; what it was made from (the parsed chapters, in every language)
    # is gone when assemble_all returns, before the renderers' processes make the build's peak memory.
    assembled = assemble_all(pool, project, sources, plans, date, work, cache, why)
    if isinstance(assembled, Failure):
        outcome.failures.append(assembled)
        return
    outcome.failures += [a for a in assembled if isinstance(a, Failure)]

    templates = {fmt: tree_digest([BUILTIN_TEMPLATES / fmt, project.root / "templates" / fmt])
                 for fmt in formats} if cache else {}
    images = images_digests(project.root, assembled) if cache else {}

    def run(task: tuple[int, str]) -> list[Built] | Failure:
        index, fmt = task
        done = assembled[index]
        try:
            start = time.perf_counter()
            lang = done.plan.lang or project.lang
            name = key("render", fmt, done.plan.id, done.plan.kind, lang, str(date), templates[fmt],
                       images[index], done.ast) if images.get(index) is not None else None
            job = Job(project.root, done.plan.id, done.plan.kind, done.ast, lang, out / done.plan.id,
                      work / f"{done.plan.id}-{fmt}", date, template, lambda name: FILTERS / name)
            paths = render_cached(job, fmt, cache, name, out)
        except (RenderError, OSError) as err:
            return Failure("render", why(err), done.plan.id, fmt)
        seconds = time.perf_counter() - start
        built = [Built(done.plan.id, fmt, p, seconds) for p in paths]
        for b in built:
            report(b)
        return built

    tasks = [(i, fmt) for i, done in enumerate(assembled) if not isinstance(done, Failure) for fmt in formats]
    for result in pool.map(run, tasks):
        if isinstance(result, Failure):
            outcome.failures.append(result)
        else:
            outcome.built.extend(result)


def assemble_all(pool: ThreadPoolExecutor, project: Project, sources: Sources, plans: list[Plan], date: int,
                 work: Path, cache: Cache | None, why: Callable[[BaseException], str]) -> list | Failure:
    """Read every chapter and translation once, then assemble each edition (a Failure where one fails)."""
    try:
        parsed = parse_all(project, sources, naming_chapters(pool.map), cache)
        base = [p for p in plan_editions(project, sources.chapters) if p.lang is None]
        paper = paper_targets(project, parsed, base)
        langs = sorted({p.lang for p in plans if p.lang})
        translated = parse_translations(project, sources, parsed, naming_chapters(pool.map), cache) if langs else {}
        views = {lang: language_view(project, lang, parsed, translated.get(lang), base) for lang in langs}
        everything = {f"{lang}:{path}": p for lang, (mine, _full) in translated.items() for path, p in mine.items()}
        items = csl_items(project, sources, {**parsed, **everything}, cache)
    except (RenderError, OSError) as err:
        return Failure("read", why(err))

    def put_together(plan: Plan) -> Assembled | Failure:
        view = views.get(plan.lang or "")
        try:
            if view is None:
                return assemble(plan, project, sources, parsed, paper, items, date, work, cache)
            return assemble(plan, view.project, sources, view.parsed, view.paper, items, date, work, cache)
        except (RenderError, OSError) as err:
            return Failure("assemble", why(err), plan.id)

    return list(pool.map(put_together, plans))


def render_guide(project: Project, out: Path, work: Path, date: int, template: Callable[[str], Path],
                 cache: Cache | None) -> list[Path]:
    """The writer's guide (paper.yml ``guide``) as the HTML site's page ``guide/index.html``.

    Read like a chapter (same reader, same sanitiser, images relative to its file) and written by
    the same HTML renderer, so it looks like the editions and carries nothing unsafe either.
    """
    from pipeline.assemble import guide_document, parse_cached
    from pipeline.sources.chapters import load_chapter

    chapter = load_chapter(project.root, project.guide or "", "guide", project.rules.max_file_kb * 1024)
    unreadable = [p for p in chapter.problems if p.code.startswith("SRC")]  # front matter is optional here
    if unreadable:
        problem = unreadable[0]
        raise RenderError(f"the writer's guide {chapter.path}:{problem.line}:{problem.col}: {problem.message}")
    ast = guide_document(parse_cached(project, chapter, cache), project.lang)
    assembled = Assembled(Plan("guide", "guide", None, (chapter.path,)), ast)
    images = images_digests(project.root, [assembled]).get(0) if cache else None
    name = key("guide", ast, tree_digest([BUILTIN_TEMPLATES / "html", project.root / "templates" / "html"]),
               images, project.lang, str(date)) if cache and images is not None else None
    job = Job(project.root, "guide", "guide", ast, project.lang, out / "guide", work / "guide-html", date,
              template, lambda name: FILTERS / name)
    return render_cached(job, "html", cache, name, out)


def render_cached(job: Job, fmt: str, cache: Cache | None, name: str | None, out: Path) -> list[Path]:
    """Render ``job`` in ``fmt``, or put back the files a render under the same key ``name`` wrote."""
    paths = restore_files(cache, name, out) if cache and name else None
    if paths is not None:
        return paths
    job.work_dir.mkdir()
    paths, written = recorded(render_one, job, fmt)
    if cache and name:
        save_files(cache, name, out, written, paths)
    return paths


def images_digests(root: Path, assembled: list) -> dict[int, str | None]:
    """Per assembled edition, the names and contents of the images it shows, each file read once.

    None (that edition is not cached) when an image cannot be read: the renderer will say why.
    """
    from pipeline.render.images import image_sources, resolve_image

    files: dict[str, str] = {}
    out: dict[int, str | None] = {}
    for index, done in enumerate(assembled):
        if isinstance(done, Failure):
            continue
        try:
            for src in (sources := image_sources(json.loads(done.ast))):
                if src not in files:
                    files[src] = sha256(resolve_image(root, src).read_bytes())
            out[index] = "\n".join(f"{src}={files[src]}" for src in sources)
        except (ValueError, RenderError, OSError):
            out[index] = None
    return out


def naming_chapters(map_fn: Callable) -> Callable:
    """``map_fn`` for parse_all, with the chapter's path put in front of a failure's message."""

    def mapped(parse: Callable, chapters: Iterable) -> Iterator:
        def one(chapter):
            try:
                return parse(chapter)
            except RenderError as err:
                text = str(err)
                raise RenderError(text if text.startswith(chapter.path) else f"{chapter.path}: {text}") from None

        return map_fn(one, chapters)

    return mapped


def reason(err: BaseException, root: Path, out: Path, work: Path | None = None) -> str:
    """A failure in plain words; an OSError names the file, as the author would type its path."""
    if not isinstance(err, OSError):
        return str(err)
    what = err.strerror or str(err)
    if not err.filename:
        return what
    path = Path(os.fsdecode(err.filename))
    if work is not None and path.is_relative_to(work):
        return f"cannot write a temporary file in {shown(out, root)}: {what}"
    if path.is_relative_to(out):
        return f"cannot write {shown(path, root)}: {what}"
    return f"cannot use {shown(path, root)}: {what}"


def shown(path: Path, root: Path) -> str:
    """``path`` relative to the project when inside it ('build/paper/paper.pdf'), else absolute."""
    absolute = path if path.is_absolute() else root / path
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return str(absolute)


@contextlib.contextmanager
def output_lock(out: Path, label: str) -> Iterator[None]:
    """Hold ``out/.lock`` for the whole build; BuildBusy at once if another build holds it.

    flock, not a PID file: the kernel releases it when the holder exits, even by SIGKILL, so a
    killed build never leaves a stale lock. The file stays (removing it would race a waiting
    build); it is empty, so a rebuild still gives byte-identical output folders.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, one build at a time is on the user
        yield
        return
    lock = out / LOCK_NAME
    try:
        make_folder(out)
        fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as err:
        raise OutputError(f"cannot write {label}: {err.strerror or err}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildBusy(f"another build is running in {label} (it holds {label}/{LOCK_NAME}); "
                            "wait for it to finish, or build into another folder with --out") from None
        yield
    finally:
        os.close(fd)


def clean_leftovers(out: Path, edition_ids: Iterable[str]) -> list[Path]:
    """Remove what a killed build left in ``out``: write_atomic's temporary files, scratch folders.

    Only where a build writes (``out`` itself, its assets/ and each edition's folder), and only
    names of our own making, so an --out folder shared with other files keeps them. What cannot
    be removed stays (a read-only folder is reported when the build first writes to it).
    """
    top = entries(out)
    scratch = [e for e in top if SCRATCH.match(e.name) and e.is_dir() and not e.is_symlink()]
    stale = [e for e in top if TEMPORARY.match(e.name) and e.is_file()]
    for folder in (out / "assets", *(out / edition for edition in edition_ids)):
        if folder.is_dir() and not folder.is_symlink():
            stale += stale_temporaries(folder)
    removed = []
    for path in scratch + stale:
        try:
            if path in scratch:
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def entries(folder: Path) -> list[Path]:
    """The folder's entries; none if it is missing or unreadable."""
    try:
        return list(folder.iterdir())
    except OSError:
        return []


@contextlib.contextmanager
def scratch_folder(out: Path, label: str) -> Iterator[Path]:
    """A scratch folder inside ``out`` (so a killed build's is found and removed by the next one).

    Creating it is also the first write into ``out``: a read-only or full folder stops the build
    here with one message rather than a failure per file.
    """
    try:
        folder = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=out))
    except OSError as err:
        raise OutputError(f"cannot write {label}: {err.strerror or err}") from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def publish_all(project: Project, chapters: list, plans: list[Plan], out: Path, date: int,
                template) -> list[Path]:
    """The landing page and manifest list every artifact present, built now or before."""
    from pipeline.assemble.editions import display_title
    from pipeline.assemble.i18n import terms
    from pipeline.publish import EditionResult, artifact, publish

    editions = []
    for plan in plans:
        found = [artifact(out, out / artifact_name(plan.id, fmt), fmt)
                 for fmt in FORMATS if (out / artifact_name(plan.id, fmt)).is_file()]
        if found:
            title = display_title(plan, chapters, terms(plan.lang or project.lang))
            editions.append(EditionResult(plan.id, title, plan.kind, tuple(found), plan.lang))
    status = overall_status(str(ch.meta.get("status", "draft")) for ch in chapters)
    paper = {"title": project.title, "subtitle": project.subtitle, "lang": project.lang,
             "date": iso_date(date), "editors": [p.name for p in project.editors], "status": status,
             "cite_as": paper_citation(project, iso_date(date)[:4]),
             "guide": "guide/index.html" if project.guide and (out / "guide/index.html").is_file() else ""}
    return publish(out, paper, editions, template)


__all__ = ["BuildBusy", "BuildError", "Built", "Failure", "Outcome", "OutputError", "RenderError", "build",
           "parse_formats", "safe_out"]
