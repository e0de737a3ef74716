"""PUBLISH: the landing page (`build/index.html`) and `build/manifest.json` over the built editions.

The landing page is what a reader opens first: every edition, every format, its size and a link,
and how to cite the paper. The manifest says the same to scripts, with a sha256 per artifact so a
download can be checked. Both are derived only from their inputs (no clock, no directory listing
order), so an unchanged build publishes byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from pipeline.assemble.i18n import language_name
from pipeline.render.files import write_atomic
from pipeline.render.html import STYLESHEET, labels
from pipeline.render.pandoc import RenderError

FORMAT_ORDER = ("html", "pdf", "epub")
FORMAT_NAMES = {"html": "HTML", "pdf": "PDF", "epub": "EPUB"}
MEDIA_TYPES = {"html": "text/html", "pdf": "application/pdf", "epub": "application/epub+zip"}
DECIMAL_COMMA = frozenset({"de", "fr", "fi", "es", "it", "nl", "pt", "sv", "da", "nb", "nn", "no",
                           "pl", "cs", "ru", "tr", "et", "lt", "lv", "hu", "sk", "sl", "hr", "ro"})

@dataclass(frozen=True)
class Artifact:
    format: str
    path: str  # relative to build/, posix
    bytes: int
    sha256: str


@dataclass(frozen=True)
class EditionResult:
    id: str
    title: str
    kind: str
    artifacts: tuple[Artifact, ...]
    lang: str | None = None  # a translation's language; None: the paper's own


def artifact(out_root: Path, file: Path, fmt: str) -> Artifact:
    """Measure a built file: its build/-relative path, size and sha256 (read in chunks)."""
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return Artifact(format=fmt, path=file.relative_to(out_root).as_posix(),
                    bytes=file.stat().st_size, sha256=digest.hexdigest())


def ordered(artifacts: Sequence[Artifact]) -> list[Artifact]:
    """HTML, PDF, EPUB, then anything else by name: the same order however the jobs finished."""
    def key(item: Artifact) -> tuple[int, str, str]:
        rank = FORMAT_ORDER.index(item.format) if item.format in FORMAT_ORDER else len(FORMAT_ORDER)
        return (rank, item.format, item.path)
    return sorted(artifacts, key=key)


def manifest(paper: dict, editions: Sequence[EditionResult]) -> dict:
    """The contract's manifest: {"paper": {...}, "editions": [{"id", "title", "artifacts": [...]}]}."""
    return {
        "paper": dict(paper),
        "editions": [
            {"id": edition.id, "title": edition.title,
             "artifacts": [{"format": a.format, "path": a.path, "bytes": a.bytes, "sha256": a.sha256}
                           for a in ordered(edition.artifacts)]}
            for edition in editions
        ],
    }


def manifest_bytes(data: dict) -> bytes:
    """Sorted keys, two-space indent, a trailing newline: stable and diff-friendly."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def human_size(size: int, lang: str = "en") -> str:
    """A size as a reader says it, in decimal units: '940 bytes', '12 kB', '1.2 MB' ('1,2 MB' in de)."""
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95:
            break
    text = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
    if primary(lang) in DECIMAL_COMMA:
        text = text.replace(".", ",")
    return f"{text}\u00a0{unit}"


def primary(lang: str) -> str:
    """The primary subtag of a BCP 47 tag ('en-GB' -> 'en')."""
    return (lang or "en").split("-", 1)[0].lower()


def landing_context(paper: dict, editions: Sequence[EditionResult]) -> dict[str, Any]:
    """Everything the landing template shows, computed here so the template stays declarative."""
    lang = str(paper.get("lang") or "en")
    words = labels(lang)
    shown = [edition_context(edition, lang, words) for edition in editions]
    return {
        "paper": {"title": str(paper.get("title") or ""), "subtitle": str(paper.get("subtitle") or ""),
                  "lang": lang, "date": str(paper.get("date") or ""),
                  "cite_as": str(paper.get("cite_as") or ""),
                  "editors": [str(name) for name in paper.get("editors") or ()],
                  "guide": str(paper.get("guide") or "")},
        "draft": str(paper.get("status") or "").strip().lower() == "draft",
        "labels": words,
        "stylesheet": f"assets/{STYLESHEET}",
        "editions": shown,
        "languages": language_groups(shown),
    }


def edition_context(edition: EditionResult, lang: str, words: dict[str, str]) -> dict[str, Any]:
    return {"id": edition.id, "title": edition.title, "kind": edition.kind, "lang": edition.lang or lang,
            "artifacts": [
                {"format": a.format, "name": FORMAT_NAMES.get(a.format, a.format.upper()),
                 "path": a.path, "size": human_size(a.bytes, lang), "sha256": a.sha256,
                 "type": MEDIA_TYPES.get(a.format, "application/octet-stream"),
                 "download": a.format != "html",
                 "action": words["read"] if a.format == "html" else words["download"]}
                for a in ordered(edition.artifacts)]}


def language_groups(editions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The editions (as edition_context gives them) by language, the paper's own first, each group
    named in its own language. One group (no translations) means no headings: the page looks as it
    always did.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for edition in editions:
        groups.setdefault(edition["lang"], []).append(edition)
    if len(groups) < 2:
        return []
    return [{"lang": code, "name": language_name(code), "editions": members} for code, members in groups.items()]


def render_landing(template_path: Path, context: dict[str, Any]) -> bytes:
    """The landing page from its Jinja2 template, autoescaped; unknown names are errors, not blanks.

    Sandboxed: a project may override the template, and a pull request must not be able to run
    Python through it (`{{ ''.__class__.__mro__ }}` and friends are refused).
    """
    env = SandboxedEnvironment(loader=FileSystemLoader(str(template_path.parent)), autoescape=True,
                      undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True)
    try:
        return env.get_template(template_path.name).render(**context).encode("utf-8")
    except TemplateError as err:
        raise RenderError(f"the landing page template {template_path.name} failed: {err}") from None


def publish(out_root: Path, paper: dict, editions: Sequence[EditionResult],
            template: Callable[[str], Path]) -> list[Path]:
    """Write the landing page, its stylesheet and the manifest into `out_root`; return their paths.

    `paper` holds title, subtitle, lang, status, date, cite_as (plain text) and editors (names).
    """
    stylesheet = out_root / "assets" / STYLESHEET
    page = out_root / "index.html"
    listing = out_root / "manifest.json"
    write_atomic(stylesheet, template(f"html/{STYLESHEET}").read_bytes())
    write_atomic(listing, manifest_bytes(manifest(paper, editions)))
    write_atomic(page, render_landing(template("html/landing.html"), landing_context(paper, editions)))
    return [page, listing, stylesheet]
