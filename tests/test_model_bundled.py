"""The bundled content, loaded into the model: identities, counts and cross-links from the seeds."""







def test_every_seed_paper_is_one_entry(corpus):
    # 33 APA references of Spitaleri (Israel among them) + 5 references + 5 citing articles
    # of the Israel page + the Spitaleri review itself.
    assert len(corpus.papers) == 44
    assert len(corpus.reviews) == 2


def test_same_person_one_author(corpus):
    assert len(corpus.papers_by_author["cohen-s-p"]) == 5
    assert len(corpus.papers_by_author["hooten-w-m"]) == 2
    assert corpus.papers_by_author["dahan-a"] != corpus.papers_by_author["dahan-j-d-c"]
    assert corpus.papers_by_author["gaska-wojciech"] == ("spitaleri2025ketamine",)
    assert corpus.papers_by_author["gaska-wiktor"] == ("spitaleri2025ketamine",)
    assert "cohen-m" in corpus.authors and corpus.authors["cohen-m"] != corpus.authors["cohen-s-p"]


def test_unicode_names_survive(corpus):
    shown = {a.name.display for a in corpus.authors.values()}
    for name in ("Julia Głowacka", "Wojciech Gąska", "Karolina Dębek-Kalinowska", "P. Richebé",
                 "J. Julià-Torras", "J. Schüttler"):
        assert name in shown


def test_review_reference_order_follows_the_seed(corpus):
    spitaleri = corpus.reviews["spitaleri-2025"]
    assert len(spitaleri.references) == 33
    assert spitaleri.references[0] == "cohen2021chronic"
    assert spitaleri.references[-1] == "nicholas2019iasp"
    assert "israel2021ketamine" in spitaleri.references
    israel = corpus.reviews["israel-2021"]
    assert israel.references == ("salas2012ketamine", "juni2006morphine", "mills2019chronic",
                                 "petrenko2003role", "hirota1996ketamine")
    assert len(israel.citing) == 5


def test_reverse_indexes(corpus):
    assert corpus.reviews_citing["israel2021ketamine"] == ("spitaleri-2025",)
    assert "noppers2011absence" in corpus.papers_by_condition["fibromyalgia"]
    # the seeds' two reviews share no reference; Spitaleri cites Israel itself
    assert corpus.shared_references() == ()
    assert "israel2021ketamine" in corpus.cites["spitaleri2025ketamine"]
    assert "faisco2024ketamine" in corpus.cited_by["israel2021ketamine"]


def test_latex_and_identifiers_decoded(corpus):
    hawker = corpus.papers["hawker2011measures"]
    assert hawker.journal == "Arthritis Care & Research (Hoboken)"
    assert hawker.pages == "S240–S252"
    sinner = corpus.papers["sinner2008ketamine"]
    assert sinner.doi == "10.1007/978-3-540-74806-9_15"
    assert corpus.papers["mills2019chronic"].pmcid == "PMC6676152"
    assert corpus.papers["israel2021ketamine"].pmid == "34746491"
    assert corpus.papers["salas2012ketamine"].last_page == "293"
