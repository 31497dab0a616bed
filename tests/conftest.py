"""Shared pytest fixtures for ketsite.

Sections are self-contained; keep each one's imports and helpers inside it.
"""

from __future__ import annotations

# ============================================================================
# Browser harness: Playwright (sync API) driving Debian's Chromium.
#
#   browser      session-scoped Playwright Browser (/usr/bin/chromium, headless)
#   page         fresh context + page per test; records problems on the page:
#                  page.console_errors     console.error() messages, failed
#                                          resource loads, CSP violations and
#                                          uncaught exceptions ("pageerror: ...")
#                  page.external_requests  URLs of every request that is not
#                                          file:/data:/blob:/about: or loopback;
#                                          all of them are blocked (aborted)
#                on failure it saves a screenshot to artifacts/screenshots/
#   http_server  factory: http_server(directory) serves it on 127.0.0.1 on a
#                free port in a background thread -> ServedSite(.url, .port, .root)
#                with Netlify-like headers (CSP etc. from netlify.toml) and 404.html
#   artifacts_dir  Path of artifacts/ (or $KETSITE_ARTIFACTS), created on demand
#
# Mark browser tests with @pytest.mark.browser. A missing Chromium is an ERROR,
# never a skip. Nothing here downloads a browser: run `bash scripts/setup.sh`.
# ============================================================================
import dataclasses
import fnmatch
import functools
import http.server
import ipaddress
import os
import re
import threading
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("KETSITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps phoning home and floods the closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_TIMEOUT_MS = 15_000
_LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome", "chrome-error", "devtools"}


def _is_local_url(url: str) -> bool:
    """file:, data:, blob:, about: and loopback http(s)/ws(s) URLs are local."""
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return True
    if parts.scheme not in {"http", "https", "ws", "wss"}:
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(os.environ.get("KETSITE_ARTIFACTS", REPO_ROOT / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Browser tests need Debian's chromium: "
            "run `bash scripts/setup.sh` (apt-get install chromium chromium-driver), "
            "or point KETSITE_CHROMIUM at a Chromium binary. Never `playwright install`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets fixtures see whether the test body failed (item.rep_call.failed).
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def page(browser, request, artifacts_dir):
    context = browser.new_context(service_workers="block")
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    page.console_errors = []
    page.external_requests = []

    def on_console(msg):
        if msg.type == "error":
            loc = msg.location or {}
            where = f" ({loc.get('url')}:{loc.get('lineNumber')})" if loc.get("url") else ""
            page.console_errors.append(f"{msg.text}{where}")

    def on_request(req):
        if not _is_local_url(req.url):
            page.external_requests.append(req.url)

    def guard(route):  # recorded by on_request; blocked here
        if _is_local_url(route.request.url):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def guard_websocket(ws_route):  # websockets do not fire "request"
        if _is_local_url(ws_route.url):
            ws_route.connect_to_server()
        else:
            page.external_requests.append(ws_route.url)
            ws_route.close(code=1008, reason="external websocket blocked by the test harness")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.console_errors.append(f"pageerror: {exc}"))
    page.on("request", on_request)
    context.route("**/*", guard)
    context.route_web_socket(re.compile(r".*"), guard_websocket)
    try:
        yield page
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed and not page.is_closed():
            shots = artifacts_dir / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            try:
                page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            except Exception as exc:  # never mask the real failure
                print(f"could not save failure screenshot: {exc}")
        context.close()


@functools.cache
def _netlify_header_rules() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    path = REPO_ROOT / "netlify.toml"
    if not path.is_file():
        return ()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(
        (rule["for"], tuple((k, str(v)) for k, v in rule.get("values", {}).items()))
        for rule in data.get("headers", [])
    )


def _netlify_headers_for(url_path: str) -> dict[str, str]:
    """Headers netlify.toml gives url_path; later matching rules override earlier ones."""
    headers: dict[str, str] = {}
    for pattern, values in _netlify_header_rules():
        if fnmatch.fnmatchcase(url_path, pattern):
            headers.update(values)
    return headers


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".mjs": "text/javascript; charset=utf-8",
        ".json": "application/json; charset=utf-8",
        ".svg": "image/svg+xml",
        ".xml": "application/xml; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
        ".bib": "application/x-bibtex; charset=utf-8",
        ".ris": "application/x-research-info-systems; charset=utf-8",
        ".webmanifest": "application/manifest+json",
    }
    netlify_headers = True

    def log_message(self, format, *args):  # quiet
        pass

    def end_headers(self):
        if self.netlify_headers:
            for name, value in _netlify_headers_for(urlsplit(self.path).path).items():
                if name.lower() != "content-type":
                    self.send_header(name, value)
        super().end_headers()

    def send_error(self, code, message=None, explain=None):
        not_found = Path(self.directory) / "404.html"
        if code == 404 and not_found.is_file():  # like Netlify
            body = not_found.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)


@dataclasses.dataclass(frozen=True)
class ServedSite:
    root: Path
    port: int

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. http://127.0.0.1:41234/"""
        return f"http://127.0.0.1:{self.port}/"

    def page_url(self, path: str = "") -> str:
        return urljoin(self.url, path.lstrip("/"))


@pytest.fixture
def http_server() -> Iterator[Callable[..., ServedSite]]:
    """http_server(directory, netlify_headers=True) -> ServedSite; stopped after the test."""
    running: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def serve(directory: str | os.PathLike[str], *, netlify_headers: bool = True) -> ServedSite:
        root = Path(directory).resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"http_server: no such directory: {root}")
        handler = type("Handler", (_SiteHandler,), {"netlify_headers": netlify_headers})
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
        )
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever, name=f"http_server:{root.name}", daemon=True
        )
        thread.start()
        running.append((server, thread))
        return ServedSite(root=root, port=server.server_address[1])

    yield serve
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ======================================================= end browser harness


# ============================================================================
# Built sites shared by the evidence/metadata/export tests (built once a session).
#   bundled_site  the bundled sources built with pretty links -> Path of the output
#   scratch_site  tests/scratch.py's made-up project built -> Path of the output
# ============================================================================
@pytest.fixture(scope="session")
def bundled_site(tmp_path_factory):
    from ketsite.build import build

    out = tmp_path_factory.mktemp("bundled") / "_site"
    result = build(REPO_ROOT, out)
    assert not result.diagnostics.has_errors, [d.format() for d in result.diagnostics.sorted()]
    return out


@pytest.fixture(scope="session")
def scratch_site(tmp_path_factory):
    from scratch import make_scratch_project

    from ketsite.build import build

    root = make_scratch_project(tmp_path_factory.mktemp("scratch-src"))
    out = tmp_path_factory.mktemp("scratch") / "_site"
    result = build(root, out)
    assert not result.diagnostics.has_errors, [d.format() for d in result.diagnostics.sorted()]
    return out


@pytest.fixture(scope="session")
def corpus():
    """The bundled content loaded into the model; it must load without a single diagnostic."""
    from sitetools import REPO

    from ketsite.build import load_project
    from ketsite.diagnostics import Diagnostics

    diags = Diagnostics()
    project = load_project(REPO, diags)
    assert not diags.items, [d.format() for d in diags.sorted()]
    return project.corpus
