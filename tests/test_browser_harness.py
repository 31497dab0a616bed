"""Proves the browser harness in conftest.py works: real Chromium, real clicks,
and that console errors and external requests are caught (and blocked)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

INDEX = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Harness index</title>
<script src="app.js" defer></script></head>
<body>
  <h1>Index</h1>
  <button id="go" type="button">Press</button>
  <output id="out">idle</output>
  <p><a id="next" href="second.html">Second page</a></p>
</body>
</html>
"""
# External script file (not inline): the served pages run under netlify.toml's CSP.
APP_JS = """document.getElementById("go").addEventListener("click", () => {
  document.getElementById("out").textContent = "pressed";
});
"""
SECOND = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Second</title></head>
<body><h1 id="title">Second page</h1></body></html>
"""
NOISY = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Noisy</title>
<script src="noisy.js"></script></head>
<body><img id="tracker" alt="" src="https://tracker.example.com/pixel.gif"></body></html>
"""
NOISY_JS = """console.error("boom from noisy.js");
fetch("https://api.example.org/data.json").catch(() => {});
"""
THROWER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Thrower</title>
<script src="thrower.js"></script></head><body></body></html>
"""
THROWER_JS = "setTimeout(() => { throw new Error('kaboom'); }, 0);\n"


@pytest.fixture
def mini_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(INDEX, encoding="utf-8")
    (site / "app.js").write_text(APP_JS, encoding="utf-8")
    (site / "second.html").write_text(SECOND, encoding="utf-8")
    (site / "noisy.html").write_text(NOISY, encoding="utf-8")
    (site / "noisy.js").write_text(NOISY_JS, encoding="utf-8")
    (site / "thrower.html").write_text(THROWER, encoding="utf-8")
    (site / "thrower.js").write_text(THROWER_JS, encoding="utf-8")
    (site / "404.html").write_text("<!doctype html><title>Not found</title>", encoding="utf-8")
    return site


@pytest.fixture(params=["file", "http"])
def base_url(request, mini_site: Path, http_server) -> str:
    if request.param == "file":
        return mini_site.as_uri() + "/"
    return http_server(mini_site).url


@pytest.fixture(params=["file", "http"])
def plain_base_url(request, mini_site: Path, http_server) -> str:
    """Like base_url, but served without netlify.toml's CSP (which would stop the
    external fetch before it became a request)."""
    if request.param == "file":
        return mini_site.as_uri() + "/"
    return http_server(mini_site, netlify_headers=False).url


def test_click_button_and_follow_link(page, base_url: str) -> None:
    page.goto(base_url + "index.html")
    assert page.title() == "Harness index"
    assert page.text_content("#out") == "idle"

    page.click("#go")
    page.wait_for_function("document.getElementById('out').textContent === 'pressed'")

    page.click("#next")
    page.wait_for_url(base_url + "second.html")
    assert page.url == base_url + "second.html"
    assert page.text_content("#title") == "Second page"

    assert page.console_errors == []
    assert page.external_requests == []


def test_console_errors_and_external_requests_are_caught(page, plain_base_url: str) -> None:
    failures: dict[str, str | None] = {}
    page.on("requestfailed", lambda req: failures.__setitem__(req.url, req.failure))
    page.goto(plain_base_url + "noisy.html")
    page.wait_for_load_state("networkidle")

    assert "https://tracker.example.com/pixel.gif" in page.external_requests
    assert "https://api.example.org/data.json" in page.external_requests
    assert any("boom from noisy.js" in e for e in page.console_errors), page.console_errors
    # Blocked by the harness itself (not merely unreachable), so it never loaded.
    blocked = "net::ERR_BLOCKED_BY_CLIENT"
    assert (failures.get("https://tracker.example.com/pixel.gif") or "").startswith(blocked)
    assert (failures.get("https://api.example.org/data.json") or "").startswith(blocked)
    assert page.eval_on_selector("#tracker", "img => img.naturalWidth") == 0


def test_uncaught_exception_is_a_console_error(page, base_url: str) -> None:
    page.goto(base_url + "thrower.html")
    page.wait_for_timeout(300)
    assert any("pageerror" in e and "kaboom" in e for e in page.console_errors), page.console_errors


def test_csp_stops_external_fetch_when_served(page, mini_site: Path, http_server) -> None:
    page.goto(http_server(mini_site).page_url("noisy.html"))
    page.wait_for_load_state("networkidle")
    assert any(
        "Content Security Policy" in e and "api.example.org" in e for e in page.console_errors
    ), page.console_errors


def test_http_server_headers_and_404(mini_site: Path, http_server) -> None:
    served = http_server(mini_site)
    assert served.url.startswith("http://127.0.0.1:") and served.port > 0
    with urllib.request.urlopen(served.page_url("index.html"), timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Frame-Options"] == "DENY"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(served.page_url("missing/page.html"), timeout=10)
    assert err.value.code == 404
    assert b"<title>Not found</title>" in err.value.read()


def test_csp_blocks_inline_script_when_served(page, mini_site: Path, http_server) -> None:
    (mini_site / "inline.html").write_text(
        "<!doctype html><title>i</title><script>document.title = 'ran'</script>",
        encoding="utf-8",
    )
    page.goto(http_server(mini_site).page_url("inline.html"))
    assert page.title() == "i"  # the inline script did not run
    assert any("Content Security Policy" in e for e in page.console_errors), page.console_errors


def test_missing_chromium_fails_loudly(tmp_path: Path) -> None:
    """Without Chromium the browser tests must ERROR with a clear message, never skip."""
    env = {**os.environ, "KETSITE_CHROMIUM": str(tmp_path / "no-such-chromium")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            f"{__file__}::test_uncaught_exception_is_a_console_error",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Chromium not found at" in out, out
    assert "2 error" in out, out
    assert "skipped" not in out, out
