"""An Atom feed of the papers (``feed.xml``), so readers can follow the library in a feed reader.

Deterministic: no date comes from the clock. Entries are ordered newest first by the papers' own
dates (``date``, else ``year``), ties in the library's order; an entry is ``published`` on its
paper's day where the source gives one, and ``updated`` on the date of the site's sources (when
the site last changed), since Atom requires that date and a year alone is not a day. Only the newest
``pagination.feed`` papers are entries (50 by default): a feed carries what is new, and a reader
polls it again and again, so it must not grow with the library. Links are absolute public URLs
from ``ketsite.yaml``'s ``url``: a feed is read outside the site.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ketsite import __version__
from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.model.entities import DESIGNS, DIRECTIONS, Paper
from ketsite.site.routes import Route

KIND = "feed"
ATOM = "http://www.w3.org/2005/Atom"
PATH = "feed.xml"


def paper_timestamp(paper: Paper) -> str:
    """RFC 3339 from the paper's own date: ``2011-05`` → ``2011-05-01T00:00:00Z``."""
    parts = (paper.date or str(paper.year)).split("-")
    parts += ["01"] * (3 - len(parts))
    return "-".join(parts[:3]) + "T00:00:00Z"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _summary(paper: Paper, corpus: Corpus) -> str:
    source = paper.container or ""
    if paper.volume:
        source += f" {paper.volume}"
    if paper.number:
        source += f"({paper.number})"
    if paper.pages or paper.eid:
        source += f": {paper.pages or paper.eid}"
    bits = [", ".join(c.name.display for c in paper.authors), source.strip(), str(paper.year)]
    if paper.doi:
        bits.append(f"DOI {paper.doi}")
    annotation = corpus.annotations.get(paper.key)
    if annotation:
        if annotation.design:
            bits.append(DESIGNS[annotation.design][0])
        if annotation.direction:
            bits.append(f"Finding: {DIRECTIONS[annotation.direction][0]}")
        if annotation.status:
            bits.append(annotation.status.capitalize())
    return ". ".join(b for b in bits if b) + "."


def atom_feed(ctx: object) -> bytes:
    config: SiteConfig = ctx.config  # type: ignore[attr-defined]
    corpus: Corpus = ctx.corpus  # type: ignore[attr-defined]
    routes = ctx.routes  # type: ignore[attr-defined]
    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": config.language})
    _sub(feed, "title", f"Papers — {config.title}")
    _sub(feed, "subtitle", config.description)
    _sub(feed, "id", config.absolute(PATH))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=config.absolute(PATH))
    _sub(feed, "link", rel="alternate", type="text/html",
         href=config.absolute(routes.get("papers").url_path))
    papers = list(corpus.papers.items())
    stamps = [paper_timestamp(p) for _, p in papers]  # once each: the sort below reuses them
    build_date: str = ctx.build_date  # type: ignore[attr-defined]
    # Sources outside git (a tarball) and without SOURCE_DATE_EPOCH have no date: the newest
    # paper's, to the precision known, keeps the feed valid.
    changed = (f"{build_date}T00:00:00Z" if build_date
               else max(stamps, default="1970-01-01T00:00:00Z"))
    _sub(feed, "updated", changed)
    author = _sub(feed, "author")
    _sub(author, "name", config.title)
    _sub(feed, "generator", "ketsite", version=__version__)
    # Newest first by the paper's own date; the library's order breaks ties (a stable sort).
    by_date = sorted(range(len(papers)), key=stamps.__getitem__, reverse=True)
    for key, paper in (papers[i] for i in by_date[:config.pagination.feed]):
        url = config.absolute(routes.get("paper", key).url_path)
        entry = _sub(feed, "entry")
        _sub(entry, "title", paper.title)
        _sub(entry, "id", url)
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        if paper.doi:
            _sub(entry, "link", rel="related", href=f"https://doi.org/{paper.doi}")
        stamp = paper_timestamp(paper)
        if paper.date and paper.date.count("-") == 2:
            # only a day the source gives: a year alone would read "published 1 January"
            _sub(entry, "published", stamp)
        # Required by Atom: when the site last changed, not 1 January of a year-only paper.
        _sub(entry, "updated", changed)
        for credit in paper.authors:
            person = _sub(entry, "author")
            _sub(person, "name", credit.name.display)
            _sub(person, "uri", config.absolute(routes.get("author", credit.author_id).url_path))
        for cid in corpus.conditions_by_paper.get(key, ()):
            _sub(entry, "category", term=cid, label=corpus.conditions[cid].name)
        _sub(entry, "summary", _summary(paper, corpus), type="text")
    ET.indent(feed, space="  ")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def routes(corpus: Corpus, config: SiteConfig) -> list[Route]:
    return [Route(KIND, "", PATH, "")]


def generate(route: Route, ctx: object) -> bytes:
    return atom_feed(ctx)
