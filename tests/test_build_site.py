"""End to end: the bundled sources build into a complete, cross-linked, reproducible site."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sitetools import REPO, SEEDS, broken_links, page_text, parse_page

from ketsite.build import build


@pytest.fixture
def site(bundled_site: Path) -> Path:
    """The bundled site, built once per session (conftest.bundled_site)."""
    return bundled_site


def seed_dois() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    text = text.replace("\u2011", "-")
    return {m.rstrip(".") for m in re.findall(r"10\.\d{4,9}/[^\s]+", text)}


def test_every_internal_link_and_anchor_resolves(site):
    assert broken_links(site) == []


def test_every_seed_doi_has_exactly_one_paper_page(site):
    dois = seed_dois()
    assert len(dois) == 42  # every DOI the two seeds print (Sun 2023 and Spitaleri have none)
    pages = sorted((site / "papers").glob("*/index.html"))
    for doi in dois:
        # A page "holds" a DOI when it links to it and shows it as its own "DOI: …" (pages also
        # name cited papers' DOIs in their JSON-LD and cite panel).
        holders = [p for p in pages if f"https://doi.org/{doi}" in parse_page(p).links
                   and parse_page(p).h1]
        holders = [p for p in holders if "DOI: " in page_text(p)
                   and doi in page_text(p).split("DOI: ")[1].split()[0]]
        assert len(holders) == 1, (doi, holders)
        text = page_text(holders[0])
        assert re.search(r"\b(19|20)\d\d\b", text)


def test_paper_page_shows_title_year_authors_and_identifiers(site):
    page = site / "papers" / "noppers2011absence" / "index.html"
    info = parse_page(page)
    assert info.h1 == [
        "Absence of long-term analgesic effect from a short-term S-ketamine infusion on "
        "fibromyalgia pain: A randomized, prospective, double-blind, active "
        "placebo-controlled trial"
    ]
    text = page_text(page)
    assert "2011" in text and "European Journal of Pain" in text and "942–949" in text
    assert "../../authors/dahan-a/" in info.links
    assert "https://doi.org/10.1016/j.ejpain.2011.03.008" in info.links
    assert "../../conditions/fibromyalgia/" in info.links
    assert "../../reviews/spitaleri-2025/#ref-21" in info.links


def test_page_counts_match_the_sources(site):
    bib_keys = re.findall(r"^@\w+\{([^,]+),", "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "bib").glob("*.bib")), re.M)
    assert len(list((site / "papers").glob("*/index.html"))) == len(bib_keys) == 44
    conditions = list((REPO / "content" / "conditions").glob("*.yaml"))
    assert len(list((site / "conditions").glob("*/index.html"))) == len(conditions)
    reviews = list((REPO / "content" / "reviews").glob("*.yaml"))
    assert len(list((site / "reviews").glob("*/index.html"))) == len(reviews) == 2
    for index in ("index.html", "404.html", "papers/index.html", "authors/index.html",
                  "conditions/index.html", "reviews/index.html", "search/index.html"):
        assert (site / index).is_file(), index


def test_author_page_lists_all_papers_and_coauthors(site):
    page = site / "authors" / "cohen-s-p" / "index.html"
    info = parse_page(page)
    papers = {link for link in info.links
              if link.startswith("../../papers/") and link != "../../papers/"}
    assert len(papers) == 5
    assert "../hooten-w-m/" in info.links
    assert "Hooten" in page_text(page)


def test_review_page_lists_references_in_order(site):
    page = site / "reviews" / "spitaleri-2025" / "index.html"
    html = page.read_text(encoding="utf-8")
    order = re.findall(
        r'<li id="ref-(\d+)">\s*<a class="paper-title" href="\.\./\.\./papers/([^/]+)/', html)
    assert [int(n) for n, _ in order] == list(range(1, 34))
    assert order[0][1] == "cohen2021chronic" and order[30][1] == "israel2021ketamine"
    text = page_text(page)
    assert "Creative Commons Attribution 4.0" in text
    israel = page_text(site / "reviews" / "israel-2021" / "index.html")
    # the PubMed-style seed states no licence: none is shown, and the page says so
    assert "Licence: not stated in the source" in israel and "Creative Commons" not in israel
    assert "Citing articles (5)" in israel
    assert "The source counts 13 citing articles; these are the 5 it lists." in israel
    assert "shares no references" in israel


def test_condition_page_lists_reviews_and_papers(site):
    page = site / "conditions" / "fibromyalgia" / "index.html"
    info = parse_page(page)
    assert "../../papers/noppers2011absence/" in info.links
    assert "../../reviews/israel-2021/" in info.links


def test_two_builds_are_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build(REPO, a)
    build(REPO, b)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_cli_build_reports_pages_and_exit_code(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "ketsite.cli", "build", "--src", str(REPO),
         "--out", str(tmp_path / "o")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"built \d+ pages", proc.stdout)
    proc = subprocess.run([sys.executable, "-m", "ketsite.cli", "frobnicate"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    proc = subprocess.run([sys.executable, "-m", "ketsite.cli", "build", "--help"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "--out" in proc.stdout


def test_what_readers_and_screen_readers_are_told(site):
    """Language, direction, units, place and counts, as the reader review asked for."""
    richebe = (site / "papers" / "richebe2005ketamine" / "index.html").read_text(encoding="utf-8")
    assert '<h1 dir="auto"><span lang="fr">Kétamine à faibles doses' in richebe  # BibTeX language
    paper = (site / "papers" / "campbellfleming2008use" / "index.html").read_text(encoding="utf-8")
    # below an index, its section link is where the reader is, not the page itself
    assert '<a href="../" aria-current="true">Papers</a>' in paper
    assert 'aria-current="page">Papers' not in paper
    assert ('<a href="https://github.com/ketsite/ketsite/blob/main/CONTRIBUTING.md">'
            "see how to contribute</a>") in paper  # not the home page, which says nothing of it
    home = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'Fibromyalgia <span class="count">\d+<span class="visually-hidden"> '
                     r'papers</span></span>', home)
    reviews = page_text(site / "reviews" / "index.html")
    assert "cited by 13 (5 listed)" in reviews and "no citing articles listed" in reviews
    # the seed reviews' aim, methods and conclusion are their abstract's words: not shown twice
    for rid in ("israel-2021", "spitaleri-2025"):
        assert 'id="h-aim"' not in (site / "reviews" / rid / "index.html").read_text("utf-8")


def test_a_title_in_another_language_is_marked_so_wherever_it_is_shown(site):
    """A screen reader reads Richebé 2005's French title in French, and the English translation
    PubMed gives after it in brackets in English: on its page, in lists, in the matrix."""
    french = ('<span lang="fr">Kétamine à faibles doses: Antihyperalgésique, non analgésique'
              '</span> <span lang="en">[Low doses ketamine: Antihyperalgesic, non-analgesic]'
              '</span>')
    page = (site / "papers" / "richebe2005ketamine" / "index.html").read_text(encoding="utf-8")
    assert f'<h1 dir="auto">{french}</h1>' in page
    assert f"<q>{french}</q>" in page  # the annotation's quotation of it
    for style in ("apa", "vancouver"):  # the cite panel: the title, not the names and numbers
        name = "Richebé, P" if style == "apa" else "Richebé P"
        assert f'id="cite-{style}">{name}' in page
        reference = page.split(f'id="cite-{style}">', 1)[1].split("</p>", 1)[0]
        assert '<span lang="fr">Kétamine à faibles doses: Antihyperalgésique, non ' \
            'analgésique</span> [Low doses' in reference
    for listing in ("reviews/spitaleri-2025/index.html", "conditions/cancer-pain/index.html",
                    "reviews/index.html"):
        assert french in (site / listing).read_text(encoding="utf-8"), listing
    noppers = (site / "papers" / "noppers2011absence" / "index.html").read_text(encoding="utf-8")
    assert 'lang="' not in noppers.split("<body", 1)[1]  # an English title on an English site


def test_language_names_and_codes_become_one_tag():
    from ketsite.model.languages import bcp47

    assert [bcp47(v) for v in ("fr", "FR", "fre", "French", "pt-BR", "pt_br", "Klingon", "")] == [
        "fr", "fr", "fr", "fr", "pt-BR", "pt-br", None, None]
