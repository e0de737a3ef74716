"""Shared fixture for the renderers: a Job built from sample.md, shaped like ASSEMBLE's output."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from pipeline.render.job import Job
from pipeline.render.pandoc import run_pandoc

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SAMPLE = HERE / "sample.md"
FIGURES = REPO / "tests" / "fixtures" / "base" / "figures"


def sample_ast(markdown: bytes | None = None) -> bytes:
    """The sample (or given) Markdown as Pandoc JSON, the form ASSEMBLE hands to every renderer."""
    source = SAMPLE.read_bytes() if markdown is None else markdown
    return run_pandoc(["-f", "markdown", "-t", "json"], cwd=HERE, stdin=source)


@pytest.fixture
def job_factory(tmp_path: Path) -> Callable[..., Job]:
    """Return make(edition_id, kind, source_date) -> Job over a project holding the fixture figures.

    The project lives in tmp_path/project (figures/diagram.png, figures/chart.svg); each Job gets
    its own out_dir (project/build/<edition_id>) and an empty work_dir. Templates and filters
    resolve to the repository's built-in ones.
    """
    root = tmp_path / "project"
    shutil.copytree(FIGURES, root / "figures")
    ast = sample_ast()

    def make(edition_id: str = "paper", kind: str = "paper", source_date: int = 1700000000) -> Job:
        work = tmp_path / "work" / edition_id
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        return Job(
            root=root,
            edition_id=edition_id,
            kind=kind,
            ast=ast,
            lang="en-GB",
            out_dir=root / "build" / edition_id,
            work_dir=work,
            source_date=source_date,
            template=lambda name: REPO / "templates" / name,
            filter=lambda name: REPO / "pipeline" / "filters" / name,
        )

    return make
