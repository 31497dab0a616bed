"""ketsite serve without a browser: what the preview server sends, and what a bad edit does."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.request

import pytest
from sitetools import scratch_copy

from ketsite.build import PACKAGE_TEMPLATES
from ketsite.serve import DevSite, inject, make_server, watch, watched_paths


@pytest.fixture
def preview(tmp_path):
    project = scratch_copy(tmp_path / "project")
    logs: list[str] = []
    site = DevSite(project, log=logs.append)
    site.rebuild()
    server = make_server(site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield project, site, base, logs
    site.stop()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_served_pages_carry_the_reload_script_and_the_csp(preview):
    _, site, base, _ = preview
    status, headers, body = get(base + "/conditions/fibromyalgia/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    version = site.state.version
    tag = f'<script src="/__ketsite/livereload.js?v={version}" defer></script>'
    assert body.decode().count(tag) == 1
    assert body.decode().index(tag) < body.decode().rindex("</body>")
    status, headers, js = get(base + "/__ketsite/livereload.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert b"EventSource" in js
    # The files themselves, as built, do not contain it: only the response does.
    assert b"livereload" not in site.state.files["conditions/fibromyalgia/index.html"]


def test_paths_resolve_like_netlify(preview):
    _, _, base, _ = preview
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
    conn.request("GET", "/papers/noppers2011absence")
    resp = conn.getresponse()
    assert resp.status == 301 and resp.getheader("Location") == "/papers/noppers2011absence/"
    conn.close()
    status, _, body = get(base + "/no/such/page/")
    assert status == 404 and b"Page not found" in body and b"livereload" in body
    status, headers, body = get(base + "/sitemap.xml")
    assert status == 200 and body.startswith(b"<?xml")
    assert b"livereload" not in body
    status, _, _ = get(base + "/../../etc/passwd")
    assert status == 404


def test_a_broken_edit_keeps_the_last_good_site_and_shows_the_errors(preview):
    project, site, base, logs = preview
    condition = project / "content" / "conditions" / "fibromyalgia.yaml"
    good = condition.read_text(encoding="utf-8")
    before = site.state.version
    condition.write_text(good.replace("name: Fibromyalgia", "name: [Fibromyalgia"),
                         encoding="utf-8")
    state = site.rebuild()
    assert state.errors and state.version == before
    assert any(e.startswith("content/conditions/fibromyalgia.yaml:") for e in state.errors)
    assert any("build failed" in line for line in logs)
    status, _, body = get(base + "/conditions/fibromyalgia/")
    assert status == 200 and b"<h1>Fibromyalgia</h1>" in body  # the last good page
    status, _, body = get(base + "/__ketsite/errors")
    assert status == 200 and b"content/conditions/fibromyalgia.yaml:" in body
    assert json.loads(get(base + "/__ketsite/status")[2])["errors"] == list(state.errors)

    condition.write_text(good.replace("name: Fibromyalgia", "name: Fibromyalgia (edited)"),
                         encoding="utf-8")
    state = site.rebuild()
    assert not state.errors and state.version == before + 1
    status, _, body = get(base + "/conditions/fibromyalgia/")
    assert b"<h1>Fibromyalgia (edited)</h1>" in body
    assert f"livereload.js?v={before + 1}".encode() in body


def test_events_stream_announces_each_build(preview):
    project, site, base, _ = preview
    resp = urllib.request.urlopen(base + "/__ketsite/events", timeout=10)
    assert resp.headers["Content-Type"].startswith("text/event-stream")

    def next_event() -> dict:
        while True:
            line = resp.readline().decode()
            if line.startswith("data: "):
                return json.loads(line[6:])

    first = next_event()
    assert first == {"version": site.state.version, "errors": []}
    (project / "content" / "conditions" / "fibromyalgia.yaml").write_text(
        "name: [broken\n", encoding="utf-8")
    site.rebuild()
    broken = next_event()
    assert broken["version"] == first["version"] and broken["errors"]
    resp.close()


def test_no_good_build_serves_the_error_page(tmp_path):
    project = tmp_path / "p"
    (project / "bib").mkdir(parents=True)
    (project / "bib" / "x.bib").write_text("@article{x,\n  title = {T}\n}\n", encoding="utf-8")
    site = DevSite(project, log=lambda _msg: None)
    state = site.rebuild()
    assert state.files is None and state.errors
    server = make_server(site, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, _, body = get(f"http://127.0.0.1:{server.server_address[1]}/")
        assert status == 503 and b"Build failed" in body and b"bib/x.bib:" in body
        assert b"/__ketsite/livereload.js?v=0" in body
    finally:
        site.stop()
        server.shutdown()
        server.server_close()


def test_inject_and_watched_paths(tmp_path):
    assert inject(b"<html><body><p>x</p></body></html>", 3) == (
        b'<html><body><p>x</p><script src="/__ketsite/livereload.js?v=3" defer></script>\n'
        b"</body></html>")
    assert inject(b"no body", 1).endswith(b"livereload.js?v=1\" defer></script>")
    project = scratch_copy(tmp_path / "w")
    paths = watched_paths(project)
    resolved = project.resolve()
    for name in ("bib", "content", "templates", "ketsite.yaml"):
        assert resolved / name in paths
    assert resolved / "node_modules" not in paths


def test_a_busy_port_is_a_usage_error_not_a_traceback(tmp_path, capsys):
    import socket

    from ketsite import cli

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = cli.main(["serve", "--src", str(tmp_path), "--port", str(port)])
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_data_files_wait_for_the_open_pages_to_reload(preview, monkeypatch):
    """After an edit the open pages reload first; the library-wide data files are rendered once
    every page that was listening listens again (its reload has loaded), so they do not hold up
    the reload. A page's stream ends once it is told of a new version."""
    from ketsite import serve

    project, site, base, logs = preview
    condition = project / "content" / "conditions" / "fibromyalgia.yaml"
    good = condition.read_text(encoding="utf-8")
    shown = site.state.version
    stream = urllib.request.urlopen(f"{base}/__ketsite/events?v={shown}", timeout=10)
    reloaded: list[float] = []

    def page() -> None:  # what livereload.js does: on a new version, reload (and listen again)
        for line in stream:
            if line.startswith(b"data: ") and json.loads(line[6:])["version"] != shown:
                assert stream.read().strip() == b""  # the server ended this stream
                reloaded.append(time.perf_counter())
                again = urllib.request.urlopen(
                    f"{base}/__ketsite/events?v={shown + 1}", timeout=10)
                again.readline()
                return

    listener = threading.Thread(target=page, daemon=True)
    listener.start()
    time.sleep(0.2)  # the stream is open
    monkeypatch.setattr(serve, "RELOAD_WAIT_SECONDS", 30.0)
    condition.write_text(good.replace("name: Fibromyalgia", "name: Fibromyalgia (edited)"),
                         encoding="utf-8")
    start = time.perf_counter()
    site.rebuild()
    listener.join(timeout=10)
    assert reloaded and time.perf_counter() - start < 20, "it waited for the reload, not longer"
    assert "data files" in logs[-1]  # they were made after the pages
    status, _, body = get(base + "/search/")
    assert status == 200

    # a page that never comes back is waited for RELOAD_WAIT_SECONDS at most
    monkeypatch.setattr(serve, "RELOAD_WAIT_SECONDS", 0.5)
    silent = urllib.request.urlopen(f"{base}/__ketsite/events?v={shown + 1}", timeout=10)
    silent.readline()
    condition.write_text(good, encoding="utf-8")
    start = time.perf_counter()
    site.rebuild()
    assert 0.5 <= time.perf_counter() - start < 15
    silent.close()


def test_serve_sets_up_citeproc_before_the_first_edit(tmp_path):
    """When the first build finds every formatted reference in the cache, it parses no citation
    style; `serve` sets them up right after (DevSite.prime), so the first edit of a paper does
    not wait for them. In a new process, as `ketsite serve` starts."""
    import subprocess
    import sys

    from ketsite.build import build

    project = scratch_copy(tmp_path / "project")
    build(project, tmp_path / "site", jobs=1)  # the cache of formatted references
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ketsite.serve import DevSite\n"
        "site = DevSite(Path(sys.argv[1]), log=lambda m: None)\n"
        "site.rebuild()\n"
        "from ketsite.scholarly import cite\n"
        "before = cite._style.cache_info().currsize\n"
        "site.prime()\n"
        "print(before, cite._style.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(project)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["0", "2"], out


def _until(shown, what: str, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not shown():
        assert time.monotonic() < end, f"never saw {what}"
        time.sleep(0.05)


def _home(site: DevSite) -> bytes:
    return (site.state.files or {}).get("index.html", b"")


@pytest.fixture
def watched(tmp_path):
    """A project previewed by a DevSite with the real watcher running; ``start()`` begins."""
    project = scratch_copy(tmp_path / "w")
    site = DevSite(project, log=lambda _msg: None)
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(site, stop), daemon=True)

    def start() -> None:
        site.rebuild()
        thread.start()
        time.sleep(0.5)  # the watches are in place

    yield project, site, start
    stop.set()
    thread.join(timeout=5)
    site.stop()


def test_a_config_saved_by_rename_is_seen_at_every_save(watched):
    """Editors (and ``sed -i``) save by writing a new file and renaming it over the old one; a
    watch on the file itself would see the first save only."""
    project, site, start = watched
    start()
    config = project / "ketsite.yaml"
    for n in range(3):
        text = re.sub(r"(?m)^title: .*$", f"title: Renamed save {n}", config.read_text("utf-8"))
        swap = project / ".ketsite.yaml.new"
        swap.write_text(text, encoding="utf-8")
        os.replace(swap, config)
        _until(lambda n=n: f"Renamed save {n}".encode() in _home(site), f"save {n}")


def test_a_templates_folder_made_while_serving_is_used_and_watched(watched):
    project, site, start = watched
    shutil.rmtree(project / "templates")
    start()
    base = (PACKAGE_TEMPLATES / "base.html").read_text(encoding="utf-8")
    (project / "templates").mkdir()
    for n in range(1, 3):  # the new folder's template, then an edit of it
        (project / "templates" / "base.html").write_text(
            base.replace("<main", f"<p>Override {n}</p>\n<main", 1), encoding="utf-8")
        _until(lambda n=n: f"<p>Override {n}</p>".encode() in _home(site), f"override {n}")
