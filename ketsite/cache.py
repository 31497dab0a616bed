"""Parsing every source file once: cached on disk by content hash, misses parsed in parallel.

Each source file is parsed on its own (``parse_bibtex`` + ``parse_paper`` for a ``.bib`` file, one
``parse_*`` for a YAML file) into a :class:`Fragment`: what it adds to :class:`ParsedSources`
and the diagnostics it raised. A fragment depends only on the file's path and text and on
ketsite's parsing code, so it is stored in ``.ketsite-cache/parsed/`` under a hash of exactly
those; an edit to one file re-parses that file only. Fragments are merged back in source order,
so the result — entities, references and diagnostics — is that of parsing everything at once.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.metadata
import logging
import os
import pickle
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ketsite.diagnostics import Diagnostic, Diagnostics, Severity
from ketsite.markdown import check_markdown
from ketsite.model.entities import Paper, ParsedSources
from ketsite.model.parse import (
    parse_annotation,
    parse_author,
    parse_condition,
    parse_paper,
    parse_review,
)
from ketsite.sources.bibtex import entry_blocks, parse_bibtex
from ketsite.sources.discover import SourceFile, SourceSet

log = logging.getLogger(__name__)

CACHE_DIR = ".ketsite-cache"
#: Bumped when the layout of the cache changes.
CACHE_FORMAT = 2
#: Below this many bytes to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 1_000_000

_YAML_PARSERS = {
    "reviews": parse_review,
    "conditions": parse_condition,
    "papers": parse_annotation,
    "authors": parse_author,
}
#: The order parse_sources reads the kinds in (references and Markdown lists follow it).
KINDS = ("bib", "reviews", "conditions", "papers", "authors")


@dataclass
class Fragment:
    """What one source file contributes."""

    parsed: ParsedSources = field(default_factory=ParsedSources)
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class LoadStats:
    files: int = 0
    parsed: int = 0  # cache misses
    changed: list[str] = field(default_factory=list)  # paths of the files parsed


def parse_file(kind: str, source: SourceFile) -> Fragment:
    """Parse one source file of ``kind`` (``bib`` or a content folder) into a fragment."""
    diags = Diagnostics()
    frag = Fragment()
    if kind == "bib":
        # The raw entries are not kept: only the papers made of them are used (they were a third
        # of what a fragment costs to send back from a worker, store and load again).
        names: dict[tuple[str, ...], tuple[str, ...]] = {}
        for entry in parse_bibtex(source, diags):
            paper = parse_paper(entry, diags, names)
            if paper is not None:
                frag.parsed.papers.append(paper)
    else:
        _YAML_PARSERS[kind](source, frag.parsed, diags)
        check_markdown(frag.parsed.markdown, diags)  # per text, so per file like the rest
    frag.diagnostics = diags.items
    return frag


def reparse_bib(previous: SourceFile, before: Fragment, source: SourceFile) -> Fragment | None:
    """The fragment of ``source``, made from ``before`` (the fragment of ``previous``, an earlier
    text of the same ``.bib`` file) by parsing again only the entries whose text or first line
    changed. A title edited in a file of 250 entries is then one entry parsed, not 250.

    ``None`` when the result could differ from parsing the whole file, which the caller then does:
    a file with ``@string`` or ``@preamble`` blocks, an error anywhere (bibtexparser may then read
    a block into the next one), a block that is not exactly one entry, or a key written twice.
    Otherwise every entry parses alone as it does in its file (the splitter starts afresh at each
    ``@``), and each is parsed at its own line, so papers, locations and warnings are the same.
    """
    old, new = entry_blocks(previous.text), entry_blocks(source.text)
    papers = before.parsed.papers
    if old is None or new is None or len(old) != len(papers):
        return None
    if any(d.severity is Severity.ERROR for d in before.diagnostics):
        return None
    starts = [line for line, _ in old]
    ends = starts[1:] + [starts[-1] + old[-1][1].count("\n") + 1]
    warnings: list[list[Diagnostic]] = [[] for _ in old]
    for d in before.diagnostics:  # warnings of parse_paper, entry by entry: to their blocks
        i = bisect.bisect_right(starts, d.location.line - 1) - 1
        if i < 0 or d.location.path != source.rel or d.location.line > ends[i]:
            return None
        warnings[i].append(d)
    known: dict[tuple[int, str], tuple[Paper, list[Diagnostic]]] = {}
    for block, end, paper, found in zip(old, ends, papers, warnings, strict=True):
        if not block[0] < paper.loc.line <= end:  # 1-based line of the entry, in its block
            return None
        known[block] = (paper, found)
    out = Fragment()
    for line0, text in new:
        hit = known.get((line0, text))
        if hit is None:  # parsed at its own line: the lines before it are left empty
            frag = parse_file("bib", SourceFile(source.rel, source.path, "\n" * line0 + text))
            if len(frag.parsed.papers) != 1 or any(
                    d.severity is Severity.ERROR for d in frag.diagnostics):
                return None
            hit = (frag.parsed.papers[0], frag.diagnostics)
        out.parsed.papers.append(hit[0])
        out.diagnostics.extend(hit[1])
    keys = [p.key.lower() for p in out.parsed.papers]
    if len(set(keys)) != len(keys):
        return None
    return out


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of everything a fragment depends on besides its file: ketsite's parsing code and the
    versions of the libraries it calls. A new ketsite or bibtexparser invalidates the cache."""
    h = hashlib.blake2b(f"ketsite-cache {CACHE_FORMAT}".encode(), digest_size=16)
    package = Path(__file__).parent
    for rel in ("diagnostics.py", "cache.py", "config.py", "markdown.py", "model", "sources"):
        path = package / rel
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(f.relative_to(package).as_posix().encode())
            h.update(f.read_bytes())
    for dist in ("bibtexparser", "pyyaml", "pylatexenc", "python-slugify", "text-unidecode"):
        try:
            h.update(f"{dist}={importlib.metadata.version(dist)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{dist}=none".encode())
    return h.hexdigest()


def source_key(kind: str, source: SourceFile) -> str:
    h = hashlib.blake2b(digest_size=20)
    h.update(code_fingerprint().encode())
    h.update(b"\0" + kind.encode() + b"\0" + source.rel.encode() + b"\0")
    h.update(source.text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


class FragmentStore:
    """Fragments by key: in memory for a long-running process, on disk under ``.ketsite-cache``.

    A ``.bib`` file's fragment (hundreds of papers) is one file on disk; the many small YAML files
    of a content folder share one pack per folder, since creating thousands of small files is slow
    on some file systems (and so is reading them back).
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder / "parsed" if folder is not None else None
        self.memory: dict[str, Fragment] = {}
        self._packs: dict[str, dict[str, Fragment]] = {}  # kind → key → fragment, as on disk
        self._dirty: set[str] = set()
        # The key of each source object seen last: an unchanged file (the same SourceFile, from
        # discover's ReadCache) is not hashed again.
        self._keys: dict[str, tuple[SourceFile, str]] = {}

    def in_memory(self) -> tuple[dict[str, Fragment], dict[str, tuple[SourceFile, str]]]:
        """The fragments and source keys this store holds, for :meth:`adopt` in a new process."""
        return self.memory, self._keys

    def adopt(self, fragments: dict[str, Fragment],
              keys: dict[str, tuple[SourceFile, str]]) -> None:
        """Take over what another store held (a previous process's; still keyed by content)."""
        self.memory.update(fragments)
        self._keys.update(keys)

    def previous(self, rel: str) -> tuple[SourceFile, Fragment] | None:
        """The text of ``rel`` this store saw last, with its fragment if it still holds it in
        memory (to parse an edited ``.bib`` file again entry by entry: :func:`reparse_bib`)."""
        seen = self._keys.get(rel)
        frag = self.memory.get(seen[1]) if seen is not None else None
        return (seen[0], frag) if seen is not None and frag is not None else None

    def key(self, kind: str, source: SourceFile) -> str:
        seen = self._keys.get(source.rel)
        if seen is not None and seen[0] is source:
            return seen[1]
        key = source_key(kind, source)
        self._keys[source.rel] = (source, key)
        return key

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.pickle"

    def _pack_path(self, kind: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{kind}.pack.pickle"

    def _pack(self, kind: str) -> dict[str, Fragment]:
        pack = self._packs.get(kind)
        if pack is None:
            pack = {}
            if self.folder is not None:
                loaded = read_pickle(self._pack_path(kind))
                if isinstance(loaded, dict):
                    pack = loaded
            self._packs[kind] = pack
        return pack

    def get(self, key: str, kind: str = "bib") -> Fragment | None:
        frag = self.memory.get(key)
        if frag is not None or self.folder is None:
            return frag
        frag = read_pickle(self._path(key)) if kind == "bib" else self._pack(kind).get(key)
        if not isinstance(frag, Fragment):
            return None
        self.memory[key] = frag
        return frag

    def put(self, key: str, frag: Fragment, kind: str = "bib") -> None:
        self.memory[key] = frag
        if self.folder is None:
            return
        if kind != "bib":
            self._pack(kind)[key] = frag
            self._dirty.add(kind)
            return
        write_pickle(self._path(key), frag)

    def retain(self, keys_by_kind: dict[str, set[str]]) -> None:
        """Forget fragments of files that no longer exist in that form, then write what changed."""
        keys = set().union(*keys_by_kind.values()) if keys_by_kind else set()
        for key in list(self.memory):
            if key not in keys:
                del self.memory[key]
        if self.folder is None:
            return
        for kind, wanted in keys_by_kind.items():
            # A pack not loaded had no file of its kind parsed (put loads it): it is pruned by
            # the next build that loads it, not read now only for that (0.1 s at 10,000 papers).
            if kind == "bib" or kind not in self._packs:
                continue
            pack = self._packs[kind]
            for key in list(pack):
                if key not in wanted:
                    del pack[key]
                    self._dirty.add(kind)
        for kind in sorted(self._dirty):
            write_pickle(self._pack_path(kind), self._packs[kind])
        self._dirty.clear()
        if self.folder.is_dir():
            for sub in self.folder.iterdir():
                if sub.is_dir():
                    for entry in sub.iterdir():
                        if entry.suffix == ".pickle" and entry.stem not in keys:
                            entry.unlink(missing_ok=True)


def read_pickle(path: Path) -> object:
    """The value pickled at ``path``; None if there is none or it cannot be read (a damaged
    cache file is a miss, never a failed build)."""
    try:
        with path.open("rb") as f:  # read as it is unpickled: no copy of the whole file first
            return pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as exc:
        log.debug("ignoring unreadable cache file %s: %s", path, exc)
        return None


def write_pickle(path: Path, value: object) -> bool:
    """Pickle ``value`` to ``path`` through a temporary sibling (a reader sees the old file or the
    new one); False if it could not be written (a read-only or full disk: build without it)."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        log.debug("cannot write cache file %s: %s", path, exc)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return False


def _parse_batch(batch: list[tuple[str, SourceFile]]) -> list[Fragment]:
    return [parse_file(kind, source) for kind, source in batch]


def batches_by_size(sizes: list[int], count: int) -> list[list[int]]:
    """Indexes of ``sizes`` in about ``count`` batches of about equal total size, biggest items
    first, so no worker is left parsing a large file alone at the end.

    Batches of equal *length* were not enough: a project's dozens of large ``.bib`` files sort
    first, and the first batch of a few hundred files took every one of them (at ten thousand
    papers one worker parsed for six seconds while the other had finished).
    """
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    target = max(1, sum(sizes) // max(1, count))
    out: list[list[int]] = []
    batch: list[int] = []
    total = 0
    for i in order:
        batch.append(i)
        total += sizes[i]
        if total >= target:
            out.append(batch)
            batch, total = [], 0
    if batch:
        out.append(batch)
    return out


def _parse_all(jobs: list[tuple[str, SourceFile]], workers: int) -> list[Fragment]:
    size = sum(len(s.text) for _, s in jobs)
    if workers <= 1 or len(jobs) < 2 or size < PARALLEL_MIN_BYTES:
        return [parse_file(kind, source) for kind, source in jobs]
    import multiprocessing

    groups = batches_by_size([len(s.text) for _, s in jobs], workers * 8)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        results = pool.map(_parse_batch, [[jobs[i] for i in g] for g in groups], chunksize=1)
    out: list[Fragment | None] = [None] * len(jobs)
    for group, frags in zip(groups, results, strict=True):
        for i, frag in zip(group, frags, strict=True):
            out[i] = frag
    return [f for f in out if f is not None]


def sources_by_kind(sources: SourceSet) -> Iterable[tuple[str, SourceFile]]:
    for kind in KINDS:
        yield from ((kind, s) for s in getattr(sources, kind))


def parse_all(
    sources: SourceSet, diags: Diagnostics, store: FragmentStore | None = None, workers: int = 1,
    stats: LoadStats | None = None,
) -> ParsedSources:
    """Every source parsed (from ``store`` where it has the file), merged in source order."""
    stats = stats if stats is not None else LoadStats()
    files = list(sources_by_kind(sources))
    # Before the keys below replace them: the last text and fragment of each .bib file
    before = {s.rel: store.previous(s.rel) for kind, s in files if kind == "bib"} if store else {}
    keys = [store.key(kind, s) for kind, s in files] if store is not None else []
    frags: list[Fragment | None] = (
        [store.get(k, kind) for k, (kind, _) in zip(keys, files, strict=True)]
        if store is not None else [None] * len(files)
    )
    missing = [i for i, f in enumerate(frags) if f is None]
    for i in missing:  # an edited .bib file: its changed entries only, where that is the same
        last = before.get(files[i][1].rel)
        frags[i] = reparse_bib(*last, files[i][1]) if last is not None else None
    full = [i for i in missing if frags[i] is None]
    for i, frag in zip(full, _parse_all([files[i] for i in full], workers), strict=True):
        frags[i] = frag
    if store is not None:
        for i in missing:
            store.put(keys[i], frags[i], files[i][0])
    if store is not None:
        by_kind: dict[str, set[str]] = {kind: set() for kind in KINDS}
        for key, (kind, _) in zip(keys, files, strict=True):
            by_kind[kind].add(key)
        store.retain(by_kind)
    stats.files = len(files)
    stats.parsed = len(missing)
    stats.changed = [files[i][1].rel for i in missing]
    out = ParsedSources()
    for frag in frags:
        assert frag is not None
        part = frag.parsed
        out.papers.extend(part.papers)
        out.annotations.extend(part.annotations)
        out.conditions.extend(part.conditions)
        out.reviews.extend(part.reviews)
        out.author_overrides.extend(part.author_overrides)
        out.references.extend(part.references)
        out.markdown.extend(part.markdown)
        diags.items.extend(frag.diagnostics)
    return out
