"""`paper serve`: the pure pieces, the server in a thread, and the whole loop in real headless Chromium.

The browser test runs `paper serve --port 0` as users do, edits a chapter on disk and watches
the page: the new sentence appears within 2 seconds of the write, a check error shows in the
banner with its file and line, author text in a diagnostic stays text, and Ctrl-C exits 0.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path, PurePosixPath

import pytest

from pipeline.cli import main
from pipeline.diagnostics import Diagnostic
from pipeline.serve import (
    Board,
    Preview,
    PreviewServer,
    Result,
    State,
    bind_problem,
    host_allowed,
    inject,
    is_input,
    publish,
    rebuild,
    relevant_changes,
    resolve_request,
    script_json,
    state_json,
    summary_line,
    watch,
    watched_dirs,
)
from tests.tools import need_tool

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning)"
                  r"\[(?P<code>[A-Z]{2,5}\d{3})\]: (?P<message>.+)$")
HOSTILE = "</script><script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>"
CITATION = Diagnostic("chapters/01-introduction.md", 31, 5, "error", "CIT001",
                      "unknown citation key 'nosuchkey2020'; add its entry to references.bib")


# --- the page's state and the injected script -------------------------------------------------

def test_script_json_cannot_close_the_script_or_break_a_line():
    text = script_json({"m": HOSTILE + "<!-- & \u2028\u2029 é"})
    assert not set("<>&") & set(text)
    assert "\u2028" not in text and "\u2029" not in text and text.isascii()
    assert json.loads(text)["m"] == HOSTILE + "<!-- & \u2028\u2029 é"


def test_state_json_lists_each_diagnostic_as_the_cli_prints_it():
    warning = Diagnostic("chapters/a.md", 3, 1, "warning", "TODO001", "placeholder: a\nb \x1b[31m")
    data = state_json(State(version=4, build=2, diagnostics=(CITATION, warning), failure=("boom",)))
    assert (data["version"], data["build"], data["errors"], data["warnings"]) == (4, 2, 1, 1)
    assert data["failure"] == ["boom"]
    texts = [d["text"] for d in state_json(State(diagnostics=(warning, CITATION)))["diagnostics"]]
    assert texts[0] == ("chapters/01-introduction.md:31:5: error[CIT001]: unknown citation key "
                        "'nosuchkey2020'; add its entry to references.bib")
    assert all(LINE.match(t) for t in texts) and "\x1b" not in texts[1] and "\n" not in texts[1]


def test_inject_puts_one_script_before_the_last_body_end_and_escapes_author_text():
    page = b"<html><body><p>x</p><pre></body></pre></BODY></html>"
    state = State(diagnostics=(Diagnostic("chapters/a.md", 1, 1, "error", "FM008", HOSTILE),))
    out = inject(page, state)
    assert out.startswith(b"<html><body><p>x</p><pre></body></pre><script id=\"paper-serve\">")
    assert out.endswith(b"</script>\n</BODY></html>")
    assert out.count(b"</script") == 1 and b"__pwned" in out  # the author's text only inside the JSON
    assert b"<img" not in out
    assert inject(b"no body", State()).startswith(b"no body<script")


def test_the_banner_is_built_from_text_never_from_markup():
    from pipeline.serve import RELOAD_SCRIPT

    assert "innerHTML" not in RELOAD_SCRIPT and "insertAdjacentHTML" not in RELOAD_SCRIPT
    assert "textContent" in RELOAD_SCRIPT and "http" not in RELOAD_SCRIPT  # no request off this server


def test_summary_line_says_what_changed_what_happened_and_how_long():
    line = summary_line(Result(built=True, page_changed=True, seconds=0.42), ["chapters/a.md"])
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] chapters/a\.md: rebuilt, the page reloads \(0\.4 s\)", line)
    assert "the check found 1 error; the page stays the last good build" in summary_line(
        Result(diagnostics=(CITATION,)), ["a.md", "b.md", "c.md", "d.md", "e.md"])
    assert "a.md, b.md, c.md and 2 more" in summary_line(Result(), ["a.md", "b.md", "c.md", "d.md", "e.md"])
    assert "the build failed" in summary_line(Result(failure=("x",)), [])


def test_rebuild_reloads_only_on_a_new_page_and_keeps_the_last_good_one(tmp_path):
    """In process, as the watch loop calls it: the counter moves only when the page's files do."""
    import fcntl

    root = tmp_path / "p"
    assert main(["init", str(root)]) == 0
    preview = Preview(root, "paper", root / "build" / ".serve", jobs=1)
    board = Board()
    first = rebuild(preview)
    assert first.built and first.page_changed and not first.failure and publish(board, first).build == 1
    page = (preview.out / "paper" / "index.html").read_bytes()
    again = rebuild(preview)
    assert again.built and not again.page_changed and publish(board, again).build == 1  # no reload for nothing
    chapter = root / "chapters" / "01-introduction.md"
    chapter.write_text(chapter.read_text() + "\nSee [@nosuchkey2020].\n")
    broken = rebuild(preview)
    assert [d.code for d in broken.diagnostics] == ["CIT001"] and not broken.built
    state = publish(board, broken, ["chapters/01-introduction.md"])
    assert state.build == 1 and state.diagnostics == broken.diagnostics and state.changed == ("chapters/01-introduction.md",)
    assert (preview.out / "paper" / "index.html").read_bytes() == page
    chapter.write_text(chapter.read_text().replace("[@nosuchkey2020]", "the new paragraph"))
    with open(preview.out / ".lock") as lock:  # another build holds the folder: shown, not raised
        fcntl.flock(lock, fcntl.LOCK_EX)
        busy = rebuild(preview)
    assert busy.failure and "another build is running" in busy.failure[0] and not busy.built
    state = publish(board, busy)
    assert state_json(state)["failure"] == list(busy.failure) and state.build == 1
    fixed = rebuild(preview)
    assert fixed.page_changed and publish(board, fixed).build == 2 and not board.state().failure
    assert b"the new paragraph" in (preview.out / "paper" / "index.html").read_bytes()
    (root / "paper.yml").write_text("title: [unclosed\n")
    config = rebuild(preview)
    assert config.diagnostics and config.diagnostics[0].path == "paper.yml" and not config.built


# --- the board --------------------------------------------------------------------------------

def test_board_wakes_a_long_poll_on_update_and_on_close():
    board = Board()
    assert board.wait(board.state().version + 1, 0.01).version == 0  # already different: at once
    started = time.monotonic()
    assert board.wait(0, 0.05).version == 0 and time.monotonic() - started >= 0.04  # timed out
    threading.Timer(0.05, lambda: board.update(build=1)).start()
    assert board.wait(0, 5).build == 1
    threading.Timer(0.05, board.close).start()
    started = time.monotonic()
    board.wait(board.state().version, 5)
    assert time.monotonic() - started < 2


# --- which files matter -----------------------------------------------------------------------

@pytest.mark.parametrize("rel, expected", [
    ("paper.yml", True),
    ("chapters/01-intro.md", True),
    ("case_studies/luma.md", True),
    ("figures/network.svg", True),
    ("figures/sub/photo.png", True),
    ("templates/html/style.css", True),
    ("references.bib", True),
    ("bib/lab.bib", True),
    ("styles/apa.csl", True),
    ("parts/appendix.md", True),  # a `contents:` chapter outside the folders
    ("build/paper/index.html", False),
    ("build/.serve/paper/index.html", False),
    (".cache/build/ab/cd", False),
    (".git/index", False),
    (".venv/lib/x.md", False),
    ("chapters/.01-intro.md.swp", False),
    ("chapters/01-intro.md~", False),
    ("chapters/4913", False),
    ("chapters/.#01-intro.md", False),
    ("chapters/#01-intro.md#", False),
    ("chapters/01-intro.md.tmp", False),
    ("chapters/01-intro.md___jb_tmp___", False),
    ("figures/.gitkeep", False),
    ("notes.txt", False),
    ("scripts/make_figures.py", False),
])
def test_is_input(rel, expected):
    assert is_input(PurePosixPath(rel)) is expected


def test_relevant_changes_are_project_relative_sorted_and_unique(tmp_path):
    root = tmp_path
    paths = [str(root / "chapters" / "b.md"), str(root / "chapters" / "a.md"), str(root / "chapters" / "a.md"),
             str(root / "build" / "x.html"), "/elsewhere/c.md", str(root / "paper.yml")]
    assert relevant_changes(root, paths) == ["chapters/a.md", "chapters/b.md", "paper.yml"]


def test_watched_dirs_are_the_inputs_folders_never_build_or_venv(tmp_path):
    for folder in ("chapters", "figures/photos", "figures/.hidden", "templates/html", "build/.serve/paper",
                   ".venv/lib", ".git/objects", "bib", "docs"):
        (tmp_path / folder).mkdir(parents=True)
    dirs = {p.relative_to(tmp_path).as_posix() for p in watched_dirs(tmp_path, ["bib/lab.bib", "../outside.bib"])}
    assert dirs == {".", "chapters", "figures", "figures/photos", "templates", "templates/html", "bib"}


def test_watch_reports_inputs_only_and_follows_new_folders(tmp_path):
    """The real watcher, in a thread: a batch per save, new folders joined, build/ and editor files not."""
    assert main(["init", str(tmp_path / "p")]) == 0
    root = tmp_path / "p"
    stop, ready, batches = threading.Event(), threading.Event(), []
    watcher = threading.Thread(target=watch, args=(root, stop, ready.set, batches.append))
    watcher.start()
    try:
        assert ready.wait(10)

        def save(rel: str, expected: list[str]) -> None:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text("x")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not (batches and set(expected) <= set(batches[-1])):
                time.sleep(0.02)
            assert batches and set(expected) <= set(batches[-1]) <= {*expected, rel}, batches

        save("chapters/01-introduction.md", ["chapters/01-introduction.md"])
        save("figures/photos/a.svg", ["figures/photos"])  # a new folder: rebuilt once it is watched too
        save("figures/photos/b.svg", ["figures/photos/b.svg"])
        count = len(batches)
        for rel in ("build/paper/index.html", ".cache/x", "chapters/.01-introduction.md.swp", "notes.txt"):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text("x")
        save("paper.yml", ["paper.yml"])
        assert len(batches) == count + 1
    finally:
        stop.set()
        watcher.join(10)
    assert not watcher.is_alive()


# --- serving ------------------------------------------------------------------------------------

def test_resolve_request_stays_inside_the_folder(tmp_path):
    served = tmp_path / "serve"
    (served / "paper").mkdir(parents=True)
    (served / "paper" / "index.html").write_text("page")
    (served / ".lock").write_text("")
    (tmp_path / "secret.txt").write_text("secret")
    (served / "paper" / "link").symlink_to(tmp_path / "secret.txt")
    assert resolve_request(served, "/paper/index.html?x=1#y") == (served / "paper" / "index.html").resolve()
    assert resolve_request(served, "/paper/") == (served / "paper").resolve()
    for bad in ("/../secret.txt", "/paper/../../secret.txt", "/%2e%2e/secret.txt", "/paper/%2E%2E/%2e%2e/secret.txt",
                "/..%2fsecret.txt", "/paper/..%5c..%5csecret.txt", "/.lock", "/paper/./index.html",
                "/paper/link", "/paper/index.html%00", "//etc/passwd", "/missing.html", "paper/index.html"):
        assert resolve_request(served, bad) is None, bad


@pytest.mark.parametrize("bound, header, allowed", [
    ("127.0.0.1", "127.0.0.1:8000", True),
    ("127.0.0.1", "localhost:8000", True),
    ("127.0.0.1", "[::1]:8000", True),
    ("127.0.0.1", "evil.example:8000", False),
    ("127.0.0.1", "127.0.0.1.evil.example", False),
    ("127.0.0.1", None, False),
    ("::1", "[::1]:8000", True),
    ("0.0.0.0", "192.0.2.7:8000", True),  # asked to listen beyond this machine: any name
])
def test_host_allowed(bound, header, allowed):
    assert host_allowed(bound, header) is allowed


@pytest.fixture
def served(tmp_path):
    """A served folder with one built page, and a server for it on a free port, in a thread."""
    folder = tmp_path / "serve"
    (folder / "paper" / "assets").mkdir(parents=True)
    page = b"<!DOCTYPE html><html><head><title>T</title></head><body><p>the paper</p></body></html>\n"
    (folder / "paper" / "index.html").write_bytes(page)
    (folder / "paper" / "assets" / "style.css").write_text("body{}")
    (folder / ".lock").write_text("")
    (tmp_path / "secret.txt").write_text("secret")
    board = Board()
    server = PreviewServer(folder, "paper", board, "127.0.0.1", 0).start()
    yield server, board, folder, page
    server.stop()


def get(server: PreviewServer, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
    """A raw GET (http.client sends the path as given: no client-side normalising of '..')."""
    address, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(address, port, timeout=10)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", host or f"{address}:{port}")
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def test_server_injects_the_script_at_serve_time_only(served):
    server, board, folder, page = served
    board.update(build=3, diagnostics=(CITATION,))
    status, headers, body = get(server, "/paper/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert b'<script id="paper-serve">' in body and b'"build":3' in body and b"CIT001" in body
    assert (folder / "paper" / "index.html").read_bytes() == page  # the artifact is untouched
    assert get(server, "/paper/assets/style.css")[2] == b"body{}"
    status, headers, _ = get(server, "/")
    assert status == 302 and headers["Location"] == "/paper/"
    assert get(server, "/paper")[1]["Location"] == "/paper/"


@pytest.mark.parametrize("path", ["/../secret.txt", "/paper/../../secret.txt", "/%2e%2e/secret.txt",
                                  "/paper/%2e%2e/%2e%2e/secret.txt", "/.lock", "/paper/..%2f..%2fsecret.txt",
                                  "/%2e%2e%2fsecret.txt", "/..\\secret.txt"])
def test_server_refuses_paths_out_of_the_folder(served, path):
    server, _, _, _ = served
    status, _, body = get(server, path)
    assert status == 404 and b"secret" not in body


def test_server_refuses_a_foreign_host_name(served):
    server, _, _, _ = served
    assert get(server, "/paper/", host="attacker.example")[0] == 421


def test_state_endpoint_long_polls_until_the_state_changes(served):
    server, board, _, _ = served
    version = json.loads(get(server, "/__paper/state")[2])["version"]
    threading.Timer(0.2, lambda: board.update(build=7)).start()
    started = time.monotonic()
    data = json.loads(get(server, f"/__paper/state?since={version}")[2])
    assert data["build"] == 7 and 0.1 < time.monotonic() - started < 5


def test_stop_is_quick_with_a_long_poll_and_an_idle_connection_open(tmp_path):
    board = Board()
    server = PreviewServer(tmp_path, "paper", board, "127.0.0.1", 0).start()
    idle = socket.create_connection(server.httpd.server_address[:2])  # a browser's preconnect: says nothing
    polled: list[bytes] = []
    poller = threading.Thread(target=lambda: polled.append(get(server, "/__paper/state?since=1")[2]))
    poller.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    poller.join(5)
    assert time.monotonic() - started < 3 and polled and not poller.is_alive()
    assert not [t for t in threading.enumerate() if t.name == "paper-serve-http"]
    idle.close()


def test_port_in_use_is_one_line_and_exit_two(tmp_path, capsys):
    assert main(["init", str(tmp_path / "p")]) == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        capsys.readouterr()
        assert main(["-C", str(tmp_path / "p"), "serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err == f"paper: port {port} on 127.0.0.1 is in use; choose another with --port N (--port 0 picks a free one)\n"
    with pytest.raises(OSError) as caught:
        with socket.socket() as again:
            again.bind(("127.0.0.1", port))
            again.listen(1)
            PreviewServer(tmp_path, "paper", Board(), "127.0.0.1", port)
    assert "in use" in bind_problem("127.0.0.1", port, caught.value)


def test_unknown_edition_and_no_project_exit_two(tmp_path, capsys):
    assert main(["init", str(tmp_path / "p")]) == 0
    capsys.readouterr()
    assert main(["-C", str(tmp_path / "p"), "serve", "nonesuch", "--port", "0"]) == 2
    assert "no edition called 'nonesuch'; the editions are: paper, summary" in capsys.readouterr().err
    assert main(["-C", str(tmp_path), "serve", "--port", "0"]) == 2
    assert "no paper.yml found" in capsys.readouterr().err


# --- the whole loop, in real headless Chromium ---------------------------------------------------

class Serving:
    """`paper serve --port 0` in a subprocess, its output read line by line in a thread."""

    def __init__(self, root: Path) -> None:
        env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
        self.proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-C", str(root), "serve", "--port", "0"],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines.put), daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.err.append), daemon=True)]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream, put) -> None:
        for line in stream:
            put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.out.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no line matching {pattern!r} in {self.out}; stderr: {self.stop()[1]}")

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a user stops it; the exit code and everything on stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for reader in self.readers:
            reader.join(5)
        return self.proc.returncode, "\n".join(self.err)


def write(path: Path, text: str) -> float:
    """Write ``text`` whole and return the moment it was on disk (time.monotonic())."""
    path.write_text(text, encoding="utf-8")
    return time.monotonic()


@pytest.fixture
def chromium():
    need_tool(CHROMIUM.exists(), "Chromium (/usr/bin/chromium, Debian package chromium)")
    need_tool(importlib.util.find_spec("playwright") is not None, "Playwright (pip install -e '.[test]')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


def test_edit_reload_banner_and_ctrl_c_in_chromium(tmp_path, chromium):
    root = tmp_path / "paper"
    assert main(["init", str(root)]) == 0
    chapter = root / "chapters" / "01-introduction.md"
    original = chapter.read_text(encoding="utf-8")
    serving = Serving(root)
    try:
        url = serving.wait_for(r"Serving edition 'paper' at (http://127\.0\.0\.1:\d+/paper/)")[1]
        serving.wait_for(r"Watching for changes")
        origin = url.removesuffix("/paper/")
        page = chromium.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        pwned: list[str] = []
        page.on("dialog", lambda dialog: (pwned.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        assert page.title() == "Untitled paper – Full paper"
        banner = page.locator("#paper-serve-banner")
        assert banner.is_hidden()

        # 1. an edited sentence is on the page within 2 seconds of the write
        edited = original + "\nThe quetzalcoatlus flew over the new paragraph.\n"
        written, written_at = write(chapter, edited), time.time()
        page.locator("main", has_text="quetzalcoatlus").wait_for(timeout=10_000)
        latency = time.monotonic() - written  # an upper bound: Playwright polls the DOM with back-off
        shown_at = page.evaluate("(performance.timeOrigin + performance.getEntriesByType('navigation')[0]"
                                 ".domContentLoadedEventEnd) / 1000")
        print(f"edit-to-page latency: {shown_at - written_at:.2f} s in the page, {latency:.2f} s polled")
        assert latency < 2.0, f"the page showed the edit {latency:.2f} s after the write"
        serving.wait_for(r"chapters/01-introduction\.md: rebuilt, the page reloads")

        # 2. a check error: the banner names file:line:col; the page stays the last good one
        broken = edited + "\nAs shown before [@nosuchkey2020].\n"
        line = broken.splitlines().index("As shown before [@nosuchkey2020].") + 1
        write(chapter, broken)
        expected = f"chapters/01-introduction.md:{line}:18: error[CIT001]: unknown citation key 'nosuchkey2020'"
        page.locator("#paper-serve-banner li.paper-serve-error", has_text=expected).wait_for(timeout=10_000)
        assert banner.is_visible() and "quetzalcoatlus" in page.locator("main").inner_text()
        serving.wait_for(r"the check found 1 error; the page stays the last good build")
        serving.wait_for(re.escape(expected))

        # 3. text an author wrote shows as text: a hostile status value runs nothing
        hostile = broken.replace("status: draft", f'status: "{HOSTILE}"')
        write(chapter, hostile)
        page.locator("#paper-serve-banner li", has_text="FM008").wait_for(timeout=10_000)
        assert HOSTILE in banner.inner_text()
        assert page.evaluate("window.__pwned") is None and not pwned
        assert page.locator("#paper-serve-banner img, #paper-serve-banner script").count() == 0

        # 4. fixed: the banner goes away
        write(chapter, edited + "\nThe quetzalcoatlus landed.\n")
        page.locator("main", has_text="quetzalcoatlus landed").wait_for(timeout=10_000)
        page.wait_for_function("document.getElementById('paper-serve-banner').hidden", timeout=10_000)

        # nothing was asked of any other host
        assert requested and all(u.startswith(origin + "/") for u in requested), requested
        page.close()
    finally:
        code, err = serving.stop()
    assert code == 0, err
    assert "Traceback" not in err and err == "", err
    lines = [*serving.out, *drain(serving.lines)]
    assert lines[-1] == "Stopped.", lines
    assert not (root / "build" / ".serve" / "paper" / "index.html").read_text().count("paper-serve")


def drain(lines: queue.Queue) -> list[str]:
    out = []
    while not lines.empty():
        out.append(lines.get_nowait())
    return out
