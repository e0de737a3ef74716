"""What a renderer is given: one edition's finished AST and where to put its files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Job:
    root: Path  # project root: pandoc runs here and images resolve against it
    edition_id: str
    kind: str  # 'paper' | 'summary' | 'offprint' | 'custom'
    ast: bytes  # Pandoc JSON AST: chapters merged, citations and cross-references resolved
    lang: str
    out_dir: Path  # build/<edition_id>/
    work_dir: Path  # an empty scratch folder, deleted afterwards
    source_date: int  # SOURCE_DATE_EPOCH: every timestamp in an artifact comes from it
    template: Callable[[str], Path]  # 'pdf/paper.typ' -> project override or built-in file
    filter: Callable[[str], Path]  # 'media.lua' -> pipeline/filters/media.lua

    def document(self) -> dict:
        """The AST as a dict; a RenderError (not a traceback) if it is not Pandoc JSON."""
        from pipeline.render.pandoc import RenderError

        try:
            doc = json.loads(self.ast)
        except (UnicodeDecodeError, ValueError):
            doc = None
        if not isinstance(doc, dict) or "blocks" not in doc:
            raise RenderError(f"the document of edition '{self.edition_id}' is not Pandoc JSON")
        return doc
