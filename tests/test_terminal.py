"""The terminal: a progress bar only for a person watching, --quiet and --verbose, completion."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from pipeline.build import Built
from pipeline.cli import main
from pipeline.terminal import NORMAL, QUIET, VERBOSE, BuildProgress

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ONE = Built("paper", "pdf", Path("build/paper/paper.pdf"), 1.25)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_prints_a_line_per_file_and_no_colour_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    log = Terminal()
    with BuildProgress(VERBOSE, log) as progress:
        progress(ONE)
    assert log.getvalue() == "  pdf   build/paper/paper.pdf  (1.2 s)\n"


def test_a_bar_appears_on_a_terminal_only_after_the_delay(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    quick = Terminal()
    with BuildProgress(NORMAL, quick, delay=5) as progress:
        progress(ONE)
    assert quick.getvalue() == ""  # done before the delay: nothing moved on screen
    slow = Terminal()
    with BuildProgress(NORMAL, slow, delay=0.01) as progress:
        time.sleep(0.3)
        progress(ONE)
        time.sleep(0.2)
    assert "Building" in ESCAPE.sub("", slow.getvalue())


def test_no_bar_in_ci_in_a_pipe_or_when_quiet(monkeypatch):
    monkeypatch.setenv("CI", "true")
    for stream, level in ((Terminal(), NORMAL), (io.StringIO(), NORMAL), (Terminal(), QUIET)):
        if level == QUIET:
            monkeypatch.delenv("CI", raising=False)
        with BuildProgress(level, stream, delay=0) as progress:
            time.sleep(0.1)
            progress(ONE)
        assert stream.getvalue() == ""


def test_quiet_and_verbose_on_the_commands(make_paper, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    root = make_paper()
    assert main(["-C", str(root), "check"]) == 0
    assert capsys.readouterr().out == "No problems found.\n"
    assert main(["-C", str(root), "check", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["-C", str(root), "build", "--to", "html", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["-C", str(root), "build", "--to", "html", "-v"]) == 0
    out, err = capsys.readouterr()
    assert "3 files of 3 editions are up to date" in out
    assert len(err.splitlines()) == 3 and err.count("index.html") == 3  # a line per file, even when reused


def test_completion_scripts_name_every_command(capsys):
    for shell in ("bash", "zsh"):
        assert main(["completion", shell]) == 0
        script = capsys.readouterr().out
        for command in ("check", "build", "status", "serve", "new", "editions"):
            assert command in script, (shell, command)
