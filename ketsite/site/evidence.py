"""Evidence views: the evidence table, the matrix of evidence and the data behind the charts.

Like Epistemonikos' matrix, the matrix crosses reviews with the papers they cite, so a reader sees
at a glance which studies several reviews rely on and where a review leaves gaps. Everything here
is a pure function of the corpus and returns frozen dataclasses in a fixed order, so pages (and the
SVG charts drawn from them) are byte-identical between builds.

A condition of a large library lists thousands of papers, and its matrix has a cell for every
(cited paper, review): what the templates would otherwise work out again for every row or cell —
bylines, column labels, counts, the shared rows — is worked out here once.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

from ketsite.model.corpus import Corpus, library_order
from ketsite.model.entities import DESIGNS, DIRECTIONS, Annotation, Paper, Review

DESIGN_RANK = {d: i for i, d in enumerate(DESIGNS)}
NOT_ANNOTATED = "Not annotated"
NOT_RECORDED = "Not recorded"


def first_author(paper: Paper) -> str:
    """``Smith 2020``, ``Smith & Jones 2020``, ``Smith et al. 2020``: the byline of a paper in a
    table row, by the rule the cite labels and the search results follow."""
    authors = paper.authors
    if not authors:
        return str(paper.year)
    if len(authors) == 2:
        return f"{authors[0].name.family} & {authors[1].name.family} {paper.year}"
    etal = " et al." if len(authors) > 2 else ""
    return f"{authors[0].name.family}{etal} {paper.year}"


def review_label(paper: Paper) -> str:
    """``Smith 2020``: a review (by its paper) as a matrix column is headed."""
    if not paper.authors:
        return str(paper.year)
    return f"{paper.authors[0].name.family} {paper.year}"


@dataclass(frozen=True)
class EvidenceRow:
    paper: Paper
    annotation: Annotation | None

    @property
    def byline(self) -> str:
        return first_author(self.paper)

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
    label: str = ""  # the review's column heading (review_label), as the cell's text says it


@dataclass(frozen=True)
class MatrixRow:
    paper: Paper
    cells: tuple[MatrixCell, ...]
    count: int  # reviews citing the paper
    byline: str  # first_author(paper)
    #: the cells as runs: (start, end, cell) = the gaps in columns start…end-1, then ``cell``
    #: (cited, or the review's own paper) in column ``end``, or None at the end of the row
    runs: tuple[tuple[int, int, MatrixCell | None], ...]


@dataclass(frozen=True)
class MatrixColumn:
    review: Review
    paper: Paper  # the review's own paper
    label: str  # review_label(paper)


@dataclass(frozen=True)
class EvidenceMatrix:
    """Cited papers (rows) × reviews (columns): many papers read better down the page."""

    reviews: tuple[tuple[Review, Paper], ...]
    rows: tuple[MatrixRow, ...]
    columns: tuple[MatrixColumn, ...]  # the reviews again, with their headings

    @functools.cached_property
    def shared(self) -> tuple[MatrixRow, ...]:
        """Rows cited by more than one review (a page asks several times: counted once)."""
        return tuple(r for r in self.rows if r.count > 1)


def _runs(cells: tuple[MatrixCell, ...]) -> tuple[tuple[int, int, MatrixCell | None], ...]:
    """Most cells are gaps (a paper is cited by one review of many): the template writes a run of
    gaps as one join of strings made once per column, not cell by cell."""
    runs: list[tuple[int, int, MatrixCell | None]] = []
    start = 0
    for i, cell in enumerate(cells):
        if cell.number is not None or cell.is_self:
            runs.append((start, i, cell))
            start = i + 1
    runs.append((start, len(cells), None))
    return tuple(runs)


def evidence_matrix(corpus: Corpus, review_ids: tuple[str, ...]) -> EvidenceMatrix:
    """Every paper cited by one of the reviews; the ones cited by most reviews first, then in
    library order (newest first)."""
    reviews = tuple(corpus.reviews[r] for r in review_ids)
    columns = tuple(MatrixColumn(r, corpus.papers[r.paper], review_label(corpus.papers[r.paper]))
                    for r in reviews)
    numbers = [{key: i for i, key in enumerate(r.references, start=1)} for r in reviews]
    cited = {k for r in reviews for k in r.references if k in corpus.papers}
    rows = []
    for key in cited:
        nums = [n.get(key) for n in numbers]
        cells = tuple(
            MatrixCell(col.review, nums[i], col.review.paper == key, col.label)
            for i, col in enumerate(columns)
        )
        paper = corpus.papers[key]
        rows.append(MatrixRow(paper, cells, len(nums) - nums.count(None), first_author(paper),
                              _runs(cells)))
    rows.sort(key=lambda r: (-r.count, library_order(r.paper)))
    return EvidenceMatrix(tuple((c.review, c.paper) for c in columns), tuple(rows), columns)


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
    on_it = set(keys)
    review_ids = tuple(rid for rid, review in corpus.reviews.items() if review.paper in on_it)
    return ConditionEvidence(
        rows=rows,
        matrix=evidence_matrix(corpus, review_ids),
        years=papers_per_year([r.paper for r in rows]),
        designs=designs_by_direction(rows),
    )
