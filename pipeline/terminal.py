"""What a person at a terminal sees while `paper` works: progress, and how much of it.

Colour and moving bars only on an interactive terminal, never in CI or a pipe, where
they would turn logs into escape codes. ``--quiet`` keeps to what was asked for
(diagnostics, errors); ``--verbose`` adds a line per file and where time went.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.build import Built

QUIET, NORMAL, VERBOSE = -1, 0, 1


def verbosity(quiet: bool, verbose: bool) -> int:
    return QUIET if quiet else VERBOSE if verbose else NORMAL


def interactive(stream: IO[str]) -> bool:
    """A person is watching: a terminal, and not CI (whose logs are terminals that record)."""
    return not os.environ.get("CI") and hasattr(stream, "isatty") and stream.isatty()


class BuildProgress:
    """A progress bar for builds that take over a second; a line per file with --verbose.

    The bar starts only after ``delay`` seconds, so a build that is up to date or quick
    prints nothing but its result. It counts files as they are done (how many there will
    be is known only once the paper is read, and a build that is up to date reads nothing).
    """

    def __init__(self, level: int = NORMAL, stream: IO[str] | None = None, delay: float = 1.0):
        from rich.console import Console

        self.stream = stream or sys.stderr
        self.level = level
        self.console = Console(file=self.stream, highlight=False,
                               force_terminal=interactive(self.stream), no_color=not interactive(self.stream))
        self.done = 0
        self.bar = None
        self.task = None
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None
        if level >= NORMAL and interactive(self.stream):
            self.timer = threading.Timer(delay, self._start)
            self.timer.daemon = True

    def __enter__(self) -> "BuildProgress":
        if self.timer:
            self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.timer:
            self.timer.cancel()
        with self.lock:
            if self.bar is not None:
                self.bar.stop()
                self.bar = None

    def _start(self) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self.lock:
            if self.timer is None or self.bar is not None:
                return
            self.bar = Progress(SpinnerColumn(), TextColumn("Building"), BarColumn(bar_width=None, pulse_style="cyan"),
                                TextColumn("{task.completed} files"), TimeElapsedColumn(),
                                console=self.console, transient=True)
            self.task = self.bar.add_task("build", total=None, completed=self.done)
            self.bar.start()

    def __call__(self, built: "Built") -> None:
        from rich.markup import escape

        with self.lock:
            self.done += 1
            if self.bar is not None:
                self.bar.update(self.task, completed=self.done)
        if self.level >= VERBOSE:
            self.console.print(f"  [bold]{built.format:<4}[/]  {escape(str(built.path))}  "
                               f"[dim]({built.seconds:.1f} s)[/]", soft_wrap=True)
