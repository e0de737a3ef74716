"""The one place Pandoc runs: the binary that pypandoc-binary ships, never one from PATH.

Every run has a time limit (PAPER_TIMEOUT seconds, default 300) and is stopped whole when it
runs past it; a failure, a crash or a timeout becomes one plain line that says which step
Pandoc was doing, so the build can name the chapter or the edition and format around it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

from pipeline.render.process import (
    TIMEOUT_ENV,
    BadTimeLimit,
    TimedOut,
    run_limited,
    seconds,
    signal_name,
    time_limit,
)

__all__ = ["RenderError", "pandoc_path", "run_pandoc", "step_name", "timeout_seconds"]

# What each writer makes, in the words a timeout or failure message uses.
WRITERS = {
    "html5": "writing the HTML page",
    "html": "writing the HTML page",
    "typst": "writing the Typst source of the PDF",
    "epub3": "writing the EPUB book",
    "epub": "writing the EPUB book",
    "csljson": "converting the bibliography",
}


class RenderError(Exception):
    """A renderer failed; the message is one plain-words line for the user."""


@lru_cache(maxsize=1)
def pandoc_path() -> str:
    """The pandoc inside pypandoc-binary: pypandoc's own search would prefer a newer one on PATH,
    whose output (and whose bugs) the pipeline was never tested with."""
    import pypandoc

    bundled = Path(pypandoc.__file__).resolve().parent / "files" / ("pandoc.exe" if os.name == "nt" else "pandoc")
    if not bundled.is_file():
        raise RenderError("the pandoc that pypandoc-binary ships is missing; run 'make setup' again")
    return str(bundled)


def timeout_seconds() -> float:
    """PAPER_TIMEOUT as seconds (default 300), or RenderError saying what is wrong with it."""
    try:
        return time_limit()
    except BadTimeLimit as err:
        raise RenderError(str(err)) from None


def step_name(args: Sequence[str]) -> str:
    """What a pandoc run does, from its arguments: a message must say which step failed or hung."""
    reader = _option(args, "-f", "--from")
    writer = _option(args, "-t", "--to")
    if "--citeproc" in args:
        return "formatting the citations"
    if reader and reader.startswith("markdown"):
        return "reading a chapter"
    if writer in WRITERS:
        return WRITERS[writer]
    return f"converting {reader or 'the document'} to {writer or 'another format'}"


def _option(args: Sequence[str], short: str, long: str) -> str | None:
    """The value of ``-t x`` / ``--to=x`` style options, the last one winning as in pandoc."""
    found = None
    for index, arg in enumerate(args):
        if arg in (short, long) and index + 1 < len(args):
            found = args[index + 1]
        elif arg.startswith(long + "="):
            found = arg.split("=", 1)[1]
    return found


def run_pandoc(args: Sequence[str], *, cwd: Path, stdin: bytes | None = None,
               env: Mapping[str, str] | None = None, timeout: float | None = None) -> bytes:
    """Run pandoc with ``args``; its stdout, or RenderError with pandoc's own first message.

    ``timeout`` defaults to PAPER_TIMEOUT (300 s).
    """
    limit = timeout_seconds() if timeout is None else timeout
    step = step_name(args)
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    environment.update(env or {})
    try:
        done = run_limited([pandoc_path(), *args], cwd=cwd, env=environment, timeout=limit, stdin=stdin)
    except TimedOut:
        raise RenderError(f"pandoc was still {step} after {seconds(limit)} and was stopped "
                          f"({TIMEOUT_ENV} sets the limit in seconds)") from None
    except OSError as err:
        raise RenderError(f"pandoc could not be started: {err.strerror or err}") from None
    if done.returncode < 0:
        raise RenderError(f"pandoc crashed ({signal_name(-done.returncode)}) while {step}")
    if done.returncode != 0:
        message = first_error(done.stderr.decode("utf-8", "replace")) or f"exit {done.returncode}"
        raise RenderError(f"pandoc failed while {step}: {message}")
    return done.stdout


def first_error(stderr: str) -> str:
    """Pandoc's first line that is not a [WARNING]/[INFO] note: it prints those before the error."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith(("[WARNING]", "[INFO]"))]
    return (errors or lines or [""])[0]
