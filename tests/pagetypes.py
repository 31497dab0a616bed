"""Which pages of a built site to put in front of a browser, chosen from the output itself.

Every page's ``<body data-kind="…">`` names its route kind (home, paper, condition, …), so a page
type added later is picked up without touching the tests. Within a kind, pages are chosen to cover
every distinct piece of markup that occurs in that kind (a retraction banner, an empty-state note,
an evidence table that only some pages have), so checks that are too slow to run on all pages still
see every component at least once.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from playwright.sync_api import BrowserContext
from sitetools import REPO

from ketsite.build import build
from ketsite.site.routes import LinkStyle


def build_bundled_site(out: Path, style: LinkStyle = LinkStyle.PRETTY) -> Path:
    """Build the repository's own sources (the bundled evidence site) into ``out``."""
    result = build(REPO, out, style)
    assert not result.diagnostics.has_errors, [d.format() for d in result.diagnostics.sorted()]
    return out


class _Signature(HTMLParser):
    """The page kind and the set of markup features of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.kind: str | None = None
        self.features: set[str] = set()
        self.longest_word = 0  # the longest unbreakable run of text: what overflows a phone

    def handle_data(self, data: str) -> None:
        for word in data.split():
            self.longest_word = max(self.longest_word, len(word))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.kind = a.get("data-kind")
        self.features.add(tag)
        for cls in a.get("class", "").split():
            self.features.add(f"{tag}.{cls}")
        for name in ("role", "aria-current", "type", "rel", "hidden", "open"):
            if name in a:
                self.features.add(f"{tag}[{name}={a[name]}]")


@dataclass(frozen=True)
class SitePage:
    kind: str
    path: Path  # the file
    rel: str  # its path below the site root, e.g. papers/x/index.html
    size: int
    features: frozenset[str]
    longest_word: int

    @property
    def url_path(self) -> str:
        """The path a web server answers for it: ``papers/x/`` for ``papers/x/index.html``."""
        if self.rel == "index.html":
            return ""
        return self.rel[: -len("index.html")] if self.rel.endswith("/index.html") else self.rel


def site_pages(site: Path) -> list[SitePage]:
    """Every HTML page of the site with its kind; a page without ``data-kind`` is an error."""
    pages = []
    for path in sorted(site.rglob("*.html")):
        parser = _Signature()
        text = path.read_text(encoding="utf-8")
        parser.feed(text)
        rel = path.relative_to(site).as_posix()
        assert parser.kind, f"{rel}: <body> has no data-kind, so no test knows its page type"
        pages.append(SitePage(parser.kind, path, rel, len(text.encode()),
                              frozenset(parser.features), parser.longest_word))
    return pages


def by_kind(pages: list[SitePage]) -> dict[str, list[SitePage]]:
    kinds: dict[str, list[SitePage]] = {}
    for p in pages:
        kinds.setdefault(p.kind, []).append(p)
    return dict(sorted(kinds.items()))


def covering_pages(pages: list[SitePage]) -> list[SitePage]:
    """Per kind, a few pages that together show every markup feature any page of that kind has.

    Greedy set cover, largest gain first, ties to the bigger page (more content, more chances of
    long words, wide tables and contrast problems).
    """
    chosen: list[SitePage] = []
    for group in by_kind(pages).values():
        missing = set().union(*(p.features for p in group))
        while missing:
            best = max(group, key=lambda p: (len(p.features & missing), p.size, p.rel))
            chosen.append(best)
            missing -= best.features
    return chosen


def narrow_screen_pages(pages: list[SitePage]) -> list[SitePage]:
    """The covering pages plus, per kind, the one with the longest unbreakable word."""
    chosen = covering_pages(pages)
    for group in by_kind(pages).values():
        widest = max(group, key=lambda p: (p.longest_word, p.size, p.rel))
        if widest not in chosen:
            chosen.append(widest)
    return chosen


def typical_page(group: list[SitePage]) -> SitePage:
    """The page of median size: what a reader usually sees (for screenshots)."""
    sizes = sorted(group, key=lambda p: (p.size, p.rel))
    median = statistics.median_low([p.size for p in sizes])
    return next(p for p in sizes if p.size == median)


def one_of_each(pages: list[SitePage]) -> list[SitePage]:
    return [typical_page(group) for group in by_kind(pages).values()]


# ----------------------------------------------------------------- search pages
SEARCH_BOX = "input[type=search]"  # the feature of a page with a search box
SAMPLE_QUERY = "ketamine"  # a word every page of this site is about


def show_results(page) -> None:
    """Wait until a search page loaded with ``?q=`` has drawn (and announced) its results."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => { const s = document.querySelector('[role=status]');"
        " return !s || s.textContent.trim() !== ''; }")


# ----------------------------------------------------------------- browser contexts
LOOPBACK = ("http://127.0.0.1:", "file://", "data:", "about:", "blob:")


@contextmanager
def browser_context(browser, **options) -> Iterator[tuple[BrowserContext, list[str]]]:
    """A fresh Chromium context with ``options`` (viewport, color_scheme, …) that blocks and
    records every request leaving the machine, and records console errors (CSP violations,
    failed loads, exceptions) of every page opened in it."""
    context = browser.new_context(service_workers="block", **options)
    context.set_default_timeout(15_000)
    problems: list[str] = []

    def guard(route):
        if route.request.url.startswith(LOOPBACK):
            route.continue_()
        else:
            problems.append(f"external request: {route.request.url}")
            route.abort("blockedbyclient")

    def watch(page):
        page.on("console", lambda m: problems.append(f"console: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

    context.route("**/*", guard)
    context.on("page", watch)
    try:
        yield context, problems
    finally:
        context.close()


# ----------------------------------------------------------------- a site with paged indexes
#: Limits that page every library-wide page of the bundled site (44 papers, 216 authors, two
#: reviews citing 38 papers): papers index on 5 pages, authors one page per letter, the reviews
#: matrix and the search page's no-JavaScript list shortened, 5 feed entries, 4 sitemap files.
PAGED_LIMITS = """
pagination:
  papers: 10
  authors: 50
  matrix_cells: 20
  search: 100
  feed: 5
  sitemap: 100
"""


def build_paged_site(out: Path, style: LinkStyle = LinkStyle.PRETTY) -> Path:
    """The bundled sources with :data:`PAGED_LIMITS`, built into ``out`` (the project is a copy
    beside it)."""
    from sitetools import scratch_copy

    root = scratch_copy(out.parent / f"{out.name}-src")
    (root / "ketsite.yaml").write_text(
        (root / "ketsite.yaml").read_text(encoding="utf-8") + PAGED_LIMITS, encoding="utf-8")
    result = build(root, out, style)
    assert not result.diagnostics.has_errors, [d.format() for d in result.diagnostics.sorted()]
    return out
