"""The citeproc-py speed patches (ketsite/scholarly/citeproc_speed.py) change no formatted string.

Every reference is formatted twice, in both styles and in the same order: here, with the speed
patches, and in a subprocess running plain citeproc-py with only ketsite's date fix
(``KETSITE_CITEPROC_SPEEDUPS=0``). The items are the bundled papers, the scratch project's (a
corporate author, markup in a title, a full date), a third of the bundled papers reshaped to reach
other branches of the styles (other item types, editors instead of authors, no date, a language…),
and a synthetic library of a few hundred papers from benchmarks/synth.py. The patched side
formats each item in both styles at once (``format_all_item``: the item read into citeproc-py
once), the plain side one style at a time (``format_item``).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap

import pytest
from scratch import make_scratch_project
from sitetools import REPO, load_synth

from ketsite.build import load_project
from ketsite.diagnostics import Diagnostics
from ketsite.scholarly import cite, citeproc_speed
from ketsite.scholarly.csl import CSL_TYPES, csl_item

synth = load_synth()

SYNTHETIC_PAPERS = 300

# Formats the items of argv[1] with ketsite's format_item, both styles, and prints them as
# [[html, text] per style] per item, with the citeproc-py methods the speed patches replaced.
FORMAT_SCRIPT = textwrap.dedent("""
    import json, sys
    from citeproc import model, source
    from ketsite.scholarly import cite

    def patched_methods():
        out = []
        for module in (model, source):
            for cls in vars(module).values():
                for name, value in (vars(cls).items() if isinstance(cls, type) else ()):
                    value = getattr(value, "fget", value)
                    where = getattr(value, "__module__", None) or type(value).__module__
                    if where == "ketsite.scholarly.citeproc_speed":
                        out.append(f"{cls.__name__}.{name}")
        return sorted(out)

    items = json.load(open(sys.argv[1], encoding="utf-8"))
    out = [[[r.html, r.text] for r in (cite.format_item(item, s) for s in cite.STYLES.values())]
           for item in items]
    json.dump({"patched": patched_methods(), "out": out}, sys.stdout, ensure_ascii=False)
""")


def _items_of(root) -> list[dict]:
    diags = Diagnostics()
    project = load_project(root, diags)
    assert not diags.has_errors, [d.format() for d in diags.sorted()]
    return [csl_item(paper) for paper in project.corpus.papers.values()]


def _variants(item: dict) -> list[dict]:
    """The item reshaped to take other paths through the two styles."""
    out = []

    def variant(suffix: str, **changes: object) -> dict:
        new = copy.deepcopy(item)
        new["id"] = f"{item['id']}-{suffix}"
        for key, value in changes.items():
            if value is None:
                new.pop(key, None)
            else:
                new[key] = value
        out.append(new)
        return new

    for csl_type in sorted(set(CSL_TYPES.values())):
        variant(csl_type, type=csl_type, publisher="Pain Press", **{"publisher-place": "Oslo"})
    authors = item.get("author", [])
    variant("edited", author=None, editor=authors[:3] or [{"family": "Editor", "given": "E."}])
    variant("translated", translator=authors[-2:], editor=authors[-2:])
    variant("anonymous", author=None)
    variant("undated", issued=None)
    variant("full-date", issued={"date-parts": [[2021, 11, 8]]}, accessed={
        "date-parts": [[2024, 2, 29]]}, URL="https://example.org/x")
    variant("range", issued={"date-parts": [[2019, 3], [2020, 5]]})
    variant("literal-date", issued={"literal": "in press"})
    variant("german", language="de", title=item["title"].lower())
    variant("many", author=(authors * 8)[:25] or None)
    variant("pages", page="e1234-e1240", issue="2-3", volume="12 Suppl 1")
    variant("punctuated", title=item["title"] + ".", **{"container-title": "J. Clin. Med."})
    variant("question", title=item["title"] + "?", publisher="Pain Press, Inc.")
    # Present but empty, or numeric or not: the same shape as other items (which variables,
    # which type), other values; the shape memos must not answer for these from those.
    variant("empty", page="", DOI="", issue="", volume="", **{"container-title": ""})
    variant("numeric", edition="2", number="A12", volume="7", issue="3")
    variant("not-numeric", edition="second", number="A-12", volume="Suppl", issue="3 Pt 2")
    variant("circa", issued={"date-parts": [[2019]], "circa": 1})
    variant("british", language="en-GB")
    return out


@pytest.fixture(scope="module")
def items(tmp_path_factory) -> list[dict]:
    bundled = _items_of(REPO)
    scratch = _items_of(make_scratch_project(tmp_path_factory.mktemp("scratch")))
    synthetic_root = tmp_path_factory.mktemp("synth")
    synth.generate(SYNTHETIC_PAPERS, synthetic_root)
    synthetic = _items_of(synthetic_root)
    assert len(bundled) > 40 and len(scratch) > 3 and len(synthetic) == SYNTHETIC_PAPERS
    variants = [v for item in bundled[::3] for v in _variants(item)]
    return [*bundled, *scratch, *variants, *synthetic]


def _format_in_subprocess(items: list[dict], tmp_path, env: dict[str, str], prelude: str = ""):
    items_file = tmp_path / "items.json"
    items_file.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", prelude + FORMAT_SCRIPT, str(items_file)],
        capture_output=True, text=True, encoding="utf-8", env={**os.environ, **env}, cwd=REPO,
        timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_speed_patches_are_active_for_the_installed_citeproc():
    assert citeproc_speed.installed_version() == citeproc_speed.CITEPROC_VERSION, (
        "citeproc-py was upgraded: the speed patches are off. Check them against the new "
        "release, then update CITEPROC_VERSION (tests/test_cite_speed.py compares the output)."
    )
    assert citeproc_speed.apply() and cite.speedups_enabled()


def test_patched_citeproc_formats_every_reference_exactly_as_plain_citeproc(items, tmp_path):
    assert citeproc_speed.apply(), "the speed patches are off: nothing to compare"
    plain = _format_in_subprocess(items, tmp_path, {"KETSITE_CITEPROC_SPEEDUPS": "0"})
    assert plain["patched"] == []
    fast = [[[r.html, r.text] for r in cite.format_all_item(item)] for item in items]
    assert len(plain["out"]) == len(fast) == len(items) > 600
    differing = [(item["id"], p, f) for item, p, f in zip(items, plain["out"], fast, strict=True)
                 if p != f]
    assert not differing, differing[:5]
    # Not a vacuous comparison: complete references, nearly all different from each other.
    assert len({(apa[0], vancouver[0]) for apa, vancouver in fast}) > 0.75 * len(items)
    assert all(html.strip() and text.strip() for pair in fast for html, text in pair)


def test_the_patches_format_alike_in_any_order(items, tmp_path, monkeypatch):
    """The speed patches keep answers per shape of item (type, which variables, language),
    learnt from the first item of each shape: formatted from the last item to the first, in a
    new process, or forgetting them every few shapes, every reference is the same as above
    (where it is compared with plain citeproc-py's)."""
    fast = [[[r.html, r.text] for r in cite.format_all_item(item)] for item in items]
    backwards = _format_in_subprocess(items[::-1], tmp_path, {})
    assert "Group.process" in backwards["patched"]
    assert backwards["out"][::-1] == fast
    monkeypatch.setattr(citeproc_speed, "_MAX_SHAPES", 3)
    citeproc_speed._SHAPES.clear()
    forgetful = [[[r.html, r.text] for r in cite.format_all_item(item)] for item in items]
    assert len(citeproc_speed._SHAPES) <= 3
    assert forgetful == fast


def test_another_citeproc_release_gets_no_patches(items, tmp_path):
    """Under a citeproc-py version the patches were not written for, nothing is patched, and the
    references are plain citeproc-py's."""
    sample = items[:: max(1, len(items) // 60)]
    other_version = textwrap.dedent("""
        import importlib.metadata
        _version = importlib.metadata.version
        importlib.metadata.version = (
            lambda name: "0.10.0" if name == "citeproc-py" else _version(name))
    """)
    other = _format_in_subprocess(sample, tmp_path, {}, other_version)
    plain = _format_in_subprocess(sample, tmp_path, {"KETSITE_CITEPROC_SPEEDUPS": "0"})
    patched = _format_in_subprocess(sample, tmp_path, {})
    assert other["patched"] == plain["patched"] == []
    assert "Text.process" in patched["patched"] and "CitationItem.reference" in patched["patched"]
    assert other["out"] == plain["out"] == patched["out"]


def test_formatting_leaves_the_style_trees_as_parsed(items):
    """Plain citeproc-py adds an element to Vancouver's ``cs:names`` for every reference it
    formats, and searches among them on the next: at ten thousand papers each reference took
    several times as long as the first (a quadratic build). The patched process tidies up."""
    assert citeproc_speed.apply()

    def elements() -> dict[str, int]:
        return {s.file: sum(1 for _ in cite._style(s.file).root.iter())
                for s in cite.STYLES.values()}

    before = elements()
    for item in items[:200]:
        for style in cite.STYLES.values():
            cite.format_item(item, style)
    assert elements() == before
