"""Find the source files of a project and read them as UTF-8 text, reporting bad bytes by line."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ketsite.diagnostics import (
    Diagnostic,
    Diagnostics,
    SourceLocation,
    location_of_offset,
    relative_path,
)

#: Characters no source needs and no page should carry: C0/C1 controls except tab and newlines.
#: Control characters; U+FFFE and U+FFFF, which no XML file (the feed, the sitemap) may hold; and
#: the line and paragraph separators U+2028 and U+2029, which YAML counts as line breaks (so every
#: later line number would be off from the editor's) and which are invisible.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
_KINDS = {"\u2028": "line separator", "\u2029": "paragraph separator", "\ufffe": "noncharacter",
          "\uffff": "noncharacter"}

#: Source files larger than this are refused: nothing a person writes by hand is this big.
MAX_SOURCE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """One source file: its path relative to the project (for messages) and its text."""

    rel: str
    path: Path
    text: str


@dataclass(frozen=True)
class SourceSet:
    """Every source file of a project, grouped by kind, each group sorted by path."""

    bib: tuple[SourceFile, ...]
    reviews: tuple[SourceFile, ...]
    conditions: tuple[SourceFile, ...]
    papers: tuple[SourceFile, ...]
    authors: tuple[SourceFile, ...]
    config: SourceFile | None


CONTENT_KINDS = ("reviews", "conditions", "papers", "authors")

#: A file modified this recently (nanoseconds) is read again even when its stat is unchanged: file
#: times have a coarse clock (a few ms), so two writes within one tick can leave the same mtime.
#: Git's index calls this "racily clean" and does the same.
RACY_NS = 2_000_000_000

Signature = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


@dataclass
class ReadCache:
    """Source files as last read, by path and ``stat`` signature.

    A long-running ``ketsite serve`` rebuilds after every save; reading and decoding thousands of
    unchanged files each time would be most of an edit's rebuild at ten thousand papers. A file
    whose size, times and inode are what they were (and that was not modified just before it was
    read, see :data:`RACY_NS`) is not read again: its text and diagnostics are reused.
    """

    files: dict[str, tuple[Signature, SourceFile, tuple[Diagnostic, ...]]] = field(
        default_factory=dict)
    hits: int = 0
    reads: int = 0


def read_source(path: Path | str, root: Path, diags: Diagnostics,
                cache: ReadCache | None = None, rel: str | None = None) -> SourceFile | None:
    """Read ``path`` as UTF-8; undecodable bytes are an error at their line and column. (A
    string path is made a ``Path`` only when the file is read: most are unchanged.)"""
    rel = rel if rel is not None else relative_path(Path(path), root)
    try:
        st = os.stat(path)
        if st.st_size > MAX_SOURCE_BYTES:
            diags.error(
                SourceLocation(rel),
                f"file is {st.st_size} bytes; source files are limited to {MAX_SOURCE_BYTES} bytes",
            )
            return None
        sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        key = os.fspath(path)
        if cache is not None:
            hit = cache.files.get(key)
            if hit is not None and hit[0] == sig and hit[1].rel == rel:
                cache.hits += 1
                diags.items.extend(hit[2])
                return hit[1]
        read_at = time.time_ns()
        path = Path(path)
        data = path.read_bytes()
    except OSError as exc:
        diags.error(SourceLocation(rel), f"cannot read file: {exc.strerror or exc}")
        return None
    if cache is None:
        return decode_source(rel, path, data, diags)
    cache.reads += 1
    own = Diagnostics()
    source = decode_source(rel, path, data, own)
    diags.items.extend(own.items)
    if read_at - st.st_mtime_ns > RACY_NS:
        cache.files[key] = (sig, source, tuple(own.items))
    else:
        cache.files.pop(key, None)
    return source


def decode_source(rel: str, path: Path, data: bytes, diags: Diagnostics) -> SourceFile:
    """Bytes to text, each problem at its line and column (also for text read from stdin)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Reported once, at its line and column; the rest of the file is still read (with U+FFFD
        # for the bad bytes) so its other entries and problems are not hidden behind this one.
        good = data[: exc.start].decode("utf-8")
        text = data.decode("utf-8", errors="replace")
        more = text.count("\ufffd") - good.count("\ufffd") - 1
        diags.error(
            location_of_offset(rel, good, len(good)),
            f"invalid UTF-8 byte 0x{data[exc.start]:02x}"
            + (f" (and {more} more)" if more > 0 else "")
            + "; save the file as UTF-8",
        )
    controls = _CONTROL.findall(text)
    if controls:
        first = _CONTROL.search(text)
        assert first is not None
        more = f" (and {len(controls) - 1} more)" if len(controls) > 1 else ""
        diags.error(location_of_offset(rel, text, first.start()),
                    f"{_KINDS.get(first.group(), 'control character')} "
                    f"U+{ord(first.group()):04X}{more} in the file; delete it "
                    "(it is invisible in most editors)")
        text = _CONTROL.sub("\ufffd", text)
    return SourceFile(rel, path, text.replace("\r\n", "\n"))


#: Names Windows refuses for a file or folder, whatever follows their first dot ("con.yaml",
#: "aux.bib"): a repository holding one cannot be checked out there, nor a site unzipped.
#: Characters Windows does not allow in a file name.
WINDOWS_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
WINDOWS_RESERVED = frozenset({"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)}
                             | {f"lpt{i}" for i in range(1, 10)})


def windows_problem(name: str, characters: bool = True) -> str | None:
    """Why ``name`` cannot be a file or folder name on Windows, or None. ``characters=False``:
    not its characters (an annotation file is named by its citation key exactly, which may
    hold ':')."""
    if characters and WINDOWS_UNSAFE.search(name):
        bad = sorted(set(WINDOWS_UNSAFE.findall(name)))
        return f"'{name}' holds {' '.join(bad)}, which Windows does not allow in a file name"
    stem = name.partition(".")[0]
    if len(stem) <= 4 and stem.lower() in WINDOWS_RESERVED:
        return f"'{name}' is a name Windows reserves for a device"
    if name.endswith("."):
        return f"'{name}' ends with '.', which Windows drops (it would be the same as another name)"
    return None


def _outside(path: str, real_root: str) -> bool:
    """Whether ``path`` (a symbolic link, or inside one) leads out of the project. A link in a pull
    request could otherwise publish any file of the machine that builds the site, or print its
    keys in a CI log through ``check``'s messages."""
    real = os.path.realpath(path)
    return real != real_root and not real.startswith(real_root + os.sep)


def _files(folder: Path, suffixes: tuple[str, ...], real_root: str) -> list[str]:
    """The names of the files of ``folder`` with one of ``suffixes``, sorted; none leading out of
    the project (:func:`_unread` reports those). ``os.scandir`` and name strings: a rebuild lists
    thousands of source files, most unchanged, and making, sorting and statting ``Path`` objects
    for them cost more than listing them."""
    if _outside(os.fspath(folder), real_root) and os.path.lexists(folder):
        return []
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries
                          if e.is_file() and os.path.splitext(e.name)[1].lower() in suffixes
                          and not (e.is_symlink() and _outside(e.path, real_root)))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _one_per_id(names: list[str], rel: str, diags: Diagnostics) -> list[str]:
    """The file name is the id: ``x.yaml`` beside ``x.yml`` (or ``X.yaml``, which is the same file
    on macOS) would be two sources for one page, and one of them would silently lose. ``rel``:
    the folder, below the project root."""
    first: dict[str, str] = {}
    kept = []
    for name in names:
        stem = os.path.splitext(name)[0].lower()
        other = first.setdefault(stem, name)
        if other is name:
            kept.append(name)
            continue
        diags.error(
            SourceLocation(f"{rel}/{name}"),
            f"'{name}' and '{other}' both define '{stem}' "
            "(the file name is the id, compared ignoring case and extension); keep one",
        )
    return kept


def _unread(root: Path, real_root: str, rel: str, suffixes: tuple[str, ...],
            diags: Diagnostics) -> None:
    """An error for each entry of the source folder ``rel`` that looks like a source but would not
    be read: a file of another type, a subfolder, a broken link, a folder named ``x.bib``; and for
    ``rel`` itself being a file. Nothing a contributor adds is dropped without a word. Hidden
    files (``.gitkeep``, ``.DS_Store``) are ignored, unless named like a source (``.yaml``)."""
    folder = os.path.join(root, rel)
    if os.path.lexists(folder) and _outside(folder, real_root):
        diags.error(SourceLocation(rel), f"{rel} is a symbolic link out of the project; sources "
                    "are read from the project's own folders only: replace it with a folder")
        return
    if not os.path.isdir(folder):
        if os.path.lexists(folder):
            diags.error(SourceLocation(rel), f"{rel} is a file, not a folder: its sources are "
                        f"{' or '.join(suffixes)} files inside a folder {rel}/")
        return
    kinds = " or ".join(suffixes)
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        suffix = os.path.splitext(name)[1].lower()
        if name.startswith(".") and not name.lower().endswith(suffixes):
            continue
        if os.path.islink(path) and _outside(path, real_root):
            diags.error(SourceLocation(f"{rel}/{name}"), "a symbolic link out of the project is "
                        "not read: sources are the project's own files; copy the file in")
            continue
        if suffix in suffixes and os.path.isfile(path):
            problem = windows_problem(name) if rel == "bib" else None  # content: ids, checked
            if problem is not None:
                diags.error(SourceLocation(f"{rel}/{name}"),
                            f"{problem}; rename the file (the repository must check out "
                            "everywhere)")
            continue  # read (a file name that is not a valid id is reported by its parser)
        if not os.path.exists(path):
            why = "a broken symbolic link; remove it or point it at a file"
        elif os.path.isdir(path):
            why = (f"a folder; only {kinds} files directly in {rel}/ are read: "
                   "move its files up")
        elif name.startswith("."):
            why = f"a hidden file is not read; name it after its id, as x{suffixes[0]}"
        elif suffix not in suffixes:
            diags.error(SourceLocation(f"{rel}/{name}"),
                        f"unexpected file in {rel}/: only {suffixes[0]} files are read")
            continue
        else:
            why = "not a regular file; replace it with one"
        diags.error(SourceLocation(f"{rel}/{name}"), f"unexpected entry in {rel}/: {why}")


def _links_out(root: Path, real_root: str, rel: str, diags: Diagnostics) -> None:
    """An error for each symbolic link under the folder ``rel`` (templates: Jinja would read
    through it) that leads out of the project."""
    top = os.path.join(root, rel)
    if os.path.islink(top) and _outside(top, real_root):
        diags.error(SourceLocation(rel), f"{rel} is a symbolic link out of the project; "
                    "replace it with a folder")
        return
    for folder, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            if os.path.islink(path) and _outside(path, real_root):
                diags.error(SourceLocation(os.path.relpath(path, root).replace(os.sep, "/")),
                            "a symbolic link out of the project is not read: templates are the "
                            "project's own files; copy the file in")


def discover(root: Path, diags: Diagnostics, cache: ReadCache | None = None) -> SourceSet:
    """Read every source file under ``root``. Files of unknown kind in content folders are errors.

    With a ``cache`` (kept by a long-running process), unchanged files are not read again."""
    # Every file is found below ``root``: its path for messages is its place there (resolving each
    # of ten thousand paths through the file system would cost more than reading them).
    def read_all(rel: str, names: list[str]) -> tuple[SourceFile, ...]:
        # one folder's files, by name: paths as strings, joined once per folder
        folder = os.path.join(root, rel, "")
        files = (read_source(folder + name, root, diags, cache, f"{rel}/{name}")
                 for name in names)
        return tuple(f for f in files if f is not None)

    content = root / "content"
    real_root = os.path.realpath(root)
    if not any(os.path.lexists(os.path.join(root, name)) for name in ("bib", "content",
                                                                        "ketsite.yaml")):
        diags.error(SourceLocation("ketsite.yaml"),
                    f"no ketsite project in {root}: it has no ketsite.yaml, bib/ or content/; "
                    "give the project's folder (--src DIR)")
    groups: dict[str, tuple[SourceFile, ...]] = {}
    for kind in CONTENT_KINDS:
        folder = content / kind
        names = _one_per_id(_files(folder, (".yaml", ".yml"), real_root), f"content/{kind}",
                            diags)
        groups[kind] = read_all(f"content/{kind}", names)
        _unread(root, real_root, f"content/{kind}", (".yaml", ".yml"), diags)
    if content.is_dir():
        for p in sorted(content.iterdir()):
            if p.name not in CONTENT_KINDS and not p.name.startswith("."):
                diags.error(
                    SourceLocation(relative_path(p, root)),
                    "unexpected entry in content/: expected one of "
                    + ", ".join(f"{k}/" for k in CONTENT_KINDS),
                )
    _unread(root, real_root, "bib", (".bib",), diags)
    _links_out(root, real_root, "templates", diags)
    config_path = root / "ketsite.yaml"
    if os.path.islink(config_path) and _outside(os.fspath(config_path), real_root):
        diags.error(SourceLocation("ketsite.yaml"), "ketsite.yaml is a symbolic link out of the "
                    "project; the configuration is read from the project's own file only")
        config = None
    else:
        config = read_source(config_path, root, diags) if config_path.is_file() else None
    return SourceSet(
        bib=read_all("bib", _files(root / "bib", (".bib",), real_root)),
        reviews=groups["reviews"],
        conditions=groups["conditions"],
        papers=groups["papers"],
        authors=groups["authors"],
        config=config,
    )
