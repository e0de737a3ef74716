"""The hostile corpus: what careless or malicious authors commit, and the exact answer.

Each folder of tests/fixtures/hostile/ is one case. Its ``expected.yml`` says
what the case drops into a copy of tests/fixtures/base (``put``), and what
``paper check`` must answer: the exit code, every diagnostic (``path:line:col:
severity[CODE]: words from the message``, nothing more and nothing less),
within a time bound. A case marked ``isolated`` runs in a child process with
a memory limit, for the inputs built to exhaust memory (alias bombs, 5 MB
files). Every case also holds the contract: no traceback, output lines that
match the contract's regex, positions inside the file, exit code 1 exactly
when there is an error.

``put`` values:
  "input.md"                    a file of the case folder, copied byte for byte
  {text: "..."}                 UTF-8 text
  {generate: [...]}             a large file from small parts: [text, times],
                                {staircase: line, step: n, count: n} (line k
                                indented k*step spaces) or {numbered: template,
                                count: n} (str.format with i and next = i+1 mod n)
  {symlink: target}             a symbolic link
  {remove: true}                the fixture's file removed
Other keys: ``bibliography`` replaces paper.yml's list, ``paper_yml`` edits
it ([old, new] pairs), ``absent`` lists files that must not exist afterwards,
``more`` ({CODE: n}) allows exactly n diagnostics of that code besides those
listed (for a flood the check cuts short), ``stderr`` is words the error
output must hold, ``seconds`` overrides the time bound.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from tests.conftest import FIXTURES, ROOT
from tests.test_fuzz import position_problem

HOSTILE = FIXTURES / "hostile"
CASES = sorted(p.name for p in HOSTILE.iterdir() if (p / "expected.yml").is_file())
DEFAULT_SECONDS = 10.0  # a safety net against hangs, not a benchmark
MEMORY_LIMIT = 1 << 30  # bytes of address space for isolated cases

LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning)"
    r"\[(?P<code>[A-Z]{2,5}\d{3})\]: (?P<message>.+)$"
)
SUMMARY = re.compile(r"^(No problems found\.|Found \d+ errors? and \d+ warnings?\.)$")


@dataclass(frozen=True)
class Found:
    path: str
    line: int
    col: int
    severity: str
    code: str
    message: str


def load_case(name: str) -> dict:
    return yaml.safe_load((HOSTILE / name / "expected.yml").read_text(encoding="utf-8"))


def _generated(parts: list) -> bytes:
    chunks: list[str] = []
    for part in parts:
        if isinstance(part, list):
            text, times = part
            chunks.append(text * times)
        elif "staircase" in part:
            chunks.extend(" " * (part["step"] * k) + part["staircase"] + "\n" for k in range(part["count"]))
        else:
            n = part["count"]
            chunks.extend(part["numbered"].format(i=k, next=(k + 1) % n) for k in range(n))
    return "".join(chunks).encode("utf-8")


def build_case(name: str, spec: dict, target: Path) -> Path:
    """A copy of tests/fixtures/base with the case's files dropped in."""
    shutil.copytree(FIXTURES / "base", target, symlinks=True)
    for rel, what in spec.get("put", {}).items():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() or dest.is_symlink():
            dest.unlink()
        if isinstance(what, str):
            shutil.copyfile(HOSTILE / name / what, dest)
        elif "text" in what:
            dest.write_bytes(what["text"].encode("utf-8"))
        elif "generate" in what:
            dest.write_bytes(_generated(what["generate"]))
        elif "symlink" in what:
            dest.symlink_to(what["symlink"])
        elif not what.get("remove"):
            raise ValueError(f"{name}: unknown put for {rel}: {what}")
    config = target / "paper.yml"
    if "bibliography" in spec:
        listed = "".join(f"\n  - {f}" for f in spec["bibliography"])
        text = config.read_text(encoding="utf-8")
        assert text.count("bibliography: references.bib") == 1
        config.write_text(text.replace("bibliography: references.bib", f"bibliography:{listed}"), encoding="utf-8")
    for old, new in spec.get("paper_yml", []):
        text = config.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{name}: {old!r} must occur once in paper.yml"
        config.write_text(text.replace(old, new), encoding="utf-8")
    return target


_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_check(root: Path, isolated: bool, seconds: float, capsys) -> tuple[int, str, str, float]:
    """``paper check`` on the project: (exit code, stdout, stderr, seconds taken)."""
    args = ["-C", str(root), "check"]
    started = time.perf_counter()
    if isolated:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PAPER_DEBUG", None)
        try:
            done = subprocess.run([sys.executable, "-c", _CHILD.format(limit=MEMORY_LIMIT), *args],
                                  capture_output=True, text=True, timeout=seconds * 3, env=env, cwd=root)
        except subprocess.TimeoutExpired:
            pytest.fail(f"paper check did not finish within {seconds * 3:.0f} s")
        return done.returncode, done.stdout, done.stderr, time.perf_counter() - started
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err, time.perf_counter() - started


def parse_output(out: str) -> list[Found]:
    """The text form, line by line, as CI reads it: every line matches the contract."""
    lines = out.rstrip("\n").split("\n") if out.strip() else []
    found = []
    for text in lines[:-1]:
        m = LINE.match(text)
        assert m, f"not a diagnostic line: {text[:200]!r}"
        found.append(Found(m["path"], int(m["line"]), int(m["col"]), m["severity"], m["code"], m["message"]))
    if lines:
        assert SUMMARY.match(lines[-1]), f"no summary line: {lines[-1][:200]!r}"
    return found


def parse_expected(text: str) -> tuple[str, int, int, str, str, str]:
    m = LINE.match(text)
    assert m, f"expected.yml: not a diagnostic: {text!r}"
    return m["path"], int(m["line"]), int(m["col"]), m["severity"], m["code"], m["message"]


def unmatched(expected: list[str], found: list[Found]) -> tuple[list[str], list[str]]:
    """Expected lines no diagnostic matches, and diagnostics no expected line matches (one to one)."""
    left = list(found)
    missing = []
    for text in expected:
        path, line, col, severity, code, words = parse_expected(text)
        hit = next((f for f in left if (f.path, f.line, f.col, f.severity, f.code) == (path, line, col, severity, code)
                    and words in f.message), None)
        if hit is None:
            missing.append(text)
        else:
            left.remove(hit)
    extra = [f"{f.path}:{f.line}:{f.col}: {f.severity}[{f.code}]: {f.message}" for f in left]
    return missing, extra


def test_the_corpus_is_there():
    assert len(CASES) >= 50, "the hostile corpus lost its cases"


@pytest.mark.parametrize("name", CASES)
def test_hostile_input_gets_exactly_the_expected_diagnostics(name, tmp_path, capsys):
    spec = load_case(name)
    root = build_case(name, spec, tmp_path / "paper")
    seconds = float(spec.get("seconds", DEFAULT_SECONDS))
    code, out, err, elapsed = run_check(root, bool(spec.get("isolated")), seconds, capsys)

    assert "Traceback" not in out + err and "internal error" not in err, err[-2000:]
    found = parse_output(out)
    missing, extra = unmatched(spec.get("diagnostics", []), found)
    more = spec.get("more", {})  # {CODE: n}: n more of that code, besides those listed
    counted = {code: sum(f"[{code}]: " in text for text in extra) for code in more}
    extra = [text for text in extra if not any(f"[{code}]: " in text for code in more)]
    assert (missing, extra[:20], counted) == ([], [], more), f"missing: {missing}\nunexpected: {extra[:20]}"
    assert code == spec["exit"], (code, err[-500:])
    if code in (0, 1):
        assert code == (1 if any(f.severity == "error" for f in found) else 0)
    if "stderr" in spec:
        assert spec["stderr"] in err
    for f in found:
        problem = position_problem(root, f.path, f.line, f.col)
        assert problem is None, f"{f}: {problem}"
    for rel in spec.get("absent", []):
        assert not (root / rel).exists() and not Path(rel).exists(), f"{rel} was created"
    assert elapsed < seconds, f"{name} took {elapsed:.1f} s (bound {seconds:.0f} s)"
