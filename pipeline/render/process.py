"""Child programs (Pandoc, Typst) with a time limit that stops them whole.

A renderer must never hang CI or outlive the build: each program runs in its own process
group, and when its time is up, or the build is interrupted, the whole group is killed, so
helpers it started (a wrapper script's children) go with it.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

TIMEOUT_ENV = "PAPER_TIMEOUT"
DEFAULT_TIMEOUT = 300.0

# Programs running now, so an interrupted build can stop them: in their own process groups they
# do not receive the terminal's Ctrl-C.
_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()


class TimedOut(Exception):
    """The program ran past its time limit and was killed."""


class BadTimeLimit(ValueError):
    """PAPER_TIMEOUT holds something that is not a positive number of seconds."""


@dataclass(frozen=True)
class Finished:
    returncode: int  # negative: killed by that signal (a crash)
    stdout: bytes
    stderr: bytes


def time_limit(environ: Mapping[str, str] | None = None) -> float:
    """Seconds one Pandoc or Typst run may take: PAPER_TIMEOUT, else 300.

    Read at each run, so a test or a CI job can lower it without touching paper.yml.
    """
    raw = (os.environ if environ is None else environ).get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise BadTimeLimit(f"{TIMEOUT_ENV} must be a number of seconds above 0, not '{raw}'")
    return value


def seconds(value: float) -> str:
    """A time limit as people write it: '300 s', '0.5 s'."""
    return f"{value:g} s"


def run_limited(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float,
                stdin: bytes | None = None) -> Finished:
    """Run ``argv`` to the end, or kill its process group after ``timeout`` seconds (TimedOut).

    Output is captured whole; the program never reads the terminal (stdin is empty unless given).
    """
    with subprocess.Popen(
        list(argv), cwd=cwd, env=dict(env), start_new_session=True,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as process:
        with _running_lock:
            _running.add(process)
        try:
            out, err = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            raise TimedOut(timeout) from None
        except BaseException:  # interrupted (Ctrl-C) or failed: never leave the program running
            kill_group(process)
            raise
        finally:
            with _running_lock:
                _running.discard(process)
    return Finished(process.returncode, out, err)


def stop_all() -> None:
    """Kill every program that run_limited is waiting for, in any thread: the build was interrupted."""
    with _running_lock:
        running = list(_running)
    for process in running:
        kill_group(process)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the program and everything in its process group, then reap it."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows has no process groups of this kind
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def signal_name(number: int) -> str:
    """'SIGSEGV' for 11; the number for a signal this system does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
