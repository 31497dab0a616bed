"""The LaTeX fast path gives exactly what pylatexenc gives, on every form it claims to handle."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketsite.sources import latex
from ketsite.sources.latex import ACCENTS, LETTERS, decode_with_pylatexenc, latex_to_unicode


def slow(text: str) -> str:
    """latex_to_unicode with every decoding done by pylatexenc (the reference)."""
    if latex._NEEDS_DECODING.search(text):
        text = decode_with_pylatexenc(text)
    else:
        text = text.replace("{", "").replace("}", "")
    return latex._SPACE.sub(" ", text).strip()


BASES = string.ascii_letters + "\\i\\j"


@pytest.mark.parametrize("accent", sorted(ACCENTS))
def test_every_accent_on_every_letter_matches_pylatexenc(accent):
    letters = list(string.ascii_letters) + ["\\i", "\\j"]
    for letter in letters:
        forms = [f"{{\\{accent}{{{letter}}}}}", f"\\{accent}{{{letter}}}", f"x\\{accent} {letter}y"]
        if not letter.startswith("\\"):
            forms += [f"{{\\{accent}{letter}}}", f"\\{accent}{letter}z"]
        for form in forms:
            latex._decode.cache_clear()
            assert latex_to_unicode(form) == slow(form), form


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_letter_macros_match_pylatexenc(name):
    for form in (f"{{\\{name}}}x", f"\\{name}{{}}x", f"\\{name} x", f"a \\{name}  b", f"\\{name}"):
        latex._decode.cache_clear()
        assert latex_to_unicode(form) == slow(form), form


TOKENS = st.sampled_from([
    "a", "Ketamine", " ", "  ", "\n", "-", "--", "---", "~", "{", "}", "{S}", "\\&", "\\%", "\\_",
    "\\#", "\\$", "{\\'e}", "\\'e", "\\\"u", "\\\"{o}", "{\\c c}", "\\c{C}", "{\\k a}", "\\l",
    "{\\L}",
    "\\o", "\\ss", "\\aa{}", "{\\'\\i}", "\\v{s}", "\\H o", "$x$", "\\emph{x}", "\\textit{a b}",
    "``", "''", "&", "%", "\\'", "\\\\", "\\cc", "\\'{}", "é", "Gąska", ",", ":", "(", ")", "'",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=12).map("".join))
def test_any_mix_of_forms_matches_pylatexenc(text):
    latex._decode.cache_clear()
    assert latex_to_unicode(text) == slow(text)


SEGMENT = st.sampled_from(["papers", "authors", "a", "b", "index.html", "x.css", "assets"])


@settings(max_examples=500, deadline=None)
@given(st.lists(SEGMENT, min_size=1, max_size=4).map("/".join),
       st.lists(SEGMENT, max_size=4).map("/".join))
def test_fast_relpath_equals_posixpath(to_path, base):
    import posixpath

    from ketsite.site.routes import relpath

    assert relpath(to_path, base) == posixpath.relpath(to_path, base or ".")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab {}\t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000é"),
               max_size=20))
def test_space_folding_equals_the_regex(text):
    import re

    expected = re.sub(r"\s+", " ", text.replace("{", "").replace("}", "")).strip()
    assert latex_to_unicode(text) == expected
