"""Pages of the indexes that would otherwise list the whole library, and their routes.

Which papers go on which page of the papers index, and which initial letters the authors index
splits into, are pure functions of the corpus and ``ketsite.yaml``'s ``pagination`` limits. They
are used twice: for the routes, before anything is rendered (so a clash with a paper or author page
is caught, and the sitemap knows every page), and by the view models to find what one page shows.

Papers pages keep whole years together (newest first, as the one-page index lists them); a year
with more papers than fit on one page is cut into runs of the limit, the later ones shown as
"(continued)". Page 1 stays at ``papers/index.html``; page *n* is ``papers/page/n/index.html``
(Hugo's and Pelican's scheme). The authors index becomes one page per initial letter at
``authors/letter/<letter>/index.html`` (``other`` for names that do not start with a letter).
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.model.names import slugify
from ketsite.site.routes import Route, entity_page_count


@dataclass(frozen=True)
class YearSlice:
    """Papers ``start:stop`` of one year (in library order) shown on one page."""

    year: int
    start: int
    stop: int


def paper_pages(counts: list[tuple[int, int]], limit: int) -> tuple[tuple[YearSlice, ...], ...]:
    """Pages of at most ``limit`` papers, whole years together when a year fits on one page.

    Greedy in year order, so adding a paper moves at most the years after it; always at least one
    page (an empty library still has an index).
    """
    pages: list[tuple[YearSlice, ...]] = []
    current: list[YearSlice] = []
    size = 0
    for year, n in counts:
        if size + n > limit and current:
            pages.append(tuple(current))
            current, size = [], 0
        if n <= limit:
            current.append(YearSlice(year, 0, n))
            size += n
            continue
        for start in range(0, n, limit):  # a year too big for any page: runs of `limit`
            stop = min(start + limit, n)
            if stop - start == limit:
                pages.append((YearSlice(year, start, stop),))
            else:
                current, size = [YearSlice(year, start, stop)], stop - start
    if current or not pages:
        pages.append(tuple(current))
    return tuple(pages)


#: The first page of each index, at a path that never changes. Every page links there (the menu),
#: while the route of that page carries the entries it lists, which change with the library: links
#: made from this path (``PageHelpers.index``) keep every page from depending on those entries.
FIRST_PAGES = {"papers": "papers/index.html", "authors": "authors/index.html"}


def page_ident(number: int) -> str:
    """The route ident of page ``number`` (1-based) of a paged index: "" for the first."""
    return "" if number == 1 else str(number)


def page_number(ident: str) -> int:
    return int(ident) if ident else 1


def papers_page_path(number: int) -> str:
    return FIRST_PAGES["papers"] if number == 1 else f"papers/page/{number}/index.html"


@functools.cache
def author_letter(family: str) -> str:
    """The A–Z heading of a family name: its first letter without accents, ``#`` for others.
    Memoised: it runs for every author at every build (a cheap cache, like ``slugify``'s). A name
    that starts with an ASCII letter starts its slug with it: no need to slugify it all (most names;
    a new process that resumes a build meets all of them)."""
    first = family[:1]
    if first.isascii() and first.isalpha():
        return first.upper()
    first = (slugify(family)[:1] or "#").upper()
    return first if first.isalpha() else "#"


def letter_ident(letter: str) -> str:
    """The route ident (and folder name) of a letter page: ``a``, …, ``other`` for ``#``."""
    return "other" if letter == "#" else letter.lower()


_FAMILY = attrgetter("name.family")


def authors_by_letter(corpus: Corpus) -> dict[str, list[str]]:
    """Author ids by initial letter, letters sorted (``#`` first), authors in library order."""
    letters: dict[str, list[str]] = defaultdict(list)
    authors = corpus.authors
    # the letters in one pass in C (map over the memoised author_letter): it runs at every rebuild
    for aid, letter in zip(authors, map(author_letter, map(_FAMILY, authors.values())),
                           strict=True):
        letters[letter].append(aid)
    return dict(sorted(letters.items()))


def authors_split(corpus: Corpus, config: SiteConfig) -> bool:
    """Whether the authors index is one page per letter (more authors than the limit)."""
    return len(corpus.authors) > config.pagination.authors


LETTERS = ("#", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # every heading author_letter can give


def _papers_by_year(corpus: Corpus) -> dict[int, list[str]]:
    years: dict[int, list[str]] = defaultdict(list)
    for key, paper in corpus.papers.items():
        years[paper.year].append(key)
    return dict(sorted(years.items(), reverse=True))


def index_routes(corpus: Corpus, config: SiteConfig,
                 letters: dict[str, list[str]] | None = None) -> list[Route]:
    """Every page of the papers and authors indexes, each with the entries it lists.
    ``letters``: :func:`authors_by_letter` of this corpus, when the caller kept it."""
    years = _papers_by_year(corpus)
    pages = paper_pages([(y, len(keys)) for y, keys in years.items()], config.pagination.papers)
    outline = tuple(tuple((s.year, s.start, s.stop) for s in page) for page in pages)
    routes = [
        Route("papers", page_ident(n), papers_page_path(n), "", "papers.html",
              tuple((str(s.year), tuple(years[s.year][s.start:s.stop])) for s in page), outline)
        for n, page in enumerate(pages, start=1)
    ]
    letters = letters if letters is not None else authors_by_letter(corpus)
    if not authors_split(corpus, config):
        groups = tuple((letter, tuple(ids)) for letter, ids in letters.items())
        return [*routes, Route("authors", "", FIRST_PAGES["authors"], "", "authors.html", groups)]
    routes.append(Route("authors", "", FIRST_PAGES["authors"], "", "authors.html"))
    for letter, ids in letters.items():
        ident = letter_ident(letter)
        routes.append(Route("authors", ident, f"authors/letter/{ident}/index.html", "",
                            "authors.html", ((letter, tuple(ids)),)))
    return routes


def page_count(corpus: Corpus, config: SiteConfig,
               enough: Callable[[int, int], bool] | None = None) -> int:
    """The number of HTML pages of the site (404 included), as ``index_routes`` and
    ``entity_routes`` make them, counted without making them: the sitemap must know how many
    files it needs before rendering.

    ``enough(low, high)``: whether any count in ``[low, high]`` will do for the caller; then
    one of them is returned without counting the letters of the authors index (a pass over
    every author, at each rebuild)."""
    years = Counter(p.year for p in corpus.papers.values())
    papers = len(paper_pages(sorted(years.items(), reverse=True), config.pagination.papers))
    known = entity_page_count(corpus) + papers + 1
    if not authors_split(corpus, config):
        return known
    if enough is not None and enough(known + 1, known + len(LETTERS)):
        return known + 1
    return known + len({author_letter(a.name.family) for a in corpus.authors.values()})
