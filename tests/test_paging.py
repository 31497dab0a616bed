"""Library-wide pages stay bounded: the papers index on numbered pages, the authors index one page
per letter, the reviews matrix and the search page's fallback shortened, the feed the newest
entries, the sitemap split into files — each only beyond ``ketsite.yaml``'s ``pagination`` limits,
so a small site keeps its single pages.

The paged site is the bundled sources with small limits (``pagetypes.PAGED_LIMITS``), in both link
styles; the bundled site itself (under every default limit) shows the unpaged pages.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pagetypes import build_paged_site
from sitetools import REPO, broken_links, parse_page, record_renders, resolve_link, write_files

from ketsite.build import build, load_project, plan
from ketsite.config import Pagination, load_config
from ketsite.diagnostics import Diagnostics
from ketsite.model.names import slugify
from ketsite.site.paging import YearSlice, page_count, paper_pages
from ketsite.site.routes import LinkStyle
from ketsite.sources.discover import SourceFile

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def paged(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("paged")
    return {style.value: build_paged_site(root / style.value, style) for style in LinkStyle}


@pytest.fixture(scope="module")
def bundled_corpus():
    diags = Diagnostics()
    return load_project(REPO, diags).corpus


def _html(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _papers_listed(page: Path) -> list[str]:
    """Paper slugs of the entries of a papers index page, in order."""
    lists = re.findall(r'<ol class="paper-list">(.*?)</ol>', _html(page), re.S)
    return [slug for block in lists
            for slug in re.findall(r'<li><a class="paper-title" href="[./]*?(?:papers/)?'
                                   r'([^/"]+)/(?:index\.html)?"', block)]


def _pager(page: Path) -> str:
    html = _html(page)
    top = re.findall(r'<nav aria-label="Pages" class="pager">(.*?)</nav>', html, re.S)
    bottom = re.findall(r'<nav aria-label="Pages \(end of list\)" class="pager">(.*?)</nav>',
                        html, re.S)
    assert len(top) == 1 and bottom == top, f"{page}: not one pager above and below the list"
    assert html.index(top[0]) < html.index('class="paper-list"') < html.rindex(bottom[0])
    return top[0]


def _target(site: Path, page: Path, href: str) -> Path:
    resolved = resolve_link(site, page, href)
    assert resolved is not None
    return resolved[0].resolve()


# --------------------------------------------------------------------------- configuration


def _config(text: str) -> tuple[object, list[str]]:
    diags = Diagnostics()
    config = load_config(SourceFile("ketsite.yaml", Path("ketsite.yaml"), text), diags)
    return config, [d.format() for d in diags.sorted()]


def test_pagination_is_read_from_ketsite_yaml_with_defaults_for_the_rest():
    config, errors = _config("title: T\ndescription: D\nurl: https://x.org\n"
                             "pagination:\n  papers: 20\n  feed: 7\n")
    assert errors == []
    assert config.pagination == Pagination(papers=20, feed=7)  # type: ignore[attr-defined]
    assert Pagination().feed == 50 and Pagination().sitemap == 50_000


@pytest.mark.parametrize("text, message", [
    ("pagination:\n  paper: 20\n", "unknown key 'paper' (did you mean 'papers'?)"),
    ("pagination:\n  feed: 0\n", "'pagination.feed' must be at least 1"),
    ("pagination:\n  sitemap: 60000\n", "allows at most 50000 URLs per file"),
    ("pagination:\n  papers: many\n", "must be a whole number"),
    ("pagination: 20\n", "'pagination' must be a mapping"),
    ("paginaton:\n  papers: 20\n", "(did you mean 'pagination'?)"),
])
def test_bad_pagination_is_an_error_at_its_line(text, message):
    _, errors = _config("title: T\ndescription: D\nurl: https://x.org\n" + text)
    assert len(errors) == 1 and message in errors[0], errors
    assert errors[0].startswith("ketsite.yaml:4:") or errors[0].startswith("ketsite.yaml:5:")


# --------------------------------------------------------------------------- splitting papers


def test_pages_keep_whole_years_together_and_cut_only_a_year_too_big_for_one_page():
    assert paper_pages([(2024, 3), (2023, 4), (2022, 2)], 7) == (
        (YearSlice(2024, 0, 3), YearSlice(2023, 0, 4)), (YearSlice(2022, 0, 2),))
    assert paper_pages([(2024, 2), (2023, 17), (2022, 1)], 5) == (
        (YearSlice(2024, 0, 2),), (YearSlice(2023, 0, 5),), (YearSlice(2023, 5, 10),),
        (YearSlice(2023, 10, 15),), (YearSlice(2023, 15, 17), YearSlice(2022, 0, 1)))
    assert paper_pages([], 5) == ((),)  # an empty library still has its index
    assert paper_pages([(2020, 5)], 5) == ((YearSlice(2020, 0, 5),),)


@pytest.mark.parametrize("limits", [Pagination(), Pagination(papers=3, authors=10)])
def test_the_page_count_the_sitemap_plans_with_is_the_number_of_pages_built(limits):
    diags = Diagnostics()
    project = load_project(REPO, diags)
    project = dataclasses.replace(
        project, config=dataclasses.replace(project.config, pagination=limits))
    ctx, _, _ = plan(project, LinkStyle.PRETTY, diags)
    assert not diags.has_errors
    assert page_count(project.corpus, project.config) == len(ctx.routes.pages())


# --------------------------------------------------------------------------- the small site


def test_a_site_under_every_limit_keeps_its_single_pages(bundled_site, bundled_corpus):
    assert not (bundled_site / "papers" / "page").exists()
    assert not (bundled_site / "authors" / "letter").exists()
    papers = _html(bundled_site / "papers" / "index.html")
    assert 'aria-label="Pages"' not in papers
    assert len(_papers_listed(bundled_site / "papers" / "index.html")) == 44
    assert '<table class="matrix"' in _html(bundled_site / "reviews" / "index.html")
    fallback = _html(bundled_site / "search" / "index.html").split('id="search-fallback"')[1]
    assert fallback.count('href="../papers/') == 44  # every paper
    root = ET.parse(bundled_site / "sitemap.xml").getroot()
    assert root.tag == f"{SM}urlset" and not list(bundled_site.glob("sitemap-*.xml"))
    feed = ET.parse(bundled_site / "feed.xml").getroot()
    assert len(feed.findall(f"{ATOM}entry")) == len(bundled_corpus.papers) == 44


# --------------------------------------------------------------------------- the paged site


@pytest.mark.parametrize("style", [s.value for s in LinkStyle])
def test_papers_index_splits_into_numbered_pages_listing_every_paper_once_in_order(
        paged, bundled_corpus, style):
    site = paged[style]
    pages = [site / "papers" / "index.html",
             *(site / "papers" / "page" / str(n) / "index.html" for n in range(2, 6))]
    assert all(p.is_file() for p in pages)
    assert not (site / "papers" / "page" / "6").exists()
    assert not (site / "papers" / "page" / "1").exists()
    listed = [_papers_listed(p) for p in pages]
    assert all(0 < len(keys) <= 10 for keys in listed), [len(k) for k in listed]
    slugs = [bundled_corpus.papers[k].slug for k in sorted(
        bundled_corpus.papers, key=lambda k: -bundled_corpus.papers[k].year)]
    assert [s for keys in listed for s in keys] == slugs  # all of them, once, newest year first
    # whole years: no year's heading on two pages
    years = [set(re.findall(r'<h2 id="y(\d{4})"', _html(p))) for p in pages]
    assert sum(len(y) for y in years) == len(set().union(*years))
    assert "Page 2 of 5: " in _html(pages[1])
    assert "(page 2 of 5)" in _html(pages[1]).split("</title>")[0]


@pytest.mark.parametrize("style", [s.value for s in LinkStyle])
def test_pager_marks_the_current_page_and_links_prev_and_next(paged, style):
    site = paged[style]
    pages = [site / "papers" / "index.html",
             *(site / "papers" / "page" / str(n) / "index.html" for n in range(2, 6))]
    for i, page in enumerate(pages):
        nav = _pager(page)
        links = re.findall(r'<a (rel="(?:prev|next)" )?href="([^"]+)"( aria-current="page")?', nav)
        numbered = [(href, bool(current)) for rel, href, current in links if not rel]
        assert [_target(site, page, h) for h, _ in numbered] == [p.resolve() for p in pages]
        assert [current for _, current in numbered] == [j == i for j in range(len(pages))]
        rels = {rel.split('"')[1]: _target(site, page, href) for rel, href, _ in links if rel}
        assert rels.get("prev") == (pages[i - 1].resolve() if i > 0 else None)
        assert rels.get("next") == (pages[i + 1].resolve() if i < len(pages) - 1 else None)
        if style == "files":
            assert all(h.endswith("index.html") for h, _ in numbered)


@pytest.mark.parametrize("style", [s.value for s in LinkStyle])
def test_year_jump_list_points_at_the_page_holding_each_year(paged, style):
    site = paged[style]
    pages = [site / "papers" / "index.html",
             *(site / "papers" / "page" / str(n) / "index.html" for n in range(2, 6))]
    jumps = set()
    for page in pages:
        nav = re.search(r'<nav aria-label="Years" class="jump">.*?</nav>', _html(page), re.S)
        assert nav
        for href, year in re.findall(r'<a href="([^"]+)">(\d{4})</a>', nav.group()):
            target = _target(site, page, href)
            assert href.endswith(f"#y{year}")
            assert f'<h2 id="y{year}">{year} ' in _html(target), (page, href)
            jumps.add((year, target))
    assert len({year for year, _ in jumps}) == len(jumps)  # each year leads to one page


@pytest.mark.parametrize("style", [s.value for s in LinkStyle])
def test_authors_index_becomes_one_page_per_letter_listing_every_author_once(
        paged, bundled_corpus, style):
    site = paged[style]
    landing = site / "authors" / "index.html"
    assert "216 authors, one page per initial letter" in _html(landing)
    assert "columns" not in _html(landing)  # no list of everyone
    letter_pages = sorted((site / "authors" / "letter").glob("*/index.html"))
    nav = re.search(r'<nav aria-label="Letters" class="jump">.*?</nav>', _html(landing), re.S)
    assert nav
    targets = [_target(site, landing, h) for h in re.findall(r'href="([^"]+)"', nav.group())]
    assert targets == [p.resolve() for p in letter_pages]
    listed: list[str] = []
    for page in letter_pages:
        html = _html(page)
        letter = page.parent.name.upper()
        assert f"<h1>Authors A–Z: {letter}</h1>" in html
        assert re.search(r'aria-current="page">' + letter + " ", html)
        ids = re.findall(r'<li><a href="[./]*([^/"]+)/(?:index\.html)?">', html.split(
            '<ul class="columns">')[1])
        initials = {slugify(bundled_corpus.authors[a].name.family)[:1].upper() for a in ids}
        assert initials == {letter}, (page, initials)
        listed += ids
    assert sorted(listed) == sorted(bundled_corpus.authors)


def test_reviews_index_replaces_a_too_big_matrix_by_links_to_each_conditions_matrix(paged):
    site = paged["pretty"]
    page = site / "reviews" / "index.html"
    html = _html(page)
    assert '<table class="matrix"' not in html
    assert "would have 76 cells: too many for one page" in html
    assert 'href="spitaleri-2025/"' in html and 'href="israel-2021/"' in html  # the cards stay
    section = html.split('id="h-matrix"')[1]
    links = re.findall(r'href="([^"]+#h-matrix)"', section)
    assert links
    for href in links:
        target = _target(site, page, href)
        assert '<table class="matrix"' in _html(target), href


def test_search_fallback_links_to_the_indexes_instead_of_listing_everyone(paged):
    site = paged["files"]
    page = site / "search" / "index.html"
    fallback = _html(page).split('id="search-fallback"')[1]
    assert "../papers/index.html" in fallback and "../authors/index.html" in fallback
    assert "../reviews/israel-2021/index.html" in fallback  # reviews and conditions still listed
    assert "../conditions/fibromyalgia/index.html" in fallback
    assert "noppers2011absence" not in fallback and "dahan-a" not in fallback


def test_feed_carries_the_newest_entries_only(paged, bundled_corpus):
    feed = ET.parse(paged["pretty"] / "feed.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 5
    # <published> only where the source gives a day, never a made-up 1 January
    dated = {p.slug for p in bundled_corpus.papers.values() if p.date and p.date.count("-") == 2}
    for entry in entries:
        published = entry.findtext(f"{ATOM}published")
        slug = entry.findtext(f"{ATOM}id").rstrip("/").rsplit("/", 1)[-1]
        assert (published is not None) == (slug in dated), slug
    by_slug = {p.slug: p for p in bundled_corpus.papers.values()}
    dates = [str(by_slug[e.findtext(f"{ATOM}id").rstrip("/").rsplit("/", 1)[-1]].date
                 or by_slug[e.findtext(f"{ATOM}id").rstrip("/").rsplit("/", 1)[-1]].year)
             for e in entries]
    newest = sorted((f"{p.date or p.year}" for p in bundled_corpus.papers.values()), reverse=True)
    assert dates == newest[:5]  # the five newest papers, newest first
    assert {e.findtext(f"{ATOM}updated") for e in entries} == {feed.findtext(f"{ATOM}updated")}


def test_sitemap_becomes_an_index_of_files_of_at_most_the_limit(paged):
    site = paged["pretty"]
    index = ET.parse(site / "sitemap.xml").getroot()
    assert index.tag == f"{SM}sitemapindex"
    parts = [loc.text for loc in index.iter(f"{SM}loc")]
    assert parts == [f"https://ketsite.netlify.app/sitemap-{n}.xml" for n in range(1, 5)]
    urls: list[str] = []
    for n in range(1, 5):
        urlset = ET.parse(site / f"sitemap-{n}.xml").getroot()
        assert urlset.tag == f"{SM}urlset"
        locs = [loc.text or "" for loc in urlset.iter(f"{SM}loc")]
        assert 0 < len(locs) <= 100
        urls += locs
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("index.html"))
    expected = ["https://ketsite.netlify.app/" + p.removesuffix("index.html") for p in pages]
    assert sorted(urls) == sorted(expected) and len(urls) == len(set(urls))
    assert "Sitemap: https://ketsite.netlify.app/sitemap.xml" in (site / "robots.txt").read_text()


@pytest.mark.parametrize("style", [s.value for s in LinkStyle])
def test_every_link_of_the_paged_site_resolves(paged, style):
    assert broken_links(paged[style]) == []


def test_paged_pages_carry_their_kind_and_canonical_address(paged):
    page = parse_page(paged["pretty"] / "papers" / "page" / "3" / "index.html")
    html = _html(paged["pretty"] / "papers" / "page" / "3" / "index.html")
    assert '<body data-kind="papers">' in html
    assert '<link rel="canonical" href="https://ketsite.netlify.app/papers/page/3/">' in html
    assert page.ids  # headings to jump to


# --------------------------------------------------------------------------- incremental


def _library(root: Path, years: dict[int, int]) -> Path:
    entries = "\n".join(
        f"@article{{p{year}x{i},\n  author = {{Writer{i % 7}, A. and Other{year}, B.}},\n"
        f"  title = {{Paper {i} of {year}}},\n  journal = {{Pain}},\n  year = {{{year}}},\n}}\n"
        for year, n in years.items() for i in range(n))
    return write_files(root, {
        "ketsite.yaml": """
            title: Paged
            description: A paged site.
            url: https://paged.example.org/
            pagination:
              papers: 4
              authors: 5
              sitemap: 10
              feed: 3
        """,
        "bib/library.bib": entries,
    })


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_edits_that_add_and_remove_a_page_rebuild_incrementally_to_a_full_build(tmp_path):
    root = _library(tmp_path / "src", {2021: 2, 2020: 2, 2019: 3})  # pages: 2021+2020, 2019
    out = tmp_path / "site"
    first = build(root, out, incremental=True, jobs=1)
    assert not first.diagnostics.has_errors
    assert sorted(p.name for p in (out / "papers" / "page").iterdir()) == ["2"]
    bib = root / "bib" / "library.bib"
    before = bib.read_text()
    for years, pages in (({2021: 3, 2020: 2, 2019: 3}, ["2", "3"]), (None, ["2"])):
        text = _library(tmp_path / f"v{len(pages)}", years).joinpath(
            "bib", "library.bib").read_text() if years else before
        bib.write_text(text)
        result = build(root, out, incremental=True, jobs=1)
        assert result.mode == "incremental" and not result.diagnostics.has_errors
        clean = tmp_path / f"clean{len(pages)}"
        assert not build(root, clean, cache=False, jobs=1).diagnostics.has_errors
        assert _tree(out) == _tree(clean)
        assert sorted(p.name for p in (out / "papers" / "page").iterdir()
                      if (p / "index.html").exists()) == pages
        assert len(list(out.glob("sitemap-*.xml"))) > 1


# --------------------------------------------------------------------------- in a browser


@pytest.mark.browser
def test_a_reader_pages_through_the_papers_index_and_jumps_to_a_year_from_file_urls(paged, page):
    from playwright.sync_api import expect

    site = paged["files"]
    page.goto((site / "papers" / "index.html").as_uri())
    pager = page.get_by_role("navigation", name="Pages").first
    expect(pager.locator('[aria-current="page"]')).to_contain_text("1")
    pager.get_by_role("link", name="Older papers").click()
    expect(page).to_have_url((site / "papers" / "page" / "2" / "index.html").as_uri())
    expect(page).to_have_title(re.compile(r"^All papers \(page 2 of 5\)"))
    pager = page.get_by_role("navigation", name="Pages").first
    expect(pager.locator('[aria-current="page"]')).to_contain_text("2")
    pager.get_by_role("link", name="Page 5").click()
    expect(page).to_have_url((site / "papers" / "page" / "5" / "index.html").as_uri())
    expect(page.get_by_role("navigation", name="Pages").first.get_by_role(
        "link", name="Older papers")).to_have_count(0)  # the last page
    # the year jump list leads to the page holding that year, at its heading
    page.get_by_role("navigation", name="Years").get_by_role("link", name="2019").click()
    expect(page).to_have_url((site / "papers" / "page" / "2" / "index.html").as_uri() + "#y2019")
    expect(page.get_by_role("heading", name=re.compile(r"^2019"))).to_be_in_viewport()
    # and the authors A–Z: a letter leads to its page
    page.goto((site / "authors" / "index.html").as_uri())
    letters = page.get_by_role("navigation", name="Letters")
    letters.get_by_role("link", name=re.compile("^D")).click()
    expect(page).to_have_url((site / "authors" / "letter" / "d" / "index.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_have_text("Authors A–Z: D")
    assert page.console_errors == [] and page.external_requests == []


def _retitle(tmp_path: Path, monkeypatch,  # type: ignore[no-untyped-def]
             old: str, new: str) -> list[tuple[str, str]]:
    """Build a 12-paper library with a long-running builder, retitle one paper (``old`` → ``new``
    in its title), rebuild; the routes the rebuild rendered. The site equals a clean build."""
    from ketsite.engine import Builder

    root = _library(tmp_path / "src", {2021: 3, 2020: 2, 2019: 3, 2018: 4})
    builder = Builder(root, tmp_path / "site", jobs=1)
    assert builder.build().mode == "full"
    rendered = record_renders(monkeypatch)
    bib = root / "bib" / "library.bib"
    bib.write_text(bib.read_text().replace(old + "}", new + "}"))
    result = builder.build()
    by_rebuild = list(rendered)  # before the clean build below, which the spy sees too
    assert result.mode == "incremental" and not result.diagnostics.has_errors
    assert _tree(tmp_path / "site") == _tree(_full(root, tmp_path / "clean"))
    return by_rebuild


def test_a_title_edit_re_renders_only_the_index_page_listing_that_paper(tmp_path, monkeypatch):
    """What makes an edit fast: each page of an index reads only the entries it lists, and no
    other page depends on them (the menu links to the first page by its fixed path)."""
    rendered = _retitle(tmp_path, monkeypatch, "Paper 0 of 2019", "Paper 0 of 2019, revised")
    assert "Paper 0 of 2019, revised" in _html(tmp_path / "site" / "papers" / "page" / "3" /
                                               "index.html")
    assert [r for r in rendered if r[0] in ("papers", "authors")] == [("papers", "3")]


def _full(root: Path, out: Path) -> Path:
    assert not build(root, out, cache=False, jobs=1).diagnostics.has_errors
    return out


def test_a_title_edit_that_moves_a_paper_within_its_page_re_renders_that_page_alone(
        tmp_path, monkeypatch):
    """The benchmark's edit ("Revised: …") moves the paper within its year: the route of its page
    changes, and no other page reads that route (pager and year list come from the outline)."""
    rendered = _retitle(tmp_path, monkeypatch, "Paper 2 of 2019", "A revised paper 2 of 2019")
    listed = _papers_listed(tmp_path / "site" / "papers" / "page" / "3" / "index.html")
    assert listed.index("p2019x2") < listed.index("p2019x0"), listed  # now first of 2019 (A–Z)
    # (The letter page of its authors is rendered too: it reads their papers, now in a new order.)
    assert [r for r in rendered if r[0] == "papers"] == [("papers", "3")]
