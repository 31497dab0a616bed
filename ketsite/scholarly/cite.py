"""Formatted references (APA 7, Vancouver/NLM) from the official CSL styles, via citeproc-py.

This module and :mod:`ketsite.scholarly.citeproc_speed` (patches that make citeproc-py several
times faster without changing a character of its output) are the only ones importing ``citeproc``.
Two things citeproc-py does not do are done here:

* **Escaping.** citeproc-py's HTML formatter escapes the style's own terms but not the item's data,
  so a title like ``<script>`` would reach the page as markup. We render with a formatter that marks
  italics and the like with private-use characters instead of tags, escape the whole string once,
  then turn the marks into tags. Private-use characters are removed from the data first, so data
  can never produce a tag.
* **One entry, not a list.** A cite panel shows a single reference, so a numbered style's leading
  citation number ("1.") is dropped.

citeproc-py also joins the parts of a localized date with the calling element's delimiter (none)
instead of the locale format's own, turning NLM's "2021 Nov 8" into "2021Nov8";
:func:`_fix_localized_date_delimiter` applies the CSL rule (the localized format's delimiter). It is
the one change to citeproc-py's output, and it is kept apart from the speed patches so that
tests/test_cite_speed.py can compare patched citeproc-py with plain citeproc-py plus this fix.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import re
import types
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    model,
)
from citeproc.source import VariableError
from citeproc.source.json import CiteProcJSON
from markupsafe import Markup

from ketsite.model.entities import Paper, is_east_asian
from ketsite.scholarly import citeproc_speed
from ketsite.scholarly.csl import csl_item

CSL_DIR = Path(__file__).resolve().parent.parent / "csl"


@dataclass(frozen=True)
class Style:
    id: str
    label: str
    file: str
    numbered: bool  # the bibliography starts each entry with its citation number


STYLES: dict[str, Style] = {
    "apa": Style("apa", "APA 7th edition", "apa.csl", numbered=False),
    "vancouver": Style("vancouver", "Vancouver (NLM)", "nlm-citation-sequence.csl", numbered=True),
}


@dataclass(frozen=True)
class FormattedReference:
    style: Style
    html: Markup  # escaped, with <i>/<b>/<sup>… from the style only
    text: str  # the same reference as plain text (not escaped)


# --- an escaping formatter ------------------------------------------------------------------------

_MARKS = {
    "Italic": ("\ue000", "\ue001", "i"),
    "Oblique": ("\ue000", "\ue001", "i"),
    "Bold": ("\ue002", "\ue003", "b"),
    "Light": ("", "", ""),
    "Underline": ("\ue004", "\ue005", "u"),
    "Superscript": ("\ue006", "\ue007", "sup"),
    "Subscript": ("\ue008", "\ue009", "sub"),
    "SmallCaps": ("\ue00a", "\ue00b", "span"),
}
_PRIVATE = re.compile("[\ue000-\ue00f]")


def _wrapper(name: str, start: str, end: str) -> type:
    def new(cls: type, text: object) -> str:
        return str.__new__(cls, f"{start}{text}{end}")

    return type(name, (str,), {"__new__": new})


_FORMATTER = types.SimpleNamespace(
    preformat=lambda text: text,
    **{name: _wrapper(name, start, end) for name, (start, end, _) in _MARKS.items()},
)


def _to_html(marked: str) -> str:
    out = html.escape(marked, quote=False)
    for start, end, tag in _MARKS.values():
        if not start:
            continue
        opening = '<span class="small-caps">' if tag == "span" else f"<{tag}>"
        out = out.replace(start, opening).replace(end, f"</{tag}>")
    return out


def _clean(value: object) -> object:
    """Remove private-use characters from every string of a CSL item."""
    if isinstance(value, str):
        return _PRIVATE.sub("", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


# --- citeproc-py ----------------------------------------------------------------------------------

def _fix_localized_date_delimiter() -> None:
    original = model.Date.render_single_date
    if getattr(original, "_ketsite_fixed", False):
        return

    def render_single_date(self, date, show_parts=None, context=None):  # type: ignore[no-untyped-def]
        if (context is not None and context is not self and self.is_locale_date()
                and context.get("delimiter") is None):
            parts = self.parts(date, show_parts, context)
            return self.join(parts) if parts else None
        return original(self, date, show_parts, context)

    render_single_date._ketsite_fixed = True  # type: ignore[attr-defined]
    model.Date.render_single_date = render_single_date


_fix_localized_date_delimiter()


_PREFIXED = re.compile(r"(\D*)(\d+)$")


def _fix_minimal_page_range() -> None:
    """citeproc-py shortens a range by the digits its pages share from the left: for NLM's
    "minimal" format, 1–10 became "1–0" and 98–102 "98–02". CSL shortens only pages of one
    length (a longer last page is given whole, without a prefix both pages share); this gives it
    whole then."""
    original = model.FormatNumber._format_last_page
    if getattr(original, "_ketsite_fixed", False):
        return

    def _format_last_page(self, first, last):  # type: ignore[no-untyped-def]
        if len(first) != len(last):
            # "S1–S10" is "S1–10", as citeproc-js and NLM give it: a shared prefix is not repeated
            a, b = _PREFIXED.match(first), _PREFIXED.match(last)
            if a and b and a.group(1) and a.group(1) == b.group(1):
                return b.group(2)
            return last
        return original(self, first, last)

    _format_last_page._ketsite_fixed = True  # type: ignore[attr-defined]
    model.FormatNumber._format_last_page = _format_last_page


_fix_minimal_page_range()


def _fix_substituted_names() -> None:
    """CSL: a variable that ``cs:substitute`` rendered in place of the author is suppressed in the
    rest of the reference. citeproc-py records it but checks only ``cs:text``, so an edited book
    printed its editors twice ("Kreß HG, editor. Edited book. Kreß HG, editor."); ``cs:names``
    now leaves out the variables recorded, as citeproc-js does."""
    original = model.Names.process
    if getattr(original, "_ketsite_fixed", False):
        return

    def process(self, item, names_context=None, context=None, **kwargs):  # type: ignore[no-untyped-def]
        layout = context.get_layout() if context is not None else None
        repressed = getattr(layout, "repressed", None) if layout is not None else None
        done = repressed.get(self.tag) if repressed else None
        if done:
            written = self.get("variable", "")
            gone = {v for entry in done if entry for v in entry.split()}
            kept = [v for v in written.split() if v not in gone]
            if len(kept) != len(written.split()):
                if not kept:
                    raise VariableError
                self.set("variable", " ".join(kept))
                try:
                    return original(self, item, names_context, context, **kwargs)
                finally:
                    self.set("variable", written)
        return original(self, item, names_context, context, **kwargs)

    process._ketsite_fixed = True  # type: ignore[attr-defined]
    model.Names.process = process


_fix_substituted_names()


def speedups_enabled() -> bool:
    """The speed patches (:mod:`ketsite.scholarly.citeproc_speed`) are on unless the environment
    says ``KETSITE_CITEPROC_SPEEDUPS=0``: tests compare against plain citeproc-py that way."""
    return os.environ.get("KETSITE_CITEPROC_SPEEDUPS", "1") != "0"


if speedups_enabled():
    citeproc_speed.apply()


@functools.cache
def _style(file: str) -> CitationStylesStyle:
    """Parsing a style takes milliseconds; it is read-only afterwards, so parse it once."""
    return CitationStylesStyle(str(CSL_DIR / file), locale="en-US", validate=False)


def format_item(item: dict[str, object], style: Style) -> FormattedReference:
    """Format one CSL-JSON item as a single bibliography entry."""
    return _format_clean(_as_written(_clean(item)), (style,))[0]  # type: ignore[arg-type]


_ROMANESQUE = re.compile(r"^[\W\d_\u0000-\u024f\u0370-\u03ff\u0400-\u04ff\u1e00-\u1eff]*$")
_NAME_ROLES = ("author", "editor")


def _as_written(item: object) -> object:
    """``item`` with each name not in Latin, Greek or Cyrillic script given whole (``literal``).

    citeproc-py initialises and inverts every name as if it were romanesque: "王, 芳" came out
    "王, . 芳 ." and Arabic names likewise. citeproc-js prints such names as written, family name
    first; a literal name is printed as given. The exports keep family and given apart."""
    if not isinstance(item, dict):
        return item
    changed = {}
    for role in _NAME_ROLES:
        names = item.get(role)
        if not isinstance(names, list):
            continue
        whole = []
        for name in names:
            family, given = str(name.get("family", "")), str(name.get("given", ""))
            if "literal" in name or _ROMANESQUE.match(family + given):
                whole.append(name)
            elif is_east_asian(family + given):
                whole.append({"literal": family + given})  # family first, no space
            else:
                whole.append({"literal": " ".join(p for p in (family, given) if p)})
        if whole != names:
            changed[role] = whole
    return {**item, **changed} if changed else item


def _format_clean(
    item: dict[str, object], styles: tuple[Style, ...]
) -> tuple[FormattedReference, ...]:
    """A cleaned item (:func:`_clean`) in each of the styles. The item is read into citeproc-py
    once for all of them: formatting only reads the source (its references are not changed),
    so each style's bibliography can be given the same one."""
    source = CiteProcJSON([item])
    key = str(item["id"])
    out = []
    for style in styles:
        own = _sentence_case_after_colon(item) if style.id == "apa" else item
        bibliography = CitationStylesBibliography(
            _style(style.file), source if own is item else CiteProcJSON([own]), _FORMATTER)
        bibliography.register(Citation([CitationItem(key)]))
        marked = str(bibliography.bibliography()[0]).strip()
        if "?" in marked or "!" in marked:  # "chronic pain?." → "chronic pain?", as CSL means
            marked = _DOUBLED_STOP.sub(r"\1\2", marked)
        if style.id == "apa":
            marked = _apa_fixes(marked)
        if style.numbered:
            marked = re.sub(r"^\s*1\.\s*", "", marked)
        safe = Markup(_to_html(marked))  # noqa: S704 — escaped by _to_html
        out.append(FormattedReference(style, safe, _PRIVATE.sub("", marked)))
    return tuple(out)


_AFTER_COLON = re.compile(r"(:\s+)([a-z]+)\b")
#: A period right after a field's own "?" or "!" (private-use formatting marks between them).
_DOUBLED_STOP = re.compile(r"([?!])([\ue000-\ue00f]*)\.")
_EDITOR_LABEL = re.compile(r"\((?:eds?|trans)\.\)")


def _apa_fixes(marked: str) -> str:
    """Two places where citeproc-py prints apa.csl otherwise than the style says (and than
    citeproc-js prints it): editor labels lose the style's ``text-case="title"`` ("(eds.)" for
    "(Eds.)"), and a thesis without a publication number keeps the group "(Publication)", which
    the style's rule suppresses when its only variable (``number``) is empty."""
    if "(ed" in marked or "(trans" in marked:
        marked = _EDITOR_LABEL.sub(lambda m: m.group(0).title(), marked)
    if "(Publication) [" in marked:
        marked = marked.replace(" (Publication) [", " [")
    return marked


def _sentence_case_after_colon(item: dict[str, object]) -> dict[str, object]:
    """``item`` with the first word after a colon of its title capitalised, as APA 7's sentence
    case asks ("Ketamine: Its mechanism"), where PubMed gives it in lower case; only a word of
    lower-case letters alone (never "mRNA", "pH" or "p53"). NLM keeps the lower case."""
    title = item.get("title")
    if not isinstance(title, str) or ":" not in title:
        return item
    new = _AFTER_COLON.sub(lambda m: m.group(1) + m.group(2).capitalize(), title)
    return item if new == title else {**item, "title": new}


def prime(papers: Iterable[Paper]) -> None:
    """Parse the styles and format ``papers`` in them, and forget the result. A long-running
    ``ketsite serve`` whose first build found every reference in the memo has parsed no style
    and planned no item's shape (``citeproc_speed``): the first edit of a paper would pay for
    both (0.08 s at N=10,000). Give one paper of each entry type in use."""
    for paper in papers:
        format_all(paper)


def format_reference(paper: Paper, style_id: str) -> FormattedReference:
    return format_item(csl_item(paper), STYLES[style_id])


def format_all(paper: Paper) -> tuple[FormattedReference, ...]:
    """The paper in every style of the cite panel, in panel order."""
    return format_all_item(csl_item(paper))


#: A formatted reference as plain strings: style id, HTML, text.
Plain = tuple[str, str, str]


def format_all_plain(paper: Paper) -> tuple[Plain, ...]:
    """:func:`format_all` as plain strings, as the memo keeps it between builds: a new process
    loads strings several times faster than Markup and dataclass objects."""
    return tuple((r.style.id, str(r.html), r.text) for r in format_all(paper))


def from_plain(plain: tuple[Plain, ...]) -> tuple[FormattedReference, ...]:
    """The references :func:`format_all_plain` gave, as :func:`format_all` gives them."""
    return tuple(FormattedReference(STYLES[s], Markup(html), text)  # noqa: S704 — escaped before
                 for s, html, text in plain)


def format_all_item(item: dict[str, object]) -> tuple[FormattedReference, ...]:
    """A CSL-JSON item in every style of the cite panel, in panel order: the same as
    :func:`format_item` for each style, with the item cleaned and read once."""
    return _format_clean(_as_written(_clean(item)), tuple(STYLES.values()))  # type: ignore[arg-type]


@functools.cache
def _code_version() -> str:
    """What format_all's output depends on besides the item: the styles, citeproc-py, this file
    and the speed patches (meant to change nothing, but a cache must not rely on that)."""
    import importlib.metadata

    h = hashlib.blake2b(digest_size=16)
    h.update(importlib.metadata.version("citeproc-py").encode())
    h.update(Path(__file__).read_bytes())
    h.update(Path(citeproc_speed.__file__).read_bytes())
    for style in STYLES.values():
        h.update(style.id.encode() + (CSL_DIR / style.file).read_bytes())
    return h.hexdigest()


def format_all_key(paper: Paper) -> str:
    """A key covering every input of :func:`format_all`, for keeping its result between builds."""
    return _code_version() + json.dumps(csl_item(paper), sort_keys=True, ensure_ascii=False)
