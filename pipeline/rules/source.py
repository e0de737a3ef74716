"""Problems found while reading files: encoding, size, front matter syntax."""

from __future__ import annotations

from typing import Iterable

from pipeline.rules.context import Context
from pipeline.rules.registry import Hit, rule


def _load_problems(ctx: Context, code: str) -> Iterable[Hit]:
    for ch in ctx.chapters:
        for p in ch.problems:
            if p.code == code:
                yield Hit(ch.path, p.line, p.col, p.message)


@rule("SRC001", "empty-file", "error", "a chapter file is empty")
def empty_file(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "SRC001")


@rule("SRC002", "binary-file", "error", "a chapter file is binary, not text")
def binary_file(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "SRC002")


@rule("SRC003", "invalid-utf8", "error", "a chapter file is not valid UTF-8 (the bad line is shown)")
def invalid_utf8(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "SRC003")


@rule("SRC004", "file-too-large", "error", "a chapter file is larger than rules.max_file_kb")
def file_too_large(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "SRC004")


@rule("SRC005", "unreadable-file", "error", "a chapter file cannot be read, or links outside the project")
def unreadable_file(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "SRC005")


@rule("FM001", "front-matter-missing", "error", "a chapter starts with a YAML front matter block")
def front_matter_missing(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "FM001")


@rule("FM002", "front-matter-unclosed", "error", "the front matter block is closed with '---'")
def front_matter_unclosed(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "FM002")


@rule("FM003", "front-matter-yaml", "error", "the front matter is valid YAML (reported at the YAML error's line)")
def front_matter_yaml(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "FM003")


@rule("FM004", "front-matter-not-mapping", "error", "the front matter is a mapping of 'field: value' lines")
def front_matter_not_mapping(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "FM004")


@rule("FM013", "front-matter-duplicate-field", "error", "no front matter field is given twice")
def front_matter_duplicate(ctx: Context) -> Iterable[Hit]:
    return _load_problems(ctx, "FM013")
