"""View models: what each template shows, computed from the corpus (no lookups in templates).

One function per page kind; each returns a frozen dataclass the template of that kind reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ketsite.model.corpus import Corpus
from ketsite.model.entities import DESIGNS, Annotation, Author, Condition, Paper, Review
from ketsite.model.names import slugify
from ketsite.site.evidence import (
    ConditionEvidence,
    EvidenceMatrix,
    condition_evidence,
    evidence_matrix,
)
from ketsite.site.routes import Route


@dataclass(frozen=True)
class YearGroup:
    year: int
    papers: tuple[Paper, ...]


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
class IndexView:
    years: tuple[YearGroup, ...] = ()
    letters: tuple[Letter, ...] = ()
    conditions: tuple[tuple[Condition, int], ...] = ()
    reviews: tuple[tuple[Review, Paper], ...] = ()
    total: int = 0
    matrix: EvidenceMatrix | None = None  # reviews index: every review × what it cites


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
    return AuthorView(
        author=corpus.authors[aid],
        years=by_year(papers),
        paper_count=len(papers),
        coauthors=tuple((corpus.authors[a], n) for a, n in corpus.coauthors.get(aid, ())),
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
            shared.append(SharedReference(corpus.papers[key], tuple(corpus.reviews[r] for r in others)))
    return ReviewView(
        review=review,
        paper=corpus.papers[review.paper],
        references=tuple(corpus.papers[k] for k in review.references if k in corpus.papers),
        citing=tuple(corpus.papers[k] for k in review.citing if k in corpus.papers),
        conditions=tuple(corpus.conditions[c] for c in review.conditions if c in corpus.conditions),
        shared=tuple(shared),
        other_reviews=tuple(r for r in corpus.reviews.values() if r.id != rid),
    )


def home_view(corpus: Corpus) -> HomeView:
    return HomeView(
        reviews=tuple((r, corpus.papers[r.paper]) for r in corpus.reviews.values()),
        conditions=tuple(
            (c, len(corpus.papers_by_condition.get(c.id, ()))) for c in corpus.conditions.values()
        ),
        latest=tuple(list(corpus.papers.values())[:8]),
        counts={
            "reviews": len(corpus.reviews),
            "papers": len(corpus.papers),
            "authors": len(corpus.authors),
            "conditions": len(corpus.conditions),
            "annotated": len(corpus.annotations),
        },
    )


def index_view(corpus: Corpus, kind: str) -> IndexView:
    if kind == "papers":
        return IndexView(years=by_year(tuple(corpus.papers.values())), total=len(corpus.papers))
    if kind == "authors":
        letters: dict[str, list[tuple[Author, int]]] = defaultdict(list)
        for aid, author in corpus.authors.items():
            first = (slugify(author.name.family)[:1] or "#").upper()
            letter = first if first.isalpha() else "#"
            letters[letter].append((author, len(corpus.papers_by_author.get(aid, ()))))
        return IndexView(
            letters=tuple(Letter(k, tuple(v)) for k, v in sorted(letters.items())),
            total=len(corpus.authors),
        )
    if kind == "conditions":
        return IndexView(conditions=home_view(corpus).conditions, total=len(corpus.conditions))
    if kind == "reviews":
        return IndexView(reviews=home_view(corpus).reviews, total=len(corpus.reviews),
                         matrix=evidence_matrix(corpus, tuple(corpus.reviews)))
    return IndexView()


def view_for(route: Route, corpus: Corpus) -> object:
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
    return index_view(corpus, route.kind)


DESIGN_ORDER = {d: i for i, d in enumerate(DESIGNS)}
