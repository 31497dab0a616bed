"""Formatted references: APA 7 and Vancouver/NLM from the official CSL styles via citeproc-py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from scratch import EVIL_TITLE, make_scratch_project
from sitetools import REPO, SEEDS, page_text

from ketsite.build import load_project
from ketsite.diagnostics import Diagnostics
from ketsite.scholarly.cite import STYLES, format_reference


@pytest.fixture(scope="module")
def scratch_corpus(tmp_path_factory):
    root = make_scratch_project(tmp_path_factory.mktemp("scratch"))
    diags = Diagnostics()
    project = load_project(root, diags)
    assert not diags.has_errors, [d.format() for d in diags.sorted()]
    return project.corpus


EXPECTED = {
    "noppers2011absence": (
        "Noppers, I., Niesters, M., Swartjes, M., Bauer, M., Aarts, L., Geleijnse, N., Mooren, R., "
        "Dahan, A., &amp; Sarton, E. (2011). Absence of long-term analgesic effect from a "
        "short-term S-ketamine infusion on fibromyalgia pain: A randomized, prospective, "
        "double-blind, active placebo-controlled trial. <i>European Journal of Pain</i>, "
        "<i>15</i>(9), 942–949. https://doi.org/10.1016/j.ejpain.2011.03.008",
        "Noppers I, Niesters M, Swartjes M, Bauer M, Aarts L, Geleijnse N, et al. Absence of "
        "long-term analgesic effect from a short-term S-ketamine infusion on fibromyalgia pain: A "
        "randomized, prospective, double-blind, active placebo-controlled trial. European Journal "
        "of Pain. 2011;15(9):942–9. doi:10.1016/j.ejpain.2011.03.008",
    ),
    # A full date, an article number instead of pages and a PMID.
    "israel2021ketamine": (
        "Israel, J. E., St Pierre, S., Ellis, E., Hanukaai, J. S., Noor, N., Varrassi, G., Wells, "
        "M., &amp; Kaye, A. D. (2021). Ketamine for the Treatment of Chronic Pain: A Comprehensive "
        "Review. <i>Health Psychology Research</i>, <i>9</i>(1), Article 25535. "
        "https://doi.org/10.52965/001c.25535",
        "Israel JE, St Pierre S, Ellis E, Hanukaai JS, Noor N, Varrassi G, et al. Ketamine for the "
        "Treatment of Chronic Pain: A Comprehensive Review. Health Psychology Research. "
        "2021 Nov 8;9(1):25535. doi:10.52965/001c.25535 PubMed PMID: 34746491.",
    ),
    # An abbreviated page range in the source (287--93): expanded for APA, minimal for NLM.
    # PubMed's lower case after the colon: APA 7's sentence case capitalises it, NLM keeps it.
    "salas2012ketamine": (
        "Salas, S., Frasca, M., Planchet-Barraud, B., Burucoa, B., Pascal, M., &amp; Lapiana, J. "
        "(2012). Ketamine analgesic effect by continuous intravenous infusion in refractory cancer "
        "pain: Considerations about the clinical research in palliative care. "
        "<i>J Palliat Med</i>, <i>15</i>(3), 287–293. https://doi.org/10.1089/jpm.2011.0353",
        "Salas S, Frasca M, Planchet-Barraud B, Burucoa B, Pascal M, Lapiana J. Ketamine analgesic "
        "effect by continuous intravenous infusion in refractory cancer pain: considerations about "
        "the clinical research in palliative care. J Palliat Med. 2012;15(3):287–93. "
        "doi:10.1089/jpm.2011.0353",
    ),
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_apa_and_vancouver_of_seed_papers(corpus, key):
    apa, vancouver = EXPECTED[key]
    assert format_reference(corpus.papers[key], "apa").html == apa
    assert format_reference(corpus.papers[key], "vancouver").html == vancouver


def test_corporate_author_is_kept_whole(scratch_corpus):
    paper = scratch_corpus.papers["iasp2019classification"]
    assert format_reference(paper, "apa").text == (
        "International Association for the Study of Pain. (2019). Classification of chronic pain. "
        "Pain, 160(1), 28–37. https://doi.org/10.1000/scratch.1"
    )
    assert format_reference(paper, "vancouver").text == (
        "International Association for the Study of Pain. Classification of chronic pain. Pain. "
        "2019;160(1):28–37. doi:10.1000/scratch.1"
    )


def _seed_apa_lines() -> list[str]:
    text = (SEEDS / "001_8eeef89ec609db5b.txt").read_text(encoding="utf-8").replace("\u2011", "-")
    block = text.split("References\n", 1)[1].split("\nViews:", 1)[0]
    return [line.strip() for line in block.splitlines()]


def test_apa_reproduces_the_spitaleri_reference_list(corpus):
    """The Spitaleri seed prints its references in APA 7: ours must match them line for line,
    except where the seed itself deviates (each exception says why)."""
    exceptions = {
        "calsinaberna2024oral": "the seed drops the '&' before the last author",
        "vandervelzen2021efficacy": "the seed has no space after '(2021).'",
        "israel2021ketamine": "the seed's title is in sentence case; the BibTeX keeps PubMed's",
        "treede2015classification": "APA 7 lists 19 authors, '…' and the last; the seed all 22",
    }
    keys = corpus.reviews["spitaleri-2025"].references
    lines = _seed_apa_lines()
    assert len(keys) == len(lines) == 33
    same = [k for k, line in zip(keys, lines, strict=True)
            if format_reference(corpus.papers[k], "apa").text == line]
    assert sorted(set(keys) - set(same)) == sorted(exceptions)
    assert len(same) == 29  # Richebé's too, with language = {fr}: CSL title-cases English only


def test_output_is_escaped(corpus, scratch_corpus):
    paper = scratch_corpus.papers["smith2020tricky"]
    assert paper.title == EVIL_TITLE
    for style in STYLES:
        ref = format_reference(paper, style)
        assert "<script" not in ref.html
        assert "Tricky &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in ref.html
        assert "Journal of Tests &amp; Trials" in ref.html
        assert "Tricky <script>alert(1)</script> & friends" in ref.text
    # Markup-like private-use characters in data cannot become tags.
    sneaky = replace(corpus.papers["salas2012ketamine"], title="a \ue000b\ue001 c")
    html = format_reference(sneaky, "apa").html
    assert "a b c." in html and "<i>b</i>" not in html


def test_paper_page_shows_the_cite_panel_escaped(scratch_site):
    page = scratch_site / "papers" / "smith2020tricky" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "<script>alert" not in html
    text = page_text(page)
    assert "APA 7th edition Smith, J., & Doe, J. (2020). Tricky <script>alert(1)</script>" in text
    assert "Vancouver (NLM) Smith J, Doe J. Tricky <script>alert(1)</script> & friends" in text
    assert "2020 Mar 5;3(2):10–9" in text


def test_csl_files_are_the_documented_official_copies():
    import hashlib

    readme = (REPO / "ketsite" / "csl" / "README.md").read_text(encoding="utf-8")
    for style in STYLES.values():
        data = (Path(REPO) / "ketsite" / "csl" / style.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() in readme, style.file
        assert b"<rights license=\"http://creativecommons.org/licenses/by-sa/3.0/\">" in data


def test_names_in_other_scripts_are_cited_as_written():
    """citeproc-py initialised every name as if Latin: "王, 芳" came out "王, . 芳 ."."""
    from ketsite.scholarly.cite import STYLES, format_item

    item = {"id": "x", "type": "article-journal", "title": "T", "container-title": "Pain",
            "issued": {"date-parts": [[2020]]},
            "author": [{"family": "王", "given": "芳"}, {"family": "الأحمد", "given": "فاطمة"},
                       {"family": "Müller", "given": "Anna"}]}
    assert format_item(item, STYLES["apa"]).text.startswith(
        "王芳, الأحمد فاطمة, & Müller, A. (2020).")
    assert format_item(item, STYLES["vancouver"]).text.startswith("王芳, الأحمد فاطمة, Müller A.")


def test_a_range_of_one_page_is_that_page(corpus):
    from dataclasses import replace

    from ketsite.scholarly.csl import csl_item

    paper = replace(corpus.papers["noppers2011absence"], pages="5–5")
    assert csl_item(paper)["page"] == "5"


@pytest.mark.parametrize(("page", "vancouver"), [
    ("1-10", "1–10"), ("98-102", "98–102"), ("287-293", "287–93"), ("5", "5"),
    ("S1-S10", "S1–10"), ("e9-e10", "e9–10"), ("S240-S252", "S240–52")])
def test_vancouver_shortens_page_ranges_as_csl_says(page, vancouver):
    """NLM's minimal ranges drop only the digits two pages of one length share: citeproc-py made
    1–10 "1–0" and 98–102 "98–02"."""
    from ketsite.scholarly.cite import STYLES, format_item

    item = {"id": "x", "type": "article-journal", "title": "T", "container-title": "Pain",
            "issued": {"date-parts": [[2020]]}, "page": page,
            "author": [{"family": "Doe", "given": "J"}]}
    assert format_item(item, STYLES["vancouver"]).text.endswith(f"2020;{vancouver}.")
