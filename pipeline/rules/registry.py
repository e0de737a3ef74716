"""Rules as data: every check has a stable code, a default severity and one line
that says what it wants. ``paper rules`` prints this table; paper.yml's
``rules.severity`` can raise, lower or switch off any of them by code and glob.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from pipeline.rules.context import Context


@dataclass(frozen=True)
class Hit:
    """One finding of a rule; the registry turns it into a Diagnostic."""

    path: str
    line: int
    col: int
    message: str
    at_most_warning: bool = False  # about an entry nobody cites: never blocks a build
    key: str | None = None  # the bibliography entry it is about, if any


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str  # default: 'error' or 'warning'
    description: str
    check: Callable[["Context"], Iterable[Hit]]


def rule(code: str, name: str, severity: str, description: str):
    """Decorator: turns a check function into a registered Rule value."""

    def wrap(func: Callable[["Context"], Iterable[Hit]]) -> Rule:
        return Rule(code, name, severity, description, func)

    return wrap


def _collect() -> dict[str, Rule]:
    from pipeline.rules import (
        bibliography,
        citations,
        frontmatter,
        labels,
        media,
        release,
        safety,
        source,
        structure,
        translations,
    )

    found: dict[str, Rule] = {}
    for module in (source, frontmatter, structure, citations, bibliography, labels, media, safety, release, translations):
        for value in vars(module).values():
            if isinstance(value, Rule):
                assert value.code not in found, f"rule code {value.code} used twice"
                found[value.code] = value
    return dict(sorted(found.items()))


RULES: dict[str, Rule] = _collect()
