"""The published site in real Chromium: the offline bundle from file://, the built site over HTTP
with netlify.toml's headers, and `ketsite serve` with a live edit. Clicks, keys and search, with
no console error and no request to any other host."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sitetools import REPO, scratch_copy

from ketsite.build import build
from ketsite.bundle import bundle

pytestmark = pytest.mark.browser

NOPPERS = (
    "Absence of long-term analgesic effect from a short-term S-ketamine infusion on "
    "fibromyalgia pain: A randomized, prospective, double-blind, active placebo-controlled trial"
)
ISRAEL = "Ketamine for the Treatment of Chronic Pain: A Comprehensive Review"
SEARCH_LABEL = "Search reviews, papers, authors and conditions"
GROUPS = {"review": "Reviews", "condition": "Conditions", "paper": "Papers", "author": "Authors"}


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> Path:
    """The bundle, unzipped where a reader would put it."""
    zip_path = tmp_path_factory.mktemp("zip") / "ketsite-offline.zip"
    assert not bundle(REPO, zip_path).build.diagnostics.has_errors
    out = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(out)
    return out / "ketsite-offline"


@pytest.fixture(scope="module")
def pretty_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("http") / "_site"
    assert not build(REPO, out).diagnostics.has_errors
    return out


def expected_hits(site: Path, term: str) -> dict[str, set[str]]:
    """What a search for one whole word must find: every document with that word in a field."""
    path = site / "assets" / "search-index.js"
    text = path.read_text(encoding="ascii")
    index = json.loads(text[text.index("= ") + 2:].rstrip().removesuffix(";"))
    hits: dict[str, set[str]] = {}
    for doc in index["documents"]:
        words = re.split(r"[\W_]+", " ".join(doc[f] for f in index["fields"]).lower())
        if term in words:
            hits.setdefault(doc["type"], set()).add(doc["title"])
    return hits


def shown_hits(page: Page) -> dict[str, set[str]]:
    shown: dict[str, set[str]] = {}
    for kind in GROUPS:
        links = page.locator(f'section[aria-labelledby="results-{kind}"] a.result-link')
        titles = set(links.all_inner_texts())
        if titles:
            shown[kind] = titles
    return shown


def walk(page: Page, home_url: str, ending: str) -> None:
    """home → condition → paper → author → review, clicking the links a reader would."""
    page.goto(home_url)
    expect(page.locator("h1")).to_have_text(re.compile("Ketamine for Chronic Pain"))
    page.locator('section[aria-labelledby="h-conditions"]').get_by_role(
        "link", name=re.compile(r"^Fibromyalgia\b")).click()
    expect(page).to_have_url(re.compile(r"/conditions/fibromyalgia/" + ending + "$"))
    expect(page.locator("h1")).to_have_text("Fibromyalgia")
    page.get_by_role("link", name=NOPPERS, exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/papers/noppers2011absence/" + ending + "$"))
    expect(page.locator("h1")).to_have_text(NOPPERS)
    page.locator("p.byline").get_by_role("link", name="A. Dahan", exact=True).click()
    expect(page).to_have_url(re.compile(r"/authors/dahan-a/" + ending + "$"))
    expect(page.locator("h1")).to_have_text("A. Dahan")
    expect(page.locator("main")).to_contain_text(NOPPERS)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews").click()
    expect(page).to_have_url(re.compile(r"/reviews/" + ending + "$"))
    page.get_by_role("link", name=ISRAEL, exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/reviews/israel-2021/" + ending + "$"))
    expect(page.locator("h1")).to_have_text(ISRAEL)
    expect(page.locator("link[rel=stylesheet]").first).to_have_attribute(
        "href", re.compile(r"assets/style\.[0-9a-f]{10}\.css$"))
    # CSS applied (expect retries: the stylesheets may still be loading when the h1 is there)
    expect(page.locator("body")).to_have_css("margin-top", "0px")


def search_fibromyalgia(page: Page, site: Path, ending: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search/" + ending + "$"))
    box = page.get_by_label(SEARCH_LABEL)
    expect(box).to_be_visible()  # JavaScript ran: the box is shown, the plain list hidden
    expect(page.locator("#search-fallback")).to_be_hidden()
    box.fill("fibromyalgia")
    expect(page.locator("#search-status")).to_contain_text("for \u201cfibromyalgia\u201d")
    expected = expected_hits(site, "fibromyalgia")
    assert NOPPERS in expected["paper"] and ISRAEL in expected["paper"]
    assert shown_hits(page) == expected
    headings = page.locator("#results h2").all_inner_texts()
    assert [h.split(" (")[0] for h in headings] == [
        GROUPS[k] for k in GROUPS if k in expected]
    counts = ", ".join(f"{len(expected[k])} {k}{'s' * (len(expected[k]) != 1)}"
                       for k in GROUPS if k in expected)
    total = sum(map(len, expected.values()))
    expect(page.locator("#search-status")).to_have_text(
        f"{total} results for \u201cfibromyalgia\u201d: {counts}.")
    page.locator('section[aria-labelledby="results-paper"]').get_by_role(
        "link", name=NOPPERS, exact=True).click()
    expect(page).to_have_url(re.compile(r"/papers/noppers2011absence/" + ending + "$"))
    expect(page.locator("h1")).to_have_text(NOPPERS)


# ------------------------------------------------------------------ offline bundle, file://


def test_offline_bundle_walk_and_search_from_file_urls(page, offline):
    walk(page, (offline / "index.html").as_uri(), "index.html")
    assert page.url.startswith("file://")
    search_fibromyalgia(page, offline, "index.html")
    assert page.console_errors == []
    assert page.external_requests == []


def test_search_finds_identifiers_as_people_paste_them(page, offline):
    """A DOI as a link or after "doi:", a PMC id by its number as PubMed prints it, a PubMed
    link: each finds the paper, as the bare identifier does."""
    page.goto((offline / "search" / "index.html").as_uri())
    box = page.get_by_label(SEARCH_LABEL)
    expect(box).to_be_visible()
    doi, pmid, pmc = "10.3389/fvets.2024.1453673", "39539316", "11557496"
    queries = [doi, f"https://doi.org/{doi}", f"doi:{doi}", f"DOI: {doi}",
               f"https://dx.doi.org/{doi}", pmc, f"PMC{pmc}", f"PMC: {pmc}",
               f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/", f"PMID: {pmid}"]
    found = {}
    for query in queries:
        box.fill(query)
        links = page.locator('section[aria-labelledby="results-paper"] a.result-link')
        expect(links.first).to_be_visible()
        found[query] = links.all_inner_texts()
    assert len({tuple(titles) for titles in found.values()}) == 1, found
    assert len(found[doi]) == 1
    box.fill("https://doi.org/10.9999/not-a-doi-here")
    expect(page.locator("#search-status")).to_contain_text("No results")


def test_search_ignores_accents_and_unicode_forms(page, offline):
    """A name is found however its accents are typed: left out ("Schuttler", "Glowacka"), or as
    a letter plus a combining mark (as some keyboards and copied PDFs give it)."""
    page.goto((offline / "search" / "index.html").as_uri())
    box = page.get_by_label(SEARCH_LABEL)
    expect(box).to_be_visible()
    for forms in (("Schüttler", "Schuttler", "Schu\u0308ttler"),
                  ("Głowacka", "Glowacka", "glowacka")):
        found = []
        for query in forms:
            box.fill(query)
            links = page.locator('section[aria-labelledby="results-author"] a.result-link')
            expect(links.first).to_be_visible()
            found.append(sorted(links.all_inner_texts()))
        assert found[0] and found.count(found[0]) == len(forms), (forms, found)


def test_search_knows_a_clinicians_abbreviations_and_the_recorded_route(page, offline):
    """"IV ketamine" finds what "intravenous ketamine" finds, though no title here says "IV";
    "RCT" finds randomised trials."""
    page.goto((offline / "search" / "index.html").as_uri())
    box = page.get_by_label(SEARCH_LABEL)
    expect(box).to_be_visible()
    papers = page.locator('section[aria-labelledby="results-paper"] a.result-link')

    def titles(query: str) -> set[str]:
        box.fill(query)
        expect(page.locator("#search-status")).to_contain_text(f"\u201c{query}\u201d")
        return set(papers.all_inner_texts())

    # a result in another language is marked so, its bracketed translation in the page's
    box.fill("faibles")
    first = papers.first
    expect(first.locator('span[lang="fr"]')).to_have_text(
        "Kétamine à faibles doses: Antihyperalgésique, non analgésique")
    expect(first.locator('span[lang="en"]')).to_have_text(
        "[Low doses ketamine: Antihyperalgesic, non-analgesic]")
    spelled, short = titles("intravenous ketamine"), titles("IV ketamine")
    assert spelled and spelled <= short
    assert not any(" IV " in f" {t} " for t in short)
    assert NOPPERS in titles("RCT fibromyalgia")  # "randomized" in its title


def test_search_results_are_usable_by_keyboard(page, offline):
    page.goto((offline / "search" / "index.html").as_uri() + "?q=ketamine+pain")
    box = page.get_by_label(SEARCH_LABEL)
    expect(box).to_have_value("ketamine pain")  # the query in the address is run on load
    results = page.locator("#results a.result-link")
    expect(results.first).to_be_visible()
    assert results.count() > 3
    box.focus()
    page.keyboard.press("ArrowDown")
    expect(results.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(results.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(box).to_be_focused()
    box.fill("noppers2011absence")  # a citation key is an identifier too
    expect(results).to_have_count(1)
    box.press("Enter")  # submitting keeps the page (results are already there)
    expect(box).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(results.first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(NOPPERS)
    page.go_back()
    expect(page.get_by_label(SEARCH_LABEL)).to_have_value("noppers2011absence")
    expect(page.locator("#results a.result-link")).to_have_count(1)
    for query, title in (("10.1016/j.ejpain.2011.03.008", NOPPERS),  # DOI
                         ("European Journal of Pain 2011", NOPPERS),  # journal + year
                         ("dahan", "A. Dahan")):  # an author
        page.get_by_label(SEARCH_LABEL).fill(query)
        expect(page.locator("#results")).to_contain_text(title)
    page.get_by_label(SEARCH_LABEL).fill("zzzqqqxxy")
    expect(page.locator("#search-status")).to_have_text("No results for \u201czzzqqqxxy\u201d.")
    expect(page.locator("#results a")).to_have_count(0)
    assert page.console_errors == []
    assert page.external_requests == []


def test_search_page_without_javascript_is_a_plain_list(browser, offline):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((offline / "search" / "index.html").as_uri())
        expect(page.locator("#search-fallback")).to_be_visible()
        expect(page.locator("#search")).to_be_hidden()
        expect(page.get_by_role("heading", name="Papers (44)")).to_be_visible()
        page.get_by_role("link", name=NOPPERS, exact=True).click()
        expect(page).to_have_url(re.compile(r"/papers/noppers2011absence/index\.html$"))
    finally:
        context.close()


def test_search_timing_in_the_browser(page, offline, artifacts_dir):
    """Measures what the closing note reports: index load and query times, in the browser."""
    page.goto((offline / "search" / "index.html").as_uri())
    expect(page.get_by_label(SEARCH_LABEL)).to_be_visible()
    timings = page.evaluate("""() => {
        const data = window.KETSITE_SEARCH;
        let t = performance.now();
        const runs = 20;
        for (let i = 0; i < runs; i++) {
            const ms = new MiniSearch({idField: "id", fields: data.fields,
                                       storeFields: data.storeFields});
            ms.addAll(data.documents);
        }
        const indexMs = (performance.now() - t) / runs;
        const out = {indexMs, documents: data.documents.length, queries: {}};
        for (const q of ["fibromyalgia", "ketamine", "ket", "dahan", "neuropathic pain",
                         "10.1016/j.ejpain.2011.03.008", "2011"]) {
            const n = 200;
            let hits = 0;
            t = performance.now();
            for (let i = 0; i < n; i++) { hits = window.ketsiteSearch.search(q).total; }
            out.queries[q] = {ms: (performance.now() - t) / n, hits};
        }
        return out;
    }""")
    # Typing a query: keystroke to rendered results, as a reader sees it.
    box = page.get_by_label(SEARCH_LABEL)
    render = []
    for q in ("fibromyalgia", "ketamine", "dahan", "neuropathic pain"):
        box.fill("")
        render.append(page.evaluate("""(q) => {
            const box = document.getElementById("q");
            const t = performance.now();
            box.value = q;
            box.dispatchEvent(new Event("input"));
            return performance.now() - t;
        }""", q))
    timings["renderMs"] = sum(render) / len(render)
    timings["meanQueryMs"] = sum(v["ms"] for v in timings["queries"].values()) / len(
        timings["queries"])
    index_file = offline / "assets" / "search-index.js"
    (lib,) = (offline / "assets").glob("minisearch.*.js")
    timings["indexBytes"] = index_file.stat().st_size
    timings["libraryBytes"] = lib.stat().st_size
    (artifacts_dir / "search-timing.json").write_text(json.dumps(timings, indent=1) + "\n")
    print("\nsearch timing:", json.dumps(timings, indent=1))
    assert timings["queries"]["fibromyalgia"]["hits"] == 5
    assert timings["meanQueryMs"] < 50, timings  # interactive: well under a frame budget x3
    assert timings["renderMs"] < 200, timings
    assert page.console_errors == []


# ------------------------------------------------------------------ http, netlify.toml headers


def test_built_site_over_http_with_the_netlify_headers(page, pretty_site, http_server):
    served = http_server(pretty_site)
    walk(page, served.url, "")
    search_fibromyalgia(page, pretty_site, "")
    assert page.console_errors == []  # includes CSP violations
    page.goto(served.page_url("no/such/page/"))  # Netlify's 404.html, root-absolute links
    expect(page.locator("h1")).to_have_text("Page not found")
    page.get_by_role("link", name="Search", exact=True).first.click()
    expect(page).to_have_url(served.page_url("search/"))
    expect(page.get_by_label(SEARCH_LABEL)).to_be_visible()
    (not_found,) = page.console_errors  # the 404 status itself, and nothing else
    assert "404" in not_found and "/no/such/page/" in not_found
    assert page.external_requests == []


# ------------------------------------------------------------------ ketsite serve


class Server:
    """`ketsite serve` in a subprocess, on a scratch copy of the project."""

    def __init__(self, project: Path) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ketsite.cli", "serve", "--src", str(project), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = self.wait_for(r"^serving (http://127\.0\.0\.1:\d+/)").group(1)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.log.append(line)
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"no line matching {pattern!r} from ketsite serve: {self.log}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reader.join(timeout=10)  # the pipe is at its end once the process is gone
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def served_project(tmp_path):
    project = scratch_copy(tmp_path / "project")
    server = Server(project)
    try:
        yield project, server
    finally:
        server.stop()


def test_serve_walk_then_live_edit_reloads_the_page(page, served_project):
    project, server = served_project
    walk(page, server.url, "")
    page.goto(server.url + "conditions/fibromyalgia/")
    expect(page.locator("h1")).to_have_text("Fibromyalgia")
    assert page.locator('script[src^="/__ketsite/livereload.js"]').count() == 1
    condition = project / "content" / "conditions" / "fibromyalgia.yaml"
    good = condition.read_text(encoding="utf-8")

    condition.write_text(good.replace("name: Fibromyalgia", "name: Fibromyalgia (edited)"),
                         encoding="utf-8")
    server.wait_for(r"^built \d+ pages", timeout=30)
    expect(page.locator("h1")).to_have_text("Fibromyalgia (edited)", timeout=20_000)

    # A mistake: the page stays, a banner shows the diagnostic; the fix reloads the page.
    condition.write_text("name: [Fibromyalgia\n", encoding="utf-8")
    server.wait_for(r"build failed", timeout=30)
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("content/conditions/fibromyalgia.yaml:", timeout=20_000)
    expect(page.locator("h1")).to_have_text("Fibromyalgia (edited)")
    condition.write_text(good.replace("name: Fibromyalgia", "name: Fibromyalgia (fixed)"),
                         encoding="utf-8")
    expect(page.locator("h1")).to_have_text("Fibromyalgia (fixed)", timeout=20_000)
    expect(page.get_by_role("alert")).to_have_count(0)
    assert page.console_errors == []
    assert page.external_requests == []
