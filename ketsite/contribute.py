"""``ketsite new paper``: add one BibTeX entry to ``bib/`` and scaffold its annotation.

The entry goes through exactly the checks of ``ketsite check``: first on its own (syntax, fields,
identifiers, reported against the input's own lines), then together with the whole project as if
it were already added (duplicate key, DOI, PMID or PMCID naming the existing entry, output-path
collisions), with the scaffolded annotation included so the scaffold itself is known to pass.
Only problems the new entry brings count; nothing is written unless there are none, and the
written result is checked once more (and undone if it somehow differs).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from ketsite.build import load_project, load_sources, plan
from ketsite.diagnostics import Diagnostics, Severity, SourceLocation
from ketsite.model.entities import DESIGNS, DIRECTIONS, ROUTES, STATUSES, Paper
from ketsite.model.parse import parse_paper
from ketsite.site.routes import LinkStyle
from ketsite.sources.bibtex import parse_bibtex
from ketsite.sources.discover import SourceFile, decode_source, discover

DEFAULT_BIB = "bib/contributed.bib"


class UsageError(Exception):
    """A problem with how the command was called, not with the entry (exit code 2)."""


@dataclass(frozen=True)
class Added:
    key: str
    bib: str  # project-relative .bib path
    line: int  # where the entry starts in it
    annotation: str | None  # the scaffold written, None if one existed already


def _check(root: Path, source: SourceFile, extra_yaml: SourceFile | None) -> Diagnostics:
    """``ketsite check`` of the project with ``source`` (and the scaffold) added."""
    diags = Diagnostics()
    sources = discover(root, diags)
    sources = replace(sources, bib=sources.bib + (source,))
    if extra_yaml is not None:
        sources = replace(sources, papers=tuple(sorted(sources.papers + (extra_yaml,),
                                                       key=lambda s: s.rel)))
    project = load_sources(root, sources, diags)
    if not diags.has_errors:
        plan(project, LinkStyle.PRETTY, diags)
    return diags


def _new_problems(before: Diagnostics, after: Diagnostics) -> Diagnostics:
    seen = {d.format() for d in before.items}
    out = Diagnostics()
    out.items = [d for d in after.sorted() if d.format() not in seen]
    return out


def bib_target(root: Path, bib: str) -> str:
    rel = PurePosixPath(bib.replace(os.sep, "/"))
    if rel.is_absolute() or ".." in rel.parts or rel.parts[:1] != ("bib",) or len(rel.parts) != 2 \
            or rel.suffix != ".bib":
        raise UsageError(f"--bib must name a .bib file directly in bib/, like {DEFAULT_BIB}")
    target = root / rel
    if target.exists() and not target.is_file():
        raise UsageError(f"--bib {bib} is not a file")
    return rel.as_posix()


def scaffold(paper: Paper) -> str:
    """A commented annotation with every field present and empty ("not given"): it passes
    ``ketsite check`` as it is, and says what each field takes."""
    title = " ".join(paper.title.split())
    return f"""\
# Annotation of {paper.key}: {title} ({paper.year})
# Fill in only what the paper itself supports and leave the rest empty: an empty value means
# "not given". Put text in quotes if YAML could read it as something else ("no", "0123", "1:30").
# Every field: docs/content-format.md. Then run: ketsite check

# Study design, one of: {", ".join(DESIGNS)}
design:
# Who was studied, e.g. "Adults with fibromyalgia"
population:
# Number of participants (or animals), a whole number
sample_size:
# How ketamine was given, a list of: {", ".join(ROUTES)}
route:
# The dose as reported
dose:
# The comparison arm, e.g. "Active placebo (midazolam)"
comparator:
# Outcome measures, a list of text
outcomes:
# Direction of effect on the primary outcome, one of: {", ".join(DIRECTIONS)}
direction:
# A short finding in Markdown; cite other papers as [@key]
finding:
# Conditions this paper addresses, a list of file names from content/conditions/ without .yaml
conditions:
# Only if the paper was {" or ".join(STATUSES)}: that word, and what happened, with the notice
status:
status_note:
# The sentence of the source this annotation rests on, quoted
basis:
"""


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def new_paper(root: Path, data: bytes, input_name: str, bib: str, diags: Diagnostics,
              annotate: bool = True) -> Added | None:
    """Check one BibTeX entry and add it; ``None`` (with diagnostics) if anything is wrong."""
    bib_rel = bib_target(root, bib)
    source = decode_source(input_name, Path(input_name), data, diags)
    entries = parse_bibtex(source, diags)
    if diags.has_errors:
        return None
    if len(entries) != 1:
        where = entries[1].loc if len(entries) > 1 else SourceLocation(input_name)
        diags.error(where, f"expected exactly one BibTeX entry, found {len(entries)}; "
                    "add papers one at a time")
        return None
    paper = parse_paper(entries[0], diags)
    if paper is None or diags.has_errors:
        return None

    annotation_rel = f"content/papers/{paper.key}.yaml"
    annotation_path = root / annotation_rel
    write_scaffold = annotate and not annotation_path.exists()
    extra = SourceFile(annotation_rel, annotation_path, scaffold(paper)) if write_scaffold else None
    before = Diagnostics()
    load_project(root, before)
    problems = _new_problems(before, _check(root, source, extra))
    if extra is not None and any(d.location.path != annotation_rel for d in problems.items
                                 if d.severity is Severity.ERROR):
        # the entry itself is refused (a duplicate key…): the scaffold made for it then names a
        # paper that is not there, which says nothing new and names a file never written
        problems.items = [d for d in problems.items if d.location.path != annotation_rel]
    diags.extend(problems)
    if problems.has_errors:
        return None

    target = root / bib_rel
    original = target.read_text(encoding="utf-8") if target.exists() else None
    text = original or ""
    if text and not text.endswith("\n"):
        text += "\n"
    if text.strip():
        text += "\n"
    line = text.count("\n") + 1
    entry_text = source.text.strip("\n") + "\n"
    _write_atomically(target, text + entry_text)
    if write_scaffold:
        _write_atomically(annotation_path, scaffold(paper))

    after = Diagnostics()
    load_project(root, after)
    problems = _new_problems(before, after)
    if problems.has_errors:  # the file as written reads differently: undo, and say why
        if original is None:
            target.unlink()
        else:
            _write_atomically(target, original)
        if write_scaffold:
            annotation_path.unlink()
        diags.extend(problems)
        diags.error(SourceLocation(bib_rel), f"adding '{paper.key}' to {bib_rel} made the file "
                    "read differently; nothing was changed")
        return None
    return Added(paper.key, bib_rel, line, annotation_rel if write_scaffold else None)
