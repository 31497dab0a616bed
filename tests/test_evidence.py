"""Condition pages as evidence pages: evidence table, matrix of evidence, SVG charts, legend."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sitetools import REPO, page_text

from ketsite.build import build
from ketsite.charts import designs_chart, years_chart
from ketsite.model.entities import DESIGNS, DIRECTIONS
from ketsite.site.evidence import condition_evidence, evidence_matrix, papers_per_year
from ketsite.site.routes import LinkStyle

SVG = "{http://www.w3.org/2000/svg}"




class Tables(HTMLParser):
    """Every table of a page: caption, header cells (with scope) and body rows of cells, where a
    cell records its text, its links, its attributes and whether it is a <th>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self._stack: list[dict] = []
        self._cell: dict | None = None
        self._in_caption = False
        self._section = ""
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            table = {"attrs": a, "caption": "", "head": [], "rows": []}
            self.tables.append(table)
            self._stack.append(table)
        elif not self._stack:
            return
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._row: list[dict] = []
            target = "head" if self._section == "thead" else "rows"
            self._stack[-1][target].append({"attrs": a, "cells": self._row})
        elif tag in ("td", "th"):
            self._cell = {"tag": tag, "attrs": a, "text": "", "links": [], "hidden": ""}
            self._row.append(self._cell)
        elif tag == "a" and self._cell is not None:
            self._cell["links"].append(a.get("href", ""))
        elif tag == "span" and "visually-hidden" in a.get("class", ""):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag == "table" and self._stack:
            self._stack.pop()
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "span" and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if self._in_caption and self._stack:
            self._stack[-1]["caption"] += data
        if self._cell is not None:
            self._cell["text"] += data
            if self._hidden:
                self._cell["hidden"] += data


def tables(path: Path) -> list[dict]:
    parser = Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    for table in parser.tables:
        for row in table["head"] + table["rows"]:
            for cell in row["cells"]:
                cell["text"] = " ".join(cell["text"].split())
    return parser.tables


def table_by_id(path: Path, table_id: str) -> dict:
    return next(t for t in tables(path) if t["attrs"].get("id") == table_id)


# --- evidence table ------------------------------------------------------------------------------

def test_rows_are_ordered_by_design_strength_then_newest(corpus):
    rows = condition_evidence(corpus, "neuropathic-pain").rows
    assert [r.paper.key for r in rows] == [
        "pickering2020ketamine",  # randomised controlled trial
        "martins2024narrative",  # narrative review
        "vandervelzen2021efficacy",  # animal study (a meta-analysis of animal studies)
        # no design, newest first
        "spitaleri2025ketamine", "calsinaberna2024oral", "israel2021ketamine",
    ]
    for cid in corpus.conditions:
        keys = [(r.design_rank, -r.paper.year) for r in condition_evidence(corpus, cid).rows]
        assert keys == sorted(keys), cid
        assert len(keys) == len(corpus.papers_by_condition[cid])


def test_evidence_table_is_an_accessible_table(bundled_site, corpus):
    page = bundled_site / "conditions" / "neuropathic-pain" / "index.html"
    table = table_by_id(page, "evidence")
    assert table["caption"].startswith("Papers on neuropathic pain: study design, year")
    (header,) = table["head"]
    assert [c["text"] for c in header["cells"]] == [
        "Paper", "Design", "Year", "Population", "n", "Route", "Direction", "Finding"]
    assert all(c["tag"] == "th" and c["attrs"]["scope"] == "col" for c in header["cells"])
    assert header["cells"][1]["attrs"]["aria-sort"] == "ascending"  # the server's order
    rows = condition_evidence(corpus, "neuropathic-pain").rows
    assert len(table["rows"]) == len(rows) == 6
    for html_row, row in zip(table["rows"], rows, strict=True):
        first = html_row["cells"][0]
        assert first["tag"] == "th" and first["attrs"]["scope"] == "row"
        assert first["links"][0] == f"../../papers/{row.paper.slug}/"
        assert [c["tag"] for c in html_row["cells"][1:]] == ["td"] * 7
    pickering = [c["text"] for c in table["rows"][0]["cells"]]  # the strongest design now
    assert pickering[1:] == ["Randomised controlled trial", "2020",
                             "Patients with refractory neuropathic pain", "—Not recorded",
                             "—Not recorded", "—Not recorded", "—Not recorded"]
    assert table["rows"][3]["cells"][1]["hidden"] == "Not annotated"
    # COinS metadata (for Zotero) is no part of a row header's name; the charts' data tables
    # are named apart
    html = page.read_text(encoding="utf-8")
    assert html.count('class="Z3988"') == html.count('class="Z3988" title=') > 0
    assert all('aria-hidden="true"' in s.split(">", 1)[0] for s in html.split('class="Z3988"')[1:])
    assert "Data table<span class=\"visually-hidden\">: papers per year</span>" in html
    assert "Data table<span class=\"visually-hidden\">: papers by design and direction" in html
    # the finding says what a direction badge cannot: Noppers found no *long-term* effect
    fibromyalgia = table_by_id(bundled_site / "conditions" / "fibromyalgia" / "index.html",
                               "evidence")
    assert "No long-term analgesic effect of a short-term S-ketamine infusion on fibromyalgia " \
        "pain." in [r["cells"][7]["text"] for r in fibromyalgia["rows"]]


def test_retracted_and_corrected_papers_show_a_banner_and_a_badge(scratch_site):
    retracted = scratch_site / "papers" / "roe2018retracted" / "index.html"
    html = retracted.read_text(encoding="utf-8")
    assert re.search(r'<div class="banner banner-retracted" role="note">\s*<strong>This paper has '
                     r"been retracted.</strong>", html)
    assert "Retracted by the journal in 2019." in page_text(retracted)
    corrected = page_text(scratch_site / "papers" / "roe2017corrected" / "index.html")
    assert "This paper has been corrected. A correction to table 2 was published." in corrected
    table = table_by_id(scratch_site / "conditions" / "scratch-pain" / "index.html", "evidence")
    badges = {r["cells"][0]["links"][0].split("/")[-2]: r["cells"][0]["text"]
              for r in table["rows"]}
    assert badges["roe2018retracted"].endswith("Retracted")
    assert badges["roe2017corrected"].endswith("Corrected")
    assert not badges["smith2020tricky"].endswith(("Retracted", "Corrected"))
    assert "This paper has been" not in page_text(scratch_site / "papers" / "alpha2015study" /
                                                  "index.html")


def test_unannotated_paper_says_so(bundled_site):
    text = page_text(bundled_site / "papers" / "leal2024arketamine" / "index.html")
    assert "Not yet annotated." in text
    text = page_text(bundled_site / "papers" / "noppers2011absence" / "index.html")
    assert "Not yet annotated" not in text and "Direction of effect No benefit" in text


# --- matrix of evidence --------------------------------------------------------------------------

def matrix_table(page: Path) -> dict:
    return table_by_id(page, "h-matrix-table")


def test_matrix_of_the_seed_reviews_as_it_is(bundled_site, corpus):
    """The two seed reviews cite 33 + 5 papers and share none; Spitaleri cites Israel itself."""
    table = matrix_table(bundled_site / "reviews" / "index.html")
    (header,) = table["head"]
    assert [c["text"] for c in header["cells"]] == [
        "Cited paper", "Spitaleri 2025", "Israel 2021", "Reviews citing it"]
    assert header["cells"][1]["links"] == ["spitaleri-2025/"]
    assert header["cells"][2]["links"] == ["israel-2021/"]
    rows = table["rows"]
    assert len(rows) == 33 + 5
    assert not [r for r in rows if "shared" in r["attrs"].get("class", "")]
    assert all(r["cells"][-1]["text"] == "1" for r in rows)
    by_key = {r["cells"][0]["links"][0].split("/")[-2]: r["cells"] for r in rows}
    israel = by_key["israel2021ketamine"]
    assert israel[1]["links"] == ["spitaleri-2025/#ref-31"]
    assert israel[1]["text"] == "●Cited by Spitaleri 2025 as reference 31"  # "●" is aria-hidden
    assert israel[2]["text"] == "this review"
    salas = by_key["salas2012ketamine"]
    assert salas[1]["links"] == ["spitaleri-2025/#h-references"]
    assert salas[1]["hidden"] == "Not cited by Spitaleri 2025"
    assert salas[2]["links"] == ["israel-2021/#ref-1"]
    # bylines as the cite labels give them: two authors by name, "et al." from three
    assert by_key["hirota1996ketamine"][0]["text"].endswith(" Hirota & Lambert 1996")
    assert by_key["salas2012ketamine"][0]["text"].endswith(" Salas et al. 2012")
    for row in rows:  # every heading and every cell is a link
        assert all(cell["links"] for cell in row["cells"][:-1])
    assert "No paper is cited by more than one of these reviews." in page_text(
        bundled_site / "reviews" / "index.html")
    # The model says the same.
    matrix = evidence_matrix(corpus, tuple(corpus.reviews))
    assert matrix.shared == ()
    assert {r.paper.key for r in matrix.rows} == set(corpus.reviews["spitaleri-2025"].references) \
        | set(corpus.reviews["israel-2021"].references)


def test_matrix_marks_shared_references_in_both_rows(scratch_site):
    table = matrix_table(scratch_site / "conditions" / "scratch-pain" / "index.html")
    (header,) = table["head"]
    assert [c["text"] for c in header["cells"]] == [
        "Cited paper", "Zed 2022", "Smith 2021", "Reviews citing it"]
    rows = [(r["cells"][0]["links"][0].split("/")[-2], r) for r in table["rows"]]
    assert [k for k, _ in rows] == ["beta2016study", "alpha2015study", "gamma2017study",
                                    "delta2014study"]
    shared = {k: r for k, r in rows if "shared" in r["attrs"].get("class", "")}
    assert set(shared) == {"alpha2015study", "beta2016study"}
    beta = shared["beta2016study"]["cells"]
    assert beta[1]["links"] == ["../../reviews/review-b/#ref-1"]
    assert beta[2]["links"] == ["../../reviews/review-a/#ref-2"]
    assert beta[3]["text"] == "2"
    alpha = shared["alpha2015study"]["cells"]
    assert (alpha[1]["text"], alpha[2]["text"]) == ("●Cited by Zed 2022 as reference 3",
                                                    "●Cited by Smith 2021 as reference 1")
    gamma = dict(rows)["gamma2017study"]["cells"]
    assert gamma[1]["hidden"] == "Not cited by Zed 2022" and gamma[3]["text"] == "1"
    text = page_text(scratch_site / "conditions" / "scratch-pain" / "index.html")
    assert "2 papers cited by more than one review are listed first and highlighted." in text


# --- charts --------------------------------------------------------------------------------------

def svgs(path: Path) -> dict[str, ET.Element]:
    html = path.read_text(encoding="utf-8")
    out = {}
    for match in re.finditer(r"<svg .*?</svg>", html, re.S):
        root = ET.fromstring(match.group(0))  # well-formed XML, as inline SVG must be
        out[root.get("aria-labelledby").split()[0].removesuffix("-title")] = root
    return out


def test_year_chart_has_a_text_alternative_and_a_bar_per_year(bundled_site, corpus):
    page = bundled_site / "conditions" / "neuropathic-pain" / "index.html"
    chart = svgs(page)["chart-years"]
    assert chart.get("role") == "img"
    assert chart.find(f"{SVG}title").text == "Papers on neuropathic pain per year"
    assert chart.find(f"{SVG}desc").text == (
        "6 papers from 2020 to 2025. Papers per year — 2020: 1; 2021: 2; 2024: 2; 2025: 1.")
    bars = [r for r in chart.iter(f"{SVG}rect") if r.get("class") == "chart-bar"]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "2020: 1 paper", "2021: 2 papers", "2024: 2 papers", "2025: 1 paper"]
    assert float(bars[1].get("height")) == 2 * float(bars[0].get("height"))
    data = next(t for t in tables(page) if t["caption"] == "Papers on neuropathic pain per year")
    assert [[c["text"] for c in r["cells"]] for r in data["rows"]] == [
        ["2020", "1"], ["2021", "2"], ["2024", "2"], ["2025", "1"]]
    assert "<script" not in page.read_text(encoding="utf-8").split("<svg", 1)[1].split(
        "</svg>")[0]


def test_design_chart_matches_its_data_table(scratch_site):
    page = scratch_site / "conditions" / "scratch-pain" / "index.html"
    chart = svgs(page)["chart-designs"]
    assert chart.find(f"{SVG}desc").text == (
        "6 papers by study design and direction of effect. Randomised controlled trial: 2 "
        "(benefit 1, not recorded 1); Classification or measurement: 1 (not applicable 1); "
        "Not annotated: 3 (not recorded 3).")
    segments = [r.find(f"{SVG}title").text for r in chart.iter(f"{SVG}rect")
                if r.find(f"{SVG}title") is not None]
    assert segments == ["Randomised controlled trial, benefit: 1",
                        "Randomised controlled trial, not recorded: 1",
                        "Classification or measurement, not applicable: 1",
                        "Not annotated, not recorded: 3"]
    data = next(t for t in tables(page) if t["caption"].endswith("direction of effect")
                and t["attrs"].get("class") == "chart-data")
    assert [[c["text"] for c in r["cells"]] for r in data["rows"]] == [
        ["Randomised controlled trial", "Benefit", "1"],
        ["Randomised controlled trial", "Not recorded", "1"],
        ["Classification or measurement", "Not applicable", "1"],
        ["Not annotated", "Not recorded", "3"]]


def test_charts_are_deterministic_bytes(corpus):
    e = condition_evidence(corpus, "cancer-pain")
    first = (years_chart("c", "t", e.years), designs_chart("d", "t", e.designs))
    again = condition_evidence(corpus, "cancer-pain")
    assert first == (years_chart("c", "t", again.years), designs_chart("d", "t", again.designs))
    assert [y.year for y in papers_per_year([r.paper for r in e.rows])] == list(range(2012, 2026))
    assert "e-" not in str(first[0])  # no float exponent ever reaches the SVG


# --- legend --------------------------------------------------------------------------------------

def test_legend_explains_every_label(bundled_site):
    for page in (bundled_site / "evidence-legend" / "index.html",
                 bundled_site / "conditions" / "fibromyalgia" / "index.html"):
        text = page_text(page)
        for label, explanation in (*DESIGNS.values(), *DIRECTIONS.values()):
            assert f"{label} {explanation}" in text, (page, label)
    links = re.findall(r'href="([^"]*evidence-legend/)"', (
        bundled_site / "conditions" / "fibromyalgia" / "index.html").read_text("utf-8"))
    assert links and links[0] == "../../evidence-legend/"


# --- sorting in a real browser -------------------------------------------------------------------

@pytest.fixture(scope="module")
def file_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("files") / "_site"
    result = build(REPO, out, LinkStyle.FILES)
    assert not result.diagnostics.has_errors
    return out


def _column(page, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "#evidence tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


def _designs_in_server_order(server_order: list[str], page) -> list[str]:
    by_title = dict(zip(_column(page, 0), _column(page, 1), strict=True))
    return [by_title[t] for t in server_order]


def _check_sorting(page) -> None:
    server_order = _column(page, 0)
    assert page.locator("#evidence thead button").count() == 7  # Finding is not sortable
    year = page.locator("#evidence thead th", has_text="Year")
    year.locator("button").click()
    assert year.get_attribute("aria-sort") == "ascending"
    assert page.locator("#evidence thead th[aria-sort]").count() == 1
    # the arrow is drawn, not named: aria-sort says the order, the button's name stays "Year"
    expect(year.get_by_role("button", name="Year", exact=True)).to_be_visible()
    years = [int(y) for y in _column(page, 2)]
    assert years == sorted(years)
    year.locator("button").click()
    assert year.get_attribute("aria-sort") == "descending"
    years = [int(y) for y in _column(page, 2)]
    assert years == sorted(years, reverse=True)
    design = page.locator("#evidence thead th", has_text="Design")
    design.locator("button").click()
    assert _column(page, 0) == server_order  # ascending design = the server's order
    assert page.locator("[role=status]").first.text_content() == "Sorted by Design, ascending."
    # papers with no recorded design stay last in either order, as in every column
    design.locator("button").click()
    designs = _column(page, 1)
    missing = [d == "—Not annotated" for d in designs]
    assert any(missing) and not all(missing), designs
    assert missing == sorted(missing), designs  # every recorded one before every missing one
    assert [d for d in designs if d != "—Not annotated"] == [
        d for d in reversed(_designs_in_server_order(server_order, page)) if d != "—Not annotated"]
    # a heading that is an abbreviation ("n") is said in full
    page.locator("#evidence thead th[data-sort-label] button").click()
    assert page.locator("[role=status]").first.text_content() == (
        "Sorted by Number of participants, ascending.")
    assert page.console_errors == []
    assert page.external_requests == []


@pytest.mark.browser
def test_sorting_over_file_url(page, file_site):
    page.goto((file_site / "conditions" / "neuropathic-pain" / "index.html").as_uri())
    _check_sorting(page)


@pytest.mark.browser
def test_sorting_over_http_with_the_sites_csp(page, bundled_site, http_server):
    site = http_server(bundled_site)
    page.goto(site.page_url("conditions/neuropathic-pain/"))
    _check_sorting(page)


@pytest.mark.browser
def test_table_without_javascript_is_complete_and_sorted(browser, bundled_site, http_server):
    site = http_server(bundled_site)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site.page_url("conditions/neuropathic-pain/"))
        assert page.locator("#evidence thead button").count() == 0
        titles = _column(page, 0)
        assert len(titles) == 6 and titles[0].startswith("Ketamine and magnesium")
        th = page.locator("#evidence thead th", has_text="Design")
        assert th.get_attribute("aria-sort") == "ascending"
    finally:
        context.close()
