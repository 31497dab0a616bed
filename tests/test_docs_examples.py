"""The copy-paste examples of CONTRIBUTING.md and docs/content-format.md pass ``ketsite check``.

Every ```yaml and ```bibtex block starts with a comment naming the file it belongs in
(``# content/conditions/fibromyalgia.yaml``, ``% bib/reviews.bib``). Each document's examples are
written into a copy of the bundled project — a YAML example replaces that file, a BibTeX example
replaces the entries with the same keys — and the copy must check clean and contain them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sitetools import REPO

from ketsite.build import load_project
from ketsite.cli import main
from ketsite.diagnostics import Diagnostics
from ketsite.sources.bibtex import parse_bibtex
from ketsite.sources.discover import read_source

DOCS = ("CONTRIBUTING.md", "docs/content-format.md")
FENCE = re.compile(r"^```(yaml|bibtex)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
HEADER = re.compile(r"^(?:#|%) ((?:bib|content)/[\w./-]+|ketsite\.yaml)[ \t]*\n")
KINDS = {"reviews": "reviews", "conditions": "conditions", "papers": "annotations"}


def examples(doc: str) -> list[tuple[str, str, str]]:
    """(language, target path, text) of every example block in ``doc``."""
    found = []
    for match in FENCE.finditer((REPO / doc).read_text(encoding="utf-8")):
        language, text = match.groups()
        header = HEADER.match(text)
        assert header, f"{doc}: a ```{language} block does not start with its file name:\n{text}"
        found.append((language, header.group(1), text))
    return found


def bib_keys(text: str) -> list[str]:
    return re.findall(r"^@\w+\{([^,\s]+),", text, re.M)


def remove_entries(project: Path, keys: set[str]) -> None:
    """Cut the bundled entries with these keys out of the project's .bib files."""
    for bib in sorted((project / "bib").glob("*.bib")):
        source = read_source(bib, project, Diagnostics())
        assert source is not None
        entries = parse_bibtex(source, Diagnostics())
        lines = source.text.split("\n")
        starts = [e.loc.line - 1 for e in entries] + [len(lines)]
        drop: set[int] = set()
        for entry, start, end in zip(entries, starts, starts[1:], strict=False):
            if entry.key.lower() in keys:
                drop.update(range(start, end))
        if drop:
            bib.write_text("\n".join(t for i, t in enumerate(lines) if i not in drop),
                           encoding="utf-8")


@pytest.mark.parametrize("doc", DOCS)
def test_every_example_passes_check(doc, tmp_path, capsys):
    blocks = examples(doc)
    targets = {path.split("/")[0] if "/" in path else path for _, path, _ in blocks}
    assert {"bib", "content"} <= targets, "the document shows BibTeX and YAML examples"
    project = tmp_path / "project"
    project.mkdir()
    for name in ("bib", "content"):
        shutil.copytree(REPO / name, project / name)
    shutil.copy2(REPO / "ketsite.yaml", project / "ketsite.yaml")

    keys = {key.lower() for language, _, text in blocks if language == "bibtex"
            for key in bib_keys(text)}
    remove_entries(project, keys)
    for language, path, text in blocks:
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if language == "bibtex":
            old = target.read_text(encoding="utf-8") if target.exists() else ""
            target.write_text(old + "\n" + text, encoding="utf-8")
        else:
            target.write_text(text, encoding="utf-8")

    code = main(["check", "--src", str(project)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""  # not even a warning

    corpus = load_project(project, Diagnostics()).corpus
    for language, path, text in blocks:
        if language == "bibtex":
            assert set(bib_keys(text)) <= set(corpus.papers), path
        elif path.startswith("content/"):
            kind, name = path.split("/")[1:]
            ident = name.rsplit(".", 1)[0]
            found = corpus.authors if kind == "authors" else getattr(corpus, KINDS[kind])
            assert ident in found, path


def test_contributing_covers_every_kind_of_source():
    paths = [path for _, path, _ in examples("CONTRIBUTING.md")]
    for folder in ("bib/", "content/papers/", "content/conditions/", "content/reviews/",
                   "content/authors/"):
        assert any(p.startswith(folder) for p in paths), folder
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "ketsite new paper" in text and "ketsite check" in text
