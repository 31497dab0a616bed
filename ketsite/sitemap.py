"""What crawlers read: ``sitemap.xml`` (every page's canonical URL) and ``robots.txt`` (where the
sitemap is). URLs are absolute, from ``ketsite.yaml``'s ``url``, as the sitemap protocol requires.

The protocol allows at most 50,000 URLs in one file (``pagination.sitemap``, lower for tests): a
site with more pages gets ``sitemap-1.xml``, ``sitemap-2.xml``, … of pages in path order, and
``sitemap.xml`` becomes the ``<sitemapindex>`` listing them, so robots.txt names one file either
way. How many files there are is known before rendering, from the page routes of the corpus.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.site.paging import page_count
from ketsite.site.routes import Route

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP, ROBOTS, PART = "sitemap", "robots", "sitemap-part"
HEADER = "<?xml version='1.0' encoding='utf-8'?>\n"


def _listed(route: Route) -> bool:
    return route.kind != "404"


def _parts(pages: int, config: SiteConfig) -> int:
    """Files of URLs: none besides sitemap.xml itself when every page fits in it."""
    parts = math.ceil(pages / config.pagination.sitemap)
    return parts if parts > 1 else 0


def part_path(number: int) -> str:
    return f"sitemap-{number}.xml"


def _urlset(config: SiteConfig, pages: list[Route]) -> bytes:
    # Strings, not ElementTree: the same bytes (indent, declaration), several times faster for
    # the tens of thousands of URLs of a large library.
    locs = "".join(
        f"  <url>\n    <loc>{escape(config.absolute(r.url_path))}</loc>\n  </url>\n" for r in pages
    )
    return f'{HEADER}<urlset xmlns="{SITEMAP_NS}">\n{locs}</urlset>\n'.encode()


def _index(config: SiteConfig, parts: int) -> bytes:
    locs = "".join(
        f"  <sitemap>\n    <loc>{escape(config.absolute(part_path(n)))}</loc>\n  </sitemap>\n"
        for n in range(1, parts + 1)
    )
    return f'{HEADER}<sitemapindex xmlns="{SITEMAP_NS}">\n{locs}</sitemapindex>\n'.encode()


def sitemap_xml(route: Route, ctx: object) -> bytes:
    config: SiteConfig = ctx.config  # type: ignore[attr-defined]
    pages = sorted((r for r in ctx.routes.pages() if _listed(r)),  # type: ignore[attr-defined]
                   key=lambda r: r.path)
    limit = config.pagination.sitemap
    parts = _parts(len(pages), config)
    table = ctx.routes  # type: ignore[attr-defined]
    if (parts and not table.has(PART, str(parts))) or table.has(PART, str(parts + 1)):
        raise RuntimeError(  # a kind of page that site.paging.page_count does not count
            f"sitemap: {len(pages)} pages need {parts or 1} file(s), but the routes say otherwise")
    if route.kind == SITEMAP:
        return _index(config, parts) if parts else _urlset(config, pages)
    number = int(route.ident)
    return _urlset(config, pages[(number - 1) * limit:number * limit])


def robots_txt(ctx: object) -> bytes:
    config: SiteConfig = ctx.config  # type: ignore[attr-defined]
    return (
        "# Everything here is meant to be read and indexed.\n"
        "User-agent: *\n"
        "Allow: /\n"
        "\n"
        f"Sitemap: {config.absolute('sitemap.xml')}\n"
    ).encode()


def routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    count = page_count(corpus, config,  # all but 404.html
                       lambda low, high: _parts(low - 1, config) == _parts(high - 1, config))
    parts = _parts(count - 1, config)
    return [
        Route(SITEMAP, "", "sitemap.xml", ""),
        Route(ROBOTS, "", "robots.txt", ""),
        *(Route(PART, str(n), part_path(n), "") for n in range(1, parts + 1)),
    ]


def generate(route: Route, ctx: object) -> bytes:
    return robots_txt(ctx) if route.kind == ROBOTS else sitemap_xml(route, ctx)
