"""What the published site offers machines and browsers: sitemap, robots.txt, canonical URLs,
the Atom feed, the site graph, the search index, netlify.toml's headers, no inline script."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tomllib
import xml.etree.ElementTree as ET
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from sitetools import REPO, parse_page

from ketsite import cli, vendor
from ketsite.build import build
from ketsite.diagnostics import Diagnostics

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SITE_URL = "https://ketsite.netlify.app/"
NOPPERS_TITLE = (
    "Absence of long-term analgesic effect from a short-term S-ketamine infusion on "
    "fibromyalgia pain: A randomized, prospective, double-blind, active placebo-controlled trial"
)


@pytest.fixture
def site(bundled_site: Path) -> Path:
    """The bundled site, built once per session (conftest.bundled_site)."""
    return bundled_site


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def search_index(site: Path) -> dict:
    path = site / "assets" / "search-index.js"
    text = path.read_text(encoding="ascii")
    prefix = "window.KETSITE_SEARCH = "
    body = text[text.index(prefix) + len(prefix):].rstrip().removesuffix(";")
    return json.loads(body)


# ------------------------------------------------------------------ sitemap, robots, canonical


def test_sitemap_lists_every_page_once_by_canonical_url(site):
    root = ET.parse(site / "sitemap.xml").getroot()
    assert root.tag == f"{SM}urlset"
    locs = [u.findtext(f"{SM}loc") for u in root.findall(f"{SM}url")]
    assert len(locs) == len(set(locs))
    pages = [p for p in html_pages(site) if p.name != "404.html"]
    assert len(locs) == len(pages) > 270
    assert SITE_URL in locs
    assert f"{SITE_URL}papers/noppers2011absence/" in locs
    assert f"{SITE_URL}conditions/fibromyalgia/" in locs
    assert f"{SITE_URL}404.html" not in locs
    for loc in locs:  # each names a page that exists
        assert loc.startswith(SITE_URL)
        rel = loc[len(SITE_URL):]
        assert (site / rel / "index.html").is_file() or (site / rel).is_file(), loc


def test_robots_txt_points_at_the_sitemap(site):
    lines = (site / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert "User-agent: *" in lines
    assert f"Sitemap: {SITE_URL}sitemap.xml" in lines
    assert not any(line.startswith("Disallow: /") and line.strip() != "Disallow:" for line in lines)


def test_every_page_has_its_canonical_url_and_the_feed_link(site):
    for page in (site / "index.html", site / "papers/noppers2011absence/index.html",
                 site / "authors/dahan-a/index.html", site / "search/index.html"):
        html = page.read_text(encoding="utf-8")
        rel = page.relative_to(site).as_posix().removesuffix("index.html")
        assert f'<link rel="canonical" href="{SITE_URL}{rel}">' in html, page
        feed = re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"',
                         html)
        assert feed, page
        assert (page.parent / feed.group(1)).resolve() == (site / "feed.xml").resolve()
    # the 404 page is shown at any missing address: it is no page of its own to index
    missing = (site / "404.html").read_text(encoding="utf-8")
    assert 'rel="canonical"' not in missing and '<meta name="robots" content="noindex">' in missing


# ------------------------------------------------------------------ Atom feed


def test_feed_is_atom_with_one_linked_entry_per_paper(site):
    feed = ET.parse(site / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == f"{SITE_URL}feed.xml"
    self_link = [ln for ln in feed.findall(f"{ATOM}link") if ln.get("rel") == "self"]
    assert self_link[0].get("href") == f"{SITE_URL}feed.xml"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 44
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 44
    # Entries are newest first by their paper's date; every entry is "updated" on the sources'
    # date (when the site last changed), never on a made-up 1 January of a year-only paper.
    stamps = {e.findtext(f"{ATOM}updated") for e in entries}
    assert stamps == {feed.findtext(f"{ATOM}updated")}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", stamps.pop())
    from ketsite.build import load_project

    papers = load_project(REPO, Diagnostics()).corpus.papers
    dates = [str(papers[e.findtext(f"{ATOM}id").rstrip("/").rsplit("/", 1)[1]].date
                 or papers[e.findtext(f"{ATOM}id").rstrip("/").rsplit("/", 1)[1]].year)
             for e in entries]
    assert dates == sorted(dates, reverse=True) and dates[0].startswith("2025")
    by_title = {e.findtext(f"{ATOM}title"): e for e in entries}
    noppers = by_title[NOPPERS_TITLE]
    link = noppers.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert link == f"{SITE_URL}papers/noppers2011absence/"
    assert noppers.find(f"{ATOM}published") is None  # the source gives a year, not a day
    assert "Dahan" in [a.findtext(f"{ATOM}name").split()[-1]
                       for a in noppers.findall(f"{ATOM}author")]
    assert "10.1016/j.ejpain.2011.03.008" in noppers.findtext(f"{ATOM}summary")
    assert "fibromyalgia" in [c.get("term") for c in noppers.findall(f"{ATOM}category")]
    for entry in entries:  # every entry links to a page that was built
        href = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
        assert (site / href[len(SITE_URL):] / "index.html").is_file(), href


def test_feed_dates_are_the_sources_date_not_the_clock(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    build(REPO, tmp_path / "a")
    build(REPO, tmp_path / "b")
    assert (tmp_path / "a/feed.xml").read_bytes() == (tmp_path / "b/feed.xml").read_bytes()
    feed = ET.parse(tmp_path / "a/feed.xml").getroot()
    assert {e.text for e in feed.iter(f"{ATOM}updated")} == {"1970-01-01T00:00:00Z"}


# ------------------------------------------------------------------ the site graph


def test_graph_json_has_every_entity_and_their_links(site):
    graph = json.loads((site / "data/graph.json").read_text(encoding="utf-8"))
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert graph["counts"] == {"review": 2, "paper": 44, "author": 216, "condition": 10}
    assert len(nodes) == len(graph["nodes"]) == 2 + 44 + 216 + 10
    noppers = nodes["paper:noppers2011absence"]
    assert noppers["title"] == NOPPERS_TITLE and noppers["year"] == 2011
    assert noppers["doi"] == "10.1016/j.ejpain.2011.03.008"
    assert noppers["url"] == f"{SITE_URL}papers/noppers2011absence/"
    assert (site / noppers["path"]).is_file()
    edges = {(e["source"], e["type"], e["target"]) for e in graph["edges"]}
    assert ("author:dahan-a", "authored", "paper:noppers2011absence") in edges
    assert ("paper:noppers2011absence", "addresses", "condition:fibromyalgia") in edges
    assert ("review:spitaleri-2025", "references", "paper:noppers2011absence") in edges
    assert ("review:israel-2021", "is-paper", "paper:israel2021ketamine") in edges
    refs = [e for e in graph["edges"]
            if e["source"] == "review:spitaleri-2025" and e["type"] == "references"]
    assert [e["number"] for e in refs] == list(range(1, 34))
    for source, _, target in edges:  # no dangling edge
        assert source in nodes and target in nodes, (source, target)
    for node in graph["nodes"]:
        assert (site / node["path"]).is_file(), node["id"]


# ------------------------------------------------------------------ search index and page


def test_search_index_covers_every_entity_with_site_relative_paths(site):
    index = search_index(site)
    docs = {d["id"]: d for d in index["documents"]}
    assert sum(d["type"] == "paper" for d in docs.values()) == 44
    assert sum(d["type"] == "author" for d in docs.values()) == 216
    assert sum(d["type"] == "condition" for d in docs.values()) == 10
    assert sum(d["type"] == "review" for d in docs.values()) == 2
    noppers = docs["paper:noppers2011absence"]
    assert noppers["title"] == NOPPERS_TITLE
    assert noppers["path"] == "papers/noppers2011absence/index.html"
    assert "European Journal of Pain" in noppers["journal"] and noppers["year"] == "2011"
    assert "10.1016/j.ejpain.2011.03.008" in noppers["ids"]
    assert "Dahan" in noppers["authors"] and "Fibromyalgia" in noppers["topics"]
    # what the editors recorded is searchable too: the design and the comparator
    assert "Randomised controlled trial" in noppers["text"] and "Active placebo" in noppers["text"]
    for doc in docs.values():
        assert (site / doc["path"]).is_file(), doc["id"]
        assert set(index["fields"]) <= set(doc) and set(index["storeFields"]) <= set(doc)


def test_search_page_loads_local_scripts_and_has_a_no_script_list(site):
    page = site / "search" / "index.html"
    html = page.read_text(encoding="utf-8")
    scripts = re.findall(r'<script src="([^"]+)" defer></script>', html)
    assert [Path(s).name.split(".")[0] for s in scripts] == ["minisearch", "search-index", "search"]
    for src in scripts:
        assert (page.parent / src.split("?")[0]).resolve().is_file(), src
    # The index keeps its name; the link carries a digest of its content, so a browser that
    # cached an older index (assets/ are cached for a year) fetches the new one.
    index = site / "assets" / "search-index.js"
    digest = hashlib.sha256(index.read_bytes()).hexdigest()[:10]
    assert scripts[1] == f"../assets/search-index.js?v={digest}"
    # The search box waits for JavaScript; the full list is there without it.
    assert re.search(r'<div id="search"[^>]* hidden>', html)
    assert re.search(r'<label for="q">', html) and 'id="q"' in html
    assert 'role="status"' in html
    fallback = html[html.index('id="search-fallback"'):]
    assert "hidden" not in fallback.split(">", 1)[0]
    assert "../papers/noppers2011absence/" in fallback and NOPPERS_TITLE in fallback
    assert "../authors/dahan-a/" in fallback and "../conditions/fibromyalgia/" in fallback
    assert len(parse_page(page).h1) == 1


def test_every_page_names_the_sites_icon_so_no_favicon_request_fails(site):
    """Without a ``<link rel="icon">`` a browser asks the server for /favicon.ico: a 404 in the
    console of every visit. The icon is an asset of the site, linked relatively (file:// too)."""
    for page in (site / "index.html", site / "papers" / "noppers2011absence" / "index.html",
                 site / "404.html"):
        icons = re.findall(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">',
                           page.read_text(encoding="utf-8"))
        assert len(icons) == 1, page
        if page.name != "404.html":  # served at any address, it links from the root
            assert (page.parent / icons[0]).resolve().is_file(), (page, icons[0])
        assert re.search(r"assets/icon\.[0-9a-f]+\.svg$", icons[0]), icons[0]


def test_minisearch_comes_from_node_modules_with_its_licence(site):
    (path,) = (site / "assets").glob("minisearch.*.js")
    code = path.read_bytes()
    original = (REPO / "node_modules/minisearch/dist/umd/index.js").read_bytes()
    assert b"global.MiniSearch = factory()" in code
    assert b"Permission is hereby granted" in code and b"minisearch 7.2.0" in code
    assert b"sourceMappingURL" not in code
    assert original.split(b"\n//# sourceMappingURL")[0] in code


def test_a_missing_search_library_is_an_error_that_says_npm_ci(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("bib", "content", "ketsite.yaml"):
        src = REPO / name
        dst = project / name
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.write_bytes(src.read_bytes())
    monkeypatch.setattr(vendor, "KETSITE_HOME", tmp_path / "elsewhere")
    out = tmp_path / "out"
    code = cli.main(["build", "--src", str(project), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert re.search(r"^package\.json:1:1: error: minisearch is not installed .*run `npm ci`",
                     err, re.M), err
    assert not out.exists()


def test_a_stale_search_library_is_an_error(tmp_path, monkeypatch):
    pkg = tmp_path / "node_modules" / "minisearch"
    (pkg / "dist" / "umd").mkdir(parents=True)
    (pkg / "dist" / "umd" / "index.js").write_text("/* old */", encoding="utf-8")
    (pkg / "package.json").write_text('{"version": "6.0.0"}', encoding="utf-8")
    (tmp_path / "package-lock.json").write_text(json.dumps(
        {"packages": {"node_modules/minisearch": {"version": "7.2.0"}}}), encoding="utf-8")
    monkeypatch.setattr(vendor, "KETSITE_HOME", tmp_path / "elsewhere")
    diags = Diagnostics()
    assert vendor.vendor_assets(tmp_path, diags) == {}
    (message,) = [d.message for d in diags.items]
    assert "6.0.0" in message and "7.2.0" in message and "npm ci" in message


# ------------------------------------------------------------------ CSP and netlify.toml


def test_no_inline_script_or_style_in_any_page(site):
    """netlify.toml's CSP (script-src 'self'; style-src 'self') would block them."""
    for page in html_pages(site):
        html = page.read_text(encoding="utf-8")
        # JSON-LD is a data block (type="application/ld+json"): never run, allowed by the CSP.
        code = r'<script\b(?![^>]*\btype="application/ld\+json")[^>]*>'
        for tag in re.findall(code, html):
            assert re.search(r'\bsrc="[^"]+"', tag), (page, tag)
        assert not re.search(code + "(?!</script>)", html), page  # no script body
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), page  # no inline event handlers
        assert not re.search(r"<style\b", html, re.I), page
        assert not re.search(r'\sstyle\s*=\s*"', html, re.I), page
        assert "javascript:" not in html.lower(), page


def test_build_output_never_contains_the_reload_script(site):
    for path in site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"__ketsite" not in data and b"livereload" not in data, path
            assert b"EventSource" not in data, path


def netlify() -> dict:
    return tomllib.loads((REPO / "netlify.toml").read_text(encoding="utf-8"))


def headers_for(url_path: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for rule in netlify()["headers"]:
        if fnmatchcase(url_path, rule["for"]):
            headers.update({k.lower(): v for k, v in rule["values"].items()})
    return headers


def test_netlify_headers_lock_the_site_down(site):
    config = netlify()
    assert config["build"]["publish"] == "_site"
    assert "ketsite build" in config["build"]["command"]
    assert config["build"]["environment"]["PYTHON_VERSION"] == "3.11"
    page = headers_for("/papers/noppers2011absence/")
    csp = {d.split()[0]: d.split()[1:] for d in page["content-security-policy"].split("; ")}
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no hosts
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert page["x-content-type-options"] == "nosniff"
    assert page["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "cache-control" not in page  # pages revalidate: their names never change
    # Every asset's URL changes with its content, so a year-long cache is safe: a fingerprinted
    # name, or for the search index (one name, so an edit leaves the route table alone) a digest
    # of its content as the query of every link to it.
    for asset in sorted((site / "assets").iterdir()):
        if asset.name != "search-index.js":
            assert re.fullmatch(r"[\w-]+\.[0-9a-f]{10}\.(css|js|svg)", asset.name), asset.name
        cache = headers_for(f"/assets/{asset.name}")["cache-control"]
        assert "max-age=31536000" in cache and "immutable" in cache
    digest = hashlib.sha256((site / "assets" / "search-index.js").read_bytes()).hexdigest()[:10]
    linking = [p for p in html_pages(site) if "search-index.js" in p.read_text(encoding="utf-8")]
    assert linking
    for page in linking:
        links = re.findall(r'search-index\.js[^"]*"', page.read_text(encoding="utf-8"))
        assert links == [f'search-index.js?v={digest}"'], page
    assert headers_for("/data/library.bib")["content-type"].startswith("application/x-bibtex")
    assert headers_for("/papers/x/x.ris")["content-type"].startswith(
        "application/x-research-info-systems")
    assert headers_for("/feed.xml")["content-type"].startswith("application/atom+xml")
    assert (site / "404.html").is_file()


def test_one_build_walks_the_library_once_for_the_search_index(tmp_path, monkeypatch):
    """The search page's ``?v=`` digest and the index file are one computation per build."""
    from ketsite import search

    walks = {"n": 0}
    real_parts = search._parts

    def counting(*tables):  # type: ignore[no-untyped-def]
        walks["n"] += 1
        return real_parts(*tables)

    monkeypatch.setattr(search, "_parts", counting)
    result = build(REPO, tmp_path / "_site", jobs=1)
    assert not result.diagnostics.has_errors
    page = (tmp_path / "_site" / "search" / "index.html").read_text(encoding="utf-8")
    index = (tmp_path / "_site" / search.PATH).read_bytes()
    assert f"search-index.js?v={hashlib.sha256(index).hexdigest()[:10]}" in page
    assert walks["n"] == 1


def test_feed_of_sources_without_git_or_source_date_is_still_valid_atom(tmp_path, monkeypatch):
    """Built from a tarball (no .git, no SOURCE_DATE_EPOCH) the sources have no date: the feed
    says the newest paper's, never an empty one."""
    from sitetools import write_files

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = write_files(tmp_path / "tarball", {
        "ketsite.yaml": "title: T\ndescription: D\nurl: https://t.example.org/\n",
        "bib/a.bib": "@article{a2019, author={Roe, J.}, title={A}, journal={J}, year={2019}}\n"
                     "@article{b2021, author={Roe, J.}, title={B}, journal={J}, year={2021},"
                     " date={2021-03-04}}\n",
    })
    build(root, root / "_site")
    feed = ET.parse(root / "_site" / "feed.xml").getroot()
    assert {e.text for e in feed.iter(f"{ATOM}updated")} == {"2021-03-04T00:00:00Z"}
