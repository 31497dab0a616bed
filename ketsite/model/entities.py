"""The entities of an evidence site, as frozen dataclasses linked by ids.

Papers are keyed by their BibTeX key, conditions and reviews by their file name, authors by a slug
derived from their name (or their override file). Every entity remembers where it was defined so a
later check can point at it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ketsite.diagnostics import SourceLocation
from ketsite.model.languages import bcp47

DESIGNS: dict[str, tuple[str, str]] = {
    # id: (label, plain-language explanation); ordered strongest evidence first.
    "meta-analysis": ("Meta-analysis", "Pools the numerical results of several studies."),
    "systematic-review": (
        "Systematic review",
        "Searches for and appraises all studies on a question with a stated method.",
    ),
    "randomised-controlled-trial": (
        "Randomised controlled trial",
        "Patients are assigned to ketamine or a comparison by chance.",
    ),
    "observational-study": (
        "Observational study",
        "Follows patients as treated in practice, without assigning treatment.",
    ),
    "case-report": ("Case report or series", "Describes one or a few patients."),
    "guideline": (
        "Guideline or consensus",
        "Recommendations agreed by a professional body or expert panel.",
    ),
    "narrative-review": (
        "Narrative review",
        "Summarises the literature without a systematic search.",
    ),
    "pharmacology": (
        "Pharmacology",
        "How ketamine acts on and moves through the body (pharmacodynamics, pharmacokinetics).",
    ),
    "animal-study": ("Animal study", "Research in animals, not in patients."),
    "classification": (
        "Classification or measurement",
        "Defines conditions or how pain is measured; not a treatment study.",
    ),
}

DIRECTIONS: dict[str, tuple[str, str]] = {
    "benefit": ("Benefit", "Ketamine did better than the comparison on the main outcome."),
    "no-benefit": ("No benefit", "Ketamine did not do better than the comparison."),
    "mixed": ("Mixed", "Some outcomes or groups improved, others did not."),
    "harm": ("Harm", "Ketamine did worse, or caused important adverse effects."),
    "not-applicable": ("Not applicable", "The paper does not test an effect of ketamine."),
}

ROUTES = (
    "intravenous", "oral", "subcutaneous", "intranasal", "intramuscular", "topical",
    "epidural", "intrathecal", "other",
)

STATUSES = ("retracted", "corrected")


_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


def is_east_asian(text: str) -> bool:
    """Whether ``text`` has Chinese, Japanese or Korean characters (names family first)."""
    return _CJK.search(text) is not None


@dataclass(frozen=True)
class PersonName:
    """A name as written in one entry, decoded to Unicode. Corporate names have only ``family``."""

    family: str
    given: str = ""
    suffix: str = ""
    corporate: bool = False

    @property
    def east_asian(self) -> bool:
        """Written in Chinese, Japanese or Korean script: family name first, no space."""
        return is_east_asian(self.family + self.given)

    @property
    def display(self) -> str:
        """Given names first: ``S. P. Cohen``; a Chinese, Japanese or Korean name family first,
        as it is written: ``王芳``."""
        if self.corporate:
            return self.family
        if self.east_asian:
            return self.family + self.given
        parts = [self.given, self.family]
        name = " ".join(p for p in parts if p)
        return f"{name}, {self.suffix}" if self.suffix else name

    @property
    def inverted(self) -> str:
        """Family name first: ``Cohen, S. P.``."""
        if self.corporate or not self.given:
            return self.family
        suffix = f", {self.suffix}" if self.suffix else ""
        return f"{self.family}{suffix}, {self.given}"


@dataclass(frozen=True)
class Credit:
    """One author position on one paper: the name as printed there, and who it is."""

    name: PersonName
    author_id: str


@dataclass(frozen=True)
class Paper:
    key: str
    slug: str
    entry_type: str
    title: str
    year: int
    #: The people credited: the authors, or the editors of a work that names no author.
    authors: tuple[Credit, ...]
    loc: SourceLocation
    #: Editors of a work that also has authors (a chapter's book).
    editors: tuple[PersonName, ...] = ()
    #: Whether ``authors`` are editors: an edited book with no ``author`` field.
    edited: bool = False
    date: str | None = None
    journal: str | None = None
    booktitle: str | None = None
    publisher: str | None = None
    series: str | None = None
    volume: str | None = None
    number: str | None = None
    pages: str | None = None
    eid: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    language: str | None = None
    abstract: str | None = None
    note: str | None = None
    #: The fields as written in BibTeX (LaTeX kept), in source order: what exports re-emit.
    #: Names and values apart, and the names tuple shared by the papers of a file that have the
    #: same fields: a saved library loads faster without a pair per field (see :meth:`fields`).
    bibtex_names: tuple[str, ...] = ()
    bibtex_values: tuple[str, ...] = ()
    #: Where each field was written, so a problem with a value points at its line: the line and
    #: column of field ``i`` at ``[2 * i]`` and ``[2 * i + 1]`` (not one SourceLocation per field:
    #: those were a fifth of the objects of a loaded library).
    field_positions: tuple[int, ...] = ()

    @property
    def bibtex_fields(self) -> tuple[tuple[str, str], ...]:
        """(name, value) of each field as written, in source order."""
        return tuple(zip(self.bibtex_names, self.bibtex_values, strict=True))

    def field_loc(self, name: str) -> SourceLocation:
        """The location of field ``name`` in the .bib file, else of the entry."""
        for i, n in enumerate(self.bibtex_names):
            if n == name and 2 * i + 1 < len(self.field_positions):
                return SourceLocation(self.loc.path, self.field_positions[2 * i],
                                      self.field_positions[2 * i + 1])
        return self.loc

    @property
    def container(self) -> str | None:
        return self.journal or self.booktitle

    @property
    def lang(self) -> str | None:
        """The BCP 47 tag of the work's ``language`` (``French`` → ``fr``), or None."""
        return bcp47(self.language)

    @property
    def first_page(self) -> str | None:
        return self.pages.split("–")[0].strip() if self.pages else None

    @property
    def last_page(self) -> str | None:
        """The last page, with abbreviated ranges expanded (``287–93`` → ``293``)."""
        if not self.pages or "–" not in self.pages:
            return None
        first, last = (p.strip() for p in self.pages.split("–", 1))
        prefix = first.rstrip("0123456789")  # "S1–10" is S1 to S10
        digits = first[len(prefix):]
        if prefix and prefix.isalpha() and digits and last.isdigit():
            first = digits
        else:
            prefix = ""
        if first.isdigit() and last.isdigit() and len(last) < len(first):
            return prefix + first[: len(first) - len(last)] + last
        return prefix + last


@dataclass(frozen=True)
class Annotation:
    """What a paper is and found, entered by the site's editors; every field optional."""

    key: str
    loc: SourceLocation
    design: str | None = None
    population: str | None = None
    sample_size: int | None = None
    route: tuple[str, ...] = ()
    dose: str | None = None
    comparator: str | None = None
    outcomes: tuple[str, ...] = ()
    direction: str | None = None
    finding: str | None = None
    conditions: tuple[str, ...] = ()
    status: str | None = None
    status_note: str | None = None
    basis: str | None = None


@dataclass(frozen=True)
class Author:
    id: str
    name: PersonName
    loc: SourceLocation
    orcid: str | None = None
    affiliation: str | None = None
    url: str | None = None
    #: Every spelling of this author found in the sources, sorted.
    spellings: tuple[str, ...] = ()


@dataclass(frozen=True)
class AbstractSection:
    heading: str
    text: str


@dataclass(frozen=True)
class Condition:
    id: str
    name: str
    description: str
    loc: SourceLocation
    synonyms: tuple[str, ...] = ()
    papers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Review:
    id: str
    paper: str
    licence: str | None  # an SPDX id, or None when the source states no licence
    loc: SourceLocation
    references: tuple[str, ...] = ()
    citing: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    summary: str | None = None
    abstract: tuple[AbstractSection, ...] = ()
    aim: str | None = None
    methods: str | None = None
    conclusion: str | None = None
    #: how many citing articles the source reports (PubMed's "Citations"), when it lists fewer
    cited_by_count: int | None = None


@dataclass(frozen=True)
class MarkdownText:
    """A Markdown field and where its text starts, so a bad citation inside can be located."""

    owner: str
    field: str
    text: str
    loc: SourceLocation
    #: ``locate(fragment, n)``: where the n-th ``fragment`` is written in the source file.
    locate: Callable[[str, int], SourceLocation] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Reference:
    """A reference from one source file to an id of some kind, kept for cross-reference checks."""

    kind: str  # "paper", "condition", "author"
    target: str
    loc: SourceLocation


@dataclass
class ParsedSources:
    """Everything read from the sources, before cross-references are resolved."""

    papers: list[Paper] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    author_overrides: list[tuple[Author, tuple[tuple[str, SourceLocation], ...]]] = field(
        default_factory=list
    )
    references: list[Reference] = field(default_factory=list)
    markdown: list[MarkdownText] = field(default_factory=list)
