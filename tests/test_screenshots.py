"""Full-page screenshots of every page type on a phone (375 px) and a desktop (1280 px), so a
reviewer can look at every template after a change without building the site.

They land in ``$KETSITE_ARTIFACTS/screenshots/`` (``artifacts/screenshots/`` by default;
``.ci/run`` keeps them as CI artifacts) as ``<page-type>-<width>.png``, plus
``<page-type>-<width>-dark.png`` for the pages also shot in the dark colour scheme,
``search-results-<width>.png`` for a search page showing results, and one
``print/<page-type>.pdf`` per page type as printed. See docs/design.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pagetypes import (
    SAMPLE_QUERY,
    SEARCH_BOX,
    browser_context,
    build_bundled_site,
    one_of_each,
    show_results,
    site_pages,
)

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
DARK_TOO = ("home", "paper", "condition", "review")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_bundled_site(tmp_path_factory.mktemp("shots") / "_site")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == PNG, f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_full_page_screenshot_of_every_page_type(
        browser, http_server, site, artifacts_dir, width, scheme):
    server = http_server(site)
    out = artifacts_dir / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    pages = one_of_each(site_pages(site))
    if scheme == "dark":
        pages = [p for p in pages if p.kind in DARK_TOO]
    suffix = "" if scheme == "light" else "-dark"
    with browser_context(browser, viewport={"width": width, "height": 800},
                         color_scheme=scheme) as (context, problems):
        page = context.new_page()
        for p in pages:
            page.goto(server.page_url(p.url_path))
            path = out / f"{p.kind}-{width}{suffix}.png"
            path.unlink(missing_ok=True)
            page.screenshot(path=str(path), full_page=True)
            shot_width, shot_height = _png_size(path)
            assert shot_width == width, f"{path.name}: the page is wider than the screen"
            assert shot_height >= 400, f"{path.name}: suspiciously short page"
            if SEARCH_BOX in p.features and scheme == "light":  # and with results on it
                page.goto(server.page_url(p.url_path) + f"?q={SAMPLE_QUERY}")
                show_results(page)
                path = out / f"{p.kind}-results-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                assert _png_size(path)[0] == width, f"{path.name}: wider than the screen"
        assert problems == []
    assert len(pages) >= (11 if scheme == "light" else len(DARK_TOO))


def test_printed_page_of_every_type_as_pdf(browser, http_server, site, artifacts_dir):
    server = http_server(site)
    out = artifacts_dir / "print"
    out.mkdir(parents=True, exist_ok=True)
    with browser_context(browser) as (context, _):
        page = context.new_page()
        for p in one_of_each(site_pages(site)):
            if p.kind not in ("paper", "condition", "review", "author"):
                continue
            page.goto(server.page_url(p.url_path))
            pdf = page.pdf(format="A4", print_background=False)
            assert pdf.startswith(b"%PDF-")
            (out / f"{p.kind}.pdf").write_bytes(pdf)
