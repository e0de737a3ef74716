"""Shared test helpers: fixture papers copied to a temporary folder and checked."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

# A test run started in the background (`make test &` from a script) inherits an ignored SIGINT,
# and so would every `paper` the tests start; the Ctrl-C tests need it as a terminal delivers it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
REALWORLD = ROOT.parent / "shared" / "realworld"


def realworld(*parts: str) -> Path:
    """Material written elsewhere, read in place; tests skip where shared/ is absent."""
    path = REALWORLD.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the real-world corpus lives in ../shared next to the clone")
    return path


@pytest.fixture
def make_paper(tmp_path: Path):
    """Copy a fixture paper (default: tests/fixtures/base) into tmp_path and return its root."""

    def make(name: str = "base") -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target, symlinks=True)
        return target

    return make



def assembled_editions(root: Path, work: Path, source_date: int = 0) -> dict[str, dict]:
    """Every edition of the paper at ``root``, put together (no render): {edition id: JSON doc}."""
    import json

    from pipeline.assemble import (
        assemble,
        csl_items,
        paper_targets,
        parse_all,
        plan_editions,
    )
    from pipeline.project import load_project
    from pipeline.sources.paper import load_sources

    project = load_project(root)
    sources = load_sources(project)
    parsed = parse_all(project, sources)
    plans = plan_editions(project, sources.chapters)
    paper = paper_targets(project, parsed, plans)
    items = csl_items(project, sources, parsed)
    work.mkdir(exist_ok=True)
    return {p.id: json.loads(assemble(p, project, sources, parsed, paper, items, source_date, work).ast)
            for p in plans}
