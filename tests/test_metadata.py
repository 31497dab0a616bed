"""Metadata for machines: Highwire Press tags against the BibTeX, JSON-LD read by extruct, COinS
and OpenGraph, as Zotero, Google Scholar and search engines read them."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs

import bibtexparser
import extruct
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from scratch import EVIL_TITLE
from sitetools import REPO

from ketsite.sources.latex import latex_to_unicode

BASE = "https://ketsite.netlify.app/"


class HeadParser(HTMLParser):
    """meta name/property tags, COinS spans and JSON-LD script bodies of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: list[tuple[str, str]] = []
        self.properties: list[tuple[str, str]] = []
        self.coins: list[str] = []
        self.scripts: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and "name" in a:
            self.meta.append((a["name"], a["content"]))
        if tag == "meta" and "property" in a:
            self.properties.append((a["property"], a["content"]))
        if tag == "span" and "Z3988" in a.get("class", "").split():
            self.coins.append(a["title"])
        if tag == "script":
            self.scripts.append(a)


def head(path: Path) -> HeadParser:
    parser = HeadParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser




def bib_entries() -> dict[str, tuple[str, dict[str, str]]]:
    out = {}
    for path in sorted((REPO / "bib").glob("*.bib")):
        for entry in bibtexparser.parse_string(path.read_text(encoding="utf-8")).entries:
            out[entry.key] = (entry.entry_type, {f.key: f.value for f in entry.fields})
    return out


def expected_highwire(entry_type: str, fields: dict[str, str]) -> list[tuple[str, str]]:
    """What the Highwire tags must say, worked out from the BibTeX entry alone."""
    tags = [("citation_title", latex_to_unicode(fields["title"]))]
    for raw in split_multiple_persons_names(fields["author"]):
        parts = parse_single_name_into_parts(raw, strict=False)
        family = " ".join(parts.von + parts.last)
        tags.append(("citation_author", latex_to_unicode(f"{family}, {' '.join(parts.first)}")))
    tags.append(("citation_publication_date",
                 fields["date"].replace("-", "/") if "date" in fields else fields["year"]))
    if entry_type == "article":
        tags.append(("citation_journal_title", latex_to_unicode(fields["journal"])))
    if entry_type == "incollection":
        tags.append(("citation_inbook_title", latex_to_unicode(fields["booktitle"])))
    for field, tag in (("volume", "citation_volume"), ("number", "citation_issue")):
        if field in fields:
            tags.append((tag, latex_to_unicode(fields[field])))  # 11--12 is 11–12
    if "pages" in fields:
        first, _, last = fields["pages"].partition("--")
        tags.append(("citation_firstpage", first))
        if last:
            if first.isdigit() and last.isdigit() and len(last) < len(first):
                last = first[: len(first) - len(last)] + last  # 287--93 → 293
            tags.append(("citation_lastpage", last))
    elif "eid" in fields:
        tags.append(("citation_firstpage", fields["eid"]))
    if "doi" in fields:
        tags.append(("citation_doi", fields["doi"]))
    if "pmid" in fields:
        tags.append(("citation_pmid", fields["pmid"]))
    if "language" in fields:
        tags.append(("citation_language", fields["language"]))
    if "doi" in fields:
        tags.append(("citation_public_url", "https://doi.org/" + fields["doi"]))
    return tags


def test_highwire_tags_match_the_bibtex_field_by_field(bundled_site, corpus):
    entries = bib_entries()
    assert len(entries) == 44
    for key, (entry_type, fields) in entries.items():
        page = bundled_site / "papers" / corpus.papers[key].slug / "index.html"
        tags = [(n, c) for n, c in head(page).meta if n.startswith("citation_")]
        assert tags == expected_highwire(entry_type, fields), key


def test_highwire_examples_as_zotero_reads_them(bundled_site):
    tags = head(bundled_site / "papers" / "israel2021ketamine" / "index.html").meta
    d = dict(tags)
    assert [c for n, c in tags if n == "citation_author"][:2] == ["Israel, J. E.", "St Pierre, S."]
    assert d["citation_publication_date"] == "2021/11/08"
    assert d["citation_doi"] == "10.52965/001c.25535"
    assert d["citation_pmid"] == "34746491"
    assert d["citation_public_url"] == "https://doi.org/10.52965/001c.25535"
    salas = dict(head(bundled_site / "papers" / "salas2012ketamine" / "index.html").meta)
    assert (salas["citation_firstpage"], salas["citation_lastpage"]) == ("287", "293")


def test_no_coins_on_paper_pages(bundled_site):
    for page in (bundled_site / "papers").glob("*/index.html"):
        assert "Z3988" not in page.read_text(encoding="utf-8"), page


def test_opengraph(bundled_site):
    page = bundled_site / "papers" / "noppers2011absence" / "index.html"
    og = dict(head(page).properties)
    assert og["og:type"] == "article"
    assert og["og:title"] == dict(head(page).meta)["citation_title"]
    assert og["og:url"] == BASE + "papers/noppers2011absence/"
    assert og["article:published_time"] == "2011"


def jsonld(path: Path, base: str = BASE) -> list[dict]:
    data = extruct.extract(path.read_text(encoding="utf-8"), base_url=base, syntaxes=["json-ld"])
    return data["json-ld"]


def test_paper_jsonld(bundled_site, corpus):
    (data,) = jsonld(bundled_site / "papers" / "israel2021ketamine" / "index.html")
    assert data["@type"] == "MedicalScholarlyArticle"
    assert data["name"] == "Ketamine for the Treatment of Chronic Pain: A Comprehensive Review"
    assert data["url"] == BASE + "papers/israel2021ketamine/"
    assert data["datePublished"] == "2021-11-08"
    assert [a["@type"] for a in data["author"]] == ["Person"] * 8
    assert data["author"][0] == {"@type": "Person", "name": "J. E. Israel", "familyName": "Israel",
                                 "givenName": "J. E.", "url": BASE + "authors/israel-j-e/"}
    assert {i["propertyID"]: i["value"] for i in data["identifier"]} == {
        "DOI": "10.52965/001c.25535", "PMID": "34746491"}
    assert data["isPartOf"]["issueNumber"] == "1"
    assert "pagination" not in data  # its article number (eid 25535) is no page description
    assert data["isPartOf"]["isPartOf"]["volumeNumber"] == "9"
    assert data["isPartOf"]["isPartOf"]["isPartOf"]["name"] == "Health Psychology Research"
    about = [(c["@type"], c["name"]) for c in data["about"]]
    assert about == [("MedicalCondition", corpus.conditions[c].name)
                     for c in corpus.conditions_by_paper["israel2021ketamine"]]
    assert ("MedicalCondition", "Fibromyalgia") in about
    cited = [c["url"] for c in data["citation"]]
    assert sorted(cited) == sorted(BASE + f"papers/{k}/"
                                   for k in corpus.reviews["israel-2021"].references)
    for key, paper in corpus.papers.items():  # every paper page carries a readable record
        (record,) = jsonld(bundled_site / "papers" / paper.slug / "index.html")
        assert record["name"] == paper.title, key
        assert len(record["author"]) == len(paper.authors)


def test_annotated_design_is_the_publication_type(bundled_site):
    (data,) = jsonld(bundled_site / "papers" / "noppers2011absence" / "index.html")
    assert data["publicationType"] == "Randomised controlled trial"
    (data,) = jsonld(bundled_site / "papers" / "leal2024arketamine" / "index.html")
    assert "publicationType" not in data


def test_condition_page_jsonld_and_one_coins_per_paper(bundled_site, corpus):
    page = bundled_site / "conditions" / "complex-regional-pain-syndrome" / "index.html"
    (data,) = jsonld(page)
    condition = corpus.conditions["complex-regional-pain-syndrome"]
    assert data["@type"] == "MedicalCondition"
    assert data["name"] == condition.name
    assert data["alternateName"] == list(condition.synonyms)
    papers = corpus.papers_by_condition["complex-regional-pain-syndrome"]
    assert sorted(s["url"] for s in data["subjectOf"]) == sorted(
        BASE + f"papers/{corpus.papers[k].slug}/" for k in papers)
    spans = head(page).coins
    assert len(spans) == len(papers)
    titles = set()
    for span in spans:
        kev = parse_qs(span)
        assert kev["ctx_ver"] == ["Z39.88-2004"]
        title = (kev.get("rft.atitle") or kev.get("rft.title"))[0]
        titles.add(title)
        paper = next(p for p in corpus.papers.values() if p.title == title)
        assert kev["rft.date"] == [paper.date or str(paper.year)]
        if paper.doi:
            assert f"info:doi/{paper.doi}" in kev["rft_id"]
        assert kev.get("rft.au", kev.get("rft.creator")) == [c.name.inverted for c in paper.authors]
    assert titles == {corpus.papers[k].title for k in papers}


def test_author_jsonld_with_and_without_orcid(bundled_site, scratch_site):
    (data,) = jsonld(scratch_site / "authors" / "smith-jane" / "index.html",
                     "https://scratch.example.org/")
    assert data["@type"] == "Person"
    assert data["name"] == "Jane Smith"
    assert data["sameAs"] == ["https://orcid.org/0000-0002-1825-0097"]
    assert data["affiliation"] == {"@type": "Organization", "name": "Scratch University"}
    (data,) = jsonld(bundled_site / "authors" / "cohen-s-p" / "index.html")
    assert data["@type"] == "Person" and data["familyName"] == "Cohen"
    assert "sameAs" not in data  # no ORCID is known for any seed author
    # The paper page says the same about the author.
    (paper,) = jsonld(scratch_site / "papers" / "reviewa2021" / "index.html",
                      "https://scratch.example.org/")
    assert paper["author"][0]["sameAs"] == "https://orcid.org/0000-0002-1825-0097"


def test_corporate_author_is_an_organization(scratch_site):
    (data,) = jsonld(scratch_site / "papers" / "iasp2019classification" / "index.html",
                     "https://scratch.example.org/")
    assert data["author"] == [{
        "@type": "Organization", "name": "International Association for the Study of Pain",
        "url": "https://scratch.example.org/authors/international-association-for-the-study-of-pain/",
    }]
    tags = head(scratch_site / "papers" / "iasp2019classification" / "index.html").meta
    assert ("citation_author", "International Association for the Study of Pain") in tags


def test_jsonld_cannot_close_its_script_element(scratch_site):
    page = scratch_site / "papers" / "breakout2020json" / "index.html"
    html = page.read_text(encoding="utf-8")
    title = 'Ends early </script><script>alert("x")</script> or not'
    assert html.count("<script") == 1  # the JSON-LD block; the page has no other script
    assert "</script><script>" not in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "\\u003c/script\\u003e" in block
    (data,) = jsonld(page, "https://scratch.example.org/")
    assert data["name"] == title
    (data,) = jsonld(scratch_site / "papers" / "smith2020tricky" / "index.html",
                     "https://scratch.example.org/")
    assert data["name"] == EVIL_TITLE
    assert data["datePublished"] == "2020-03-05"
