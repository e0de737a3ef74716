"""Typst in a child process: a compile can be stopped after PAPER_TIMEOUT, and a crash stays contained.

Why not in-process: Typst's Python binding cannot be interrupted, so a document that keeps Typst
busy (a raw Typst block or a template with a long loop) would hang CI, and a panic in Typst's
Rust code would end the whole build. Why not `multiprocessing`: forking a process in which Typst
has already run deadlocks (its worker threads hold locks: measured, the child never returned),
and its "spawn" start re-imports the parent's main module. A plain `python -m` child is explicit.

Measured on 2 cores: about 0.1-0.3 s more per compile (a Python start and `import typst`; this
module imports nothing else) against 0.05 s (the test paper) to about 1 s (the shipped paper)
for the compile itself. A PDF-only build of the test paper (3 editions) went from 0.45 to 0.72 s;
for the shipped paper the difference was lost in run-to-run noise (11-14 s either way).

Protocol: the parent writes the request (JSON) and the source into a fresh folder; the child
compiles, writes its output files there and prints one JSON line: the files and the warnings,
or Typst's error. A child that dies without that line has crashed.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from pipeline.render.process import run_limited, signal_name

REQUEST = "request.json"
SOURCE = "main.typ"


class TypstFailed(Exception):
    """Typst reported an error in the document (message and hints are Typst's own)."""

    def __init__(self, message: str, hints: Sequence[str] = ()):
        super().__init__(message)
        self.message = message
        self.hints = list(hints)


class TypstCrashed(Exception):
    """The child ended without an answer: a panic, a signal, or it could not start."""


@dataclass(frozen=True)
class Compiled:
    outputs: list[bytes]  # one PDF, or one PNG per page
    warnings: list[str]


def compile_isolated(source: bytes, *, root: Path, work: Path, font_paths: Sequence[str], output_format: str,
                     timestamp: int, options: dict[str, Any], timeout: float) -> Compiled:
    """Compile ``source`` in a child Python with ``root`` as Typst's root; TimedOut past ``timeout``."""
    folder = Path(tempfile.mkdtemp(prefix="typst-", dir=work)).resolve()  # the child runs inside it
    root = root.resolve()
    (folder / SOURCE).write_bytes(source)
    request = {"root": str(root), "font_paths": list(font_paths), "format": output_format,
               "timestamp": timestamp, "options": options, "timeout": timeout}
    (folder / REQUEST).write_text(json.dumps(request), encoding="utf-8")
    done = run_limited([sys.executable, "-m", __name__, str(folder)], cwd=folder,
                       env=child_environment(), timeout=timeout)
    answer = read_answer(done.stdout)
    if answer is None:
        if done.returncode < 0:
            raise TypstCrashed(f"it was killed by {signal_name(-done.returncode)}")
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise TypstCrashed(lines[-1] if lines else f"exit {done.returncode}")
    if not answer.get("ok"):
        raise TypstFailed(str(answer.get("message", "")), [str(h) for h in answer.get("hints", [])])
    return Compiled([(folder / name).read_bytes() for name in answer["files"]],
                    [str(w) for w in answer.get("warnings", [])])


def child_environment() -> dict[str, str]:
    """The parent's environment, with this checkout first on the path: the child runs the same code."""
    package_parent = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    return env


def read_answer(stdout: bytes) -> dict[str, Any] | None:
    """The child's last JSON line, or None if it died before writing one."""
    for line in reversed(stdout.decode("utf-8", "replace").splitlines()):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


# ------------------------------------------------------------------------------------- the child


def child(folder: Path) -> dict[str, Any]:
    """Compile the request in ``folder``; the answer to print."""
    import typst

    request = json.loads((folder / REQUEST).read_text(encoding="utf-8"))
    self_destruct(request["timeout"])
    try:
        result, warnings = typst.compile_with_warnings(
            (folder / SOURCE).read_bytes(), root=request["root"], font_paths=request["font_paths"],
            ignore_system_fonts=True, format=request["format"], timestamp=request["timestamp"],
            **request["options"])
    except typst.TypstError as err:
        return {"ok": False, "message": str(getattr(err, "message", "") or err),
                "hints": [str(h) for h in getattr(err, "hints", None) or []]}
    except (RuntimeError, OSError, ValueError) as err:  # the binding's failures outside a diagnostic
        return {"ok": False, "message": str(err), "hints": []}
    pages = result if isinstance(result, list) else [result] if result else []
    names = []
    for number, data in enumerate(pages, 1):
        name = f"out-{number}.{request['format']}"
        (folder / name).write_bytes(data)
        names.append(name)
    return {"ok": True, "files": names, "warnings": [str(w.message) for w in warnings]}


def self_destruct(timeout: float) -> None:
    """End this process a little after the parent would have stopped it.

    If the build is killed (SIGKILL), nobody is left to stop a child that hangs; SIGALRM's default
    action ends the process even while Typst's Rust code runs.
    """
    if hasattr(signal, "alarm"):
        signal.alarm(math.ceil(timeout) + 5)


def main(argv: Sequence[str]) -> int:
    print(json.dumps(child(Path(argv[0]))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
