"""Property: whatever text a contributor puts in any field, ``ketsite check`` and ``ketsite build``
answer with diagnostics or a site — never a traceback — and the site shows the text escaped."""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitetools import FORMATTED_TAGS, script_is_inert

from ketsite.cli import main

#: Characters that break parsers and templates, mixed into otherwise arbitrary Unicode.
NASTY = list('<>&"\'`{}[]()%#\\@,=$~^_:;!|*-/\n\t\r ') + [
    "{{", "}}", "{%", "%}", "<script>", "</p>", "javascript:", "\x00", "\x07", "\x1b", "\x85",
    "\u2028", "\ufeff", "é", "Ł", "😀", "\u200b", "---", "&amp;", "[@", "](", "\\'", "---\n",
]
TEXT = st.lists(st.sampled_from(NASTY) | st.characters(exclude_categories=("Cs",)),
                max_size=30).map("".join)

BIB = """@article{{okpaper2020,
  author  = {{{author}}},
  title   = {{{title}}},
  journal = {{{journal}}},
  year    = {{2020}},
}}
"""
PLAIN = {"author": "Doe, Jane", "title": "A valid title", "journal": "Journal of Examples"}
YAML_FIELDS = {("papers", "population"), ("papers", "dose"), ("papers", "basis"),
               ("papers", "finding"), ("papers", "status_note"), ("papers", "outcomes"),
               ("conditions", "name"), ("conditions", "synonyms"), ("conditions", "description"),
               ("reviews", "summary"), ("reviews", "conclusion"), ("authors", "affiliation"),
               ("config", "title"), ("config", "description")}
SETTINGS = settings(max_examples=40, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow])
#: Per kind of field, the elements the same site has with plain text there (built once).
_BASELINE: dict[object, frozenset[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def fixed_source_date():
    """No ``git log`` per build: the date is not what this test is about."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        yield


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue() + err.getvalue()


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append(({k: v or "" for k, v in attrs}, ""))

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] = (self.scripts[-1][0], self.scripts[-1][1] + data)
        else:
            self.text.append(data)


def check_and_build(root: Path) -> Path | None:
    """Run check and build as a contributor would; the paper page if the sources were valid."""
    code, output = run("check", "--src", str(root))
    assert code in (0, 1), output
    assert "Traceback" not in output and "internal error" not in output
    for line in output.splitlines():
        if ": error: " in line:  # every problem is located: path:line:col, 1-based
            assert re.match(r"^[^:]+:[1-9]\d*:[1-9]\d*: error: ", line), line
    built, output = run("build", "--src", str(root), "--out", str(root / "_site"))
    assert built == code, output  # build runs the same checks
    assert "Traceback" not in output and "internal error" not in output
    if code:
        assert not (root / "_site").exists()
        return None
    return root / "_site" / "papers" / "okpaper2020" / "index.html"


def parse(page: Path) -> Page:
    parser = Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def baseline_tags(key: object, write: Callable[[Path, str], None]) -> frozenset[str]:
    """Every element the site has when the field holds a plain word."""
    if key not in _BASELINE:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write(root, "plain")
            assert check_and_build(root) is not None
            _BASELINE[key] = frozenset(tag for page in sorted((root / "_site").rglob("*.html"))
                                       for tag, _ in parse(page).tags)
    return _BASELINE[key]


def assert_inert(page: Path, allowed: frozenset[str]) -> str:
    """No element beyond the plain site's and Markdown/citation formatting, no handler, no
    script link, no script but the site's files and JSON-LD; returns the page's text."""
    parser = parse(page)
    for tag, attrs in parser.tags:
        assert tag in allowed | FORMATTED_TAGS, tag  # any other element came out of content
        assert not [name for name, _ in attrs if name.startswith("on")], (tag, attrs)
        for name, value in attrs:
            if name in ("href", "src"):
                assert not "".join((value or "").split()).lower().startswith(
                    ("javascript:", "data:", "vbscript:")), (tag, attrs)
    for attrs, content in parser.scripts:  # the site's own files and JSON-LD data only
        assert script_is_inert(attrs, content), (attrs, content[:200])
    return " ".join(" ".join(parser.text).split())


def write_bib(field: str) -> Callable[[Path, str], None]:
    def write(root: Path, text: str) -> None:
        (root / "bib").mkdir()
        (root / "bib" / "a.bib").write_text(BIB.format(**{**PLAIN, field: text}),
                                            encoding="utf-8")
    return write


@SETTINGS
@given(field=st.sampled_from(sorted(PLAIN)), text=TEXT)
def test_any_text_in_a_bibtex_field(field, text):
    allowed = baseline_tags(("bib", field), write_bib(field))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_bib(field)(root, text)
        if check_and_build(root) is not None:
            for page in sorted((root / "_site").rglob("*.html")):
                assert_inert(page, allowed)


#: (file, base keys) of each kind of YAML source; the fuzzed key is added or replaces one.
YAML_FILES = {
    "papers": ("content/papers/okpaper2020.yaml", {"design": "meta-analysis",
                                                   "status": "corrected"}),
    "conditions": ("content/conditions/cond.yaml", {"name": "Cond", "description": "D",
                                                    "papers": "[okpaper2020]"}),
    "reviews": ("content/reviews/rev.yaml", {"paper": "okpaper2020", "licence": "CC-BY-4.0",
                                             "references": "[okpaper2020]"}),
    "authors": ("content/authors/doe-jane.yaml", {"name": '"Doe, Jane"'}),
    "config": ("ketsite.yaml", {"title": "T", "description": "D", "url": "https://example.org"}),
}
#: Fields shown as plain text: the page must show exactly what was written.
PLAIN_TEXT = {("papers", "population"), ("papers", "dose"), ("papers", "basis"),
              ("papers", "outcomes"), ("conditions", "name"), ("conditions", "synonyms"),
              ("authors", "affiliation"), ("config", "title")}
LISTS = {"outcomes", "synonyms"}


def write_yaml(target: tuple[str, str], style: str) -> Callable[[Path, str], None]:
    kind, field = target
    path, base = YAML_FILES[kind]

    def write(root: Path, text: str) -> None:
        if style == "json":  # a double-quoted YAML string holding exactly ``text``
            value = json.dumps(text)
        elif style == "plain":  # written as is: often not even valid YAML
            value = text
        else:  # a literal block
            value = "|\n" + "".join(f"  {line}\n" for line in text.split("\n")).rstrip("\n")
        if field in LISTS:
            value = f"[{value}]" if style != "block" else "\n  - " + value.replace("\n", "\n  ")
        (root / "bib").mkdir()
        (root / "bib" / "a.bib").write_text(BIB.format(**PLAIN), encoding="utf-8")
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        lines = {**base, field: value}
        (root / path).write_text("".join(f"{k}: {v}\n" for k, v in lines.items()),
                                 encoding="utf-8")
    return write


@SETTINGS
@given(target=st.sampled_from(sorted(YAML_FIELDS)), text=TEXT,
       style=st.sampled_from(("json", "plain", "block")))
def test_any_text_in_a_yaml_field(target, text, style):
    allowed = baseline_tags(target, write_yaml(target, "json"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_yaml(target, style)(root, text)
        if check_and_build(root) is None:
            return
        shown = " ".join(assert_inert(p, allowed) for p in sorted((root / "_site").rglob("*.html")))
        if style == "json" and target in PLAIN_TEXT:
            # plain-text fields show exactly what was written, as text
            assert " ".join(text.split()) in shown
