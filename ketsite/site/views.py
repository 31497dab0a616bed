"""View models: what each template shows, computed from the corpus (no lookups in templates).

One function per page kind; each returns a frozen dataclass the template of that kind reads.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.model.entities import DESIGNS, Annotation, Author, Condition, Paper, Review
from ketsite.site.evidence import (
    ConditionEvidence,
    EvidenceMatrix,
    condition_evidence,
    evidence_matrix,
)
from ketsite.site.paging import LETTERS, letter_ident, page_ident, page_number, papers_page_path
from ketsite.site.routes import Route, RouteTable


@dataclass(frozen=True)
class YearGroup:
    year: int
    papers: tuple[Paper, ...]
    continued: bool = False  # the rest of a year begun on the previous page of the papers index


@dataclass(frozen=True)
class PaperView:
    paper: Paper
    annotation: Annotation | None
    conditions: tuple[Condition, ...]
    cited_in: tuple[tuple[Review, int], ...]  # reviews citing it, with its reference number
    cites: tuple[Paper, ...]
    cited_by: tuple[Paper, ...]
    review: Review | None  # set when this paper is one of the site's reviews


@dataclass(frozen=True)
class AuthorView:
    author: Author
    years: tuple[YearGroup, ...]
    paper_count: int
    coauthors: tuple[tuple[Author, int], ...]


@dataclass(frozen=True)
class ConditionView:
    condition: Condition
    reviews: tuple[Review, ...]
    papers: tuple[Paper, ...]
    years: tuple[YearGroup, ...]
    evidence: ConditionEvidence | None = None


@dataclass(frozen=True)
class SharedReference:
    paper: Paper
    reviews: tuple[Review, ...]


@dataclass(frozen=True)
class ReviewView:
    review: Review
    paper: Paper
    references: tuple[Paper, ...]
    citing: tuple[Paper, ...]
    conditions: tuple[Condition, ...]
    shared: tuple[SharedReference, ...]  # references this review shares with other reviews
    other_reviews: tuple[Review, ...]


@dataclass(frozen=True)
class HomeView:
    reviews: tuple[tuple[Review, Paper], ...]
    conditions: tuple[tuple[Condition, int], ...]
    latest: tuple[Paper, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class Letter:
    letter: str
    authors: tuple[tuple[Author, int], ...]


@dataclass(frozen=True)
class JumpLink:
    """One entry of an index's jump list (years, letters): to a heading on this page or on
    another page of the same index, or (no anchor) to another page itself."""

    label: str
    ident: str  # route ident of the page it is on
    anchor: str = ""
    count: int = 0
    path: str = ""  # output path of that page, when linked by path rather than by route


@dataclass(frozen=True)
class Pager:
    """Numbered pages of an index: ``idents[i]`` is the route of page ``i + 1``."""

    current: int  # 1-based
    idents: tuple[str, ...]
    labels: tuple[str, ...]  # what each page holds, e.g. "2019–2016"
    paths: tuple[str, ...] = ()  # output path of each page (linked by path: see Route.outline)

    @property
    def prev(self) -> str | None:
        return self.idents[self.current - 2] if self.current > 1 else None

    @property
    def next(self) -> str | None:
        return self.idents[self.current] if self.current < len(self.idents) else None

    @property
    def prev_path(self) -> str | None:
        return self.paths[self.current - 2] if self.current > 1 else None

    @property
    def next_path(self) -> str | None:
        return self.paths[self.current] if self.current < len(self.paths) else None


@dataclass(frozen=True)
class IndexView:
    years: tuple[YearGroup, ...] = ()
    letters: tuple[Letter, ...] = ()
    conditions: tuple[tuple[Condition, int], ...] = ()
    reviews: tuple[tuple[Review, Paper], ...] = ()
    total: int = 0
    matrix: EvidenceMatrix | None = None  # reviews index: every review × what it cites
    jump: tuple[JumpLink, ...] = ()
    pager: Pager | None = None  # papers index over its limit
    #: Over the page's limit, so it links to smaller pages instead of listing everything (the
    #: authors landing page, the reviews matrix, the search page's no-JavaScript list).
    shortened: bool = False
    letter: str = ""  # one letter page of a split authors index
    cells: int = 0  # reviews index: the cells the all-reviews matrix would have


def by_year(papers: list[Paper] | tuple[Paper, ...]) -> tuple[YearGroup, ...]:
    groups: dict[int, list[Paper]] = defaultdict(list)
    for paper in papers:
        groups[paper.year].append(paper)
    return tuple(YearGroup(y, tuple(groups[y])) for y in sorted(groups, reverse=True))


def paper_view(corpus: Corpus, key: str) -> PaperView:
    paper = corpus.papers[key]
    cited_in = []
    for rid in corpus.reviews_citing.get(key, ()):
        review = corpus.reviews[rid]
        cited_in.append((review, review.references.index(key) + 1))
    rid = corpus.review_of_paper.get(key)
    return PaperView(
        paper=paper,
        annotation=corpus.annotations.get(key),
        conditions=tuple(corpus.conditions[c] for c in corpus.conditions_by_paper.get(key, ())),
        cited_in=tuple(cited_in),
        cites=tuple(corpus.papers[k] for k in corpus.cites.get(key, ())),
        cited_by=tuple(corpus.papers[k] for k in corpus.cited_by.get(key, ())),
        review=corpus.reviews[rid] if rid else None,
    )


def author_view(corpus: Corpus, aid: str) -> AuthorView:
    papers = [corpus.papers[k] for k in corpus.papers_by_author.get(aid, ())]
    others, shared = corpus.coauthors.get(aid, ((), ()))
    return AuthorView(
        author=corpus.authors[aid],
        years=by_year(papers),
        paper_count=len(papers),
        coauthors=tuple(zip(map(corpus.authors.__getitem__, others), shared, strict=True)),
    )


def condition_view(corpus: Corpus, cid: str) -> ConditionView:
    keys = corpus.papers_by_condition.get(cid, ())
    reviews = tuple(
        corpus.reviews[corpus.review_of_paper[k]] for k in keys if k in corpus.review_of_paper
    )
    papers = tuple(corpus.papers[k] for k in keys)
    return ConditionView(corpus.conditions[cid], reviews, papers, by_year(papers),
                         condition_evidence(corpus, cid))


def review_view(corpus: Corpus, rid: str) -> ReviewView:
    review = corpus.reviews[rid]
    shared = []
    for key in review.references:
        others = [r for r in corpus.reviews_citing.get(key, ()) if r != rid]
        if others:
            shared.append(SharedReference(corpus.papers[key],
                                          tuple(corpus.reviews[r] for r in others)))
    return ReviewView(
        review=review,
        paper=corpus.papers[review.paper],
        references=tuple(corpus.papers[k] for k in review.references if k in corpus.papers),
        citing=tuple(corpus.papers[k] for k in review.citing if k in corpus.papers),
        conditions=tuple(corpus.conditions[c] for c in review.conditions if c in corpus.conditions),
        shared=tuple(shared),
        other_reviews=tuple(r for r in corpus.reviews.values() if r.id != rid),
    )


def _condition_counts(corpus: Corpus) -> tuple[tuple[Condition, int], ...]:
    return tuple(
        (c, len(corpus.papers_by_condition.get(c.id, ()))) for c in corpus.conditions.values()
    )


def home_view(corpus: Corpus) -> HomeView:
    return HomeView(
        reviews=tuple((r, corpus.papers[r.paper]) for r in corpus.reviews.values()),
        conditions=_condition_counts(corpus),
        latest=tuple(list(corpus.papers.values())[:8]),
        counts={
            "reviews": len(corpus.reviews),
            "papers": len(corpus.papers),
            "authors": len(corpus.authors),
            "conditions": len(corpus.conditions),
            "annotated": len(corpus.annotations),
        },
    )


def _index_pages(routes: RouteTable, kind: str, idents: Iterable[str]) -> list[Route]:
    """The pages of a paged index that exist, in order. Read route by route (never the whole
    table, nor the whole corpus), so a page depends on what the other pages list, and a page
    appearing or vanishing is seen."""
    return [routes.get(kind, i) for i in idents if routes.has(kind, i)]


def _papers_index(corpus: Corpus, route: Route) -> IndexView:
    """One page of the papers index: its own papers from its route, everything about the other
    pages (pager, year list, total) from the route's outline, linked by path."""
    number = page_number(route.ident)
    first_slice = route.outline[number - 1][0] if route.outline[number - 1:] and \
        route.outline[number - 1] else None
    shown = tuple(
        YearGroup(int(year), tuple(corpus.papers[k] for k in keys),
                  continued=i == 0 and first_slice is not None and first_slice[1] > 0)
        for i, (year, keys) in enumerate(route.groups)
    )
    jump: dict[str, JumpLink] = {}
    for n, page in enumerate(route.outline, start=1):
        for year, _, _ in page:
            jump.setdefault(str(year), JumpLink(str(year), page_ident(n), f"y{year}",
                                                path=papers_page_path(n)))
    total = sum(stop - start for page in route.outline for _, start, stop in page)
    if len(route.outline) <= 1:
        return IndexView(years=shown, total=total, jump=tuple(jump.values()))
    labels = tuple(
        (str(p[0][0]) if p[0][0] == p[-1][0] else f"{p[0][0]}–{p[-1][0]}") if p else ""
        for p in route.outline)
    count = len(route.outline)
    pager = Pager(number, tuple(page_ident(n) for n in range(1, count + 1)), labels,
                  tuple(papers_page_path(n) for n in range(1, count + 1)))
    return IndexView(years=shown, total=total, jump=tuple(jump.values()), pager=pager)


def _authors_index(corpus: Corpus, route: Route, routes: RouteTable) -> IndexView:
    letters = tuple(
        Letter(letter, tuple((corpus.authors[aid], len(corpus.papers_by_author.get(aid, ())))
                             for aid in ids))
        for letter, ids in route.groups
    )
    pages = _index_pages(routes, "authors", (letter_ident(k) for k in LETTERS))
    if not pages:  # one page, every letter a heading on it
        return IndexView(letters=letters, total=sum(len(ids) for _, ids in route.groups),
                         jump=tuple(JumpLink(k, route.ident, f"l-{k}") for k, _ in route.groups))
    jump = tuple(JumpLink(p.groups[0][0], p.ident, count=len(p.groups[0][1])) for p in pages)
    total = sum(j.count for j in jump)
    if not route.ident:  # the landing page: the letters, each a page
        return IndexView(total=total, jump=jump, shortened=True)
    return IndexView(letters=letters, total=total, jump=jump, letter=route.groups[0][0])


def _reviews_index(corpus: Corpus, config: SiteConfig) -> IndexView:
    reviews = tuple((r, corpus.papers[r.paper]) for r in corpus.reviews.values())
    cited = {k for r in corpus.reviews.values() for k in r.references if k in corpus.papers}
    cells = len(cited) * len(corpus.reviews)
    if cells <= config.pagination.matrix_cells:
        return IndexView(reviews=reviews, total=len(corpus.reviews), cells=cells,
                         matrix=evidence_matrix(corpus, tuple(corpus.reviews)))
    covered = Counter(c for r in corpus.reviews.values() for c in r.conditions)
    conditions = tuple((c, covered[cid]) for cid, c in corpus.conditions.items() if covered[cid])
    return IndexView(reviews=reviews, total=len(corpus.reviews), cells=cells, shortened=True,
                     conditions=conditions)


def index_view(corpus: Corpus, route: Route, config: SiteConfig,
               routes: RouteTable) -> IndexView:
    kind = route.kind
    if kind == "papers":
        return _papers_index(corpus, route)
    if kind == "authors":
        return _authors_index(corpus, route, routes)
    if kind == "conditions":
        return IndexView(conditions=_condition_counts(corpus), total=len(corpus.conditions))
    if kind == "reviews":
        return _reviews_index(corpus, config)
    if kind == "search":
        listed = len(corpus.papers) + len(corpus.authors)
        return IndexView(total=listed, shortened=listed > config.pagination.search)
    return IndexView()


def view_for(route: Route, corpus: Corpus, config: SiteConfig, routes: RouteTable) -> object:
    """The view model of a page route."""
    if route.kind == "paper":
        return paper_view(corpus, route.ident)
    if route.kind == "author":
        return author_view(corpus, route.ident)
    if route.kind == "condition":
        return condition_view(corpus, route.ident)
    if route.kind == "review":
        return review_view(corpus, route.ident)
    if route.kind == "home":
        return home_view(corpus)
    return index_view(corpus, route, config, routes)


DESIGN_ORDER = {d: i for i, d in enumerate(DESIGNS)}
