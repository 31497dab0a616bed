"""Indented JSON, as ``json.dumps(value, ensure_ascii=False, indent=n)`` writes it, faster.

The standard library encodes in C only without ``indent``; with it, every value goes through its
pure-Python encoder. The site writes indented JSON for every page's JSON-LD, every paper's
CSL-JSON and its nodes of ``data/graph.json`` — hundreds of thousands of small documents at ten
thousand papers. Here the structure is walked in Python but every string is escaped by the
standard library's C function, and anything unusual (a key that is not a string, a float, a type
JSON does not know) is left to ``json.dumps`` itself, so the text is always exactly its own.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C function when the _json extension is there
from typing import Any


class _Unusual(Exception):
    """A value this module leaves to ``json.dumps``."""


def dumps_indented(value: Any, indent: int) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=indent)``."""
    try:
        return _encode(value, indent, 0)
    except _Unusual:
        return json.dumps(value, ensure_ascii=False, indent=indent)


def _encode(value: Any, indent: int, level: int) -> str:
    if isinstance(value, str):
        return encode_basestring(value)  # type: ignore[no-any-return]
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = "\n" + " " * (indent * (level + 1))
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unusual
            items.append(f"{inner}{encode_basestring(key)}: {_encode(item, indent, level + 1)}")
        return "{" + ",".join(items) + "\n" + " " * (indent * level) + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = "\n" + " " * (indent * (level + 1))
        return ("[" + ",".join(inner + _encode(item, indent, level + 1) for item in value)
                + "\n" + " " * (indent * level) + "]")
    raise _Unusual  # floats (NaN, infinities), other types: json.dumps decides
