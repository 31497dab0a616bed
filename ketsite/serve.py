"""Local preview: `ketsite serve` builds the site in memory, serves it on 127.0.0.1, rebuilds when
a source or template changes (watchfiles) and reloads the open pages.

The reload script lives only here: the server adds ``<script src="/__ketsite/livereload.js">`` to
the HTML it sends, so no build output can ever contain it. It is an external file (the site's CSP
allows no inline script) listening to Server-Sent Events. A build that fails keeps the last good
site on the wire; its diagnostics go to the console, to ``/__ketsite/errors`` and to a banner on
every open page, until a fix triggers the next build.
"""

from __future__ import annotations

import fnmatch
import html
import json
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ketsite.build import PACKAGE_TEMPLATES
from ketsite.diagnostics import Diagnostics
from ketsite.engine import Builder
from ketsite.model.entities import Paper
from ketsite.output import OutputError
from ketsite.render import RenderError
from ketsite.site.routes import LinkStyle, Route
from ketsite.sources import latex

PREFIX = "/__ketsite/"
RELOAD_JS = PREFIX + "livereload.js"
EVENTS = PREFIX + "events"
ERRORS = PREFIX + "errors"
STATUS = PREFIX + "status"
RELOAD_SCRIPT_FILE = Path(__file__).with_name("livereload.js")
HEARTBEAT_SECONDS = 15.0
#: How long the data files wait for the open pages to reload after an edit (see rebuild).
RELOAD_WAIT_SECONDS = 2.0

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".bib": "application/x-bibtex; charset=utf-8",
    ".ris": "application/x-research-info-systems; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


def reload_tag(version: int) -> bytes:
    return f'<script src="{RELOAD_JS}?v={version}" defer></script>'.encode()


def inject(page: bytes, version: int) -> bytes:
    """``page`` with the reload script before its last ``</body>`` (or at its end)."""
    at = page.lower().rfind(b"</body>")
    tag = reload_tag(version)
    return page + tag if at < 0 else page[:at] + tag + b"\n" + page[at:]


@dataclass(frozen=True)
class State:
    files: dict[str, bytes] | None  # the last good site; None until a build succeeds
    version: int  # bumped by every successful build that changes what a page shows
    errors: tuple[str, ...]  # diagnostics of the latest build; empty when it succeeded
    seq: int  # bumped by every build, so event listeners wake up


class DevSite:
    """The site being previewed: rebuilt on demand, read by request threads."""

    def __init__(self, root: Path, log: Callable[[str], None] | None = None) -> None:
        self.root = root
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._state = State(None, 0, (), 0)
        self._cond = threading.Condition()
        self._stopping = False
        self._streams = 0  # event streams open now (one per open page)
        self._streams_opened = 0  # event streams ever opened
        # Keeps the last build's model and what each page read: a rebuild renders only the pages
        # an edit can change (docs/performance.md).
        self._builder = Builder(root, None, LinkStyle.PRETTY, live_reload=True)

    @property
    def state(self) -> State:
        with self._cond:
            return self._state

    def rebuild(self) -> State:
        """Build the site in memory (incrementally); on failure keep the previous good files.

        Pages first: the open pages reload as soon as the edited pages are ready, and the
        library-wide data files they do not show (feed, search index, exports, graph) follow
        right after, without another reload."""
        start = time.perf_counter()
        diags = Diagnostics()
        files: dict[str, bytes] = {}
        problems: list[str] = []
        deferred = False
        try:
            result = self._builder.build(defer=_is_data_file)
            diags = result.diagnostics
            deferred = bool(self._builder.deferred)
            if not diags.has_errors and self._builder.files is not None:
                files = dict(self._builder.files)
        except (RenderError, OutputError) as exc:
            problems.append(str(exc))
        except Exception as exc:  # a preview server must survive a bug and say what happened
            problems.append(f"internal error: {type(exc).__name__}: {exc}")
        failed = diags.has_errors or bool(problems)
        problems = [d.format() for d in diags.sorted()] + problems
        listening = self._listening()
        shown = self.state.version
        new = self._publish(files, problems, failed)
        seconds = time.perf_counter() - start
        if failed:
            for line in problems:
                self.log(line)
            kept = "keeping the last good site" if new.files else "no site to show yet"
            self.log(f"build failed ({len(problems)} problem(s)); {kept}; "
                     f"details at {ERRORS}")
            return new
        for line in problems:  # warnings
            self.log(line)
        pages = sum(1 for p in files if p.endswith(".html"))
        if not deferred:
            self.log(f"built {pages} pages in {seconds:.2f}s")
            return new
        # The open pages reload now. Rendering the data files holds the interpreter lock for
        # long stretches (joining and hashing megabytes), which would hold up the requests of
        # the reloads: they go first — until every page that was listening listens again, the
        # sign it has loaded — then the data files.
        if new.version != shown:
            self._await_reloads(listening, RELOAD_WAIT_SECONDS)
        try:
            late = self._builder.finish_deferred()
            assert self._builder.files is not None
            new = self._publish(dict(self._builder.files), [], False, reload=False)
        except Exception as exc:
            self.log(f"internal error while writing data files: {type(exc).__name__}: {exc}")
            return self.state
        self.log(f"built {pages} pages in {seconds:.2f}s "
                 f"(+{len(late.written)} data files in {late.seconds:.2f}s)")
        return new

    def prime(self) -> None:
        """Set up now what the first edit would otherwise wait for: a first build that found
        every source and reference in the caches needed neither pylatexenc nor a parsed citation
        style (the first edit of a paper paid for them). Once, after the first build."""
        latex.prime()
        state = self._builder.state
        if state is None:
            return
        from ketsite.scholarly import cite

        kinds: dict[str, Paper] = {}  # a paper of each entry type
        for paper in state.corpus.papers.values():
            kinds.setdefault(paper.entry_type, paper)
        cite.prime(kinds.values())

    def _publish(self, files: dict[str, bytes], problems: list[str], failed: bool,
                 reload: bool = True) -> State:
        with self._cond:
            old = self._state
            if failed:
                new = State(old.files, old.version, tuple(problems), old.seq + 1)
            else:
                changed = old.files != files or bool(old.errors) or old.files is None
                new = State(files, old.version + (changed and reload), (), old.seq + 1)
            self._state = new
            self._cond.notify_all()
        return new

    def wait(self, seq: int, timeout: float) -> State:
        """The state once its ``seq`` differs from ``seq`` (or the timeout passes)."""
        with self._cond:
            self._cond.wait_for(lambda: self._state.seq != seq or self._stopping, timeout)
            return self._state

    def stream_opened(self) -> None:
        with self._cond:
            self._streams += 1
            self._streams_opened += 1
            self._cond.notify_all()

    def stream_closed(self) -> None:
        with self._cond:
            self._streams -= 1

    def _listening(self) -> tuple[int, int]:
        """(event streams open, event streams opened so far)."""
        with self._cond:
            return self._streams, self._streams_opened

    def _await_reloads(self, listening: tuple[int, int], timeout: float) -> None:
        """Wait until as many event streams have opened since ``listening`` was taken as were
        open then (each reloaded page opens one once loaded), or ``timeout`` passes."""
        streams, opened = listening
        with self._cond:
            self._cond.wait_for(
                lambda: self._streams_opened - opened >= streams or self._stopping, timeout)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stopping


def _is_data_file(route: Route) -> bool:
    """Files no page shows, rendered after the pages on a rebuild (see DevSite.rebuild): the data
    files, and the search page, which names the search index by a digest of its content."""
    return (route.template is None and route.kind != "asset") or route.kind == "search"


def netlify_headers(root: Path) -> list[tuple[str, dict[str, str]]]:
    """The ``[[headers]]`` rules of the project's netlify.toml, so the preview runs under the same
    Content-Security-Policy as the public site (a CSP violation shows up while writing)."""
    path = root / "netlify.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return []
    return [(r.get("for", ""), {k: str(v) for k, v in r.get("values", {}).items()})
            for r in data.get("headers", []) if isinstance(r, dict)]


def error_page(state: State) -> bytes:
    items = "\n".join(f"<li><pre>{html.escape(line)}</pre></li>" for line in state.errors)
    kept = ("The last good build is still being served." if state.files
            else "No build has succeeded yet.")
    body = (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>Build failed — ketsite serve</title>\n</head>\n<body>\n<main>\n"
        f"<h1>Build failed</h1>\n<p>{kept} Fix the sources and save: the page reloads.</p>\n"
        f"<ol>\n{items}\n</ol>\n</main>\n</body>\n</html>\n"
    ) if state.errors else (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>No build errors — ketsite serve</title>\n</head>\n<body>\n<main>\n"
        "<h1>No build errors</h1>\n<p>The latest build succeeded. <a href=\"/\">Home</a></p>\n"
        "</main>\n</body>\n</html>\n"
    )
    return inject(body.encode("utf-8"), state.version)


class PreviewHandler(BaseHTTPRequestHandler):
    site: DevSite  # set on the subclass made by make_server
    header_rules: list[tuple[str, dict[str, str]]] = []
    server_version = "ketsite-serve"

    def log_message(self, format: str, *args: object) -> None:  # the console is for builds
        pass

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == RELOAD_JS:
            return self._send(200, RELOAD_SCRIPT_FILE.read_bytes(), ".js", path, head)
        if path == EVENTS:
            return self._events()
        state = self.site.state
        if path == STATUS:
            data = {"version": state.version, "errors": list(state.errors),
                    "ok": state.files is not None}
            return self._send(200, json.dumps(data).encode(), ".json", path, head)
        if path == ERRORS or state.files is None:
            code = 200 if path == ERRORS else 503
            return self._send(code, error_page(state), ".html", path, head)
        files = state.files
        rel = path.lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        if rel in files:
            return self._send(200, files[rel], rel, path, head, state.version)
        if f"{rel}/index.html" in files:  # like Netlify: /papers/x → /papers/x/
            self.send_response(301)
            self.send_header("Location", path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        body = files.get("404.html", b"<!doctype html><title>Not found</title><h1>Not found</h1>")
        return self._send(404, body, "404.html", path, head, state.version)

    def _send(self, code: int, body: bytes, name: str, url_path: str, head: bool,
              version: int | None = None) -> None:
        ext = name[name.rfind("."):] if "." in name else ""
        if ext == ".html" and version is not None:
            body = inject(body, version)
        self.send_response(code)
        self.send_header("Content-Type", CONTENT_TYPES.get(ext, "application/octet-stream"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for pattern, values in self.header_rules:
            if fnmatch.fnmatchcase(url_path, pattern):
                for key, value in values.items():
                    if key.lower() not in ("content-type", "cache-control", "content-length"):
                        self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self) -> None:
        """Server-Sent Events: the current state at once, then every change, with heartbeats.
        The page says which version it shows (``?v=``): once told of another one it reloads, and
        its stream ends here (so the open streams are the pages still listening)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        shown = parse_qs(urlsplit(self.path).query).get("v", [None])[0]
        seq = -1
        self.site.stream_opened()
        try:
            while not self.site.stopping:
                state = self.site.wait(seq, HEARTBEAT_SECONDS) if seq >= 0 else self.site.state
                if state.seq != seq:
                    seq = state.seq
                    data = json.dumps({"version": state.version, "errors": list(state.errors)})
                    self.wfile.write(f"data: {data}\n\n".encode())
                    if shown is not None and str(state.version) != shown:
                        self.wfile.flush()
                        return  # that page reloads now
                else:
                    self.wfile.write(b": heartbeat\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return
        finally:
            self.site.stream_closed()


def make_server(site: DevSite, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("Handler", (PreviewHandler,), {
        "site": site, "header_rules": netlify_headers(site.root),
    })
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def watched_paths(root: Path) -> list[Path]:
    """What a rebuild depends on: sources, the config, project and packaged templates."""
    paths = [root / "bib", root / "content", root / "templates", root / "ketsite.yaml",
             PACKAGE_TEMPLATES]
    seen: list[Path] = []
    for p in paths:
        if p.exists() and p.resolve() not in seen:
            seen.append(p.resolve())
    return seen


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


#: How often (ms) the watcher also looks at what file events cannot show it (see :func:`watch`).
POLL_MS = 500


def watch(site: DevSite, stop: threading.Event) -> None:
    """Rebuild whenever a watched file changes, until ``stop`` is set.

    File events follow the files and folders that existed when watching began. An editor that
    saves by writing a new file and renaming it over ``ketsite.yaml`` leaves the watch on the old
    one, and a ``templates/`` folder made later is not watched at all; so every ``POLL_MS`` the
    watcher also compares ``ketsite.yaml`` and the set of source folders with what it watches,
    and after such a change rebuilds and watches them as they are now."""
    from watchfiles import watch as watch_files

    config = site.root / "ketsite.yaml"
    while not stop.is_set():
        paths = watched_paths(site.root)
        known = _signature(config)
        for changes in watch_files(*paths, stop_event=stop, debounce=400, step=25,
                                   rust_timeout=POLL_MS, yield_on_timeout=True,
                                   raise_interrupt=False):
            moved = {p.name for p in set(watched_paths(site.root)) ^ set(paths)}
            if _signature(config) != known:
                moved.add(config.name)
            if not changes and not moved:
                continue
            names = sorted({Path(p).name for _, p in changes} | moved)
            site.log(f"changed: {', '.join(names)}; rebuilding")
            site.rebuild()
            if moved:
                break  # watch the folders and the config file as they are now


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000,
          ready: Callable[[str], None] | None = None) -> int:
    """Build, serve and watch until interrupted. ``ready`` gets the base URL once serving."""
    site = DevSite(root)
    try:
        server = make_server(site, host, port)
    except OSError as exc:  # port in use, unknown host…: a usage problem, not a crash
        print(f"ketsite serve: cannot listen on {host}:{port}: {exc.strerror or exc}; "
              "try another --port (0 picks a free one)", file=sys.stderr)
        return 2
    site.rebuild()
    site.prime()  # before the first edit, not during it
    url = f"http://{host}:{server.server_address[1]}/"
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(site, stop), name="ketsite-watch", daemon=True)
    watcher.start()
    (ready or (lambda u: print(f"serving {u} (Ctrl-C stops)", flush=True)))(url)
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        site.stop()
        server.server_close()
        watcher.join(timeout=5)
    return 0
