"""Layout a reader sees: no sideways scrolling on a 320 px phone, a readable line length on a wide
screen, dark mode that follows the system, system fonts only, and a clean printed copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pagetypes import (
    browser_context,
    build_bundled_site,
    covering_pages,
    narrow_screen_pages,
    site_pages,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_bundled_site(tmp_path_factory.mktemp("layout") / "_site")


# Elements sticking out past the right edge of the viewport, unless they sit inside a box that
# scrolls sideways on its own (a wide table's container). Catches overflow that `overflow: hidden`
# on <body> would merely cut off.
OVERFLOW = """() => {
  for (const d of document.querySelectorAll('details')) d.open = true;  // a reader may open them
  const se = document.scrollingElement, vw = se.clientWidth;
  const scrolls = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      const fits = a.getBoundingClientRect().right <= vw + 0.5;
      if ((o === 'auto' || o === 'scroll') && fits) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 0.5 || scrolls(el)) continue;
    if (getComputedStyle(el).position === 'absolute' && r.right <= 0) continue;
    out.push(`<${el.localName} class="${el.className}"> right edge ${Math.round(r.right)}px: `
             + (el.textContent || '').trim().slice(0, 60));
  }
  return {scrollWidth: se.scrollWidth, clientWidth: vw, out: out.slice(0, 8)};
}"""


def test_no_page_scrolls_sideways_on_a_320px_screen(browser, http_server, site):
    server = http_server(site)
    pages = narrow_screen_pages(site_pages(site))
    failures = []
    with browser_context(browser, viewport={"width": 320, "height": 640}) as (context, problems):
        page = context.new_page()
        for p in pages:
            page.goto(server.page_url(p.url_path))
            r = page.evaluate(OVERFLOW)
            if r["scrollWidth"] > r["clientWidth"] or r["out"]:
                failures.append(f"{p.rel}: scrollWidth {r['scrollWidth']} > {r['clientWidth']}: "
                                + "; ".join(r["out"]))
        assert problems == []
    assert failures == [], "\n".join(failures)


WIDE_TABLE = """() => {
  const box = document.createElement('div');
  box.className = 'table-scroll'; box.tabIndex = 0; box.setAttribute('role', 'region');
  box.setAttribute('aria-label', 'Test table');
  const cells = Array.from({length: 24}, (_, i) => `<td>10.1016/j.ejpain.2011.03.00${i}</td>`);
  box.innerHTML = `<table><caption>Test</caption><tr>${cells.join('')}</tr></table>`;
  document.querySelector('main > :is(article, section), main').append(box);
  const main = document.querySelector('main p').getBoundingClientRect();
  const r = box.getBoundingClientRect();
  return {boxScroll: box.scrollWidth, boxClient: box.clientWidth, left: r.left, right: r.right,
          mainLeft: main.left, mainRight: main.right, vw: document.scrollingElement.clientWidth,
          pageScroll: document.scrollingElement.scrollWidth};
}"""


@pytest.mark.parametrize("width", [320, 1280, 1920])
def test_a_wide_table_scrolls_inside_its_own_box(browser, http_server, site, width):
    server = http_server(site)
    paper = next(p for p in site_pages(site) if p.kind == "condition")
    with browser_context(browser, viewport={"width": width, "height": 800}) as (context, _):
        page = context.new_page()
        page.goto(server.page_url(paper.url_path))
        r = page.evaluate(WIDE_TABLE)
    assert r["pageScroll"] <= r["vw"], r  # the page itself does not scroll sideways
    assert r["boxScroll"] > r["boxClient"], r  # the table's own box does
    assert r["left"] >= 0 and r["right"] <= r["vw"], r
    if width >= 1280:  # on a big screen the table gets more room than a paragraph
        assert r["right"] - r["left"] > r["mainRight"] - r["mainLeft"], r


MEASURE = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const out = [];
  for (const el of document.querySelectorAll('main :is(p, li, dd, blockquote)')) {
    if (el.closest('.table-scroll, .wide, table, figure, .byline, .source')) continue;
    const text = el.textContent.replace(/\\s+/g, ' ').trim();
    if (text.length < 80) continue;
    ctx.font = getComputedStyle(el).font;
    const perChar = ctx.measureText(text).width / text.length;
    out.push({chars: Math.round(el.clientWidth / perChar), text: text.slice(0, 50)});
  }
  return out;
}"""


def test_text_lines_stay_readable_on_a_wide_screen(browser, http_server, site):
    """About 45–85 characters a line: long lines make readers lose their place."""
    server = http_server(site)
    longest = []
    with browser_context(browser, viewport={"width": 1920, "height": 1080}) as (context, _):
        page = context.new_page()
        for p in covering_pages(site_pages(site)):
            page.goto(server.page_url(p.url_path))
            longest += [(m["chars"], p.rel, m["text"]) for m in page.evaluate(MEASURE)]
    assert longest, "no paragraph measured"
    assert max(longest)[0] <= 85, max(longest)
    assert max(longest)[0] >= 45, max(longest)


def _luminance(css: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", css)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_scheme_follows_the_system_setting(browser, http_server, site, scheme):
    server = http_server(site)
    with browser_context(browser, color_scheme=scheme) as (context, _):
        page = context.new_page()
        page.goto(server.page_url(""))
        bg, fg, link = page.evaluate("""() => [getComputedStyle(document.body).backgroundColor,
            getComputedStyle(document.body).color,
            getComputedStyle(document.querySelector('main a')).color]""")
    if scheme == "dark":
        assert _luminance(bg) < 0.15 and _luminance(fg) > 0.75 and _luminance(link) > 0.5
    else:
        assert _luminance(bg) > 0.9 and _luminance(fg) < 0.2 and _luminance(link) < 0.4


def test_only_system_fonts_are_used(browser, http_server, site):
    css = "\n".join(p.read_text(encoding="utf-8") for p in (site / "assets").rglob("*.css"))
    assert "@font-face" not in css and "@import" not in css
    assert not [p for p in site.rglob("*") if p.suffix in (".woff", ".woff2", ".ttf", ".otf")]
    server = http_server(site)
    fonts = []
    with browser_context(browser) as (context, _):
        page = context.new_page()
        page.on("request",
                lambda req: fonts.append(req.url) if req.resource_type == "font" else None)
        page.goto(server.page_url(""))
        family = page.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert fonts == []
    assert family.startswith("system-ui"), family


PRINTED = """() => {
  const shown = el => !!el && el.checkVisibility({visibilityProperty: true});
  const ext = [...document.querySelectorAll('main a[href^="http"]')].map(a => ({
      href: a.href, after: getComputedStyle(a, '::after').content}));
  const whole = [...document.querySelectorAll('table, figure, main li')]
      .filter(el => getComputedStyle(el).breakInside !== 'avoid').map(el => el.localName);
  return {nav: [...document.querySelectorAll('nav')].some(shown),
          skip: shown(document.querySelector('.skip-link')),
          h1: shown(document.querySelector('h1')),
          blankHeaders: [...document.querySelectorAll('main th')]
              .filter(th => shown(th.closest('table')) && !th.innerText.trim()).length,
          bg: getComputedStyle(document.body).backgroundColor,
          fg: getComputedStyle(document.body).color, ext, whole};
}"""


def test_printed_pages_drop_navigation_and_spell_out_outside_links(browser, http_server, site):
    server = http_server(site)
    checked_links = 0
    with browser_context(browser, color_scheme="dark") as (context, _):
        page = context.new_page()
        page.emulate_media(media="print")
        for p in covering_pages(site_pages(site)):
            page.goto(server.page_url(p.url_path))
            r = page.evaluate(PRINTED)
            assert not r["nav"] and not r["skip"], f"{p.rel}: navigation is printed"
            assert r["h1"], f"{p.rel}: the heading is not printed"
            assert r["blankHeaders"] == 0, f"{p.rel}: table headers print blank"
            assert _luminance(r["bg"]) > 0.95 and _luminance(r["fg"]) < 0.05, (p.rel, r["bg"])
            for link in r["ext"]:
                assert link["href"] in link["after"], f"{p.rel}: printed link hides its URL {link}"
                checked_links += 1
            assert r["whole"] == [], f"{p.rel}: may split across pages: {set(r['whole'])}"
    assert checked_links >= 3
