"""Cross-references: every @fig:/@tbl:/@sec: reaches exactly one label in the paper."""

from __future__ import annotations

from typing import Iterable

from pipeline.rules.context import LABEL_KINDS, Context, did_you_mean, label_of
from pipeline.rules.registry import Hit, rule

# which element each prefix belongs on
EXPECTED_KIND = {"fig": ("image", "div"), "tbl": ("table", "div"), "sec": ("heading", "chapter", "div")}


@rule("LBL001", "unresolved-reference", "error", "every @fig:/@tbl:/@sec: reference has a label somewhere in the paper")
def unresolved_reference(ctx: Context) -> Iterable[Hit]:
    labels = ctx.labels
    for ch, c in ctx.crossrefs:
        target = label_of(c.key)
        if target in labels:
            continue
        prefix = target.split(":", 1)[0]
        same_kind = [k for k in labels if k.startswith(prefix + ":")]
        hint = did_you_mean(target, same_kind, 0.6) or did_you_mean(target, labels, 0.75)
        what = LABEL_KINDS[prefix]
        yield Hit(ch.path, c.line, c.col,
                  f"no {what} is labelled '{target}'{hint or f'; add {{#{target}}} to the {what} you mean'}")


@rule("LBL002", "duplicate-label", "error", "no label or id is used twice in the whole paper")
def duplicate_label(ctx: Context) -> Iterable[Hit]:
    for label, places in ctx.labels.items():
        first = places[0][0]
        for place, _kind in places[1:]:
            where = "this chapter" if place.chapter is first.chapter else first.chapter.path
            yield Hit(place.chapter.path, place.line, place.col,
                      f"label '{label}' is already used at {where}:{first.line}; labels must be unique "
                      "in the whole paper")


@rule("LBL003", "label-kind", "warning", "a label's prefix matches what it labels (fig: on images, tbl: on tables, sec: on headings)")
def label_kind(ctx: Context) -> Iterable[Hit]:
    for label, places in ctx.labels.items():
        prefix = label.split(":", 1)[0] if ":" in label else ""
        if prefix not in EXPECTED_KIND:
            continue
        for place, kind in places:
            if kind not in EXPECTED_KIND[prefix]:
                yield Hit(place.chapter.path, place.line, place.col,
                          f"label '{label}' is on a {kind}, but '{prefix}:' labels a {LABEL_KINDS[prefix]}")


@rule("LBL004", "unreferenced-label", "warning", "every labelled figure and table is referred to from the text (@fig:id, @tbl:id)")
def unreferenced_label(ctx: Context) -> Iterable[Hit]:
    """A figure nobody points to is easy to miss in print, where it may float pages away."""
    referenced = {label_of(c.key) for _, c in ctx.crossrefs}
    for label, places in ctx.labels.items():
        prefix = label.split(":", 1)[0]
        if prefix not in ("fig", "tbl") or label in referenced:
            continue
        place, _kind = places[0]
        yield Hit(place.chapter.path, place.line, place.col,
                  f"no text refers to {LABEL_KINDS[prefix]} '{label}'; mention it where the reader "
                  f"should look at it, e.g. 'as @{label} shows'")
