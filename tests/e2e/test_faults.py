"""Faults during `paper build`: a renderer failing, crashing or hanging, a killed build, two builds at
once, an output folder that cannot be written. Each must end in plain lines naming edition and format,
exit 3 (2 for a busy folder), no traceback, and the previous artifacts whole.

Pandoc is replaced by a small shell script (`fake_pandoc`) that misbehaves for one kind of run and
hands every other run to the real pandoc; Typst is made to hang by a project template with a long loop.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

import pipeline.render.pandoc as pandoc_module
from pipeline.cli import main
from pipeline.render import files, typst_run
from pipeline.render.files import TEMPORARY, write_atomic

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "base"
REPO = Path(__file__).resolve().parents[2]
EDITIONS = ("paper", "summary", "case-study-alpha")
REAL_PANDOC = pandoc_module.pandoc_path()  # before any test replaces pandoc_path
FIRST_DATE = "1700000000"
LATER_DATE = "1800000000"  # a rebuild with this date changes every artifact's bytes


# ---------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> Path:
    """The fixture paper built once; each test works on its own copy of it."""
    root = tmp_path_factory.mktemp("faults") / "paper"
    shutil.copytree(FIXTURE, root)
    done = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(root), "build"], capture_output=True,
                          text=True, env={**os.environ, "SOURCE_DATE_EPOCH": FIRST_DATE}, timeout=300)
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def built(first_build, tmp_path) -> Path:
    root = tmp_path / "paper"
    shutil.copytree(first_build, root)
    return root


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def only(found: dict[str, str], suffix: str) -> dict[str, str]:
    return {k: v for k, v in found.items() if k.endswith(suffix)}


def fake_pandoc(folder: Path, when: str, then: str) -> str:
    """A pandoc that runs ``then`` (shell) when its arguments contain ``when``, else the real pandoc."""
    script = folder / "fake-pandoc"
    script.write_text(
        "#!/bin/sh\n"
        f'case " $* " in\n  *" {when} "*) {then} ;;\nesac\n'
        f'exec "{REAL_PANDOC}" "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return str(script)


FAIL = 'echo "[WARNING] a warning first" >&2; echo "simulated pandoc failure" >&2; exit 1'
CRASH = "kill -SEGV $$"


def hang(seconds: float) -> str:
    """Sleep in a grandchild (not exec): the whole process group must be stopped, not just the shell."""
    return f"sleep {seconds}; exit 0"


def build(root: Path, *args: str) -> int:
    """A build that runs every step (the cache would skip the fakes these tests put in)."""
    return main(["-C", str(root), "build", "--no-cache", *args])


def assert_plain(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err
    assert all(line.startswith("paper: ") for line in err.splitlines() if line.strip()), err


def sleeping(marker: str) -> list[str]:
    """Processes still running `sleep <marker>` (a fake pandoc's helper that should have been killed)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if args[:2] == [b"sleep", marker.encode()]:
            found.append(cmdline.parent.name)
    return found


def assert_no_leftovers(folder: Path) -> None:
    left = [p for p in folder.rglob("*") if TEMPORARY.match(p.name) or p.name.startswith(".work-")]
    assert left == []


# ------------------------------------------------------------------------ one renderer fails


@pytest.mark.parametrize("fmt, when, then, says", [
    ("epub", "-t epub3", FAIL, "pandoc failed while writing the EPUB book: simulated pandoc failure"),
    ("html", "-t html5", CRASH, "pandoc crashed (SIGSEGV) while writing the HTML page"),
], ids=["epub-fails", "html-crashes"])
def test_a_failing_renderer_costs_only_its_own_files(built, monkeypatch, capsys, tmp_path, fmt, when, then, says):
    before = digests(built / "build")
    script = fake_pandoc(tmp_path, when, then)
    monkeypatch.setattr(pandoc_module, "pandoc_path", lambda: script)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", LATER_DATE)
    assert build(built) == 3
    err = capsys.readouterr().err
    assert_plain(err)
    name = fmt.upper()
    for edition in EDITIONS:
        assert (f"paper: the {name} of edition '{edition}' failed: {says}; "
                "its previous file was left as it was") in err.splitlines()
    assert "3 of the 9 files could not be built" in err
    after = digests(built / "build")
    suffix = "index.html" if fmt == "html" else f".{fmt}"
    kept = {k: v for k, v in only(before, suffix).items() if k.count("/") == 1}  # not the landing page
    assert {k: after[k] for k in kept} == kept  # the failed format: byte for byte as before
    assert all(after[k] != v for k, v in only(before, ".pdf").items())  # the other formats were rebuilt
    manifest = json.loads((built / "build/manifest.json").read_text())
    listed = {a["path"]: a["sha256"] for e in manifest["editions"] for a in e["artifacts"]}
    assert len(listed) == 9 and all(after[path] == sha for path, sha in listed.items())
    assert_no_leftovers(built / "build")


def test_a_hanging_pandoc_is_stopped_after_paper_timeout(built, monkeypatch, capsys, tmp_path):
    marker = "61.25"
    script = fake_pandoc(tmp_path, "-t typst", hang(float(marker)))
    monkeypatch.setattr(pandoc_module, "pandoc_path", lambda: script)
    monkeypatch.setenv("PAPER_TIMEOUT", "1")
    pdfs = only(digests(built / "build"), ".pdf")
    start = time.monotonic()
    assert build(built, "--to", "pdf,html") == 3
    assert time.monotonic() - start < 40
    err = capsys.readouterr().err
    assert_plain(err)
    assert ("paper: the PDF of edition 'summary' failed: pandoc was still writing the Typst source of the PDF "
            "after 1 s and was stopped (PAPER_TIMEOUT sets the limit in seconds); "
            "its previous file was left as it was") in err.splitlines()
    assert only(digests(built / "build"), ".pdf") == pdfs
    assert sleeping(marker) == []  # the script's own child was killed with it


def test_a_hanging_typst_is_stopped_after_paper_timeout(built, monkeypatch, capsys):
    template = built / "templates/pdf/paper.typ"
    template.parent.mkdir(parents=True)
    template.write_text("#for i in range(1000000000) { }\n" + (REPO / "templates/pdf/paper.typ").read_text())
    monkeypatch.setenv("PAPER_TIMEOUT", "2")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", LATER_DATE)
    before = digests(built / "build")
    start = time.monotonic()
    assert build(built, "paper", "summary") == 3
    assert time.monotonic() - start < 60
    err = capsys.readouterr().err
    assert_plain(err)
    assert ("paper: the PDF of edition 'paper' failed: Typst was still making the paper edition after 2 s and "
            "was stopped (PAPER_TIMEOUT sets the limit in seconds); its previous file was left as it was") in err
    after = digests(built / "build")
    assert only(after, ".pdf") == only(before, ".pdf")
    assert after["paper/paper.epub"] != before["paper/paper.epub"]  # the other formats were built


@pytest.mark.parametrize("child, says", [
    ("kill -SEGV $$", "Typst crashed on the summary edition: it was killed by SIGSEGV"),
    ("echo \"thread 'main' panicked at src/layout.rs\" >&2; exit 101",
     "Typst crashed on the summary edition: thread 'main' panicked at src/layout.rs"),
], ids=["segfault", "panic"])
def test_a_crashing_typst_costs_only_its_pdf(built, monkeypatch, capsys, child, says):
    real = typst_run.run_limited
    monkeypatch.setattr(typst_run, "run_limited", lambda argv, **options: real(["sh", "-c", child], **options))
    pdf = (built / "build/summary/summary.pdf").read_bytes()
    assert build(built, "summary") == 3
    err = capsys.readouterr().err
    assert_plain(err)
    assert f"paper: the PDF of edition 'summary' failed: {says}; its previous file was left as it was" in err
    assert (built / "build/summary/summary.pdf").read_bytes() == pdf


def test_a_chapter_pandoc_cannot_read_is_named_and_nothing_is_replaced(built, monkeypatch, capsys, tmp_path):
    before = digests(built / "build")
    script = fake_pandoc(tmp_path, "-f markdown", FAIL)
    monkeypatch.setattr(pandoc_module, "pandoc_path", lambda: script)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIRST_DATE)
    assert build(built) == 3
    err = capsys.readouterr().err
    assert_plain(err)
    assert ("paper: no edition could be built: chapters/01-intro.md: pandoc failed while reading a chapter: "
            "simulated pandoc failure") in err.splitlines()
    assert "nothing was built; the previous files in build were left as they were" in err
    assert digests(built / "build") == before  # the landing page is republished, identical


def test_citations_that_fail_name_the_edition(built, monkeypatch, capsys, tmp_path):
    before = digests(built / "build")
    script = fake_pandoc(tmp_path, "--citeproc", FAIL)
    monkeypatch.setattr(pandoc_module, "pandoc_path", lambda: script)
    assert build(built) == 3
    err = capsys.readouterr().err
    assert_plain(err)
    assert ("paper: edition 'paper' could not be put together: pandoc failed while formatting the citations: "
            "simulated pandoc failure; its previous files were left as they were") in err.splitlines()
    after = digests(built / "build")
    assert {k: after[k] for k in before if k.startswith("paper/")} == \
        {k: v for k, v in before.items() if k.startswith("paper/")}


def test_a_bad_paper_timeout_is_a_usage_error(built, monkeypatch, capsys):
    monkeypatch.setenv("PAPER_TIMEOUT", "soon")
    assert build(built) == 2
    assert "PAPER_TIMEOUT must be a number of seconds above 0, not 'soon'" in capsys.readouterr().err


# ------------------------------------------------------------------------------ Typst's root


def test_typst_reaches_the_images_of_the_edition_and_nothing_else(built, monkeypatch, capsys):
    template = built / "templates/pdf/paper.typ"
    template.parent.mkdir(parents=True)
    original = (REPO / "templates/pdf/paper.typ").read_text()
    template.write_text('#image("/figures/diagram.png", alt: "the same figure again")\n' + original)
    assert build(built, "paper", "--to", "pdf") == 0  # typst.lua's root-relative form reaches the copy
    for raw in ('#read("/paper.yml")', '#read("/chapters/01-intro.md")', '#image("/figures/chart.svg")',
                '#read("../paper.yml")', '#read("/etc/hostname")'):
        template.write_text(raw + "\n" + original)
        assert build(built, "paper", "--to", "pdf") == 3
        err = capsys.readouterr().err
        assert_plain(err)
        assert ("Typst can read only the images the edition shows" in err
                or "would escape the project root" in err), (raw, err)
        assert ".work-" not in err  # the scratch folder's path is not shown


# --------------------------------------------------------------------- the output folder


def test_a_file_where_an_edition_folder_must_be(built, capsys):
    folder = built / "build/summary"
    shutil.rmtree(folder)
    folder.write_text("not a folder")
    assert build(built) == 3
    err = capsys.readouterr().err
    assert_plain(err)
    assert re.search(r"^paper: the PDF of edition 'summary' failed: cannot write build/summary/summary\.pdf: "
                     r"Not a directory; its previous file was left as it was$", err, re.M)
    assert (built / "build/paper/paper.pdf").is_file() and folder.read_text() == "not a folder"


def test_a_file_where_the_output_folder_must_be(built, capsys):
    shutil.rmtree(built / "build")
    (built / "build").write_text("not a folder")
    assert build(built) == 3
    err = capsys.readouterr().err
    assert_plain(err)
    assert err.splitlines() == [
        "paper: cannot write build: Not a directory; nothing was built, and the previous files were left as they were"]


def test_a_full_disk_is_one_line_per_file_and_keeps_the_previous_ones(built, monkeypatch, capsys):
    before = digests(built / "build")
    real_replace = os.replace

    def full(src, dst, *args, **kwargs):
        if str(dst).endswith(".pdf"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(files.os, "replace", full)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", LATER_DATE)
    assert build(built) == 3
    err = capsys.readouterr().err
    assert_plain(err)
    assert ("paper: the PDF of edition 'paper' failed: cannot write build/paper/paper.pdf: No space left on "
            "device; its previous file was left as it was") in err.splitlines()
    assert only(digests(built / "build"), ".pdf") == only(before, ".pdf")
    assert_no_leftovers(built / "build")


def test_a_read_only_output_folder(built, capsys):
    folders = [built / "build", *(p for p in (built / "build").rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    try:
        probe = built / "build" / "probe"
        try:
            probe.write_text("x")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("this user (root) can write into a read-only folder; "
                        "test_a_file_where_the_output_folder_must_be covers the same path")
        before = digests(built / "build")
        assert build(built) == 3
        err = capsys.readouterr().err
        assert_plain(err)
        assert err.splitlines()[0].startswith("paper: cannot write build: Permission denied")
        assert digests(built / "build") == before
    finally:
        for folder in folders:
            folder.chmod(0o755)


def test_write_atomic_never_leaves_half_a_file(tmp_path, monkeypatch):
    target = tmp_path / "out" / "paper.pdf"
    write_atomic(target, b"previous")

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", no_space)
    with pytest.raises(OSError) as caught:
        write_atomic(target, b"new bytes")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in target.parent.iterdir()) == ["paper.pdf"]


def test_leftovers_of_a_killed_build_are_removed_and_nothing_else(built):
    planted = [built / "build/paper/.paper.pdf.ab12cd_3.tmp", built / "build/.manifest.json.zz99zz99.tmp",
               built / "build/paper/figures/.diagram.png.a1b2c3d4.tmp", built / "build/.work-abcd1234/x/y.typ"]
    kept = [built / "build/notes.tmp", built / "build/.hidden.tmp", built / "build/.work-mine/keep.txt"]
    for path in planted + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("left over")
    assert build(built, "summary", "--to", "html") == 0
    assert [p for p in planted if p.exists()] == []
    assert not (built / "build/.work-abcd1234").exists()
    assert all(p.read_text() == "left over" for p in kept)


# ------------------------------------------------------------------- killed, and two at once


def run_paper(root: Path, *args: str, date: str = LATER_DATE, prelude: str = "") -> subprocess.Popen:
    """`paper -C root build ...` in its own process group; ``prelude`` is Python run before it."""
    code = (f"import sys\n{prelude}\nfrom pipeline.cli import main\n"
            f"sys.exit(main({['-C', str(root), 'build', *args]!r}))\n")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env={**os.environ, "SOURCE_DATE_EPOCH": date})


def assert_every_file_whole(build_dir: Path, sources: Path) -> None:
    """Each file is absent or complete; temporary files and scratch folders do not count."""
    for path in build_dir.rglob("*"):
        relative = path.relative_to(build_dir)
        if not path.is_file() or TEMPORARY.match(path.name) or relative.parts[0].startswith(".work-"):
            continue
        data = path.read_bytes()
        if path.suffix == ".pdf":
            assert len(PdfReader(path).pages) > 0, relative
        elif path.suffix == ".epub":
            with zipfile.ZipFile(path) as book:
                assert book.testzip() is None, relative
        elif path.name == "manifest.json":
            json.loads(data)
        elif path.suffix == ".html":
            assert data.rstrip().endswith(b"</html>"), relative
        elif path.name == "style.css":
            assert data == (REPO / "templates/html/style.css").read_bytes(), relative
        elif relative.parts[-2:-1] == ("figures",):
            assert data == (sources / "figures" / path.name).read_bytes(), relative
        elif path.name != ".lock":
            pytest.fail(f"unexpected file in build/: {relative}")


def test_a_build_killed_at_any_moment_leaves_whole_files_and_the_next_one_recovers(built):
    """Killed at fractions of a whole build's time (measured here, so a slow machine is hit mid-build too)."""
    start = time.monotonic()
    whole = run_paper(built, date=FIRST_DATE)
    assert whole.wait(timeout=300) == 0
    seconds = time.monotonic() - start
    for number, fraction in enumerate((0.1, 0.25, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)):
        build_run = run_paper(built, date=str(int(LATER_DATE) + number))
        time.sleep(seconds * fraction)
        if number % 2:
            os.killpg(build_run.pid, signal.SIGKILL)  # as a CI runner cancels: the build's process group
        else:
            build_run.send_signal(signal.SIGKILL)  # as the OOM killer does: the build alone
        build_run.communicate(timeout=60)
        assert_every_file_whole(built / "build", built)
    done = run_paper(built)
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert_every_file_whole(built / "build", built)
    assert_no_leftovers(built / "build")
    manifest = json.loads((built / "build/manifest.json").read_text())
    for edition in manifest["editions"]:
        for artifact in edition["artifacts"]:
            data = (built / "build" / artifact["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == artifact["sha256"]


def test_two_builds_at_once_the_second_is_refused(built, tmp_path):
    slow = fake_pandoc(tmp_path, "-t html5", f'sleep 4; exec "{REAL_PANDOC}" "$@"')
    first = run_paper(built, "--to", "html",
                      prelude=f"import pipeline.render.pandoc as p\np.pandoc_path = lambda: {slow!r}")
    deadline = time.monotonic() + 60
    while not list((built / "build").glob(".work-*")):  # the scratch folder: made once the lock is held
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.02)
    second = run_paper(built)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 2, err
    assert err.strip() == ("paper: another build is running in build (it holds build/.lock); "
                           "wait for it to finish, or build into another folder with --out")
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert_every_file_whole(built / "build", built)


def test_a_held_lock_refuses_the_build_and_a_released_one_does_not(built, capsys):
    import fcntl

    with open(built / "build/.lock", "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert build(built, "summary", "--to", "html") == 2
        assert "another build is running in build" in capsys.readouterr().err
    assert build(built, "summary", "--to", "html") == 0


def test_ctrl_c_stops_the_renderers_and_keeps_the_previous_files(built, tmp_path):
    """Pandoc and Typst run in their own process groups (so a timeout stops them whole); Ctrl-C,
    which the terminal sends to the build only, must still stop them at once."""
    marker = "62.75"
    slow = fake_pandoc(tmp_path, "-t html5", hang(float(marker)))
    before = digests(built / "build")
    running = run_paper(built, prelude=f"import pipeline.render.pandoc as p\np.pandoc_path = lambda: {slow!r}")
    deadline = time.monotonic() + 60
    while not sleeping(marker):
        assert running.poll() is None and time.monotonic() < deadline, running.communicate()
        time.sleep(0.02)
    running.send_signal(signal.SIGINT)
    _, err = running.communicate(timeout=30)
    assert running.returncode == 130 and err.strip().endswith("paper: interrupted"), err
    assert "Traceback" not in err
    assert sleeping(marker) == []
    after = digests(built / "build")
    assert only(after, "index.html") == only(before, "index.html")
    assert_every_file_whole(built / "build", built)
    assert not list((built / "build").glob(".work-*"))
