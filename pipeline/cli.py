"""The ``paper`` command: parse arguments, call a stage, print, exit.

Exit codes follow the contract: 0 fine, 1 check errors, 2 usage or an
unreadable paper.yml, 3 a renderer failed. No input ever produces a traceback:
an unexpected failure is one line that says how to report it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from pipeline import __version__

EXAMPLES = """examples:
  paper check                          check the whole paper
  paper check case_studies/luma.md     check one chapter, in the context of the paper
  paper check --format github          annotations for GitHub pull requests
  paper build                          check, then build every edition into build/
  paper build summary --to pdf         only the summary, only as PDF
  paper new case-study acme --name "Acme Foundation"
                                       add a peer and its case study, ready to write
  paper status --format markdown       a table of every chapter, for a pull request
  paper serve                          preview the paper in a browser as you write
  paper rules                          list every rule with its code
  paper init my-paper                  start a new paper project
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paper",
        description="Validate and build a collaborative learning paper.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"paper {__version__}")
    parser.add_argument("-C", dest="directory", metavar="DIR", help="act on the paper project in DIR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="validate chapters, citations, labels, images and links",
                           description="Validate the paper. Exit 0: no errors; 1: errors; 2: usage "
                                       "or unreadable paper.yml.")
    check.add_argument("paths", nargs="*", help="only report on these chapter files")
    check.add_argument("--format", choices=("text", "github", "json"), default="text")
    check.add_argument("--strict", action="store_true", help="count warnings as errors")
    check.add_argument("--no-cache", action="store_true",
                       help="check everything again, without reading or writing the cache in .cache/")

    build = sub.add_parser("build", help="check, then build the editions into build/")
    build.add_argument("editions", nargs="*")
    build.add_argument("--to", default="html,pdf,epub", help="formats, comma-separated")
    build.add_argument("--jobs", type=int, default=None)
    build.add_argument("--out", default=None)
    build.add_argument("--no-cache", action="store_true",
                       help="render everything again, without reading or writing the cache in .cache/")
    build.add_argument("--release", action="store_true",
                       help="a release build: also apply the release rules (REL001: every chapter of the editions "
                            "paper.yml's release.require_approved names must be approved)")

    rules = sub.add_parser("rules", help="list every rule: code, default severity, description")
    rules.add_argument("--format", choices=("text", "markdown", "json"), default="text")

    init = sub.add_parser("init", help="create a new, empty paper project")
    init.add_argument("dir", nargs="?", default=".")

    # --- new (pipeline/scaffold.py) ---
    new = sub.add_parser("new", help="add a chapter or a peer's case study, with every required section",
                         description="Write a new chapter from the templates; `paper check` then reports\n"
                                     "only its placeholders. Never overwrites a file. Exit 0 written, 1 the file\n"
                                     "exists or the peer is unknown, 2 usage (such as a bad name).\n"
                                     "The writer's guide is docs/authoring.md in the pipeline's repository.",
                         epilog="examples:\n"
                                "  paper new case-study acme --name \"Acme Foundation\" --country Kenya\n"
                                "                                 a new peer: added to paper.yml with its case study\n"
                                "  paper new case-study luma      a peer that paper.yml already lists\n"
                                "  paper new chapter 06-synthesis a shared chapter, chapters/06-synthesis.md\n"
                                "  paper new translation chapters/introduction.md --lang de\n"
                                "                                 chapters/introduction.de.md, to translate\n",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    new.add_argument("kind", choices=("case-study", "chapter", "translation"))
    new.add_argument("slug", metavar="PEER|SLUG|SOURCE",
                     help="the peer's id (case-study), the file name (chapter) or the chapter to translate")
    new.add_argument("--lang", help="translation: the language, one of paper.yml's languages")
    new.add_argument("--title", help="the chapter's title (default: the peer's name, or one made from SLUG)")
    new.add_argument("--name", help="case-study: the peer's full name, to add the peer to paper.yml")
    new.add_argument("--country", help="case-study: the peer's country, for paper.yml")
    new.add_argument("--url", help="case-study: the peer's web site, for paper.yml")

    # --- status (pipeline/status.py) ---
    status = sub.add_parser("status", help="a table of every chapter: peer, status, words, citations, problems")
    status.add_argument("--format", choices=("table", "json", "markdown"), default="table",
                        help="table: for a terminal; json: for scripts; markdown: for a pull request or job summary")

    # --- editions (pipeline/status.py) ---
    editions = sub.add_parser("editions", help="list the editions `paper build` makes, or those some files touch",
                              description="Print edition ids one a line. With --touched-by or --touched-from, "
                                          "only the editions the given files can change (a chapter: the editions "
                                          "holding it; paper.yml, the bibliography, the style, templates/, figures/ "
                                          "or any other input: all; README.md, docs/, .github/, tests/: none).")
    editions.add_argument("--touched-by", nargs="*", action="extend", metavar="PATH",
                          help="changed files, relative to the current folder (as `git diff --name-only` prints them)")
    editions.add_argument("--touched-from", metavar="FILE",
                          help="read the changed files from FILE ('-': stdin), NUL-separated (git diff -z) "
                               "or one a line")

    # --- serve (pipeline/serve.py) ---
    serve = sub.add_parser("serve", help="build the HTML edition, serve it on localhost, rebuild and reload on change",
                           description="Check and build one edition's HTML into build/.serve/ and serve it; rebuild\n"
                                       "when a chapter, the bibliography, a figure, a template or paper.yml changes.\n"
                                       "The page reloads itself and shows the check's problems in a banner.\n"
                                       "Ctrl-C stops (exit 0); exit 2: no such edition, or the port is taken.",
                           epilog="examples:\n  paper serve                     the full paper on http://127.0.0.1:8000/paper/\n"
                                  "  paper serve summary --port 0    the summary edition, on any free port",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("edition", nargs="?", default="paper", help="the edition to preview (default: paper)")
    serve.add_argument("--port", type=int, default=8000, help="the port (default 8000; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1: this machine only)")

    sub.add_parser("clean", help="remove build/ and the cache")

    completion = sub.add_parser("completion", help="print a shell completion script (bash, zsh or tcsh)",
                                description="Print a completion script for your shell, for example:\n"
                                            "  paper completion bash > ~/.local/share/bash-completion/completions/paper\n"
                                            "  paper completion zsh > ~/.zfunc/_paper",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    completion.add_argument("shell", choices=("bash", "zsh", "tcsh"))

    for command in sub.choices.values():  # every command takes them, before or after its arguments
        noise = command.add_mutually_exclusive_group()
        noise.add_argument("-q", "--quiet", action="store_true", help="print only diagnostics and errors")
        noise.add_argument("-v", "--verbose", action="store_true", help="print a line per file and timings")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        from pipeline import commands

        return getattr(commands, f"cmd_{args.command}")(args)
    except KeyboardInterrupt:
        print("paper: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # the last line of defence: never a traceback for users
        if os.environ.get("PAPER_DEBUG"):
            raise
        print(
            f"paper: internal error ({type(err).__name__}: {err}). This is a bug in the pipeline, "
            "not in your text; rerun with PAPER_DEBUG=1 and report the output.",
            file=sys.stderr,
        )
        return 2


def project_root(args: argparse.Namespace) -> Path | None:
    from pipeline.project import find_root

    start = Path(args.directory) if args.directory else Path.cwd()
    return find_root(start)
