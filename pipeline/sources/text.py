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


UTF16 = "UTF-16"
# What careless authors save under a text file's name, by its first bytes.
SIGNATURES = (
    ((b"\xff\xfe", b"\xfe\xff"), UTF16),
    ((b"\x89PNG",), "a PNG image"),
    ((b"\xff\xd8\xff",), "a JPEG image"),
    ((b"GIF87a", b"GIF89a"), "a GIF image"),
    ((b"%PDF-",), "a PDF document"),
    ((b"PK\x03\x04",), "a ZIP archive (a Word .docx or an OpenDocument file is one)"),
    ((b"\xd0\xcf\x11\xe0",), "an old Word (.doc) document"),
)


def binary_kind(data: bytes) -> str | None:
    """What a file is when its first bytes say it is not UTF-8 text (UTF16, or 'a PNG image'...).

    UTF-16 is recognised without its BOM too: every other byte of ASCII text is then NUL.
    """
    for starts, what in SIGNATURES:
        if data.startswith(starts):
            return what
    head = data[:64]
    if len(head) >= 4 and (head[1::2].count(0) == len(head) // 2 or head[0::2].count(0) == (len(head) + 1) // 2):
        return UTF16
    return None


def binary_message(kind: str, advice: str) -> str:
    """The words for a file ``binary_kind`` recognised; ``advice`` says what to do instead."""
    if kind == UTF16:
        return "this file is saved as UTF-16; save it again as UTF-8 (Save As, Encoding UTF-8)"
    return f"this file is {kind}, not text; {advice}"


def decode(data: bytes) -> tuple[str | None, TextProblem | None]:
    """UTF-8 text with "\\n" line endings and no BOM, or the problem that stops it.

    A file that is known binary by its first bytes is reported at 1:1 with what
    it is; any other NUL byte is reported where it is (a stray one in a text
    file is found that way).
    """
    kind = binary_kind(data)
    if kind is not None:
        return None, TextProblem("SRC002", 1, 1, binary_message(
            kind, "it must be a plain text file saved as UTF-8 (copy the text into a new one)"))
    if b"\x00" in data:
        line, col = _position(data, data.index(b"\x00"))
        return None, TextProblem(
            "SRC002", line, col, "this file holds a NUL character, so it is binary, not text; "
            "save it as plain UTF-8 Markdown (or delete the invisible character here)"
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
