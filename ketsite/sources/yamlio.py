"""YAML reading that keeps every value's location and refuses YAML's surprises.

PyYAML is used through a ``SafeLoader`` subclass only to *compose* the node graph; values are never
constructed by PyYAML. Instead the nodes become a small located tree (:class:`YMap`, :class:`YList`,
:class:`YScalar`) that remembers how YAML would have typed each plain scalar, so the schema can say
"write "no" in quotes" instead of silently receiving ``False``. Duplicate keys, anchors/aliases
(alias bombs), explicit tags (``!!python/object``), multiple documents, tabs and deep nesting are
all errors with a line and column. This is the only module that imports ``yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ketsite.diagnostics import Diagnostics, SourceLocation

MAX_DEPTH = 32

#: libyaml's event parser, when PyYAML was built with it (it is in the PyPI wheels).
_CLoader = getattr(yaml, "CSafeLoader", None)
_NODE_EVENTS = (ScalarEvent, SequenceStartEvent, MappingStartEvent)
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"

_KINDS = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
    "tag:yaml.org,2002:binary": "binary",
    "tag:yaml.org,2002:merge": "merge",
    "tag:yaml.org,2002:value": "str",
}


@dataclass(frozen=True)
class YScalar:
    """A scalar as written. ``kind`` is what YAML would have made of it (``str``, ``int``,
    ``bool``…); ``quoted`` tells a deliberate string from a plain one."""

    text: str
    kind: str
    quoted: bool
    loc: SourceLocation
    #: A ``|`` or ``>`` block scalar: its text starts on the line after ``loc``.
    block: bool = False
    #: The scalar exactly as written in the file (quotes, indentation, folding and all), so a
    #: problem found inside the value can be located: see :func:`locate_in`.
    raw: str = ""

    def locate_in(self, fragment: str, occurrence: int = 0) -> SourceLocation:
        """The location of the ``occurrence``-th ``fragment`` as written inside this scalar, or of
        the scalar itself if it cannot be found (an escape sequence, a line fold inside it)."""
        index = -1
        for _ in range(occurrence + 1):
            index = self.raw.find(fragment, index + 1)
            if index < 0:
                return self.loc
        newlines = self.raw.count("\n", 0, index)
        if newlines == 0:
            return SourceLocation(self.loc.path, self.loc.line, self.loc.col + index)
        return SourceLocation(
            self.loc.path, self.loc.line + newlines, index - self.raw.rfind("\n", 0, index)
        )


@dataclass(frozen=True)
class YList:
    items: tuple[YNode, ...]
    loc: SourceLocation


@dataclass(frozen=True)
class YMap:
    entries: tuple[tuple[YScalar, YNode], ...]
    loc: SourceLocation

    def get(self, key: str) -> YNode | None:
        for k, v in self.entries:
            if k.text == key:
                return v
        return None


YNode = YScalar | YList | YMap


class YamlRefused(Exception):
    """A construct this loader refuses, raised with the location it was found at."""

    def __init__(self, loc_line: int, loc_col: int, message: str) -> None:
        super().__init__(message)
        self.line = loc_line
        self.col = loc_col
        self.message = message


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that composes only: no aliases, no explicit tags, bounded nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node:  # type: ignore[override]
        event = self.peek_event()
        mark = event.start_mark
        if isinstance(event, AliasEvent):
            raise YamlRefused(
                mark.line + 1, mark.column + 1,
                "YAML aliases (*name) are not allowed; write the value out",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlRefused(
                mark.line + 1, mark.column + 1,
                f"YAML anchors (&{anchor}) are not allowed; write the value out",
            )
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            shown = tag.replace("tag:yaml.org,2002:", "!!", 1)
            raise YamlRefused(
                mark.line + 1, mark.column + 1,
                f"YAML tags ({shown}) are not allowed; remove the tag",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlRefused(
                    mark.line + 1, mark.column + 1,
                    f"nesting deeper than {MAX_DEPTH} levels is not allowed",
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def _tabs(path: str, text: str, diags: Diagnostics) -> bool:
    found = False
    for n, line in enumerate(text.split("\n"), start=1):
        indent = len(line) - len(line.lstrip(" \t"))
        tab = line.find("\t", 0, indent)
        if tab >= 0:
            diags.error(
                SourceLocation(path, n, tab + 1),
                "tab character in indentation; indent YAML with spaces",
            )
            found = True
    return found


def _convert(node: Node, path: str, diags: Diagnostics, text: str = "") -> YNode:
    loc = SourceLocation(path, node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, ScalarNode):
        kind = _KINDS.get(node.tag, "str")
        raw = text[node.start_mark.index:node.end_mark.index]
        return YScalar(
            str(node.value), kind, node.style in ("'", '"', "|", ">"), loc,
            node.style in ("|", ">"), raw,
        )
    if isinstance(node, SequenceNode):
        return YList(tuple(_convert(item, path, diags, text) for item in node.value), loc)
    assert isinstance(node, MappingNode)
    entries: list[tuple[YScalar, YNode]] = []
    seen: dict[str, SourceLocation] = {}
    for key_node, value_node in node.value:
        key = _convert(key_node, path, diags, text)
        if not isinstance(key, YScalar):
            diags.error(key.loc, "mapping keys must be plain strings")
            continue
        if key.text in seen:
            first = seen[key.text]
            diags.error(
                key.loc,
                f"duplicate key '{key.text}' (first defined at line {first.line}); "
                "keep one of them",
            )
            continue
        seen[key.text] = key.loc
        entries.append((key, _convert(value_node, path, diags, text)))
    return YMap(tuple(entries), loc)


class _Fallback(Exception):
    """The fast path met something it leaves to :class:`StrictLoader` (which words the error)."""


def _compose_fast(text: str) -> Node | None:
    """The node graph of ``text`` from libyaml's C event parser, or :class:`_Fallback`.

    The pure-Python composer costs milliseconds per file, which at thousands of annotation files is
    most of a build. libyaml scans and parses; this builds the same nodes from its events. Anything
    unusual (an error, an alias, an anchor, a tag, deep nesting, a second document) is handed to the
    strict pure-Python loader so its messages stay exactly the same.
    """
    loader = _CLoader(text)
    try:
        loader.get_event()  # StreamStart
        if loader.check_event(StreamEndEvent):
            return None
        loader.get_event()  # DocumentStart
        stack: list[tuple[Node, list]] = []
        root: Node | None = None
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind in _NODE_EVENTS:
                if (event.anchor is not None or event.tag not in (None, "!")
                        or len(stack) >= MAX_DEPTH):
                    raise _Fallback
                if kind is ScalarEvent:
                    tag = loader.resolve(ScalarNode, event.value, event.implicit)
                    node: Node = ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                            style=event.style)
                    if stack:
                        stack[-1][1].append(node)
                    else:
                        root = node
                    continue
                items: list = []
                if kind is SequenceStartEvent:
                    node = SequenceNode(_SEQ_TAG, items, event.start_mark, None)
                else:
                    node = MappingNode(_MAP_TAG, items, event.start_mark, None)
                if stack:
                    stack[-1][1].append(node)
                else:
                    root = node
                stack.append((node, items))
            elif kind is SequenceEndEvent:
                stack.pop()
            elif kind is MappingEndEvent:
                node, items = stack.pop()
                node.value = list(zip(items[::2], items[1::2], strict=True))
            elif kind is DocumentEndEvent:
                break
            else:  # AliasEvent and anything unexpected
                raise _Fallback
        if not loader.check_event(StreamEndEvent):
            raise _Fallback  # a second document
        return root
    except yaml.YAMLError as exc:
        raise _Fallback from exc
    finally:
        loader.dispose()


def parse_yaml(path: str, text: str, diags: Diagnostics) -> YNode | None:
    """Parse one YAML document into a located tree; ``None`` (with diagnostics) if it cannot be
    read."""
    if _tabs(path, text, diags):
        return None
    if _CLoader is not None:
        try:
            fast = _compose_fast(text)
        except _Fallback:
            pass
        else:
            return None if fast is None else _convert(fast, path, diags, text)
    loader: StrictLoader | None = None
    try:
        loader = StrictLoader(text)  # checks every character before parsing
        node = loader.get_single_node()
    except YamlRefused as exc:
        diags.error(SourceLocation(path, exc.line, exc.col), exc.message)
        return None
    except ComposerError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if "single document" in str(exc.context or "") or "single document" in str(exc.problem):
            message = "more than one YAML document (---); put one document in each file"
        else:
            message = f"YAML error: {exc.problem or exc.context}"
        diags.error(SourceLocation(path, line, col), message)
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "cannot parse"
        context = exc.context_mark
        if exc.context and context is not None and context.line + 1 != line:
            # "expected ',' or ']'" is found lines after the '[' that was never closed: name both
            problem += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        diags.error(SourceLocation(path, line, col), f"YAML syntax error: {problem}")
        return None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        diags.error(
            SourceLocation(path, line, col),
            f"the control character U+{exc.character:04X} is not allowed in YAML; delete it",
        )
        return None
    except yaml.YAMLError as exc:
        diags.error(SourceLocation(path), f"YAML error: {exc}")
        return None
    except RecursionError:
        diags.error(SourceLocation(path), "YAML nesting too deep")
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        return None
    return _convert(node, path, diags, text)


__all__ = ["YList", "YMap", "YNode", "YScalar", "parse_yaml", "StreamEndEvent"]
