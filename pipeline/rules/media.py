"""Images and links: files exist inside the project, images describe themselves."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Iterable
from urllib.parse import unquote

from pipeline.rules.context import Context, suggest
from pipeline.rules.registry import Hit, rule
from pipeline.sources.chapters import Chapter

SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")
# the formats every output (HTML, EPUB 3 core media types, Typst) can show
MAGIC = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
}


def _is_remote(src: str) -> bool:
    return bool(SCHEME.match(src)) and not re.match(r"^[A-Za-z]:[\\/]", src)


def locate(ctx: Context, ch: Chapter, src: str) -> tuple[str, Path | None]:
    """('ok'|'outside'|'missing', the file). Paths are relative to the chapter's file."""
    raw = src.split("#", 1)[0].split("?", 1)[0]
    if not raw:
        return "missing", None
    if raw.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", raw):
        return "outside", None
    root = ctx.project.root.resolve()
    base = PurePosixPath(ch.path).parent
    for candidate in dict.fromkeys((raw, unquote(raw))):
        rel = PurePosixPath(base, candidate.replace("\\", "/"))
        lexical = (ctx.project.root / rel).absolute()
        # '..' that climbs above the project, or a link that points out of it
        depth = 0
        for part in rel.parts:
            depth += -1 if part == ".." else (0 if part == "." else 1)
            if depth < 0:
                return "outside", None
        if lexical.exists() or lexical.is_symlink():
            resolved = lexical.resolve()
            if not resolved.is_relative_to(root):
                return "outside", None
            if resolved.is_file():
                return "ok", resolved
    return "missing", None


def _missing_hint(ctx: Context, ch: Chapter, src: str) -> str:
    """Authors often get the case or the folder wrong; name the file they probably meant."""
    name = PurePosixPath(unquote(src)).name
    names = {PurePosixPath(p).name: p for p in ctx.project_files}
    best = suggest(name, names)
    if best is None:
        return ""
    rel = PurePosixPath(*([".."] * len(PurePosixPath(ch.path).parent.parts)), names[best])
    return f"; did you mean '{rel.as_posix()}'?"


def _image_problem(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".svg":
        with path.open("rb") as handle:
            head = handle.read(4096).lower()
        return None if b"<svg" in head else "the file is not an SVG image"
    if suffix not in MAGIC:
        return f"'{suffix or 'no extension'}' images are not supported; use PNG, JPEG, GIF, WebP or SVG"
    with path.open("rb") as handle:
        head = handle.read(16)
    if not any(head.startswith(m) for m in MAGIC[suffix]):
        return f"the file's content is not a {suffix[1:].upper()} image; export it again"
    return None


def _local_images(ctx: Context):
    for ch in ctx.chapters:
        for image in ch.scan.images:
            if not _is_remote(image.src):
                yield ch, image


@rule("IMG001", "image-missing", "error", "an image's file exists (paths are relative to the chapter's file)")
def image_missing(ctx: Context) -> Iterable[Hit]:
    for ch, image in _local_images(ctx):
        if locate(ctx, ch, image.src)[0] == "missing":
            yield Hit(ch.path, image.line, image.col,
                      f"image file '{image.src}' not found{_missing_hint(ctx, ch, image.src)}")


@rule("IMG002", "image-outside", "error", "an image is inside the project (no absolute path, no '..' out, no link out)")
def image_outside(ctx: Context) -> Iterable[Hit]:
    for ch, image in _local_images(ctx):
        if locate(ctx, ch, image.src)[0] == "outside":
            yield Hit(ch.path, image.line, image.col,
                      f"image '{image.src}' is outside the project; copy it into figures/ and use a relative path")


@rule("IMG003", "image-format", "error", "an image is a PNG, JPEG, GIF, WebP or SVG file whose content matches its name")
def image_format(ctx: Context) -> Iterable[Hit]:
    for ch, image in _local_images(ctx):
        status, path = locate(ctx, ch, image.src)
        if status == "ok" and path is not None:
            problem = _image_problem(path)
            if problem:
                yield Hit(ch.path, image.line, image.col, f"image '{image.src}': {problem}")


@rule("IMG004", "image-alt", "error", "an image has alt text: ![description](file) or fig-alt=\"...\"")
def image_alt(ctx: Context) -> Iterable[Hit]:
    for ch in ctx.chapters:
        for image in ch.scan.images:
            if not image.alt.strip() and not str(image.attrs.get("fig-alt", "")).strip():
                yield Hit(ch.path, image.line, image.col,
                          f"image '{image.src}' has no alt text; describe it for readers who cannot see it: "
                          f"![What the image shows]({image.src})")


@rule("IMG005", "image-remote", "error",
      "an image is a file in the project, not a web address (unless paper.yml allow.remote_images)")
def image_remote(ctx: Context) -> Iterable[Hit]:
    if ctx.project.allow.remote_images:  # the editors accept images the reader's browser fetches
        return
    for ch in ctx.chapters:
        for image in ch.scan.images:
            if _is_remote(image.src):
                yield Hit(ch.path, image.line, image.col,
                          f"image '{image.src[:80]}' is not a file in the project; download it into figures/ "
                          "(builds run offline, and paper.yml does not allow remote images)")


@rule("LNK001", "internal-link", "error", "an internal link (#anchor or a relative file) reaches its target")
def internal_link(ctx: Context) -> Iterable[Hit]:
    for ch in ctx.chapters:
        for link in ch.scan.links:
            url = link.url.strip()
            if not url or _is_remote(url):
                continue
            if url.startswith("#"):
                anchor = unquote(url[1:])
                if anchor and anchor not in ctx.anchors:
                    hint = suggest(anchor, ctx.anchors)
                    yield Hit(ch.path, link.line, link.col,
                              f"link target '#{anchor}' is not an id in the paper"
                              f"{f'; did you mean #{hint}?' if hint else ''}")
                elif anchor not in ctx.labels and _ambiguous(ctx, ch, anchor):
                    yield Hit(ch.path, link.line, link.col,
                              f"'#{anchor}' is the automatic id of a heading in several chapters; give the "
                              f"heading you mean an id ({{#sec:{anchor}}}) and link to that")
                continue
            status, _ = locate(ctx, ch, url)
            if status == "outside":
                yield Hit(ch.path, link.line, link.col, f"link '{url}' points outside the project")
            elif status == "missing":
                yield Hit(ch.path, link.line, link.col,
                          f"link '{url}' points to a file that does not exist{_missing_hint(ctx, ch, url)}")


def _ambiguous(ctx: Context, ch, anchor: str) -> bool:
    """A link to another chapter's automatic heading id that more than one chapter generates."""
    own = {h.auto_id for h in ch.scan.headings if h.id is None}
    if anchor in own:
        return False
    return sum(anchor in {h.auto_id for h in other.scan.headings if h.id is None} for other in ctx.chapters) > 1


@rule("LNK002", "insecure-link", "warning", "web links use https:// rather than http://")
def insecure_link(ctx: Context) -> Iterable[Hit]:
    for ch in ctx.chapters:
        for link in ch.scan.links:
            if link.url.strip().lower().startswith("http://"):
                yield Hit(ch.path, link.line, link.col,
                          f"link '{link.url[:80]}' uses http://; use https:// if the site offers it")
