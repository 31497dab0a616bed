"""Routes: one per output file, derived from the corpus before anything is rendered.

A route stores its output path; its URL and every link to it derive from that (MkDocs' Files). Two
routes at one path — also ignoring case, as macOS and Netlify do — are fatal and name both sources.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from itertools import repeat
from operator import attrgetter
from typing import NamedTuple

from ketsite.diagnostics import Diagnostics, SourceLocation
from ketsite.model.corpus import Corpus


class LinkStyle(Enum):
    """``pretty`` links end in ``folder/`` (a web server adds index.html); ``files`` name the file,
    which is what a browser opening ``file://`` needs."""

    PRETTY = "pretty"
    FILES = "files"


class Route(NamedTuple):
    """One output file. A named tuple rather than a dataclass: a site of ten thousand papers has
    over a hundred thousand routes (pages and their export files), made on every build."""

    kind: str
    ident: str
    path: str  # output path relative to the site root, with forward slashes
    source: str  # the source file it comes from ("" for generated pages)
    template: str | None = None  # None for files that are not rendered from a template
    #: A page of an index (``site/paging.py``): its headings with the ids listed under each
    #: (years → paper keys, letters → author ids). Part of the route, so the page reads only the
    #: entries it lists, and a change of what a page lists re-renders exactly the pages concerned.
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Every page of a paged papers index: (year, start, stop) of the year's papers each shows —
    #: the same on every page. Pagers and year lists are drawn from it (no page reads another
    #: page's route), so moving a paper within its page re-renders that page alone.
    outline: tuple[tuple[tuple[int, int, int], ...], ...] = ()

    @property
    def url_path(self) -> str:
        """The path as a public URL below the site root: ``papers/x/`` for
        ``papers/x/index.html``."""
        if self.path == "index.html":
            return ""
        if self.path.endswith("/index.html"):
            return self.path[: -len("index.html")]
        return self.path


@dataclass(frozen=True)
class RouteTable:
    routes: dict[tuple[str, str], Route]
    #: The lists the table was made from, in order (the entities' pages, the other routes, the
    #: entities' files): a rebuild that kept the entities' routes passes the very same lists, so
    #: comparing two tables compares only the lists that are not the same objects.
    segments: tuple[list[Route], ...] = field(default=(), compare=False, repr=False)

    def get(self, kind: str, ident: str = "") -> Route:
        return self.routes[(kind, ident)]

    def has(self, kind: str, ident: str = "") -> bool:
        return (kind, ident) in self.routes

    def pages(self) -> list[Route]:
        return [r for r in self.routes.values() if r.template is not None]

    @functools.cached_property
    def paths(self) -> list[str]:
        """Every route's path, in order."""
        return [r.path for r in self.routes.values()]

    @functools.cached_property
    def page_paths(self) -> list[tuple[tuple[str, str], str]]:
        """Key and path of every page, in order: what the sitemap lists. Made once per table
        (each rebuild compares the new table's with the previous one's)."""
        return [(key, r.path) for key, r in self.routes.items() if r.template is not None]


def routes_of(table: Mapping[tuple[str, str], Route], kind: str,
              idents: Iterable[str]) -> Iterator[Route]:
    """The routes of ``kind`` for ``idents`` in ``table`` (``RouteTable.routes``), looked up in C:
    the files listing the whole library ask for tens of thousands at each rebuild."""
    return map(table.__getitem__, zip(repeat(kind), idents))


def relpath(to_path: str, base: str) -> str:
    """``posixpath.relpath(to_path, base or ".")`` for normalised site-relative paths.

    Every link of every page goes through here (tens of links per page, a hundred thousand pages),
    and ``posixpath.relpath`` makes both paths absolute through the file system's current folder
    first; this compares path components only.
    """
    if not base:
        return to_path
    bparts = base.split("/")
    tparts = to_path.split("/")
    common = 0
    for b, t in zip(bparts, tparts, strict=False):
        if b != t:
            break
        common += 1
    rel = "/".join([".."] * (len(bparts) - common) + tparts[common:])
    return rel or "."


def relative_href(from_path: str, to_path: str, style: LinkStyle) -> str:
    """The link from the page at ``from_path`` to the file at ``to_path``, both site-relative."""
    return _styled(relpath(to_path, posixpath.dirname(from_path)), style)


def _styled(rel: str, style: LinkStyle) -> str:
    if style is LinkStyle.PRETTY and (rel == "index.html" or rel.endswith("/index.html")):
        rel = rel[: -len("index.html")] or "./"
    return rel


class Hrefs:
    """``relative_href`` from one page, its folder taken apart once rather than for each of its
    links (some twenty a page): a link is the way up to the deepest of the page's folders that
    holds the target, then the target's path below it."""

    __slots__ = ("_folders", "_prefixes", "_base", "_style", "_up")

    def __init__(self, from_path: str, style: LinkStyle) -> None:
        self._base = posixpath.dirname(from_path)
        parts = self._base.split("/") if self._base else []
        #: the page's folders, deepest first, as ("authors/x/", "") and ("authors/", "../")
        self._prefixes = [("/".join(parts[:n]) + "/", "../" * (len(parts) - n))
                          for n in range(len(parts), 0, -1)]
        self._folders = {prefix[:-1] for prefix, _up in self._prefixes}
        self._up = "../" * len(parts)
        self._style = style

    def __call__(self, to_path: str) -> str:
        up, below = self._up, to_path
        for prefix, prefix_up in self._prefixes:
            if to_path.startswith(prefix):
                up, below = prefix_up, to_path[len(prefix):]
                break
        if not below or to_path in self._folders:  # a folder, not a file: as relpath has it
            return _styled(relpath(to_path, self._base), self._style)
        return _styled(up + below, self._style)


#: The pages every site has, whatever its corpus.
SITE_PAGES = (
    Route("home", "", "index.html", "", "home.html"),
    Route("conditions", "", "conditions/index.html", "", "conditions.html"),
    Route("reviews", "", "reviews/index.html", "", "reviews.html"),
    Route("search", "", "search/index.html", "", "search.html"),
    Route("legend", "", "evidence-legend/index.html", "", "legend.html"),
    Route("404", "", "404.html", "", "404.html"),
)


def entity_page_count(corpus: Corpus) -> int:
    """``len(entity_routes(corpus))`` without making 40,000 routes (the sitemap needs it at every
    build, an incremental one too): the site's own pages and one per entity."""
    return len(SITE_PAGES) + sum(
        len(m) for m in (corpus.papers, corpus.authors, corpus.conditions, corpus.reviews))


def _entity_routes(corpus: Corpus) -> list[Route]:
    routes = list(SITE_PAGES)
    # Papers by key, not in library order (year, then title): editing a title must not reorder
    # the route table, which whatever lists every page (the sitemap) reads as a whole.
    papers = corpus.papers
    for key in sorted(papers):
        paper = papers[key]
        annotation = corpus.annotations.get(key)
        source = annotation.loc.path if annotation else paper.loc.path
        routes.append(Route("paper", key, f"papers/{paper.slug}/index.html", source, "paper.html"))
    for aid, author in corpus.authors.items():
        routes.append(
            Route("author", aid, f"authors/{aid}/index.html", author.loc.path, "author.html"))
    for cid, condition in corpus.conditions.items():
        routes.append(
            Route("condition", cid, f"conditions/{cid}/index.html", condition.loc.path,
                  "condition.html")
        )
    for rid, review in corpus.reviews.items():
        routes.append(
            Route("review", rid, f"reviews/{rid}/index.html", review.loc.path, "review.html"))
    return routes


def entity_routes(corpus: Corpus) -> list[Route]:
    """The page routes of the corpus alone, for generators that must know page paths before the
    route table exists (e.g. to fingerprint a search index that names them). The papers and
    authors indexes, which depend on the configuration too, are ``site.paging.index_routes``."""
    return _entity_routes(corpus)


def entity_signature(corpus: Corpus, kept: EntityRoutes | None = None) -> tuple[object, ...]:
    """What the routes of the entities are made from — ids, slugs, source files, which authors
    have a single paper — and nothing else: the routes of every paper, author, condition and
    review (their pages and export files) are the same as long as this is. Papers by key: a
    title edit reorders the library, not this.

    With ``kept``, the authors' part is taken from the last build when ``corpus.authors`` is the
    very object it was made from: the model keeps that object while the credits of all papers
    and the author files are equal (``model.corpus.CorpusCache``), and then the number of papers
    of each author is the same too."""
    papers, annotations = corpus.papers, corpus.annotations
    keys = sorted(papers)
    by_key = [papers[k] for k in keys]
    if kept is not None and kept.authors is corpus.authors and kept.authors_part is not None:
        authors_part = kept.authors_part
    else:
        authors = list(corpus.authors)
        authors_part = (
            authors,
            list(map(attrgetter("loc.path"), corpus.authors.values())),
            # an author of one paper has no export files of their own (exports.own_files)
            list(map(len, map(corpus.papers_by_author.get, authors, repeat(())))),
        )
        if kept is not None:
            kept.authors, kept.authors_part = corpus.authors, authors_part
    return (
        keys,
        list(map(attrgetter("slug"), by_key)),
        list(map(attrgetter("loc.path"), by_key)),
        sorted(zip(annotations, map(attrgetter("loc.path"), annotations.values()), strict=True)),
        authors_part,
        # a condition with no papers has no export files (exports.own_files)
        [(k, c.loc.path, bool(corpus.papers_by_condition.get(k)))
         for k, c in corpus.conditions.items()],
        [(k, r.loc.path) for k, r in corpus.reviews.items()],
    )


@dataclass
class EntityRoutes:
    """The routes of the entities at the last build, kept by a long-running process (``serve``):
    making them is ten times :func:`entity_signature`, and most edits (a title, an abstract, a
    condition's text) leave the signature as it was."""

    signature: tuple[object, ...] | None = None
    pages: list[Route] | None = None
    files: list[Route] | None = None
    authors: object = None  # the corpus.authors the authors' part of the signature was made from
    authors_part: tuple[list[object], ...] | None = None
    letters_of: object = None  # the corpus.authors ``letters`` was made from
    letters: dict[str, list[str]] | None = None

    def authors_by_letter(self, corpus: Corpus) -> dict[str, list[str]]:
        """``paging.authors_by_letter(corpus)``, made again only when ``corpus.authors`` is not
        the object it was made from (a pass over every author's name: 0.05 s at 28,000)."""
        from ketsite.site.paging import authors_by_letter

        if self.letters is None or self.letters_of is not corpus.authors:
            self.letters, self.letters_of = authors_by_letter(corpus), corpus.authors
        return self.letters


def _defined_at(route: Route, corpus: Corpus) -> SourceLocation | None:
    """Where the thing a route shows was written: the BibTeX entry of a paper, else its file."""
    if route.kind == "paper" and route.ident in corpus.papers:
        return corpus.papers[route.ident].loc
    if route.kind == "author" and route.ident in corpus.authors:
        author = corpus.authors[route.ident]
        return author.loc if author.loc.path != "bib" else None
    return SourceLocation(route.source) if route.source else None


def _outline(segment: list[Route]) -> list[tuple[str, str, str, bool]]:
    return [(r.kind, r.ident, r.path, r.template is None) for r in segment]


def _successor(previous: RouteTable, segments: tuple[list[Route], ...]) -> RouteTable | None:
    """The new table as an update of ``previous``, when the lists it was made from are the same
    objects but for a few short ones whose routes keep their keys, paths and order (an edit
    that reorders an index page): the table, its paths and its pages then come from
    ``previous`` with those routes replaced, not from a pass over every route. Else None."""
    if len(previous.segments) != len(segments):
        return None
    changed = [(old, new) for old, new in zip(previous.segments, segments, strict=True)
               if old is not new]
    if any(len(old) > 10_000 or _outline(old) != _outline(new) for old, new in changed):
        return None
    table = dict(previous.routes)
    for _, new in changed:
        for route in new:
            table[(route.kind, route.ident)] = route
    result = RouteTable(table, segments)
    # same keys, paths and kinds in the same order: the same paths and pages (cached properties)
    result.__dict__["paths"] = previous.paths
    result.__dict__["page_paths"] = previous.page_paths
    return result


def _file_as_folder(routes: list[Route], first_at: dict[str, Route], corpus: Corpus,
                    diags: Diagnostics) -> None:
    """An error where one route's file is another's folder (a paper keyed ``index.html`` would
    write ``papers/index.html/index.html`` where the papers index is ``papers/index.html``): the
    build could write only one of them."""
    folders: dict[str, Route] = {}  # every folder of the site (case folded) → a route inside it
    for route in routes:
        path = route.path.lower()
        cut = path.rfind("/")
        while cut > 0 and path[:cut] not in folders:  # a folder's parents are in already
            folders[path[:cut]] = route
            cut = path.rfind("/", 0, cut)
    for folded, route in first_at.items():
        inner = folders.get(folded)
        if inner is None:
            continue
        placed = sorted(((_defined_at(r, corpus), r) for r in (route, inner)),
                        key=lambda lr: (lr[0] is None, lr[0] or SourceLocation("")))
        diags.error(placed[0][0] or SourceLocation("ketsite.yaml"),
                    f"{_named(route)} is the file '{route.path}', which {_named(inner)} needs as "
                    f"a folder (for '{inner.path}'); rename one")


def _named(route: Route) -> str:
    return f"{route.kind} '{route.ident}'" if route.ident else f"the site's {route.kind} page"


def build_routes(corpus: Corpus, segments: tuple[list[Route], ...], diags: Diagnostics,
                 previous: RouteTable | None = None) -> RouteTable:
    """The table of every route of the site, given in ``segments`` (lists, see
    :attr:`RouteTable.segments`); a path claimed twice is an error naming every claimant.

    ``previous``: the table of the last successful build of this project. When the new table
    has the same paths in the same order (an edit that moves no page), it cannot clash, and the
    check — a case-folded look-up per route, most of a rebuild's route planning — is skipped."""
    if previous is not None:
        kept = _successor(previous, segments)
        if kept is not None:
            return kept
    routes = [route for segment in segments for route in segment]
    table = {(route.kind, route.ident): route for route in routes}
    result = RouteTable(table, segments)
    if previous is not None and len(table) == len(routes) and result.paths == previous.paths:
        return result
    first_at: dict[str, Route] = {}
    by_path: dict[str, list[Route]] = {}  # only the paths claimed more than once
    for route in routes:
        folded = route.path.lower()
        first = first_at.setdefault(folded, route)
        if first is not route:
            by_path.setdefault(folded, [first]).append(route)
    _file_as_folder(routes, first_at, corpus, diags)
    clashes = sorted(
        by_path.values(),
        key=lambda cs: (not any(r.template for r in cs), cs[0].path.lower()),
    )
    folders: set[str] = set()  # where pages clash, every file beside them clashes too: say it once
    for claimants in clashes:
        folder = posixpath.dirname(claimants[0].path.lower())
        is_page = any(r.template for r in claimants)
        if not is_page and folder in folders:
            continue
        if is_page and folder:
            folders.add(folder)
        placed = sorted(
            ((_defined_at(r, corpus), r) for r in claimants),
            key=lambda lr: (lr[0] is None, lr[0] or SourceLocation(""), lr[1].kind, lr[1].ident),
        )
        names = "; ".join(
            f"{r.kind} '{r.ident}' ({loc or 'the site itself'})" for loc, r in placed
        )
        first = placed[0][0] or SourceLocation("ketsite.yaml")
        what = "pages" if is_page else "files"
        diags.error(
            first,
            f"{len(claimants)} {what} would be written to '{claimants[0].path}' "
            f"(paths compared ignoring case, as on macOS and Netlify): {names}; "
            "rename all but one",
        )
    return result
