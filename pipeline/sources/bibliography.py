"""Load one or several .bib files as one database, the way BibTeX resolves them.

INTERFACE (the rules and, later, the CSL JSON export depend on exactly this):

    load_bibliography(files: Sequence[Path], root: Path) -> Bibliography

Files are read in order as ONE database: ``@string`` macros (plus the
predefined month macros jan..dec), ``#`` concatenation and ``crossref`` /
``xref`` parents are shared across files. Each entry keeps the file (path
relative to ``root``, posix form) and line where it starts, and the line of
each of its fields, so diagnostics point into the file the author edits.

Never raises for any file content (empty, binary, invalid UTF-8, BOM, CRLF,
unbalanced braces, ...): problems become ``BibProblem`` values. Only an
unreadable/missing file is a problem too (code BIB012), not an exception.

How it is built (I/O only at the edge, everything else is text -> values):

1. ``_read_file`` reads bytes; ``_decode`` turns them into text with "\\n"
   line endings and no BOM, or into a BIB012 problem.
2. bibtexparser's ``Splitter`` cuts the text into blocks (entries, @string,
   @preamble, comments, failed blocks). It keeps raw values and block start
   lines, and it does not resolve anything, which is what we need: it can
   only resolve macros within one file, and IRIDIA-style bibliographies
   define them in other files.
3. ``_Builder`` walks the blocks of all files in order: it tokenises each
   value (``{...}``, ``"..."``, numbers, macro names, ``#``), expands the
   macros known at that point (BibTeX's order), and leaves the others as
   ``_Macro`` references that ``_Builder.finish`` resolves once every file is
   read (a macro defined later still resolves; one defined nowhere is BIB009).
   Expansion has a budget (``MAX_EXPANSION`` characters over the whole
   database): a file of macros built from macros is refused in milliseconds,
   with bounded memory, instead of growing exponentially.
4. BIB001 also covers what Pandoc, which builds the paper, refuses to read
   although bibtexparser accepts it (``@string(...)``, a ``.`` in a field name,
   a stray ``@`` between entries, a missing comma between two fields...), so
   the author gets a line number instead of a failed build.
"""

from __future__ import annotations

import bisect
import difflib
import logging
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import accumulate
from pathlib import Path
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence, Union

from bibtexparser import model as bpm
from bibtexparser.exceptions import ParsingException
from bibtexparser.splitter import Splitter

from pipeline.sources.text import UTF16, binary_kind, binary_message


@dataclass(frozen=True)
class BibEntry:
    key: str
    type: str  # lower-cased entry type: 'article', 'book', 'online', ...
    fields: Mapping[str, str]  # lower-cased field names -> resolved value (see below)
    path: str  # project-relative posix path of the .bib file
    line: int  # line of the '@' that starts the entry
    col: int
    field_lines: Mapping[str, int]  # lower-cased field name -> line where it starts


# Field values are resolved as BibTeX does: macros expanded, '#' parts joined,
# the outer {...} or "..." removed; inner braces and LaTeX kept as written
# (e.g. 'The {UNESCO} report on {\"O}sterreich').


@dataclass(frozen=True)
class BibProblem:
    code: str  # see PROBLEM_CODES
    path: str
    line: int
    col: int
    message: str  # plain words, one line, says how to fix it
    key: str | None  # entry concerned (None for file-level problems)
    # Entries whose values this problem spoils although it is reported elsewhere
    # (a broken @string they use): when one of them is cited, it is an error.
    affects: tuple[str, ...] = ()


PROBLEM_CODES = {
    "BIB001": "a block of the .bib file could not be read (unbalanced braces, missing comma, junk)",
    "BIB002": "an entry key is defined twice (reported at the second definition)",
    "BIB009": "a field uses an @string macro that is not defined (before or after it), or that cannot "
              "be expanded (defined through itself, or expanding to more than MAX_EXPANSION characters)",
    "BIB011": "an @string macro is defined twice",
    "BIB012": "a .bib file is missing, unreadable, binary or not valid UTF-8",
}


# --------------------------------------------------------------------------
# BibTeX and biblatex conventions
# --------------------------------------------------------------------------

# BibTeX's standard styles predefine these macros (plain.bst: MACRO {jan} {"January"}).
MONTH_MACROS: Mapping[str, str] = {
    name[:3].lower(): name
    for name in (
        "January February March April May June July August September October November December"
    ).split()
}

# biblatex never inherits these through crossref (biblatex manual, appendix B).
NEVER_INHERITED = frozenset(
    """ids crossref xref entryset entrysubtype execute label options presort related
    relatedoptions relatedstring relatedtype shorthand shorthandintro sortkey""".split()
)

_TITLE_NAMES = ("title", "subtitle", "titleaddon")
_NOT_INHERITED_TITLES = frozenset(("shorttitle", "sorttitle", "indextitle", "indexsorttitle"))


def _title_rule(prefix: str) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    """title/subtitle/titleaddon -> <prefix>title/..., and the short titles are not inherited."""
    return {name: (prefix + name,) for name in _TITLE_NAMES}, _NOT_INHERITED_TITLES


def _inheritance_table() -> dict[tuple[str, str], tuple[dict[str, tuple[str, ...]], frozenset[str]]]:
    """biblatex's default \\DeclareDataInheritance rules, as (parent type, child type) -> rule.

    A rule maps a parent field to the child field(s) it fills, and names parent
    fields that are not inherited at all. Pairs not listed inherit every field
    under its own name (BibTeX's plain crossref behaviour).
    """
    table: dict[tuple[str, str], tuple[dict[str, tuple[str, ...]], set[str]]] = {}

    def declare(parents: str, children: str, mapping: dict[str, tuple[str, ...]],
                blocked: frozenset[str] = frozenset()) -> None:
        for parent in parents.split():
            for child in children.split():
                rule = table.setdefault((parent, child), ({}, set()))
                rule[0].update(mapping)
                rule[1].update(blocked)

    declare("mvbook book", "inbook bookinbook suppbook", {"author": ("author", "bookauthor")})
    declare("mvbook", "book inbook bookinbook suppbook", *_title_rule("main"))
    declare("mvcollection mvreference",
            "collection reference incollection inreference suppcollection", *_title_rule("main"))
    declare("mvproceedings", "proceedings inproceedings", *_title_rule("main"))
    declare("book", "inbook bookinbook suppbook", *_title_rule("book"))
    declare("collection reference", "incollection inreference suppcollection", *_title_rule("book"))
    declare("proceedings", "inproceedings", *_title_rule("book"))
    declare("periodical", "article suppperiodical", *_title_rule("journal"))
    return {pair: (mapping, frozenset(blocked)) for pair, (mapping, blocked) in table.items()}


_INHERITANCE = _inheritance_table()
_TYPE_ALIASES = {"conference": "inproceedings"}  # biblatex aliases that matter for inheritance


# --------------------------------------------------------------------------
# The database
# --------------------------------------------------------------------------


@dataclass
class Bibliography:
    entries: dict[str, BibEntry] = field(default_factory=dict)  # first definition wins
    problems: list[BibProblem] = field(default_factory=list)
    # Macro name (lower case) -> value in effect after the last file (predefined months included).
    strings: dict[str, str] = field(default_factory=dict)
    _folded: tuple[int, dict[str, str]] | None = field(default=None, repr=False, compare=False)

    def parent_key(self, key: str) -> str | None:
        """The crossref (or xref) parent key of an entry, if any.

        An existing key is returned as it is spelled in the database, found
        case-insensitively when no key matches exactly (BibTeX compares crossref
        keys without case); a missing parent is returned as written, so the
        rules can say which key is missing.
        """
        entry = self.entries.get(key)
        if entry is None:
            return None
        target = entry.fields.get("crossref", "").strip() or entry.fields.get("xref", "").strip()
        return self._existing(target) if target else None

    def resolved_fields(self, key: str) -> dict[str, str]:
        """Fields of the entry with those inherited through its crossref chain.

        Follows BibTeX/biblatex inheritance (missing fields come from the parent;
        biblatex's mapping title -> booktitle for in-collection/in-proceedings).
        Stops at a missing parent or at a cycle; never loops.

        Only ``crossref`` inherits (an ``xref`` parent is just a link). A field
        the child has, even empty, is kept: that is what Pandoc does.
        """
        chain = self._crossref_chain(key)
        if not chain:
            return {}
        fields = dict(chain[-1].fields)
        for child, parent in zip(reversed(chain[:-1]), reversed(chain[1:])):
            fields = _inherit(child, parent.type, fields)
        return fields

    def _crossref_chain(self, key: str) -> list[BibEntry]:
        """The entry, its crossref parent, grandparent... until a missing key or a repeat."""
        chain: list[BibEntry] = []
        seen: set[str] = set()
        current: str | None = key
        while current is not None and current in self.entries and current not in seen:
            seen.add(current)
            entry = self.entries[current]
            chain.append(entry)
            target = entry.fields.get("crossref", "").strip()
            current = self._existing(target) if target else None
        return chain

    def _existing(self, target: str) -> str:
        """``target`` as spelled in the database (exact, else case-insensitive), else unchanged."""
        if target in self.entries:
            return target
        if self._folded is None or self._folded[0] != len(self.entries):
            folded: dict[str, str] = {}
            for existing in self.entries:
                folded.setdefault(existing.casefold(), existing)
            self._folded = (len(self.entries), folded)
        return self._folded[1].get(target.casefold(), target)


def _inherit(child: BibEntry, parent_type: str, parent_fields: Mapping[str, str]) -> dict[str, str]:
    """The child's fields completed from its (already resolved) parent, biblatex's way."""
    out = dict(child.fields)
    pair = (_TYPE_ALIASES.get(parent_type, parent_type), _TYPE_ALIASES.get(child.type, child.type))
    mapping, blocked = _INHERITANCE.get(pair, ({}, frozenset()))
    # Explicit mappings first: for in-proceedings the parent's title becomes the
    # booktitle even when the parent also has a booktitle (biber and Pandoc agree).
    for source, targets in mapping.items():
        if source in parent_fields:
            for target in targets:
                out.setdefault(target, parent_fields[source])
    for name, value in parent_fields.items():
        if name not in NEVER_INHERITED and name not in blocked and name not in mapping:
            out.setdefault(name, value)
    return out


# --------------------------------------------------------------------------
# Reading files (the only I/O)
# --------------------------------------------------------------------------


def load_bibliography(files: Sequence[Path], root: Path) -> Bibliography:
    """Read the files in order and build one database from them."""
    sources = []
    for path in files:
        rel = _relative(Path(path), Path(root))
        data, error = _read_file(Path(path))
        sources.append((rel, data, error))
    return build_bibliography(sources)


def _read_file(path: Path) -> tuple[bytes | None, str | None]:
    """The file's bytes, or why they cannot be had (in words an author understands)."""
    try:
        return path.read_bytes(), None
    except FileNotFoundError:
        return None, "this bibliography file does not exist; check its name in paper.yml"
    except IsADirectoryError:
        return None, "this is a folder, not a .bib file; name the .bib file itself in paper.yml"
    except OSError as err:
        return None, f"this file cannot be read ({err.strerror or err}); check that it exists and is readable"
    except ValueError:  # e.g. a NUL character in the name given in paper.yml
        return None, "this file name cannot be opened; check its spelling in paper.yml"


def _relative(path: Path, root: Path) -> str:
    """Project-relative posix path; symlinks are not followed, so it names what the author sees."""
    absolute, base = os.path.abspath(path), os.path.abspath(root)
    try:
        return Path(absolute).relative_to(base).as_posix()
    except ValueError:
        try:
            return Path(os.path.relpath(absolute, base)).as_posix()
        except ValueError:  # another drive on Windows
            return Path(absolute).as_posix()


# --------------------------------------------------------------------------
# Bytes -> text
# --------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str | None, tuple[int, int, str] | None]:
    """UTF-8 text with "\\n" line endings and no BOM, plus (line, col, message) if not clean.

    Invalid UTF-8 is reported at its first bad byte, and the file is still read
    with replacement characters, so its entries exist and citing them does not
    add "unknown citation" errors to the one real problem. A NUL byte means the
    file is not text at all: nothing is read from it.
    """
    nul = data.find(b"\x00")
    kind = binary_kind(data)
    if nul >= 0 or kind is not None:
        if kind is not None:
            message = binary_message(kind, "check that paper.yml names the right .bib file")
        else:
            message = "this is a binary file, not a text .bib file; check that paper.yml names the right file"
        line, col = _byte_position(data, nul) if nul >= 0 and kind != UTF16 else (1, 1)
        return None, (line, col, message)
    problem = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, col = _byte_position(data, err.start)
        problem = (line, col, f"this file is not valid UTF-8 here (byte 0x{data[err.start]:02X}); "
                   "save it with UTF-8 encoding (Save As, Encoding UTF-8)")
        text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, problem


def _byte_position(data: bytes, index: int) -> tuple[int, int]:
    """1-based line and character column of a byte offset, counted as in the decoded text.

    Line breaks are "\n", "\r\n" or a lone "\r", and a BOM takes no column.
    """
    before = data[:index]
    line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    if line_start == 0 and before.startswith(b"\xef\xbb\xbf"):
        line_start = 3
    return line, len(before[line_start:].decode("utf-8", errors="replace")) + 1


# --------------------------------------------------------------------------
# Text -> blocks (bibtexparser)
# --------------------------------------------------------------------------

_SPLITTER_LOGGER = logging.getLogger("bibtexparser.splitter")
# What bibtexparser's Splitter has been seen to raise, or could, on hostile input.
_SPLITTER_FAILURES = (ParsingException, RecursionError, IndexError, ValueError)
_BLOCK_START_AT_LINE = re.compile(r"^[ \t]*@", re.MULTILINE)


@contextmanager
def _quiet_splitter() -> Iterator[None]:
    """bibtexparser logs a warning per failed block; we report those as BIB001 ourselves."""
    before = _SPLITTER_LOGGER.disabled
    _SPLITTER_LOGGER.disabled = True
    try:
        yield
    finally:
        _SPLITTER_LOGGER.disabled = before


def _split(text: str) -> tuple[list[bpm.Block], list[tuple[int, str]]]:
    """bibtexparser's blocks, in file order, and (offset, reason) for chunks it choked on.

    Text without any '@' has no block (and is skipped: the Splitter takes
    seconds on a megabyte of braces for nothing). Should the Splitter raise
    instead of returning a failed block, the text is cut before each line that
    starts with '@' -- where the Splitter itself restarts after an error -- and
    each piece is split alone, so one bad piece costs only its own entries.
    """
    if "@" not in text:
        return [], []
    with _quiet_splitter():
        try:
            return Splitter(text).split().blocks, []
        except _SPLITTER_FAILURES:
            pass
        blocks: list[bpm.Block] = []
        failures: list[tuple[int, str]] = []
        starts = [0] + [m.start() for m in _BLOCK_START_AT_LINE.finditer(text) if m.start() > 0]
        for start, end in zip(starts, starts[1:] + [len(text)]):
            try:
                piece_blocks = Splitter(text[start:end]).split().blocks
            except _SPLITTER_FAILURES as err:
                failures.append((start, type(err).__name__))
                continue
            blocks.extend(piece_blocks)  # their lines are relative to the piece: see _Builder.locate
        return blocks, failures


# --------------------------------------------------------------------------
# Values: {..}, "..", numbers, macro names, '#'
# --------------------------------------------------------------------------


class _Macro(NamedTuple):
    """A macro name not yet expanded, with where it was written (for BIB009)."""

    name: str
    path: str
    line: int
    col: int
    key: str | None


class _Broken(NamedTuple):
    """A macro that could not be expanded where it was written; it reads as its own name.

    It travels with the value it is part of (a @string inlined into an entry
    brings it along), so the entry that ends up using it is told too.
    """

    name: str
    kind: str  # 'too-big' (see MAX_EXPANSION)
    path: str
    line: int
    col: int
    key: str | None


_Part = Union[str, _Macro, _Broken]

# Characters that @string expansion may produce in all, over every file: far
# above what real bibliographies use (IRIDIA's 3,000 entries: well under a
# million), and a bound on the memory a file of macros built from macros
# ('@string{b = a # a # a # a}' thirty times over) can claim.
MAX_EXPANSION = 20_000_000
PART_COST = 100  # a macro reference kept in a value costs as much memory as about 100 characters
_Value = Union[str, list[_Part]]  # a field value: resolved, or parts still holding macros

# Between value parts Pandoc skips whitespace and '%' comments; so do we.
_GAP = re.compile(r"(?:\s+|%[^\n]*)*")
# A bare word: BibTeX's identifier characters (anything but whitespace and "#%'(),={}).
_BARE = re.compile(r"[^\s\"#%'(),={}]+")
_PANDOC_WORD = re.compile(r"[\w:+\-]+")  # what Pandoc reads as a bare macro name or number
_BRACES = re.compile(r"(?<!\\)[{}]")  # bibtexparser and Pandoc both skip \{ and \}
_BRACES_QUOTES = re.compile(r"(?<!\\)[{}\"]")
_FIELD_START = re.compile(r"([^\s\"#%'(),={}]+)\s*=")
_BREAK_BEFORE_EQUALS = re.compile(r"\n[ \t]*=")  # 'name' and '=' on different lines
_BRACES_OR_FIELD = re.compile(r"(?<!\\)[{}]|\n[ \t]*[^\W\d][\w:+\-]*[ \t]*=")


@dataclass
class _BadValue:
    offset: int  # in the value text
    message: str
    next_field: str | None = None  # a 'name =' found where a ',' was expected


def _closing_brace(text: str, start: int) -> int:
    """Index of the '}' matching the '{' at ``start``, or -1."""
    depth = 0
    for m in _BRACES.finditer(text, start):
        if m.group() == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.start()
    return -1


def _closing_quote(text: str, start: int) -> int:
    """Index of the '"' that ends the string opened at ``start`` (quotes inside braces do not)."""
    depth = 0
    for m in _BRACES_QUOTES.finditer(text, start + 1):
        char = m.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            return m.start()
    return -1


def _tokenise(value: str) -> tuple[list[tuple[int, str, bool]], _BadValue | None]:
    """The parts of a raw value as (offset, text, is_macro_name), and the first error.

    Parts are what BibTeX joins with '#': the inside of {...} or "..." kept as
    written, a number, or a macro name. On an error the parts read so far are
    returned with it.
    """
    parts: list[tuple[int, str, bool]] = []
    end = len(value)
    i = _GAP.match(value, 0).end()
    if i == end:
        return parts, None
    while True:
        char = value[i]
        if char == "{":
            close = _closing_brace(value, i)
            if close < 0:
                return parts, _BadValue(i, "a '{' in the value is never closed")
            parts.append((i, value[i + 1 : close], False))
            i = close + 1
        elif char == '"':
            close = _closing_quote(value, i)
            if close < 0:
                return parts, _BadValue(i, "a '\"' in the value is never closed")
            parts.append((i, value[i + 1 : close], False))
            i = close + 1
        else:
            word = _BARE.match(value, i)
            if word is None:
                what = "a '#' with nothing before it" if char == "#" else f"an unexpected '{char}'"
                return parts, _BadValue(i, f"the value starts with {what}")
            text = word.group()
            parts.append((i, text, not text[0].isdigit()))
            i = word.end()
        i = _GAP.match(value, i).end()
        if i == end:
            return parts, None
        if value[i] != "#":
            following = _FIELD_START.match(value, i)
            if following:
                return parts, _BadValue(i, "", next_field=following.group(1))
            return parts, _BadValue(
                i, f"'{_excerpt(value[i:])}' follows the value; join parts with '#' "
                "or put the whole value in braces")
        i = _GAP.match(value, i + 1).end()
        if i == end:
            return parts, _BadValue(i, "the value ends with '#' and nothing after it")


def _excerpt(text: str, limit: int = 30) -> str:
    """The start of a piece of text, on one line, for a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------
# Blocks -> database
# --------------------------------------------------------------------------

_HEADER = re.compile(r"@[ \t]*(\w*)[ \t]*([{(])")
_FAILED_KEY = re.compile(r"@[ \t]*(\w*)\s*[{(]\s*([^\s,{}()\"#%'=]+)\s*,")
_PANDOC_KEY = re.compile(r"[\w.:;?!`'()/*@+=\-\[\]&]+")
_PANDOC_FIELD = re.compile(r"[\w:+\-]+")
_COMMENT = re.compile(r"%[^\n]*")
_LOOKS_LIKE_FIELDS = re.compile(r",\s*[^\W\d][\w:+\-]*\s*=\s*[{\"\w]")
_ENTRY_LIKE = re.compile(r"@\s*\w+\s*[{(]")


class _Pending(NamedTuple):
    """An entry read in pass one; macros defined later are still to be expanded."""

    key: str
    type: str
    path: str
    line: int
    col: int
    fields: dict[str, _Value]
    field_lines: dict[str, int]


@dataclass
class _File:
    """One decoded file and how to turn offsets into (line, col)."""

    index: int
    path: str
    text: str
    line_starts: list[int]

    @classmethod
    def of(cls, index: int, path: str, text: str) -> _File:
        lengths = accumulate(len(line) + 1 for line in text.split("\n"))
        return cls(index, path, text, [0, *lengths][:-1] or [0])

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1


class _Builder:
    """Walks every block of every file in order, as BibTeX reads one database."""

    def __init__(self) -> None:
        self.pending: list[_Pending] = []
        self.problems: list[tuple[int, BibProblem]] = []  # (file index, problem)
        self.current: dict[str, list[_Part]] = {name: [value] for name, value in MONTH_MACROS.items()}
        self.first: dict[str, list[_Part]] = dict(self.current)  # first definition of each macro
        self.defined_at: dict[str, tuple[str, int]] = {}  # user-defined macro -> (path, line)
        self.key_sites: dict[str, tuple[str, int]] = {}
        self.reported: set[tuple[str, int, int, str, str | None]] = set()
        self.final: dict[str, str | None] = {}
        self.file: _File | None = None
        self.file_index: dict[str, int] = {}
        self.definitions: list[list[_Part]] = []  # every @string value, in order
        self.budget = MAX_EXPANSION  # characters macro expansion may still produce
        self.too_big: set[str] = set()  # macros whose expansion would exceed the budget
        # macro -> (what went wrong, the macro at fault) when its value holds a broken macro
        self.tainted: dict[str, tuple[str, str]] = {}
        self.report_index: dict[tuple, int] = {}  # a reported site -> its place in problems
        self.affected: dict[tuple, dict[str, None]] = {}  # a reported @string site -> entry keys

    def afford(self, size: int) -> bool:
        """Charge ``size`` characters of macro expansion; False (and nothing charged) if over budget."""
        if size > self.budget:
            return False
        self.budget -= size
        return True

    # -- problems -----------------------------------------------------------

    def problem(self, code: str, offset_or_pos: int | tuple[int, int], message: str,
                key: str | None = None) -> None:
        file = self.file
        assert file is not None
        line, col = (file.position(offset_or_pos) if isinstance(offset_or_pos, int)
                     else offset_or_pos)
        self.problems.append((file.index, BibProblem(code, file.path, line, col, _one_line(message), key)))

    # -- files and blocks ---------------------------------------------------

    def add_file(self, index: int, path: str, text: str) -> None:
        self.file = _File.of(index, path, text)
        self.file_index.setdefault(path, index)
        blocks, failures = _split(text)
        for offset, reason in failures:
            self.problem("BIB001", offset, f"this part of the file could not be read (the parser "
                         f"failed with {reason}); check the braces and commas of the entries here")
        pos = 0  # where the next block's raw text is searched from
        block_end = 0  # end of the last block that is not free text
        previous: bpm.Block | None = None
        for block in blocks:
            offset = self.locate(block, pos)
            raw_length = len(block.raw or "")
            failed = isinstance(block, bpm.ParsingFailedBlock) and block.ignore_error_block is None
            # A failed block may end on the '@' that starts the next one.
            pos = offset + 1 if failed else offset + raw_length
            if isinstance(block, bpm.ImplicitComment):
                self.check_free_text(block.raw or "", offset, previous)
                previous = block
                continue
            line_start = text.rfind("\n", 0, offset) + 1
            commented = text.find("%", max(line_start, block_end), offset) >= 0
            block_end = offset + raw_length
            if commented:
                # '% @misc{old, ...}': BibTeX and bibtexparser read the entry, but
                # Pandoc, which builds the paper, skips the commented-out line.
                previous = None
                continue
            # Duplicate keys and fields: bibtexparser's view is per file and
            # case-sensitive; we judge duplicates ourselves, across files.
            inner = block
            if not failed and isinstance(block, bpm.ParsingFailedBlock):
                inner = block.ignore_error_block
            if isinstance(inner, bpm.Entry):
                self.add_entry(inner, offset)
            elif isinstance(inner, bpm.String):
                self.add_string(inner, offset)
            elif isinstance(inner, bpm.ParsingFailedBlock):
                self.add_failed(inner, offset)
            elif isinstance(inner, (bpm.Preamble, bpm.ExplicitComment)):
                self.check_delimiter(inner.raw or "", offset, None)
            previous = inner

    def locate(self, block: bpm.Block, pos: int) -> int:
        """Offset of a block's raw text: blocks come in order and their raw text is verbatim.

        The block's start line only narrows the search; it never moves it back
        before the previous block (lines are relative to the piece when the
        file had to be split piece by piece).
        """
        file = self.file
        assert file is not None
        raw = block.raw or ""
        line0 = block.start_line or 0
        if 0 <= line0 < len(file.line_starts):
            pos = max(pos, file.line_starts[line0])
        found = file.text.find(raw, pos) if raw else -1
        if found >= 0:
            return found
        return file.line_starts[line0] if 0 <= line0 < len(file.line_starts) else pos

    def check_delimiter(self, raw: str, offset: int, key: str | None) -> bool:
        """Pandoc reads only '@type{...}', not BibTeX's '@type(...)'. False if the block has no header."""
        header = _HEADER.match(raw)
        if header is None:
            return False
        if header.group(2) == "(":
            kind = header.group(1) or "entry"
            self.problem("BIB001", offset, f"Pandoc cannot read '@{kind}( ... )' with parentheses; "
                         f"write '@{kind}{{ ... }}' with braces", key)
        return True

    # -- @string --------------------------------------------------------------

    def add_string(self, block: bpm.String, offset: int) -> None:
        raw = block.raw or ""
        self.check_delimiter(raw, offset, None)
        name = _COMMENT.sub("", block.key).strip()
        at = self.file.position(offset)  # type: ignore[union-attr]
        if not name or not _PANDOC_FIELD.fullmatch(name):
            self.problem("BIB001", at, f"the @string name '{_excerpt(name)}' cannot be read; a macro "
                         "name is made of letters, digits and - _ : + (e.g. @string{acm = \"ACM\"})")
            if not name:
                return
        value_at = raw.find(block.value, raw.find("=") + 1) if block.value else -1
        value_offset = offset + value_at if value_at >= 0 else offset
        parts = self.parse_value(block.value, value_offset, offset, f"@string '{name}'")
        folded = name.lower()
        if folded in self.defined_at:
            path, line = self.defined_at[folded]
            where = f"line {line}" if path == self.file.path else f"{path}:{line}"  # type: ignore[union-attr]
            self.problem("BIB011", at, f"macro '{name}' is defined again (first at {where}); BibTeX "
                         "and Pandoc use the new value from here on; keep one definition")
        else:
            self.defined_at[folded] = (self.file.path, at[0])  # type: ignore[union-attr]
        self.current[folded] = parts
        self.first.setdefault(folded, parts)
        self.definitions.append(parts)

    # -- entries --------------------------------------------------------------

    def add_entry(self, block: bpm.Entry, offset: int) -> None:
        file = self.file
        assert file is not None
        raw = block.raw or ""
        line, col = file.position(offset)
        entry_type = block.entry_type.strip().lower()
        key = block.key.strip()
        self.check_delimiter(raw, offset, key or None)
        if not entry_type:
            self.problem("BIB001", (line, col), "this entry has no type after '@'; "
                         "write e.g. @article{key, ...}", key or None)
            return
        if not key:
            self.problem("BIB001", (line, col), f"this @{entry_type} has no key; write "
                         f"@{entry_type}{{key, ...}} with a unique key before the first comma")
            return
        if not entry_type.isalpha():
            self.problem("BIB001", (line, col), f"Pandoc cannot read the entry type '@{entry_type}': "
                         "an entry type is made of letters only (e.g. @misc)", key)
        if not _PANDOC_KEY.fullmatch(key):
            bad = ", ".join(repr(c) if not c.isspace() else "a space"
                            for c in sorted({c if not c.isspace() else " " for c in key
                                             if not _PANDOC_KEY.fullmatch(c)}))
            self.problem("BIB001", (line, col), f"the key '{_excerpt(key)}' contains {bad}, which "
                         "Pandoc cannot read; a key is made of letters, digits and "
                         ". : ; ? ! ` ' ( ) / * @ _ + = - [ ] &", key)
        if "," not in raw:  # bibtexparser accepts RefTeX's '@misc{key}'; Pandoc does not
            self.problem("BIB001", (line, col), f"there is no comma after the key '{key}'; Pandoc "
                         f"cannot read an entry without one: write @{entry_type}{{{key},}}", key)
        fields, field_lines = self.read_fields(block, offset, line, key)
        if key in self.key_sites:
            path, first_line = self.key_sites[key]
            where = f"line {first_line}" if path == file.path else f"{path}:{first_line}"
            self.problem("BIB002", (line, col), f"the key '{key}' is already used by the entry at "
                         f"{where}; BibTeX keeps the first, Pandoc the last: rename or delete one", key)
            return
        self.key_sites[key] = (file.path, line)
        self.pending.append(_Pending(key, entry_type, file.path, line, col, fields, field_lines))

    def read_fields(self, block: bpm.Entry, offset: int, line: int,
                    key: str) -> tuple[dict[str, _Value], dict[str, int]]:
        """Each field's value and line. The first of two same-named fields wins, as in BibTeX.

        This is the hot loop (26,000 fields in PETSc). Nearly every entry has
        plain field names and simple values, and bibtexparser already knows
        the line of each '=': that is the field's line unless a line break
        separates name and '=' (checked once per entry). Anything else takes
        ``read_fields_exactly``, which finds every field in the raw text.
        """
        raw = block.raw or ""
        if block.start_line is not None and "\\\n" not in raw and not _BREAK_BEFORE_EQUALS.search(raw):
            # bibtexparser does not count a line break right after a backslash
            # (its marks skip escaped characters), so its lines can lag behind
            # ours; the lag is the same for every field of an entry without one.
            shift = line - block.start_line
            fields: dict[str, _Value] = {}
            lines: dict[str, int] = {}
            simple_value = self.simple_value
            plain_name = _PANDOC_FIELD.fullmatch
            for item in block.fields:
                name = item.key
                if not plain_name(name):
                    break
                name = name.lower()
                if name in fields:
                    continue
                field_line = item.start_line + shift
                value: _Value | None = simple_value(item.value)
                if value is None:  # '#' and macros: fine unless something must be reported
                    tokens, error = _tokenise(item.value)
                    if error is not None:
                        break
                    parts, unreadable = self.expand(tokens, field_line, 1, key)
                    if unreadable:
                        break
                    value = parts[0] if len(parts) == 1 and isinstance(parts[0], str) else parts
                fields[name] = value
                lines[name] = field_line
            else:
                return fields, lines
        return self.read_fields_exactly(block, offset, line, key)

    def read_fields_exactly(self, block: bpm.Entry, offset: int, line: int,
                            key: str) -> tuple[dict[str, _Value], dict[str, int]]:
        """Fields located in the raw text: lines counted, problems placed at their column."""
        raw = block.raw or ""
        find = raw.find
        count = raw.count
        fields: dict[str, _Value] = {}
        lines: dict[str, int] = {}
        pos = find(",") + 1
        counted = 0  # newlines counted in raw[:counted]
        for item in block.fields:
            raw_name, value = item.key, item.value
            at = find(raw_name, pos) if raw_name else -1
            if at < 0:
                at = pos
            # Only blanks and '=' separate the name from the value, so the value
            # is the first occurrence of its text after the name.
            name_end = at + len(raw_name)
            value_at = find(value, name_end) if value else -1
            if value_at < 0:
                value_at = name_end + 1
            pos = value_at + len(value)
            name_at = at
            if "%" in raw_name:
                name = _COMMENT.sub("", raw_name).strip()
                if not name:
                    continue  # the whole 'name = value' sits in a '%' comment line: Pandoc skips it
                name_at = at + raw_name.rfind(name)
            else:
                name = raw_name
            line += count("\n", counted, name_at)
            counted = name_at
            if not name.isalnum() and not _PANDOC_FIELD.fullmatch(name):
                bad = "".join(sorted({c for c in name if not _PANDOC_FIELD.fullmatch(c)}))
                self.problem("BIB001", offset + name_at, f"the field name '{_excerpt(name)}' of entry "
                             f"'{key}' contains {bad!r}, which Pandoc cannot read; a field name is made "
                             "of letters, digits and - _ : +", key)
            name = name.lower()
            if name in fields:
                continue
            simple = self.simple_value(value)
            if simple is not None:
                fields[name] = simple
                lines[name] = line
                continue
            self.read_field(fields, lines, name, value, offset + value_at, offset + name_at, line, key)
        return fields, lines

    def simple_value(self, value: str) -> str | None:
        """The value of one {...} or "..." group, a number or a known macro; else None.

        These are nearly all values in real files; they skip the tokeniser.
        """
        first, last = value[:1], value[-1:]
        if first == "{" and last == "}":
            inner = value[1:-1]
            if ("{" not in inner and "}" not in inner) or _closing_brace(value, 0) == len(value) - 1:
                return inner
        elif first == '"' and last == '"' and len(value) > 1:
            inner = value[1:-1]
            if '"' not in inner and (("{" not in inner and "}" not in inner)
                                     or _closing_quote(value, 0) == len(value) - 1):
                return inner
        elif value.isdigit():
            return value
        elif value and not first.isdigit() and _PANDOC_WORD.fullmatch(value):
            known = self.current.get(value.lower())
            if known is not None and len(known) == 1 and isinstance(known[0], str) \
                    and self.afford(len(known[0])):
                return known[0]
        return None

    def read_field(self, fields: dict[str, _Value], lines: dict[str, int], name: str, value: str,
                   value_offset: int, name_offset: int, line: int, key: str) -> None:
        """One field; a missing comma before the next 'name =' is reported and the rest recovered."""
        while True:
            parts, error = self.tokenise(value, value_offset, name_offset, key, f"field '{name}'")
            if name not in fields:
                fields[name] = parts[0] if len(parts) == 1 and isinstance(parts[0], str) else parts
                lines[name] = line
            if error is None or error.next_field is None:
                return
            next_name = error.next_field
            self.problem("BIB001", value_offset + error.offset,
                         f"a comma is missing before field '{next_name}' of entry '{key}' "
                         f"(after the value of '{name}'); Pandoc stops here", key)
            rest = value[error.offset:]
            name_offset = value_offset + error.offset
            line = self.file.position(name_offset)[0]  # type: ignore[union-attr]
            name = next_name.lower()
            skip = _GAP.match(rest, rest.find("=") + 1).end()
            value_offset += error.offset + skip
            value = rest[skip:]

    def parse_value(self, value: str, value_offset: int, site_offset: int, what: str) -> list[_Part]:
        """A @string's value, macros expanded as far as they are known."""
        parts, error = self.tokenise(value, value_offset, site_offset, None, what)
        if error is not None and error.next_field is not None:
            self.problem("BIB001", value_offset + error.offset,
                         f"{what}: '{_excerpt(value[error.offset:])}' follows the value; "
                         "a @string defines one macro")
        return parts

    def tokenise(self, value: str, value_offset: int, site_offset: int, key: str | None,
                 what: str) -> tuple[list[_Part], _BadValue | None]:
        """Value parts with the macros known now expanded, reporting what Pandoc cannot read.

        ``site_offset`` is where an undefined macro is reported: the field name
        (or the @string), as the author looks there first.
        """
        file = self.file
        assert file is not None
        line, col = file.position(site_offset)
        tokens, error = _tokenise(value)
        parts, unreadable = self.expand(tokens, line, 1 if key else col, key)
        for word in unreadable:
            self.problem("BIB001", (line, col), f"{what}{_of(key)}: Pandoc cannot read the bare "
                         f"word '{_excerpt(word)}'; put it in braces: {{{_excerpt(word)}}}", key)
        if error is not None and error.next_field is None:
            self.problem("BIB001", value_offset + error.offset,
                         f"{what}{_of(key)} cannot be read: {error.message}", key)
        return parts, error

    def expand(self, tokens: list[tuple[int, str, bool]], line: int, col: int,
               key: str | None) -> tuple[list[_Part], list[str]]:
        """Parts with the macros defined so far expanded, the others kept as ``_Macro`` (at
        line, col); and the bare words Pandoc cannot read (kept as text)."""
        parts: list[_Part] = []
        unreadable: list[str] = []
        path = self.file.path  # type: ignore[union-attr]
        for _, text, is_name in tokens:
            if not is_name:
                parts.append(text)
            elif not _PANDOC_WORD.fullmatch(text):
                unreadable.append(text)
                parts.append(text)
            else:
                known = self.current.get(text.lower())
                if known is None:
                    parts.append(_Macro(text, path, line, col, key))
                elif self.afford(sum(len(p) if isinstance(p, str) else PART_COST for p in known)):
                    parts.extend(known)
                else:
                    parts.append(_Broken(text, "too-big", path, line, col, key))
        return _merge(parts), unreadable

    # -- failed blocks and free text ------------------------------------------

    def add_failed(self, block: bpm.ParsingFailedBlock, offset: int) -> None:
        file = self.file
        assert file is not None
        raw = block.raw or ""
        header = _HEADER.match(raw)
        kind = header.group(1).lower() if header else ""
        special = kind in ("string", "preamble", "comment")
        with_key = _FAILED_KEY.match(raw)
        key = with_key.group(2) if with_key and not special else None
        what = f"this @{kind}" if special else "this entry"
        reason = str(getattr(block.error, "abort_reason", "") or "")

        def line_at(index: int) -> int:
            return file.position(offset + index)[0]

        self.problem("BIB001", offset, f"{what} could not be read: {_diagnose(raw, reason, line_at)}", key)

    def check_free_text(self, raw: str, offset: int, previous: bpm.Block | None) -> None:
        """Text between blocks is a comment to BibTeX, but Pandoc stops at any '@' in it."""
        file = self.file
        assert file is not None
        if isinstance(previous, bpm.Entry) and _LOOKS_LIKE_FIELDS.match(raw):
            key = previous.key.strip()
            closing = max(file.text.rfind("}", 0, offset), file.text.rfind(")", 0, offset))
            self.problem("BIB001", max(closing, 0), f"entry '{key}' is closed too early by this '}}': "
                         "the text after it looks like more fields, which are ignored; remove it", key)
        cursor = 0
        for line in raw.split("\n"):
            code = line.split("%", 1)[0]
            at = code.find("@")
            if at >= 0:
                rest = code[at:]
                if _ENTRY_LIKE.match(raw, cursor + at):
                    advice = "put the '{' right after the entry type, on the same line"
                else:
                    advice = "remove it, or start the line with '%' to make it a comment"
                self.problem("BIB001", offset + cursor + at, f"Pandoc cannot read the '@' in "
                             f"'{_excerpt(rest)}': between entries an '@' must start an entry "
                             f"(@type{{key, ...}}); {advice}")
                return
            cursor += len(line) + 1

    # -- after the last file ---------------------------------------------------

    def finish(self) -> Bibliography:
        """Expand the macros that were defined after their use, and build the entries."""
        for parts in self.definitions:
            self.join(parts)  # reports undefined macros even in @strings nobody uses
        entries: dict[str, BibEntry] = {}
        for pending in self.pending:
            fields = {name: _clean(value if isinstance(value, str) else self.join(value, (pending, name)))
                      for name, value in pending.fields.items()}
            entries[pending.key] = BibEntry(pending.key, pending.type, fields, pending.path,
                                            pending.line, pending.col, pending.field_lines)
        strings = {name: self.join(parts) for name, parts in self.current.items()}
        self.note_affected()
        problems = [p for _, p in sorted(self.problems, key=lambda ip: (ip[0], ip[1].line, ip[1].col))]
        return Bibliography(entries, problems, strings)

    def join(self, parts: list[_Part], owner: tuple[_Pending, str] | None = None) -> str:
        """A value's text, its macros expanded; what cannot be expanded is reported (BIB009)
        and kept as the macro's name. ``owner`` is the entry and field the value belongs
        to: a broken macro that came in through an @string is reported at the @string,
        naming the entry, so that it is an error when the entry is cited."""
        if len(parts) == 1 and isinstance(parts[0], str):
            return parts[0]
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            name = part.name.lower()
            if isinstance(part, _Broken):
                self.report_macro(part, part.kind, part.name, owner)
                out.append(part.name)
                continue
            value = self.resolve_macro(name)
            problem = self.macro_problem(name)
            if problem is not None:
                self.report_macro(part, *problem, owner)
            if value is None or not self.afford(len(value)):
                if value is not None:
                    self.report_macro(part, "too-big", part.name, owner)
                out.append(part.name)
            else:
                out.append(value)
        return "".join(out)

    def macro_problem(self, name: str) -> tuple[str, str] | None:
        """(kind, culprit) when a macro's expansion is not its real value, else None."""
        if name not in self.first:
            return "undefined", name
        if name in self.too_big:
            return "too-big", name
        return self.tainted.get(name)

    def resolve_macro(self, name: str) -> str | None:
        """The value of a macro's first definition, fully expanded; None if it is not defined.

        Iterative (a chain of thousands of forward references must not hit
        Python's recursion limit). A reference back to a macro still being
        expanded is a cycle: reported, and kept as the raw name. Every macro
        being expanded when something goes wrong is marked as tainted, so
        that a field using it is reported too.
        """
        if name in self.final or name not in self.first:
            return self.final.get(name)
        self.final[name] = None  # None: being expanded
        stack: list[tuple[str, int, list[str]]] = [(name, 0, [])]
        while stack:
            current, index, out = stack[-1]
            parts = self.first[current]
            if index == len(parts):
                stack.pop()
                if self.afford(sum(map(len, out))):
                    value = "".join(out)
                else:
                    value = current
                    self.too_big.add(current)
                    self.taint(stack, "too-big", current)
                self.final[current] = value
                if stack:
                    stack[-1][2].append(value)
                continue
            stack[-1] = (current, index + 1, out)
            part = parts[index]
            if isinstance(part, str):
                out.append(part)
                continue
            sub = part.name.lower()
            if isinstance(part, _Broken):
                self.report_macro(part, part.kind, part.name)
                self.taint(stack, part.kind, part.name)
                out.append(part.name)
            elif sub not in self.first or (sub in self.final and self.final[sub] is None):
                kind = "undefined" if sub not in self.first else "cycle"
                self.report_macro(part, kind, part.name)
                self.taint(stack, kind, part.name)
                out.append(part.name)
            elif sub in self.final:
                if sub in self.too_big or sub in self.tainted:
                    self.taint(stack, *(self.tainted.get(sub) or ("too-big", sub)))
                out.append(self.final[sub])  # type: ignore[arg-type]
            else:
                self.final[sub] = None
                stack.append((sub, 0, []))
        return self.final[name]

    def taint(self, stack: list[tuple[str, int, list[str]]], kind: str, culprit: str) -> None:
        for macro, _, _ in stack:
            self.tainted.setdefault(macro, (kind, culprit))

    def report_macro(self, site: _Macro | _Broken, kind: str, culprit: str,
                     owner: tuple[_Pending, str] | None = None) -> None:
        """One BIB009 where the broken macro is written; ``owner``, the entry and field whose
        value it ends up in through an @string, is remembered with it (see BibProblem.affects)."""
        name = site.name
        ident = (site.path, site.line, site.col, name.lower(), site.key)
        if ident not in self.reported:
            self.reported.add(ident)
            if kind == "undefined" and culprit.lower() == name.lower():
                known = [*self.defined_at, *MONTH_MACROS]
                close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.75)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                message = (f"macro '{name}' is not defined in any bibliography file{hint}; define "
                           f"it with @string{{{name} = \"...\"}} or write the value in braces: "
                           f"{{{name}}}")
            else:
                message = f"{_macro_reason(kind, culprit, name)}{_MACRO_FIX[kind]}"
            self.report_index[ident] = len(self.problems)
            index = self.file_index.get(site.path, 0)
            self.problems.append((index, BibProblem("BIB009", site.path, site.line, site.col,
                                                    _one_line(message), site.key)))
        if owner is not None and site.key is None:
            self.affected.setdefault(ident, {})[owner[0].key] = None

    def note_affected(self) -> None:
        """Name, in each @string's BIB009, the entries whose values it spoils."""
        for ident, keys in self.affected.items():
            at = self.report_index[ident]
            index, problem = self.problems[at]
            users = list(keys)
            named = ", ".join(f"'{k}'" for k in users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
            message = f"{problem.message} (used by entry {named})"
            self.problems[at] = (index, replace(problem, message=message, affects=tuple(users)))


def _macro_reason(kind: str, culprit: str, name: str) -> str:
    """Why macro ``name`` has no real value (``culprit`` is the macro at fault), in plain words."""
    what = {
        "undefined": "is not defined in any bibliography file",
        "cycle": "is defined only through itself (a cycle of @string definitions)",
        "too-big": f"expands to too much text (more than {MAX_EXPANSION:,} characters in all: "
                   "macros built from macros over and over)",
    }[kind]
    if culprit.lower() == name.lower():
        return f"macro '{name}' {what}"
    return f"macro '{name}' uses macro '{culprit}', which {what}"


_MACRO_FIX = {
    "undefined": "; define it with @string or write the value in braces",
    "cycle": "; give one of them a plain value",
    "too-big": "; write the value out in braces instead",
}


_BLANKS = re.compile(r"[ \t\n\r\f\v]+")  # ASCII white space only: a no-break space is content


def _clean(value: str) -> str:
    """White space as BibTeX keeps it: each run becomes one space, none at either end."""
    if "\n" in value or "\t" in value or "  " in value or value[:1] == " " or value[-1:] == " ":
        return _BLANKS.sub(" ", value).strip(" ")
    return value


def _one_line(message: str) -> str:
    """Messages quote the author's text, which may hold line breaks; a message is one line."""
    return " ".join(message.split()) if any(c in message for c in "\n\r\t\f\v\x85\u2028\u2029") else message


def _of(key: str | None) -> str:
    return f" of entry '{key}'" if key else ""


def _merge(parts: list[_Part]) -> list[_Part]:
    """Adjacent literal parts joined, so a resolved value is usually one string."""
    if len(parts) < 2:
        return parts
    merged: list[_Part] = []
    for part in parts:
        if merged and isinstance(part, str) and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + part
        else:
            merged.append(part)
    return merged


def _diagnose(raw: str, reason: str, line_at: Callable[[int], int]) -> str:
    """Why a block failed, in the author's terms: which brace or quote, or which comma.

    bibtexparser's reason says where it gave up, which is often far from the
    mistake; an unclosed '{' is found by counting the block's own braces.
    """
    if "reached end of file" in reason or "Unexpected block start" in reason or not reason:
        stack: list[int] = []
        for m in _BRACES_OR_FIELD.finditer(raw):
            char = m.group()
            if char == "{":
                stack.append(m.start())
            elif char == "}":
                if stack:
                    stack.pop()
            elif len(stack) >= 2:
                # A line starting 'name =' while still inside a value: the value
                # opened before it swallowed the fields after it.
                return (f"a '{{' on line {line_at(stack[1])} is never closed — check the braces "
                        "in its fields")
        if len(stack) >= 2:
            return (f"a '{{' on line {line_at(stack[1])} is never closed — check the braces in "
                    "its fields")
        if len(stack) == 1:
            if len(re.findall(r'(?<![\\{])"', raw[stack[0] + 1 :])) % 2:
                return "a '\"' is never closed — check the quotes in its fields"
            return "a '{' is never closed — check the braces in its fields and the '}' that ends it"
    if "comma after entry key" in reason:
        return "there is no comma after its key — write @type{key, name = {value}, ...}"
    if "Expected a `=`" in reason or "Expected equals sign" in reason:
        return "a field name is not followed by '=' — write name = {value}, with a comma between fields"
    if "Expected either" in reason:
        return "a comma is missing between two of its fields"
    return "check its braces, quotes and commas ('@type{key, name = {value}, ...}')"


def build_bibliography(sources: Sequence[tuple[str, bytes | None, str | None]]) -> Bibliography:
    """One database from (path, bytes or None, read error) triples, in order. Pure: no I/O."""
    builder = _Builder()
    for index, (path, data, error) in enumerate(sources):
        builder.file = _File.of(index, path, "")
        if data is None:
            builder.problem("BIB012", (1, 1), error or "this file cannot be read")
            continue
        text, problem = _decode(data)
        if problem is not None:
            line, col, message = problem
            builder.problem("BIB012", (line, col), message)
        if text is None:
            continue
        builder.add_file(index, path, text)
    return builder.finish()
