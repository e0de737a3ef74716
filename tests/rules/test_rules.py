"""Table-driven rule tests: every rule has failing cases with exact positions and
passing cases that must stay silent. The cases live in cases.yml next to this file."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from pipeline.project import load_project
from pipeline.rules import RULES, check
from pipeline.sources.paper import load_sources

CASES_FILE = Path(__file__).with_name("cases.yml")
CASES: dict = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


def _apply(root: Path, case: dict) -> None:
    for rel in case.get("remove", []):
        (root / rel).unlink()
    for rel, pairs in case.get("edit", {}).items():
        path = root / rel
        text = path.read_text(encoding="utf-8")
        for old, new in pairs:
            assert text.count(old) == 1, f"edit target {old!r} must occur once in {rel}"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    for rel, text in case.get("write", {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    for rel, spec in case.get("write_long", {}).items():
        (root / rel).write_text(spec["head"] + spec["repeat"] * spec["times"], encoding="utf-8")
    for rel, data in case.get("write_bytes", {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(base64.b64decode(data))
    for rel, target in case.get("symlink", {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(target)


def _run(root: Path, only=None, release: bool = False):
    project = load_project(root)
    return check(project, load_sources(project), only, release=release)


def _params(kind: str):
    for code, cases in CASES.items():
        for case in cases.get(kind, []):
            yield pytest.param(code, case, id=f"{code}-{case['name']}")


def test_base_fixture_is_clean(make_paper):
    assert _run(make_paper()) == []


@pytest.mark.parametrize("code,case", list(_params("fail")))
def test_rule_reports_exact_position(make_paper, code, case):
    root = make_paper()
    _apply(root, case)
    found = [d for d in _run(root, release=case.get("release", False)) if d.code == code]
    got = sorted(f"{d.path}:{d.line}:{d.col}" for d in found)
    assert got == sorted(case["expect"]), [d.text() for d in found]
    if "severity" in case:
        assert {d.severity for d in found} == {case["severity"]}
    for d in found:
        assert "\n" not in d.message and d.message


@pytest.mark.parametrize("code,case", list(_params("pass")))
def test_rule_is_silent_on_passing_fixture(make_paper, code, case):
    root = make_paper()
    _apply(root, case)
    found = [d.text() for d in _run(root, release=case.get("release", False)) if d.code == code]
    assert found == []


def test_every_rule_has_failing_and_passing_cases():
    for code in RULES:
        assert CASES.get(code, {}).get("fail"), f"{code} has no failing case in cases.yml"
        assert CASES.get(code, {}).get("pass"), f"{code} has no passing case in cases.yml"
    assert set(CASES) <= set(RULES), f"cases for unknown codes: {set(CASES) - set(RULES)}"


def test_readme_rule_table_matches_the_rules():
    from pipeline.commands import rules_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert rules_markdown() in readme, "README's rule table is stale: paste `paper rules --format markdown`"
