"""Evidence views: the evidence table, the matrix of evidence and the data behind the charts.

Like Epistemonikos' matrix, the matrix crosses reviews with the papers they cite, so a reader sees
at a glance which studies several reviews rely on and where a review leaves gaps. Everything here
is a pure function of the corpus and returns frozen dataclasses in a fixed order, so pages (and the
SVG charts drawn from them) are byte-identical between builds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ketsite.model.corpus import Corpus
from ketsite.model.entities import DESIGNS, DIRECTIONS, Annotation, Paper, Review

DESIGN_RANK = {d: i for i, d in enumerate(DESIGNS)}
NOT_ANNOTATED = "Not annotated"
NOT_RECORDED = "Not recorded"


@dataclass(frozen=True)
class EvidenceRow:
    paper: Paper
    annotation: Annotation | None

    @property
    def design(self) -> str | None:
        return self.annotation.design if self.annotation else None

    @property
    def direction(self) -> str | None:
        return self.annotation.direction if self.annotation else None

    @property
    def design_rank(self) -> int:
        """Position of the design in :data:`DESIGNS` (strongest first); unknown designs last."""
        return DESIGN_RANK.get(self.design or "", len(DESIGNS))


def evidence_rows(corpus: Corpus, keys: tuple[str, ...]) -> tuple[EvidenceRow, ...]:
    """Papers by design strength, then newest first, then title."""
    rows = [EvidenceRow(corpus.papers[k], corpus.annotations.get(k)) for k in keys]
    return tuple(sorted(rows, key=lambda r: (r.design_rank, -r.paper.year,
                                             r.paper.title.lower(), r.paper.key)))


@dataclass(frozen=True)
class MatrixCell:
    review: Review
    number: int | None  # the paper's number in the review's reference list; None: not cited
    is_self: bool = False  # the row is the review's own paper


@dataclass(frozen=True)
class MatrixRow:
    paper: Paper
    cells: tuple[MatrixCell, ...]

    @property
    def count(self) -> int:
        return sum(1 for c in self.cells if c.number is not None)


@dataclass(frozen=True)
class EvidenceMatrix:
    """Cited papers (rows) × reviews (columns): many papers read better down the page."""

    reviews: tuple[tuple[Review, Paper], ...]
    rows: tuple[MatrixRow, ...]

    @property
    def shared(self) -> tuple[MatrixRow, ...]:
        return tuple(r for r in self.rows if r.count > 1)


def evidence_matrix(corpus: Corpus, review_ids: tuple[str, ...]) -> EvidenceMatrix:
    """Every paper cited by one of the reviews; the ones cited by most reviews first, then in
    library order (newest first)."""
    reviews = tuple(corpus.reviews[r] for r in review_ids)
    numbers = [{key: i for i, key in enumerate(r.references, start=1)} for r in reviews]
    order = {k: i for i, k in enumerate(corpus.papers)}
    cited = {k for r in reviews for k in r.references if k in corpus.papers}
    rows = []
    for key in cited:
        cells = tuple(
            MatrixCell(review, numbers[i].get(key), is_self=review.paper == key)
            for i, review in enumerate(reviews)
        )
        rows.append(MatrixRow(corpus.papers[key], cells))
    rows.sort(key=lambda r: (-r.count, order[r.paper.key]))
    return EvidenceMatrix(tuple((r, corpus.papers[r.paper]) for r in reviews), tuple(rows))


@dataclass(frozen=True)
class YearCount:
    year: int
    count: int


def papers_per_year(papers: tuple[Paper, ...] | list[Paper]) -> tuple[YearCount, ...]:
    """One entry per year from the first to the last, zeros included, so gaps show."""
    if not papers:
        return ()
    counts = Counter(p.year for p in papers)
    return tuple(YearCount(y, counts.get(y, 0)) for y in range(min(counts), max(counts) + 1))


@dataclass(frozen=True)
class DesignBar:
    design: str | None  # None: not annotated with a design
    label: str
    #: (direction id or None for "not recorded", label, count), in DIRECTIONS order, zeros left out
    segments: tuple[tuple[str | None, str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.segments)


def designs_by_direction(rows: tuple[EvidenceRow, ...]) -> tuple[DesignBar, ...]:
    """How many papers of each design (strongest first) point in each direction."""
    counts: Counter[tuple[str | None, str | None]] = Counter((r.design, r.direction) for r in rows)
    bars = []
    for design in (*DESIGNS, None):
        segments = tuple(
            (direction, DIRECTIONS[direction][0] if direction else NOT_RECORDED, n)
            for direction in (*DIRECTIONS, None)
            if (n := counts.get((design, direction), 0))
        )
        if segments:
            label = DESIGNS[design][0] if design else NOT_ANNOTATED
            bars.append(DesignBar(design, label, segments))
    return tuple(bars)


@dataclass(frozen=True)
class ConditionEvidence:
    rows: tuple[EvidenceRow, ...]
    matrix: EvidenceMatrix
    years: tuple[YearCount, ...]
    designs: tuple[DesignBar, ...]


def condition_evidence(corpus: Corpus, cid: str) -> ConditionEvidence:
    keys = corpus.papers_by_condition.get(cid, ())
    rows = evidence_rows(corpus, keys)
    review_ids = tuple(rid for rid, review in corpus.reviews.items() if review.paper in keys)
    return ConditionEvidence(
        rows=rows,
        matrix=evidence_matrix(corpus, review_ids),
        years=papers_per_year([r.paper for r in rows]),
        designs=designs_by_direction(rows),
    )
