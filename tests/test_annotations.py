"""Paper annotations: every claim rests on a sentence of the seeds; bad annotations are errors."""

from __future__ import annotations

import re

import pytest
from sitetools import SEEDS, write_files

from ketsite.build import load_project
from ketsite.diagnostics import Diagnostics


def _norm(text: str) -> str:
    return " ".join(text.replace("\u2011", "-").replace("\u2010", "-").split())




@pytest.fixture(scope="module")
def seed_text() -> str:
    return _norm("\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))))


#: The words a basis must contain for each design it supports (the seed names the design).
DESIGN_WORDS = {
    "meta-analysis": r"meta-analysis",
    "systematic-review": r"systematic review",
    "randomised-controlled-trial": r"randomi[sz]ed",
    "observational-study": r"cohort|observational|registry",
    "case-report": r"case report|case series",
    "guideline": r"guideline|consensus",
    "narrative-review": r"narrative review",
    "pharmacology": r"pharmaco|microsomes|N-demethylation",
    "animal-study": r"\b(mice|rats?|dogs|animals?)\b",
    "classification": r"classification|measures|scale",
}


def test_every_annotation_quotes_its_seed_sentence(corpus, seed_text):
    assert len(corpus.annotations) == 31
    for key, annotation in corpus.annotations.items():
        assert annotation.basis, key
        assert _norm(annotation.basis) in seed_text, key


def test_designs_are_named_by_the_seed_sentence(corpus):
    for key, annotation in corpus.annotations.items():
        if annotation.design:
            assert re.search(DESIGN_WORDS[annotation.design], annotation.basis, re.I), key


def test_only_stated_effects_have_a_direction(corpus):
    directed = {k: a.direction for k, a in corpus.annotations.items() if a.direction}
    assert directed == {"noppers2011absence": "no-benefit"}
    assert "Absence of long-term analgesic effect" in corpus.annotations["noppers2011absence"].basis


def test_a_review_of_unstated_kind_has_no_design(corpus):
    """'A review' does not say narrative or systematic, so such papers carry no design."""
    for key in ("blonk2010use", "israel2021ketamine", "spitaleri2025ketamine"):
        assert corpus.annotations[key].design is None, key
    for key in ("faisco2024ketamine", "mills2019chronic", "petrenko2003role"):
        assert key not in corpus.annotations, key
    assert corpus.annotations["martins2024narrative"].design == "narrative-review"


def test_annotation_fields_as_written(corpus):
    noppers = corpus.annotations["noppers2011absence"]
    assert (noppers.design, noppers.population, noppers.comparator, noppers.direction) == (
        "randomised-controlled-trial", "Patients with fibromyalgia", "Active placebo", "no-benefit")
    assert noppers.conditions == ("fibromyalgia",)
    ayad = corpus.annotations["ayad2024lumbar"]
    assert (ayad.design, ayad.sample_size) == ("case-report", 1)
    assert corpus.annotations["salas2012ketamine"].route == ("intravenous",)
    assert corpus.annotations["fanta2015population"].route == ("intravenous", "oral")


def test_bad_annotations_are_errors_with_their_line(tmp_path):
    root = write_files(tmp_path, {
        "bib/a.bib": """
            @article{smith2020trial,
              author = {Smith, Jane}, title = {A trial}, journal = {Pain}, year = {2020},
            }
        """,
        "content/papers/smith2020trial.yaml": """
            design: rct
            desing: meta-analysis
            sample_size: many
            route: [iv]
            status: withdrawn
            finding: See [@nobody2020].
        """,
        "content/papers/ghost2020paper.yaml": """
            design: meta-analysis
        """,
    })
    diags = Diagnostics()
    load_project(root, diags)
    messages = [d.format() for d in diags.sorted()]
    expected = [
        r"content/papers/ghost2020paper.yaml:1:1: error: no paper with citation key "
        r"'ghost2020paper'",
        r"content/papers/smith2020trial.yaml:1:9: error: 'design': 'rct' is not one of",
        r"content/papers/smith2020trial.yaml:2:1: error: unknown key 'desing' "
        r"\(did you mean 'design'\?\)",
        r"content/papers/smith2020trial.yaml:3:14: error: 'sample_size' must be a whole number",
        r"content/papers/smith2020trial.yaml:4:9: error: item of 'route': 'iv' is not one of",
        r"content/papers/smith2020trial.yaml:5:9: error: 'status': 'withdrawn' is not one of "
        r"retracted, corrected",
        r"content/papers/smith2020trial.yaml:6:\d+: error: citation \[@nobody2020\] in 'finding'",
    ]
    for pattern in expected:
        assert any(re.match(pattern, m) for m in messages), (pattern, messages)
