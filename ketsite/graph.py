"""The site graph as open data (``data/graph.json``): reviews, papers, authors, conditions and
every link between them, for anyone who wants to analyse or redraw the evidence map.

Nodes carry their attributes and both their site path (relative to the site root) and public URL;
edges are typed (``references``, ``cited-by-review``, ``authored``, ``addresses``, ``cites``,
``covers``, ``is-paper``) and listed in a stable order, so the file diffs cleanly between builds.
"""

from __future__ import annotations

import json

from ketsite import __version__
from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.site.routes import Route

KIND = "graph"
PATH = "data/graph.json"


def graph(ctx: object) -> dict[str, object]:
    config: SiteConfig = ctx.config  # type: ignore[attr-defined]
    corpus: Corpus = ctx.corpus  # type: ignore[attr-defined]
    routes = ctx.routes  # type: ignore[attr-defined]

    def where(kind: str, ident: str) -> dict[str, str]:
        route = routes.get(kind, ident)
        return {"path": route.path, "url": config.absolute(route.url_path)}

    nodes: list[dict[str, object]] = []
    edges: list[dict[str, object]] = []
    for rid, review in corpus.reviews.items():
        nodes.append({"id": f"review:{rid}", "type": "review", "paper": f"paper:{review.paper}",
                      "licence": review.licence, **where("review", rid)})
        edges.append({"source": f"review:{rid}", "target": f"paper:{review.paper}",
                      "type": "is-paper"})
        for n, key in enumerate(review.references, start=1):
            edges.append({"source": f"review:{rid}", "target": f"paper:{key}",
                          "type": "references", "number": n})
        for key in review.citing:
            edges.append({"source": f"paper:{key}", "target": f"review:{rid}",
                          "type": "cited-by-review"})
        for cid in review.conditions:
            edges.append({"source": f"review:{rid}", "target": f"condition:{cid}",
                          "type": "covers"})
    for key, paper in corpus.papers.items():
        annotation = corpus.annotations.get(key)
        node: dict[str, object] = {
            "id": f"paper:{key}", "type": "paper", "key": key, "title": paper.title,
            "year": paper.year, "date": paper.date, "container": paper.container,
            "doi": paper.doi, "pmid": paper.pmid, "pmcid": paper.pmcid,
            **where("paper", key),
        }
        if annotation:
            node.update(design=annotation.design, direction=annotation.direction,
                        status=annotation.status)
        nodes.append(node)
        for position, credit in enumerate(paper.authors, start=1):
            edges.append({"source": f"author:{credit.author_id}", "target": f"paper:{key}",
                          "type": "authored", "position": position})
        for cid in corpus.conditions_by_paper.get(key, ()):
            edges.append({"source": f"paper:{key}", "target": f"condition:{cid}",
                          "type": "addresses"})
        for cited in corpus.cites.get(key, ()):
            edges.append({"source": f"paper:{key}", "target": f"paper:{cited}", "type": "cites"})
    for aid, author in corpus.authors.items():
        nodes.append({"id": f"author:{aid}", "type": "author", "name": author.name.display,
                      "family": author.name.family, "given": author.name.given,
                      "orcid": author.orcid, **where("author", aid)})
    for cid, condition in corpus.conditions.items():
        nodes.append({"id": f"condition:{cid}", "type": "condition", "name": condition.name,
                      "synonyms": list(condition.synonyms), **where("condition", cid)})
    counts = {t: sum(1 for n in nodes if n["type"] == t)
              for t in ("review", "paper", "author", "condition")}
    return {
        "generator": f"ketsite {__version__}",
        "site": {"title": config.title, "url": config.absolute("")},
        "counts": counts,
        "nodes": nodes,
        "edges": edges,
    }


def routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    return [Route(KIND, "", PATH, "")]


def generate(route: Route, ctx: object) -> bytes:
    return (json.dumps(graph(ctx), ensure_ascii=False, indent=1) + "\n").encode("utf-8")
