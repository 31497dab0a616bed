"""The site graph as open data (``data/graph.json``): reviews, papers, authors, conditions and
every link between them, for anyone who wants to analyse or redraw the evidence map.

Nodes carry their attributes and both their site path (relative to the site root) and public URL;
edges are typed (``references``, ``cited-by-review``, ``authored``, ``addresses``, ``cites``,
``covers``, ``is-paper``) and listed in a stable order, so the file diffs cleanly between builds.
"""

from __future__ import annotations

import functools
import json
from itertools import repeat
from typing import Any

from ketsite import __version__
from ketsite.config import SiteConfig, absolute_url
from ketsite.jsontext import dumps_indented
from ketsite.memo import Pieces
from ketsite.model.corpus import Corpus
from ketsite.model.entities import Annotation, Author, Condition, Paper, Review
from ketsite.site.routes import Route, routes_of
from ketsite.site.tracking import whole

KIND = "graph"
PATH = "data/graph.json"

Node = dict[str, object]
Edge = dict[str, object]


# --- one entity's node and edges: pure functions of their arguments (cached as pieces) ----------
# A node's place is its page's route and the site's URL rather than the path and URL made of them:
# an unchanged entity keeps its Route object between builds, so its cached piece is found by an
# identity comparison, without making tens of thousands of URLs again after each edit.

def _place(route: Route, site_url: str) -> tuple[str, str]:
    """A node's site path and public URL."""
    return route.path, absolute_url(site_url, route.url_path)


def review_part(rid: str, review: Review, route: Route, site_url: str) -> tuple[Node, list[Edge]]:
    path, url = _place(route, site_url)
    node: Node = {"id": f"review:{rid}", "type": "review", "paper": f"paper:{review.paper}",
                  "licence": review.licence, "path": path, "url": url}
    edges: list[Edge] = [{"source": f"review:{rid}", "target": f"paper:{review.paper}",
                          "type": "is-paper"}]
    for n, key in enumerate(review.references, start=1):
        edges.append({"source": f"review:{rid}", "target": f"paper:{key}",
                      "type": "references", "number": n})
    for key in review.citing:
        edges.append({"source": f"paper:{key}", "target": f"review:{rid}",
                      "type": "cited-by-review"})
    for cid in review.conditions:
        edges.append({"source": f"review:{rid}", "target": f"condition:{cid}", "type": "covers"})
    return node, edges


def paper_part(key: str, paper: Paper, annotation: Annotation | None, conditions: tuple[str, ...],
               cites: tuple[str, ...], route: Route, site_url: str) -> tuple[Node, list[Edge]]:
    path, url = _place(route, site_url)
    node: Node = {
        "id": f"paper:{key}", "type": "paper", "key": key, "title": paper.title,
        "year": paper.year, "date": paper.date, "container": paper.container,
        "doi": paper.doi, "pmid": paper.pmid, "pmcid": paper.pmcid, "path": path, "url": url,
    }
    if annotation:
        node.update(design=annotation.design, direction=annotation.direction,
                    status=annotation.status)
    edges: list[Edge] = []
    for position, credit in enumerate(paper.authors, start=1):
        edges.append({"source": f"author:{credit.author_id}", "target": f"paper:{key}",
                      "type": "authored", "position": position})
    for cid in conditions:
        edges.append({"source": f"paper:{key}", "target": f"condition:{cid}",
                      "type": "addresses"})
    for cited in cites:
        edges.append({"source": f"paper:{key}", "target": f"paper:{cited}", "type": "cites"})
    return node, edges


def author_part(aid: str, author: Author, route: Route,
                site_url: str) -> tuple[Node, list[Edge]]:
    path, url = _place(route, site_url)
    return {"id": f"author:{aid}", "type": "author", "name": author.name.display,
            "family": author.name.family, "given": author.name.given,
            "orcid": author.orcid, "path": path, "url": url}, []


def condition_part(cid: str, condition: Condition, route: Route,
                   site_url: str) -> tuple[Node, list[Edge]]:
    path, url = _place(route, site_url)
    return {"id": f"condition:{cid}", "type": "condition", "name": condition.name,
            "synonyms": list(condition.synonyms), "path": path, "url": url}, []


# --- the whole graph ------------------------------------------------------------------------------

#: One type of node: (type, idents, arguments of :func:`part_text` for each: the part function,
#: then its own arguments).
Group = tuple[str, list[str], list[tuple[Any, ...]]]


def _groups(ctx: object) -> list[Group]:
    """Every node's part, in file order: reviews, papers, authors, conditions (node order; the
    edges come in the same order). Arguments are zipped from the mappings, not gathered one
    node at a time: after an edit, this is most of what the file costs (see Pieces.each)."""
    config: SiteConfig = ctx.config  # type: ignore[attr-defined]
    corpus: Corpus = ctx.corpus  # type: ignore[attr-defined]
    routes = ctx.routes  # type: ignore[attr-defined]

    table = whole(routes.routes)  # every entity's page: one recorded read for all of them
    site_url = repeat(config.url)
    pages = functools.partial(routes_of, table)

    annotations = whole(corpus.annotations)
    conditions = whole(corpus.conditions_by_paper)
    cites = whole(corpus.cites)
    rids, keys = list(corpus.reviews), list(corpus.papers)
    aids, cids = list(corpus.authors), list(corpus.conditions)
    return [
        ("review", rids, list(zip(repeat(review_part), rids, corpus.reviews.values(),
                                  pages("review", rids), site_url))),
        ("paper", keys, list(zip(
            repeat(paper_part), keys, corpus.papers.values(), map(annotations.get, keys),
            map(tuple, map(conditions.get, keys, repeat(()))),
            map(tuple, map(cites.get, keys, repeat(()))), pages("paper", keys), site_url))),
        ("author", aids, list(zip(repeat(author_part), aids, corpus.authors.values(),
                                  pages("author", aids), site_url))),
        ("condition", cids, list(zip(repeat(condition_part), cids, corpus.conditions.values(),
                                     pages("condition", cids), site_url))),
    ]


def _header(ctx: object, groups: list[Group]) -> dict[str, object]:
    config: SiteConfig = ctx.config  # type: ignore[attr-defined]
    counts = {t: len(idents) for t, idents, _ in groups}
    return {
        "generator": f"ketsite {__version__}",
        "site": {"title": config.title, "url": config.absolute("")},
        "counts": counts,
    }


def graph(ctx: object) -> dict[str, object]:
    """The graph as one value (what ``data/graph.json`` holds)."""
    groups = _groups(ctx)
    nodes: list[Node] = []
    edges: list[Edge] = []
    for _, _, arguments in groups:
        for fn, *args in arguments:
            node, own = fn(*args)
            nodes.append(node)
            edges.extend(own)
    return {**_header(ctx, groups), "nodes": nodes, "edges": edges}


def _text(value: object) -> str:
    """``value`` as ``json.dumps(indent=1)`` writes it two levels deep (an item of a top-level
    list), so a file is a join of such texts. JSON strings hold no raw newline."""
    return dumps_indented(value, 1).replace("\n", "\n  ")


def part_text(fn: Any, *args: Any) -> tuple[str, str]:
    """A node and its edges as text, each edge on its own place in the ``edges`` list."""
    node, edges = fn(*args)
    return _text(node), ",\n  ".join(_text(e) for e in edges)


def _list(items: list[str]) -> str:
    return "[\n  " + ",\n  ".join(items) + "\n ]" if items else "[]"


def routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    return [Route(KIND, "", PATH, "")]


def generate(route: Route, ctx: object, pieces: Pieces | None = None) -> bytes:
    """``json.dumps(graph(ctx), ensure_ascii=False, indent=1)``, assembled from each node's text,
    which ``pieces`` keeps between builds: after a one-paper edit only that paper's is made."""
    pieces = pieces if pieces is not None else Pieces()
    groups = _groups(ctx)
    texts: list[tuple[str, str]] = []
    for t, idents, arguments in groups:
        texts += pieces.each(f"graph-{t}", idents, part_text, arguments)
    head = json.dumps({**_header(ctx, groups), "nodes": 0, "edges": 0},
                      ensure_ascii=False, indent=1)
    tail = ',\n "nodes": 0,\n "edges": 0\n}'
    assert head.endswith(tail)
    nodes = _list([node for node, _ in texts])
    edges = _list([e for _, e in texts if e])
    return (f'{head[:-len(tail)]},\n "nodes": {nodes},\n "edges": {edges}\n}}\n').encode()
