"""BibTeX reading through bibtexparser 2.x, with every failure reported at its line.

bibtexparser is lenient: a block it cannot parse lands in ``library.failed_blocks``, a missing comma
makes one field swallow the next, an undefined ``@string`` macro stays a bare word, text outside an
entry becomes a comment. Each of these is turned into an error here, so no entry is ever dropped
silently. This is the only module that imports ``bibtexparser``.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import bibtexparser
from bibtexparser import model as bm
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)

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
    #: Fields that were written but rejected (already reported): not "missing" as well.
    invalid: tuple[str, ...] = ()

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


_ABORTED = re.compile(r"block \(line (\d+)\) aborted on line (\d+)[^:]*:\s*(.*)", re.S)
_FIELD_START = re.compile(r"\n\s*([A-Za-z][\w-]*)\s*=")
_FIELD_LINE = re.compile(r"^\s*([A-Za-z][\w-]*)\s*=", re.M)
NO_KEY = "entry has no citation key; write one after '{', e.g. @article{smith2020pain,"
_ENTRY_HEAD = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s={}]*)")


class _Lines:
    """The lines of one source file, to turn parser line numbers into precise columns."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.split("\n")
        # bibtexparser (2.1) does not count a newline right after a backslash (its marks are
        # "not after a backslash"), so every line below one is reported one line too early: the
        # parser's line of each such newline, less the ones before it (see true_line)
        self._escaped: list[int] = []
        line = pos = 0
        for i, m in enumerate(re.finditer(r"\\\n", text)):
            line += text.count("\n", pos, m.start())
            pos = m.start()
            self._escaped.append(line - i)

    def true_line(self, line0: int) -> int:
        """The 0-based line of the file that the parser calls ``line0``."""
        return line0 + bisect.bisect_left(self._escaped, line0) if self._escaped else line0

    def at(self, line0: int, pattern: str | None = None, counted: bool = True) -> SourceLocation:
        """Line ``line0`` (0-based, as the parser counts unless ``counted`` is false), at the
        first match of ``pattern`` in it (else its first non-blank character)."""
        if counted:
            line0 = self.true_line(line0)
        text = self.lines[line0] if 0 <= line0 < len(self.lines) else ""
        match = re.search(pattern, text) if pattern else None
        col = match.start() if match else len(text) - len(text.lstrip())
        return SourceLocation(self.path, line0 + 1, col + 1)

    def field(self, line0: int, name: str, counted: bool = True) -> SourceLocation:
        return self.at(line0, rf"(?i)(?<![\w-]){re.escape(name)}\s*=", counted)

    def entry(self, line0: int) -> SourceLocation:
        return self.at(line0, r"@")


def _parser_reason(block: bm.ParsingFailedBlock, logs: list[str]) -> tuple[int | None, str]:
    """What bibtexparser logged about this block: the 0-based line it gave up on, and why."""
    for message in logs:
        match = _ABORTED.search(message)
        if match and int(match.group(1)) == block.start_line:
            return int(match.group(2)), " ".join(match.group(3).split())
    return None, ""


def _unbalanced_field(raw: str) -> tuple[int, str, str] | None:
    """The first field whose braces or quotes do not balance: (line offset in block, name, what)."""
    starts = [
        (m.start(), m.group(1), raw.count("\n", 0, m.start())) for m in _FIELD_LINE.finditer(raw)
    ]
    for i, (start, name, line) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(raw)
        region = re.sub(r"\\[{}\"]", "", raw[start:end])
        value = region.split("=", 1)[1].lstrip()
        opened, closed = region.count("{"), region.count("}")
        last = i + 1 == len(starts)
        if opened > closed:
            return line, name, f"has {opened - closed} more '{{' than '}}'"
        if opened < closed and not (last and closed - opened == 1):
            return line, name, f"has {closed - opened} more '}}' than '{{'"
        if value.startswith('"') and region.count('"') % 2 == 1:
            return line, name, "opens a '\"' that is never closed"
    return None


def _failed(
    block: bm.ParsingFailedBlock, logs: list[str], lines: _Lines
) -> tuple[SourceLocation, str]:
    """Where and why a block failed, in words a contributor can act on."""
    start = block.start_line or 0
    if isinstance(block, bm.DuplicateBlockKeyBlock):
        prev = block.previous_block.start_line
        where = f" (first defined at line {lines.true_line(prev) + 1})" if prev is not None else ""
        return lines.entry(start), (
            f"duplicate citation key '{block.key}'{where}; give each entry its own key"
        )
    if isinstance(block, bm.DuplicateFieldKeyBlock):
        entry = block.ignore_error_block
        key = getattr(entry, "key", "?")
        name = sorted(block.duplicate_keys)[0]
        seen = [f.start_line for f in getattr(entry, "fields", []) if f.key.lower() == name.lower()]
        first = seen[0] if seen and seen[0] is not None else start
        second = seen[1] if len(seen) > 1 and seen[1] is not None else start
        return lines.field(second, name), (
            f"entry '{key}' has the field '{name}' more than once "
            f"(first at line {lines.true_line(first) + 1}); keep one"
        )
    raw = block.raw or ""
    head = _ENTRY_HEAD.match(raw.lstrip())
    key = head.group(2) if head else ""
    gave_up, reason = _parser_reason(block, logs)
    if "after entry key" in reason and "found =" in reason or (head and not key):
        return lines.entry(start), NO_KEY
    bad = _unbalanced_field(raw)
    if bad is not None:
        offset, name, what = bad
        return lines.field(lines.true_line(start) + offset, name, counted=False), (
            f"field '{name}' of '{key}' {what}; the entry cannot be read "
            "(check the braces and quotes of this field)"
        )
    if gave_up is not None and ("block start" in reason or "found `@" in reason):
        return lines.entry(start), (
            f"entry '{key}' is not closed: add '}}' after its last field, "
            f"before line {lines.true_line(gave_up) + 1}"
        )
    detail = f" ({reason})" if reason else ""
    where = lines.at(gave_up) if gave_up is not None else lines.entry(start)
    return where, f"cannot parse this BibTeX block{detail}; check its braces, quotes and commas"


#: A line that starts an entry, as written by every tool that writes BibTeX.
_BLOCK_START = re.compile(r"^@", re.M)
#: What makes one block depend on another (a macro) or parse into no entry of its own.
_NOT_SELF_CONTAINED = re.compile(r"@\s*(?:string|preamble)\b", re.I)


def entry_blocks(text: str) -> list[tuple[int, str]] | None:
    """``text`` cut before every line that starts with ``@``: (0-based first line, text) of each
    block, so an edited file can be parsed again block by block (see ``cache.reparse_bib``).

    Text before the first such line belongs to the first block. ``None`` when a block may not
    parse alone as it does in the file: a file that defines ``@string`` macros (an entry uses
    another block's) or has a ``@preamble``."""
    if _NOT_SELF_CONTAINED.search(text):
        return None
    starts = [m.start() for m in _BLOCK_START.finditer(text)]
    if not starts:
        return None
    starts[0] = 0
    blocks: list[tuple[int, str]] = []
    line = 0
    for start, end in zip(starts, starts[1:] + [len(text)], strict=True):
        block = text[start:end]
        blocks.append((line, block))
        line += block.count("\n")
    return blocks


def parse_bibtex(source: SourceFile, diags: Diagnostics) -> list[RawEntry]:
    """Parse one .bib file into raw entries; every problem is a diagnostic, nothing is dropped."""
    path = source.rel
    lines = _Lines(path, source.text)
    with _captured_logs() as capture:
        try:
            library = bibtexparser.parse_string(source.text)
        except Exception as exc:  # the parser's own bug must not become a traceback
            diags.error(SourceLocation(path), f"BibTeX parser failed: {exc}")
            return []
    strings = {s.key.lower(): s.value for s in library.strings}
    failed_lines: set[int] = set()
    for block in library.failed_blocks:
        loc, message = _failed(block, capture.messages, lines)
        diags.error(loc, message)
        if isinstance(block, bm.DuplicateBlockKeyBlock) and block.previous_block.start_line \
                is not None:  # at the first one too: which of the two is new, no order says
            diags.error(lines.entry(block.previous_block.start_line),
                        f"citation key '{block.key}' is used again at line {loc.line}; give "
                        "each entry its own key")
        start = block.start_line or 0
        failed_lines.update(range(start, start + (block.raw or "").count("\n") + 1))
    for block in library.blocks:
        if isinstance(block, bm.ImplicitComment) and re.search(r"[{}=@]", block.comment):
            if (block.start_line or 0) in failed_lines:
                continue  # the rest of a block already reported as unreadable
            spaced = re.search(r"@\s+([A-Za-z]+)\s*[{(]", block.comment)
            diags.error(
                lines.at(block.start_line or 0),
                f"no space may follow '@': write '@{spaced.group(1)}{{' (the entry is not read)"
                if spaced else
                "text outside any entry is ignored by BibTeX; did you forget the '@' of an entry?",
            )
        elif isinstance(block, bm.Preamble):
            diags.warning(lines.entry(block.start_line or 0), "@preamble is ignored")
    entries: list[RawEntry] = []
    for entry in library.entries:
        loc = lines.entry(entry.start_line or 0)
        if not entry.key.strip():
            diags.error(loc, NO_KEY)
            continue
        fields = []
        invalid: list[str] = []
        for f in entry.fields:
            line0 = f.start_line if f.start_line is not None else (entry.start_line or 0)
            floc = lines.field(line0, f.key)
            value, swallowed = _field_value(entry.key, f, strings, floc, diags)
            if value is not None:
                fields.append(RawField(f.key.lower(), value, floc))
            else:
                invalid.append(f.key.lower())
            if swallowed:
                invalid.append(swallowed.lower())
        entries.append(RawEntry(entry.entry_type.lower(), entry.key, tuple(fields), loc,
                                tuple(invalid)))
    return entries


_PAIR = re.compile(r"\{[^{}]*\}")


def balanced(value: str) -> bool:
    """Whether the braces of a value pair up, as BibTeX counts them (``\\{`` too). BibTeX requires
    it even inside a "quoted" value, which bibtexparser does not check: re-emitted in braces, an
    unbalanced value would end early, and what follows would be read as fields or entries."""
    if value.count("{") != value.count("}"):
        return False
    while "{" in value:  # remove innermost pairs, in C, until none is left (a few passes)
        inner = _PAIR.sub("", value)
        if inner == value:
            return False  # a '}' before its '{'
        value = inner
    return "}" not in value


def _field_value(
    key: str, f: bm.Field, strings: dict[str, str], loc: SourceLocation, diags: Diagnostics
) -> tuple[str | None, str | None]:
    """The field's value (``None`` if it is unusable), and the name of a field it swallowed."""
    value = f.value if isinstance(f.value, str) else str(f.value)
    if len(value) > MAX_FIELD_CHARS:
        diags.error(
            loc,
            f"field '{f.key}' of '{key}' is {len(value)} characters; "
            f"the limit is {MAX_FIELD_CHARS}",
        )
        return None, None
    if f.enclosing != "no-enclosing":
        if ("{" in value or "}" in value) and not balanced(value):
            diags.error(
                loc,
                f"field '{f.key}' of '{key}' has unbalanced braces: every '{{' inside a value "
                "needs its '}' (write a brace meant as a character as \\textbraceleft or "
                "\\textbraceright)",
            )
            return None, None
        return value, None
    bare = value.strip()
    swallowed = _FIELD_START.search(value)
    if swallowed:
        diags.error(
            loc,
            f"field '{f.key}' of '{key}' runs into the next field '{swallowed.group(1)}': "
            "a comma is missing after the value",
        )
        return None, swallowed.group(1)
    if "#" in bare:
        diags.error(
            loc,
            f"field '{f.key}' of '{key}' uses '#' concatenation; write the whole value in braces",
        )
        return None, None
    if bare.isdigit():
        return bare, None
    if bare.lower() in strings:
        return strings[bare.lower()], None
    if f.key.lower() == "month" and bare.lower()[:3] in MONTHS:
        return MONTHS[bare.lower()[:3]], None
    diags.error(
        loc,
        f"field '{f.key}' of '{key}' uses the undefined @string macro '{bare}'; "
        f"write it in braces: {f.key} = {{{bare}}}",
    )
    return None, None


def raw_names(value: str) -> list[str]:
    """An ``author`` field (still LaTeX) cut at each top-level " and ", each name as written."""
    return [raw.strip() for raw in split_multiple_persons_names(value)]


def split_names(value: str) -> list[RawName]:
    """Split an ``author`` field (still LaTeX) into names; ``{Org Name}`` stays one corporate
    name."""
    return [_split_name(raw.strip()) for raw in split_multiple_persons_names(value)]


@lru_cache(maxsize=262144)
def _split_name(raw: str) -> RawName:
    """One name into its parts; memoised, as a prolific author is split once per paper."""
    if _is_braced_whole(raw):
        return RawName("", "", raw[1:-1].strip(), "", True)
    parts = parse_single_name_into_parts(raw, strict=False)
    return RawName(" ".join(parts.first), " ".join(parts.von), " ".join(parts.last),
                   " ".join(parts.jr), False)


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
