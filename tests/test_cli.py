"""The command line as users and CI meet it: exit codes, output forms, no tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main

LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning)"
    r"\[(?P<code>[A-Z]{2,5}\d{3})\]: (?P<message>.+)$"
)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_paper_exits_zero(make_paper, capsys):
    root = make_paper()
    code, out, _ = run(capsys, "-C", str(root), "check")
    assert code == 0
    assert out.strip() == "No problems found."


def test_errors_exit_one_and_match_the_contract_regex(make_paper, capsys):
    root = make_paper()
    intro = root / "chapters/01-intro.md"
    intro.write_text(intro.read_text().replace("@wenger1998communities", "@wenger1998"))
    code, out, _ = run(capsys, "-C", str(root), "check")
    assert code == 1
    lines = out.strip().splitlines()
    assert LINE.match(lines[0]).group("code") == "CIT001"
    assert "did you mean 'wenger1998communities'" in lines[0]
    assert lines[-1] == "Found 1 error and 1 warning."  # the entry is now uncited (BIB010)


def test_strict_counts_warnings(make_paper, capsys):
    root = make_paper()
    intro = root / "chapters/01-intro.md"
    intro.write_text(intro.read_text().replace("https://example.org", "http://example.org"))
    assert run(capsys, "-C", str(root), "check")[0] == 0
    assert run(capsys, "-C", str(root), "check", "--strict")[0] == 1


def test_github_and_json_formats(make_paper, capsys):
    root = make_paper()
    intro = root / "chapters/01-intro.md"
    intro.write_text(intro.read_text().replace("status: draft", "status: done, 100%"))
    _, out, _ = run(capsys, "-C", str(root), "check", "--format", "github")
    first = out.splitlines()[0]
    assert first.startswith("::error file=chapters/01-intro.md,line=8,col=9,title=FM008::")
    assert "100%25" in first  # GitHub's escaping of %
    _, out, _ = run(capsys, "-C", str(root), "check", "--format", "json")
    data = json.loads(out)
    assert data == [
        {"path": "chapters/01-intro.md", "line": 8, "col": 9, "severity": "error", "code": "FM008",
         "message": data[0]["message"]}
    ]


def test_check_one_chapter_in_context(make_paper, capsys, monkeypatch):
    root = make_paper()
    alpha = root / "case_studies/alpha.md"
    alpha.write_text(alpha.read_text().replace("@sec:background", "@sec:nowhere"))
    intro = root / "chapters/01-intro.md"
    intro.write_text(intro.read_text().replace("status: draft", "status: wip"))
    monkeypatch.chdir(root)
    code, out, _ = run(capsys, "check", "case_studies/alpha.md")
    assert code == 1
    assert "LBL001" in out and "FM008" not in out
    code, out, _ = run(capsys, "check", "chapters/01-intro.md")
    assert "FM008" in out and "LBL001" not in out


def test_check_path_outside_project_is_a_usage_error(make_paper, capsys, tmp_path):
    root = make_paper()
    outside = tmp_path / "elsewhere.md"
    outside.write_text("x")
    code, _, err = run(capsys, "-C", str(root), "check", str(outside))
    assert code == 2 and "not inside the paper project" in err


def test_no_project_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "-C", str(tmp_path), "check")
    assert code == 2
    assert "no paper.yml found" in err and "paper init" in err


@pytest.mark.parametrize(
    "text,field",
    [
        ("title: [unclosed\n", "paper.yml:1:8"),
        ("- just\n- a list\n", "paper.yml:1:1"),
        ("title: T\nrules:\n  chapter_words: {min: many}\n", "rules.chapter_words.min"),
        ("title: T\npeers:\n  - {id: Bad Id, name: X}\n", "peer id 'Bad Id'"),
        ("title: T\nbibliography: ../outside.bib\n", "must be a path inside the project"),
        ("title: T\nbibliography: missing.bib\n", "does not exist"),
        ("title: T\nrules:\n  severity: {XYZ999: off}\n", "'XYZ999' is not a rule code"),
        ("subtitle: no title\n", "'title' is required"),
        ("title: T\nlang: english\n", "not a valid BCP 47"),
        ("title: T\nexecutive_summary: chapters/none.md\n", "'executive_summary' names a file that does not exist"),
        ("title: T\nexecutive_summary: ../../etc/passwd\n", "must be a path inside the project"),
        ("title: T\nallow: [html]\n", "'allow' must be a mapping"),
        ("title: T\nallow: {raw: [html, js]}\n", "'allow.raw[1]' must be one of html, typst, latex, not 'js'"),
        ("title: T\nallow: {raw: html}\n", "'allow.raw' must be a list of formats"),
        ("title: T\nallow: {remote_images: maybe}\n", "'allow.remote_images' must be true or false"),
        ("title: T\nallow: {remote_image: true}\n", "'allow.remote_image' is not a setting"),
        ("title: T\nrules:\n  severity: {RAW002: off}\n", "RAW002 cannot be lowered: it protects readers"),
        ("title: T\nrules:\n  severity: {RAW002: {'chapters/*.md': warning}}\n", "RAW002 cannot be lowered"),
        ("title: T\nrules:\n  severity: {RAW: warning}\n", "instead of the family 'RAW'"),
    ],
)
def test_invalid_paper_yml_exits_two_naming_the_field(tmp_path, capsys, text, field):
    (tmp_path / "paper.yml").write_text(text)
    code, out, _ = run(capsys, "-C", str(tmp_path), "check")
    assert code == 2
    assert field in out
    assert LINE.match(out.splitlines()[0])


def test_executive_summary_must_be_a_chapter_of_the_paper(make_paper, capsys):
    root = make_paper()
    config = root / "paper.yml"
    base = config.read_text()
    config.write_text(base + "executive_summary: references.bib\n")
    code, out, _ = run(capsys, "-C", str(root), "check")
    assert code == 2 and "must be a chapter in chapters/" in out
    config.write_text(base + "contents: [case_studies/alpha.md]\nexecutive_summary: chapters/01-intro.md\n")
    code, out, _ = run(capsys, "-C", str(root), "check")
    assert code == 2 and "must be one of the files listed in 'contents'" in out
    config.write_text(base + "executive_summary: chapters/01-intro.md\n")
    code, _, _ = run(capsys, "-C", str(root), "check")
    assert code == 0


def test_protected_rules_stay_errors_and_others_can_be_lowered(make_paper, capsys):
    from pipeline.project import Rules, SeverityOverride

    rules = Rules(severity=(SeverityOverride("RAW", "off"), SeverityOverride("RAW002", "warning")))
    assert rules.severity_for("RAW002", "chapters/a.md", "error") == "error"
    assert rules.severity_for("RAW001", "chapters/a.md", "error") == "off"
    root = make_paper()
    config = root / "paper.yml"
    config.write_text(config.read_text() + "  severity: {RAW001: off, RAW002: error}\n")
    (root / "chapters/01-intro.md").write_text(
        (root / "chapters/01-intro.md").read_text() + "\n`#pagebreak()`{=typst} <script>x</script>\n")
    code, out, _ = run(capsys, "-C", str(root), "check")
    assert code == 1 and "RAW002" in out and "RAW001" not in out


CSL_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
BOMB = (CSL_HEAD + '<!DOCTYPE style [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + ']>\n<style xmlns="http://purl.org/net/xbiblio/csl">&j;</style>\n')


@pytest.mark.parametrize(
    "text,message",
    [
        ("<html><body>not a style</body></html>", "its root element is <html>"),
        (CSL_HEAD + '<style xmlns="http://example.org/other"/>', "not a <style> in the CSL namespace"),
        (CSL_HEAD + '<style xmlns="http://purl.org/net/xbiblio/csl"><info>', "not well-formed XML"),
        (BOMB, "declares a DOCTYPE or entities"),
        (CSL_HEAD + '<!DOCTYPE style SYSTEM "file:///etc/passwd"><style/>', "declares a DOCTYPE"),
        ("", "not well-formed XML"),
    ],
)
def test_csl_file_must_be_a_csl_style(make_paper, capsys, text, message):
    import time

    root = make_paper()
    (root / "style.csl").write_text(text)
    config = root / "paper.yml"
    config.write_text(config.read_text() + "csl: style.csl\n")
    started = time.monotonic()
    code, out, _ = run(capsys, "-C", str(root), "check")
    assert time.monotonic() - started < 5
    assert code == 2
    first = out.splitlines()[0]
    assert LINE.match(first) and "CFG003" in first and "'csl' is not a CSL style: 'style.csl'" in first
    assert message in first


def test_a_real_csl_file_in_the_project_is_accepted(make_paper, capsys):
    from pipeline.project import style_file

    root = make_paper()
    (root / "style.csl").write_bytes(style_file("apa").read_bytes())
    config = root / "paper.yml"
    config.write_text(config.read_text() + "csl: style.csl\n")
    assert run(capsys, "-C", str(root), "check")[0] == 0


def test_binary_paper_yml_exits_two(tmp_path, capsys):
    (tmp_path / "paper.yml").write_bytes(b"\x00\x01\x02")
    code, out, _ = run(capsys, "-C", str(tmp_path), "check")
    assert code == 2 and "CFG002" in out


def test_init_creates_a_paper_that_checks_clean(tmp_path, capsys):
    target = tmp_path / "new-paper"
    assert run(capsys, "init", str(target))[0] == 0
    code, out, _ = run(capsys, "-C", str(target), "check", "--strict")
    assert (code, out.strip()) == (0, "No problems found.")
    assert run(capsys, "init", str(target))[0] == 1


def test_init_project_knows_nothing_of_idos(tmp_path, capsys):
    target = tmp_path / "p"
    run(capsys, "init", str(target))
    text = "".join(p.read_text() for p in target.rglob("*") if p.is_file())
    assert "IDoS" not in text and "STEM" not in text


def test_rules_lists_every_code(capsys):
    from pipeline.rules import RULES

    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(RULES)


def test_clean_removes_build_and_cache(make_paper, capsys):
    root = make_paper()
    (root / "build").mkdir()
    (root / "build" / "x.html").write_text("x")
    (root / ".cache").mkdir()
    assert run(capsys, "-C", str(root), "clean")[0] == 0
    assert not (root / "build").exists() and not (root / ".cache").exists()


def test_python_dash_m_and_console_script_agree(make_paper):
    root = make_paper()
    result = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(root), "check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    script = Path(sys.executable).with_name("paper")
    if script.exists():
        result = subprocess.run([str(script), "-C", str(root), "check"], capture_output=True, text=True)
        assert result.returncode == 0


def test_internal_errors_never_show_a_traceback(make_paper, capsys, monkeypatch):
    import pipeline.commands

    def boom(*_args, **_kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(pipeline.commands, "run_check", boom)
    code, _, err = run(capsys, "-C", str(make_paper()), "check")
    assert code == 2
    assert "Traceback" not in err and "simulated bug" in err


def test_text_quoted_from_a_file_cannot_drive_the_terminal():
    from pipeline.diagnostics import Diagnostic, format_text

    out = format_text([Diagnostic("a\nb.md", 1, 1, "error", "SRC001", "x \x1b[31mred \u202eexe")])
    first = out.splitlines()[0]
    assert LINE.match(first) and "\x1b" not in out and "\u202e" not in out
    assert first.startswith("a\\x0ab.md:1:1: error[SRC001]: x \\x1b[31mred \\u202eexe")
