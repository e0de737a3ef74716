"""The one place Pandoc runs: the binary that pypandoc-binary ships, never one from PATH."""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence


class RenderError(Exception):
    """A renderer failed; the message is one plain-words line for the user."""


@lru_cache(maxsize=1)
def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def run_pandoc(args: Sequence[str], *, cwd: Path, stdin: bytes | None = None,
               env: Mapping[str, str] | None = None, timeout: float = 600) -> bytes:
    """Run pandoc with ``args``; its stdout, or RenderError with pandoc's own first message."""
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    environment.update(env or {})
    try:
        done = subprocess.run(
            [pandoc_path(), *args], input=stdin, capture_output=True, cwd=cwd,
            env=environment, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"pandoc took longer than {timeout:.0f} s and was stopped") from None
    except OSError as err:
        raise RenderError(f"pandoc could not be started: {err.strerror or err}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError("pandoc failed: " + (message[0] if message else f"exit {done.returncode}"))
    return done.stdout
