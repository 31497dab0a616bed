"""Results of slow pure functions, kept between builds under a hash of their inputs.

Formatting a reference with citeproc-py takes milliseconds; a paper page shows it in two styles, so
at ten thousand papers it is most of a build — the same strings as last time for every paper that
did not change. A :class:`Memo` maps ``namespace:hash(inputs)`` to the result; the build loads it
from ``.ketsite-cache/memo.pickle``, worker processes send back what they computed, and the build
saves it. A key must cover every input of the function (and the versions of the code behind it).

A Memo also carries :class:`Pieces`: the parts of the files listing the whole library (one paper's
node and edges in ``data/graph.json``, its record in ``data/library.ris``, its search document),
kept in memory for the life of the process (``ketsite serve`` keeps one Builder, hence one Memo),
so a rebuild after a one-paper edit recomputes that paper's parts and joins the rest. Pieces only
leave their process with the whole state of a Builder (``build --incremental``, saved with the
corpus their arguments belong to). Sent back from a worker they would be copies of the corpus
objects, which compare field by field (slower than making most pieces again), so the engine
renders the files made of them in the parent (``generators.in_parent``).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from itertools import compress, count
from pathlib import Path
from typing import Any

from ketsite.cache import read_pickle, write_pickle

_MISSING = object()


class Pieces:
    """Results of ``fn(*args)`` by (namespace, ident), reused while ``args`` compare equal.

    The arguments are the key: a piece function reads nothing but them (no corpus, no context),
    so a hit is exactly the value a fresh call would return, and every read a page's dependency
    tracking must see happens where the caller gathers the arguments, hit or miss. Arguments are
    compared, not hashed: frozen dataclasses compare field by field, and the objects of unchanged
    sources are the very same objects (the parse cache keeps them), which compare by identity
    first; equal arguments that are other objects replace the kept ones, so that comparison is
    made once. One entry per (namespace, ident): a changed paper replaces its entry; entries of
    deleted papers stay until the process ends (one per ident ever seen). ``build --incremental``
    saves them with its state (:class:`ketsite.engine.Session`): the live ones, and of the items
    of :meth:`each` only their runs.
    """

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], tuple[tuple[Any, ...], Any]] = {}
        self.run_ends: dict[str, bool] = {}  # ident → whether a run of :meth:`each` ends there

    def get(self, namespace: str, ident: str, fn: Callable[..., Any], *args: Any) -> Any:
        return self._get(namespace, ident, fn, args)

    def _get(self, namespace: str, ident: str, fn: Callable[..., Any],
             args: tuple[Any, ...]) -> Any:
        key = (namespace, ident)
        hit = self.entries.get(key)
        if hit is not None and hit[0] == args:  # a tuple compares its items by identity first
            self.entries[key] = (args, hit[1])  # the newest objects: identical next time
            return hit[1]
        value = fn(*args)
        self.entries[key] = (args, value)
        return value

    def each(self, namespace: str, idents: Sequence[str], fn: Callable[..., Any],
             args: Sequence[tuple[Any, ...]], sequence: str = "") -> list[Any]:
        """``[self.get(namespace, i, fn, *a) for i, a in zip(idents, args)]``, by runs of items.

        The files listing the whole library have tens of thousands of parts, and after an edit
        all but a few are found again; one call of :meth:`get` each was most of the time such a
        file took. Here the items are cut into runs, and a run whose arguments all compare equal
        to its arguments last time (one comparison of two lists, item by item in C) gives its
        results back at once; the others go item by item through :meth:`get`. A run ends after
        an ident whose checksum says so, not after a count, so a paper added or deleted changes
        one run rather than every run after it. Files that list different selections of the same
        items (the export files of the library, of a condition, of an author) name their
        ``sequence``: they share the items' results, each keeps its own runs.
        """
        out: list[Any] = []
        if not idents:
            return out
        entries = self.entries
        known = self.run_ends
        flags = list(map(known.get, idents))
        if None in flags:
            for n, ident in enumerate(idents):
                if flags[n] is None:
                    flags[n] = known[ident] = _ends_run(ident)
        ends = list(compress(count(1), flags))
        if not ends or ends[-1] != len(idents):
            ends.append(len(idents))
        start = 0
        for end in ends:
            run = list(args[start:end])
            key = (f"{namespace}/run/{sequence}", idents[start])
            hit = entries.get(key)
            if hit is not None and hit[0] == run:
                # kept as it is: its argument tuples are the very ones its items' entries hold,
                # so a saved state holds each once
                values = hit[1]
            else:
                get = self._get
                values = [get(namespace, ident, fn, a)
                          for ident, a in zip(idents[start:end], run, strict=True)]
                entries[key] = (run, values)
            out.extend(values)
            start = end
        return out

    def live(self, corpus: Any) -> Pieces:
        """The entries whose ident is still an entity of ``corpus`` (or none): what is worth
        saving, so a saved set does not keep every paper that ever was."""
        idents = {""}
        for mapping in (corpus.papers, corpus.authors, corpus.conditions, corpus.reviews):
            idents.update(mapping)
        # An item of a run is looked up on its own only when its run changed; making that run's
        # few dozen items again costs less than loading every item's entry (a third of the
        # time a new process took to load the state of ten thousand papers).
        in_runs = {ns.split("/run/", 1)[0] for ns, _ in self.entries if "/run/" in ns}
        kept = Pieces()
        kept.entries = {k: v for k, v in self.entries.items()
                        if k[1] in idents and k[0] not in in_runs}
        kept.run_ends = {k: v for k, v in self.run_ends.items() if k in idents}
        return kept


#: One ident in this many ends a run of :meth:`Pieces.each` (on average).
RUN = 64


def _ends_run(ident: str) -> bool:
    """Whether a run ends after ``ident``: a checksum, the same in every process (a run's key is
    saved with the state of ``build --incremental``), unlike ``hash``."""
    return zlib.crc32(ident.encode("utf-8", "surrogatepass")) % RUN == 0


#: What a worker process sends back of its Memo: the results it computed, and the keys of the
#: results it used (computed or found).
Delta = tuple[dict[str, Any], set[str]]


class Memo:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        #: keys asked for since this Memo was made: after a full build, what is worth keeping
        self.used: set[str] = set()
        self._unsent: set[str] = set()  # of those, not yet sent to the parent (a worker's)
        self._loaded = False
        self.pieces = Pieces()

    def load(self) -> None:
        """Read the saved results now (else at the first :meth:`call`): before forking workers,
        so they share one copy instead of each reading the file, and before a long-running
        process's first rebuild rather than during it."""
        if not self._loaded:
            self._load()

    def _load(self) -> None:
        self._loaded = True
        if self.path is None:
            return
        loaded = read_pickle(self.path)
        if isinstance(loaded, dict):
            self.entries.update(loaded)

    def call(self, namespace: str, key: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, or its result from an earlier call whose ``key`` was the same."""
        self.load()
        digest = namespace + ":" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        self.used.add(digest)
        self._unsent.add(digest)
        value = self.entries.get(digest, _MISSING)
        if value is _MISSING:
            value = self.entries[digest] = self.new[digest] = fn(*args)
        return value

    def take_new(self) -> Delta:
        """What this process computed and used since the last call (a worker sends it to the
        parent)."""
        new, self.new = self.new, {}
        used, self._unsent = self._unsent, set()
        return new, used

    def merge(self, delta: Delta) -> None:
        new, used = delta
        self.entries.update(new)
        self.new.update(new)
        self.used.update(used)

    def save(self, prune: bool = False) -> None:
        """Write the results if there are new ones. With ``prune`` (after a full build, which
        asked for every result the site needs) only those asked for are kept: without it,
        results for papers as they were before an edit, or for an older ketsite, would pile up
        and every later build would load them."""
        if self.path is None:
            return
        kept = self.entries
        if prune and len(self.used) < len(kept):
            kept = {k: v for k, v in kept.items() if k in self.used}
        if not self.new and kept is self.entries:
            return
        if write_pickle(self.path, kept):
            self.entries = kept
            self.new = {}
