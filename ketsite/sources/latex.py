"""LaTeX → Unicode for display, done only where a field holds LaTeX, and memoised.

pylatexenc is accurate but slow and super-linear on long inputs, so plain text skips it entirely and
identical strings (journal names, common words) are decoded once. Callers cap field length first.
This is the only module that imports ``pylatexenc``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

_NEEDS_DECODING = re.compile(r"[\\$~%]|--")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False)


@lru_cache(maxsize=65536)
def _decode(text: str) -> str:
    try:
        decoded = _converter().latex_to_text(text)
    except Exception:  # pylatexenc's own failure must not stop a build: show the source text
        decoded = text.replace("{", "").replace("}", "")
    return decoded


def latex_to_unicode(text: str) -> str:
    """Display text for a BibTeX value: LaTeX decoded, protecting braces removed, spaces folded."""
    if _NEEDS_DECODING.search(text):
        text = _decode(text)
    else:
        text = text.replace("{", "").replace("}", "")
    return _SPACE.sub(" ", text).strip()
