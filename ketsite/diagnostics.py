"""Diagnostics: every problem found in the sources, with the place it was found.

Every stage appends to a :class:`Diagnostics` list instead of raising, so a run reports all problems
at once, sorted, and the CLI turns them into an exit code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

#: Characters a terminal or a CI log acts on (newlines, carriage returns, escape sequences, bidi
#: overrides): a message quotes contributors' text, which must not start a line of its own, move
#: the cursor or pose as a workflow command.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every character a terminal acts on shown as an escape (``\\n``, ``\\x1b``)."""
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(lambda m: repr(m.group(0))[1:-1] if m.group(0) not in "\u2028\u2029"
                            else f"\\u{ord(m.group(0)):04x}", text)


def _property(text: str) -> str:
    """A workflow command's property value, escaped as GitHub's toolkit escapes it."""
    return (text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            .replace(":", "%3A").replace(",", "%2C"))


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A 1-based line and column in a source file (path relative to the project root)."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    location: SourceLocation
    severity: Severity
    message: str

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.path, loc.line, loc.col, self.message)

    def format(self) -> str:
        return printable(f"{self.location}: {self.severity.value}: {self.message}")

    def github_annotation(self) -> str:
        """The GitHub Actions workflow-command form, so errors show inline on a pull request."""
        loc = self.location
        kind = "error" if self.severity is Severity.ERROR else "warning"
        message = printable(self.message).replace("%", "%25")
        return (f"::{kind} file={_property(printable(loc.path))},line={loc.line},"
                f"col={loc.col}::{message}")


@dataclass
class Diagnostics:
    """An append-only collection of diagnostics, shared by the stages of one run."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, location: SourceLocation, message: str) -> None:
        self.items.append(Diagnostic(location, Severity.ERROR, message))

    def warning(self, location: SourceLocation, message: str) -> None:
        self.items.append(Diagnostic(location, Severity.WARNING, message))

    def extend(self, other: Diagnostics) -> None:
        self.items.extend(other.items)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    @property
    def error_count(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.items)

    @property
    def warning_count(self) -> int:
        return sum(d.severity is Severity.WARNING for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        unique = {(d.sort_key, d.severity.value): d for d in self.items}
        return [unique[k] for k in sorted(unique)]


def relative_path(path: Path, root: Path) -> str:
    """The path as shown in diagnostics: relative to the project, with forward slashes."""
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        rel = path
    return str(rel).replace(os.sep, "/")


def location_of_offset(path: str, text: str, offset: int) -> SourceLocation:
    """The 1-based line and column of a character offset in ``text``."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return SourceLocation(path, line, offset - start + 1)
