"""The inline citation syntax of Markdown fields: ``[@key]`` and ``[@key1; @key2]``.

Shared by the model (which checks every key exists, with its line) and the renderer (which turns
them into numbered links), so both read the same syntax.
"""

from __future__ import annotations

import re

_KEY = r"@[A-Za-z0-9][A-Za-z0-9_.:+-]*"
CITATION_RE = re.compile(rf"\[({_KEY}(?:\s*;\s*{_KEY})*)\]")


def split_citation(inner: str) -> list[str]:
    """``@a; @b`` → ``["a", "b"]``."""
    return [part.strip()[1:] for part in inner.split(";") if part.strip()]


#: Code, where Markdown shows ``[@key]`` as written: fenced blocks, then inline code spans.
_FENCED = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}\1[ \t]*$|\Z)",
                     re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
#: Brackets around an ``@key`` that are not the citation syntax (``[see @a, p. 4]``).
_CITATION_LIKE = re.compile(rf"\[[^\[\]\n]*(?<![\w.]){_KEY}[^\[\]\n]*\]")


def _without_code(text: str) -> str:
    """``text`` with its code blanked out (same length: offsets still hold)."""
    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return _INLINE_CODE.sub(blank, _FENCED.sub(blank, text))


def find_citations(text: str) -> list[tuple[str, int]]:
    """Every cited key in ``text`` with the character offset of its ``[``; not in code, nor after
    a backslash (``\\[@key]``): where the page shows the brackets as written."""
    plain = _without_code(text)
    return [
        (key, match.start())
        for match in CITATION_RE.finditer(plain)
        if not (match.start() and plain[match.start() - 1] == "\\")
        for key in split_citation(match.group(1))
    ]


def find_unreadable_citations(text: str) -> list[tuple[str, int]]:
    """Brackets with an ``@key`` inside that are not ``[@key]`` or ``[@a; @b]`` (a prefix, a page
    number, commas): the page would show them as written, with no link."""
    plain = _without_code(text)
    return [(match.group(0), match.start()) for match in _CITATION_LIKE.finditer(plain)
            if not CITATION_RE.fullmatch(match.group(0))
            and not (match.start() and plain[match.start() - 1] == "\\")]
