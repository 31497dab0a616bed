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


def find_citations(text: str) -> list[tuple[str, int]]:
    """Every cited key in ``text`` with the character offset of its ``[``."""
    return [
        (key, match.start())
        for match in CITATION_RE.finditer(text)
        for key in split_citation(match.group(1))
    ]
