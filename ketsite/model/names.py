"""Person names: decoding, identity and slugs.

Two credits are the same author when family name and given names agree after folding case,
diacritics and punctuation, with initials normalised (``S. P.`` = ``S P`` = ``SP``). Full given
names keep people apart that initials alone would merge (Wojciech vs Wiktor Gąska); different
initials keep apart people sharing a family name (``Dahan, A.`` vs ``Dahan, J. D. C.``). Anything
beyond that — "Schug, S." being "Schug, S. A." — needs an author file, because it is a fact, not a
spelling.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from slugify import slugify as _slugify

from ketsite.model.entities import PersonName


def _backend() -> str:
    """The transliteration backend python-slugify's ``auto`` would pick, named explicitly: ``auto``
    retries the import of a missing ``unidecode`` (a search of sys.path) on every call."""
    try:
        import unidecode  # noqa: F401
    except ModuleNotFoundError:
        return "text-unidecode"
    return "unidecode"


_BACKEND = _backend()


@lru_cache(maxsize=262144)
def slugify(text: str, max_length: int = 0, word_boundary: bool = False) -> str:
    """python-slugify, memoised: one author's name is slugged for every paper they wrote, and
    transliterating non-ASCII text costs tens of microseconds."""
    return str(_slugify(text, max_length=max_length, word_boundary=word_boundary,
                        backend=_BACKEND))  # type: ignore[arg-type]


def _given_tokens(given: str) -> list[str]:
    tokens: list[str] = []
    for token in re.split(r"[\s.\-‐‑–]+", given):
        if not token:
            continue
        if token.isupper() and len(token) <= 3 and token.isalpha():
            tokens.extend(token)  # "SP" → S, P (PubMed style initials)
        else:
            tokens.append(token)
    return tokens


#: An author id is at most this long (a corporate name can be a paragraph).
MAX_ID = 80
#: Letters of the Latin script (with their diacritics), which transliteration keeps apart.
_LATIN = re.compile(r"^[\W\d_\u0000-\u024f\u1e00-\u1eff]*$")


@lru_cache(maxsize=262144)
def identity(name: PersonName) -> str:
    """The author id (and URL slug) of a name: ASCII, lower-case, stable across spellings.

    The slug is a transliteration, which keeps Latin names apart but not others: 王芳 and 汪方
    are both "wang-fang", Иванов and Ivanov both "ivanov". So a name in another script, and a
    name too long for an id, end with a short hash of what the slug cannot show (its own
    letters, case folded): two people never share a page because their names look alike in
    ASCII. (One person spelled in two scripts is joined by an author file.)"""
    if name.corporate:
        parts = [name.family]
    else:
        parts = [name.family, *_given_tokens(name.given)]
        if name.suffix:
            parts.append(name.suffix)
    text = " ".join(parts)
    slug = slugify(text) or "author"
    if len(slug) <= MAX_ID and _LATIN.match(text):
        return slug
    digest = hashlib.blake2b(unicodedata.normalize("NFKC", text).casefold().encode(),
                             digest_size=3).hexdigest()
    head = slugify(text, max_length=MAX_ID - 7, word_boundary=True) or "author"
    return f"{head}-{digest}"


def preferred(names: list[PersonName]) -> PersonName:
    """Of several spellings of one author, the most informative: fullest given name, then
    the one with diacritics, then alphabetical for stability."""

    def score(n: PersonName) -> tuple[int, int, int, str]:
        non_ascii = sum(ord(c) > 127 for c in n.family + n.given)
        periods = n.given.count(".")
        return (-len(n.given.replace(".", "").replace(" ", "")), -non_ascii, -periods, n.inverted)

    return sorted(names, key=score)[0]


def parse_name_text(text: str) -> PersonName:
    """A ``Family, Given`` string (as in author files) as a :class:`PersonName`."""
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        return PersonName(family, given)
    return PersonName(text.strip(), "", corporate=False)


@lru_cache(maxsize=262144)
def sort_key(name: PersonName) -> tuple[str, str]:
    return (slugify(name.family), slugify(name.given))
