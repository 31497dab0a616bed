"""Metadata for machines: Highwire Press tags, OpenGraph, JSON-LD (schema.org) and COinS.

Reference managers and search engines read these, not the visible page:

* **Highwire Press** ``citation_*`` tags on paper pages are what Zotero's connector and Google
  Scholar import a single article from. Paper pages carry no COinS: Zotero prefers COinS over
  Highwire and would import a thinner record.
* **COinS** spans (one per listed paper) on condition pages let Zotero offer "save these items".
* **JSON-LD** describes the page's subject (MedicalScholarlyArticle, MedicalCondition, Person).

JSON-LD goes into ``<script type="application/ld+json">``: a data block that browsers never run and
CSP allows; ``<``, ``>`` and ``&`` are written as ``\\u003c``… so no text can close the element.
Every function is pure: (entity, page helpers) in, values out; templates only print them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from ketsite.model.entities import DESIGNS, Author, Condition, Paper, PersonName

DOI_URL = "https://doi.org/"
PUBMED_URL = "https://pubmed.ncbi.nlm.nih.gov/"
ORCID_URL = "https://orcid.org/"

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}


def json_script(data: Any) -> Markup:
    """JSON for a ``<script type="application/ld+json">`` element, safe against ``</script>``.

    Compact, as machines read it: the standard library writes that in C, where indented JSON
    goes through its Python encoder (every paper and author page has one)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 — every character that could end the element is escaped


def _absolute(h: Any, kind: str, ident: str = "") -> str:
    return h.ctx.config.absolute(h.ctx.routes.get(kind, ident).url_path)


def publication_date(paper: Paper, sep: str = "/") -> str:
    """``2021/11/08`` (Highwire) or ``2021-11-08`` (ISO) when the date is known, else ``2011``."""
    return paper.date.replace("-", sep) if paper.date else str(paper.year)


# --- Highwire Press and OpenGraph --------------------------------------------------------------

def highwire_tags(paper: Paper) -> list[tuple[str, str]]:
    """``citation_*`` meta tags, in the order Google Scholar documents them."""
    tags = [("citation_title", paper.title)]
    tags += [("citation_author", c.name.inverted) for c in paper.authors]
    tags.append(("citation_publication_date", publication_date(paper)))
    container = {
        "article": "citation_journal_title",
        "inproceedings": "citation_conference_title",
        "incollection": "citation_inbook_title",
        "inbook": "citation_inbook_title",
    }.get(paper.entry_type)
    if container and paper.container:
        tags.append((container, paper.container))
    optional = (
        ("citation_publisher", paper.publisher),
        ("citation_volume", paper.volume),
        ("citation_issue", paper.number),
        ("citation_firstpage", paper.first_page or paper.eid),
        ("citation_lastpage", paper.last_page),
        ("citation_doi", paper.doi),
        ("citation_pmid", paper.pmid),
        ("citation_language", paper.language),
        ("citation_public_url", DOI_URL + paper.doi if paper.doi else paper.url),
    )
    tags += [(name, value) for name, value in optional if value]
    return tags


def opengraph_tags(paper: Paper, h: Any) -> list[tuple[str, str]]:
    source = ", ".join(str(x) for x in (paper.container, paper.year) if x)
    tags = [
        ("og:type", "article"),
        ("og:title", paper.title),
        ("og:description", source),
        ("og:url", h.canonical()),
        ("og:site_name", h.ctx.config.title),
        ("article:published_time", publication_date(paper, "-")),
    ]
    tags += [("article:author", _absolute(h, "author", c.author_id)) for c in paper.authors]
    return tags


# --- JSON-LD -----------------------------------------------------------------------------------

def _agent(name: PersonName, author: Author | None, url: str) -> dict[str, Any]:
    if name.corporate:
        return {"@type": "Organization", "name": name.family, "url": url}
    out: dict[str, Any] = {"@type": "Person", "name": name.display, "familyName": name.family}
    if name.given:
        out["givenName"] = name.given
    out["url"] = url
    if author is not None and author.orcid:
        out["sameAs"] = ORCID_URL + author.orcid
    return out


def _identifiers(paper: Paper) -> list[dict[str, str]]:
    pairs = (("DOI", paper.doi), ("PMID", paper.pmid), ("PMCID", paper.pmcid))
    return [{"@type": "PropertyValue", "propertyID": k, "value": v} for k, v in pairs if v]


def _same_as(paper: Paper) -> list[str]:
    out = []
    if paper.doi:
        out.append(DOI_URL + paper.doi)
    if paper.pmid:
        out.append(f"{PUBMED_URL}{paper.pmid}/")
    if paper.url:
        out.append(paper.url)
    return out


def _container(paper: Paper) -> dict[str, Any] | None:
    """Periodical ⊃ PublicationVolume ⊃ PublicationIssue, as far as the entry says."""
    if not paper.container:
        return None
    if paper.entry_type != "article":
        return {"@type": "Book", "name": paper.container}
    node: dict[str, Any] = {"@type": "Periodical", "name": paper.container}
    if paper.volume:
        node = {"@type": "PublicationVolume", "volumeNumber": paper.volume, "isPartOf": node}
    if paper.number:
        node = {"@type": "PublicationIssue", "issueNumber": paper.number, "isPartOf": node}
    return node


def paper_jsonld(paper: Paper, h: Any) -> Markup:
    corpus = h.ctx.corpus
    url = h.canonical()
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalScholarlyArticle",
        "@id": url,
        "url": url,
        "name": paper.title,
        "headline": paper.title,
        "editor" if paper.edited else "author": [
            _agent(c.name, corpus.authors.get(c.author_id), _absolute(h, "author", c.author_id))
            for c in paper.authors
        ],
        "datePublished": publication_date(paper, "-"),
    }
    container = _container(paper)
    if container:
        data["isPartOf"] = container
    if paper.first_page:
        data["pageStart"] = paper.first_page
    if paper.last_page:
        data["pageEnd"] = paper.last_page
    if paper.pages:  # pages only: schema.org has no article number (eid), so none is said
        data["pagination"] = paper.pages
    if paper.publisher:
        data["publisher"] = {"@type": "Organization", "name": paper.publisher}
    identifiers = _identifiers(paper)
    if identifiers:
        data["identifier"] = identifiers
    same = _same_as(paper)
    if same:
        data["sameAs"] = same
    annotation = corpus.annotations.get(paper.key)
    if annotation is not None and annotation.design:
        data["publicationType"] = DESIGNS[annotation.design][0]
    conditions = corpus.conditions_by_paper.get(paper.key, ())
    if conditions:
        data["about"] = [
            {"@type": "MedicalCondition", "name": corpus.conditions[cid].name,
             "url": _absolute(h, "condition", cid)}
            for cid in conditions
        ]
    cited = corpus.cites.get(paper.key, ())
    if cited:
        data["citation"] = [_work(corpus.papers[k], h) for k in cited]
    if paper.abstract:
        data["abstract"] = paper.abstract
    if paper.language:
        data["inLanguage"] = paper.language
    return json_script(data)


def _work(paper: Paper, h: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "ScholarlyArticle", "name": paper.title,
                           "url": _absolute(h, "paper", paper.key)}
    if paper.doi:
        out["sameAs"] = DOI_URL + paper.doi
    return out


def condition_jsonld(condition: Condition, papers: tuple[Paper, ...], h: Any) -> Markup:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalCondition",
        "@id": h.canonical(),
        "url": h.canonical(),
        "name": condition.name,
    }
    if condition.synonyms:
        data["alternateName"] = list(condition.synonyms)
    data["description"] = " ".join(condition.description.split())
    if papers:
        data["subjectOf"] = [_work(p, h) for p in papers]
    return json_script(data)


def author_jsonld(author: Author, h: Any) -> Markup:
    name = author.name
    url = h.canonical()
    data: dict[str, Any] = {"@context": "https://schema.org", "@id": url}
    data.update(_agent(name, author, url))
    if author.affiliation:
        data["affiliation"] = {"@type": "Organization", "name": author.affiliation}
    same = [ORCID_URL + author.orcid] if author.orcid else []
    if author.url:
        same.append(author.url)
    if same:
        data["sameAs"] = same
    return json_script(data)


# --- COinS -------------------------------------------------------------------------------------

def coins(paper: Paper) -> str:
    """The ``title`` of a ``<span class="Z3988">``: an OpenURL ContextObject in KEV form."""
    pairs: list[tuple[str, str]] = [("ctx_ver", "Z39.88-2004")]
    if paper.entry_type == "article":
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"), ("rft.genre", "article"),
                  ("rft.atitle", paper.title)]
        if paper.container:
            pairs.append(("rft.jtitle", paper.container))
    elif paper.entry_type in ("book", "incollection", "inbook", "inproceedings"):
        genre = {"book": "book", "inproceedings": "proceeding"}.get(paper.entry_type, "bookitem")
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:book"), ("rft.genre", genre)]
        if paper.entry_type == "book":
            pairs.append(("rft.btitle", paper.title))
        else:
            pairs.append(("rft.atitle", paper.title))
            if paper.container:
                pairs.append(("rft.btitle", paper.container))
    else:
        pairs += [("rft_val_fmt", "info:ofi/fmt:kev:mtx:dc"), ("rft.type", "document"),
                  ("rft.title", paper.title)]
    pairs.append(("rft.date", publication_date(paper, "-")))
    optional = (
        ("rft.volume", paper.volume),
        ("rft.issue", paper.number),
        ("rft.spage", paper.first_page),
        ("rft.epage", paper.last_page),
        ("rft.artnum", paper.eid),
        ("rft.pub", paper.publisher),
    )
    pairs += [(k, v) for k, v in optional if v]
    creator = "rft.creator" if paper.entry_type not in (
        "article", "book", "incollection", "inbook", "inproceedings") else "rft.au"
    for credit in paper.authors:
        pairs.append((creator, credit.name.inverted))
    if paper.doi:
        pairs.append(("rft_id", f"info:doi/{paper.doi}"))
    if paper.pmid:
        pairs.append(("rft_id", f"info:pmid/{paper.pmid}"))
    return urlencode(pairs)
