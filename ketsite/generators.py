"""Files that are not HTML pages (feeds, exports, search index, sitemap), by route kind.

Each feature module contributes two things: ``routes(corpus, config)`` — its output paths, known
before rendering so collisions are caught — and a pure ``generate(route, ctx) -> bytes`` registered
here under its route kind. ``build`` never needs to know what the files are.

Files listing the whole library (graph, search index, library exports) are joins of one part per
paper; their generators also take the :class:`~ketsite.memo.Pieces` of a long-running process
(``PIECEWISE``), so after a one-paper edit only that paper's part is made again.
"""

from __future__ import annotations

from collections.abc import Callable

from ketsite import feed, graph, search, sitemap
from ketsite.config import SiteConfig
from ketsite.memo import Pieces
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

#: route kind → generator taking ``(route, ctx, pieces)``: made of per-paper parts.
PIECEWISE: dict[str, Callable[[Route, object, Pieces | None], bytes]] = {
    graph.KIND: graph.generate,
    search.KIND: search.generate,
    **{kind: exports.generate for kind in exports.FORMATS},
}


def in_parent(route: Route) -> bool:
    """Whether a parallel build renders ``route`` in the parent process, which keeps the pieces
    between builds (a worker would make them and exit): the files listing the whole library, and
    the search page, which links the index by a digest of it (one index per build). The export
    files of one paper, author, condition or review are small: workers make them."""
    return route.kind in (graph.KIND, search.KIND, "search") or (
        route.kind in exports.FORMATS and route.ident == "library")


#: route kind → the version of its file, a query on every link to it (``?v=``): files whose
#: name stays the same while their content changes, so browsers never keep a stale copy.
VERSIONS: dict[str, Callable[[object, Pieces | None], str]] = {search.KIND: search.version}

#: functions returning the extra routes of a feature.
ROUTE_PROVIDERS: list[Callable[[Corpus, SiteConfig], list[Route]]] = [
    sitemap.routes,
    feed.routes,
    graph.routes,
    search.routes,
]

#: functions returning files of each entity, made from nothing but what
#: :func:`ketsite.site.routes.entity_signature` holds (ids, slugs, source files) and the
#: configuration: a long-running process reuses them while those are unchanged.
ENTITY_ROUTE_PROVIDERS: list[Callable[[Corpus, SiteConfig], list[Route]]] = [
    exports.routes,
]


def extra_routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    routes: list[Route] = []
    for provider in ROUTE_PROVIDERS:
        routes.extend(provider(corpus, config))
    return routes


def entity_file_routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    routes: list[Route] = []
    for provider in ENTITY_ROUTE_PROVIDERS:
        routes.extend(provider(corpus, config))
    return routes


def generate(route: Route, ctx: object, pieces: Pieces | None = None) -> bytes:
    """The bytes of a generated file; ``pieces`` (kept by the caller between builds) lets the
    whole-library files reuse the parts of papers that did not change."""
    piecewise = PIECEWISE.get(route.kind)
    if piecewise is not None:
        return piecewise(route, ctx, pieces)
    return GENERATORS[route.kind](route, ctx)
