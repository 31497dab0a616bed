"""Citation exports: BibTeX, RIS and CSL-JSON for one paper, a page's papers, or the whole library.

Every paper page, condition, author and review page links to three files holding its papers, and
``data/library.*`` holds them all (an author of a single paper links to that paper's files, saved
under the author's name: :func:`own_files`). BibTeX re-emits the fields exactly as written in
``bib/`` (LaTeX kept, source order), so a round trip through ketsite changes nothing. RIS and
CSL-JSON are made from the decoded paper. Routes are known before rendering (:func:`routes`), and
:func:`generate` is a pure function of the route and the corpus, so the files are byte-identical
between builds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter

from ketsite.config import SiteConfig
from ketsite.jsontext import dumps_indented
from ketsite.memo import Pieces
from ketsite.model.corpus import Corpus
from ketsite.model.entities import Paper
from ketsite.scholarly.csl import csl_item, date_parts
from ketsite.site.routes import Route
from ketsite.site.tracking import whole
from ketsite.sources.bibtex import format_entry

#: route kind → (file extension, what the link says)
FORMATS: dict[str, tuple[str, str]] = {
    "export-bib": ("bib", "BibTeX"),
    "export-ris": ("ris", "RIS"),
    "export-csl": ("json", "CSL-JSON"),
}

#: file extension → media type (the ``type`` of a download link; netlify.toml serves the same)
MEDIA_TYPES = {
    "bib": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "json": "application/vnd.citationstyles.csl+json",
}

RIS_TYPES = {
    "article": "JOUR",
    "incollection": "CHAP",
    "inbook": "CHAP",
    "inproceedings": "CPAPER",
    "book": "BOOK",
    "report": "RPRT",
    "techreport": "RPRT",
    "thesis": "THES",
    "phdthesis": "THES",
    "mastersthesis": "THES",
    "misc": "GEN",
}


# --- one paper in each format --------------------------------------------------------------------

def bibtex_entry(paper: Paper) -> str:
    return format_entry(paper.entry_type, paper.key, list(paper.bibtex_fields))


def _ris_line(tag: str, value: str) -> str:
    return f"{tag}  - {' '.join(value.split())}"


def ris_record(paper: Paper) -> str:
    """One RIS record (the tags Zotero, EndNote and Mendeley read), ending with ``ER``."""
    lines = [_ris_line("TY", RIS_TYPES.get(paper.entry_type, "GEN"))]
    lines += [_ris_line("A2" if paper.edited else "AU", c.name.inverted) for c in paper.authors]
    lines += [_ris_line("A2", n.inverted) for n in paper.editors]
    lines.append(_ris_line("TI", paper.title))
    if paper.container:
        lines.append(_ris_line("T2", paper.container))
    if paper.series:
        lines.append(_ris_line("T3", paper.series))
    lines.append(_ris_line("PY", str(paper.year)))
    if paper.date:
        parts = date_parts(paper)
        lines.append(_ris_line("DA", "/".join(f"{p:02d}" if i else str(p)
                                              for i, p in enumerate(parts)) + "/"))
    optional = (
        ("VL", paper.volume),
        ("IS", paper.number),
        ("SP", paper.first_page or paper.eid),
        ("EP", paper.last_page),
        ("PB", paper.publisher),
        ("DO", paper.doi),
        ("AN", paper.pmid),
        ("DB", "PubMed" if paper.pmid else None),
        ("UR", paper.url),
        ("LA", paper.language),
        ("AB", paper.abstract),
        ("N1", f"PMCID: {paper.pmcid}" if paper.pmcid else None),
        ("N1", paper.note),
        ("ID", paper.key),
    )
    lines += [_ris_line(tag, value) for tag, value in optional if value]
    lines.append("ER  - ")
    return "\n".join(lines) + "\n"


def csl_json_item(paper: Paper) -> str:
    """One paper's CSL-JSON object as it appears inside the file's top-level array."""
    return dumps_indented(csl_item(paper), 2).replace("\n", "\n  ")


def _join_csl(items: list[str]) -> str:
    # json.dumps(list, indent=2), assembled from items already indented for their place
    return ("[\n  " + ",\n  ".join(items) + "\n]\n") if items else "[]\n"


def _join_records(items: list[str]) -> str:
    return "\n".join(items)


#: route kind → (one paper's part of the file, how the parts are joined)
PARTS: dict[str, tuple[Callable[[Paper], str], Callable[[list[str]], str]]] = {
    "export-bib": (bibtex_entry, _join_records),
    "export-ris": (ris_record, _join_records),
    "export-csl": (csl_json_item, _join_csl),
}


_KEY = attrgetter("key")


def _file(kind: str, papers: Iterable[Paper], pieces: Pieces | None = None,
          collection_id: str = "") -> str:
    """The file of ``kind`` holding ``papers``; each paper's part comes from ``pieces`` when it
    was made from an equal paper before (a rebuild after an edit redoes only that paper)."""
    part, join = PARTS[kind]
    if pieces is None:
        return join([part(p) for p in papers])
    papers = list(papers)
    return join(pieces.each(kind, list(map(_KEY, papers)), part, list(zip(papers)),
                            collection_id))


def bibtex_file(papers: Iterable[Paper]) -> str:
    return _file("export-bib", papers)


def ris_file(papers: Iterable[Paper]) -> str:
    return _file("export-ris", papers)


def csl_json_file(papers: Iterable[Paper]) -> str:
    return _file("export-csl", papers)


WRITERS = {"export-bib": bibtex_file, "export-ris": ris_file, "export-csl": csl_json_file}


# --- collections ----------------------------------------------------------------------------------

def collection(corpus: Corpus, ident: str) -> tuple[str, ...]:
    """The keys of a collection id: ``library``, ``paper:KEY``, ``condition:ID``, ``author:ID``,
    ``review:ID`` (the review itself, its references in order, then the articles citing it)."""
    scope, _, value = ident.partition(":")
    if scope == "library":  # every paper, once each: the keys of the mapping as they are
        return tuple(whole(corpus.papers))
    keys: Iterable[str]
    if scope == "paper":
        keys = (value,)
    elif scope == "condition":
        keys = corpus.papers_by_condition.get(value, ())
    elif scope == "author":
        keys = corpus.papers_by_author.get(value, ())
    elif scope == "review":
        review = corpus.reviews[value]
        keys = (review.paper, *review.references, *review.citing)
    else:
        raise KeyError(ident)
    papers = corpus.papers
    return tuple(k for k in dict.fromkeys(keys) if k in papers)


def _folders(corpus: Corpus) -> list[tuple[str, str, str]]:
    """(collection id, output folder + file stem, source file) of every collection."""
    out = [("library", "data/library", "")]
    papers = corpus.papers
    for key in sorted(papers):  # not library order, which a title edit changes (see routes.py)
        paper = papers[key]
        out.append((f"paper:{key}", f"papers/{paper.slug}/{paper.slug}", paper.loc.path))
    for cid, condition in corpus.conditions.items():
        if own_files(corpus, f"condition:{cid}"):
            out.append((f"condition:{cid}", f"conditions/{cid}/{cid}", condition.loc.path))
    for aid, author in corpus.authors.items():
        if own_files(corpus, f"author:{aid}"):
            out.append((f"author:{aid}", f"authors/{aid}/{aid}", author.loc.path))
    for rid, review in corpus.reviews.items():
        out.append((f"review:{rid}", f"reviews/{rid}/{rid}", review.loc.path))
    return out


def own_files(corpus: Corpus, ident: str) -> bool:
    """Whether the collection ``ident`` has export files of its own. An author of a single paper
    has not: that paper's files are the same bytes (most authors of a library have one paper, so
    this is a third of a large site's files); their page links to the paper's files, to be saved
    under the author's name (:func:`saved_as`)."""
    scope, _, value = ident.partition(":")
    if scope == "condition":  # none without papers: empty files offer nothing
        return bool(corpus.papers_by_condition.get(value))
    return scope != "author" or len(corpus.papers_by_author.get(value, ())) != 1


def saved_as(ident: str, kind: str) -> str:
    """The file name a download of the collection ``ident`` in ``kind`` is saved under."""
    scope, _, value = ident.partition(":")
    return f"{value if scope != 'library' else 'library'}.{FORMATS[kind][0]}"


def routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    return [
        Route(kind, ident, f"{stem}.{ext}", source)
        for ident, stem, source in _folders(corpus)
        for kind, (ext, _) in FORMATS.items()
    ]


def generate(route: Route, ctx: object, pieces: Pieces | None = None) -> bytes:
    corpus: Corpus = ctx.corpus  # type: ignore[attr-defined]
    if route.ident == "library":  # every paper: one recorded read (see tracking.whole)
        papers: Iterable[Paper] = whole(corpus.papers).values()
    else:
        papers = map(corpus.papers.__getitem__, collection(corpus, route.ident))
    return _file(route.kind, papers, pieces, route.ident).encode("utf-8")
