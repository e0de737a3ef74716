"""`paper new` and the writer's guide: a new chapter checks clean but for its placeholders.

The promise to a new peer is concrete: from the guide's five commands to a passing case study
and a PDF of its offprint, in the shipped paper and in a fresh `paper init` project alike, with
paper.yml edited as the editors wrote it (comments and order kept). The guide's own examples are
checked the same way, so the documentation cannot drift from what the check accepts.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline import scaffold
from pipeline.cli import main
from pipeline.project import load_project

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "authoring.md"
SHIPPED = ("paper.yml", "chapters", "case_studies", "figures", "references.bib")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def check_codes(capsys, root: Path, *paths: str) -> tuple[int, list[str]]:
    """Exit code and the rule codes `paper check` reports (paths relative to the project)."""
    code, out, _ = run(capsys, "-C", str(root), "check", "--format", "json",
                       *[str(root / p) for p in paths])
    return code, [d["code"] for d in json.loads(out)]


@pytest.fixture
def fresh(tmp_path, capsys) -> Path:
    """A new project from `paper init`: no peers (``peers: []``), no explicit contents."""
    root = tmp_path / "fresh"
    assert run(capsys, "init", str(root))[0] == 0
    return root


@pytest.fixture
def shipped(tmp_path) -> Path:
    """A copy of the paper in this repository: six peers, an explicit contents list, comments."""
    root = tmp_path / "shipped"
    root.mkdir()
    for name in SHIPPED:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, root / name)
    return root


# --- values written into YAML -----------------------------------------------------------------

HOSTILE = [
    "Acme Foundation",
    "Acme: the #1 Foundation",
    "# not a comment",
    "Fondation La main à la pâte",
    "yes",
    "null",
    "1.0",
    "2024-01-01",
    "'single' and \"double\" quotes",
    "back\\slash",
    "- a dash",
    "ends with a colon:",
    "[brackets] and {braces}",
    "*star &anchor !tag %percent @at `tick",
    "a\u2028line separator",
    "x" * 300,
]


@pytest.mark.parametrize("value", HOSTILE)
def test_yaml_values_read_back_unchanged(value):
    for text in (scaffold.yaml_str(value), scaffold.yaml_scalar(value)):
        assert yaml.safe_load(f"key: {text}\n") == {"key": value}


def test_plain_values_stay_plain_as_editors_write_them():
    assert scaffold.yaml_scalar("Acme Foundation") == "Acme Foundation"
    assert scaffold.yaml_scalar("https://acme.example.org") == "https://acme.example.org"
    assert scaffold.yaml_scalar("yes") == '"yes"'


@pytest.mark.parametrize("slug", ["acme", "acme-foundation", "06-synthesis", "a1"])
def test_good_slugs(slug):
    assert scaffold.bad_slug(slug) is None


@pytest.mark.parametrize("slug", ["Acme", "acme_foundation", "../acme", "acme.md", "-acme", "", "a b",
                                  "acme/x", "ä", "a" * 81])
def test_bad_slugs(slug):
    assert scaffold.bad_slug(slug)


def test_title_from_slug():
    assert scaffold.title_from_slug("06-cross-case-synthesis") == "Cross case synthesis"
    assert scaffold.title_from_slug("research") == "Research"


# --- paper.yml edited as text -----------------------------------------------------------------

PEER = scaffold.peer_entry("acme", "Acme: the #1", "Kenya", None)


def added(before: str, after: str) -> list[str]:
    """The lines ``after`` has beyond ``before``, asserting every old line survives in order."""
    old, new = before.splitlines(), after.splitlines()
    extra, i = [], 0
    for line in new:
        if i < len(old) and line == old[i]:
            i += 1
        else:
            extra.append(line)
    assert i == len(old), "a line of the original was changed or lost"
    return extra


def test_peer_goes_after_the_last_item_before_the_comments():
    text = ("title: T  # the title\npeers:\n  - id: a   # first\n    name: A\n  - id: b\n    name: B  # last\n"
            "\n# Reading order\ncontents:\n  - x.md\n")
    new = scaffold.add_to_list(text, "peers", PEER)
    assert added(text, new) == ['  - id: acme', '    name: "Acme: the #1"', '    country: Kenya']
    assert new.index("Acme") < new.index("# Reading order")
    assert yaml.safe_load(new)["peers"][-1] == {"id": "acme", "name": "Acme: the #1", "country": "Kenya"}


def test_peer_follows_the_lists_own_indentation():
    text = "peers:\n- id: a\n  name: A\nrules: {}\n"
    new = scaffold.add_to_list(text, "peers", PEER)
    assert added(text, new) == ["- id: acme", '  name: "Acme: the #1"', "  country: Kenya"]


@pytest.mark.parametrize("text", [
    "title: T\npeers: []  # none yet\nrules: {}\n",
    "title: T\npeers:\nrules: {}\n",
    "title: T\npeers: ~\nrules: {}\n",
])
def test_an_empty_peers_list_becomes_a_block_list(text):
    new = scaffold.add_to_list(text, "peers", PEER)
    data = yaml.safe_load(new)
    assert data["peers"] == [{"id": "acme", "name": "Acme: the #1", "country": "Kenya"}]
    assert data["rules"] == {} and data["title"] == "T"
    assert "# none yet" in new or "# none yet" not in text


def test_no_peers_key_appends_one():
    for text in ("title: T\n", "title: T"):
        new = scaffold.add_to_list(text, "peers", PEER)
        assert new.startswith("title: T\n") and yaml.safe_load(new)["peers"][0]["id"] == "acme"


def test_a_flow_list_stays_a_flow_list():
    text = "peers: [{id: a, name: A}]  # short\n"
    new = scaffold.add_to_list(text, "peers", PEER)
    assert new.endswith("]  # short\n")
    assert [p["id"] for p in yaml.safe_load(new)["peers"]] == ["a", "acme"]


def test_a_block_scalar_in_the_last_item_is_kept_whole():
    text = "peers:\n  - id: a\n    name: >\n      A long\n      name\n\nrules: {}\n"
    new = scaffold.add_to_list(text, "peers", PEER)
    data = yaml.safe_load(new)
    assert data["peers"][0]["name"] == "A long name\n" and data["peers"][1]["id"] == "acme"


def test_contents_entry_goes_after_the_last_file_of_its_folder():
    text = "contents:\n  - chapters/a.md\n  - case_studies/x.md  # x\n  - chapters/z.md\n"
    entry = scaffold.path_entry("case_studies/new.md")
    new = scaffold.add_to_list(text, "contents", entry,
                               lambda n: str(n.value).startswith("case_studies/"))
    assert yaml.safe_load(new)["contents"] == ["chapters/a.md", "case_studies/x.md", "case_studies/new.md",
                                               "chapters/z.md"]
    assert "case_studies/x.md  # x\n" in new


def test_crlf_and_bom_are_kept():
    text = "\ufefftitle: T\r\npeers:\r\n  - id: a\r\n    name: A\r\n"
    new = scaffold.edit_paper_yml(text, {"id": "acme", "name": "Acme"}, None, "case_studies")
    assert new.startswith("\ufeff") and "\n" not in new.replace("\r\n", "")
    assert new.endswith("  - id: acme\r\n    name: Acme\r\n")


def test_an_edit_that_would_not_read_back_is_refused(monkeypatch):
    monkeypatch.setattr(scaffold, "add_to_list", lambda text, *a, **k: text + "extra: 1\n")
    with pytest.raises(scaffold.EditError):
        scaffold.edit_paper_yml("title: T\n", {"id": "acme", "name": "Acme"}, None, "case_studies")


# --- paper new case-study ---------------------------------------------------------------------

def test_case_study_in_a_fresh_project_checks_clean_but_for_placeholders(fresh, capsys):
    before = (fresh / "paper.yml").read_text()
    code, out, err = run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", "Acme Foundation")
    assert (code, err) == (0, "")
    assert "case_studies/acme.md" in out and "check" in out and "build case-study-acme --to pdf" in out
    # the empty flow list 'peers: []' becomes a block list; every other line stays as it was
    assert added(before.replace("peers: []", "peers:"), (fresh / "paper.yml").read_text()) == [
        "  - id: acme", "    name: Acme Foundation"]
    code, codes = check_codes(capsys, fresh)
    assert code == 0 and codes and set(codes) == {"PLH001"}
    assert run(capsys, "-C", str(fresh), "check", "--strict")[0] == 1
    text = (fresh / "case_studies/acme.md").read_text()
    sections = load_project(fresh).rules.case_study_sections
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == list(sections)
    assert "peer: acme" in text and "status: draft" in text and "lang: en" in text


def test_case_study_in_the_shipped_paper(shipped, capsys):
    before = (shipped / "paper.yml").read_text()
    code, out, _ = run(capsys, "-C", str(shipped), "new", "case-study", "acme",
                       "--name", "Acme: the #1 Foundation", "--country", "Côte d'Ivoire",
                       "--url", "https://acme.example.org")
    assert code == 0
    after = (shipped / "paper.yml").read_text()
    assert added(before, after) == [
        "  - id: acme", '    name: "Acme: the #1 Foundation"', "    country: Côte d'Ivoire",
        "    url: https://acme.example.org", "  - case_studies/acme.md",
    ]
    project = load_project(shipped)
    assert project.peer("acme").name == "Acme: the #1 Foundation"
    contents = list(project.contents)
    assert contents.index("case_studies/acme.md") == contents.index("case_studies/oce.md") + 1
    code, codes = check_codes(capsys, shipped)
    assert code == 0 and set(codes) == {"PLH001"}
    code, codes = check_codes(capsys, shipped, "case_studies/acme.md")
    assert code == 0 and codes and set(codes) == {"PLH001"}
    text = (shipped / "case_studies/acme.md").read_text()
    assert f"lang: {project.lang}" in text and 'title: "Acme: the #1 Foundation"' in text


@pytest.mark.parametrize("name", ["Acme: the #1", "# hash", "yes", "'quoted' \"both\"", "[x] {y} *z* &a !b",
                                  "Ünïcødé — ok", "back\\slash", "Acme @ home", "<script>x</script>",
                                  "$5 a day", "a_b_c | d", "--flag-like"])
def test_hostile_peer_names_survive(fresh, capsys, name):
    assert run(capsys, "-C", str(fresh), "new", "case-study", "acme", f"--name={name}")[0] == 0
    assert load_project(fresh).peer("acme").name == name
    code, codes = check_codes(capsys, fresh)
    assert code == 0 and set(codes) == {"PLH001"}


@pytest.mark.parametrize("value", ["line\nbreak", "tab\there", "   "])
def test_names_that_cannot_be_one_line_are_refused(fresh, capsys, value):
    before = (fresh / "paper.yml").read_text()
    code, _, err = run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", value)
    assert code == 2 and err.startswith("paper: --name")
    assert (fresh / "paper.yml").read_text() == before and not (fresh / "case_studies/acme.md").exists()


def test_a_bad_url_is_refused_before_anything_is_written(fresh, capsys):
    code, _, err = run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", "Acme",
                       "--url", "acme.example.org")
    assert code == 2 and "https://" in err
    assert not (fresh / "case_studies/acme.md").exists() and "acme" not in (fresh / "paper.yml").read_text()


def test_an_existing_file_is_never_overwritten(shipped, capsys):
    before = (shipped / "case_studies/luma.md").read_bytes()
    code, _, err = run(capsys, "-C", str(shipped), "new", "case-study", "luma")
    assert code == 1 and "already exists" in err
    assert (shipped / "case_studies/luma.md").read_bytes() == before
    (shipped / "chapters/notes.md").write_text("mine")
    assert run(capsys, "-C", str(shipped), "new", "chapter", "notes")[0] == 1
    assert (shipped / "chapters/notes.md").read_text() == "mine"


def test_a_peer_with_a_case_study_under_another_name_gets_no_second(shipped, capsys):
    (shipped / "case_studies/luma.md").rename(shipped / "case_studies/luma-finland.md")
    config = shipped / "paper.yml"
    config.write_text(config.read_text().replace("case_studies/luma.md", "case_studies/luma-finland.md"))
    code, _, err = run(capsys, "-C", str(shipped), "new", "case-study", "luma")
    assert code == 1 and "case_studies/luma-finland.md" in err


@pytest.mark.parametrize("kind,slug", [("case-study", "Acme"), ("case-study", "../acme"), ("chapter", "a_b"),
                                       ("chapter", "x/y"), ("chapter", ""), ("case-study", "acme.md")])
def test_a_bad_slug_exits_two(fresh, capsys, kind, slug):
    code, out, err = run(capsys, "-C", str(fresh), "new", kind, slug, "--name", "X") if kind == "case-study" \
        else run(capsys, "-C", str(fresh), "new", kind, slug)
    assert code == 2 and err.startswith("paper: ") and "lower-case" in err and "Traceback" not in err + out


def test_an_unknown_peer_without_a_name_exits_one_and_says_what_to_do(shipped, capsys):
    before = (shipped / "paper.yml").read_text()
    code, _, err = run(capsys, "-C", str(shipped), "new", "case-study", "lumo")
    assert code == 1
    assert '--name "Full name"' in err and "did you mean 'luma'?" in err
    assert "siemens-stiftung" in err and "oce" in err
    assert (shipped / "paper.yml").read_text() == before and not (shipped / "case_studies/lumo.md").exists()


def test_a_known_peer_needs_no_name_and_is_not_added_twice(shipped, capsys):
    (shipped / "case_studies/luma.md").unlink()
    text = (shipped / "paper.yml").read_text()
    (shipped / "paper.yml").write_text(text.replace("  - case_studies/luma.md\n", ""))
    before = (shipped / "paper.yml").read_text()
    code, out, _ = run(capsys, "-C", str(shipped), "new", "case-study", "luma")
    assert code == 0 and "added peer" not in out
    assert added(before, (shipped / "paper.yml").read_text()) == ["  - case_studies/luma.md"]
    assert 'affiliation: "LUMA Center Finland"' in (shipped / "case_studies/luma.md").read_text()


def test_a_paper_yml_that_cannot_be_written_leaves_nothing_behind(fresh, capsys, monkeypatch):
    real = scaffold._write

    def failing(path, text):
        if path.name == "paper.yml":
            raise OSError(28, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(scaffold, "_write", failing)
    before = (fresh / "paper.yml").read_text()
    code, _, err = run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", "Acme")
    assert code == 2 and "No space left on device" in err and "nothing was changed" in err
    assert not (fresh / "case_studies/acme.md").exists() and (fresh / "paper.yml").read_text() == before


def test_peer_details_go_with_case_studies_only(fresh, capsys):
    code, _, err = run(capsys, "-C", str(fresh), "new", "chapter", "notes", "--name", "Acme")
    assert code == 2 and "case-study" in err


def test_no_project_exits_two(tmp_path, capsys):
    code, _, err = run(capsys, "-C", str(tmp_path), "new", "chapter", "notes")
    assert code == 2 and "no paper.yml" in err


def test_no_case_study_sections_falls_back_to_the_defaults(fresh, capsys):
    config = fresh / "paper.yml"
    config.write_text(re.sub(r"  case_study_sections:\n(    - .*\n)+", "", config.read_text()))
    assert load_project(fresh).rules.case_study_sections == ()
    assert run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", "Acme")[0] == 0
    text = (fresh / "case_studies/acme.md").read_text()
    assert "## Context" in text and "## Lessons for others" in text


def test_no_peers_key_at_all(fresh, capsys):
    config = fresh / "paper.yml"
    config.write_text(re.sub(r"\npeers: \[\]\n", "\n", config.read_text()))
    assert run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", "Acme")[0] == 0
    assert [p.id for p in load_project(fresh).peers] == ["acme"]


def test_unknown_sections_get_generic_guidance(fresh, capsys):
    config = fresh / "paper.yml"
    config.write_text(config.read_text().replace("    - Lessons for others\n",
                                                 "    - Lessons for others\n    - What comes next\n"))
    assert run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", "Acme")[0] == 0
    assert "## What comes next\n\n[[TODO: What comes next." in (fresh / "case_studies/acme.md").read_text()
    assert set(check_codes(capsys, fresh)[1]) == {"PLH001"}


def test_a_project_template_overrides_the_built_in_one(fresh, capsys):
    own = fresh / "templates/new/case_study.md.j2"
    own.parent.mkdir(parents=True)
    own.write_text("---\ntitle: {{ title | yaml_str }}\nauthors:\n  - name: X\npeer: {{ peer }}\n"
                   "summary: S\n---\n{% for s in sections %}\n## {{ s.heading }}\n\nOur own words.\n{% endfor %}")
    assert run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", "Acme")[0] == 0
    assert "Our own words." in (fresh / "case_studies/acme.md").read_text()


def test_a_template_cannot_reach_python(fresh, capsys):
    own = fresh / "templates/new/new_chapter.md.j2"
    own.parent.mkdir(parents=True)
    own.write_text("{{ title.__class__.__mro__[1].__subclasses__() }}")
    code, _, err = run(capsys, "-C", str(fresh), "new", "chapter", "notes")
    assert code == 2 and "template" in err and not (fresh / "chapters/notes.md").exists()


# --- paper new chapter ------------------------------------------------------------------------

def test_chapter_in_the_shipped_paper(shipped, capsys):
    before = (shipped / "paper.yml").read_text()
    code, out, _ = run(capsys, "-C", str(shipped), "new", "chapter", "06-outlook", "--title", "Outlook: what next?")
    assert code == 0 and "build paper --to pdf" in out
    assert added(before, (shipped / "paper.yml").read_text()) == ["  - chapters/06-outlook.md"]
    assert load_project(shipped).contents[-1] == "chapters/06-outlook.md"
    code, codes = check_codes(capsys, shipped)
    assert code == 0 and set(codes) == {"PLH001"}
    assert 'title: "Outlook: what next?"' in (shipped / "chapters/06-outlook.md").read_text()


def test_chapter_in_a_fresh_project(fresh, capsys):
    before = (fresh / "paper.yml").read_text()
    assert run(capsys, "-C", str(fresh), "new", "chapter", "02-background")[0] == 0
    assert (fresh / "paper.yml").read_text() == before  # no contents list, nothing to add
    assert "title: \"Background\"" in (fresh / "chapters/02-background.md").read_text()
    code, codes = check_codes(capsys, fresh)
    assert code == 0 and set(codes) == {"PLH001"}


def test_a_higher_word_minimum_is_announced(fresh, capsys):
    config = fresh / "paper.yml"
    config.write_text(config.read_text().replace("min: 100", "min: 5000"))
    code, out, _ = run(capsys, "-C", str(fresh), "new", "chapter", "notes")
    assert code == 0 and "at least 5000 words" in out and "STR002" in out


def test_nothing_paper_specific_in_the_scaffold():
    text = (ROOT / "pipeline/scaffold.py").read_text() + "".join(
        p.read_text() for p in (ROOT / "templates/new").iterdir())
    assert "IDoS" not in text and "STEM" not in text


# --- the writer's guide -----------------------------------------------------------------------

def fences(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", GUIDE.read_text(), re.S | re.M)


def five_commands() -> list[str]:
    return [line for line in fences("sh")[0].splitlines() if line.strip()]


def test_the_guide_opens_with_five_commands_or_fewer():
    text = GUIDE.read_text()
    commands = five_commands()
    assert len(commands) <= 5 and text.index("```sh") < text.index("\n## ", text.index("## From nothing"))
    assert commands[0].startswith("git clone") and commands[1] == "make"
    assert all(c.startswith(".venv/bin/paper ") for c in commands[2:])
    assert "new case-study" in commands[2] and "check" in commands[3]
    assert re.search(r"build case-study-\S+ --to pdf", commands[4])


def test_the_guides_examples_check_clean(fresh, capsys):
    """Its front matter, sections, citations, figure, table, cross-references and placeholder as one case study."""
    assert run(capsys, "-C", str(fresh), "new", "case-study", "acme", "--name", "Acme Foundation")[0] == 0
    examples = fences("markdown")
    assert examples[0].startswith("---\n") and len(examples) >= 6
    (fresh / "case_studies/acme.md").write_text("\n".join(examples))
    with (fresh / "references.bib").open("a") as bib:
        bib.write("\n" + "\n".join(fences("bibtex")))
    for image in set(re.findall(r"\]\(\.\./(figures/[^)]+\.svg)\)", "".join(examples))):
        (fresh / image).write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>\n')
    code, codes = check_codes(capsys, fresh)
    assert code == 0 and set(codes) == {"PLH001"} and codes.count("PLH001") == 1


def test_the_five_commands_make_an_offprint_pdf(shipped, capsys):
    """Everything after clone and make, as the guide writes it, ending with the offprint's PDF."""
    edition = None
    for line in five_commands()[2:]:
        argv = shlex.split(line)[1:]
        if argv[0] == "build":
            edition = argv[1]
            argv += ["--no-cache"]
        code, out, err = run(capsys, "-C", str(shipped), *argv)
        assert code == 0, (line, out, err)
    pdf = shipped / "build" / edition / f"{edition}.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 1000
    assert pdf.read_bytes().startswith(b"%PDF-")
