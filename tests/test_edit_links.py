"""Every page links to the file it is built from ("Edit this page") and to a pre-filled problem
report ("Report a problem"), so a stranger can fix or flag exactly what they are reading."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sitetools import REPO

from ketsite.build import build

REPOSITORY = "https://github.com/ketsite/ketsite"
INDEX_PAGES = {  # an index page: the folder of the sources it lists
    "papers/index.html": ("tree", "bib"),
    "conditions/index.html": ("tree", "content/conditions"),
    "reviews/index.html": ("tree", "content/reviews"),
    "authors/index.html": ("new", "content/authors/"),
}


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_data(self, data):
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.anchors.append((self._text.strip(), self._href))
            self._href = None


def links_named(page: Path, text: str) -> list[str]:
    parser = Anchors()
    parser.feed(page.read_text(encoding="utf-8"))
    return [href for label, href in parser.anchors if label == text]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edit") / "_site"
    assert not build(REPO, out).diagnostics.has_errors
    return out


def bib_file_of_slug() -> dict[str, str]:
    """Paper page slug → the .bib file holding its entry."""
    found = {}
    for bib in sorted((REPO / "bib").glob("*.bib")):
        for key in re.findall(r"^@\w+\{([^,\s]+),", bib.read_text(encoding="utf-8"), re.M):
            found[key.lower().replace(":", "-").replace("+", "-")] = f"bib/{bib.name}"
    return found


def expected_source(rel: str, bibs: dict[str, str]) -> tuple[str, str]:
    """(edit | new | tree, repository path) the page at ``rel`` must link to."""
    parts = rel.split("/")
    if len(parts) == 3 and parts[2] == "index.html":
        kind, ident = parts[0], parts[1]
        if kind == "papers":
            annotation = f"content/papers/{ident}.yaml"
            return "edit", annotation if (REPO / annotation).is_file() else bibs[ident]
        source = f"content/{kind}/{ident}.yaml"
        if kind == "authors" and not (REPO / source).is_file():
            return "new", source
        return "edit", source
    if rel in INDEX_PAGES:
        return INDEX_PAGES[rel]
    return "edit", "ketsite.yaml"  # home, search: the site's own text


def test_every_page_links_to_its_own_source_file(site):
    bibs = bib_file_of_slug()
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 250
    kinds = set()
    for page in pages:
        rel = page.relative_to(site).as_posix()
        edits = links_named(page, "Edit this page")
        if rel == "404.html":  # shown at any missing address: no source of its own to edit
            assert edits == []
            continue
        assert len(edits) == 1, rel
        mode, source = expected_source(rel, bibs)
        kinds.add((rel.split("/")[0] if "/" in rel else rel, mode))
        url = urlsplit(edits[0])
        if mode == "edit":
            assert edits[0] == f"{REPOSITORY}/edit/main/{source}", rel
            assert (REPO / source).is_file(), rel  # the link works: the file is in the repository
        elif mode == "tree":
            assert edits[0] == f"{REPOSITORY}/tree/main/{source}", rel
            assert (REPO / source).is_dir() and any((REPO / source).iterdir()), rel
        elif source.endswith("/"):
            assert edits[0] == f"{REPOSITORY}/new/main/{source.rstrip('/')}", rel
        else:
            folder, name = source.rsplit("/", 1)
            assert f"{url.scheme}://{url.netloc}{url.path}" == f"{REPOSITORY}/new/main/{folder}"
            query = parse_qs(url.query)
            assert query["filename"] == [name] and folder == "content/authors"  # GitHub creates it
            assert not (REPO / source).exists()
            assert query["value"][0].startswith("name: ")
    # every kind of page was seen, including papers with and without an annotation file
    assert {k for k, _ in kinds} >= {"papers", "authors", "conditions", "reviews", "search",
                                     "index.html"}
    assert {("authors", "new"), ("papers", "tree"), ("papers", "edit")} <= kinds


def test_paper_without_annotation_links_to_its_bib_file(site):
    page = site / "papers" / "hirota1996ketamine" / "index.html"
    assert links_named(page, "Edit this page") == [
        f"{REPOSITORY}/edit/main/bib/israel2021-references.bib"
    ]
    assert not (REPO / "content" / "papers" / "hirota1996ketamine.yaml").exists()


def test_every_page_has_a_prefilled_problem_report(site):
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        reports = links_named(page, "Report a problem")
        assert len(reports) == 1, rel
        url = urlsplit(reports[0])
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{REPOSITORY}/issues/new", rel
        query = parse_qs(url.query)
        if rel == "404.html":  # shown at any address: the reader says which one they tried
            assert query["title"] == ["Missing page"]
            assert query["body"][0].startswith("Address I tried:")
            continue
        public = "https://ketsite.netlify.app/" + (
            "" if rel == "index.html" else rel.removesuffix("index.html"))
        assert query["body"][0].startswith(f"Page: {public}\n"), rel
        assert query["title"][0].startswith("Problem on: "), rel
    noppers = site / "papers" / "noppers2011absence" / "index.html"
    title = parse_qs(urlsplit(links_named(noppers, "Report a problem")[0]).query)["title"][0]
    assert unquote(title) == (
        "Problem on: Absence of long-term analgesic effect from a short-term S-ketamine infusion "
        "on fibromyalgia pain: A randomized, prospective, double-blind, active placebo-controlled "
        "trial"
    )
