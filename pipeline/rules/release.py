"""Release: what `paper build --release` asks beyond the everyday check.

A tagged release is what readers cite, so the editors can insist (paper.yml
``release.require_approved``) that every chapter of an edition has been approved.
These rules say nothing in a plain `paper check` or `paper build`.
"""

from __future__ import annotations

from typing import Iterable

from pipeline.assemble.editions import plan_editions
from pipeline.rules.context import Context
from pipeline.rules.registry import Hit, rule


@rule("REL001", "release-approval", "error",
      "in `paper build --release`, every chapter of the editions release.require_approved names is approved")
def release_approval(ctx: Context) -> Iterable[Hit]:
    if not ctx.release or not ctx.project.release_approved:
        return
    plans = {p.id: p for p in plan_editions(ctx.project, ctx.chapters)}
    needing: dict[str, list[str]] = {}
    for edition in ctx.project.release_approved:
        for path in plans[edition].chapters if edition in plans else ():
            needing.setdefault(path, []).append(edition)
    for ch in ctx.chapters:
        status = ch.meta.get("status", "draft") if isinstance(ch.meta, dict) else "draft"
        if ch.path not in needing or status == "approved":
            continue
        line, col = ch.meta_pos("status") if "status" in ch.meta else (1, 1)
        editions = ", ".join(f"'{e}'" for e in needing[ch.path])
        yield Hit(ch.path, line, col,
                  f"this chapter is '{status}', and a release of {editions} needs every chapter approved; "
                  "set 'status: approved' in its front matter once the editors have approved it")

