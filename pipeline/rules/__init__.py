"""VALIDATE stage: run every rule over the loaded paper; rules return diagnostics as values."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Iterable

from pipeline.diagnostics import Diagnostic
from pipeline.project import Project
from pipeline.rules.context import Context
from pipeline.rules.registry import RULES, Hit, Rule
from pipeline.sources.paper import Sources

__all__ = ["RULES", "Rule", "check"]


def _diagnostic(project: Project, rule: Rule, hit: Hit) -> Diagnostic | None:
    severity = project.rules.severity_for(rule.code, hit.path, rule.severity)
    if severity == "off":
        return None
    if hit.at_most_warning and severity == "error":
        severity = "warning"
    return Diagnostic(hit.path, max(1, hit.line), max(1, hit.col), severity, rule.code, hit.message)  # type: ignore[arg-type]


def check(project: Project, sources: Sources, only: Iterable[str] | None = None, *,
          release: bool = False) -> list[Diagnostic]:
    """All diagnostics, sorted by file and position; ``only`` keeps those in the given files.

    The whole paper is always loaded, so one chapter is checked in context
    (its labels, citations and peer against everything else).
    """
    ctx = Context(project, sources.chapters, sources.bibliography, release, sources.translations)
    wanted = None if only is None else {PurePosixPath(p).as_posix() for p in only}
    cited_by_wanted: set[str] = set()
    if wanted is not None:
        cited_by_wanted = {c.key for ch, c in ctx.citations if ch.path in wanted}
    out: set[Diagnostic] = set()
    runs = [(ctx, RULES.values(), None)] + [(c, language_rules(), paths) for c, paths in language_contexts(ctx)]
    for context, rules, kept in runs:
        for rule in rules:
            for hit in rule.check(context):
                if kept is not None and hit.path not in kept:
                    continue  # the language run reports on its translations only
                if wanted is not None and hit.path not in wanted and hit.key not in cited_by_wanted:
                    continue
                diagnostic = _diagnostic(project, rule, hit)
                if diagnostic is not None:
                    out.add(diagnostic)
    return capped(sorted(out, key=lambda d: (d.path, d.line, d.col, d.code, d.message)))


# What does not apply to a translation: the source language's section names and lengths, the
# reading order, the bibliography (checked once), release approval, and the translation rules.
NOT_FOR_TRANSLATIONS = ("STR001", "STR002", "STR006", "STR008", "LBL004", "REL", "BIB", "TRN")


def language_rules() -> list[Rule]:
    return [r for r in RULES.values() if not r.code.startswith(NOT_FOR_TRANSLATIONS)]


def language_contexts(ctx: Context) -> list[tuple[Context, set[str]]]:
    """Per language, the paper with each chapter translated so far in place of its source.

    Each translation is then checked as a chapter in the context of a whole paper (its
    citations, labels, cross-references, images, links, raw formats), and only what is
    found in the translations is reported: the sources had their own run.
    """
    out = []
    for lang in ctx.project.translation_langs:
        full = {t.source: t.chapter for t in ctx.translations
                if t.lang == lang and t.has_body and t.chapter.readable}
        if not full:
            continue
        chapters = [full.get(ch.path, ch) for ch in ctx.chapters]
        out.append((Context(ctx.project, chapters, ctx.bib, ctx.release),
                    {ch.path for ch in full.values() if ch in chapters}))
    return out


MAX_PER_FILE_AND_RULE = 100


def capped(diagnostics: list[Diagnostic], limit: int = MAX_PER_FILE_AND_RULE) -> list[Diagnostic]:
    """At most ``limit`` diagnostics of one rule in one file, then one that counts the rest.

    A generated or pasted file can hold half a million level-1 headings; listing
    them all costs seconds and hundreds of megabytes, floods the CI log, and helps
    nobody. The counting diagnostic is an error if any of those left out is one,
    so the exit code never changes.
    """
    totals: dict[tuple[str, str], int] = {}
    for d in diagnostics:
        key = (d.path, d.code)
        totals[key] = totals.get(key, 0) + 1
    if all(n <= limit for n in totals.values()):
        return diagnostics
    errors_left_out: set[tuple[str, str]] = set()
    seen: dict[tuple[str, str], int] = {}
    for d in diagnostics:
        key = (d.path, d.code)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > limit and d.severity == "error":
            errors_left_out.add(key)
    out: list[Diagnostic] = []
    seen.clear()
    for d in diagnostics:
        key = (d.path, d.code)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            out.append(d)
        elif seen[key] == limit + 1:
            more = totals[key] - limit
            severity = "error" if key in errors_left_out else "warning"
            out.append(Diagnostic(d.path, d.line, d.col, severity, d.code,  # type: ignore[arg-type]
                                  f"{more} more {d.code} problems in this file from here on are not listed "
                                  f"(only the first {limit} are); the first one here: {d.message}"))
    return out

