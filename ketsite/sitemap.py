"""What crawlers read: ``sitemap.xml`` (every page's canonical URL) and ``robots.txt`` (where the
sitemap is). URLs are absolute, from ``ketsite.yaml``'s ``url``, as the sitemap protocol requires.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.site.routes import Route

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP, ROBOTS = "sitemap", "robots"


def sitemap_xml(ctx: object) -> bytes:
    config: SiteConfig = ctx.config  # type: ignore[attr-defined]
    pages = [r for r in ctx.routes.pages() if r.kind != "404"]  # type: ignore[attr-defined]
    urlset = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    for route in sorted(pages, key=lambda r: r.path):
        url = ET.SubElement(urlset, "url")
        ET.SubElement(url, "loc").text = config.absolute(route.url_path)
    ET.indent(urlset, space="  ")
    return ET.tostring(urlset, encoding="utf-8", xml_declaration=True) + b"\n"


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
    return [Route(SITEMAP, "", "sitemap.xml", ""), Route(ROBOTS, "", "robots.txt", "")]


def generate(route: Route, ctx: object) -> bytes:
    return sitemap_xml(ctx) if route.kind == SITEMAP else robots_txt(ctx)
