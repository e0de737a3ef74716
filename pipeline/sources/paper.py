"""The whole paper's sources, in reading order."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.project import Project
from pipeline.sources.bibliography import Bibliography, load_bibliography
from pipeline.sources.chapters import Chapter, load_chapter
from pipeline.sources.translations import Translation, load_translations, split_name

CHAPTER_DIRS = (("chapters", "chapter"), ("case_studies", "case-study"))
CHAPTER_SUFFIXES = (".md",)


@dataclass
class Sources:
    chapters: list[Chapter]
    bibliography: Bibliography
    translations: list[Translation] = field(default_factory=list)


def kind_of(rel: str) -> str:
    return "case-study" if rel.startswith("case_studies/") else "chapter"


def is_chapter_file(rel: str, project: Project) -> bool:
    """A file of chapters/ or case_studies/ that is a chapter: Markdown, not set aside as a draft
    ('_x.md') or hidden, and not a translation of one ('intro.de.md')."""
    name = rel.rpartition("/")[2]
    return name.endswith(CHAPTER_SUFFIXES) and not name.startswith((".", "_")) \
        and split_name(rel, project.translation_langs) is None


def chapter_paths(project: Project) -> list[str]:
    """Reading order: paper.yml ``contents``, else each folder sorted by file name."""
    if project.contents is not None:
        return list(project.contents)
    paths: list[str] = []
    for folder, _kind in CHAPTER_DIRS:
        base = project.root / folder
        if not base.is_dir():
            continue
        names = sorted(p.name for p in base.iterdir() if is_chapter_file(f"{folder}/{p.name}", project))
        paths.extend(f"{folder}/{name}" for name in names)
    return paths


def load_sources(project: Project) -> Sources:
    limit = project.rules.max_file_kb * 1024
    chapters = [load_chapter(project.root, rel, kind_of(rel), limit) for rel in chapter_paths(project)]
    bib_files = [project.root / rel for rel in project.bibliography]
    return Sources(chapters, load_bibliography(bib_files, project.root), load_translations(project, chapters, limit))
