"""Weight: pages that load fast on a poor phone connection and read without JavaScript.

A paper page plus its stylesheet stays under 30 KB gzip; no script blocks rendering (every
script is ``defer``/``async``/a module, or sits at the very end of ``<body>``); and every heading,
link and paragraph a reader sees with JavaScript on is there with JavaScript off.
"""

from __future__ import annotations

import gzip
import json
import statistics
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pagetypes import browser_context, build_bundled_site, by_kind, covering_pages, site_pages
from sitetools import resolve_link

BUDGET = 30 * 1024  # bytes of gzip, HTML + CSS, for a paper page
JS_TYPES = ("", "text/javascript", "application/javascript", "module")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_bundled_site(tmp_path_factory.mktemp("weight") / "_site")


class _Resources(HTMLParser):
    """Stylesheets of a page, and its scripts with where they sit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stylesheets: list[str] = []
        self.scripts: list[dict] = []  # {src, type, defer, async, in_head, inline}
        self.in_head = False
        self._open: dict | None = None
        self._last_script_end: int | None = None  # index into self.scripts
        self._content_after: set[int] = set()  # scripts followed by more body content

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "head":
            self.in_head = True
        elif tag == "body":
            self.in_head = False
        if tag == "link" and "stylesheet" in a.get("rel", "").split():
            self.stylesheets.append(a["href"])
        if tag == "script":
            self._open = {"src": a.get("src", ""), "type": a.get("type", "").lower(),
                          "defer": "defer" in a, "async": "async" in a,
                          "in_head": self.in_head, "inline": ""}
            self.scripts.append(self._open)
        elif not self.in_head and tag not in ("html",):
            self._mark_content()

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
        if tag == "script":
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["inline"] += data
        elif data.strip() and not self.in_head:
            self._mark_content()

    def _mark_content(self) -> None:
        """Body content after a script means that script blocked the parser before it."""
        for i, s in enumerate(self.scripts):
            if not s["in_head"]:
                self._content_after.add(i)

    def blocking(self) -> list[dict]:
        out = []
        for i, s in enumerate(self.scripts):
            if s["type"] not in JS_TYPES:
                continue  # data blocks such as application/ld+json are not run
            if s["type"] == "module" or (s["src"] and (s["defer"] or s["async"])):
                continue
            if s["in_head"] or i in self._content_after or not s["src"]:
                out.append(s)
        return out


def _resources(path: Path) -> _Resources:
    parser = _Resources()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _gzip_weight(site: Path, page: Path) -> int:
    total = len(gzip.compress(page.read_bytes(), compresslevel=9, mtime=0))
    for href in _resources(page).stylesheets:
        resolved = resolve_link(site, page, href)
        assert resolved is not None, f"{page}: stylesheet from elsewhere: {href}"
        total += len(gzip.compress(resolved[0].read_bytes(), compresslevel=9, mtime=0))
    return total


def test_every_paper_page_weighs_under_30kb_gzip_with_its_css(site, artifacts_dir):
    pages = site_pages(site)
    weights = {p.rel: _gzip_weight(site, p.path) for p in pages}
    summary = {}
    for kind, group in by_kind(pages).items():
        w = sorted(weights[p.rel] for p in group)
        summary[kind] = {"pages": len(w), "median_kb": round(statistics.median(w) / 1024, 1),
                         "max_kb": round(w[-1] / 1024, 1)}
    report = artifacts_dir / "reports"
    report.mkdir(parents=True, exist_ok=True)
    (report / "weight.json").write_text(json.dumps(
        {"unit": "KB of gzip (level 9), HTML + stylesheets", "by_kind": summary,
         "pages": weights}, indent=1, sort_keys=True), encoding="utf-8")
    print("\n".join(f"{k}: {v}" for k, v in summary.items()))
    papers = {p.rel: weights[p.rel] for p in pages if p.kind == "paper"}
    assert papers, "no paper page in the site"
    heaviest = max(papers, key=papers.get)
    assert papers[heaviest] < BUDGET, f"{heaviest}: {papers[heaviest] / 1024:.1f} KB gzip"


def test_no_page_has_a_render_blocking_script(site):
    problems = []
    for p in site_pages(site):
        for s in _resources(p.path).blocking():
            where = "in <head>" if s["in_head"] else "before body content"
            what = s["src"] or f"inline: {s['inline'].strip()[:60]}"
            problems.append(f"{p.rel}: blocking script {where} without defer/async: {what}")
    assert problems == [], "\n".join(problems)


def test_blocking_script_detector_catches_blocking_scripts(tmp_path):
    """The check above can fail."""
    page = tmp_path / "x.html"
    page.write_text('<!doctype html><html><head><script src="a.js"></script>'
                    '<script src="b.js" defer></script>'
                    '<script type="application/ld+json">{}</script></head><body><p>x</p>'
                    '<script src="c.js"></script><p>y</p><script src="d.js"></script>'
                    '</body></html>',
                    encoding="utf-8")
    assert [s["src"] for s in _resources(page).blocking()] == ["a.js", "c.js"]


READABLE = """() => {
  const main = document.querySelector('main');
  const keep = el => !el.closest('[aria-live], [hidden], noscript, template, form');
  const texts = sel => [...main.querySelectorAll(sel)].filter(keep)
      .map(el => el.innerText.replace(/\\s+/g, ' ').trim()).filter(Boolean);
  return {headings: texts('h1, h2, h3, h4, h5, h6'),
          text: texts('p, li, dd, dt, th, td, caption, figcaption, blockquote'),
          links: [...main.querySelectorAll('a[href]')].filter(keep)
                   .map(a => a.getAttribute('href'))};
}"""


def test_every_page_type_reads_the_same_without_javascript(browser, http_server, site):
    server = http_server(site)
    pages = covering_pages(site_pages(site))
    seen: dict[bool, dict[str, dict]] = {}
    for js in (True, False):
        with browser_context(browser, java_script_enabled=js) as (context, _):
            page = context.new_page()
            seen[js] = {}
            for p in pages:
                page.goto(server.page_url(p.url_path))
                seen[js][p.rel] = page.evaluate(READABLE)
    for p in pages:
        on, off = seen[True][p.rel], seen[False][p.rel]
        assert len(off["headings"]) >= 1 and off["text"], f"{p.rel}: empty without JavaScript"
        for part in ("headings", "text", "links"):
            missing = [x for x in on[part] if x not in off[part]]
            assert missing == [], f"{p.rel}: {part} only there with JavaScript: {missing[:5]}"
