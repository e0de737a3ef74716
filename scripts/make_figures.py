#!/usr/bin/env python3
"""Draw the learning paper's three figures as SVG files in figures/.

Why a script: the figures only show names, dates and structure, so drawing them from this data keeps
them exact, reviewable in a diff and reproducible byte for byte. `--check` writes nothing and fails
when a committed file differs from what the script would write, so a test can prove where they come from.

Why plain SVG: the same file must render in browsers, in Typst's own SVG renderer (PDF edition) and in
EPUB readers, so the drawings use only presentation attributes (fill, stroke, font-size): no CSS, no
filters, no markers, no external fonts, images or links. Text is dark on white or white on dark
(WCAG AA), and meaning never rests on colour alone (labels, outline styles and shapes carry it too).

Usage: python scripts/make_figures.py [--check]
"""
from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

OUT = Path(__file__).resolve().parent.parent / "figures"

INK = "#1a1a1a"      # body text: 17:1 on white
NAVY = "#1f4e79"     # IDoS, members, dates: 8.7:1 on white
ACCENT = "#9c4400"   # initiators, NAO: 6.5:1 on white; white text on it 6.5:1
GREY = "#595959"     # connecting lines and partner dots: 7:1 on white
LIGHT = "#e3edf7"    # node fill; navy text on it 7.3:1
WARM = "#fbeee3"     # initiator fill
PALE = "#f4f7fb"     # card and panel background
FRAME = "#b3b3b3"    # decorative frames only


# --- SVG building blocks -------------------------------------------------------------------------

def _num(value: float) -> str:
    """Round to 0.1 so the output never depends on floating-point noise (and -0 never appears)."""
    return f"{round(value, 1) + 0.0:g}"


def _el(tag: str, body: str | None = None, **attrs) -> str:
    """One element; attribute names use '_' for '-', and None leaves an attribute out."""
    parts = "".join(
        f" {name.replace('_', '-')}={quoteattr(_num(v) if isinstance(v, (int, float)) else str(v))}"
        for name, v in attrs.items() if v is not None)
    return f"<{tag}{parts}/>" if body is None else f"<{tag}{parts}>{body}</{tag}>"


def _text(x: float, y: float, lines, size: float = 13, anchor: str = "middle", weight=None,
          style=None, fill: str = INK, leading: float = 1.3) -> str:
    """Lines of text with y as the first baseline. Every <tspan> gets an explicit x and y because
    browsers, Typst and EPUB readers all place absolute positions alike (dy and baselines vary)."""
    spans = "".join(_el("tspan", escape(line), x=x, y=y + i * size * leading)
                    for i, line in enumerate(lines))
    return _el("text", spans, font_size=size, text_anchor=anchor, font_weight=weight,
               font_style=style, fill=fill)


def _centred(x: float, cy: float, lines, size: float = 13, leading: float = 1.3, **kw) -> str:
    """Text block centred vertically on cy (0.35 em puts the middle of lower-case letters there)."""
    first = cy - (len(lines) - 1) * size * leading / 2 + 0.35 * size
    return _text(x, first, lines, size=size, leading=leading, **kw)


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Wrap to a pixel width, assuming wide glyphs (0.6 em, e.g. DejaVu Sans) so nothing overflows."""
    return textwrap.wrap(text, max(1, int(width / (0.6 * size))), break_on_hyphens=False)


def _line(a, b, stroke: str = GREY, width: float = 2, dash=None) -> str:
    return _el("line", x1=a[0], y1=a[1], x2=b[0], y2=b[1], stroke=stroke, stroke_width=width,
               stroke_dasharray=dash)


def _circle(c, r: float, fill: str, stroke=None, width=None, dash=None) -> str:
    return _el("circle", cx=c[0], cy=c[1], r=r, fill=fill, stroke=stroke, stroke_width=width,
               stroke_dasharray=dash)


def _toward(a, b, dist: float):
    """The point dist along the straight line from a to b (to end lines at a circle's edge)."""
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    return a[0] + (b[0] - a[0]) * dist / length, a[1] + (b[1] - a[1]) * dist / length


def _polar(c, r: float, degrees: float):
    return c[0] + r * math.cos(math.radians(degrees)), c[1] + r * math.sin(math.radians(degrees))


def _svg(slug: str, width: float, height: float, title: str, desc: str, body: list[str]) -> str:
    """A complete, self-contained document: the title and description are what screen readers
    announce, so they name everything the picture shows."""
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
            f'width="{_num(width)}" height="{_num(height)}" role="img" '
            f'aria-labelledby="{slug}-title {slug}-desc" font-family="sans-serif">\n'
            f'<title id="{slug}-title">{escape(title)}</title>\n'
            f'<desc id="{slug}-desc">{escape(desc)}</desc>\n')
    background = _el("rect", width=width, height=height, fill="#ffffff")
    return head + "\n".join([background, *body]) + "\n</svg>\n"


# --- Figure 1: IDoS as a network of networks ------------------------------------------------------

PEERS = [  # name split into lines by hand (so "à la pâte" stays together), country, initiator?
    (("Siemens", "Stiftung"), "Germany", True),
    (("Stiftung", "Kinder", "Forschen"), "Germany", True),
    (("Smithsonian", "Science", "Education", "Center"), "United States", False),
    (("LUMA Center", "Finland"), "Finland", False),
    (("Fondation", "La main", "à la pâte"), "France", False),
    (("Office for", "Climate", "Education"), "France", False),
]


def _peer(c, outward: float, name, country: str, initiator: bool, r: float = 74) -> list[str]:
    """A peer: its circle (dashed and labelled when an initiator, so it reads in greyscale too),
    its name and country, and four dots on the side away from IDoS for its own partners."""
    out = []
    for offset in (-48, -16, 16, 48):
        out.append(_line(_polar(c, r, outward + offset), _polar(c, r + 14, outward + offset), width=1.5))
        out.append(_circle(_polar(c, r + 18, outward + offset), 4.5, GREY))
    if initiator:
        out.append(_circle(c, r, WARM, ACCENT, 3.5, "9 5"))
    else:
        out.append(_circle(c, r, LIGHT, NAVY, 2))
    rows = [("initiator", 11, None, "italic", ACCENT)] if initiator else []
    rows += [(line, 13, "bold", None, INK) for line in name] + [(f"({country})", 12, None, None, INK)]
    top = c[1] - (len(rows) - 1) * 16 / 2
    for i, (line, size, weight, style, fill) in enumerate(rows):
        out.append(_text(c[0], top + i * 16 + 0.35 * size, [line], size=size, weight=weight,
                         style=style, fill=fill))
    return out


def network_of_networks() -> str:
    """IDoS in the centre, linked to its six peers, each with a schematic network of its own."""
    width, centre, hub_r, peer_r = 800, (400, 340), 88, 74
    body, peers = [], []
    for i, (name, country, initiator) in enumerate(PEERS):
        angle = -90 + 60 * i
        c = (centre[0] + 260 * math.cos(math.radians(angle)), centre[1] + 225 * math.sin(math.radians(angle)))
        outward = math.degrees(math.atan2(c[1] - centre[1], c[0] - centre[0]))
        body.append(_line(_toward(centre, c, hub_r), _toward(c, centre, peer_r), width=2.5))
        peers += _peer(c, outward, name, country, initiator, peer_r)
    body.append(_circle(centre, hub_r, NAVY))
    body.append(_centred(centre[0], centre[1], ["International", "Dialogue on", "STEM Education", "(IDoS)"],
                         size=15, weight="bold", fill="#ffffff"))
    body += peers

    top = 690  # legend: one symbol per meaning, each with words
    body.append(_el("rect", x=20, y=top, width=760, height=84, rx=6, fill=PALE, stroke=FRAME))
    body.append(_circle((52, top + 24), 12, LIGHT, NAVY, 2))
    body.append(_text(76, top + 29, ["peer organisation"], anchor="start"))
    body.append(_circle((452, top + 24), 12, WARM, ACCENT, 3, "5 3"))
    body.append(_text(476, top + 29, ["initiator peer"], anchor="start"))
    mini = (52, top + 60)
    for a in (-60, -20, 20, 60):
        body.append(_circle(_polar(mini, 15, a), 3, GREY))
    body.append(_circle(mini, 7, LIGHT, NAVY, 1.5))
    body.append(_text(76, top + 65, ["the peer’s own network of partners (schematic)"], anchor="start"))
    body.append(_line((436, top + 60), (468, top + 60), width=2.5))
    body.append(_text(476, top + 65, ["link between a peer and IDoS"], anchor="start"))

    desc = ("Diagram of IDoS as a network of networks. A large dark circle in the centre is labelled "
            "International Dialogue on STEM Education (IDoS). Lines connect it to six surrounding circles, "
            "one for each peer: Siemens Stiftung (Germany) and Stiftung Kinder Forschen (Germany), both "
            "marked as initiators with a dashed outline and the word initiator; Smithsonian Science "
            "Education Center (United States); LUMA Center Finland (Finland); Fondation La main à la pâte "
            "(France); and Office for Climate Education (France). Each peer circle has four small dots "
            "around it, a schematic of the peer’s own network of partners. A legend explains the symbols.")
    return _svg("network-of-networks", width, top + 100, "IDoS as a network of networks", desc, body)


# --- Figure 2: timeline ---------------------------------------------------------------------------

EVENTS = [  # year, month, date, what happened, side of the axis, left and right edge of its card
    (2017, 11, "Nov 2017", "First IDoS conference, Berlin", "above", 30, 290),
    (2019, 12, "Dec 2019", "Second conference, Berlin: STEM education for sustainable development; "
                           "first position paper", "below", 190, 470),
    (2021, 6, "Jun 2021", "First virtual peer meeting", "above", 320, 555),
    (2021, 12, "Dec 2021", "Peers agree to write a joint paper", "below", 485, 635),
    (2022, 4, "Apr 2022", "LUMA Center Finland, La main à la pâte and the Office for Climate "
                          "Education join", "above", 575, 790),
    (2022, 10, "Oct 2022", "First in-person peer meeting, Berlin: work on the learning paper",
     "below", 650, 790),
]


def _year_x(year: float) -> float:
    """2017 to 2023 on a linear scale, so the gaps between events are true to time."""
    return 50 + (year - 2017) * 700 / 6


def timeline() -> str:
    """Events alternate above and below the axis; each sits in a card placed by hand (EVENTS) so the
    crowded years 2021 and 2022 stay readable, with a short stem to its exact date."""
    size, lead, pad, gap = 13, 17, 10, 50
    cards = []
    for year, month, date, what, side, x0, x1 in EVENTS:
        lines = _wrap(what, x1 - x0 - 2 * pad, size)
        cards.append((_year_x(year + (month - 0.5) / 12), date, lines, side, x0, x1,
                      2 * pad + size + len(lines) * lead))
    tallest = {side: max(card[-1] for card in cards if card[3] == side) for side in ("above", "below")}
    axis = 20 + tallest["above"] + gap
    height = axis + gap + tallest["below"] + 20

    body = [_el("rect", x=20, y=axis - 14, width=760, height=28, rx=14, fill="#e6e6e6")]
    for year in range(2017, 2024):
        x = _year_x(year)
        body.append(_line((x, axis - 14), (x, axis - 8), stroke=GREY, width=1.5))
        body.append(_line((x, axis + 8), (x, axis + 14), stroke=GREY, width=1.5))
        body.append(_text(x, axis + 4.5, [str(year)], size=13, weight="bold"))
    for x, date, lines, side, x0, x1, h in cards:
        sign = -1 if side == "above" else 1
        edge = axis + sign * 14
        top = axis - gap - h if side == "above" else axis + gap
        near = top + h if side == "above" else top
        body.append(_line((x, edge), (min(max(x, x0 + 12), x1 - 12), near), stroke=NAVY, width=1.5))
        body.append(_circle((x, edge), 6, NAVY, "#ffffff", 2))
        body.append(_el("rect", x=x0, y=top, width=x1 - x0, height=h, rx=6, fill=PALE, stroke=NAVY,
                        stroke_width=1))
        body.append(_text(x0 + pad, top + pad + 0.8 * size, [date], size=size, anchor="start",
                          weight="bold", fill=NAVY))
        body.append(_text(x0 + pad, top + pad + 0.8 * size + lead, lines, size=size, anchor="start",
                          leading=lead / size))

    desc = ("Timeline from 2017 to 2023 with six events. November 2017: first IDoS conference in Berlin. "
            "December 2019: second conference in Berlin, on STEM education for sustainable development, "
            "and the first position paper. June 2021: first virtual peer meeting. December 2021: the peers "
            "agree to write a joint paper. April 2022: LUMA Center Finland, La main à la pâte and the "
            "Office for Climate Education join. October 2022: first in-person peer meeting in Berlin, "
            "working on the learning paper.")
    return _svg("timeline", 800, height, "From conferences to a peer network, 2017–2022", desc, body)


# --- Figure 3: governance modes -------------------------------------------------------------------

def _member(c, r: float = 17) -> str:
    return _circle(c, r, LIGHT, NAVY, 2)


def _panel(cx: float, heading, caption: str, drawing: list[str]) -> list[str]:
    """A framed panel: two-line heading on top, the drawing, a one-line caption below."""
    return [_el("rect", x=cx - 125, y=12, width=250, height=300, rx=8, fill=PALE, stroke=FRAME),
            _text(cx, 40, heading, size=14, weight="bold"), *drawing,
            _text(cx, 292, [caption], size=14, style="italic")]


def governance_modes() -> str:
    """Provan and Kenis's three forms side by side, drawn alike so only the governance differs."""
    centre_y, ring = 170, 78
    body = []

    c = (138, centre_y)  # (a) everyone linked to everyone
    nodes = [_polar(c, ring, -90 + 72 * i) for i in range(5)]
    links = [_line(a, b, width=1.5) for i, a in enumerate(nodes) for b in nodes[i + 1:]]
    body += _panel(c[0], ["(a) Shared", "governance"], "members govern together",
                   links + [_member(n) for n in nodes])

    c = (400, centre_y)  # (b) one larger member in the middle
    nodes = [_polar(c, ring, -45 + 90 * i) for i in range(4)]
    drawing = [_line(c, n, width=1.5) for n in nodes] + [_member(n) for n in nodes]
    drawing += [_circle(c, 28, NAVY), _centred(c[0], c[1], ["lead"], size=13, weight="bold", fill="#ffffff")]
    body += _panel(c[0], ["(b) Lead", "organisation"], "one member coordinates", drawing)

    c = (662, centre_y)  # (c) a square body outside the membership
    nodes = [_polar(c, ring, -90 + 72 * i) for i in range(5)]
    drawing = [_line(c, n, width=1.5) for n in nodes] + [_member(n) for n in nodes]
    drawing += [_el("rect", x=c[0] - 24, y=c[1] - 24, width=48, height=48, fill=ACCENT),
                _centred(c[0], c[1], ["NAO"], size=13, weight="bold", fill="#ffffff")]
    body += _panel(c[0], ["(c) Network administrative", "organisation"], "a separate body coordinates",
                   drawing)

    y = 342  # legend
    body += [_member((40, y), 10), _text(58, y + 4.5, ["network member"], anchor="start"),
             _circle((262, y), 13, NAVY), _text(284, y + 4.5, ["lead organisation (a member)"], anchor="start"),
             _el("rect", x=532, y=y - 12, width=24, height=24, fill=ACCENT),
             _text(566, y + 4.5, ["NAO (not a member)"], anchor="start")]

    desc = ("Three panels compare forms of network governance, after Provan and Kenis (2008). "
            "Panel a, shared governance: five member circles, each connected to every other; caption: "
            "members govern together. Panel b, lead organisation: one larger dark member circle labelled "
            "lead in the centre, connected to four other members; caption: one member coordinates. "
            "Panel c, network administrative organisation: a dark square labelled NAO, which is not a "
            "member, in the centre, connected to five member circles; caption: a separate body "
            "coordinates. A legend explains the circle, the larger dark circle and the square.")
    return _svg("governance-modes", 800, 366, "Three forms of network governance (after Provan and Kenis, 2008)",
                desc, body)


FIGURES = {
    "network-of-networks.svg": network_of_networks,
    "timeline.svg": timeline,
    "governance-modes.svg": governance_modes,
}


def main(argv: list[str]) -> int:
    """Write every figure, or with --check only report the files that differ from what we'd write."""
    check = argv == ["--check"]
    if argv and not check:
        print("usage: python scripts/make_figures.py [--check]", file=sys.stderr)
        return 2
    stale = []
    for name, draw in FIGURES.items():
        data, path = draw().encode("utf-8"), OUT / name
        if check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_bytes(data)
    for name in stale:
        print(f"figures/{name} differs from what scripts/make_figures.py would write", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
