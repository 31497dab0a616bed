"""The client-side search index: every review, paper, author and condition as a classic script.

``file://`` pages may not ``fetch`` a JSON file nor import an ES module, so the index is a plain
script assigning ``window.KETSITE_SEARCH``; MiniSearch (vendor.py) indexes it in the browser and
templates/assets/search.js draws the results. Documents store site-relative paths
(``papers/x/index.html``); the page resolves them against its own root, so one index serves both
link styles. The file is fingerprinted like any asset: its content is a pure function of the corpus.
"""

from __future__ import annotations

import hashlib
import json

from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.model.entities import Paper
from ketsite.site.routes import Route, entity_routes

KIND = "search-index"

#: Result groups, in the order the page shows them.
#: (type, group heading, one of them)
TYPES = (("review", "Reviews", "review"), ("condition", "Conditions", "condition"),
         ("paper", "Papers", "paper"), ("author", "Authors", "author"))
FIELDS = ("title", "authors", "journal", "year", "ids", "text", "topics")
STORE = ("type", "title", "path", "meta")
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
    return " ".join(x for x in (paper.doi, paper.pmid, paper.pmcid, paper.key) if x)


def documents(corpus: Corpus) -> list[dict[str, str]]:
    """One search document per page worth finding, in a stable order."""
    path = {(r.kind, r.ident): r.path for r in entity_routes(corpus)}
    docs: list[dict[str, str]] = []
    for rid, review in corpus.reviews.items():
        paper = corpus.papers[review.paper]
        conditions = [corpus.conditions[c] for c in review.conditions if c in corpus.conditions]
        text = [review.summary, review.aim, review.methods, review.conclusion]
        text += [f"{s.heading}: {s.text}" for s in review.abstract]
        docs.append({
            "id": f"review:{rid}", "type": "review", "title": paper.title,
            "path": path[("review", rid)],
            "meta": " · ".join(x for x in (_byline(paper), str(paper.year),
                                           f"{len(review.references)} references") if x),
            "authors": _names(paper), "journal": paper.container or "", "year": str(paper.year),
            "ids": _ids(paper), "text": "\n".join(t for t in text if t),
            "topics": "; ".join(c.name for c in conditions),
        })
    for cid, condition in corpus.conditions.items():
        n = len(corpus.papers_by_condition.get(cid, ()))
        docs.append({
            "id": f"condition:{cid}", "type": "condition", "title": condition.name,
            "path": path[("condition", cid)], "meta": f"{n} paper{'s' * (n != 1)}",
            "authors": "", "journal": "", "year": "", "ids": cid,
            "text": condition.description, "topics": "; ".join(condition.synonyms),
        })
    for key, paper in corpus.papers.items():
        annotation = corpus.annotations.get(key)
        conditions = [corpus.conditions[c] for c in corpus.conditions_by_paper.get(key, ())]
        text = [paper.abstract]
        if annotation:
            text += [annotation.population, annotation.finding]
        docs.append({
            "id": f"paper:{key}", "type": "paper", "title": paper.title,
            "path": path[("paper", key)],
            "meta": " · ".join(x for x in (_byline(paper), paper.container, str(paper.year)) if x),
            "authors": _names(paper), "journal": paper.container or "", "year": str(paper.year),
            "ids": _ids(paper), "text": "\n".join(t for t in text if t),
            "topics": "; ".join([c.name for c in conditions]
                                + [s for c in conditions for s in c.synonyms]),
        })
    for aid, author in corpus.authors.items():
        n = len(corpus.papers_by_author.get(aid, ()))
        docs.append({
            "id": f"author:{aid}", "type": "author", "title": author.name.display,
            "path": path[("author", aid)], "meta": f"{n} paper{'s' * (n != 1)}",
            "authors": "; ".join(author.spellings), "journal": "", "year": "",
            "ids": author.orcid or "", "text": author.affiliation or "", "topics": "",
        })
    return docs


def index_script(corpus: Corpus) -> bytes:
    """The index as a classic script; ASCII-only, so the page's charset cannot garble it."""
    data = {
        "version": 1,
        "types": [list(t) for t in TYPES],
        "fields": list(FIELDS),
        "storeFields": list(STORE),
        "boost": BOOST,
        "documents": documents(corpus),
    }
    body = json.dumps(data, ensure_ascii=True, sort_keys=False, separators=(",", ":"))
    return ("/* ketsite search index: generated, do not edit */\n"
            f"window.KETSITE_SEARCH = {body};\n").encode("ascii")


def routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    data = index_script(corpus)
    digest = hashlib.sha256(data).hexdigest()[:10]
    return [Route(KIND, "", f"assets/search-index.{digest}.js", "")]


def generate(route: Route, ctx: object) -> bytes:
    return index_script(ctx.corpus)  # type: ignore[attr-defined]
