"""The reads of every route as ``build --incremental`` saves them: the same answers as the dict of
sets they replace on disk, through edits and a save and load."""

from __future__ import annotations

import pickle

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ketsite.site.reads import ReadIndex, RouteReads, decode, encode, saved

NAMES = st.sampled_from(["papers", "authors", "routes", "route-pages", "cites"])
TEXT = st.text(min_size=0, max_size=6)  # control characters too: \x1e, \x1f
DEPS = st.tuples(NAMES, st.one_of(TEXT, st.tuples(st.sampled_from(["paper", "author"]), TEXT)))
KEYS = st.tuples(st.sampled_from(["paper", "author", "export-bib"]), TEXT)
TABLES = st.dictionaries(KEYS, st.frozensets(DEPS, max_size=6), max_size=25)


@given(DEPS)
def test_a_read_survives_its_encoding(dep):
    assert decode(encode(dep)) == dep


@settings(max_examples=80, deadline=None)
@given(TABLES, TABLES, st.lists(KEYS, max_size=5), st.frozensets(DEPS, max_size=8),
       st.sampled_from([0, 1000]))
@example(  # a read of the index read again by a route rendered since, then folded together
    first={("paper", ""): frozenset({("papers", "")})},
    later={("paper", "0"): frozenset({("papers", "")})}, gone=[],
    changed=frozenset({("papers", "")}), fold_at=0)
def test_saved_reads_answer_as_the_dict_does(first, later, gone, changed, fold_at):
    """Saved, loaded, edited (routes rendered again, added, deleted), saved and loaded again —
    the edits folded into a new index, or kept on top of the old one: every lookup and the
    routes that read any changed entry are what the plain dict gives."""
    import ketsite.site.reads as module

    saved_fold_at, module.FOLD_AT = module.FOLD_AT, fold_at
    try:
        _check_saved_reads(first, later, gone, changed)
    finally:
        module.FOLD_AT = saved_fold_at


def _check_saved_reads(first, later, gone, changed):  # type: ignore[no-untyped-def]
    expected = dict(first)
    reads = pickle.loads(pickle.dumps(saved(first)))
    assert isinstance(reads, RouteReads) and isinstance(reads.base, ReadIndex)
    for state in (0, 1):
        assert dict(reads) == expected and len(reads) == len(expected)
        assert reads.key_set() == expected.keys()
        assert reads.readers(set(changed)) == {
            k for k, v in expected.items() if not v.isdisjoint(changed)}
        for key in list(later)[:5] + gone:
            assert (key in reads) == (key in expected)
        if state == 0:
            reads = reads.copy()
            for key, value in later.items():
                reads[key] = value
                expected[key] = value
            for key in gone:
                assert reads.pop(key, None) == expected.pop(key, None)
            assert dict(reads) == expected
            reads = pickle.loads(pickle.dumps(reads))


@settings(max_examples=60, deadline=None)
@given(TABLES, st.frozensets(DEPS, max_size=8))
def test_reads_numbered_as_a_build_meets_them_give_the_same_index(table, changed):
    """The index a full build makes from reads numbered as they arrive answers as the dict."""
    reads = RouteReads(ReadIndex.build(table.items(), encode))
    for index in (reads, pickle.loads(pickle.dumps(reads))):
        assert dict(index) == table
        assert index.readers(set(changed)) == {
            k for k, v in table.items() if not v.isdisjoint(changed)}
