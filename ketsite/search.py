"""The client-side search index: every review, paper, author and condition as a classic script.

``file://`` pages may not ``fetch`` a JSON file nor import an ES module, so the index is a plain
script assigning ``window.KETSITE_SEARCH``; MiniSearch (vendor.py) indexes it in the browser and
templates/assets/search.js draws the results. Documents store site-relative paths
(``papers/x/index.html``); the page resolves them against its own root, so one index serves both
link styles. Its name is fixed (``assets/search-index.js``) and links to it carry a digest of its
content as a query (``?v=…``): a fingerprinted name would need the whole index computed while
planning, and would change the route table (hence the sitemap) on every edit. ``file://`` ignores
the query; over http it busts the year-long cache of ``/assets/``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from itertools import repeat
from operator import attrgetter
from typing import Any

from ketsite.config import SiteConfig
from ketsite.memo import Pieces
from ketsite.model.corpus import Corpus
from ketsite.model.entities import DESIGNS, Annotation, Author, Condition, Paper, Review
from ketsite.site.routes import Route, routes_of
from ketsite.site.tracking import whole

KIND = "search-index"
#: One name whatever the content: links to it carry the content's digest as a query (version()).
PATH = "assets/search-index.js"

#: Result groups, in the order the page shows them.
#: (type, group heading, one of them)
TYPES = (("review", "Reviews", "review"), ("condition", "Conditions", "condition"),
         ("paper", "Papers", "paper"), ("author", "Authors", "author"))
FIELDS = ("title", "authors", "journal", "year", "ids", "text", "topics")
STORE = ("type", "title", "path", "meta", "lang")
BOOST = {"title": 3, "authors": 2, "ids": 2, "topics": 1.5, "journal": 1, "year": 1, "text": 0.5}


def _names(paper: Paper) -> str:
    return "; ".join(c.name.display for c in paper.authors)


def _byline(paper: Paper) -> str:
    if not paper.authors:
        return ""
    first = paper.authors[0].name.family
    return f"{first} et al." if len(paper.authors) > 2 else " & ".join(
        c.name.family for c in paper.authors)


def _ids(paper: Paper) -> str:
    # a PMC id also by its number alone, as PubMed prints it ("PMC: 6676152")
    pmc_number = paper.pmcid[3:] if paper.pmcid and paper.pmcid.startswith("PMC") else None
    return " ".join(x for x in (paper.doi, paper.pmid, paper.pmcid, pmc_number, paper.key) if x)


def review_document(rid: str, review: Review, paper: Paper, conditions: tuple[Condition, ...],
                    path: str) -> dict[str, str]:
    text = [review.summary, review.aim, review.methods, review.conclusion]
    text += [f"{s.heading}: {s.text}" for s in review.abstract]
    return {
        "id": f"review:{rid}", "type": "review", "title": paper.title, "path": path,
        "lang": paper.lang or "",
        "meta": " · ".join(x for x in (_byline(paper), str(paper.year),
                                       f"{len(review.references)} references") if x),
        "authors": _names(paper), "journal": paper.container or "", "year": str(paper.year),
        "ids": _ids(paper), "text": "\n".join(t for t in text if t),
        "topics": "; ".join(c.name for c in conditions),
    }


def condition_document(cid: str, condition: Condition, n: int, path: str) -> dict[str, str]:
    return {
        "id": f"condition:{cid}", "type": "condition", "title": condition.name, "lang": "",
        "path": path, "meta": f"{n} paper{'s' * (n != 1)}",
        "authors": "", "journal": "", "year": "", "ids": cid,
        "text": condition.description, "topics": "; ".join(condition.synonyms),
    }


def paper_document(key: str, paper: Paper, annotation: Annotation | None,
                   conditions: tuple[Condition, ...], path: str) -> dict[str, str]:
    text = [paper.abstract]
    if annotation:  # what the editors recorded is found too ("intravenous", "case report")
        text += [annotation.population, annotation.finding, annotation.dose,
                 annotation.comparator, ", ".join(annotation.route),
                 "; ".join(annotation.outcomes),
                 DESIGNS[annotation.design][0] if annotation.design else None]
    return {
        "id": f"paper:{key}", "type": "paper", "title": paper.title, "path": path,
        "lang": paper.lang or "",
        "meta": " · ".join(x for x in (_byline(paper), paper.container, str(paper.year)) if x),
        "authors": _names(paper), "journal": paper.container or "", "year": str(paper.year),
        "ids": _ids(paper), "text": "\n".join(t for t in text if t),
        "topics": "; ".join([c.name for c in conditions]
                            + [s for c in conditions for s in c.synonyms]),
    }


def author_document(aid: str, author: Author, n: int, path: str) -> dict[str, str]:
    return {
        "id": f"author:{aid}", "type": "author", "title": author.name.display, "lang": "",
        "path": path, "meta": f"{n} paper{'s' * (n != 1)}",
        "authors": "; ".join(author.spellings), "journal": "", "year": "",
        "ids": author.orcid or "", "text": author.affiliation or "", "topics": "",
    }


#: One type of document: (type, idents, arguments of :func:`_document_text` for each: the
#: document function, then its own arguments).
Group = tuple[str, list[str], list[tuple[Any, ...]]]


def _tables(corpus: Corpus, routes: Any) -> tuple[Mapping[Any, Any], ...]:
    """Every mapping the index is made of, each read whole (one recorded read each): the index's
    inputs, its reads recorded the same whether it is then made or found (:func:`index_script`).
    ``routes`` is the route table (pages' paths)."""
    return (whole(routes.routes), whole(corpus.reviews), whole(corpus.conditions),
            whole(corpus.papers), whole(corpus.annotations), whole(corpus.conditions_by_paper),
            whole(corpus.authors), whole(corpus.papers_by_author),
            whole(corpus.papers_by_condition))


def _parts(table: Mapping[Any, Any], reviews: Mapping[str, Review],
           conditions: Mapping[str, Condition], papers: Mapping[str, Paper],
           annotations: Mapping[str, Annotation], by_paper: Mapping[str, Any],
           authors: Mapping[str, Author], by_author: Mapping[str, Any],
           by_condition: Mapping[str, Any]) -> list[Group]:
    """Each document's function and arguments, in index order (from :func:`_tables`), zipped
    from the mappings rather than gathered one document at a time: after an edit, this is most
    of what the index costs (see Pieces.each)."""

    def paths(kind: str, idents: list[str]) -> Iterator[str]:
        return map(attrgetter("path"), routes_of(table, kind, idents))

    def counts(by: Mapping[str, Any], idents: list[str]) -> Iterator[int]:
        return map(len, map(by.get, idents, repeat(())))

    rids, cids, keys, aids = list(reviews), list(conditions), list(papers), list(authors)
    # the conditions each paper addresses, made once per distinct list (a few dozen of them)
    named = {ids: tuple(conditions[c] for c in ids) for ids in {(), *by_paper.values()}}
    covered = (tuple(conditions[c] for c in r.conditions if c in conditions)
               for r in reviews.values())
    return [
        ("review", rids, list(zip(
            repeat(review_document), rids, reviews.values(),
            map(papers.__getitem__, map(attrgetter("paper"), reviews.values())), covered,
            paths("review", rids)))),
        ("condition", cids, list(zip(
            repeat(condition_document), cids, conditions.values(),
            counts(by_condition, cids), paths("condition", cids)))),
        ("paper", keys, list(zip(
            repeat(paper_document), keys, papers.values(), map(annotations.get, keys),
            map(named.__getitem__, map(by_paper.get, keys, repeat(()))),
            paths("paper", keys)))),
        ("author", aids, list(zip(
            repeat(author_document), aids, authors.values(), counts(by_author, aids),
            paths("author", aids)))),
    ]


def documents(corpus: Corpus, routes: Any) -> list[dict[str, str]]:
    """One search document per page worth finding, in a stable order."""
    return [fn(*args) for _, _, arguments in _parts(*_tables(corpus, routes))
            for fn, *args in arguments]


def _document_text(fn: Callable[..., dict[str, str]], *args: Any) -> str:
    return json.dumps(fn(*args), ensure_ascii=True, separators=(",", ":"))


def index_script(corpus: Corpus, routes: Any, pieces: Pieces | None = None) -> bytes:
    """The index as a classic script; ASCII-only, so the page's charset cannot garble it.

    Assembled from each document's JSON text, which ``pieces`` keeps between builds (a one-paper
    edit makes one document again). The whole script is kept too, under the mappings it is made
    of: the search page asks for its version and the index route for its bytes, in one build,
    and the second finds the very same mappings (compared by identity: no walk of the library).
    """
    pieces = pieces if pieces is not None else Pieces()
    return pieces.get(  # type: ignore[no-any-return]
        "search-index", "", functools.partial(_assemble, pieces), *_tables(corpus, routes))


def _assemble(pieces: Pieces, *tables: Mapping[Any, Any]) -> bytes:
    texts: list[str] = []
    for t, idents, arguments in _parts(*tables):
        texts += pieces.each(f"search-{t}", idents, _document_text, arguments)
    return _script(texts)


def _script(texts: list[str]) -> bytes:
    data = {
        "version": 1,
        "types": [list(t) for t in TYPES],
        "fields": list(FIELDS),
        "storeFields": list(STORE),
        "boost": BOOST,
        "documents": [],
    }
    body = json.dumps(data, ensure_ascii=True, sort_keys=False, separators=(",", ":"))
    assert body.endswith('"documents":[]}')
    body = body[:-len("[]}")] + "[" + ",".join(texts) + "]}"
    return ("/* ketsite search index: generated, do not edit */\n"
            f"window.KETSITE_SEARCH = {body};\n").encode("ascii")


def version(ctx: object, pieces: Pieces | None = None) -> str:
    """A digest of the index, the query (``?v=``) of links to it: the file keeps one name, so
    the route table is the same after an edit, and browsers that cached an older index for a
    year (``/assets/*`` is immutable) still fetch the new one."""
    data = index_script(ctx.corpus, ctx.routes, pieces)  # type: ignore[attr-defined]
    return hashlib.sha256(data).hexdigest()[:10]


def routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    return [Route(KIND, "", PATH, "")]


def generate(route: Route, ctx: object, pieces: Pieces | None = None) -> bytes:
    return index_script(ctx.corpus, ctx.routes, pieces)  # type: ignore[attr-defined]
