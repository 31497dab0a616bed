"""The LaTeX fast path gives exactly what pylatexenc gives, on every form it claims to handle."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ketsite.sources import latex
from ketsite.sources.latex import ACCENTS, LETTERS, decode_with_pylatexenc, latex_to_unicode


def slow(text: str) -> str:
    """latex_to_unicode with every decoding done by pylatexenc (the reference)."""
    text = latex._BARE.sub(r"\\\g<0>", text)  # a bare % or & is the character (see below)
    if latex._NEEDS_DECODING.search(text):
        text = decode_with_pylatexenc(text)
    else:
        text = text.replace("{", "").replace("}", "")
    return latex._SPACE.sub(" ", text).strip()


BASES = string.ascii_letters + "\\i\\j"


@pytest.mark.parametrize("accent", sorted(ACCENTS))
def test_every_accent_on_every_letter_matches_pylatexenc(accent):
    letters = list(string.ascii_letters) + ["\\i", "\\j"]
    for letter in letters:
        forms = [f"{{\\{accent}{{{letter}}}}}", f"\\{accent}{{{letter}}}", f"x\\{accent} {letter}y"]
        if not letter.startswith("\\"):
            forms += [f"{{\\{accent}{letter}}}", f"\\{accent}{letter}z"]
        for form in forms:
            latex._decode.cache_clear()
            assert latex_to_unicode(form) == slow(form), form


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_letter_macros_match_pylatexenc(name):
    for form in (f"{{\\{name}}}x", f"\\{name}{{}}x", f"\\{name} x", f"a \\{name}  b", f"\\{name}"):
        latex._decode.cache_clear()
        assert latex_to_unicode(form) == slow(form), form


TOKENS = st.sampled_from([
    "a", "Ketamine", " ", "  ", "\n", "-", "--", "---", "~", "{", "}", "{S}", "\\&", "\\%", "\\_",
    "\\#", "\\$", "{\\'e}", "\\'e", "\\\"u", "\\\"{o}", "{\\c c}", "\\c{C}", "{\\k a}", "\\l",
    "{\\L}",
    "\\o", "\\ss", "\\aa{}", "{\\'\\i}", "\\v{s}", "\\H o", "$x$", "\\emph{x}", "\\textit{a b}",
    "``", "''", "&", "%", "\\'", "\\\\", "\\cc", "\\'{}", "é", "Gąska", ",", ":", "(", ")", "'",
    "\\lé", "\\ssß",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=12).map("".join))
def test_any_mix_of_forms_matches_pylatexenc(text):
    latex._decode.cache_clear()
    assert latex_to_unicode(text) == slow(text)


@pytest.mark.parametrize(("field", "shown"), [
    ("A 50% reduction in pain scores", "A 50% reduction in pain scores"),
    ("Pain & depression in M{\\\"u}nster", "Pain & depression in Münster"),
    ("Ketamine & magnesium, 2010--2020", "Ketamine & magnesium, 2010–2020"),
    ("Pain & Therapy", "Pain & Therapy"),
    ("50\\% of {\\'e}tudes \\& more", "50% of études & more"),
])
def test_a_bare_percent_or_ampersand_is_shown_not_dropped(field, shown):
    """To TeX, % starts a comment and & separates table columns: decoded as TeX, "A 50% reduction"
    became "A 50". A contributor writing them in a title means the characters."""
    latex._decode.cache_clear()
    assert latex_to_unicode(field) == shown


@pytest.mark.parametrize(("field", "shown"), [
    ("Role of $\\alpha$-2 adrenoceptors in $\\mu$-opioid knockout mice",
     "Role of α-2 adrenoceptors in μ-opioid knockout mice"),
    ("Esketamine ($S$-ketamine) for depression", "Esketamine (S-ketamine) for depression"),
    ("Pain scores $\\geq$ 50% lower", "Pain scores ≥ 50% lower"),
    ("$\\alpha_2$-adrenergic and Ca$^{2+}$ channels, $a_n$",
     "α₂-adrenergic and Ca²⁺ channels, a_n"),
    ("Pain {\\textless}48 h {\\textbar} 10{\\textpercent} $x \\textgreater y$",
     "Pain <48 h | 10% x >y"),  # TeX: the space after a command word is eaten
])
def test_math_in_a_title_is_shown_as_text(field, shown):
    """Titles write Greek letters and symbols in math mode; readers see the characters."""
    latex._decode.cache_clear()
    assert latex_to_unicode(field) == shown


SEGMENT = st.sampled_from(["papers", "authors", "a", "b", "index.html", "x.css", "assets"])


@settings(max_examples=500, deadline=None)
@given(st.lists(SEGMENT, min_size=1, max_size=4).map("/".join),
       st.lists(SEGMENT, max_size=4).map("/".join))
def test_fast_relpath_equals_posixpath(to_path, base):
    import posixpath

    from ketsite.site.routes import relpath

    assert relpath(to_path, base) == posixpath.relpath(to_path, base or ".")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab {}\t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000é"),
               max_size=20))
def test_space_folding_equals_the_regex(text):
    import re

    expected = re.sub(r"\s+", " ", text.replace("{", "").replace("}", "")).strip()
    assert latex_to_unicode(text) == expected


YAML_SAMPLES = [
    'a: "Gąska é — ü"\nb: >-\n  Müller\n  zwei\nc: [é, "ö"]\n',
    "x: 'ł'\ny: |\n  ñ\n  ü\nz: no\nn: 0123\nd: 2020-01-01\n",
    "a: &x 1\nb: *x\n", "a: !!python/object x\n", "a: 1\n---\nb: 2\n", "a: [1, 2\n", "a: 1\na: 2\n",
    "- 1\n- [2, {3: 4}]\n", "", "# only a comment\n", "a:\n  b:\n    c: [d, e]\n",
    "k: \"\\u00e9\\t\"\n", "a: \x07\n", "? [complex]\n: key\n",
]


def test_yaml_fast_path_builds_the_same_tree_and_messages():
    """libyaml's event parser gives exactly the tree and diagnostics of the pure-Python loader."""
    from sitetools import REPO

    from ketsite.diagnostics import Diagnostics
    from ketsite.sources import yamlio

    files = sorted((REPO / "content").rglob("*.yaml")) + sorted((REPO / "tests").rglob("*.yaml"))
    samples = [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in files]
    samples += [(f"sample{i}.yaml", text) for i, text in enumerate(YAML_SAMPLES)]
    assert yamlio._CLoader is not None, "PyYAML without libyaml: the fast path is not tested"
    fast_used = 0
    for name, text in samples:
        fast, slow = Diagnostics(), Diagnostics()
        a = yamlio.parse_yaml(name, text, fast)
        saved, yamlio._CLoader = yamlio._CLoader, None
        try:
            b = yamlio.parse_yaml(name, text, slow)
        finally:
            yamlio._CLoader = saved
        assert (a, fast.items) == (b, slow.items), name
        try:
            yamlio._compose_fast(text)
            fast_used += 1
        except yamlio._Fallback:
            pass
    assert fast_used > len(samples) // 2


@settings(max_examples=500, deadline=None)
@given(st.lists(SEGMENT, min_size=1, max_size=4).map("/".join),
       st.lists(SEGMENT, min_size=1, max_size=4).map("/".join),
       st.sampled_from(["pretty", "files"]))
def test_page_hrefs_equal_relative_href(to_path, from_path, style):
    """A page's links, its folder split once, are those made link by link, from any depth."""
    from ketsite.site.routes import Hrefs, LinkStyle, relative_href

    style = LinkStyle(style)
    assert Hrefs(from_path, style)(to_path) == relative_href(from_path, to_path, style)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=6), children, max_size=4)
    | st.dictionaries(st.integers(), children, max_size=2),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(_JSON_VALUES, st.sampled_from([1, 2]))
def test_indented_json_is_exactly_json_dumps(value, indent):
    """JSON-LD, CSL-JSON and the graph are written by jsontext.dumps_indented: the very text
    json.dumps(ensure_ascii=False, indent=...) writes, for any JSON value."""
    from ketsite.jsontext import dumps_indented

    assert dumps_indented(value, indent) == json.dumps(value, ensure_ascii=False, indent=indent)


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=12),
    st.sampled_from(["Cohen", "Ñúñez", "Åberg", "Øvergaard", "Ðorđević", "ʻAkana", "de Vries",
                     "'t Hooft", "&amp;Co", "1st", "", " Smith", "-Lee", "Łukasz", "Æsir"]),
))
def test_author_letter_equals_the_letter_of_the_slug(family):
    from ketsite.model.names import slugify
    from ketsite.site.paging import author_letter

    first = (slugify(family)[:1] or "#").upper()  # the rule, as the docs state it
    assert author_letter(family) == (first if first.isalpha() else "#")


# --- Pieces.each: the parts of the library-wide files -----------------------------------------


@settings(max_examples=60, deadline=None)
@example(rounds=[[("k0", 0), ("k1", 1)], [("k1", 0)], [("k0", 0), ("k1", 1)], [("k1", 1)]])
@given(st.lists(st.lists(st.tuples(st.sampled_from([f"k{i}" for i in range(300)]),
                                   st.integers(0, 3)), max_size=300), min_size=1, max_size=5))
def test_pieces_each_gives_what_a_fresh_call_gives_and_redoes_only_changed_items(rounds):
    """Build after build, with items added, removed, reordered and changed: ``each`` returns
    exactly ``[fn(*args) ...]``, and calls ``fn`` for every item whose arguments are new, at most
    once, and never for one whose arguments are those it was last made with. (An item that moved
    to another run, changed and changed back may be made again: a run found whole does not
    refresh its items' own entries, which would cost a dictionary write per item per build.)"""
    from ketsite.memo import Pieces

    pieces = Pieces()
    made: dict[str, tuple[object, ...]] = {}  # ident → the arguments it was last made with
    ever: set[tuple[object, ...]] = set()
    for items in rounds:
        items = list(dict(items).items())  # one entry per ident, as in a mapping
        idents = [ident for ident, _ in items]
        args = [(ident, value) for ident, value in items]
        calls: list[str] = []

        def part(ident: str, value: int, calls: list[str] = calls) -> str:
            calls.append(ident)
            return f"{ident}={value}"

        assert pieces.each("ns", idents, part, args) == [f"{i}={v}" for i, v in items]
        new = {i for i, a in zip(idents, args, strict=True) if a not in ever}  # must be made
        changed = {i for i, a in zip(idents, args, strict=True) if made.get(i) != a}  # may be
        assert len(calls) == len(set(calls)) and new <= set(calls) <= changed
        made.update((i, a) for i, a in zip(idents, args, strict=True) if i in calls)
        ever.update(args)


def _runs(idents: list[str], args: list[tuple[object, ...]]) -> dict[str, list[tuple[object, ...]]]:
    """The runs ``Pieces.each`` cuts ``idents`` into: first ident → the run's arguments."""
    from ketsite.memo import _ends_run

    out: dict[str, list[tuple[object, ...]]] = {}
    start = 0
    for n, ident in enumerate(idents):
        if _ends_run(ident) or n == len(idents) - 1:
            out[idents[start]] = args[start:n + 1]
            start = n + 1
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([f"k{i}" for i in range(400)]), st.integers(0, 2)),
                min_size=1, max_size=400),
       st.lists(st.tuples(st.sampled_from([f"k{i}" for i in range(400)]), st.integers(0, 2)),
                max_size=400))
@example([(f"k{i}", 0) for i in range(400)],  # one item edited: one run made again
         [(f"k{i}", int(i == 200)) for i in range(400)])
def test_saved_pieces_keep_runs_and_redo_exactly_the_changed_runs(first, second):
    """What ``build --incremental`` saves of the parts (``Pieces.live``, through pickle): their
    runs, not each item's entry. The next process gets exactly ``[fn(*args) ...]`` and makes
    again exactly the items of the runs whose arguments differ from the saved run's."""
    import pickle
    from types import SimpleNamespace

    from ketsite.memo import Pieces

    def part(ident: str, value: int, calls: list[str]) -> str:
        calls.append(ident)
        return f"{ident}={value}"

    def items(pairs: list[tuple[str, int]]) -> tuple[list[str], list[tuple[object, ...]]]:
        kept = list(dict(pairs).items())
        return [i for i, _ in kept], [(i, v) for i, v in kept]

    pieces = Pieces()
    idents, args = items(first)
    pieces.each("ns", idents, lambda i, v: part(i, v, []), args)
    corpus = SimpleNamespace(papers=dict.fromkeys(idents), authors={}, conditions={}, reviews={})
    saved = pickle.loads(pickle.dumps(pieces.live(corpus)))
    assert all("/run/" in ns for ns, _ in saved.entries)  # no entry per item
    before = _runs(idents, args)

    idents2, args2 = items(second)
    calls: list[str] = []
    got = saved.each("ns", idents2, lambda i, v: part(i, v, calls), args2)
    assert got == [f"{i}={v}" for i, v in args2]
    redone = [a[0] for start, run in _runs(idents2, args2).items() if before.get(start) != run
              for a in run]
    assert calls == redone
    if len(first) == len(second) == 400 and first[:200] == second[:200]:  # the @example
        assert "k200" in calls and len(calls) < 150  # its run, not the 400


def test_pieces_each_runs_end_at_the_same_idents_in_every_process():
    """Run boundaries come from a checksum, not ``hash`` (salted per process): the runs saved
    with the state of ``build --incremental`` are found by the next process."""
    import subprocess
    import sys

    from ketsite.memo import _ends_run

    idents = [f"author-{i}" for i in range(2000)]
    here = [i for i in idents if _ends_run(i)]
    code = ("import sys; from ketsite.memo import _ends_run; "
            "print(sum(1 for i in range(2000) if _ends_run(f'author-{i}')))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**__import__("os").environ, "PYTHONHASHSEED": "12345"},
                           check=True).stdout
    assert 10 < len(here) < 100 and int(other) == len(here)


def test_citeproc_and_markdown_it_are_imported_when_first_needed():
    """``build --incremental`` after a BibTeX edit starts with importing ketsite: citeproc-py
    and markdown-it (a tenth of a second) come with the first page that formats a reference or
    renders Markdown, not with ketsite."""
    import subprocess
    import sys

    code = ("import sys, ketsite.build, ketsite.cli; "
            "print(sorted(m for m in ('citeproc', 'markdown_it') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# --- an edited .bib file parsed again entry by entry ----------------------------------------------

def _bib_entry(i: int, title: str = "", extra: str = "") -> str:
    return (f"@article{{k{i},\n  author = {{M{{\\\"u}}ller, Anna and Nowak, {{\\L}}ukasz}},\n"
            f"  title = {{{title or f'Ketamine study {i}'}}},\n  journal = {{Pain}},\n"
            f"  year = {{{2000 + i}}},{extra}\n}}\n\n")


_EDITS = st.one_of(
    st.tuples(st.just("title"), st.integers(0, 11), st.text(
        alphabet=st.sampled_from("ab {}@\\\n,=\"é"), max_size=12)),
    st.tuples(st.just("delete"), st.integers(0, 11), st.just("")),
    st.tuples(st.just("insert"), st.integers(0, 11), st.sampled_from([
        _bib_entry(3),  # a key written twice
        _bib_entry(40),
        _bib_entry(41, extra="\n  keywords = {x}"),  # a warning
        "@string{pain = {Pain}}\n",
        "@preamble{\"x\"}\n",
        "@comment{nothing}\n",
        "stray = {text}\n",
        "\n\n",
        "@article{k42,\n  title = {No year},\n  author = {A, B},\n  journal = {J},\n}\n",
        "  @article{k43, title = {Indented}, author = {A, B}, journal = {J}, year = {2001}}\n",
        "@article{k44,\n  title = {Open,\n  year = {2001},\n}\n",
    ])),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_EDITS, min_size=1, max_size=3), min_size=1, max_size=3))
def test_bib_parsed_again_by_entry_equals_the_whole_file_parsed(rounds):
    """However a .bib file is edited, again and again, parsing only its changed entries gives the
    papers and diagnostics of parsing the whole file, or declines (and the file is parsed whole)."""
    from ketsite.cache import parse_file, reparse_bib
    from ketsite.sources.discover import SourceFile

    blocks = [_bib_entry(i, extra="\n  keywords = {k}" if i == 5 else "") for i in range(12)]
    source = SourceFile("bib/a.bib", Path("bib/a.bib"), "% a library\n" + "".join(blocks))
    frag = parse_file("bib", source)
    for edits in rounds:
        for op, i, value in edits:
            i %= len(blocks) if blocks else 1
            if op == "title" and blocks:
                blocks[i] = blocks[i].replace("title = {", "title = {" + value, 1)
            elif op == "delete" and blocks:
                del blocks[i]
            elif op == "insert":
                blocks.insert(i, value)
        edited = SourceFile(source.rel, source.path, "% a library\n" + "".join(blocks))
        whole = parse_file("bib", edited)
        again = reparse_bib(source, frag, edited)
        if again is not None:
            assert again.parsed.papers == whole.parsed.papers
            assert again.diagnostics == whole.diagnostics
        source, frag = edited, again or whole


def test_a_title_edit_parses_only_that_entry_again(monkeypatch):
    from ketsite import cache
    from ketsite.sources.discover import SourceFile

    text = "".join(_bib_entry(i) for i in range(30))
    source = SourceFile("bib/a.bib", Path("bib/a.bib"), text)
    frag = cache.parse_file("bib", source)
    edited = SourceFile(source.rel, source.path, text.replace("study 17}", "study 17, revised}"))
    parsed: list[str] = []
    real = cache.parse_file
    monkeypatch.setattr(cache, "parse_file", lambda kind, s: parsed.append(s.text) or real(kind, s))
    again = cache.reparse_bib(source, frag, edited)
    assert again is not None and len(parsed) == 1 and "revised" in parsed[0]
    assert again.parsed.papers == real("bib", edited).parsed.papers
    assert [p.title for p in again.parsed.papers][17] == "Ketamine study 17, revised"
    assert again.parsed.papers[18] is frag.parsed.papers[18]  # reused, not made again


# --- the model after an edit: placing only the changed papers ------------------------------------

_PEOPLE = ["Müller, Anna", "Nowak, Łukasz", "Smith, J.", "Doe, Jane", "Ôta, Ken", "Li, Wei"]


def _library_bib(papers: dict[str, tuple[str, int, tuple[int, ...]]]) -> str:
    return "".join(
        f"@article{{{key},\n  author = {{{' and '.join(_PEOPLE[i] for i in people)}}},\n"
        f"  title = {{{title}}},\n  journal = {{Pain}},\n  year = {{{year}}},\n}}\n\n"
        for key, (title, year, people) in papers.items())


def _as_lists(corpus) -> dict[str, object]:
    """Every mapping of the corpus with its order (dict equality ignores order)."""
    from dataclasses import fields

    return {f.name: list(getattr(corpus, f.name).items()) for f in fields(corpus)}


_PAPER = st.tuples(st.sampled_from(["Alpha", "beta", "Gamma", "delta", "Alpha"]),
                   st.integers(2019, 2021),
                   st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True).map(tuple))


@settings(max_examples=120, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from([f"k{i}" for i in range(8)]), _PAPER,
                                min_size=1, max_size=8), min_size=2, max_size=5))
def test_corpus_kept_between_builds_equals_a_fresh_one(libraries):
    """However papers change between builds (titles and years that reorder the library, authors
    added, removed or swapped, papers added and deleted), the model made with the last build's
    cache is the one made from scratch, order included."""
    from ketsite.cache import parse_file
    from ketsite.diagnostics import Diagnostics
    from ketsite.model.corpus import CorpusCache, build_corpus
    from ketsite.model.entities import ParsedSources
    from ketsite.sources.discover import SourceFile

    cache = CorpusCache()
    kept: dict[str, object] = {}  # unchanged entries keep their objects, as sources do
    for papers in libraries:
        frag = parse_file("bib", SourceFile("bib/a.bib", Path("bib/a.bib"), _library_bib(papers)))
        parsed = [kept.get((p.key, p.title, p.year, p.authors)) or p for p in frag.parsed.papers]
        kept.update({(p.key, p.title, p.year, p.authors): p for p in parsed})
        fresh = build_corpus(ParsedSources(papers=list(parsed)), Diagnostics())
        again = build_corpus(ParsedSources(papers=list(parsed)), Diagnostics(), cache)
        assert _as_lists(again) == _as_lists(fresh)
