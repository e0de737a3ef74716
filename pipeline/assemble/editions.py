"""Which chapters each edition holds, in reading order."""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass

from pipeline.project import Project
from pipeline.sources.chapters import Chapter


@dataclass(frozen=True)
class Plan:
    id: str
    kind: str  # 'paper' | 'summary' | 'offprint' | 'custom'
    title: str | None  # paper.yml's title for the edition, if any
    chapters: tuple[str, ...]  # paths, in reading order
    peer: str | None = None
    lang: str | None = None  # a translation's language (paper.yml languages); None: the paper's own


def _offprint(chapters: list[Chapter], peer: str, edition_id: str, title: str | None) -> Plan:
    paths = tuple(ch.path for ch in chapters if ch.kind == "case-study" and ch.meta.get("peer") == peer)
    return Plan(edition_id, "offprint", title, paths, peer)


def plan_editions(project: Project, chapters: list[Chapter]) -> list[Plan]:
    """paper.yml's editions (or the defaults), then those ``translate`` names once per language."""
    plans = _editions(project, chapters)
    taken = {p.id for p in plans}
    for language in project.languages:
        for plan in list(plans):
            if plan.lang is None and any(fnmatch.fnmatchcase(plan.id, g) for g in project.translate):
                lang_id = f"{plan.id}-{language.lang.lower()}"
                if lang_id not in taken:
                    plans.append(dataclasses.replace(plan, id=lang_id, lang=language.lang))
                    taken.add(lang_id)
    return plans


def _editions(project: Project, chapters: list[Chapter]) -> list[Plan]:
    """paper.yml's editions, or the defaults: the paper, its summary and one offprint per case study."""
    everything = tuple(ch.path for ch in chapters)
    if project.editions is None:
        plans = [Plan("paper", "paper", None, everything), Plan("summary", "summary", None, everything)]
        peers = [ch.meta.get("peer") for ch in chapters if ch.kind == "case-study"]
        for peer in peers:
            if isinstance(peer, str) and project.peer(peer):
                plans.append(_offprint(chapters, peer, f"case-study-{peer}", None))
        return plans
    plans = []
    for edition in project.editions:
        if edition.kind == "offprint":
            plans.append(_offprint(chapters, edition.peer or "", edition.id, edition.title))
        elif edition.kind == "custom":
            chosen = tuple(p for p in everything if any(fnmatch.fnmatchcase(p, g) for g in edition.chapters))
            plans.append(Plan(edition.id, "custom", edition.title, chosen))
        else:
            plans.append(Plan(edition.id, edition.kind, edition.title, everything))
    return plans


def display_title(plan: Plan, chapters: list[Chapter], terms: dict[str, str]) -> str:
    """How the landing page and the manifest name an edition."""
    if plan.title:
        return plan.title
    if plan.kind == "offprint":
        lead = next((ch for ch in chapters if ch.path in plan.chapters), None)
        title = lead.meta.get("title") if lead else None
        return f"{terms['offprint']}: {title}" if isinstance(title, str) else plan.id
    if plan.kind == "summary":
        return terms["summary"]
    return terms["paper"] if plan.kind == "paper" else plan.id
