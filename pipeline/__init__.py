"""The press for collaborative learning papers.

Data flows one way through the stages, one module or folder each:
``project`` (paper.yml) and ``sources`` (chapters, bibliography) load,
``rules`` validate, ``assemble`` builds editions, ``render`` writes formats,
``publish`` makes the landing page and manifest.
"""

from pathlib import Path

__version__ = "0.1.0"

# The built-in templates (Typst, HTML, EPUB, `paper init`), beside the package; a project's own
# templates/ overrides any of them file by file.
BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
