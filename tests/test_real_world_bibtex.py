"""BibTeX as reference managers and databases export it (Zotero, Better BibTeX, Mendeley,
Crossref, PubMed, EndNote): accepted where it means something, its characters kept, and cited as
the styles say; the slips these exports make are reported, not turned into wrong authors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitetools import write_files

from ketsite.build import build
from ketsite.cli import main

CONFIG = """
    title: Exports
    description: BibTeX from reference managers.
    url: https://exports.example.org/
"""

ENTRIES = r"""
    @article{zotero2014,
      title = {Pain {\textless}48 h {\textbar} is it real? A 10{\textpercent} change
               {\textgreater} 5},
      author = {Kaye, AD and Bauer, Martin CR},
      journaltitle = {Pain},
      date = {2014-02-23},
      url = {https://example.org/a\_b?x=1{\&}y=2},
      pages = {357-67},
    }
    @article{crossref2017,
      title={Is ketamine effective for chronic pain?},
      author={Roe, Jane},
      journal={Muscle Nerve},
      year={2017},
      month=jun,
      DOI={doi: 10.1002/xyz},
      url={http://dx.doi.org/10.1002/(sici)1097-4598(199707)20:7<814::aid-mus4>3.0.co;2-8},
    }
    @book{betterbibtex2018,
      title = {A year alone as the date},
      author = {Poe, Jim},
      publisher = {Springer},
      date = {2018},
    }
    @incollection{chapter2019,
      title = {A chapter},
      author = {Roe, Jane},
      editor = {Smith, John and Doe, Anne},
      booktitle = {Pain Book},
      publisher = {Springer},
      year = {2019},
      pages = {1--10},
    }
    @book{edited2001,
      editor = {Kre{\ss}, Hans Georg},
      title = {Ketamin},
      publisher = {Springer},
      year = {2001},
    }
    @phdthesis{thesis2010,
      title = {A thesis},
      author = {Roe, John},
      school = {Universiteit Leiden},
      year = {2010},
    }
    @techreport{report2013,
      title = {A report},
      author = {Roe, John},
      institution = {Agency},
      number = {RR-1234},
      year = {2013},
    }
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = write_files(tmp_path_factory.mktemp("exports"),
                       {"ketsite.yaml": CONFIG, "bib/zotero.bib": ENTRIES})
    result = build(root, root / "_site")
    assert not result.diagnostics.has_errors, result.diagnostics.sorted()
    return root / "_site"


def page(site: Path, key: str) -> str:
    return (site / "papers" / key / "index.html").read_text(encoding="utf-8")


def cite(site: Path, key: str, style: str) -> str:
    html = page(site, key)
    start = html.index(f'id="cite-{style}">') + len(f'id="cite-{style}">')
    return html[start:html.index("</p>", start)]


def csl(site: Path, key: str) -> dict:
    return json.loads((site / "papers" / key / f"{key}.json").read_text(encoding="utf-8"))[0]


def test_zotero_escapes_for_less_than_bar_and_percent_are_the_characters(site):
    assert "<h1 dir=\"auto\">Pain &lt;48 h | is it real? A 10% change &gt; 5</h1>" in page(
        site, "zotero2014")


def test_initials_written_together_are_each_an_initial_in_citations(site):
    assert cite(site, "zotero2014", "apa").startswith("Kaye, A. D., &amp; Bauer, M. C. R. (2014)")
    assert cite(site, "zotero2014", "vancouver").startswith("Kaye AD, Bauer MCR.")


def test_biblatex_journaltitle_and_date_stand_for_journal_and_year(site):
    html = page(site, "zotero2014")
    assert '<meta name="citation_journal_title" content="Pain">' in html
    assert '<meta name="citation_publication_date" content="2014/02/23">' in html
    assert csl(site, "betterbibtex2018")["issued"] == {"date-parts": [[2018]]}


def test_a_one_hyphen_page_range_is_a_range(site):
    html = page(site, "zotero2014")
    assert '<meta name="citation_firstpage" content="357">' in html
    assert '<meta name="citation_lastpage" content="367">' in html
    assert csl(site, "zotero2014")["page"] == "357-367"


def test_a_prefixed_page_range_keeps_its_prefix_on_the_last_page():
    from ketsite.diagnostics import SourceLocation
    from ketsite.model.entities import Paper

    def last(pages: str) -> str | None:
        return Paper("k", "k", "article", "T", 2020, (), SourceLocation("x"), pages=pages).last_page

    assert [last(p) for p in ("S1–10", "S45–S52", "287–93", "e9–e10", "12")] == [
        "S10", "S52", "293", "e10", None]


def test_urls_as_mendeley_and_crossref_write_them(site):
    assert csl(site, "zotero2014")["URL"] == "https://example.org/a_b?x=1&y=2"
    assert csl(site, "crossref2017")["URL"] == (
        "http://dx.doi.org/10.1002/(sici)1097-4598(199707)20:7%3C814::aid-mus4%3E3.0.co;2-8")
    assert csl(site, "crossref2017")["DOI"] == "10.1002/xyz"


def test_a_month_macro_dates_the_paper_to_its_month(site):
    assert csl(site, "crossref2017")["issued"] == {"date-parts": [[2017, 6]]}
    assert "2017 Jun" in cite(site, "crossref2017", "vancouver")


def test_a_title_ending_in_a_question_mark_gets_no_extra_full_stop(site):
    for style in ("apa", "vancouver"):
        text = cite(site, "crossref2017", style)
        assert "chronic pain? " in text and "?." not in text, text


def test_an_edited_book_credits_its_editors_as_editors(site):
    assert cite(site, "edited2001", "apa") == (
        "Kreß, H. G. (Ed.). (2001). <i>Ketamin</i>. Springer.")
    assert cite(site, "edited2001", "vancouver") == "Kreß HG, editor. Ketamin. Springer; 2001."
    item = csl(site, "edited2001")
    assert item["editor"] == [{"family": "Kreß", "given": "Hans Georg"}] and "author" not in item
    ris = (site / "papers" / "edited2001" / "edited2001.ris").read_text(encoding="utf-8")
    assert "A2  - Kreß, Hans Georg" in ris and "AU  - " not in ris


def test_apa_editor_labels_thesis_and_report_descriptions(site):
    assert "In J. Smith &amp; A. Doe (Eds.), <i>Pain Book</i>" in cite(site, "chapter2019", "apa")
    assert cite(site, "thesis2010", "apa") == (
        "Roe, J. (2010). <i>A thesis</i> [Doctoral dissertation]. Universiteit Leiden.")
    assert "[Doctoral dissertation]" in cite(site, "thesis2010", "vancouver")
    assert cite(site, "report2013", "apa") == "Roe, J. (2013). <i>A report</i> (RR-1234). Agency."
    assert "Report RR-1234" in cite(site, "report2013", "vancouver")


SLIPS = {
    "family-initials": ("author = {Schwartzman RJ and Alexander GM},",
                        "error: author of 'slip': 'Schwartzman RJ' reads as given name "
                        "'Schwartzman', family name 'RJ': for PubMed's 'Family Initials' write "
                        "'Schwartzman, R. J.'"),
    "suffix-last": ("author = {Smith, John, III},",
                    "error: author of 'slip': 'Smith, John, III' puts the suffix last, where "
                    "BibTeX expects the given name: write 'Smith, III, John' (Family, Suffix, "
                    "Given)"),
    "unbraced-organisation": ("author = {Agency for Healthcare Research and Quality},",
                              "warning: author of 'slip': 'Agency for Healthcare Research' has "
                              "'for' inside it, as an organisation's name does"),
    "crossref-html": ("booktitle = {Muscle &amp; Nerve}, author = {Roe, J.},",
                      "warning: booktitle of 'slip' holds HTML ('&amp;'), which is shown as "
                      "written"),
    "organisation-word": ("author = {World Health Organization},",
                          "warning: author of 'slip': 'World Health Organization' has the word "
                          "'Organization', as an organisation's name does"),
    "unknown-language": ("language = {Klingon}, author = {Roe, J.},",
                         "warning: language of 'slip' is not one ketsite knows: 'Klingon'; "
                         "write its ISO 639 code"),
    "unknown-command": ("note = {\\foo{bar}}, author = {Roe, J.},",
                        "warning: note of 'slip' uses the LaTeX command \\foo, which ketsite "
                        "does not know"),
}


def test_a_type_a_reference_manager_writes_gets_the_type_to_use(tmp_path, capsys):
    write_files(tmp_path, {"ketsite.yaml": CONFIG, "bib/a.bib": """
        @online{web, title = {T}, author = {Roe, J.}, year = {2020}, url = {https://x.org/}}
    """})
    assert main(["check", "--src", str(tmp_path)]) == 1
    assert "unknown entry type @online for 'web' (did you mean @misc?)" in capsys.readouterr().err


@pytest.mark.parametrize("case", sorted(SLIPS))
def test_export_slips_are_reported_at_the_field(tmp_path, capsys, case):
    field, message = SLIPS[case]
    write_files(tmp_path, {"ketsite.yaml": CONFIG, "bib/a.bib": f"""
        @article{{slip,
          title = {{T}}, journal = {{J}}, year = {{2020}},
          {field}
        }}
    """})
    code = main(["check", "--src", str(tmp_path)])
    err = capsys.readouterr().err
    assert f"bib/a.bib:3:3: {message}" in err, err
    assert code == (1 if message.startswith("error") else 0)


def _pairs_up(value: str) -> bool:
    depth = 0
    for ch in value:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="{}a\\", max_size=12))
def test_balanced_braces_are_those_that_pair_up_in_order(value):
    from ketsite.sources.bibtex import balanced

    assert balanced(value) == _pairs_up(value)
