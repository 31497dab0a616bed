"""The build engine: full builds in parallel, incremental rebuilds of only what an edit changes.

A :class:`Builder` belongs to one (project, output folder, link style). ``build()`` always

1. reads every source and parses only files it has not seen in that exact form (``cache.py``),
2. rebuilds the model and the route table (cheap, and the only way to be right for any edit),
3. then either renders every route — in worker processes forked after the templates are compiled,
   each writing its pages straight into the new folder, swapped in atomically at the end — or, when
   it has the state of a previous build of the same output (kept in memory by a long-running
   ``serve``, or on disk in ``.ketsite-cache/`` for ``build --incremental``), re-renders only the
   routes that are new, or that read a corpus entry or route whose value changed
   (``site/tracking.py``), and rewrites only the files whose bytes differ.

Anything that every page may read — configuration, templates, assets, the source date, ketsite's own
code — is hashed into one key; when it changes the build is a full one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import logging
import os
import resource
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import is_not
from pathlib import Path
from typing import Any

from ketsite.cache import (
    CACHE_DIR,
    Fragment,
    FragmentStore,
    LoadStats,
    parse_all,
    read_pickle,
    write_pickle,
)
from ketsite.config import load_config
from ketsite.diagnostics import Diagnostics, SourceLocation, relative_path
from ketsite.generators import GENERATORS, generate, in_parent
from ketsite.memo import Delta, Memo, Pieces
from ketsite.model.corpus import Corpus, CorpusCache, build_corpus
from ketsite.output import (
    FreshTreeWriter,
    Listing,
    OutputError,
    detach_streams,
    new_folder,
    remove_file,
    replace_file,
    swap_into_place,
    unsafe_output,
)
from ketsite.render import Renderer, RenderError, SiteContext
from ketsite.site.reads import ReadIndex, RouteKey, RouteReads
from ketsite.site.reads import encode as encode_read
from ketsite.site.reads import saved as saved_reads
from ketsite.site.routes import EntityRoutes, LinkStyle, Route, RouteTable
from ketsite.site.tracking import (
    ANY,
    PAGES,
    Dep,
    Readers,
    TrackedObject,
    TrackedRoutes,
    page_list,
)
from ketsite.sources.discover import ReadCache, SourceFile, discover

log = logging.getLogger(__name__)

#: Below this many routes to render, worker processes cost more than they save.
PARALLEL_MIN_ROUTES = 2000
#: Bumped whenever a class pickled in the state gains or loses an attribute (an object unpickled
#: from an older state would lack it). 4: Pieces.run_ends (runs of Pieces.each); 5: reads as a
#: ReadIndex; 6: compact Paper fields and co-authors, the items of runs saved in their runs only;
#: 7: output digests by SHA-256; 8: CorpusCache keeps the library order, EntityRoutes the letters;
#: 9: BuildState.out_id, the output folder it left.
STATE_FORMAT = 9
#: Dirty pages of this many bytes in all (last build) are rendered by worker processes.
PARALLEL_MIN_BYTES = 2_000_000


def default_jobs() -> int:
    """Worker processes: the CPUs this process may use (``KETSITE_JOBS`` overrides)."""
    env = os.environ.get("KETSITE_JOBS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass
class BuildResult:
    diagnostics: Diagnostics
    pages: int = 0
    files: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    mode: str = "full"  # "full" or "incremental"
    rendered: int = 0  # routes rendered (all of them for a full build)
    written: list[str] = field(default_factory=list)  # files written (incremental: changed ones)
    removed: list[str] = field(default_factory=list)  # files deleted (incremental)
    parsed_files: list[str] = field(default_factory=list)  # source files parsed (not from cache)
    peak_rss_mib: float = 0.0
    workers: int = 1  # processes that rendered


@dataclass
class BuildState:
    """What a build leaves for the next incremental one."""

    key: str  # global inputs: config, templates, assets, date, style, code
    out: str
    corpus: Corpus
    routes: RouteTable
    deps: MutableMapping[RouteKey, frozenset[Dep]]  # a dict, or RouteReads as loaded from disk
    digests: dict[str, bytes]  # output path → digest of its bytes
    sizes: dict[str, int] = field(default_factory=dict)  # output path → bytes (a cost estimate)
    pages: int = -1  # HTML files among the digests (-1: not counted yet)
    #: the output folder's (device, inode) when this build left it: a full build swaps in a new
    #: folder, so another build (a plain ``ketsite build``, another tool) having replaced the
    #: folder since is seen, and this state is not trusted for it
    out_id: tuple[int, int] | None = None


def folder_id(path: Path | None) -> tuple[int, int] | None:
    """``(st_dev, st_ino)`` of a folder, None if there is none."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


@dataclass
class Session:
    """What a Builder keeps between builds, saved for ``build --incremental`` in a new process.

    Not only the last build's :class:`BuildState`: the caches ``ketsite serve`` keeps in memory
    too — sources as read, parsed fragments, resolved authors, entity routes, the pieces of the
    library-wide files. Without them a new process made all of those again (at ten thousand papers
    most of its time). One pickle, so the objects they share stay shared: the caches compare
    identity first, and an unchanged source's objects are then the very ones the last build used.
    """

    state: BuildState
    reads: ReadCache
    fragments: dict[str, Fragment]
    keys: dict[str, tuple[SourceFile, str]]
    corpus_cache: CorpusCache
    entity_routes: EntityRoutes
    pieces: Pieces


def _count_pages(digests: dict[str, bytes]) -> int:
    return sum(1 for p in digests if p.endswith(".html"))


def _digest(data: bytes) -> bytes:
    """What tells an output file's new bytes from its old ones. SHA-256 runs in the CPU's own
    instructions where it has them (x86 since about 2017, ARMv8): 57 MB of library-wide files in
    0.04 s here, against 0.11 s for BLAKE2b; a full build hashes ~570 MB at N=10,000."""
    return hashlib.sha256(data).digest()[:16]


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of its finished worker processes, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


# --- rendering one route -------------------------------------------------------------------------


class RouteRenderer:
    """Turns routes into bytes, optionally recording what each one read."""

    def __init__(self, ctx: SiteContext, dirs: list[Path], track: bool,
                 bytecode_dir: Path | None = None, memo: Memo | None = None) -> None:
        self.track = track
        self.deps: set[Dep] = set()
        if track:
            ctx = dataclasses.replace(
                ctx, corpus=TrackedObject(ctx.corpus, "", self.deps),  # type: ignore[arg-type]
                routes=TrackedRoutes(ctx.routes, self.deps),  # type: ignore[arg-type]
            )
        self.ctx = ctx
        self.memo = memo if memo is not None else Memo(None)
        self.renderer = Renderer(dirs, ctx, bytecode_dir=bytecode_dir, memo=self.memo)

    def warm_up(self, routes: Iterable[Route]) -> None:
        """Compile every template used and load the memo before forking, so workers inherit
        them ready (and a long-running process has them for its next rebuild)."""
        for name in sorted({r.template for r in routes if r.template is not None}):
            self.renderer.env.get_template(name)
        self.memo.load()

    def __call__(self, route: Route) -> tuple[bytes, frozenset[Dep]]:
        self.deps.clear()
        if route.template is not None:
            data = self.renderer.render(route)
        else:
            # A file listing the whole library makes ~100,000 short-lived objects, none in a
            # cycle; with the model frozen out of the collector's sight (see Builder.build), its
            # counts say "collect the oldest generation" again and again while they are made
            # (the graph after an edit at N=10,000, in a process with a frozen heap: 0.30 s with
            # the collector on, 0.15 s paused). Reference counting frees them anyway.
            enabled = gc.isenabled()
            gc.disable()
            try:
                data = generate(route, self.ctx, self.memo.pieces)
            finally:
                if enabled:
                    gc.enable()
        return data, frozenset(self.deps) if self.track else frozenset()


def is_output(route: Route) -> bool:
    """Routes that produce a file: pages, and generated files of a registered kind."""
    return route.template is not None or route.kind in GENERATORS


# --- parallel full render -------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}  # set in the parent just before forking; read by the forked workers


Rendered = tuple[str, bytes, RouteKey, frozenset[Dep], int]  # path, digest, route, reads, size


def parent_share(routes: list[Route]) -> tuple[list[int], list[int]]:
    """Indexes of the routes the parent renders while its workers render the others, and of the
    others: files made of the pieces the Builder keeps between builds
    (:func:`ketsite.generators.in_parent`), which a worker would make and take with it."""
    here = [i for i, r in enumerate(routes) if in_parent(r)]
    taken = set(here)
    return here, [i for i in range(len(routes)) if i not in taken]


#: A full render sets its results aside from the cyclic garbage collector every this many routes.
FREEZE_EVERY = 500


def _setting_aside(routes: list[Route]) -> Iterator[Route]:
    """``routes``, with what rendering them has kept so far set aside from the cyclic garbage
    collector every :data:`FREEZE_EVERY` of them.

    What a full render keeps (each route's bytes or digest and reads) only grows; the collector's
    oldest generation walked all of it again and again (6 s of CPU at ten thousand papers, against
    0.1 s at a thousand). The young generations are collected first, so no garbage cycle of a
    finished page is set aside with it. ``build`` gives everything back to the collector."""
    for n, route in enumerate(routes, 1):
        if n % FREEZE_EVERY == 0 and gc.isenabled():
            gc.collect(1)
            gc.freeze()
        yield route


def _render_list(render: RouteRenderer, writer: FreshTreeWriter,
                 routes: list[Route]) -> tuple[list[Rendered], float, float]:
    out = []
    t_render = t_write = 0.0
    for route in _setting_aside(routes):
        t0 = time.perf_counter()
        data, deps = render(route)
        t1 = time.perf_counter()
        writer.write(route.path, data)
        t_write += time.perf_counter() - t1
        t_render += t1 - t0
        out.append((route.path, _digest(data), (route.kind, route.ident), deps, len(data)))
    return out, t_render, t_write


def _render_share(share: int) -> tuple[list[Rendered], float, float, Delta]:
    job = _WORKER
    render: RouteRenderer = job["render"]
    mine = job["routes"][share::job["shares"]]
    out, t_render, t_write = _render_list(render, job["writer"], mine)
    return out, t_render, t_write, render.memo.take_new()


def render_to_folder(
    render: RouteRenderer, routes: list[Route], folder: Path, jobs: int,
    min_routes: int = PARALLEL_MIN_ROUTES, index_reads: bool = False,
) -> tuple[dict[str, bytes], MutableMapping[RouteKey, frozenset[Dep]], float, float, int,
           dict[str, int]]:
    """Render ``routes`` into the fresh ``folder``; digests and dependencies by route, the render
    and write seconds summed over workers, and the number of workers.

    With ``index_reads`` the dependencies come as the index the state on disk keeps
    (:class:`RouteReads`), made here from the reads numbered as they arrive, rather than as a
    frozenset per route that the process saving the state would have to take apart again."""
    writer = FreshTreeWriter(folder)
    digests: dict[str, bytes] = {}
    sizes: dict[str, int] = {}
    deps: dict[RouteKey, frozenset[Dep]] = {}
    interned: dict[Dep, Dep] = {}
    shares = jobs if jobs > 1 and len(routes) >= min_routes else 1
    try:
        if shares == 1:
            _WORKER.update(render=render, writer=writer, routes=routes, shares=shares)
            results = [_render_share(0)]
        else:
            import multiprocessing

            render.warm_up(routes)
            here, away = parent_share(routes)
            _WORKER.update(render=render, writer=writer, routes=[routes[i] for i in away],
                           shares=shares)
            with multiprocessing.get_context("fork").Pool(shares) as pool:
                pending = pool.map_async(_render_share, range(shares), chunksize=1)
                mine = _render_list(render, FreshTreeWriter(folder), [routes[i] for i in here])
                results = [*pending.get(), (*mine, ({}, set()))]
    finally:
        _WORKER.clear()
    t_render = t_write = 0.0
    reads_of: list[tuple[RouteKey, frozenset[Dep]]] = []
    for items, tr, tw, memo in results:
        t_render += tr
        t_write += tw
        render.memo.merge(memo)
        for path, digest, key, route_deps, size in items:
            digests[path] = digest
            sizes[path] = size
            if not render.track:
                continue
            if index_reads:
                reads_of.append((key, route_deps))
            else:
                # Equal dependencies of different pages share one object: a tenth of the memory.
                deps[key] = frozenset(interned.setdefault(d, d) for d in route_deps)
    if index_reads and render.track:
        return digests, RouteReads(ReadIndex.build(reads_of, encode_read)), \
            t_render, t_write, shares, sizes
    return digests, deps, t_render, t_write, shares, sizes


def _render_slice(share: int) -> tuple[list[tuple[bytes, frozenset[Dep]]], Delta]:
    job = _WORKER
    done = [job["render"](r) for r in _setting_aside(job["routes"][share::job["shares"]])]
    return done, job["render"].memo.take_new()


def _render_one(index: int) -> tuple[int, bytes, frozenset[Dep], Delta]:
    job = _WORKER
    data, deps = job["render"](job["routes"][index])
    return index, data, deps, job["render"].memo.take_new()


def render_many(render: RouteRenderer, routes: list[Route], jobs: int,
                min_routes: int = PARALLEL_MIN_ROUTES,
                weights: list[int] | None = None) -> list[tuple[bytes, frozenset[Dep]]]:
    """Bytes and dependencies of each route, in order; in forked workers when there are many,
    or when ``weights`` (their sizes last time) say a few of them are big: the pages listing the
    whole library take seconds each, and go first, one per worker. The files made of kept pieces
    (:func:`parent_share`) are rendered here meanwhile."""
    here, away = parent_share(routes)
    # Workers pay when what they would render is big, not the files the parent makes anyway
    # (after an edit in `serve`, the data files and the feed: two forks of a process of a gigabyte
    # and more, 0.27 s with their ends, for the feed).
    heavy = weights is not None and len(routes) > 1 and \
        sum(weights[i] for i in away) >= PARALLEL_MIN_BYTES
    shares = jobs if jobs > 1 and away and (len(routes) >= min_routes or heavy) else 1
    if shares == 1:
        return [render(r) for r in _setting_aside(routes)]
    import multiprocessing

    results: list[tuple[bytes, frozenset[Dep]]] = [(b"", frozenset())] * len(routes)
    render.warm_up(routes)
    if heavy and len(routes) < min_routes:
        assert weights is not None
        order = sorted(away, key=lambda i: -weights[i])
        _WORKER.update(render=render, routes=routes)
        try:
            with multiprocessing.get_context("fork").Pool(shares) as pool:
                done = pool.imap_unordered(_render_one, order)
                for i in here:  # while the workers render the others
                    results[i] = render(routes[i])
                for index, data, deps, memo in done:
                    results[index] = (data, deps)
                    render.memo.merge(memo)
        finally:
            _WORKER.clear()
        return results

    _WORKER.update(render=render, routes=[routes[i] for i in away], shares=shares)
    try:
        with multiprocessing.get_context("fork").Pool(shares) as pool:
            pending = pool.map_async(_render_slice, range(shares), chunksize=1)
            for i in here:
                results[i] = render(routes[i])
            parts = pending.get()
    finally:
        _WORKER.clear()
    rest: list[tuple[bytes, frozenset[Dep]]] = [(b"", frozenset())] * len(away)
    for share, (part, memo) in enumerate(parts):
        rest[share::shares] = part
        render.memo.merge(memo)
    for i, done_here in zip(away, rest, strict=True):
        results[i] = done_here
    return results


# --- comparing two builds -------------------------------------------------------------------------


def changed_entries(old: BuildState, corpus: Corpus, routes: RouteTable) -> set[Dep]:
    """Every (mapping, key) whose value differs between the previous build and this one, and
    (mapping, ANY) for every mapping that changed at all (values, keys or order)."""
    changed: set[Dep] = set()
    if page_list(old.routes) != page_list(routes):
        changed.add((PAGES, ANY))
    _changed_routes(old.routes, routes, changed)
    for f in dataclasses.fields(Corpus):
        _changed(f.name, getattr(old.corpus, f.name), getattr(corpus, f.name), changed)
    return changed


def _changed_routes(before: RouteTable, after: RouteTable, changed: set[Dep]) -> None:
    """:func:`_changed` for the route tables, list by list where both were made from lists
    (most of them the very same objects after an edit: the entities' routes are kept)."""
    if len(before.segments) != len(after.segments) or not before.segments:
        _changed("routes", before.routes, after.routes, changed)
        return
    # A route that moved from one list to another shows as deleted from one and added to the
    # other: (routes, key) either way, and (routes, ANY).
    for old_list, new_list in zip(before.segments, after.segments, strict=True):
        if old_list is not new_list:
            _changed("routes", {(r.kind, r.ident): r for r in old_list},
                     {(r.kind, r.ident): r for r in new_list}, changed)


def _changed(name: str, before: Any, after: Any, changed: set[Dep]) -> None:
    if not isinstance(before, dict) or not isinstance(after, dict):
        if before != after:
            changed.add((name, ANY))
        return
    if before is after:
        return
    # Most mappings are equal after an edit: compared in C (identity first, then value), in
    # order too, before looking for which entries differ.
    if before == after and list(before) == list(after):
        return
    # The entries whose values are not the very same objects, found in C (most are: unchanged
    # sources keep their objects), then compared by value in Python.
    missing = object()
    keys = list(after)
    values = list(after.values())
    before_values = list(map(before.get, keys, repeat(missing)))
    found = False
    for i in compress(range(len(keys)), map(is_not, before_values, values)):
        if before_values[i] != values[i]:
            changed.add((name, keys[i]))
            found = True
    for key in before.keys() - after.keys():
        changed.add((name, key))
        found = True
    if found or list(before) != list(after):
        changed.add((name, ANY))


# --- the saved state -----------------------------------------------------------------------------

#: How long a build waits for the previous one to finish saving its state before it gives up on
#: that state (and builds everything).
STATE_LOCK_SECONDS = 120.0


@contextlib.contextmanager
def state_lock(path: Path, exclusive: bool) -> Iterator[None]:
    """Hold the lock of the state file ``path``: shared to read it, exclusive to write it.

    ``flock`` on a sibling ``.lock`` file, so a build waits for the one before it to finish
    saving. Raises TimeoutError after :data:`STATE_LOCK_SECONDS`; without ``fcntl`` (Windows)
    there is no background saving, hence nothing to wait for."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + STATE_LOCK_SECONDS
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{path} is locked") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock, unless a forked process holds it too


def save_in_background(path: Path, session: Session, background: bool,
                       then: Callable[[], object] | None = None) -> None:
    """Write ``session`` to ``path``, then call ``then`` (which saves something else the next
    build reads); with ``background``, in a forked process, and return.

    Pickling the state of ten thousand papers takes seconds, and nothing the user waits for
    needs it: only the next ``build --incremental``, which waits for the exclusive lock this
    takes before forking (the grandchild that writes inherits it, and the lock is released when
    it exits). Double-forked, so no process is left for this one to reap."""
    with state_lock(path, exclusive=True):
        if not background or not hasattr(os, "fork"):
            write_pickle(path, (STATE_FORMAT, session))
            if then is not None:
                then()
            return
        pid = os.fork()
        if pid == 0:  # the child: fork the writer and leave
            try:
                if os.fork() == 0:
                    _write_detached(path, session, then)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)


def _write_detached(path: Path, session: Session, then: Callable[[], object] | None) -> None:
    """The forked writer: its standard streams on /dev/null (whoever reads the command's output
    through a pipe is not kept waiting for it), then the state, then exit — never return."""
    ok = False
    try:
        detach_streams()
        ok = write_pickle(path, (STATE_FORMAT, session))
        if then is not None:
            then()
    finally:
        os._exit(0 if ok else 1)


# --- the builder ----------------------------------------------------------------------------------


class Builder:
    """Builds one project into one output folder, as often as asked, as little as needed.

    With ``out=None`` the site is kept in memory instead (``files``: path → bytes), as
    ``ketsite serve`` serves it; rebuilds then update that dict.
    """

    def __init__(
        self, root: Path, out: Path | None, style: LinkStyle = LinkStyle.PRETTY, *,
        jobs: int | None = None, live_reload: bool = False, cache: bool = True,
        persist_state: bool = False, track: bool = True, parallel_min: int = PARALLEL_MIN_ROUTES,
        background_save: bool = False,
    ) -> None:
        self.parallel_min = parallel_min
        self.root = root
        if out is not None and out.is_symlink():  # the site goes to the folder it points to:
            out = out.resolve()  # the swap would replace the link itself with a new folder
        self.out = out.absolute() if out is not None else None
        self.files: dict[str, bytes] | None = None  # the site, in memory mode
        self.style = style
        self.jobs = jobs if jobs is not None else default_jobs()
        self.live_reload = live_reload
        self.cache_dir = root / CACHE_DIR if cache else None
        self.store = FragmentStore(self.cache_dir)
        self.reads = ReadCache()  # unchanged source files are not read again by the next build
        self.corpus_cache = CorpusCache()  # nor are unchanged authors resolved again
        self.entity_routes = EntityRoutes()  # nor are the routes of unchanged entities made again
        self.memo = Memo(self.cache_dir / "memo.pickle" if self.cache_dir is not None else None)
        self.persist_state = persist_state and self.cache_dir is not None and out is not None
        #: ``build --incremental`` returns while a forked process saves its state (see
        #: :func:`save_in_background`); a Builder that lives on saves it itself.
        self.background_save = background_save
        self.track = track or persist_state
        self.state: BuildState | None = None
        self._state_loaded = False
        self.deferred: list[tuple[RouteRenderer, list[Route]]] = []  # see build(defer=…)
        # Who read what, for a process that keeps its state in memory (serve): see Readers.
        self.readers: Readers | None = None
        self._listing: Listing | None = None  # the output folder's files, see _incremental

    # state on disk, for `ketsite build --incremental` in a new process
    def state_path(self) -> Path:
        assert self.cache_dir is not None
        name = hashlib.blake2b(f"{self.out}|{self.style.value}".encode(), digest_size=8).hexdigest()
        return self.cache_dir / f"state-{name}.pickle"

    def _load_state(self) -> None:
        """Become the Builder that made the last build, as far as its caches go (see
        :class:`Session`); each of them is checked again against the sources before use."""
        if self._state_loaded or not self.persist_state:
            return
        self._state_loaded = True
        path = self.state_path()
        try:
            with state_lock(path, exclusive=False):  # the last build may still be saving it
                loaded = read_pickle(path)  # damaged or missing: a full build, never a failed one
        except TimeoutError as exc:
            log.debug("ignoring the build state: %s", exc)
            return
        if isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == STATE_FORMAT \
                and isinstance(loaded[1], Session):
            session = loaded[1]
            self.state = session.state
            self.reads = session.reads
            self.store.adopt(session.fragments, session.keys)
            self.corpus_cache = session.corpus_cache
            self.entity_routes = session.entity_routes
            self.memo.pieces = session.pieces

    def _save_state(self, prune_memo: bool) -> bool:
        """Save the state for the next ``build --incremental``, and the memo with it when a
        forked process writes it (a memo of ten thousand formatted references takes a tenth of
        a second to write); whether it did so."""
        if not self.persist_state or self.state is None:
            return False
        path = self.state_path()
        state = dataclasses.replace(self.state, deps=saved_reads(self.state.deps))
        session = Session(state, self.reads, *self.store.in_memory(), self.corpus_cache,
                          self.entity_routes, self.memo.pieces.live(self.state.corpus))
        if self._listing is not None:  # no other thread of ours alive while forking
            self._listing.close(wait=True)
            self._listing = None
        memo = functools.partial(self.memo.save, prune=prune_memo)
        try:
            save_in_background(path, session, self.background_save,
                               memo if self.background_save else None)
        except OSError as exc:
            log.debug("cannot save build state: %s", exc)
            return False
        return self.background_save

    def build(self, incremental: bool = True,
              defer: Callable[[Route], bool] | None = None) -> BuildResult:
        """Build the site. With ``incremental`` and a previous build's state for this output, only
        what changed is rendered and written; otherwise everything, swapped in atomically.

        ``defer`` (in-memory builds only): dirty routes it accepts are left for
        :meth:`finish_deferred`, so ``ketsite serve`` can show an edited page before it has
        regenerated the library-wide data files (feed, search index, exports) the page does not
        show. Until then those files are the previous build's."""
        if self.out is not None:
            unsafe = unsafe_output(self.out, self.root)
            if unsafe is not None:
                raise OutputError(unsafe)
        if self.deferred:
            self.finish_deferred()
        gc_enabled = gc.isenabled()
        # Loading creates millions of small acyclic objects; the cyclic collector would walk the
        # growing heap again and again (it was two thirds of the model phase). Rendering runs with
        # the collector on, but with the model frozen out of its sight (and shared copy-on-write
        # with the forked workers).
        gc.disable()
        try:
            return self._build(incremental, gc_enabled, defer if self.out is None else None)
        finally:
            if self._listing is not None:
                self._listing.close()
                self._listing = None
            gc.unfreeze()
            if gc_enabled:
                gc.enable()

    def _build(self, incremental: bool, gc_enabled: bool,
               defer: Callable[[Route], bool] | None) -> BuildResult:
        from ketsite.build import Project, global_key, plan  # build.py imports this module

        start = time.perf_counter()
        diags = Diagnostics()
        result = BuildResult(diags)
        t = time.perf_counter()
        if incremental and self.persist_state and self.out is not None and self.out.is_dir():
            self._listing = Listing(self.out)  # before the state loads: see Listing
        if incremental:
            self._load_state()
        sources = discover(self.root, diags, self.reads)
        config = load_config(sources.config, diags)
        stats = LoadStats()
        parsed = parse_all(sources, diags, self.store, self.jobs, stats)
        result.parsed_files = stats.changed
        result.timings["parse"] = time.perf_counter() - t
        t = time.perf_counter()
        corpus = build_corpus(parsed, diags, self.corpus_cache)
        project = Project(self.root, sources, config, corpus)
        if diags.has_errors:
            plan(project, self.style, diags)  # output-path collisions too: one run reports all
            result.timings["model"] = time.perf_counter() - t
            return self._finish(result, start)
        previous = self.state.routes if self.state is not None else None
        ctx, files, dirs = plan(project, self.style, diags, self.live_reload, previous,
                                self.entity_routes)
        key = global_key(ctx, files, dirs)
        result.timings["model"] = time.perf_counter() - t
        if diags.has_errors:
            return self._finish(result, start)
        gc.freeze()
        if gc_enabled:
            gc.enable()
        old = self.state
        # the site the state describes is still there (not replaced since by another build)
        still_there = self.files is not None if self.out is None else (
            self.out.is_dir() and old is not None and old.out_id == folder_id(self.out))
        try:
            if incremental and old is not None and old.key == key and old.out == str(self.out) \
                    and still_there:
                if self.readers is None and not self.persist_state:
                    self.readers = Readers(old.deps)
                self._incremental(result, old, key, ctx, files, dirs, defer)
            else:
                self.readers = None
                self._full(result, key, ctx, files, dirs)
                if self.state is not None and not self.persist_state:
                    # a process that keeps its state will rebuild after edits: index it now
                    self.readers = Readers(self.state.deps)
        except RenderError as exc:
            self.readers = None  # it may have been half updated; made again from the state
            # A project's own template is a source like any other: a located error, and nothing
            # written (the new folder is discarded; an incremental build renders before writing).
            path = relative_path(Path(exc.template), self.root) if exc.template else "templates"
            diags.error(SourceLocation(path, exc.line), str(exc).split(": ", 1)[-1])
            return self._finish(result, start)
        full = result.mode == "full"
        if not self._save_state(prune_memo=full) and not self.deferred:
            self.memo.save(prune=full)  # (when deferred: after them, not while open pages wait)
        return self._finish(result, start)

    def _finish(self, result: BuildResult, start: float) -> BuildResult:
        result.seconds = time.perf_counter() - start
        result.peak_rss_mib = peak_rss_mib()
        return result

    def _bytecode_dir(self) -> Path | None:
        return self.cache_dir / "jinja" if self.cache_dir is not None else None

    def _full(self, result: BuildResult, key: str, ctx: SiteContext, files: dict[str, bytes],
              dirs: list[Path]) -> None:
        routes = [r for r in ctx.routes.routes.values() if is_output(r)]
        render = RouteRenderer(ctx, dirs, self.track, self._bytecode_dir(), self.memo)
        t = time.perf_counter()
        if self.out is None:
            self._full_in_memory(result, key, ctx, files, render, routes)
            return
        tmp = new_folder(self.out)
        try:
            digests, deps, t_render, t_write, result.workers, sizes = render_to_folder(
                render, routes, tmp, self.jobs, self.parallel_min, self.persist_state)
            writer = FreshTreeWriter(tmp)
            for path, data in sorted(files.items()):  # assets
                writer.write(path, data)
                digests[path] = _digest(data)
                sizes[path] = len(data)
            phase = time.perf_counter() - t
            t = time.perf_counter()
            swap_into_place(tmp, self.out, background_delete=len(digests) >= self.parallel_min)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        share = t_render / (t_render + t_write) if t_render + t_write else 1.0
        result.timings["render"] = phase * share
        result.timings["write"] = phase * (1 - share) + time.perf_counter() - t
        result.mode = "full"
        result.rendered = len(routes)
        result.written = sorted(digests)
        result.files = len(digests)
        result.pages = _count_pages(digests)
        self.state = BuildState(key, str(self.out), ctx.corpus, ctx.routes, deps, digests,
                                sizes, result.pages, folder_id(self.out)) if self.track else None

    def _full_in_memory(self, result: BuildResult, key: str, ctx: SiteContext,
                        files: dict[str, bytes], render: RouteRenderer,
                        routes: list[Route]) -> None:
        t = time.perf_counter()
        site: dict[str, bytes] = {}
        deps: dict[RouteKey, frozenset[Dep]] = {}
        for route, (data, route_deps) in zip(
                routes, render_many(render, routes, self.jobs, self.parallel_min), strict=True):
            site[route.path] = data
            deps[(route.kind, route.ident)] = route_deps
        site.update(files)
        self.files = site
        result.timings["render"] = time.perf_counter() - t
        result.timings["write"] = 0.0
        result.mode = "full"
        result.rendered = len(routes)
        result.written = sorted(site)
        result.files = len(site)
        result.pages = _count_pages(site)
        digests = {path: _digest(data) for path, data in site.items()}
        sizes = {path: len(data) for path, data in site.items()}
        self.state = BuildState(key, "None", ctx.corpus, ctx.routes, deps, digests, sizes,
                                result.pages) if self.track else None

    def _incremental(self, result: BuildResult, old: BuildState, key: str, ctx: SiteContext,
                     files: dict[str, bytes], dirs: list[Path],
                     defer: Callable[[Route], bool] | None = None) -> None:
        t = time.perf_counter()
        table = ctx.routes.routes
        changed = changed_entries(old, ctx.corpus, ctx.routes)
        # changed_entries compared the route tables: ("routes", k) for every new, changed or
        # deleted route. Every route that produces a file was rendered before unless it is new.
        moved = {k for name, k in changed if name == "routes" and k != ANY}
        gone = {k for k in moved if k not in table}
        moved -= gone
        # A new process checks that the files of the last build are there: a page deleted by
        # hand is rendered again. (A long-running process owns its folder.)
        missing: set[str] = set()
        if self.persist_state and self.out is not None:
            listed = self._listing.result() if self._listing is not None else None
            missing = old.digests.keys() - listed if listed is not None else {
                p for p in old.digests if not os.path.isfile(os.path.join(self.out, p))}
        old_deps = old.deps
        if self.readers is not None:  # a long-running process: look up who read what changed
            keys = moved | self.readers.of(changed)
            dirty = [table[k] for k in sorted(keys) if k in table]
        elif isinstance(old_deps, RouteReads):  # as loaded from disk: its index answers
            keys = moved | old_deps.readers(changed) | (table.keys() - old_deps.key_set())
            dirty = [r for k, r in table.items() if k in keys]
        else:
            dirty = [
                r for k, r in table.items()
                if k in moved or k not in old_deps or not old_deps[k].isdisjoint(changed)
            ]
        if missing:
            have = {(r.kind, r.ident) for r in dirty}
            dirty += [r for k, r in table.items() if r.path in missing and k not in have]
        dirty = [r for r in dirty if is_output(r)]
        # A deferred file keeps its previous bytes meanwhile; a new one (a new path) has none, and
        # a page may already link to it: it is rendered now.
        later = [r for r in dirty if r.path in old.digests and defer(r)] if defer else []
        if later:
            put_off = set(later)
            dirty = [r for r in dirty if r not in put_off]
        render = RouteRenderer(ctx, dirs, True, self._bytecode_dir(), self.memo)
        deps = old_deps.copy() if isinstance(old_deps, RouteReads) else dict(old_deps)
        for k in gone:
            reads = deps.pop(k, None)
            if reads is not None and self.readers is not None:
                self.readers.replace(k, reads, frozenset())
        outputs = self._render_routes(render, dirty, deps, old.sizes)
        outputs.update(files)
        result.timings["render"] = time.perf_counter() - t
        t = time.perf_counter()
        pages = old.pages if old.pages >= 0 else _count_pages(old.digests)
        pages += sum(1 for p in outputs if p.endswith(".html") and p not in old.digests)
        # The last build's digests and sizes become this one's, updated in place: copying them
        # (92,000 entries at N=10,000, scattered in memory) took longer than the rest of this
        # step. Once a file is written they no longer describe the last build: if anything
        # fails from here, no state is trusted and the next build is a full one.
        digests, sizes = old.digests, old.sizes
        try:
            written = self._store(outputs, digests, sizes, missing)
            # Only a route that moved or went away can leave a file behind: the old paths of
            # those no route claims now (paths were unique in the old table; unchanged routes
            # kept theirs).
            before = old.routes.routes
            claimed = {table[k].path for k in moved} | set(files)
            removed = sorted(({before[k].path for k in moved | gone if k in before} - claimed)
                             & digests.keys())
            for path in removed:
                if self.out is None:
                    assert self.files is not None
                    self.files.pop(path, None)
                else:
                    remove_file(self.out, path)
                del digests[path]
                sizes.pop(path, None)
        except BaseException:
            self.state = None
            self.readers = None
            raise
        result.timings["write"] = time.perf_counter() - t
        result.mode = "incremental"
        result.rendered = len(dirty)
        result.written = written
        result.removed = removed
        result.files = len(digests)
        pages -= sum(1 for p in removed if p.endswith(".html"))
        result.pages = pages
        self.state = BuildState(key, str(self.out), ctx.corpus, ctx.routes, deps, digests, sizes,
                                pages, old.out_id)  # written into, not replaced: the same folder
        if later:
            self.deferred = [(render, later)]

    def _render_routes(self, render: RouteRenderer, dirty: list[Route],
                       deps: MutableMapping[RouteKey, frozenset[Dep]],
                       old_sizes: dict[str, int]) -> dict[str, bytes]:
        """Render ``dirty``, recording what each read in ``deps``; path → bytes."""
        outputs: dict[str, bytes] = {}
        weights = [old_sizes.get(r.path, 0) for r in dirty]
        rendered = render_many(render, dirty, self.jobs, self.parallel_min, weights)
        readers = self.readers
        for route, (data, route_deps) in zip(dirty, rendered, strict=True):
            outputs[route.path] = data
            key = (route.kind, route.ident)
            if readers is not None:
                readers.replace(key, deps.get(key, frozenset()), route_deps)
            deps[key] = route_deps
        return outputs

    def _store(self, outputs: dict[str, bytes], digests: dict[str, bytes],
               sizes: dict[str, int], missing: set[str]) -> list[str]:
        """Write (or keep in memory) the outputs whose bytes changed; their paths."""
        written = []
        for path in sorted(outputs):
            digest = _digest(outputs[path])
            if digests.get(path) != digest or path in missing:
                if self.out is None:
                    assert self.files is not None
                    self.files[path] = outputs[path]
                else:
                    replace_file(self.out, path, outputs[path])
                written.append(path)
            digests[path] = digest
            sizes[path] = len(outputs[path])
        return written

    def finish_deferred(self) -> BuildResult:
        """Render what the last ``build(defer=…)`` left; a no-op when it left nothing."""
        start = time.perf_counter()
        result = BuildResult(Diagnostics(), mode="deferred")
        pending, self.deferred = self.deferred, []
        state = self.state
        if not pending or state is None:
            return self._finish(result, start)
        try:
            for render, routes in pending:
                outputs = self._render_routes(render, routes, state.deps, state.sizes)
                result.written += self._store(outputs, state.digests, state.sizes, set())
                result.rendered += len(routes)
        except BaseException:
            self.state = None  # those files are stale and their reads unknown: next build is full
            self.readers = None
            raise
        self.memo.save()
        result.timings["render"] = time.perf_counter() - start
        result.files = len(state.digests)
        result.pages = state.pages  # deferred files all existed before: no new page
        return self._finish(result, start)
