"""New projects and chapters from the built-in templates (``templates/new/``).

The built-in templates live in the repository's ``templates/`` folder, next to
the ``pipeline`` package; a paper project's own ``templates/`` overrides them.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from pipeline import BUILTIN_TEMPLATES


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES / "new")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        # Markdown labels look like Jinja comments ({#fig:x}); give comments another spelling
        comment_start_string="{##",
        comment_end_string="##}",
    )


def init_project(target: Path, title: str = "Untitled paper") -> list[Path]:
    """Write a paper project that checks clean; returns the files created."""
    env = _environment()
    files = {
        "paper.yml": env.get_template("paper.yml.j2").render(title=title),
        "chapters/01-introduction.md": env.get_template("chapter.md.j2").render(),
        "references.bib": env.get_template("references.bib.j2").render(),
        ".gitignore": "build/\n.cache/\n.venv/\n",
    }
    created = []
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            continue
        path.write_text(text, encoding="utf-8")
        created.append(path)
    for folder in ("case_studies", "figures"):
        (target / folder).mkdir(parents=True, exist_ok=True)
        keep = target / folder / ".gitkeep"
        if not keep.exists():
            keep.write_text("", encoding="utf-8")
    return created
