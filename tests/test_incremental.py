"""Incremental and parallel builds: after any single edit, the output is byte-identical to a clean
full build, and only the files whose bytes changed are written."""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sitetools import REPO, load_synth, record_renders

from ketsite.build import build
from ketsite.engine import Builder

synth = load_synth()

N = 60


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lib") / "lib"
    synth.generate(N, root)
    return root


@pytest.fixture
def library(pristine, tmp_path) -> Path:
    root = tmp_path / "lib"
    shutil.copytree(pristine, root, ignore=shutil.ignore_patterns(".ketsite-cache"))
    return root


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def full_build(root: Path, out: Path) -> dict[str, bytes]:
    result = build(root, out, cache=False, jobs=1)
    assert not result.diagnostics.has_errors, [d.format() for d in result.diagnostics.sorted()]
    return tree(out)


# --- edits ---------------------------------------------------------------------------------


def _bib(root: Path) -> Path:
    return sorted((root / "bib").glob("*.bib"))[0]


def _entries(text: str) -> list[tuple[int, int, str]]:
    """(start, end, key) of every entry of a generated .bib file."""
    return [(m.start(), m.end(), m.group(1))
            for m in re.finditer(r"@article\{([^,]+),\n.*?\n\}\n", text, re.S)]


def _unreferenced_key(root: Path) -> str:
    content = "\n".join(p.stem + "\n" + p.read_text() for p in (root / "content").rglob("*.yaml"))
    for _, _, key in _entries(_bib(root).read_text()):
        if key not in content:
            return key
    raise AssertionError("every paper is referenced")


def edit_bib_title(root: Path) -> None:
    path = _bib(root)
    text = path.read_text()
    start = text.index("  title", len(text) // 3)
    path.write_text(text[:start] + text[start:].replace("= {", "= {Edited: ", 1))


def edit_bib_authors(root: Path) -> None:
    path = _bib(root)
    text = path.read_text()
    start = text.index("  author", len(text) // 2)
    end = text.index("\n", start)
    path.write_text(text[:start] + "  author = {Newperson, Q. and Zyx{\\'e}, Ana}," + text[end:])


def edit_bib_add(root: Path) -> None:
    path = _bib(root)
    path.write_text(path.read_text() + (
        "\n@article{added2025entry,\n  author = {Added, A. and Second, B.},\n"
        "  title = {An added entry},\n  journal = {Pain},\n  year = {2025},\n}\n"))


def edit_bib_remove(root: Path) -> None:
    path = _bib(root)
    text = path.read_text()
    key = _unreferenced_key(root)
    for start, end, k in _entries(text):
        if k == key:
            path.write_text(text[:start] + text[end:])
            return
    raise AssertionError(key)


def edit_author_file(root: Path) -> None:
    text = _bib(root).read_text()
    for match in re.finditer(r"author\s*= \{([^\\}]+?)(?: and |\},)", text):
        first = match.group(1)
        if "," in first and "{" not in first:
            break
    family = first.split(",")[0].strip()
    folder = root / "content" / "authors"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test-author.yaml").write_text(
        f'name: "{family}, Quentin Test"\nvariants: ["{first.strip()}"]\n'
        'affiliation: "Test Hospital"\n')


def edit_condition_name(root: Path) -> None:
    path = root / "content" / "conditions" / "fibromyalgia.yaml"
    path.write_text(path.read_text().replace("name: Fibromyalgia", "name: Fibromyalgia syndrome"))


def edit_condition_papers(root: Path) -> None:
    path = root / "content" / "conditions" / "migraine.yaml"
    path.write_text(path.read_text() + f"  - {_unreferenced_key(root)}\n")


def edit_review_summary(root: Path) -> None:
    path = sorted((root / "content" / "reviews").glob("*.yaml"))[0]
    path.write_text(path.read_text().replace("summary: >-\n  ", "summary: >-\n  Edited. ", 1))


def edit_review_references(root: Path) -> None:
    path = sorted((root / "content" / "reviews").glob("*.yaml"))[0]
    text = path.read_text()
    head, _, rest = text.partition("references:\n")
    refs, sep, tail = rest.partition("citing:\n")
    lines = refs.splitlines(keepends=True)
    path.write_text(head + "references:\n" + "".join(reversed(lines)) + sep + tail)


def edit_annotation(root: Path) -> None:
    path = sorted((root / "content" / "papers").glob("*.yaml"))[0]
    text = path.read_text()
    text = re.sub(r"direction: [\w-]+", "direction: harm", text)
    path.write_text(re.sub(r"design: [\w-]+", "design: case-report", text))


def edit_annotation_add(root: Path) -> None:
    key = _unreferenced_key(root)
    (root / "content" / "papers" / f"{key}.yaml").write_text(
        "design: meta-analysis\ndirection: benefit\nconditions: [migraine]\n"
        "finding: \"Pooled benefit.\"\n")


def edit_annotation_remove(root: Path) -> None:
    sorted((root / "content" / "papers").glob("*.yaml"))[-1].unlink()


def edit_template(root: Path) -> None:
    folder = root / "templates"
    folder.mkdir(exist_ok=True)
    base = (REPO / "templates" / "base.html").read_text()
    assert "</footer>" in base
    (folder / "base.html").write_text(base.replace("</footer>", "<p>Edited.</p></footer>", 1))


def edit_config(root: Path) -> None:
    path = root / "ketsite.yaml"
    path.write_text(path.read_text().replace("title: Synthetic", "title: Edited synthetic"))


EDITS: dict[str, Callable[[Path], None]] = {
    "bib-title": edit_bib_title,
    "bib-authors": edit_bib_authors,
    "bib-add-entry": edit_bib_add,
    "bib-remove-entry": edit_bib_remove,
    "author-file": edit_author_file,
    "condition-name": edit_condition_name,
    "condition-papers": edit_condition_papers,
    "review-summary": edit_review_summary,
    "review-references": edit_review_references,
    "annotation": edit_annotation,
    "annotation-add": edit_annotation_add,
    "annotation-remove": edit_annotation_remove,
    "template": edit_template,
    "config": edit_config,
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_incremental_build_after_an_edit_equals_a_full_build(library, tmp_path, name):
    out = tmp_path / "site"
    first = build(library, out, incremental=True, jobs=1)
    assert first.mode == "full" and not first.diagnostics.has_errors
    before = tree(out)
    EDITS[name](library)
    result = build(library, out, incremental=True, jobs=1)
    assert not result.diagnostics.has_errors, [d.format() for d in result.diagnostics.sorted()]
    after = tree(out)
    expected = full_build(library, tmp_path / "clean")
    assert after.keys() == expected.keys()
    assert [p for p in expected if after[p] != expected[p]] == []
    assert result.pages == sum(p.endswith(".html") for p in expected)  # as the CLI reports it
    changed = {p for p in expected if before.get(p) != expected[p]}
    assert changed, "the edit changed nothing: the test would prove nothing"
    if name not in ("template", "config"):
        # Only the pages whose bytes differ are rewritten, and pages that vanished are removed.
        assert result.mode == "incremental"
        assert set(result.written) == changed
        assert set(result.removed) == before.keys() - expected.keys()
        if name != "bib-remove-entry":  # which moves the line of every later entry (Paper.loc)
            assert result.rendered < len(expected) / 2


def test_a_plain_build_between_incremental_ones_is_not_missed(library, tmp_path):
    """``build --incremental``, an edit, a plain ``build`` (which saves no state), the edit
    undone, ``build --incremental`` again: the saved state describes a folder that is gone, so
    the last build must not trust it (it did, and kept the edited title in 30 files)."""
    out = tmp_path / "site"
    assert build(library, out, incremental=True, jobs=1).mode == "full"
    path = _bib(library)
    original = path.read_text()
    edit_bib_title(library)
    assert not build(library, out, jobs=1).diagnostics.has_errors  # plain: replaces the folder
    path.write_text(original)
    result = build(library, out, incremental=True, jobs=1)
    assert not result.diagnostics.has_errors
    assert result.mode == "full"  # the folder is not the one the state describes
    assert tree(out) == full_build(library, tmp_path / "clean")
    edit_bib_title(library)  # and the state saved now is trusted again
    assert build(library, out, incremental=True, jobs=1).mode == "incremental"
    assert tree(out) == full_build(library, tmp_path / "clean-2")


def test_in_process_rebuilds_follow_a_series_of_edits(library, tmp_path):
    """The path `ketsite serve` takes: one Builder, rebuilt after each edit, state in memory."""
    out = tmp_path / "site"
    builder = Builder(library, out, jobs=1)
    assert builder.build().mode == "full"
    for name in ("bib-title", "annotation", "condition-papers", "bib-authors", "review-references"):
        EDITS[name](library)
        result = builder.build()
        assert result.mode == "incremental", name
        assert result.parsed_files and len(result.parsed_files) == 1, result.parsed_files
        assert tree(out) == full_build(library, tmp_path / f"clean-{name}"), name


@pytest.mark.parametrize("workers", [False, True])
def test_saved_state_follows_a_series_of_edits(library, tmp_path, monkeypatch, workers):
    """The path `ketsite build --incremental` takes: each build a new Builder that knows only the
    state the last one saved (what every route read, folded with the reads of the routes it
    rendered), and each writes exactly the files whose bytes change. With ``workers``, as the
    command line runs it on a large library: worker processes render the pages while the parent
    makes the library-wide files, and the state is saved in the background."""
    from ketsite import engine

    out = tmp_path / "site"
    if workers:
        monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)  # this small library: in workers

    def run() -> engine.BuildResult:
        builder = Builder(library, out, jobs=2 if workers else 1, persist_state=True,
                          background_save=workers)
        result = builder.build()
        with engine.state_lock(builder.state_path(), exclusive=False):  # saved
            return result

    assert run().mode == "full"
    for name in ("bib-title", "annotation", "bib-authors", "condition-papers", "bib-title",
                 "review-references", "annotation-add"):
        before = tree(out)
        EDITS[name](library)
        result = run()
        expected = full_build(library, tmp_path / f"clean-{name}")
        assert result.mode == "incremental", name
        assert tree(out) == expected, name
        assert set(result.written) == {p for p in expected if before.get(p) != expected[p]}, name


def test_unchanged_sources_render_nothing(library, tmp_path):
    out = tmp_path / "site"
    build(library, out, incremental=True, jobs=1)
    result = build(library, out, incremental=True, jobs=1)
    assert (result.mode, result.rendered, result.written, result.parsed_files) == \
        ("incremental", 0, [], [])


def test_a_failed_incremental_build_leaves_the_output_and_recovers(library, tmp_path):
    out = tmp_path / "site"
    build(library, out, incremental=True, jobs=1)
    before = tree(out)
    path = _bib(library)
    good = path.read_text()
    path.write_text(good.replace("  year", "  year = {20x1},\n  yearx", 1))
    result = build(library, out, incremental=True, jobs=1)
    assert result.diagnostics.has_errors
    assert tree(out) == before
    path.write_text(good)
    edit_bib_title(library)
    result = build(library, out, incremental=True, jobs=1)
    assert not result.diagnostics.has_errors
    assert tree(out) == full_build(library, tmp_path / "clean")


def test_a_write_failing_midway_leaves_no_state_to_trust(library, tmp_path, monkeypatch):
    """A process that keeps its state (`serve`, here writing to a folder) updates the last
    build's digests in place as it writes; when a write fails after some files are written, it
    keeps no state, and its next build is a full one that gives the right site."""
    from ketsite import engine
    from ketsite.output import OutputError

    out = tmp_path / "site"
    builder = Builder(library, out, jobs=1)
    builder.build()
    real, calls = engine.replace_file, []

    def failing(folder, path, data):  # the second file of the rebuild cannot be written
        calls.append(path)
        if len(calls) == 2:
            raise OutputError(f"cannot write {path}: disk full")
        real(folder, path, data)

    monkeypatch.setattr(engine, "replace_file", failing)
    edit_bib_title(library)
    with pytest.raises(OutputError):
        builder.build()
    assert builder.state is None
    monkeypatch.setattr(engine, "replace_file", real)
    assert builder.build().mode == "full"
    assert tree(out) == full_build(library, tmp_path / "clean")


def test_deleted_output_file_is_rewritten(library, tmp_path):
    out = tmp_path / "site"
    build(library, out, incremental=True, jobs=1)
    victim = next(p for p in sorted(out.rglob("index.html")) if "papers/" in p.as_posix())
    victim.unlink()
    edit_bib_title(library)
    build(library, out, incremental=True, jobs=1)
    assert tree(out) == full_build(library, tmp_path / "clean")


def test_parallel_build_is_byte_identical_to_serial(library, tmp_path):
    serial = Builder(library, tmp_path / "serial", jobs=1, cache=False)
    serial.build(incremental=False)
    parallel = Builder(library, tmp_path / "parallel", jobs=2, cache=False, parallel_min=1)
    result = parallel.build(incremental=False)
    assert result.workers == 2
    a, b = tree(tmp_path / "serial"), tree(tmp_path / "parallel")
    assert a.keys() == b.keys() and len(a) > 100
    assert [p for p in a if a[p] != b[p]] == []
    # Read tracking from the workers reaches the parent: an incremental build follows correctly.
    edit_bib_title(library)
    assert parallel.build().mode == "incremental"
    assert tree(tmp_path / "parallel") == full_build(library, tmp_path / "clean")


def test_a_full_render_sets_its_results_aside_from_the_collector_and_gives_them_back(
        library, tmp_path, monkeypatch):
    """Every ``FREEZE_EVERY`` routes a full render freezes what it keeps (the collector's oldest
    generation walked it again and again); the build unfreezes everything at the end, and the
    site is the same."""
    import gc

    from ketsite import engine

    monkeypatch.setattr(engine, "FREEZE_EVERY", 5)
    freezes: list[int] = []
    real_freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1) or real_freeze())
    before = gc.get_freeze_count()
    result = Builder(library, tmp_path / "site", jobs=1, cache=False).build()
    assert result.rendered > 50
    assert len(freezes) > result.rendered // 5  # once for the model, then every 5 routes
    assert gc.get_freeze_count() == before
    assert tree(tmp_path / "site") == full_build(library, tmp_path / "clean")


def test_parse_cache_is_used_and_invalidated_by_content(library, tmp_path):
    out = tmp_path / "site"
    first = Builder(library, out, jobs=1).build(incremental=False)
    assert len(first.parsed_files) > 10
    again = Builder(library, out, jobs=1).build(incremental=False)  # a new process would do this
    assert again.parsed_files == []
    edit_bib_title(library)
    third = Builder(library, out, jobs=1).build(incremental=False)
    assert third.parsed_files == [_bib(library).relative_to(library).as_posix()]
    assert tree(out) == full_build(library, tmp_path / "clean")


def test_parse_cache_keeps_only_the_sources_as_they_are(library, tmp_path, monkeypatch):
    """The YAML fragments on disk (one pack per content folder) are those of the files as they
    are now: an edited file's old fragment is dropped by the build that parses it again. A build
    that parses no YAML file (a BibTeX edit, in a new process) does not read the packs, and
    parses again only the edited entry of the .bib file."""
    import pickle

    from ketsite import cache

    out = tmp_path / "site"
    build(library, out, jobs=1, incremental=True)
    pack = library / ".ketsite-cache" / "parsed" / "conditions.pack.pickle"
    before = set(pickle.loads(pack.read_bytes()))
    edit_condition_name(library)
    build(library, out, jobs=1, incremental=True)
    after = set(pickle.loads(pack.read_bytes()))
    assert len(after) == len(before) and len(after - before) == 1  # one replaced, none kept
    read: list[str] = []
    real = cache.read_pickle
    monkeypatch.setattr(cache, "read_pickle", lambda path: read.append(path.name) or real(path))
    parsed: list[str] = []  # and of the edited .bib file, only the edited entry is parsed again
    parse = cache.parse_file
    monkeypatch.setattr(cache, "parse_file", lambda k, s: parsed.append(s.text) or parse(k, s))
    edit_bib_title(library)
    result = build(library, out, jobs=1, incremental=True)
    assert result.mode == "incremental" and not any("pack" in name for name in read), read
    assert len(parsed) == 1 and parsed[0].count("@article") == 1 and "Edited: " in parsed[0]
    assert tree(out) == full_build(library, tmp_path / "clean")


def test_synthetic_library_is_deterministic_and_valid(pristine, tmp_path):
    again = tmp_path / "again"
    synth.generate(N, again)
    assert tree(again) == tree(pristine)
    other = tmp_path / "other"
    synth.generate(N + 1, other)
    assert tree(other) != tree(pristine)
    text = "\n".join(p.read_text() for p in (pristine / "bib").glob("*.bib"))
    assert "{\\" in text and re.search(r"[^\x00-\x7f]", text)  # LaTeX accents and raw Unicode
    assert len(list((pristine / "content" / "conditions").glob("*.yaml"))) == 15


def test_in_memory_builder_follows_edits(library, tmp_path):
    """`ketsite serve` keeps the site in memory: the same engine, updating a dict of files."""
    builder = Builder(library, None, jobs=1)
    assert builder.build().mode == "full"
    for name in ("bib-authors", "annotation-remove", "condition-name"):
        EDITS[name](library)
        result = builder.build()
        assert result.mode == "incremental" and 0 < result.rendered < 100, (name, result.rendered)
        assert builder.files == full_build(library, tmp_path / f"clean-{name}"), name


def test_big_dirty_pages_rendered_by_workers_give_the_same_bytes(library, tmp_path, monkeypatch):
    """A few dirty pages that were big last time (the library-wide lists) go to worker processes,
    biggest first; the result is the same as rendering them here."""
    from ketsite import engine

    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 1)
    builder = Builder(library, tmp_path / "site", jobs=2, parallel_min=10**9)
    builder.build()
    edit_bib_title(library)
    result = builder.build()
    assert result.mode == "incremental" and result.rendered > 1
    assert tree(tmp_path / "site") == full_build(library, tmp_path / "clean")


def test_parallel_parse_gives_what_a_serial_parse_gives(library, tmp_path, monkeypatch):
    """Sources parsed in worker processes, in batches of about equal size, come back in source
    order with the same diagnostics, a broken entry's included, as when parsed here."""
    from ketsite import cache
    from ketsite.diagnostics import Diagnostics
    from ketsite.sources.discover import discover

    bib = _bib(library)
    bib.write_text(bib.read_text(encoding="utf-8") + "\n@article{broken,\n  title = {x\n",
                   encoding="utf-8")
    monkeypatch.setattr(cache, "PARALLEL_MIN_BYTES", 1)

    def parsed(workers: int) -> tuple[object, list[str]]:
        diags = Diagnostics()
        out = cache.parse_all(discover(library, diags), diags, None, workers)
        return out, [d.format() for d in diags.items]

    serial, parallel = parsed(1), parsed(2)
    assert any("broken" in d or bib.name in d for d in serial[1])
    assert parallel == serial


def test_parse_batches_share_the_bytes_evenly():
    """Forty big files and a thousand small ones: every file in one batch, the big ones spread
    over batches rather than all in the first (one worker parsing them alone at the end)."""
    from ketsite.cache import batches_by_size

    sizes = [100_000] * 40 + [500] * 1000
    groups = batches_by_size(sizes, 16)
    assert sorted(i for g in groups for i in g) == list(range(len(sizes)))
    totals = [sum(sizes[i] for i in g) for g in groups]
    assert len(groups) >= 16 and max(totals) <= 2 * sum(sizes) // 16 + 100_000
    assert max(sum(1 for i in g if sizes[i] == 100_000) for g in groups) <= 3
    assert batches_by_size([], 4) == [] and batches_by_size([0, 0], 4) == [[0, 1]]


def test_cli_incremental_build_reports_what_it_rendered(library, tmp_path):
    import subprocess

    argv = [sys.executable, "-m", "ketsite.cli", "build", "--src", str(library),
            "--out", str(tmp_path / "site"), "--incremental", "--jobs", "1"]
    first = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "incremental:" not in first.stdout  # the first one is a full build
    edit_review_summary(library)
    second = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    match = re.search(r"incremental: (\d+) rendered, (\d+) written, (\d+) removed", second.stdout)
    assert match and 0 < int(match.group(2)) <= int(match.group(1)) < 50, second.stdout
    assert tree(tmp_path / "site") == full_build(library, tmp_path / "clean")
    bad = subprocess.run(argv[:-2] + ["--jobs", "0"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "--jobs" in bad.stderr


class _SlowToPickle:
    """Pickles as "saved" once ``flag`` exists (or after 10 s): a state as slow to save as we
    like."""

    def __init__(self, flag: Path) -> None:
        self.flag = flag

    def __reduce__(self):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 10  # saved in the foreground, the test fails, not hangs
        while not self.flag.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return (str, ("saved",))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="saved in the foreground without fork")
def test_the_state_is_saved_after_the_build_returns_and_the_next_build_waits_for_it(tmp_path):
    import pickle

    from ketsite.engine import STATE_FORMAT, Session, save_in_background, state_lock

    path = tmp_path / "cache" / "state-x.pickle"
    flag = tmp_path / "go"
    session = Session(_SlowToPickle(flag), *[None] * 6)  # type: ignore[arg-type]
    save_in_background(path, session, background=True)
    assert not path.exists()  # returned while the forked process is still pickling
    flag.touch()
    with state_lock(path, exclusive=False):  # as the next build: waits until it is written
        fmt, saved = pickle.loads(path.read_bytes())
    assert fmt == STATE_FORMAT and saved.state == "saved"


@pytest.mark.parametrize("name", sorted(EDITS))
def test_long_running_builder_follows_every_kind_of_edit(library, tmp_path, name):
    """`ketsite serve` keeps one Builder: its caches of read files and resolved authors must never
    hide an edit. Files are made older than a second first, so the read cache trusts them."""
    old = 1_600_000_000
    for path in library.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    builder = Builder(library, None, jobs=1)
    assert builder.build().mode == "full"
    assert builder.build().rendered == 0
    assert builder.reads.hits > 0 and builder.corpus_cache.resolved is not None
    EDITS[name](library)
    result = builder.build()
    assert not result.diagnostics.has_errors, [d.format() for d in result.diagnostics.sorted()]
    assert builder.files == full_build(library, tmp_path / "clean"), name


def test_read_cache_rereads_a_file_rewritten_with_the_same_size(tmp_path):
    from ketsite.diagnostics import Diagnostics
    from ketsite.sources.discover import ReadCache, read_source

    path = tmp_path / "x.yaml"
    path.write_text("name: a\n")
    cache = ReadCache()
    assert read_source(path, tmp_path, Diagnostics(), cache).text == "name: a\n"
    assert cache.files == {}, "a file modified just now is not trusted by its stat"
    os.utime(path, (1_600_000_000, 1_600_000_000))
    read_source(path, tmp_path, Diagnostics(), cache)
    assert read_source(path, tmp_path, Diagnostics(), cache).text == "name: a\n"
    assert (cache.reads, cache.hits) == (2, 1)
    path.write_text("name: b\n")  # same size, new times
    assert read_source(path, tmp_path, Diagnostics(), cache).text == "name: b\n"
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: \xff\n")
    os.utime(bad, (1_600_000_000, 1_600_000_000))
    for _ in range(2):  # a cached file's problems are reported every time
        diags = Diagnostics()
        read_source(bad, tmp_path, diags, cache)
        assert [d.location.line for d in diags.items] == [1]


def test_deferred_data_files_follow_the_pages(library, tmp_path):
    """`ketsite serve` shows the edited pages first and regenerates the data files after."""
    builder = Builder(library, None, jobs=1)
    builder.build()
    before = dict(builder.files)
    edit_bib_title(library)
    result = builder.build(defer=lambda route: route.template is None)
    expected = full_build(library, tmp_path / "clean")
    pages = {p for p in expected if p.endswith(".html")}
    assert [p for p in pages if builder.files[p] != expected[p]] == []
    late = [p for p in expected if builder.files.get(p) != expected[p]]
    assert late and all(not p.endswith(".html") for p in late), late
    assert all(p in builder.files for p in expected), "a new file is never deferred"
    assert all(builder.files[p] == before[p] for p in late)  # still the previous build's
    assert builder.deferred and result.rendered > 0
    done = builder.finish_deferred()
    assert set(done.written) == set(late)
    assert builder.files == expected and not builder.deferred
    edit_bib_authors(library)  # and the next rebuild starts from a consistent state
    builder.build(defer=lambda route: route.template is None)
    builder.build()  # finishes what the previous build deferred first
    assert builder.files == full_build(library, tmp_path / "clean2")


def test_data_files_made_in_the_parent_start_no_workers(library, tmp_path, monkeypatch):
    """After an edit in `serve`, most of the deferred data files are made by the process that
    keeps their parts (the library-wide files); workers are started only when the others (the
    feed, the edited paper's export files) are big, whatever the size of the library-wide ones."""
    from ketsite import engine
    from ketsite.generators import in_parent
    from ketsite.serve import _is_data_file

    builder = Builder(library, None, jobs=2)
    builder.build()
    sizes = builder.state.sizes
    edit_bib_title(library)
    builder.build(defer=_is_data_file)
    later = builder.deferred[0][1]
    away = sum(sizes[r.path] for r in later if not in_parent(r))
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", away + 1)
    assert sum(sizes[r.path] for r in later) > engine.PARALLEL_MIN_BYTES
    forks: list[int] = []
    real = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real())
    done = builder.finish_deferred()
    assert forks == [] and "data/graph.json" in done.written
    assert builder.files == full_build(library, tmp_path / "clean")


# --- whole-library files from per-paper parts (graph, search index, library exports) -----------

LIBRARY_WIDE = ("data/graph.json", "assets/search-index.js", "data/library.bib",
                "data/library.ris", "data/library.json", "search/index.html")


def test_one_process_rebuilding_after_every_kind_of_edit_equals_clean_builds(library, tmp_path):
    """`ketsite serve` keeps each paper's part of the library-wide files between builds (a
    parallel build makes those files in the parent while workers render the pages); after any
    edit (full rebuilds too: template, config) every file is the same as a clean build's."""
    builder = Builder(library, None, jobs=2, parallel_min=1)
    assert builder.build().mode == "full"
    for name in sorted(EDITS):
        EDITS[name](library)
        result = builder.build()
        assert not result.diagnostics.has_errors, name
        assert builder.files is not None
        expected = full_build(library, tmp_path / f"clean-{name}")
        assert [p for p in LIBRARY_WIDE if builder.files[p] != expected[p]] == [], name
        assert builder.files == expected, name


@pytest.mark.parametrize(("first_jobs", "process"), [(1, "same"), (2, "same"), (2, "new")])
def test_a_one_paper_edit_makes_only_that_papers_parts_again(library, tmp_path, monkeypatch,
                                                             first_jobs, process):
    """After a first build, serial or parallel, a one-paper edit makes that paper's parts of the
    library-wide files again, and no other: in the process that built (``serve``), and in a new
    one (``build --incremental``, from the state the first build saved)."""
    from ketsite import graph, search
    from ketsite.scholarly import exports

    if process == "same":
        builder = Builder(library, None, jobs=first_jobs, parallel_min=1)
        builder.build()
    else:
        out = tmp_path / "site"
        Builder(library, out, jobs=first_jobs, parallel_min=1, persist_state=True).build()
        builder = Builder(library, out, persist_state=True)  # knows nothing but the saved state
    builder.jobs = 1  # so that every part made is counted here
    made: list[str] = []

    def counting(module, name):
        real = getattr(module, name)

        def wrapper(*args):
            made.append(name)
            return real(*args)
        monkeypatch.setattr(module, name, wrapper)

    counting(graph, "part_text")  # a node with its edges
    counting(search, "_document_text")  # a search document
    for kind, (part, join) in list(exports.PARTS.items()):  # a record of each export format
        monkeypatch.setitem(exports.PARTS, kind, (
            lambda paper, _part=part, _kind=kind: made.append(_kind) or _part(paper), join))
    edit_bib_title(library)
    result = builder.build()
    assert result.mode == "incremental"
    # The edited paper's node and search document (its title is all that changed), and its
    # record in each export format: once, whatever the number of files listing it. A new process
    # has the parts by runs of a few dozen items (see Pieces.live): it makes the edited paper's
    # run again, the papers of this small library, still each part once.
    parts = ["_document_text", "export-bib", "export-csl", "export-ris", "part_text"]
    if process == "same":
        assert sorted(made) == parts, made
    else:
        papers = len(builder.state.corpus.papers)
        assert sorted(set(made)) == parts and 1 < len(made) <= len(parts) * papers, made
    expected = full_build(library, tmp_path / "clean")
    assert (builder.files if process == "same" else tree(tmp_path / "site")) == expected


def test_a_title_edit_that_reorders_the_library_leaves_the_sitemap_alone(library, tmp_path,
                                                                         monkeypatch):
    """Papers are listed by year and title, so a title edit reorders the library; the route table
    (which the sitemap reads whole) is in a fixed order, so the sitemap is not rendered again."""
    from ketsite.engine import RouteRenderer

    builder = Builder(library, None, jobs=1)
    builder.build()
    rendered: list[str] = []
    render = RouteRenderer.__call__

    def spy(self, route):  # type: ignore[no-untyped-def]
        rendered.append(route.path)
        return render(self, route)

    monkeypatch.setattr(RouteRenderer, "__call__", spy)
    path = _bib(library)
    text = path.read_text()
    start = text.index("  title", len(text) // 2)
    path.write_text(text[:start] + text[start:].replace("= {", "= {Aaaa first ", 1))
    result = builder.build()
    assert result.mode == "incremental" and rendered
    assert "sitemap.xml" not in rendered
    assert builder.files == full_build(library, tmp_path / "clean")


def test_a_title_edit_renders_only_the_condition_pages_listing_that_paper(library, tmp_path,
                                                                          monkeypatch):
    """Condition pages order their matrix by library order read from their own papers only; were
    they to read the whole library, every condition page would follow every edit."""
    builder = Builder(library, None, jobs=1)
    builder.build()
    rendered = record_renders(monkeypatch)
    edit_bib_title(library)
    result = builder.build()
    assert result.mode == "incremental" and rendered
    edited = {k for k, p in builder.state.corpus.papers.items() if p.title.startswith("Edited: ")}
    assert len(edited) == 1
    showing = {c for c, keys in builder.state.corpus.papers_by_condition.items()
               if edited & set(keys) or any(
                   edited & set(builder.state.corpus.cites.get(r.paper, ()))
                   for r in builder.state.corpus.reviews.values() if c in r.conditions)}
    conditions = {ident for kind, ident in rendered if kind == "condition"}
    assert conditions <= showing and len(conditions) < len(builder.state.corpus.conditions)
    assert builder.files == full_build(library, tmp_path / "clean")


def test_long_running_builder_reports_a_path_clash_made_by_an_edit(library, tmp_path):
    """A rebuild skips the check for clashing output paths when no path moved since the last
    build; an edit that adds a page onto another's path must still be an error, and fixing it
    builds again."""
    builder = Builder(library, None, jobs=1)
    assert not builder.build().diagnostics.has_errors
    bib = _bib(library)
    text = bib.read_text()
    added = "".join(f"\n@article{{{key},\n  author = {{Clash, C.}},\n  title = {{Clash {key}}},\n"
                    "  journal = {Journal},\n  year = {2020},\n}\n"
                    for key in ("clash:2020", "clash-2020"))  # both at papers/clash-2020/
    bib.write_text(text + added)
    messages = [d.format() for d in builder.build().diagnostics.sorted()]
    clash = "would be written to 'papers/clash-2020/index.html'"
    assert any(clash in m for m in messages), messages
    bib.write_text(text)
    result = builder.build()
    assert not result.diagnostics.has_errors
    assert builder.files == full_build(library, tmp_path / "clean")


@pytest.mark.parametrize("jobs", [1, 2])
def test_formatted_references_kept_are_those_the_last_full_build_used(library, tmp_path, jobs):
    """Formatted references are kept between builds (``.ketsite-cache/memo.pickle``) under a hash
    of the paper. An incremental build adds the edited paper's; a full build, serial or across
    workers, keeps only what it used, not every version of a paper ever formatted."""
    from ketsite.cache import read_pickle
    from ketsite.engine import state_lock

    out = tmp_path / "site"
    memo = library / ".ketsite-cache" / "memo.pickle"
    Builder(library, out, jobs=jobs, parallel_min=1, persist_state=True).build()
    first = read_pickle(memo)
    assert isinstance(first, dict) and len(first) == N  # one per paper: its cite panel
    edit_bib_title(library)
    # as `build --incremental` does: the memo is saved with the state, by a forked process
    builder = Builder(library, out, persist_state=True, background_save=True)
    assert builder.build().mode == "incremental"
    with state_lock(builder.state_path(), exclusive=False):  # waits until it has saved
        assert len(read_pickle(memo)) == N + 1  # the edited paper's, and its old one still
    Builder(library, out, jobs=jobs, parallel_min=1).build(incremental=False)
    kept = read_pickle(memo)
    assert len(kept) == N and len(set(kept) - set(first)) == 1


def test_a_damaged_state_file_means_a_full_build_never_a_failed_one(library, tmp_path):
    """The saved state is a cache: cut short (a full disk, a killed writer), it is ignored."""
    out = tmp_path / "site"
    first = Builder(library, out, persist_state=True)
    first.build()
    path = first.state_path()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    edit_bib_title(library)
    result = Builder(library, out, persist_state=True).build()
    assert result.mode == "full" and not result.diagnostics.has_errors
    assert tree(out) == full_build(library, tmp_path / "clean")


def test_a_condition_that_gains_its_first_paper_gets_its_export_files(library, tmp_path):
    """A condition with no papers has no export files; its first paper brings them, in an
    incremental build as in a full one."""
    out = tmp_path / "site"
    empty = library / "content" / "conditions" / "new-condition.yaml"
    empty.write_text("name: New condition\ndescription: Nothing yet.\npapers: []\n")
    assert not build(library, out, incremental=True, jobs=1).diagnostics.has_errors
    assert not list((out / "conditions" / "new-condition").glob("new-condition.*"))
    empty.write_text("name: New condition\ndescription: One paper.\n"
                     f"papers:\n  - {_unreferenced_key(library)}\n")
    result = build(library, out, incremental=True, jobs=1)
    assert result.mode == "incremental" and not result.diagnostics.has_errors
    assert tree(out) == full_build(library, tmp_path / "full")
    assert {p.suffix for p in (out / "conditions" / "new-condition").glob("new-condition.*")} == {
        ".bib", ".ris", ".json"}
