"""Pictures for the README: the PDF title page and the HTML page, made by the build's own tools.

Run by `make screenshots` after `make`. The PDF page comes from Typst (the same
source and fonts as the PDF); the HTML pictures from headless Chromium, when
it is installed (scripts/system-tools.sh installs it where it can).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")


def pdf_page(edition: str, page: int, target: Path) -> None:
    """One page of an edition's PDF as PNG, rendered by Typst from the edition's own source."""
    from pipeline.assemble import assemble, csl_items, paper_targets, parse_all, plan_editions
    from pipeline.build import FILTERS, source_date, template_resolver
    from pipeline.project import load_project
    from pipeline.render import pdf
    from pipeline.render.job import Job
    from pipeline.sources.paper import load_sources

    project = load_project(ROOT)
    sources = load_sources(project)
    plans = plan_editions(project, sources.chapters)
    plan = next(p for p in plans if p.id == edition)
    parsed = parse_all(project, sources)
    date = source_date(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        done = assemble(plan, project, sources, parsed, paper_targets(project, parsed, plans),
                        csl_items(project, sources, parsed), date, Path(tmp))
        job = Job(ROOT, plan.id, plan.kind, done.ast, project.lang, Path(tmp) / "out", Path(tmp), date,
                  template_resolver(ROOT), lambda name: FILTERS / name)
        pages = pdf.preview(job, ppi=80)
    target.write_bytes(pages[page])


def html_page(page: Path, width: int, height: int, target: Path) -> bool:
    if not CHROMIUM.exists():
        print(f"screenshots: {CHROMIUM} is absent; skipping {target.name}", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={target}", page.as_uri()],
            check=True, capture_output=True, timeout=120)
    return True


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    pdf_page("summary", 0, OUT / "pdf-title-page.png")
    print(f"wrote {(OUT / 'pdf-title-page.png').relative_to(ROOT)}")
    site = ROOT / "build" / "paper" / "index.html"
    if not site.is_file():
        print("screenshots: build/paper/index.html is missing; run `make` first", file=sys.stderr)
        return 1
    for name, size in (("html-desktop.png", (1280, 860)), ("html-phone.png", (500, 900))):
        if html_page(site, *size, OUT / name):
            print(f"wrote {(OUT / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
