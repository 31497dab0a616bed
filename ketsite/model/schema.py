"""Declarative schemas for the YAML sources, and the walk that checks a located tree against them.

A schema is a tuple of :class:`Field`; :func:`read_fields` returns plain Python values and reports
unknown keys (with a "did you mean"), missing required keys, wrong types and YAML's implicit-typing
traps (``no`` read as false, ``0123`` as a number) at the exact line and column.
"""

from __future__ import annotations

import datetime
import difflib
import re
from dataclasses import dataclass, replace
from typing import Any

from ketsite.diagnostics import Diagnostics, SourceLocation
from ketsite.sources.yamlio import YList, YMap, YNode, YScalar

ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,99}$")
MAX_TEXT = 50_000
#: Control characters (but tab and newlines) and lone surrogates: nothing a page can show.
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Field:
    """One key of a YAML mapping.

    ``kind`` is one of ``text`` (one line or more of plain text), ``markdown``, ``int``, ``key``
    (a citation key), ``id`` (a condition id), ``enum``, ``url``, ``orcid``, ``licence``,
    ``name``; prefix ``list:`` for a list of those; ``abstract`` for a list of heading/text pairs.
    """

    name: str
    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Located:
    """A value with the place it was written."""

    value: Any
    loc: SourceLocation
    #: The scalar it was read from, to locate something found inside the value.
    node: YScalar | None = None


def _type_word(node: YNode) -> str:
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YList):
        return "a list"
    return {"null": "empty", "bool": "true/false", "int": "a number", "float": "a number"}.get(
        node.kind, "text"
    )


def _date_word(text: str) -> str:
    """YAML takes ``2021-02-30`` for a date too, and would fail on it: say so."""
    match = re.match(r"(\d{4})-(\d\d?)-(\d\d?)", text)
    try:
        if match:
            datetime.date(*(int(g) for g in match.groups()))
    except ValueError:
        return "a date (and there is no such day)"
    return "a date"


def _scalar_text(node: YNode, what: str, diags: Diagnostics, quote_hint: bool = True) -> str | None:
    if not isinstance(node, YScalar):
        diags.error(node.loc, f"{what} must be text, not {_type_word(node)}")
        return None
    if node.kind == "null":
        diags.error(node.loc, f"{what} is empty; write a value or remove the key")
        return None
    if not node.quoted and node.kind in ("bool", "int", "float", "timestamp") and quote_hint:
        seen_as = _type_word(node) if node.kind != "timestamp" else _date_word(node.text)
        diags.error(
            node.loc,
            f"{what}: YAML reads {node.text!r} as {seen_as}, not text; "
            f"write it in quotes: \"{node.text}\"",
        )
        return None
    bad = _UNWRITABLE.search(node.text)
    if bad is not None:  # only reachable through an escape such as "\u0000" or "\ud800"
        diags.error(node.loc, f"{what} contains the character U+{ord(bad.group()):04X}, which "
                    "cannot appear on a page; remove its escape")
        return None
    if len(node.text) > MAX_TEXT:
        diags.error(node.loc, f"{what} is {len(node.text)} characters; the limit is {MAX_TEXT}")
        return None
    return node.text


def _one(field: Field, kind: str, node: YNode, what: str, diags: Diagnostics) -> Any:
    if kind == "int":
        if isinstance(node, YScalar) and node.kind == "int" and re.fullmatch(r"\d{1,9}", node.text):
            return int(node.text)
        diags.error(node.loc, f"{what} must be a whole number from 0 to 999999999, like 42")
        return None
    if kind == "enum" and isinstance(node, YScalar) and not node.quoted \
            and node.kind in ("bool", "int", "float", "timestamp") \
            and node.text.strip() not in field.choices:
        # "direction: no": quoting it would only lead to "'no' is not one of …"; say that now
        node = replace(node, kind="str", quoted=True)
    text = _scalar_text(node, what, diags)
    if text is None:
        return None
    text = text.strip() if kind not in ("markdown", "text") else text.strip("\n")
    if kind == "enum":
        if text not in field.choices:
            close = difflib.get_close_matches(text, field.choices, n=1) or [
                c for c in field.choices if text and c.startswith(text.lower())][:1]
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            diags.error(
                node.loc,
                f"{what}: '{text}' is not one of {', '.join(field.choices)}{hint}",
            )
            return None
    elif kind == "key" and not KEY_RE.match(text):
        diags.error(node.loc, f"{what}: '{text}' is not a valid citation key")
        return None
    elif kind == "id" and not ID_RE.match(text):
        diags.error(
            node.loc, f"{what}: '{text}' is not a valid id (lower-case letters, digits and '-')"
        )
        return None
    elif kind == "url" and not re.match(r"^https?://[^\s<>\"]+$", text):
        diags.error(node.loc, f"{what}: '{text}' must be an http:// or https:// URL")
        return None
    elif kind in ("text", "name", "licence", "markdown") and not text.strip():
        diags.error(node.loc, f"{what} is empty; write a value"
                    + ("" if field.required else " or remove the key"))
        return None
    return text


def read_value(field: Field, node: YNode, owner: str, diags: Diagnostics) -> Located | None:
    what = f"'{field.name}'"
    if field.kind == "abstract":
        return _read_abstract(node, what, diags)
    if field.kind.startswith("list:"):
        kind = field.kind[5:]
        if isinstance(node, YScalar) and node.kind != "null":
            nodes: tuple[YNode, ...] = (node,)
            diags.error(node.loc, f"{what} must be a list; write it as [{node.text}]")
            return None
        if not isinstance(node, YList):
            diags.error(node.loc, f"{what} must be a list, not {_type_word(node)}")
            return None
        nodes = node.items
        values = []
        seen: dict[Any, SourceLocation] = {}
        for item in nodes:
            value = _one(field, kind, item, f"item of {what}", diags)
            if value is None:
                continue
            if value in seen:
                diags.error(
                    item.loc, f"{what} lists '{value}' twice (also at line {seen[value].line})"
                )
                continue
            seen[value] = item.loc
            values.append(Located(value, item.loc))
        return Located(tuple(values), node.loc)
    value = _one(field, field.kind, node, what, diags)
    if value is None:
        return None
    loc = node.loc
    if isinstance(node, YScalar) and node.block:
        loc = SourceLocation(loc.path, loc.line + 1, 1)
    return Located(value, loc, node if isinstance(node, YScalar) else None)


def _read_abstract(node: YNode, what: str, diags: Diagnostics) -> Located | None:
    if not isinstance(node, YList):
        diags.error(node.loc, f"{what} must be a list of {{heading, text}} items")
        return None
    fields = (Field("heading", "text", required=True), Field("text", "markdown", required=True))
    sections = []
    for item in node.items:
        values = read_fields(item, fields, f"{what} item", diags)
        if values is not None and "heading" in values and "text" in values:
            sections.append((values["heading"], values["text"]))
    return Located(tuple(sections), node.loc)


def read_fields(
    node: YNode, fields: tuple[Field, ...], owner: str, diags: Diagnostics
) -> dict[str, Located] | None:
    """Check a mapping against ``fields``; return the valid values by name."""
    if not isinstance(node, YMap):
        diags.error(node.loc,
                    f"{owner} must be a mapping of keys to values, not {_type_word(node)}")
        return None
    known = {f.name: f for f in fields}
    out: dict[str, Located] = {}
    suggested: set[str] = set()
    for key, value in node.entries:
        spec = known.get(key.text)
        if spec is None:
            close = difflib.get_close_matches(key.text, list(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            suggested.update(close)
            diags.error(
                key.loc,
                f"unknown key '{key.text}'{hint}; known keys: {', '.join(sorted(known))}",
            )
            continue
        if isinstance(value, YScalar) and value.kind == "null" and not spec.required:
            continue  # `key:` with nothing after it means "not given"
        located = read_value(spec, value, owner, diags)
        if located is not None:
            out[spec.name] = located
    for spec in fields:
        if (spec.required and spec.name not in out and node.get(spec.name) is None
                and spec.name not in suggested):  # the typo's message already says it
            diags.error(node.loc, f"missing required key '{spec.name}' in {owner}")
    return out
