"""The GitHub workflows and the pre-commit hook run commands that exist, and work.

A workflow is only tried on GitHub, after a push, so a typo there is found late.
These tests parse both workflows, hold every shell line to `make` targets, `paper`
commands and a little plumbing, and run check.yml's steps here, as GitHub would,
in a temporary git repository holding the shipped paper.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
SHIPPED = ("paper.yml", "chapters", "case_studies", "figures", "references.bib")

# The plumbing a workflow may use besides make and paper: git diff (changed files),
# echo/paste (step outputs), and Python's zipfile (one archive of the HTML site).
PLUMBING = (("git", "diff"), ("echo",), ("paste",), (".venv/bin/python", "-m", "zipfile"))


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare 'on' as true


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def commands(run: str) -> list[list[str]]:
    """Each simple command of a run: block (split at newlines, pipes, ';' and '&&'), as words,
    without its redirections."""
    out = []
    for line in run.strip().splitlines():
        for part in re.split(r"\s\|\s|;|&&", line):
            words = shlex.split(part, comments=True)
            while words and re.fullmatch(r"\w+=.*", words[0]):
                words.pop(0)  # a variable assignment before the command
            for i in reversed(range(len(words))):
                if words[i] in (">", ">>", "<"):
                    del words[i:i + 2]  # a redirection and its file
            if words:
                out.append(words)
    return out


def all_commands() -> list[tuple[str, list[str]]]:
    return [(name, words) for name in ("check.yml", "publish.yml")
            for step in steps(load(name)) if "run" in step for words in commands(step["run"])]


def test_triggers():
    assert "pull_request" in triggers(load("check.yml"))
    assert triggers(load("publish.yml"))["push"]["tags"] == ["v*"]


def test_every_command_is_make_paper_or_whitelisted_plumbing():
    found = all_commands()
    assert found
    for name, words in found:
        if words[0] in ("make", ".venv/bin/paper"):
            continue
        assert any(tuple(words[:len(p)]) == p for p in PLUMBING), f"{name}: {' '.join(words)}"


def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    for name, words in all_commands():
        if words[0] == "make":
            for target in words[1:]:
                assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"{name}: make {target}"


def test_paper_commands_parse():
    parser = _parser()
    for name, words in all_commands():
        if words[0] != ".venv/bin/paper":
            continue
        argv = [w if not w.startswith("$") else "paper" for w in words[1:]]  # $EDITIONS: edition ids
        args, unknown = parser.parse_known_args(argv)
        # `build --release` comes with the release work of issue 8; until it lands it is the one unknown flag
        assert set(unknown) <= {"--release"}, f"{name}: {' '.join(words)}: {unknown}"
        assert args.command in ("check", "build", "editions", "status"), f"{name}: {' '.join(words)}"


def test_actions_are_pinned_to_a_major_version():
    for name in ("check.yml", "publish.yml"):
        for step in steps(load(name)):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), f"{name}: {step['uses']}"


def test_check_workflow_shape():
    all_steps = steps(load("check.yml"))
    checkout = next(s for s in all_steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    python = next(s for s in all_steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"
    check = next(s for s in all_steps if "paper check" in s.get("run", ""))
    assert "--format github" in check["run"] and "if" not in check  # a failing check fails the job
    summary = next(s for s in all_steps if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert summary["if"] == "always()"
    upload = next(s for s in all_steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "build/" and "always()" in upload["if"]


def test_publish_workflow_builds_a_release_and_attaches_every_format():
    workflow = load("publish.yml")
    assert workflow["permissions"]["contents"] == "write"
    runs = [s["run"] for s in steps(workflow) if "run" in s]
    assert ".venv/bin/paper check" in runs and ".venv/bin/paper build --release" in runs
    release = next(s for s in steps(workflow) if s.get("uses", "").startswith("softprops/action-gh-release@"))
    files = release["with"]["files"]
    for pattern in ("build/manifest.json", "build/*/*.pdf", "build/*/*.epub", "html.zip"):
        assert pattern in files


def test_pre_commit_hooks():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    local = next(r for r in config["repos"] if r["repo"] == "local")
    for hook in (hooks[0], local["hooks"][0]):
        assert hook["id"] == "paper-check"
        assert hook["language"] in ("python", "system")
        assert hook["pass_filenames"] is False
        entry = shlex.split(hook["entry"])
        assert Path(entry[0]).name == "paper" and _parser().parse_args(entry[1:]).command == entry[1]
        files = re.compile(hook["files"])
        for path in ("paper.yml", "chapters/introduction.md", "case_studies/luma.md", "references.bib",
                     "figures/timeline.svg"):
            assert files.search(path), path
        for path in ("README.md", "docs/x.md", "pipeline/cli.py"):
            assert not files.search(path), path
    assert local["hooks"][0]["entry"] == ".venv/bin/paper check"


# --- running check.yml here --------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_COMMITTER_NAME": "Ada", "GIT_AUTHOR_EMAIL": "a@x.org",
           "GIT_COMMITTER_EMAIL": "a@x.org", "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                          cwd=repo, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """The shipped paper in a new git repository; returns it and its first commit (the pull request's base)."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in SHIPPED:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, root / name)
    (root / "README.md").write_text("# A paper\n")
    (root / ".gitignore").write_text(".venv\nbuild/\n.cache/\n")
    (root / ".venv").symlink_to(ROOT / ".venv")  # what `make setup` leaves; never run here (it would reinstall)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root, git(root, "rev-parse", "HEAD")


def condition(expression: str | None, outputs: dict[str, dict[str, str]], failed: bool) -> bool:
    """The few GitHub expressions the workflow uses; anything else fails the test, so it stays runnable."""
    if expression is None:
        return not failed
    results, status_function = [], False
    for term in (t.strip() for t in expression.split("&&")):
        compared = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+) (==|!=) ''", term)
        if term in ("always()", "success()", "failure()"):
            status_function = True
            results.append({"always()": True, "success()": not failed, "failure()": failed}[term])
        elif compared:
            value = outputs.get(compared[1], {}).get(compared[2], "")
            results.append((value == "") == (compared[3] == "=="))
        else:
            raise AssertionError(f"the test cannot evaluate the workflow condition {term!r}")
    if not status_function:
        results.append(not failed)  # GitHub adds success() to a condition without a status function
    return all(results)


def expand(value: str, base: str, outputs: dict[str, dict[str, str]]) -> str:
    def one(match: re.Match) -> str:
        name = match[1].strip()
        if name == "github.event.pull_request.base.sha":
            return base
        step = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+)", name)
        if step:
            return outputs.get(step[1], {}).get(step[2], "")
        raise AssertionError(f"the test cannot evaluate ${{{{ {name} }}}}")

    return re.sub(r"\$\{\{(.+?)\}\}", one, str(value))


def run_check_workflow(root: Path, base: str, tmp: Path) -> dict[str, subprocess.CompletedProcess | None]:
    """check.yml's steps in order, as GitHub runs them: `uses:` steps and `make setup` are already done
    (the repository is checked out, .venv is there); None marks a step its condition skipped."""
    summary, temp = tmp / "summary.md", tmp / "runner-temp"
    temp.mkdir()
    outputs: dict[str, dict[str, str]] = {}
    results: dict[str, subprocess.CompletedProcess | None] = {}
    failed = False
    for i, step in enumerate(steps(load("check.yml"))):
        key = step.get("id") or step.get("name") or step.get("uses") or str(i)
        if not condition(step.get("if"), outputs, failed):
            results[key] = None
            continue
        if "uses" in step or step["run"].startswith("make "):
            results[key] = subprocess.CompletedProcess([], 0, "", "")
            continue
        # the format does not matter here: HTML only, and no cache, keeps the test fast
        script = step["run"].replace(".venv/bin/paper build", ".venv/bin/paper build --to html --no-cache")
        output_file = temp / f"output-{i}"
        output_file.touch()
        env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output_file),
               "RUNNER_TEMP": str(temp), "CI": "true", "GITHUB_ACTIONS": "true",
               **{k: expand(v, base, outputs) for k, v in step.get("env", {}).items()}}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=root,
                              env=env, capture_output=True, text=True, timeout=120)
        results[key] = done
        failed = failed or done.returncode != 0
        if "id" in step:
            lines = output_file.read_text().splitlines()
            outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
    results["summary"] = subprocess.CompletedProcess([], 0, summary.read_text() if summary.exists() else "", "")
    return results


def test_check_workflow_on_a_pull_request_that_edits_one_case_study(repo, tmp_path):
    root, base = repo
    luma = root / "case_studies" / "luma.md"
    luma.write_text(luma.read_text() + "\nThe centre was founded in [[TODO: peer to confirm the year]].\n")
    git(root, "commit", "-qam", "luma: one more fact to confirm")

    results = run_check_workflow(root, base, tmp_path)
    check = results["check"]
    assert check is not None and check.returncode == 0, check.stderr
    assert re.search(r"^::warning file=case_studies/luma\.md,line=\d+,col=\d+,title=PLH001::", check.stdout, re.M)
    editions = results["editions"]
    assert editions is not None and editions.returncode == 0, editions.stderr
    built = results["Build the touched editions"]
    assert built is not None and built.returncode == 0, built.stderr
    for edition in ("paper", "summary", "case-study-luma"):
        assert (root / "build" / edition / "index.html").is_file(), edition
    assert not (root / "build" / "case-study-oce").exists(), "an edition the change cannot affect is not built"
    assert results["Upload the build"] is not None
    summary = results["summary"].stdout
    assert summary.startswith("### Paper status:")
    assert "| file | peer | status | words |" in summary
    assert "| `case_studies/luma.md` | LUMA Center Finland |" in summary


def test_check_workflow_fails_on_errors_and_still_writes_the_summary(repo, tmp_path):
    root, base = repo
    oce = root / "case_studies" / "oce.md"
    oce.write_text(oce.read_text() + "\nAs [@nobody2099] showed.\n")
    (root / "README.md").write_text("# A paper\n\nMore words.\n")
    git(root, "commit", "-qam", "oce: a citation that does not exist")

    results = run_check_workflow(root, base, tmp_path)
    check = results["check"]
    assert check is not None and check.returncode == 1
    assert re.search(r"^::error file=case_studies/oce\.md,line=\d+,col=\d+,title=CIT001::", check.stdout, re.M)
    assert results["editions"] is None and results["Build the touched editions"] is None
    assert results["Upload the build"] is None
    assert not (root / "build").exists()
    status = results["Status in the job summary"]
    assert status is not None and status.returncode == 0
    assert "| `case_studies/oce.md` | Office for Climate Education |" in results["summary"].stdout


def test_check_workflow_builds_nothing_when_only_the_readme_changes(repo, tmp_path):
    root, base = repo
    (root / "README.md").write_text("# A paper\n\nHow to contribute.\n")
    git(root, "commit", "-qam", "README")

    results = run_check_workflow(root, base, tmp_path)
    editions = results["editions"]
    assert editions is not None and editions.returncode == 0, editions.stderr
    assert results["Build the touched editions"] is None and results["Upload the build"] is None
    assert not (root / "build").exists()
    assert "### Paper status:" in results["summary"].stdout
