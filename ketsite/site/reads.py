"""What every route read, as ``build --incremental`` keeps it on disk: quick to load and to query.

A build records, for each of its ~90,000 routes at ten thousand papers, the set of entries it read
(:mod:`ketsite.site.tracking`): 1.8 million entries in all. Pickled as a dict of frozensets, loading
them took a new ``build --incremental`` process a second, to answer one question — which routes
read one of the few entries an edit changed. :class:`ReadIndex` keeps them as two arrays of
integers and one sorted list of strings (one per distinct entry), which load in milliseconds, and
answers that question by binary search. :class:`RouteReads` puts the reads of the routes rendered
since on top, as the build's mapping from route to reads; pickled, it folds them in once they
are many.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, MutableMapping
from itertools import accumulate, chain, repeat
from operator import sub
from typing import Any

from ketsite.site.tracking import Dep

RouteKey = tuple[str, str]

#: Routes rendered since the index was made, at most, kept on top of it rather than folded in.
FOLD_AT = 1000


def encode(dep: Dep) -> str:
    """A read as one string: ``name␟key``, or ``name␞kind␟ident`` for a route's key. Distinct
    reads give distinct strings (mapping names and route kinds are ketsite's own words)."""
    name, key = dep
    if type(key) is str:
        return f"{name}\x1f{key}"
    kind, ident = key
    return f"{name}\x1e{kind}\x1f{ident}"


def decode(text: str) -> Dep:
    unit = text.find("\x1f")
    record = text.find("\x1e", 0, unit)
    if record == -1:
        return (text[:unit], text[unit + 1:])
    return (text[:record], (text[record + 1:unit], text[unit + 1:]))


class ReadIndex:
    """The reads of a set of routes, both ways: route → reads, read → routes (CSR arrays)."""

    def __init__(self, keys: list[RouteKey], reads: list[str], route_starts: array,
                 route_reads: array, read_starts: array | None = None,
                 read_routes: array | None = None) -> None:
        self.keys = keys  # route keys, in the order the arrays use
        self.reads = reads  # every distinct read, encoded and sorted
        self.route_starts = route_starts  # route i read reads[route_reads[starts[i]:starts[i+1]]]
        self.route_reads = route_reads
        # read j was read by keys[read_routes[read_starts[j]:read_starts[j+1]]]: made when first
        # needed (by the process that saves the state, not by the build that made the index)
        self._inverse = (read_starts, read_routes) if read_starts is not None else None
        self._position: dict[RouteKey, int] | None = None

    @classmethod
    def build(cls, items: Iterable[tuple[RouteKey, Iterable[Hashable]]],
              encoder: Callable[[Any], str] = str) -> ReadIndex:
        """From each route's reads (each distinct within its route), numbered as they come and
        encoded once per distinct read: a full build hands its 1.8 million reads over as they
        arrive from the workers, with no frozenset per route made in between."""
        number: dict[Hashable, int] = {}
        keys: list[RouteKey] = []
        sizes: list[int] = []
        ids: list[int] = []
        for key, reads in items:
            start = len(ids)
            ids.extend(number.setdefault(r, len(number)) for r in reads)
            keys.append(key)
            sizes.append(len(ids) - start)
        codes = list(map(encoder, number))
        order = sorted(range(len(codes)), key=codes.__getitem__)
        rank = [0] * len(codes)
        for new, old in enumerate(order):
            rank[old] = new
        return cls(keys, [codes[i] for i in order], array("I", accumulate(sizes, initial=0)),
                   array("I", map(rank.__getitem__, ids)))

    def inverse(self) -> tuple[array, array]:
        """Read → routes: the positions of ``route_reads`` sorted by read (stably, so routes
        in order within a read), each mapped to its route."""
        if self._inverse is None:
            route_reads, starts = self.route_reads, self.route_starts
            order = sorted(range(len(route_reads)), key=route_reads.__getitem__)
            owner = array("I", chain.from_iterable(
                map(repeat, range(len(self.keys)), map(sub, starts[1:], starts[:-1]))))
            read_routes = array("I", map(owner.__getitem__, order))
            per_read = [0] * len(self.reads)
            for j, n in Counter(route_reads).items():
                per_read[j] = n
            self._inverse = (array("I", accumulate(per_read, initial=0)), read_routes)
        return self._inverse

    def position(self, key: RouteKey) -> int | None:
        if self._position is None:
            self._position = {k: i for i, k in enumerate(self.keys)}
        return self._position.get(key)

    def encoded_reads_of(self, i: int) -> list[str]:
        reads = self.reads
        return [reads[j] for j in self.route_reads[self.route_starts[i]:self.route_starts[i + 1]]]

    def readers(self, changed: Iterable[Dep]) -> set[RouteKey]:
        """The routes that read any of ``changed``."""
        found: set[int] = set()
        reads = self.reads
        starts, routes = self.inverse()
        for dep in changed:
            text = encode(dep)
            j = bisect_left(reads, text)
            if j < len(reads) and reads[j] == text:
                found.update(routes[starts[j]:starts[j + 1]])
        keys = self.keys
        return {keys[i] for i in found}

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReadIndex, (self.keys, self.reads, self.route_starts, self.route_reads,
                            *self.inverse()))


class RouteReads(MutableMapping[RouteKey, frozenset[Dep]]):
    """Route → what it read: a :class:`ReadIndex` as loaded, with the routes rendered since (and
    those gone) on top. Reading a route's set from the index decodes it; the bulk question,
    :meth:`readers`, never does."""

    def __init__(self, base: ReadIndex | None = None,
                 changed: dict[RouteKey, frozenset[Dep]] | None = None,
                 removed: set[RouteKey] | None = None) -> None:
        self.base = base
        self.changed = changed if changed is not None else {}
        self.removed = removed if removed is not None else set()

    def _in_base(self, key: RouteKey) -> int | None:
        if self.base is None or key in self.removed:
            return None
        return self.base.position(key)

    def __getitem__(self, key: RouteKey) -> frozenset[Dep]:
        reads = self.changed.get(key)
        if reads is not None:
            return reads
        i = self._in_base(key)
        if i is None:
            raise KeyError(key)
        assert self.base is not None
        return frozenset(map(decode, self.base.encoded_reads_of(i)))

    def __contains__(self, key: object) -> bool:
        return key in self.changed or self._in_base(key) is not None  # type: ignore[arg-type]

    def __setitem__(self, key: RouteKey, reads: frozenset[Dep]) -> None:
        self.changed[key] = reads

    def __delitem__(self, key: RouteKey) -> None:
        found = self.changed.pop(key, None) is not None
        if self._in_base(key) is not None:
            self.removed.add(key)
            found = True
        if not found:
            raise KeyError(key)

    def _base_keys(self) -> Iterator[RouteKey]:
        if self.base is not None:
            changed, removed = self.changed, self.removed
            yield from (k for k in self.base.keys if k not in changed and k not in removed)

    def __iter__(self) -> Iterator[RouteKey]:
        yield from self._base_keys()
        yield from self.changed

    def __len__(self) -> int:
        return sum(1 for _ in self._base_keys()) + len(self.changed)

    def key_set(self) -> set[RouteKey]:
        # in set operations (C), not through _base_keys: 92,000 keys at 10,000 papers
        keys = set(self.base.keys) - self.removed if self.base is not None else set()
        keys.update(self.changed)
        return keys

    def copy(self) -> RouteReads:
        return RouteReads(self.base, dict(self.changed), set(self.removed))

    def readers(self, changed: set[Dep]) -> set[RouteKey]:
        """The routes whose reads include any of ``changed``."""
        found = set()
        if self.base is not None:
            found = {k for k in self.base.readers(changed)
                     if k not in self.changed and k not in self.removed}
        found.update(k for k, reads in self.changed.items() if not reads.isdisjoint(changed))
        return found

    def folded(self) -> ReadIndex:
        """One index of all the routes' reads (the routes rendered since included)."""
        base = self.base

        def items() -> Iterator[tuple[RouteKey, Iterable[str]]]:
            # Every read as its string, so a read of the index and the same read of a route
            # rendered since are one read of the new index (numbered by value: the tuple and
            # its string would have been two, and readers() would have found only one).
            if base is not None:
                for i, key in enumerate(base.keys):
                    if key not in self.changed and key not in self.removed:
                        yield key, base.encoded_reads_of(i)
            for key, reads in self.changed.items():
                yield key, map(encode, reads)

        return ReadIndex.build(items())

    def __reduce__(self) -> tuple[Any, ...]:
        # Saved by the forked process that writes the state, off the user's clock: the routes
        # rendered since on top of the index as they are, until they are many (folding them in
        # takes seconds at ten thousand papers; an edit renders a few dozen).
        base = self.base
        if base is not None and len(self.changed) + len(self.removed) <= max(
                FOLD_AT, len(base.keys) // 20):
            return (RouteReads, (base, self.changed, self.removed))
        return (RouteReads, (self.folded(),))


def saved(deps: Mapping[RouteKey, frozenset[Dep]]) -> RouteReads:
    """``deps`` as the state on disk keeps it (see :class:`RouteReads`)."""
    if isinstance(deps, RouteReads):
        return deps
    return RouteReads(None, dict(deps))
