"""LaTeX → Unicode for display, done only where a field holds LaTeX, and memoised.

pylatexenc is accurate but slow (about 10 µs per character plus ~0.3 ms per call) and super-linear
on long inputs; at ten thousand papers with accented author names it would be most of a build. So:
plain text skips it entirely; the forms BibTeX files are made of — accents (``{\\'e}``, ``\\"u``,
``\\c{c}``), letters (``\\o``, ``\\ss``, ``{\\L}``), escapes (``\\&``), dashes and ``~`` — are
decoded by a small tokenizer whose output is tested to equal pylatexenc's for every accent and
letter; anything else (math, other macros, comments, quotes) goes to pylatexenc. Identical
strings are decoded once. Callers cap field length first. The only module importing pylatexenc.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NEEDS_DECODING = re.compile(r"[\\$~%]|--")
_SPACE = re.compile(r"\s+")

#: Accent macros and the combining character each puts on the next letter.
ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}
#: Macros that are a letter by themselves.
LETTERS = {
    "l": "ł", "L": "Ł", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ss": "ß", "i": "ı", "j": "ȷ",
    "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
}
#: ``\&`` and friends: the character itself.
ESCAPES = frozenset("&%_#${}")
#: Text-mode symbol commands that pylatexenc does not know (it would drop them, and the character
#: with them): Zotero writes ``<``, ``>`` and ``|`` as ``{\textless}``, ``{\textgreater}``,
#: ``{\textbar}``. Each is the character, written for pylatexenc as it reads it.
SYMBOLS = {
    "textless": ("<", "<"), "textgreater": (">", ">"), "textbar": ("|", "|"),
    "textpercent": ("%", "\\%"), "textunderscore": ("_", "\\_"),
    "textbraceleft": ("{", "\\{"), "textbraceright": ("}", "\\}"),
    "textdollar": ("$", "\\$"), "textquotedbl": ('"', '"'), "textasciicircum": ("^", "^"),
}
_SYMBOL = re.compile(r"\\(" + "|".join(SYMBOLS) + r")(?![A-Za-z])(?:\{\}|[ \t\n]*)")
#: Commands that only change the font, which the plain text of a page does not keep: known, not
#: reported as unknown (``{\it Title}``, ``{\sc CRPS}``).
FONT_SWITCHES = frozenset({
    "it", "bf", "em", "sc", "sl", "rm", "sf", "tt", "up", "md", "normalfont", "itshape",
    "bfseries", "scshape", "slshape", "upshape", "mdseries", "rmfamily", "sffamily", "ttfamily",
    "relax", "protect", "xspace", "nocase", "NoCaseChange", "nolinkurl", "small", "footnotesize",
    "large", "textsuperscript", "textsubscript",
})
_COMMAND = re.compile(r"\\([A-Za-z]+)")

_MACRO = re.compile(r"\\([^\W\d_]+|.)", re.DOTALL)  # pylatexenc: any letters
_WS = re.compile(r"\s*")
#: Characters and pairs pylatexenc treats specially that the fast path does not handle.
_UNHANDLED = re.compile(r"(?<!\\)[$%&]|``|''|!`|\?`|\\\\")
#: ``%`` and ``&`` not escaped: to TeX a comment (the rest of the field vanishes) and a table
#: column (the character vanishes); a contributor writing "50% reduction" means the character.
_BARE = re.compile(r"(?<!\\)[%&]")


class _Unhandled(Exception):
    pass


def _accent_argument(text: str, pos: int) -> tuple[str, int]:
    """The letter an accent applies to, starting at ``pos`` (after optional spaces)."""
    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
    if pos >= len(text):
        raise _Unhandled
    ch = text[pos]
    if ch == "{":
        close = text.find("}", pos)
        if close < 0:
            raise _Unhandled
        inner = text[pos + 1:close]
        if inner in ("\\i", "\\j"):
            return inner[1], close + 1
        if len(inner) != 1 or not inner.isalpha():
            raise _Unhandled
        return inner, close + 1
    if ch == "\\":
        match = _MACRO.match(text, pos)
        if match and match.group(1) in ("i", "j"):
            end = match.end()
            if text.startswith("{}", end):
                end += 2
            elif end < len(text) and text[end].isspace():
                raise _Unhandled
            return match.group(1), end
        raise _Unhandled
    if not ch.isalpha():
        raise _Unhandled
    return ch, pos + 1


def _fast(text: str) -> str:
    """Decode the common BibTeX forms; :class:`_Unhandled` for anything else."""
    if _UNHANDLED.search(text):
        raise _Unhandled
    out: list[str] = []
    pos = 0
    depth = 0
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch == "{":
            depth += 1
            pos += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise _Unhandled
            pos += 1
        elif ch == "~":
            out.append("\xa0")
            pos += 1
        elif ch == "-" and text.startswith("--", pos):
            if text.startswith("---", pos):
                out.append("\u2014")
                pos += 3
            else:
                out.append("\u2013")
                pos += 2
        elif ch == "\\":
            match = _MACRO.match(text, pos)
            if match is None:
                raise _Unhandled
            name = match.group(1)
            end = match.end()
            if name in ACCENTS:
                letter, end = _accent_argument(text, end)
                out.append(unicodedata.normalize("NFC", letter + ACCENTS[name]))
            elif name in LETTERS or name in SYMBOLS:
                if text.startswith("{}", end):
                    end += 2
                elif end < n and text[end].isspace():
                    end = _WS.match(text, end).end()  # type: ignore[union-attr]
                out.append(LETTERS[name] if name in LETTERS else SYMBOLS[name][0])
            elif name in ESCAPES:
                out.append(name)
            else:
                raise _Unhandled
            pos = end
        else:
            out.append(ch)
            pos += 1
    if depth != 0:
        raise _Unhandled
    return "".join(out)


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    from pylatexenc.latex2text import LatexNodes2Text  # imported only when needed: ~50 ms

    return LatexNodes2Text(math_mode="text", strict_latex_spaces=False)


def prime() -> None:
    """Import and set up pylatexenc now. A build whose sources all come from the parse cache never
    needs it, so a long-running ``ketsite serve`` would pay for it (a few hundred milliseconds)
    during the first edit that brings LaTeX the fast path leaves to it."""
    _converter()


_SCRIPTS = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎"), str.maketrans(
    "0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
#: A sub- or superscript of digits and signs in math: one character, or a braced group.
_SCRIPT = re.compile(r"([_^])(?:\{([0-9+\-=()n]{1,6})\}|([0-9+\-=n]))")
_MATH = re.compile(r"(?<!\\)\$([^$]*)(?<!\\)\$")


def _scripts(text: str) -> str:
    """``$\\alpha_2$`` → ``$\\alpha₂$``, ``$x^{2+}$`` → ``$x²⁺$`` inside math, where pylatexenc
    would leave ``_2`` as written."""
    def one(m: re.Match[str]) -> str:
        table, chars = _SCRIPTS[m.group(1) == "^"], m.group(2) or m.group(3)
        if any(ord(c) not in table for c in chars):  # no subscript n: leave it as written
            return m.group(0)
        return chars.translate(table)

    return _MATH.sub(lambda m: "$" + _SCRIPT.sub(one, m.group(1)) + "$", text)


def decode_with_pylatexenc(text: str) -> str:
    if "\\text" in text:
        text = _SYMBOL.sub(lambda m: SYMBOLS[m.group(1)][1], text)
    if "$" in text and ("_" in text or "^" in text):
        text = _scripts(text)
    try:
        return str(_converter().latex_to_text(text))
    except Exception:  # pylatexenc's own failure must not stop a build: show the source text
        return text.replace("{", "").replace("}", "")


@lru_cache(maxsize=4096)
def _known_to_pylatexenc(name: str) -> bool:
    from pylatexenc.latex2text import get_default_latex_context_db

    return get_default_latex_context_db().get_macro_spec(name) is not None


def unknown_commands(text: str) -> list[str]:
    """The LaTeX commands in ``text`` that decoding leaves out without knowing them (their
    arguments are kept): ``\\foo`` of ``\\foo{bar}``. A contributor should hear of them: an
    unknown symbol command is a character lost."""
    if "\\" not in text:
        return []
    found = []
    for name in _COMMAND.findall(text.replace("\\\\", "  ")):
        if (name in ACCENTS or name in LETTERS or name in SYMBOLS or name in FONT_SWITCHES
                or _known_to_pylatexenc(name)):
            continue
        if name not in found:
            found.append(name)
    return found


@lru_cache(maxsize=65536)
def _decode(text: str) -> str:
    try:
        return _fast(text)
    except _Unhandled:
        return decode_with_pylatexenc(text)


def latex_to_unicode(text: str) -> str:
    """Display text for a BibTeX value: LaTeX decoded, protecting braces removed, spaces folded.
    A bare ``%`` or ``&`` is the character itself, as if written ``\\%`` or ``\\&``."""
    if "%" in text or "&" in text:
        text = _BARE.sub(r"\\\g<0>", text)
    if _NEEDS_DECODING.search(text):
        text = _decode(text)
    elif "{" in text or "}" in text:
        text = text.replace("{", "").replace("}", "")
    return " ".join(text.split())  # == _SPACE.sub(" ", text).strip(), without the regex engine
