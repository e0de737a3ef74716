"""Images an edition may use: files inside the project, checked before any renderer reads them.

One place for the rules, because a renderer that copies (HTML) or embeds (EPUB, PDF)
an image must never be led to a file outside the project, by '..', an absolute
path, a URL or a symbolic link.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from pipeline.assemble.ast import elements
from pipeline.render.pandoc import RenderError

IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


def image_sources(doc: dict) -> list[str]:
    """Each Image's src once, in document order."""
    found = (element["c"][2][0] for element in elements(doc.get("blocks", [])) if element["t"] == "Image")
    return list(dict.fromkeys(found))


def image_relpath(src: str) -> str:
    """The project-relative posix path ``src`` names, or RenderError saying why it is refused."""
    path = re.sub(r"[?#].*$", "", src)
    for text in dict.fromkeys((path, unquote(path))):
        problem = path_problem(text)
        if problem:
            raise RenderError(f"image '{src}' {problem}; images must be files inside the project")
    relative = unquote(path)
    if PurePosixPath(relative).suffix.lower() not in IMAGE_TYPES:
        raise RenderError(f"image '{src}' is not a PNG, JPEG, GIF, WebP or SVG file")
    return relative


def resolve_image(root: Path, src: str) -> Path:
    """The file `src` names inside the project, or RenderError saying why it is refused.

    The same rules as media.lua, plus what Lua cannot check: a symbolic link anywhere on the
    path must not lead out of the project. Runs before pandoc, so a refused file is never read.
    """
    relative = image_relpath(src)
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        raise RenderError(f"image '{src}' leads outside the project through a link; copy the file into the project")
    if not target.is_file():
        raise RenderError(f"image '{src}' does not exist in the project")
    return target


def path_problem(path: str) -> str | None:
    """None when path is a plain relative POSIX path that stays inside the root."""
    if not path:
        return "is empty"
    if SCHEME.match(path):
        return "is not a file in the project (it names a scheme or a host)"
    if path.startswith("/"):
        return "is an absolute path"
    if "\\" in path:
        return "contains a backslash; use '/' between folders"
    if "\x00" in path:
        return "contains a NUL byte"
    segments = path.split("/")
    if ".." in segments:
        return "climbs out with '..'"
    if "" in segments:
        return "has an empty folder name ('//')"
    return None
