"""Turning a file's bytes into text without ever raising, positions intact.

BOMs and CRLF are accepted (editors on Windows write them); binary files and
invalid UTF-8 become problems that say where, rather than exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TextProblem:
    code: str  # SRC001 empty, SRC002 binary, SRC003 bad UTF-8, SRC004 too large, SRC005 unreadable
    line: int
    col: int
    message: str


def read_bytes(path: Path, limit: int) -> tuple[bytes | None, TextProblem | None]:
    """Read at most ``limit`` bytes plus one, so a huge file is refused without loading it."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except IsADirectoryError:
        return None, TextProblem("SRC005", 1, 1, "this is a folder, not a file")
    except OSError as err:
        return None, TextProblem("SRC005", 1, 1, f"the file cannot be read ({err.strerror or err})")
    if len(data) > limit:
        return None, TextProblem(
            "SRC004",
            1,
            1,
            f"the file is larger than the limit of {limit // 1024} KiB "
            "(rules.max_file_kb in paper.yml); split it or remove embedded data",
        )
    return data, None


def decode(data: bytes) -> tuple[str | None, TextProblem | None]:
    """UTF-8 text with "\\n" line endings and no BOM, or the problem that stops it."""
    if b"\x00" in data:
        line, _ = _position(data, data.index(b"\x00"))
        return None, TextProblem(
            "SRC002", line, 1, "this is a binary file, not text; save it as plain UTF-8 Markdown"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, col = _position(data, err.start)
        return None, TextProblem(
            "SRC003",
            line,
            col,
            "the file is not valid UTF-8 text here; save it with UTF-8 encoding "
            "(in most editors: Save As, Encoding UTF-8)",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, TextProblem("SRC001", 1, 1, "the file is empty")
    return text, None


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """Line and column of a byte offset, counting CRLF, CR and LF as one break each."""
    before = data[:offset].removeprefix(b"\xef\xbb\xbf")
    before = before.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    line = before.count(b"\n") + 1
    return line, len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
