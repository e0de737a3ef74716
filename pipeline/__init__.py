"""The press for collaborative learning papers.

Data flows one way through the stages, one module or folder each:
``project`` (paper.yml) and ``sources`` (chapters, bibliography) load,
``rules`` validate, ``assemble`` builds editions, ``render`` writes formats,
``publish`` makes the landing page and manifest.
"""

__version__ = "0.1.0"
