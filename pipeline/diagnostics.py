"""The one value every stage reports problems with, and its three printed forms.

A diagnostic always points into the file the author edits (path relative to
the project root, line and column from 1), so CI and editors can jump to it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    col: int
    severity: Severity
    code: str
    message: str

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}[{self.code}]: {self.message}"


def _visible(char: str) -> str:
    """A control, line-separator or bidi-override character as a visible escape."""
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0 or code in (0x2028, 0x2029) or 0x202A <= code <= 0x202E \
            or 0x2066 <= code <= 0x2069:
        return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"
    return char


def _one_line(message: str) -> str:
    """Messages must stay on one line so the contract's regex can read them, and text quoted
    from an author's file must not drive the terminal or CI log (ANSI escapes, bidi overrides)."""
    return "".join(_visible(c) for c in " ".join(message.split()))


def _path(path: str) -> str:
    """A file name as it is shown: a name holding a line break or an escape stays one safe line."""
    return "".join(_visible(c) for c in path)


def text_line(d: Diagnostic) -> str:
    """The contract's line, with the path and message made safe for a terminal or a log."""
    return f"{_path(d.path)}:{d.line}:{d.col}: {d.severity}[{d.code}]: {_one_line(d.message)}"


def format_text(diagnostics: Iterable[Diagnostic], count: bool = True) -> str:
    """One line per diagnostic, then (unless ``count`` is off, as with --quiet) the count line."""
    diags = list(diagnostics)
    lines = [text_line(d) for d in diags] + ([summary(diags)] if count else [])
    return "".join(line + "\n" for line in lines)


def _github_escape(value: str, *, prop: bool) -> str:
    """GitHub workflow commands need %, CR and LF escaped, and , : in properties."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(diagnostics: Iterable[Diagnostic]) -> str:
    out = []
    diags = list(diagnostics)
    for d in diags:
        props = (
            f"file={_github_escape(d.path, prop=True)},line={d.line},col={d.col},"
            f"title={_github_escape(d.code, prop=True)}"
        )
        out.append(f"::{d.severity} {props}::{_github_escape(_one_line(d.message), prop=False)}")
    out.append(summary(diags))
    return "\n".join(out) + "\n"


def format_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([asdict(d) for d in diagnostics], ensure_ascii=False, indent=2) + "\n"


def summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    if not diagnostics:
        return "No problems found."

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"Found {plural(errors, 'error')} and {plural(warnings, 'warning')}."


FORMATTERS = {"text": format_text, "github": format_github, "json": format_json}
