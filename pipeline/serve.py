"""`paper serve`: build one edition's HTML, serve it on localhost, rebuild and reload on change.

The pieces are small on purpose, so each can be tested without a browser:

- ``Board``: the preview's state (build counter, diagnostics, failure), shared by the
  rebuild loop and the HTTP handlers under one lock; handlers long-poll it.
- ``state_json`` / ``inject``: what the page learns about the state, and the inline script
  added to each HTML response at serve time (the built files are never touched).
- ``resolve_request``: a URL path to a file inside the served folder, or nothing.
- ``relevant_changes`` / ``watched_dirs``: which file events matter, and where to listen.
- ``PreviewServer``: the HTTP server, started on any port in a thread and stopped cleanly.
- ``rebuild``: check, then build the edition's HTML, then say what happened.

The rebuild runs in the main thread, in the watch loop, so there is one build at a time
and Ctrl-C lands where the build machinery already knows how to stop.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import html
import ipaddress
import json
import mimetypes
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.diagnostics import FORMATTERS, Diagnostic, text_line
from pipeline.project import CONFIG_NAME, ConfigError, load_project

SERVE_FOLDER = Path("build") / ".serve"  # inside build/: `paper clean` removes it, git ignores it
STATE_PATH = "/__paper/state"
LONG_POLL_SECONDS = 25.0  # under a browser's idle timeout; the page asks again at once
CONTENT_DIRS = ("chapters", "case_studies", "figures", "templates")
INPUT_SUFFIXES = frozenset({".md", ".bib", ".csl"})
IGNORED_DIRS = frozenset({"build", ".cache", ".git", ".hg", ".svn", ".venv", "venv", "node_modules",
                          "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".idea", ".vscode"})
# Files editors write beside the real one while saving: vim (.swp, 4913, ~), emacs (#x#, .#x),
# JetBrains (___jb_), LibreOffice (.~lock), gedit (.goutputstream-), kate, and generic .tmp/.part.
EDITOR_TEMPORARY = re.compile(r"(^\.?#|#$|~$|\.sw[a-p]$|^4913$|___jb_\w+___$|^\.~lock\.|^\.goutputstream-"
                              r"|\.kate-swp$|\.tmp$|\.part$|\.crdownload$|^\.DS_Store$)")


# --- state -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class State:
    """What the page shows beside the paper. ``version`` changes on every update (the
    long poll waits for it); ``build`` only when the served HTML changed (the page reloads)."""

    version: int = 0
    build: int = 0
    building: bool = False
    diagnostics: tuple[Diagnostic, ...] = ()
    failure: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


class Board:
    """The one shared ``State``: replaced whole under a lock, waited on by the long polls."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._state = State()
        self._closed = False

    def state(self) -> State:
        with self._cond:
            return self._state

    def update(self, **fields: object) -> State:
        with self._cond:
            self._state = dataclasses.replace(self._state, version=self._state.version + 1, **fields)
            self._cond.notify_all()
            return self._state

    def wait(self, since: int, timeout: float) -> State:
        """The state once its version is not ``since`` (or after ``timeout``, or on close)."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._state.version != since, timeout)
            return self._state

    def close(self) -> None:
        """Wake every long poll, so the server can stop without waiting for them."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def state_json(state: State) -> dict:
    """The state as the page reads it; the lines are exactly those the terminal shows."""
    return {
        "version": state.version,
        "build": state.build,
        "building": state.building,
        "errors": sum(d.severity == "error" for d in state.diagnostics),
        "warnings": sum(d.severity == "warning" for d in state.diagnostics),
        "diagnostics": [dict(dataclasses.asdict(d), text=text_line(d))  # errors first, then by place
                        for d in sorted(state.diagnostics, key=lambda d: d.severity != "error")],
        "failure": list(state.failure),
        "changed": list(state.changed),
    }


def script_json(value: object) -> str:
    """JSON safe inside an HTML <script>: no '<', '>' or '&' (so no '</script>' or '<!--'),
    and ASCII only (no U+2028 line separators), whatever text a diagnostic quotes."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- the page --------------------------------------------------------------------------------

# Builds the banner with textContent only (never innerHTML): diagnostics quote authors' text.
RELOAD_SCRIPT = """(function () {
  "use strict";
  var state = %(state)s, page = state.build, key = "paper-serve-scroll:" + location.pathname, box = null;
  function restore() {
    try {
      var y = sessionStorage.getItem(key);
      if (y !== null) { sessionStorage.removeItem(key); window.scrollTo(0, Number(y)); }
    } catch (e) {}
  }
  function el(tag, text, css) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (css) { node.style.cssText = css; }
    return node;
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function show(s, offline) {
    var lines = s.diagnostics, failed = s.failure.length > 0;
    if (!box) {
      box = el("div", "", "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;max-height:40vh;" +
        "overflow:auto;margin:0;padding:.5em 1em;font:13px/1.4 ui-monospace,monospace;" +
        "color:#1b1b1b;border-top:3px solid;box-shadow:0 -2px 8px rgba(0,0,0,.25)");
      box.id = "paper-serve-banner";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    box.replaceChildren();
    if (!offline && !failed && lines.length === 0) { box.hidden = true; return; }
    box.hidden = false;
    var bad = offline || failed || s.errors > 0;
    box.style.background = bad ? "#fde8e8" : "#fff6d6";
    box.style.borderColor = bad ? "#b00020" : "#9a6700";
    var head = offline ? "paper serve has stopped: this page no longer reloads" :
      "paper check: " + plural(s.errors, "error") + ", " + plural(s.warnings, "warning") +
      (s.errors > 0 || failed ? " \\u2014 this is the last page that built" : "");
    // Open when something is wrong; warnings alone (placeholders still to fill) fold to one line.
    var details = el("details", "", "");
    details.open = bad;
    details.appendChild(el("summary", head, "cursor:pointer;font-weight:bold"));
    s.failure.forEach(function (line) {
      details.appendChild(el("div", line, "white-space:pre-wrap;font-weight:bold;color:#b00020"));
    });
    if (lines.length) {
      var list = el("ul", "", "margin:.25em 0 0;padding-left:1.2em");
      lines.forEach(function (d) {
        var item = el("li", d.text, "white-space:pre-wrap;color:" + (d.severity === "error" ? "#b00020" : "#6b4d00"));
        item.className = "paper-serve-" + d.severity;
        list.appendChild(item);
      });
      details.appendChild(list);
    }
    box.appendChild(details);
  }
  function poll() {
    fetch("%(path)s?since=" + state.version, {cache: "no-store"})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        if (s.build !== page) {
          try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) {}
          location.reload();
          return;
        }
        state = s;
        show(s, false);
        poll();
      }, function () { show(state, true); setTimeout(poll, 1000); });
  }
  restore();
  window.addEventListener("load", restore);
  show(state, false);
  poll();
})();"""

PLACEHOLDER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>paper serve: %(edition)s</title></head>
<body><main><h1>No page yet</h1><p>Edition <code>%(edition)s</code> has not been built: the problems are
listed below. Fix them and save; this page reloads by itself.</p></main></body></html>
"""


def inject(page: bytes, state: State) -> bytes:
    """``page`` with the reload script (and the state it starts from) before its last </body>."""
    script = RELOAD_SCRIPT % {"state": script_json(state_json(state)), "path": STATE_PATH}
    tag = f'<script id="paper-serve">\n{script}\n</script>\n'.encode("utf-8")
    at = page.lower().rfind(b"</body>")
    return page + tag if at < 0 else page[:at] + tag + page[at:]


def placeholder(edition: str) -> bytes:
    """The page shown before the edition was ever built (the first check found errors)."""
    return (PLACEHOLDER % {"edition": html.escape(edition)}).encode("utf-8")


# --- HTTP ------------------------------------------------------------------------------------

def resolve_request(folder: Path, url_path: str) -> Path | None:
    """The file or folder inside ``folder`` that ``url_path`` names, else None.

    Refuses '..', '.', hidden names (the build's lock and scratch folders), back-slashes and
    NULs before touching the disk, then checks the resolved path (a symlink cannot lead out).
    """
    path = unquote(urlsplit(url_path).path, errors="strict")
    if "\\" in path or "\0" in path or not path.startswith("/"):
        return None
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") or p.startswith(".") for p in parts):
        return None
    base = folder.resolve()
    try:
        target = base.joinpath(*parts).resolve()
    except (OSError, ValueError):
        return None
    return target if target.is_relative_to(base) and target.exists() else None


def host_allowed(bound: str, header: str | None) -> bool:
    """When bound to loopback, answer only requests addressed to a loopback name.

    A web page elsewhere can point its own host name at 127.0.0.1 (DNS rebinding) and read
    what a local server answers; such a request still carries that foreign name in Host.
    """
    if not is_loopback(bound):
        return True
    if not header:
        return False
    name = header.strip()
    if name.startswith("["):
        name = name[1:name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    return name.lower() == "localhost" or is_loopback(name)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


class Handler(BaseHTTPRequestHandler):
    """Serves the folder, with the reload script in each HTML page, and the state as JSON."""

    server_version = "paper-serve"
    timeout = 10  # seconds a client may take to send its request (a stuck one cannot hold the exit)

    def __init__(self, *args, folder: Path, edition: str, board: Board, bound: str, **kwargs) -> None:
        self.folder, self.edition, self.board, self.bound = folder, edition, board, bound
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet: the terminal is for rebuilds and diagnostics."""

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def do_GET(self) -> None:
        self.answer(head=False)

    def answer(self, head: bool) -> None:
        if not host_allowed(self.bound, self.headers.get("Host")):
            return self.send(HTTPStatus.MISDIRECTED_REQUEST, b"not a local address\n", "text/plain", head)
        url = urlsplit(self.path)
        if url.path == STATE_PATH:
            since = parse_qs(url.query).get("since", [""])[0]
            state = self.board.wait(int(since), LONG_POLL_SECONDS) if since.lstrip("-").isdigit() \
                else self.board.state()
            body = json.dumps(state_json(state), ensure_ascii=False).encode("utf-8")
            return self.send(HTTPStatus.OK, body, "application/json", head)
        if url.path == "/":
            return self.redirect(f"/{self.edition}/")
        try:
            target = resolve_request(self.folder, self.path)
        except UnicodeDecodeError:
            target = None
        if target is not None and target.is_dir():
            if not url.path.endswith("/"):
                return self.redirect(url.path + "/")
            target = target / "index.html"
        state = self.board.state()  # read before the file: a newer file than the counter only reloads twice
        if target is None or not target.is_file():
            if url.path in (f"/{self.edition}/", f"/{self.edition}/index.html"):
                return self.send(HTTPStatus.OK, inject(placeholder(self.edition), state), "text/html", head)
            return self.send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)
        try:
            body = target.read_bytes()
        except OSError:
            return self.send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind == "text/html":
            body = inject(body, state)
        self.send(HTTPStatus.OK, body, kind, head)

    def redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send(self, status: HTTPStatus, body: bytes, kind: str, head: bool) -> None:
        charset = "; charset=utf-8" if kind.startswith("text/") or kind == "application/json" else ""
        self.send_response(status)
        self.send_header("Content-Type", kind + charset)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")  # a reload must show the new build
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, socket.timeout):
            pass  # the browser went away mid-answer: nothing to tell anyone


class _HTTPServer(ThreadingHTTPServer):
    """Joins its request threads on close; IPv6 when the host is an IPv6 address."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: Callable) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request_thread(self, request, client_address) -> None:
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def wake_connections(self) -> None:
        """Unblock every request thread still reading (an idle browser socket), so close joins fast."""
        with self.connections_lock:
            for conn in list(self.connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class PreviewServer:
    """The HTTP server for one served folder, bound at construction (OSError if the port is taken)."""

    def __init__(self, folder: Path, edition: str, board: Board, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = functools.partial(Handler, folder=folder, edition=edition, board=board, bound=host)
        self.board = board
        self.edition = edition
        self.httpd = _HTTPServer((host, port), handler)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/{self.edition}/"

    def start(self) -> "PreviewServer":
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="paper-serve-http")
        self.thread.start()
        return self

    def stop(self) -> None:
        """Wake the long polls, stop accepting, end open connections, join every thread."""
        self.board.close()
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join()
            self.thread = None
        self.httpd.wake_connections()
        self.httpd.server_close()

    def __enter__(self) -> "PreviewServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- watching --------------------------------------------------------------------------------

def relevant_changes(root: Path, paths: Iterable[str]) -> list[str]:
    """The changed paths (project-relative, sorted) that can change the page.

    Inputs: paper.yml, anything under chapters/, case_studies/, figures/ and templates/, and
    any .md, .bib or .csl file (a `contents:` chapter or a bibliography kept elsewhere).
    Not: build/, .cache/, .git/ and the like, hidden files, editors' temporary files.
    """
    base = root.resolve()
    out = set()
    for raw in paths:
        path = Path(raw)
        try:
            rel = PurePosixPath(path.relative_to(base if path.is_relative_to(base) else root).as_posix())
        except ValueError:
            continue
        if is_input(rel):
            out.add(rel.as_posix())
    return sorted(out)


def is_input(rel: PurePosixPath) -> bool:
    parts = rel.parts
    if not parts or parts == (".",):
        return False
    if any(p in IGNORED_DIRS or p.startswith(".") for p in parts) or EDITOR_TEMPORARY.search(rel.name):
        return False
    if rel.as_posix() == CONFIG_NAME or parts[0] in CONTENT_DIRS:
        return True
    return rel.suffix.lower() in INPUT_SUFFIXES


def watched_dirs(root: Path, inputs: Iterable[str] = ()) -> list[Path]:
    """Every folder to listen in, each on its own (not recursively): the project folder, the
    content folders and their subfolders, and the folders of ``inputs`` (chapters listed in
    `contents:`, bibliography files). Recursive watching of the project folder would also
    watch .venv/ and .git/, thousands of folders."""
    base = root.resolve()
    found = {base}
    for name in CONTENT_DIRS:
        top = base / name
        if not top.is_dir():
            continue
        for folder, subdirs, _ in os.walk(top):
            subdirs[:] = [d for d in subdirs if d not in IGNORED_DIRS and not d.startswith(".")]
            found.add(Path(folder))
    for rel in inputs:
        parent = (base / rel).parent
        try:
            if parent.resolve().is_relative_to(base) and parent.is_dir() \
                    and not any(p in IGNORED_DIRS for p in parent.relative_to(base).parts):
                found.add(parent.resolve())
        except (OSError, ValueError):
            continue
    return sorted(found)


def project_inputs(root: Path) -> list[str]:
    """The files paper.yml names (chapters, bibliography, style), for ``watched_dirs``."""
    from pipeline.sources.paper import chapter_paths

    try:
        project = load_project(root)
    except (ConfigError, OSError):
        return []
    style = [project.csl] if project.csl.endswith(".csl") else []
    return [*chapter_paths(project), *project.bibliography, *style]


def watch(root: Path, stop: threading.Event, on_ready: Callable[[], None],
          on_change: Callable[[list[str]], None]) -> None:
    """Call ``on_ready`` once the listening has begun, then ``on_change`` with each batch.

    Changes that arrive while ``on_change`` rebuilds are kept by the watcher and come as the
    next batch: one build at a time, and no edit lost. When the set of folders changes (a new
    figures/ subfolder), listening starts again over the new set, and only then is the batch
    rebuilt, so a file written into the new folder meanwhile is in that build.
    """
    import watchfiles

    ready = False
    pending: list[str] = []
    while not stop.is_set():
        dirs = watched_dirs(root, project_inputs(root))
        # step: a batch ends after 50 ms without events (a save is a few events), debounce caps it.
        for changes in watchfiles.watch(*dirs, watch_filter=None, recursive=False, stop_event=stop,
                                        debounce=1600, step=50, rust_timeout=250, yield_on_timeout=True,
                                        raise_interrupt=True):
            if not ready:
                ready = True
                on_ready()
            paths = sorted({*pending, *relevant_changes(root, (p for _, p in changes))})
            pending = []
            if changes and watched_dirs(root, project_inputs(root)) != dirs:
                pending = paths
                break
            if paths:
                on_change(paths)


# --- building --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preview:
    """What every rebuild needs: the project, the edition, the folder it is served from."""

    root: Path
    edition: str
    out: Path
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)


@dataclass(frozen=True)
class Result:
    """One rebuild: what the check said, what failed, whether the page changed, how long."""

    diagnostics: tuple[Diagnostic, ...] = ()
    failure: tuple[str, ...] = ()
    built: bool = False
    page_changed: bool = False
    seconds: float = 0.0


def folder_digest(folder: Path) -> str:
    """The names and contents of every file below ``folder``: a reload only when it differs."""
    digest = hashlib.sha256()
    try:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    except OSError:
        pass
    return digest.hexdigest()


def rebuild(preview: Preview) -> Result:
    """Check, then (without errors) build the edition's HTML, as `paper build EDITION --to html`.

    Errors in the check keep the last good page, as `paper build` keeps the last good files.
    Never raises for the paper's content: a failure becomes lines to show.
    """
    from pipeline.build import BuildError, OutputError, build
    from pipeline.commands import failure_line
    from pipeline.rules import check
    from pipeline.sources.paper import load_sources

    start = time.perf_counter()
    before = folder_digest(preview.out / preview.edition)
    try:
        project = load_project(preview.root)
    except ConfigError as err:
        return Result(tuple(err.diagnostics), seconds=time.perf_counter() - start)
    sources = load_sources(project)
    diagnostics = tuple(check(project, sources))
    if any(d.severity == "error" for d in diagnostics):
        return Result(diagnostics, seconds=time.perf_counter() - start)
    try:
        outcome = build(project, sources, editions=[preview.edition], formats=["html"], out=preview.out,
                        jobs=preview.jobs, report=lambda built: None)
    except (BuildError, OutputError) as err:
        return Result(diagnostics, (f"paper: {err}",), seconds=time.perf_counter() - start)
    failure = tuple(failure_line(f) for f in outcome.failures)
    built = any(b.edition == preview.edition and b.format == "html" for b in outcome.built)
    changed = built and folder_digest(preview.out / preview.edition) != before
    return Result(diagnostics, failure, built, changed, time.perf_counter() - start)


def safe_rebuild(preview: Preview) -> Result:
    """``rebuild``, with a bug in the pipeline shown as one line rather than ending the server."""
    start = time.perf_counter()
    try:
        return rebuild(preview)
    except Exception as err:  # noqa: BLE001 - the server must outlive one bad build
        if os.environ.get("PAPER_DEBUG"):
            raise
        return Result(failure=(f"paper: internal error ({type(err).__name__}: {err}); "
                               "rerun with PAPER_DEBUG=1 and report the output",),
                      seconds=time.perf_counter() - start)


def publish(board: Board, result: Result, changed: Iterable[str] = ()) -> State:
    """The board after a rebuild: a new build number only when the page's files changed."""
    state = board.state()
    return board.update(building=False, diagnostics=result.diagnostics, failure=result.failure,
                        changed=tuple(changed), build=state.build + (1 if result.page_changed else 0))


def summary_line(result: Result, changed: list[str]) -> str:
    """One terminal line per rebuild: what changed, what happened, how long it took."""
    what = describe_changes(changed) if changed else "first build"
    errors = sum(d.severity == "error" for d in result.diagnostics)
    if errors:
        outcome = f"the check found {errors} error{'s' * (errors != 1)}; the page stays the last good build"
    elif result.failure:
        outcome = "the build failed; the page stays the last good build"
    elif result.page_changed:
        outcome = "rebuilt, the page reloads"
    elif result.built:
        outcome = "rebuilt, the page is unchanged"
    else:
        outcome = "nothing built"
    return f"[{time.strftime('%H:%M:%S')}] {what}: {outcome} ({result.seconds:.1f} s)"


def describe_changes(changed: list[str], shown: int = 3) -> str:
    more = len(changed) - shown
    return ", ".join(changed[:shown]) + (f" and {more} more" if more > 0 else "")


# --- the command -----------------------------------------------------------------------------

def run_serve(args: argparse.Namespace) -> int:
    """Exit 0 after Ctrl-C; 2 for usage (no project, unknown edition, port taken)."""
    from pipeline.build import BuildError, safe_out
    from pipeline.cli import project_root

    root = project_root(args)
    if root is None:
        print(f"paper: no {CONFIG_NAME} found in {args.directory or 'this folder'} or any folder above it; "
              "run 'paper init' to start a paper", file=sys.stderr)
        return 2
    problem = edition_problem(root, args.edition)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        out = safe_out(root, root / SERVE_FOLDER)
    except BuildError as err:
        print(f"paper: {err}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"paper: --port {args.port} is not a port number (0 to 65535; 0 picks a free one)", file=sys.stderr)
        return 2
    board = Board()
    try:
        server = PreviewServer(out, args.edition, board, args.host, args.port)
    except OSError as err:
        print(f"paper: {bind_problem(args.host, args.port, err)}", file=sys.stderr)
        return 2
    preview = Preview(root, args.edition, out)
    stop = threading.Event()
    with interrupt_on_sigterm():
        try:
            serve_until_stopped(preview, board, server, stop)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            server.stop()
    print("Stopped.", flush=True)
    return 0


def serve_until_stopped(preview: Preview, board: Board, server: PreviewServer, stop: threading.Event) -> None:
    """Listen for changes; once listening, build, serve and print the address; then rebuild on change."""
    printed: list[tuple[Diagnostic, ...]] = []

    def build_and_say(changed: list[str]) -> None:
        board.update(building=True)
        result = safe_rebuild(preview)
        publish(board, result, changed)
        print(summary_line(result, changed), flush=True)
        for line in result.failure:
            print(line, flush=True)
        previous = printed[0] if printed else ()
        if result.diagnostics and result.diagnostics != previous:  # the same list again adds nothing
            sys.stdout.write(FORMATTERS["text"](result.diagnostics))
        elif previous and not result.diagnostics:
            print("paper check: no problems left")
        sys.stdout.flush()
        printed[:] = [result.diagnostics]

    def ready() -> None:
        build_and_say([])
        server.start()
        print(f"Serving edition '{preview.edition}' at {server.url}", flush=True)
        print("Watching for changes; Ctrl-C to stop.", flush=True)

    watch(preview.root, stop, ready, build_and_say)


def edition_problem(root: Path, edition: str) -> str | None:
    """Why ``edition`` cannot be served (unreadable paper.yml, no such edition), else None."""
    from pipeline.assemble import plan_editions
    from pipeline.sources.paper import load_sources

    try:
        project = load_project(root)
    except ConfigError as err:
        return FORMATTERS["text"](err.diagnostics).rstrip("\n")
    ids = [plan.id for plan in plan_editions(project, load_sources(project).chapters)]
    if edition not in ids:
        return f"paper: no edition called {edition!r}; the editions are: {', '.join(ids)}"
    return None


def bind_problem(host: str, port: int, err: OSError) -> str:
    """One line for a server that could not start."""
    import errno

    if err.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use; choose another with --port N (--port 0 picks a free one)"
    if err.errno == errno.EACCES:
        return f"port {port} on {host} needs privileges; choose one above 1023 with --port N"
    if isinstance(err, socket.gaierror) or err.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on host {host!r}: {err.strerror or err}; the default is 127.0.0.1"
    return f"cannot listen on {host}:{port}: {err.strerror or err}"


class interrupt_on_sigterm:
    """SIGTERM ends the server as Ctrl-C does (exit 0, threads joined); restored on exit."""

    def __enter__(self) -> "interrupt_on_sigterm":
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
