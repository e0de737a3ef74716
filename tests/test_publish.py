"""PUBLISH: the landing page links every artifact; the manifest matches the files byte for byte."""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from pipeline import publish as publish_module
from pipeline.publish import (Artifact, EditionResult, artifact, human_size, manifest, publish)

REPO = Path(__file__).resolve().parent.parent
PAPER = {
    "title": "A tiny <test> paper",
    "subtitle": "Networks & schools",
    "lang": "en-GB",
    "status": "draft",
    "date": "2023-11-14",
    "cite_as": "Itor, E. (Ed.). (2023). A tiny <test> paper. Example Network.",
    "editors": ["Ed Itor", "Bo Beispiel"],
}


def template(name: str) -> Path:
    return REPO / "templates" / name


class Links(HTMLParser):
    """Anchors (href and attributes), resources the browser would load, and the html element."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []
        self.resources: list[str] = []
        self.html: dict[str, str | None] = {}
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.html = found
        if tag == "a":
            self.anchors.append(found)
        elif found.get("href"):
            self.resources.append(found["href"] or "")
        if found.get("src"):
            self.resources.append(found["src"] or "")


@pytest.fixture
def build(tmp_path: Path) -> tuple[Path, list[EditionResult]]:
    """A build folder holding three editions' files, as the renderers would leave them."""
    out = tmp_path / "build"
    files = {
        "paper/index.html": b"<!DOCTYPE html><title>x</title>",
        "paper/paper.pdf": b"%PDF-1.7 " + b"x" * 1_234_567,
        "paper/paper.epub": b"PK" + b"y" * 34_000,
        "summary/summary.pdf": b"%PDF-1.7 summary",
        "case-study-alpha/index.html": b"<!DOCTYPE html><title>alpha</title>",
    }
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    editions = [
        EditionResult("paper", "Full paper", "paper", (
            artifact(out, out / "paper/paper.pdf", "pdf"),
            artifact(out, out / "paper/paper.epub", "epub"),
            artifact(out, out / "paper/index.html", "html"),
        )),
        EditionResult("summary", "Summary", "summary", (artifact(out, out / "summary/summary.pdf", "pdf"),)),
        EditionResult("case-study-alpha", "Case study: Alpha", "offprint",
                      (artifact(out, out / "case-study-alpha/index.html", "html"),)),
    ]
    return out, editions


def test_artifact_measures_path_size_and_sha256(build):
    out, _ = build
    item = artifact(out, out / "paper" / "paper.pdf", "pdf")
    data = (out / "paper" / "paper.pdf").read_bytes()
    assert item == Artifact("pdf", "paper/paper.pdf", len(data), hashlib.sha256(data).hexdigest())


def test_manifest_has_the_contract_shape(build):
    _, editions = build
    data = manifest(PAPER, editions)
    assert set(data) == {"paper", "editions"}
    assert data["paper"] == PAPER
    assert [e["id"] for e in data["editions"]] == ["paper", "summary", "case-study-alpha"]
    for edition in data["editions"]:
        assert set(edition) == {"id", "title", "artifacts"}
        for item in edition["artifacts"]:
            assert set(item) == {"format", "path", "bytes", "sha256"}
    assert [a["format"] for a in data["editions"][0]["artifacts"]] == ["html", "pdf", "epub"]


def test_publish_writes_manifest_that_matches_the_files(build):
    out, editions = build
    written = publish(out, PAPER, editions, template)
    assert written[:2] == [out / "index.html", out / "manifest.json"]
    assert all(path.is_file() for path in written)
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "editions"')
    data = json.loads(text)
    assert data == json.loads(json.dumps(manifest(PAPER, editions)))
    for edition in data["editions"]:
        for item in edition["artifacts"]:
            blob = (out / item["path"]).read_bytes()
            assert item["bytes"] == len(blob)
            assert item["sha256"] == hashlib.sha256(blob).hexdigest()


def test_landing_page_links_every_artifact_and_they_exist(build):
    out, editions = build
    publish(out, PAPER, editions, template)
    page = Links((out / "index.html").read_text(encoding="utf-8"))
    hrefs = {a["href"]: a for a in page.anchors}
    for edition in editions:
        for item in edition.artifacts:
            assert item.path in hrefs, f"{item.path} is not linked"
            link = hrefs[item.path]
            assert ("download" in link) == (item.format != "html"), "HTML opens, PDF/EPUB download"
    local = [h for h in list(hrefs) + page.resources if not h.startswith("#") and not urlsplit(h).scheme]
    assert [h for h in local if not (out / unquote(h)).is_file()] == []
    assert all(not urlsplit(r).scheme and not r.startswith("//") for r in page.resources)
    assert page.html.get("lang") == "en-GB"


def test_landing_page_shows_sizes_citation_and_escapes_text(build):
    out, editions = build
    publish(out, PAPER, editions, template)
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "1.2\u00a0MB" in text and "34\u00a0kB" in text
    assert "A tiny &lt;test&gt; paper" in text and "<test>" not in text
    assert "Networks &amp; schools" in text
    assert "How to cite" in text and "Ed Itor, Bo Beispiel" in text
    assert "Draft" in text
    assert 'name="viewport"' in text


def test_publish_is_deterministic_whatever_order_the_jobs_finished_in(build):
    out, editions = build
    publish(out, PAPER, editions, template)
    first = {name: (out / name).read_bytes() for name in ("index.html", "manifest.json")}
    shuffled = [EditionResult(e.id, e.title, e.kind, tuple(reversed(e.artifacts))) for e in editions]
    publish(out, PAPER, shuffled, template)
    assert {name: (out / name).read_bytes() for name in first} == first
    assert not list(out.glob(".*.tmp"))


def test_landing_words_follow_the_language(build):
    out, editions = build
    publish(out, {**PAPER, "lang": "de", "status": "approved"}, editions, template)
    text = (out / "index.html").read_text(encoding="utf-8")
    assert 'lang="de"' in text and "Ausgaben" in text and "Herunterladen" in text
    assert "1,2\u00a0MB" in text
    assert "badge-draft" not in text


def test_missing_optional_fields_render(build):
    out, editions = build
    publish(out, {"title": "Bare", "lang": "en"}, editions, template)
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "<title>Bare</title>" in text and "How to cite" not in text


@pytest.mark.parametrize("size, expected", [
    (0, "0 bytes"), (999, "999 bytes"), (1000, "1.0\u00a0kB"), (1500, "1.5\u00a0kB"),
    (12_345, "12\u00a0kB"), (999_999, "1.0\u00a0MB"), (1_234_567, "1.2\u00a0MB"),
    (45_600_000, "46\u00a0MB"), (3_000_000_000, "3.0\u00a0GB"),
])
def test_human_size(size, expected):
    assert human_size(size) == expected


def test_a_project_landing_template_cannot_run_python(tmp_path):
    """A pull request may override templates/html/landing.html; Jinja's sandbox keeps it to data."""
    from pipeline.render.pandoc import RenderError

    template = tmp_path / "landing.html"
    template.write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(RenderError, match="landing page template landing.html failed"):
        publish_module.render_landing(template, {})
