"""Citation exports, re-read by independent readers: BibTeX by bibtexparser, RIS by rispy, CSL-JSON
by citeproc-py; each must give back what the sources say."""

from __future__ import annotations

import json
from pathlib import Path

import bibtexparser
import rispy
from citeproc.source.json import CiteProcJSON
from sitetools import REPO, parse_page


def source_entries(root: Path = REPO) -> dict[str, tuple[str, dict[str, str]]]:
    """Every entry of bib/*.bib as bibtexparser reads it: key → (type, {field: raw value})."""
    out = {}
    for path in sorted((root / "bib").glob("*.bib")):
        library = bibtexparser.parse_string(path.read_text(encoding="utf-8"))
        assert not library.failed_blocks
        for entry in library.entries:
            fields = {f.key.lower(): f.value for f in entry.fields}
            out[entry.key] = (entry.entry_type.lower(), fields)
    return out


def exported_entries(path: Path) -> dict[str, tuple[str, dict[str, str]]]:
    library = bibtexparser.parse_string(path.read_text(encoding="utf-8"))
    assert not library.failed_blocks
    keys = [e.key for e in library.entries]
    assert len(keys) == len(set(keys))
    return {e.key: (e.entry_type.lower(), {f.key.lower(): f.value for f in e.fields})
            for e in library.entries}


def test_library_bibtex_equals_the_sources(bundled_site):
    source = source_entries()
    assert len(source) == 44
    exported = exported_entries(bundled_site / "data" / "library.bib")
    assert exported == source
    # Field order is the source's too.
    text = (bundled_site / "data" / "library.bib").read_text(encoding="utf-8")
    assert "journal = {Arthritis Care \\& Research (Hoboken)}" in text.replace("  ", " ")


def test_each_paper_has_its_own_bibtex_ris_and_csl_json(bundled_site, corpus):
    source = source_entries()
    for key, paper in corpus.papers.items():
        folder = bundled_site / "papers" / paper.slug
        assert exported_entries(folder / f"{paper.slug}.bib") == {key: source[key]}
        (record,) = rispy.loads((folder / f"{paper.slug}.ris").read_text(encoding="utf-8"))
        assert record["id"] == key
        (item,) = json.loads((folder / f"{paper.slug}.json").read_text(encoding="utf-8"))
        assert item["id"] == key
        links = parse_page(folder / "index.html").links
        for ext in ("bib", "ris", "json"):
            assert f"{paper.slug}.{ext}" in links


def test_ris_reads_back_as_the_source(bundled_site, corpus):
    records = rispy.loads((bundled_site / "data" / "library.ris").read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == list(corpus.papers)
    for record in records:
        paper = corpus.papers[record["id"]]
        assert record["type_of_reference"] == {
            "article": "JOUR", "incollection": "CHAP", "misc": "GEN"}[paper.entry_type]
        assert record["authors"] == [c.name.inverted for c in paper.authors]
        assert record["title"] == paper.title
        assert record["year"] == str(paper.year)
        assert record.get("secondary_title") == paper.container  # journal or book
        assert record.get("volume") == paper.volume
        assert record.get("number") == paper.number
        assert record.get("start_page") == (paper.first_page or paper.eid)
        assert record.get("end_page") == paper.last_page
        assert record.get("doi") == paper.doi
        assert record.get("accession_number") == paper.pmid
    by_key = {r["id"]: r for r in records}
    # Spot checks against the BibTeX as written.
    assert by_key["salas2012ketamine"]["start_page"] == "287"
    assert by_key["salas2012ketamine"]["end_page"] == "293"  # pages = {287--93}
    assert by_key["israel2021ketamine"]["date"] == "2021/11/08/"
    assert by_key["israel2021ketamine"]["accession_number"] == "34746491"
    assert by_key["richebe2005ketamine"]["authors"][0] == "Richebé, P."
    assert by_key["hawker2011measures"]["secondary_title"] == "Arthritis Care & Research (Hoboken)"
    assert by_key["mills2019chronic"]["notes"] == ["PMCID: PMC6676152"]
    sinner = by_key["sinner2008ketamine"]
    assert sinner["secondary_title"] == "Handbook of Experimental Pharmacology"


def test_csl_json_reads_back_as_the_source(bundled_site, corpus):
    items = json.loads((bundled_site / "data" / "library.json").read_text(encoding="utf-8"))
    source = CiteProcJSON(items)
    assert len(source) == len(corpus.papers) == 44
    for key, paper in corpus.papers.items():
        ref = source[key.lower()]
        assert str(ref.title) == paper.title
        assert [(str(n.family), str(n.given)) for n in ref.author] == [
            (c.name.family, c.name.given) for c in paper.authors
        ]
        assert ref.issued.year == paper.year
        if paper.journal:
            assert str(ref.container_title) == paper.journal
        for csl, value in (("DOI", paper.doi), ("PMID", paper.pmid), ("volume", paper.volume),
                           ("issue", paper.number), ("number", paper.eid)):
            if value:
                assert str(ref[csl]) == value
            else:
                assert csl not in ref
    assert source["israel2021ketamine"].issued.month == 11
    assert source["israel2021ketamine"].issued.day == 8
    assert str(source["salas2012ketamine"].page) == "287-293"
    assert source["israel2021ketamine"].type == "article-journal"


def test_collections_hold_their_pages_papers(bundled_site, corpus):
    def keys(path: Path) -> list[str]:
        return list(exported_entries(path))

    site = bundled_site
    assert set(keys(site / "conditions/fibromyalgia/fibromyalgia.bib")) == set(
        corpus.papers_by_condition["fibromyalgia"])
    assert "noppers2011absence" in keys(site / "conditions/fibromyalgia/fibromyalgia.bib")
    assert len(keys(site / "authors/cohen-s-p/cohen-s-p.bib")) == 5
    spitaleri = keys(site / "reviews/spitaleri-2025/spitaleri-2025.bib")
    review = corpus.reviews["spitaleri-2025"]
    assert spitaleri == ["spitaleri2025ketamine", *review.references]
    israel = keys(site / "reviews/israel-2021/israel-2021.bib")
    assert israel[0] == "israel2021ketamine" and len(israel) == 1 + 5 + 5
    ris = rispy.loads((site / "conditions/fibromyalgia/fibromyalgia.ris").read_text("utf-8"))
    assert sorted(r["id"] for r in ris) == sorted(corpus.papers_by_condition["fibromyalgia"])
    items = json.loads((site / "authors/cohen-s-p/cohen-s-p.json").read_text("utf-8"))
    assert sorted(i["id"] for i in items) == sorted(corpus.papers_by_author["cohen-s-p"])
    for page, stem in (("conditions/fibromyalgia", "fibromyalgia"),
                       ("authors/cohen-s-p", "cohen-s-p"), ("reviews/israel-2021", "israel-2021")):
        links = parse_page(site / page / "index.html").links
        assert {f"{stem}.bib", f"{stem}.ris", f"{stem}.json"} <= set(links), page
    links = parse_page(site / "papers" / "index.html").links
    assert {"../data/library.bib", "../data/library.ris", "../data/library.json"} <= set(links)


def test_corporate_author_stays_whole_in_every_format(scratch_site):
    folder = scratch_site / "papers" / "iasp2019classification"
    bib = (folder / "iasp2019classification.bib").read_text(encoding="utf-8")
    assert "author  = {{International Association for the Study of Pain}}" in bib
    (record,) = rispy.loads((folder / "iasp2019classification.ris").read_text(encoding="utf-8"))
    assert record["authors"] == ["International Association for the Study of Pain"]
    (item,) = json.loads((folder / "iasp2019classification.json").read_text(encoding="utf-8"))
    assert item["author"] == [{"literal": "International Association for the Study of Pain"}]
    ref = CiteProcJSON([item])["iasp2019classification"]
    assert str(ref.author[0].literal) == "International Association for the Study of Pain"


def test_exports_carry_awkward_text_unchanged(scratch_site):
    folder = scratch_site / "papers" / "smith2020tricky"
    (entry,) = exported_entries(folder / "smith2020tricky.bib").values()
    assert entry[1]["title"] == r"Tricky <script>alert(1)</script> \& friends: a randomised trial"
    (item,) = json.loads((folder / "smith2020tricky.json").read_text(encoding="utf-8"))
    assert item["title"] == "Tricky <script>alert(1)</script> & friends: a randomised trial"
    assert item["issued"] == {"date-parts": [[2020, 3, 5]]}


def test_an_author_of_one_paper_downloads_that_papers_files_under_their_name(bundled_site, corpus):
    """An author of a single paper has no export files of their own (the paper's are the same
    bytes); their page links to the paper's, saved under the author's name."""
    import re

    single = sorted(a for a, keys in corpus.papers_by_author.items() if len(keys) == 1)
    assert single, "the seeds have authors of a single paper"
    for aid in single[:5]:
        paper = corpus.papers[corpus.papers_by_author[aid][0]]
        page = (bundled_site / "authors" / aid / "index.html").read_text("utf-8")
        for ext in ("bib", "ris", "json"):
            href = f"../../papers/{paper.slug}/{paper.slug}.{ext}"
            assert re.search(rf'<a href="{re.escape(href)}" download="{aid}\.{ext}"', page), aid
            assert not (bundled_site / "authors" / aid / f"{aid}.{ext}").exists()
        assert list(exported_entries(bundled_site / "papers" / paper.slug / f"{paper.slug}.bib")) \
            == [paper.key]
    several = next(a for a, keys in corpus.papers_by_author.items() if len(keys) > 1)
    page = (bundled_site / "authors" / several / "index.html").read_text("utf-8")
    assert f'<a href="{several}.bib" download type=' in page
