"""BibTeX reading through bibtexparser 2.x, with every failure reported at its line.

bibtexparser is lenient: a block it cannot parse lands in ``library.failed_blocks``, a missing comma
makes one field swallow the next, an undefined ``@string`` macro stays a bare word, text outside an
entry becomes a comment. Each of these is turned into an error here, so no entry is ever dropped
silently. This is the only module that imports ``bibtexparser``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import bibtexparser
from bibtexparser import model as bm
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

from ketsite.diagnostics import Diagnostics, SourceLocation
from ketsite.sources.discover import SourceFile

#: A field longer than this is refused before any LaTeX decoding (which is super-linear).
MAX_FIELD_CHARS = 20_000

MONTHS = {m: str(i) for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


@dataclass(frozen=True)
class RawField:
    """A field as written (macros resolved, outer braces removed, LaTeX not yet decoded)."""

    name: str
    value: str
    loc: SourceLocation


@dataclass(frozen=True)
class RawEntry:
    entry_type: str
    key: str
    fields: tuple[RawField, ...]
    loc: SourceLocation

    def field(self, name: str) -> RawField | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True)
class RawName:
    """One person's name split into BibTeX parts; ``corporate`` when the whole name is braced."""

    first: str
    von: str
    last: str
    jr: str
    corporate: bool


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _captured_logs() -> Iterator[_Capture]:
    """bibtexparser logs parse errors; keep them off the console and use them in our messages."""
    logger = logging.getLogger("bibtexparser")
    capture = _Capture()
    old_propagate = logger.propagate
    logger.addHandler(capture)
    logger.propagate = False
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.propagate = old_propagate


_ABORTED = re.compile(r"aborted on line (\d+)")
_FIELD_START = re.compile(r"\n\s*([A-Za-z][\w-]*)\s*=")


def _failed_message(block: bm.ParsingFailedBlock, logs: list[str]) -> tuple[int | None, str]:
    if isinstance(block, bm.DuplicateBlockKeyBlock):
        prev = block.previous_block.start_line
        where = f" (first defined at line {prev + 1})" if prev is not None else ""
        return None, f"duplicate citation key '{block.key}'{where}; give each entry its own key"
    if isinstance(block, bm.DuplicateFieldKeyBlock):
        keys = ", ".join(sorted(block.duplicate_keys))
        entry = block.ignore_error_block
        key = getattr(entry, "key", "?")
        return None, f"entry '{key}' has the field '{keys}' more than once; keep one"
    line = None
    start = block.start_line if block.start_line is not None else 0
    for message in logs:
        match = _ABORTED.search(message)
        if match and f"(line {start + 1})" in message:
            line = int(match.group(1))
    error = str(block.error).strip()
    detail = f" ({error})" if error else ""
    return line, (
        f"cannot parse this BibTeX block{detail}; check for unbalanced braces or quotes, "
        "or a missing comma or closing '}'"
    )


def parse_bibtex(source: SourceFile, diags: Diagnostics) -> list[RawEntry]:
    """Parse one .bib file into raw entries; every problem is a diagnostic, nothing is dropped."""
    path = source.rel
    with _captured_logs() as capture:
        try:
            library = bibtexparser.parse_string(source.text)
        except Exception as exc:  # the parser's own bug must not become a traceback
            diags.error(SourceLocation(path), f"BibTeX parser failed: {exc}")
            return []
    strings = {s.key.lower(): s.value for s in library.strings}
    for block in library.failed_blocks:
        line, message = _failed_message(block, capture.messages)
        start = (block.start_line or 0) + 1
        diags.error(SourceLocation(path, line or start, 1), message)
    for block in library.blocks:
        if isinstance(block, bm.ImplicitComment) and re.search(r"[{}=@]", block.comment):
            line = (block.start_line or 0) + 1
            diags.error(
                SourceLocation(path, line, 1),
                "text outside any entry is ignored by BibTeX; did you forget the '@' of an entry?",
            )
        elif isinstance(block, bm.Preamble):
            diags.warning(
                SourceLocation(path, (block.start_line or 0) + 1, 1), "@preamble is ignored"
            )
    entries: list[RawEntry] = []
    for entry in library.entries:
        loc = SourceLocation(path, (entry.start_line or 0) + 1, 1)
        if not entry.key.strip():
            diags.error(loc, "entry has no citation key; write one after '{', e.g. @article{smith2020pain,")
            continue
        fields = []
        for f in entry.fields:
            floc = SourceLocation(path, (f.start_line or entry.start_line or 0) + 1, 1)
            value = _field_value(entry.key, f, strings, floc, diags)
            if value is not None:
                fields.append(RawField(f.key.lower(), value, floc))
        entries.append(RawEntry(entry.entry_type.lower(), entry.key, tuple(fields), loc))
    return entries


def _field_value(
    key: str, f: bm.Field, strings: dict[str, str], loc: SourceLocation, diags: Diagnostics
) -> str | None:
    value = f.value if isinstance(f.value, str) else str(f.value)
    if len(value) > MAX_FIELD_CHARS:
        diags.error(
            loc, f"field '{f.key}' of '{key}' is {len(value)} characters; the limit is {MAX_FIELD_CHARS}"
        )
        return None
    if f.enclosing != "no-enclosing":
        return value
    bare = value.strip()
    swallowed = _FIELD_START.search(value)
    if swallowed:
        diags.error(
            loc,
            f"field '{f.key}' of '{key}' runs into the next field '{swallowed.group(1)}': "
            "a comma is missing after the value",
        )
        return None
    if "#" in bare:
        diags.error(
            loc, f"field '{f.key}' of '{key}' uses '#' concatenation; write the whole value in braces"
        )
        return None
    if bare.isdigit():
        return bare
    if bare.lower() in strings:
        return strings[bare.lower()]
    if f.key.lower() == "month" and bare.lower()[:3] in MONTHS:
        return MONTHS[bare.lower()[:3]]
    diags.error(
        loc,
        f"field '{f.key}' of '{key}' uses the undefined @string macro '{bare}'; "
        f"write it in braces: {f.key} = {{{bare}}}",
    )
    return None


def split_names(value: str) -> list[RawName]:
    """Split an ``author`` field (still LaTeX) into names; ``{Org Name}`` stays one corporate name."""
    names = []
    for raw in split_multiple_persons_names(value):
        raw = raw.strip()
        if _is_braced_whole(raw):
            names.append(RawName("", "", raw[1:-1].strip(), "", True))
            continue
        parts = parse_single_name_into_parts(raw, strict=False)
        names.append(
            RawName(" ".join(parts.first), " ".join(parts.von), " ".join(parts.last),
                    " ".join(parts.jr), False)
        )
    return names


def _is_braced_whole(text: str) -> bool:
    if not (text.startswith("{") and text.endswith("}")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def format_entry(entry_type: str, key: str, fields: list[tuple[str, str]]) -> str:
    """Write one entry as BibTeX (values already in BibTeX/LaTeX form), for exports."""
    width = max((len(name) for name, _ in fields), default=0)
    lines = [f"@{entry_type}{{{key},"]
    for name, value in fields:
        lines.append(f"  {name.ljust(width)} = {{{value}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"
