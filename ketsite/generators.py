"""Files that are not HTML pages (feeds, exports, search index, sitemap), by route kind.

Each feature module contributes two things: ``routes(corpus, config)`` — its output paths, known
before rendering so collisions are caught — and a pure ``generate(route, ctx) -> bytes`` registered
here under its route kind. ``build`` never needs to know what the files are.
"""

from __future__ import annotations

from collections.abc import Callable

from ketsite import feed, graph, search, sitemap
from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.scholarly import exports
from ketsite.site.routes import Route

Generator = Callable[[Route, object], bytes]  # (route, SiteContext) -> bytes

#: route kind → generator; feature modules add their kinds here.
GENERATORS: dict[str, Generator] = {
    sitemap.SITEMAP: sitemap.generate,
    sitemap.ROBOTS: sitemap.generate,
    sitemap.PART: sitemap.generate,
    feed.KIND: feed.generate,
    graph.KIND: graph.generate,
    search.KIND: search.generate,
    **{kind: exports.generate for kind in exports.FORMATS},
}

#: functions returning the extra routes of a feature.
ROUTE_PROVIDERS: list[Callable[[Corpus, SiteConfig], list[Route]]] = [
    sitemap.routes,
    feed.routes,
    graph.routes,
    search.routes,
    exports.routes,
]


def extra_routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    routes: list[Route] = []
    for provider in ROUTE_PROVIDERS:
        routes.extend(provider(corpus, config))
    return routes


def generate(route: Route, ctx: object) -> bytes:
    return GENERATORS[route.kind](route, ctx)
