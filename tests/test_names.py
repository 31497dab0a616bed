"""Author identity: the same person is one author page, different people stay apart."""

from ketsite.model.entities import PersonName
from ketsite.model.names import MAX_ID, identity, preferred


def test_initials_are_normalised():
    assert identity(PersonName("Cohen", "S. P.")) == identity(PersonName("Cohen", "SP"))
    assert identity(PersonName("Cohen", "S. P.")) == identity(PersonName("Cohen", "S P"))
    assert identity(PersonName("Treede", "R.-D.")) == identity(PersonName("Treede", "RD"))


def test_different_people_stay_apart():
    assert identity(PersonName("Dahan", "A.")) != identity(PersonName("Dahan", "J. D. C."))
    assert identity(PersonName("Gąska", "Wojciech")) != identity(PersonName("Gąska", "Wiktor"))
    assert identity(PersonName("Cohen", "M.")) != identity(PersonName("Cohen", "S. P."))


def test_slugs_are_ascii_and_stable():
    assert identity(PersonName("Głowacka", "Julia")) == "glowacka-julia"
    assert identity(PersonName("Dębek-Kalinowska", "Karolina")) == "debek-kalinowska-karolina"
    assert identity(PersonName("Richebé", "P.")) == "richebe-p"
    assert identity(PersonName("Van der Velzen", "M. V.")) == "van-der-velzen-m-v"
    iasp = PersonName("International Association for the Study of Pain", corporate=True)
    assert identity(iasp) == "international-association-for-the-study-of-pain"


def test_display_keeps_unicode_and_prefers_fullest_spelling():
    names = [PersonName("Varrassi", "G"), PersonName("Varrassi", "G.")]
    assert preferred(names).given == "G."
    assert PersonName("Julià-Torras", "J.").display == "J. Julià-Torras"
    assert PersonName("Cohen", "S. P.").inverted == "Cohen, S. P."


def test_names_that_transliterate_alike_are_different_authors():
    """王芳 and 汪方 are both "Wang Fang" in ASCII, Иванов and Ivanov both "ivanov", and two long
    corporate names can share their first 80 characters: none of them shares an author page."""
    pairs = [
        (PersonName("王", "芳"), PersonName("汪", "方")),
        (PersonName("Иванов", "Иван"), PersonName("Ivanov", "Ivan")),
        (PersonName("International Association for the Study of Pain Special Interest Group on "
                    "Neuropathic Pain, European Chapter", corporate=True),
         PersonName("International Association for the Study of Pain Special Interest Group on "
                    "Neuropathic Pain, American Chapter", corporate=True)),
    ]
    for one, other in pairs:
        assert identity(one) != identity(other), (one, other)
        assert len(identity(one)) <= MAX_ID and identity(one).isascii()
    assert identity(PersonName("王", "芳")) == identity(PersonName("王", "芳"))  # stable
    assert identity(PersonName("Gąska", "Wojciech")) == "gaska-wojciech"  # Latin: as before
    assert PersonName("王", "芳").display == "王芳"  # family name first, no space
