"""WCAG 2.1 AA in a real browser: axe-core on every page type in both colour schemes, and the
keyboard path a reader without a mouse takes (skip link first, every control reachable, focus
always visible).

axe-core comes from node_modules (npm, locked). The site is served by the ``http_server`` fixture
with netlify.toml's Content-Security-Policy (``script-src 'self'``), so axe is answered from the
site's own origin by a Playwright route: the page runs under its real CSP, nothing is bypassed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pagetypes import (
    SAMPLE_QUERY,
    SEARCH_BOX,
    browser_context,
    build_bundled_site,
    build_paged_site,
    by_kind,
    covering_pages,
    one_of_each,
    show_results,
    site_pages,
)
from sitetools import REPO

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
AXE_URL_PATH = "__test__/axe.min.js"  # never a file of the site; answered by a route
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

RUN_AXE = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                     resultTypes: ['violations', 'incomplete']});
  const brief = (list) => list.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                              summary: n.failureSummary || ''}))}));
  return {violations: brief(r.violations), incomplete: brief(r.incomplete)};
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_bundled_site(tmp_path_factory.mktemp("a11y") / "_site")


@pytest.fixture(scope="module")
def paged_site(tmp_path_factory) -> Path:
    """The same sources with small ``pagination`` limits: the paged and shortened index pages."""
    return build_paged_site(tmp_path_factory.mktemp("a11y-paged") / "_site")


#: The pages that look different when the library is over its limits.
PAGED_KINDS = {"papers", "authors", "reviews", "search"}


def _report(results: dict[str, dict]) -> str:
    lines = []
    for where, r in results.items():
        for v in r["violations"]:
            lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
            for n in v["nodes"][:5]:
                lines.append(f"    {n['target']}  {n['html']}")
                lines.append("      " + n["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_wcag_aa_violation_on_any_page_type(
        browser, http_server, site, paged_site, artifacts_dir, scheme):
    assert AXE.is_file(), "node_modules/axe-core missing: run `bash scripts/setup.sh`"
    server = http_server(site)
    pages = covering_pages(site_pages(site))
    kinds = {p.kind for p in pages}
    assert {"home", "review", "condition", "paper", "author", "papers", "authors",
            "conditions", "reviews", "search", "404"} <= kinds
    paged_server = http_server(paged_site)
    paged = [p for p in covering_pages(site_pages(paged_site)) if p.kind in PAGED_KINDS]
    assert any("nav.pager" in p.features for p in paged)  # the pager is checked too
    results: dict[str, dict] = {}
    with browser_context(browser, color_scheme=scheme, viewport={"width": 1280, "height": 900}
                         ) as (context, problems):
        context.route(f"**/{AXE_URL_PATH}", lambda route: route.fulfill(
            path=str(AXE), content_type="text/javascript; charset=utf-8"))
        page = context.new_page()
        for p in pages:
            page.goto(server.page_url(p.url_path))
            page.add_script_tag(url=server.page_url(AXE_URL_PATH))
            results[f"{p.rel} [{scheme}]"] = page.evaluate(RUN_AXE, AXE_TAGS)
        for p in paged:
            page.goto(paged_server.page_url(p.url_path))
            page.add_script_tag(url=paged_server.page_url(AXE_URL_PATH))
            results[f"paged: {p.rel} [{scheme}]"] = page.evaluate(RUN_AXE, AXE_TAGS)
        for p in {q.url_path: q for q in pages if SEARCH_BOX in q.features}.values():
            # a search page also as it looks with results on it
            page.goto(server.page_url(p.url_path) + f"?q={SAMPLE_QUERY}")
            show_results(page)
            page.add_script_tag(url=server.page_url(AXE_URL_PATH))
            results[f"{p.rel}?q={SAMPLE_QUERY} [{scheme}]"] = page.evaluate(RUN_AXE, AXE_TAGS)
        # the pages must not trip their own CSP or throw (axe, being same-origin, does not)
        assert problems == []
        # the 404 page as a reader meets it: at an address that does not exist
        page.goto(server.page_url("no/such/page/"))
        page.add_script_tag(url=server.page_url(AXE_URL_PATH))
        results[f"no/such/page/ (404) [{scheme}]"] = page.evaluate(RUN_AXE, AXE_TAGS)

    report_dir = artifacts_dir / "reports"
    report_dir.mkdir(parents=True, exist_ok=True)
    violations = sum(len(v["nodes"]) for r in results.values() for v in r["violations"])
    (report_dir / f"axe-{scheme}.json").write_text(json.dumps({
        "axe_version": json.loads((AXE.parent / "package.json").read_text())["version"],
        "tags": AXE_TAGS, "scheme": scheme, "pages": sorted(results),
        "violation_nodes": violations, "results": results,
    }, indent=1, sort_keys=True), encoding="utf-8")
    print(f"axe [{scheme}]: {len(results)} pages, {violations} violating nodes")
    assert violations == 0, "\n" + _report(results)


# ----------------------------------------------------------------- keyboard

TABBABLE = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, [tabindex], '
    + 'audio[controls], video[controls]')]
  .filter(el => !el.disabled && el.tabIndex >= 0 && !el.closest('[inert]')
                && el.checkVisibility({visibilityProperty: true}))
  .map(el => el.outerHTML.slice(0, 160))"""

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return {html: el.outerHTML.slice(0, 160), outlineStyle: s.outlineStyle,
          outlineWidth: parseFloat(s.outlineWidth), outlineColor: s.outlineColor,
          boxShadow: s.boxShadow, background: getComputedStyle(document.body).backgroundColor,
          top: r.top, left: r.left, width: r.width, height: r.height,
          innerWidth: innerWidth, innerHeight: innerHeight,
          skip: el.classList.contains('skip-link')};
}"""


def _focus_is_visible(f: dict) -> bool:
    outlined = f["outlineStyle"] != "none" and f["outlineWidth"] >= 2 and (
        f["outlineColor"] != f["background"])
    return outlined or f["boxShadow"] not in ("none", "")


def test_skip_link_comes_first_shows_itself_and_moves_focus_to_the_content(
        browser, http_server, site):
    server = http_server(site)
    with browser_context(browser, viewport={"width": 1280, "height": 900}) as (context, _):
        page = context.new_page()
        for p in one_of_each(site_pages(site)):
            page.goto(server.page_url(p.url_path))
            hidden = page.evaluate("() => document.querySelector('.skip-link')"
                                   ".getBoundingClientRect().right")
            assert hidden <= 0, "the skip link is visible before it has focus"
            page.keyboard.press("Tab")
            f = page.evaluate(FOCUSED)
            assert f and f["skip"], f"first Tab on {p.rel} focused {f}, not the skip link"
            assert f["left"] >= 0 and f["top"] >= 0 and f["width"] > 20 and f["height"] > 10
            assert f["left"] + f["width"] <= f["innerWidth"], "skip link is off screen"
            assert _focus_is_visible(f), f
            page.keyboard.press("Enter")
            assert page.evaluate("() => document.activeElement.id") == "main"
            page.keyboard.press("Tab")
            after = page.evaluate("""() => { const el = document.activeElement;
                const main = document.querySelector('main');
                return main.contains(el) || !!(main.compareDocumentPosition(el)
                                               & Node.DOCUMENT_POSITION_FOLLOWING); }""")
            assert after, f"Tab after the skip link on {p.rel} went back before the content"


def test_every_control_is_reachable_by_tab_with_visible_focus(browser, http_server, site):
    server = http_server(site)
    smallest = [min(group, key=lambda p: (p.size, p.rel))
                for group in by_kind(site_pages(site)).values()]
    failures = []
    with browser_context(browser, viewport={"width": 1280, "height": 900}) as (context, _):
        page = context.new_page()
        for p in smallest:
            page.goto(server.page_url(p.url_path))
            # what is folded away (<details>) must be reachable once a reader unfolds it
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            expected = page.evaluate(TABBABLE)
            reached: list[str] = []
            for _ in range(len(expected) + 5):
                page.keyboard.press("Tab")
                f = page.evaluate(FOCUSED)
                if f is None or (reached and f["html"] == reached[0]):
                    break  # wrapped round to the browser UI / the first control again
                reached.append(f["html"])
                if not _focus_is_visible(f):
                    failures.append(f"{p.rel}: no visible focus on {f['html']}: {f}")
            missing = [h for h in expected if h not in reached]
            if missing:
                failures.append(f"{p.rel}: not reachable by Tab: {missing[:5]}")
            if reached[: len(expected)] != expected:
                failures.append(f"{p.rel}: Tab order differs from reading order")
    assert failures == [], "\n".join(failures)
