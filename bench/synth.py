"""Synthetic paper projects for the benchmark, generated deterministically.

    python bench/synth.py DEST --chapters 100 --refs 2000 [--case-studies 30] [--seed 7]

writes a complete paper project into DEST (which must be empty or absent):
paper.yml, references.bib, chapters/*.md, case_studies/*.md and figures/ (PNG
and SVG files drawn here, in code). Every section is about 250 words of
generated prose. The chapters cite the bibliography (every entry of a small
one; 600 entries of a large, shared one: see DEFAULT_CITED), hold one figure
({#fig:}) and one table ({#tbl:}) each, refer to both, and cross-reference
other chapters (@sec:). The same arguments always give the same bytes, so
timings of two runs compare like with like. The project passes `paper check`
with no errors (and, by design, no warnings).
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 20240607
SECTION_WORDS = 250
# How many entries a paper cites at most; the rest of a larger bibliography is a shared
# one that nobody cites in full (BIB010 is then switched off). Pandoc's citeproc with APA
# grows much faster than linearly with the entries one document cites (measured here with
# nocite '@*': 200 entries 0.5 s, 500 3 s, 1,000 21 s, 2,000 110 s), so a paper citing all
# 2,000 would make every timing a measure of that one step.
DEFAULT_CITED = 600
CHAPTER_SECTIONS = 4
CASE_STUDY_SECTIONS = (
    "Context",
    "The network",
    "How it works",
    "Impact and evidence",
    "Success factors",
    "Lessons for others",
)

# Plain words only: no '@', '#', '[', '*', '_' or anything else Markdown or the check reads.
NOUNS = """network teacher school pupil child classroom science mathematics technology
engineering curriculum lesson inquiry experiment question partner foundation centre
programme region country university kindergarten practice community evidence method
material training workshop mentor coach leader district ministry policy budget
volunteer family museum library laboratory project outcome impact study survey
interview group meeting conference framework strategy model approach resource tool
activity topic skill habit idea problem solution pattern process decision support
exchange dialogue governance member peer board council agency funder report
assessment standard guideline goal value culture trust knowledge capacity""".split()
VERBS = """supports shapes improves connects strengthens encourages explores describes
reveals builds extends guides enables shares tests compares measures frames links
informs sustains broadens deepens organises documents reflects invites""".split()
ADJECTIVES = """early local national regional shared practical informal formal open
careful reliable durable small large diverse young new experienced coherent
collaborative independent common rural urban scientific digital simple complex
steady gradual visible quiet strong modest""".split()
ADVERBS = """often rarely gradually clearly slowly quickly carefully openly jointly
usually""".split()
CONNECTIVES = ["Moreover", "However", "In practice", "At the same time", "For example",
               "In turn", "As a result", "Over time", "In many cases", "Even so"]
SURNAMES = """Andersen Baker Castillo Dubois Eriksson Fischer Garcia Hansen Ito Jansen
Kowalski Laine Moreau Nakamura Okafor Petrov Quinn Rossi Schmidt Tanaka Ueda
Virtanen Weber Xu Yilmaz Zimmermann Novak Horvat Silva Costa Murphy Kelly Nguyen
Mensah Haddad Larsen Berg Lindqvist Ferrari Romano Müller Šimek Øberg""".split()
GIVEN = """Anna Ben Clara David Elena Farid Grace Hugo Ines Jonas Kaisa Luca Maria
Nils Olga Pablo Rosa Sami Tara Ugo Vera Wim Yara Zoe""".split()
JOURNALS = ["Journal of Science Teacher Education", "International Journal of STEM Education",
            "Early Childhood Research Quarterly", "Research in Science Education",
            "Public Administration Review", "Journal of Educational Change",
            "Studies in Science Education", "Educational Research Review",
            "Journal of Research in Science Teaching", "Science Education"]
PUBLISHERS = ["Cambridge University Press", "Oxford University Press", "Routledge",
              "Springer", "Sage", "MIT Press", "Palgrave Macmillan", "Wiley"]
PEER_COUNTRIES = ["Finland", "France", "Germany", "Kenya", "Brazil", "Japan",
                  "Canada", "India", "Spain", "Norway", "Chile", "Ghana"]


@dataclass
class Project:
    """What was generated, for the benchmark to find its way around."""

    root: Path
    chapters: list[str] = field(default_factory=list)      # paths relative to root, reading order
    case_studies: list[str] = field(default_factory=list)  # the case-study paths among them
    words: int = 0
    refs: int = 0
    cited: int = 0
    figures: int = 0


# --- prose -------------------------------------------------------------------

def sentence(rng: random.Random) -> str:
    words = [rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS)]
    words += [rng.choice(("the", "a", "each", "every", "their")), rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    if rng.random() < 0.6:
        words += [rng.choice(("in", "with", "for", "across", "through")),
                  rng.choice(("the", "each", "a")), rng.choice(NOUNS)]
    if rng.random() < 0.4:
        words += [rng.choice(ADVERBS)]
    if rng.random() < 0.3:
        words = [rng.choice(CONNECTIVES) + ","] + words
        return " ".join(words) + "."
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def wrap(text: str, width: int = 78) -> str:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "\n".join(lines)


def count_words(text: str) -> int:
    return len(text.split())


def section_text(rng: random.Random, cite: list[str], extra: list[str], words: int = SECTION_WORDS) -> str:
    """About ``words`` words in two or three paragraphs; ``cite`` keys each cited once, ``extra`` sentences placed in."""
    sentences: list[str] = []
    total = 0
    pending = list(cite)
    inserts = list(extra)
    while total < words:
        s = sentence(rng)
        if pending and rng.random() < 0.5:
            group = [pending.pop(0) for _ in range(min(len(pending), rng.choice((1, 1, 2))))]
            if rng.random() < 0.25 and len(group) == 1:
                s = f"@{group[0]} argues that {s[0].lower()}{s[1:]}"
            else:
                s = s[:-1] + " [" + "; ".join(f"@{k}" for k in group) + "]."
        sentences.append(s)
        total += count_words(s)
        if inserts and rng.random() < 0.2:
            sentences.append(inserts.pop(0))
    while pending:
        group = pending[:2]
        del pending[:2]
        sentences.append(sentence(rng)[:-1] + " [" + "; ".join(f"@{k}" for k in group) + "].")
    sentences.extend(inserts)
    n = len(sentences)
    cuts = sorted({max(1, min(n - 1, n * part // 3 + rng.randint(-2, 2))) for part in (1, 2)}) if n > 3 else []
    paragraphs, start = [], 0
    for cut in cuts + [len(sentences)]:
        if cut > start:
            paragraphs.append(wrap(" ".join(sentences[start:cut])))
            start = cut
    return "\n\n".join(paragraphs)


def title_words(rng: random.Random, n: int) -> str:
    words = [rng.choice(ADJECTIVES + NOUNS) for _ in range(n)]
    return " ".join(w.capitalize() if i == 0 else w for i, w in enumerate(words))


# --- figures -----------------------------------------------------------------

def png_bytes(rng: random.Random, width: int = 96, height: int = 64) -> bytes:
    """A small bar chart as an RGB PNG, written without any imaging library."""
    bars = [rng.randint(8, height - 4) for _ in range(6)]
    colour = (rng.randint(30, 200), rng.randint(60, 200), rng.randint(90, 230))
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            bar = x * len(bars) // width
            inside = (x % (width // len(bars))) > 2 and height - y <= bars[bar]
            row += bytes(colour) if inside else b"\xff\xff\xff"
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def svg_text(rng: random.Random, label: str) -> str:
    """A small SVG diagram: circles joined to a centre, one label."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160" viewBox="0 0 240 160">',
             '<rect width="240" height="160" fill="#ffffff"/>']
    nodes = [(rng.randint(20, 220), rng.randint(20, 140)) for _ in range(5)]
    for x, y in nodes:
        parts.append(f'<line x1="120" y1="80" x2="{x}" y2="{y}" stroke="#567" stroke-width="2"/>')
    for x, y in nodes:
        parts.append(f'<circle cx="{x}" cy="{y}" r="9" fill="#8ac"/>')
    parts.append('<circle cx="120" cy="80" r="14" fill="#357"/>')
    parts.append(f'<text x="120" y="154" font-size="12" text-anchor="middle" fill="#222">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# --- bibliography --------------------------------------------------------------

# Surnames built from syllables, so that two entries rarely share an author and a year,
# as in a real bibliography (with a few dozen surnames, APA would add initials and
# 2001a/2001b suffixes to most citations).
ONSETS = "Ba Be Bo Ca Da De Fa Ga Ha Ja Ka Ko La Le Ma Mi Na No Pa Ra Sa Ta To Va Wa Ya Za".split()
MIDDLES = "ber dal fen gor kin lan mar nes por ren sil tan vel win".split()
ENDINGS = "a berg ez in ko lund man nen o ov ski son stein ti".split()


def surname(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(SURNAMES)
    return rng.choice(ONSETS) + rng.choice(MIDDLES) + rng.choice(ENDINGS)


def bib_entries(rng: random.Random, count: int) -> tuple[list[str], str]:
    keys: list[str] = []
    blocks = ["% Synthetic bibliography generated by bench/synth.py; every entry is fiction.\n"]
    for i in range(count):
        lead = surname(rng)
        year = rng.randint(1985, 2024)
        word = rng.choice(NOUNS)
        key = f"{ascii_key(lead)}{year}{word}{i:04d}"
        keys.append(key)
        authors = " and ".join(
            f"{surname(rng)}, {rng.choice(GIVEN)}" for _ in range(rng.choice((1, 1, 2, 3)))
        )
        authors = f"{lead}, {rng.choice(GIVEN)}" + (f" and {authors}" if rng.random() < 0.6 else "")
        title = title_words(rng, rng.randint(4, 9))
        doi = f"10.{rng.randint(1000, 99999)}/synth.{year}.{i:05d}"
        if rng.random() < 0.65:
            blocks.append(
                f"@article{{{key},\n"
                f"  author  = {{{authors}}},\n"
                f"  title   = {{{title}}},\n"
                f"  journal = {{{rng.choice(JOURNALS)}}},\n"
                f"  year    = {{{year}}},\n"
                f"  volume  = {{{rng.randint(1, 60)}}},\n"
                f"  number  = {{{rng.randint(1, 12)}}},\n"
                f"  pages   = {{{(p := rng.randint(1, 400))}--{p + rng.randint(5, 30)}}},\n"
                f"  doi     = {{{doi}}}\n"
                f"}}\n")
        else:
            blocks.append(
                f"@book{{{key},\n"
                f"  author    = {{{authors}}},\n"
                f"  title     = {{{title}}},\n"
                f"  publisher = {{{rng.choice(PUBLISHERS)}}},\n"
                f"  address   = {{{rng.choice(('London', 'New York', 'Cambridge', 'Berlin', 'Paris'))}}},\n"
                f"  year      = {{{year}}},\n"
                f"  doi       = {{{doi}}}\n"
                f"}}\n")
    return keys, "\n".join(blocks)


def ascii_key(name: str) -> str:
    return "".join(c for c in name.lower() if "a" <= c <= "z") or "anon"


# --- chapters ----------------------------------------------------------------

def front_matter(title: str, authors: list[tuple[str, str]], summary: str, peer: str | None) -> str:
    lines = ["---", f'title: "{title}"', "authors:"]
    for name, affiliation in authors:
        lines += [f'  - name: "{name}"', f'    affiliation: "{affiliation}"']
    lines += ["summary: >", *("  " + line for line in wrap(summary, 74).split("\n"))]
    lines += ["status: draft", "lang: en"]
    if peer:
        lines.append(f"peer: {peer}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def figure_block(fig_id: str, path: str, alt: str) -> str:
    return f"![{alt}]({path}){{#fig:{fig_id}}}"


def table_block(rng: random.Random, tbl_id: str) -> str:
    rows = ["| Year | Members | Activities |", "|-----:|--------:|:-----------|"]
    for _ in range(4):
        rows.append(f"| {rng.randint(2000, 2024)} | {rng.randint(3, 400)} | "
                    f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}s |")
    rows.append("")
    rows.append(f": {title_words(rng, 4)} by year {{#tbl:{tbl_id}}}")
    return "\n".join(rows)


def generate(dest: Path, chapters: int, refs: int, case_studies: int | None = None,
             seed: int = DEFAULT_SEED, cited: int | None = None) -> Project:
    """Write the project into ``dest`` and describe it; ``cited`` entries of ``refs`` are cited."""
    if chapters < 2:
        raise ValueError("a synthetic paper needs at least 2 chapters")
    if case_studies is None:
        case_studies = default_case_studies(chapters)
    case_studies = max(1, min(case_studies, chapters - 1))
    cited = min(refs, DEFAULT_CITED if cited is None else max(1, cited))
    shared = chapters - case_studies
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    rng = random.Random(seed * 1_000_003 + chapters * 10_007 + refs)
    for folder in ("chapters", "case_studies", "figures"):
        (dest / folder).mkdir(parents=True, exist_ok=True)

    keys, bib = bib_entries(rng, refs)
    (dest / "references.bib").write_text(bib, encoding="utf-8")

    # Names and stems first, so chapters can refer forwards as well as back.
    stems = [f"{i + 1:03d}-{rng.choice(NOUNS)}" for i in range(shared)]
    peers = [f"peer-{i + 1:03d}" for i in range(case_studies)]
    paths = [f"chapters/{s}.md" for s in stems] + [f"case_studies/{p}.md" for p in peers]
    all_stems = stems + peers
    # ``cited`` keys each cited at least once, spread over the chapters; a few cited again elsewhere.
    shuffled = list(keys)
    rng.shuffle(shuffled)
    pool = shuffled[:cited]
    share: list[list[str]] = [[] for _ in paths]
    for i, key in enumerate(pool):
        share[i % len(paths)].append(key)
    for bucket in share:
        bucket.extend(rng.sample(pool, k=min(len(pool), 2)))

    project = Project(dest, list(paths), [p for p in paths if p.startswith("case_studies/")],
                      refs=refs, cited=cited)
    for index, (rel, stem) in enumerate(zip(paths, all_stems)):
        is_case = rel.startswith("case_studies/")
        headings = list(CASE_STUDY_SECTIONS) if is_case else [title_words(rng, 3) for _ in range(CHAPTER_SECTIONS)]
        labels = [f"sec:{stem}-s{n + 1}" for n in range(len(headings))]
        fig_ext = "svg" if index % 2 else "png"
        fig_name = f"fig-{stem}.{fig_ext}"
        if fig_ext == "png":
            (dest / "figures" / fig_name).write_bytes(png_bytes(rng))
        else:
            (dest / "figures" / fig_name).write_text(svg_text(rng, stem), encoding="utf-8")
        project.figures += 1
        other = all_stems[(index + 1) % len(all_stems)]
        before = all_stems[index - 1]
        extra = [
            [f"As @fig:{stem} shows, the {rng.choice(NOUNS)} {rng.choice(VERBS)} the {rng.choice(NOUNS)}."],
            [f"The figures in @tbl:{stem} {rng.choice(VERBS)} the {rng.choice(NOUNS)} over time."],
            [f"@sec:{other} returns to this {rng.choice(NOUNS)}, and @sec:{before}-s2 "
             f"{rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}."],
        ]
        keys_here = share[index]
        per = -(-len(keys_here) // len(headings))
        body = []
        for n, heading in enumerate(headings):
            body.append(f"## {heading} {{#{labels[n]}}}")
            body.append(section_text(rng, keys_here[n * per:(n + 1) * per], extra[n] if n < len(extra) else []))
            if n == 0:
                alt = (f"A {rng.choice(ADJECTIVES)} chart of the {rng.choice(NOUNS)} in "
                       f"{stem.replace('-', ' ')}: {sentence(rng)[:-1].lower()}")
                body.append(figure_block(stem, f"../figures/{fig_name}", alt))
            if n == 1:
                body.append(table_block(rng, stem))
        text = "\n\n".join(body) + "\n"
        title = (f"Case study {index + 1 - shared}: the {title_words(rng, 2).lower()} network"
                 if is_case else title_words(rng, 5))
        authors = [(f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}",
                    f"{rng.choice(ADJECTIVES).capitalize()} {rng.choice(NOUNS).capitalize()} Institute")
                   for _ in range(rng.choice((1, 2, 3)))]
        summary = " ".join(sentence(rng) for _ in range(5))
        peer = stem if is_case else None
        (dest / rel).write_text(front_matter(title, authors, summary, peer) + "\n" + text, encoding="utf-8")
        project.words += count_words(text)

    (dest / "paper.yml").write_text(paper_yml(rng, stems, peers, shared_bib=cited < refs), encoding="utf-8")
    return project


def default_case_studies(chapters: int) -> int:
    """10 chapters: 4 shared + 6 case studies (like the shipped paper); 100: 70 + 30."""
    return 6 if chapters <= 10 else max(6, chapters * 3 // 10)


def paper_yml(rng: random.Random, stems: list[str], peers: list[str], shared_bib: bool) -> str:
    lines = [
        "# A synthetic paper generated by bench/synth.py for the benchmark.",
        "title: A synthetic learning paper on networks in early science education",
        "subtitle: Generated for the build benchmark",
        "editors:",
        "  - name: Ada Example",
        "    affiliation: Example Foundation",
        "  - name: Ben Sample",
        "    affiliation: Sample Institute",
        "lang: en",
        "status: draft",
        "bibliography: references.bib",
        f"executive_summary: chapters/{stems[0]}.md",
        "editions: default",
        "peers:",
    ]
    for i, peer in enumerate(peers):
        lines += [f"  - id: {peer}",
                  f"    name: {title_words(rng, 2)} Network {i + 1}",
                  f"    country: {PEER_COUNTRIES[i % len(PEER_COUNTRIES)]}",
                  f"    url: https://example.org/{peer}"]
    lines += [
        "rules:",
        "  summary_max_words: 200",
        "  chapter_words: {min: 100, max: 20000}",
        "  max_file_kb: 4096",
        "  case_study_sections:",
        *(f"    - {name}" for name in CASE_STUDY_SECTIONS),
    ]
    if shared_bib:  # a shared bibliography: entries nobody cites are expected
        lines += ["  severity:", "    BIB010: off"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--chapters", type=int, default=10)
    parser.add_argument("--refs", type=int, default=200)
    parser.add_argument("--case-studies", type=int, default=None,
                        help="how many of the chapters are case studies (default: 6 for 10, 30%% above)")
    parser.add_argument("--cited", type=int, default=None,
                        help=f"how many entries the chapters cite (default: all, at most {DEFAULT_CITED})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        made = generate(args.dest, args.chapters, args.refs, args.case_studies, args.seed, args.cited)
    except (ValueError, FileExistsError) as err:
        print(f"synth: {err}", file=sys.stderr)
        return 2
    print(f"{made.root}: {len(made.chapters)} chapters ({len(made.case_studies)} case studies), "
          f"{made.words} words, {made.refs} references ({made.cited} cited), {made.figures} figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
