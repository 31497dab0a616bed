"""Writing the site: all files to a sibling temporary folder, then one swap into place.

A failed build (or a crash half-way) never touches the previous output; a reader of the output
folder sees either the old site or the new one. Paths are checked to stay inside the folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath


class OutputError(Exception):
    pass


def safe_join(root: Path, rel: str) -> Path:
    """``root / rel``, refusing absolute paths, ``..`` and anything resolving outside ``root``."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in rel or "\x00" in rel:
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    target = root.joinpath(*pure.parts)
    if not target.resolve().is_relative_to(root.resolve()):
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    return target


#: Folders of a project that hold its sources (or its history): never an output folder.
SOURCE_FOLDERS = ("bib", "content", "templates", ".git", ".ketsite-cache")
#: Entries that make a folder a project or a repository, not a site to replace.
PROJECT_ENTRIES = frozenset({".git", "ketsite.yaml", "bib", "content", "templates"})


def unsafe_output(out: Path, src: Path) -> str | None:
    """Why replacing the folder ``out`` with a built site could destroy something, or None.

    A full build swaps the whole folder out: ``--out .`` in the project, ``--out content`` or a
    folder of someone's documents would be deleted whole. As MkDocs does for ``site_dir``, the
    project itself, a folder containing it and its source folders are refused; so is an existing
    folder that is not empty and has no ``index.html`` (every site ketsite builds has one), or
    that holds a project or a repository of its own.
    """
    out, src = out.absolute().resolve(), src.absolute().resolve()
    if out == src or src.is_relative_to(out):
        return (f"the output folder {out} contains the project's sources ({src}); "
                "choose a folder of its own, such as the default SRC/_site")
    for name in SOURCE_FOLDERS:
        if out.is_relative_to(src / name):
            return (f"the output folder {out} is inside the project's {name}/ folder; "
                    "choose a folder of its own, such as the default SRC/_site")
    if out.exists() and not out.is_dir():
        return f"the output path {out} exists and is not a folder; remove it or choose another"
    if out.is_dir():
        try:
            names = set(os.listdir(out))
        except OSError as exc:
            return f"cannot read the output folder {out}: {exc.strerror or exc}"
        if names and "index.html" not in names:
            return (f"the output folder {out} is not empty and is not a site ketsite built "
                    "(no index.html): a build replaces the whole folder; remove it yourself "
                    "or choose a new folder")
        mine = names & PROJECT_ENTRIES
        if mine:
            return (f"the output folder {out} holds {', '.join(sorted(mine))}: a build replaces "
                    "the whole folder; choose a new folder")
    return None


def new_folder(out: Path) -> Path:
    """An empty sibling of ``out`` for the next site (same file system: the swap is a rename)."""
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))


def swap_into_place(tmp: Path, out: Path, background_delete: bool = False) -> None:
    """Replace the folder ``out`` by the finished folder ``tmp`` with renames only.

    With ``background_delete`` the previous site (already renamed out of the way) is deleted by a
    separate process, so the build is done as soon as the new site is in place: deleting tens of
    thousands of files takes as long as writing them.
    """
    out = out.absolute()
    os.chmod(tmp, 0o755)
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / "site")
        try:
            os.replace(tmp, out)
        except OSError:
            os.replace(old / "site", out)
            raise
        if background_delete:
            delete_in_background(old)
        else:
            shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def detach_streams() -> None:
    """Point this (forked, background) process's standard streams at /dev/null, so whoever reads
    the command's output through a pipe (``ketsite build | tee log``, a CI runner) sees it end
    when the command does, not when the background work does."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def delete_in_background(folder: Path) -> None:
    """Remove ``folder`` from a detached grandchild process (or now, where there is no fork)."""
    if not hasattr(os, "fork"):
        shutil.rmtree(folder, ignore_errors=True)
        return
    try:
        pid = os.fork()
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    if pid == 0:  # child: fork the worker and leave at once, so nobody has to wait for it
        try:
            if os.fork() == 0:
                os.setsid()
                detach_streams()
                shutil.rmtree(folder, ignore_errors=True)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def check_relative(rel: str) -> tuple[str, ...]:
    """The parts of a site-relative path; no absolute paths, ``..``, backslashes or NULs."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in rel or "\x00" in rel:
        raise OutputError(f"refusing to write outside the output folder: {rel!r}")
    return pure.parts


def current_umask() -> int | None:
    """This process's umask, read without setting it (``os.umask`` can only be read by changing it,
    for a moment, under every thread of the process); ``None`` where the kernel does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return None


_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


class FreshTreeWriter:
    """Writes files into a folder this build just created (:func:`new_folder`).

    Nothing else has written there, so no symlink can lead out of it and the textual check of
    :func:`check_relative` is enough; folders already made are remembered. Tens of thousands of
    pages make ``resolve()``, ``mkdir`` and ``chmod`` per file a noticeable part of a build, so
    files are written with bare system calls, created with their final mode when the umask keeps
    it (the usual 022), and changed to it afterwards otherwise.
    """

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self._made: set[str] = set()
        mask = current_umask()
        self._chmod = mask is None or mask & 0o755 != 0

    def write(self, rel: str, data: bytes) -> None:
        """Write one file, 0644 in folders 0755 whatever the umask (so the output does not depend
        on the umask)."""
        parts = check_relative(rel)
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in self._made:
                path = f"{self.root}/{folder}"
                try:
                    os.mkdir(path, 0o755)
                except FileExistsError:
                    if not os.path.isdir(path):
                        raise
                if self._chmod:
                    os.chmod(path, 0o755)
                self._made.add(folder)
        target = f"{self.root}/{rel}"
        fd = os.open(target, _FILE_FLAGS, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if self._chmod:
                os.fchmod(fd, 0o644)
        finally:
            os.close(fd)


def replace_file(out: Path, rel: str, data: bytes) -> None:
    """Write one file of an existing site: a temporary sibling renamed over it (never half-done)."""
    target = safe_join(out, rel)
    folder = target.parent
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        root = out.absolute()
        while folder != root and folder.is_relative_to(root):
            os.chmod(folder, 0o755)
            folder = folder.parent
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def remove_file(out: Path, rel: str) -> None:
    """Remove a file no longer built, and the folders it leaves empty."""
    target = safe_join(out, rel)
    target.unlink(missing_ok=True)
    parent = target.parent
    root = out.absolute()
    while parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def list_files(folder: str) -> set[str]:
    """Every file under ``folder`` (symlinks to files included), as ``/``-separated relative
    paths; one directory read per folder, not one ``stat`` per file."""
    found: set[str] = set()
    stack = [("", folder)]
    while stack:
        rel, path = stack.pop()
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((rel + entry.name + "/", entry.path))
                    elif entry.is_file():
                        found.add(rel + entry.name)
        except OSError:
            continue
    return found


class Listing:
    """:func:`list_files` of a folder, made by a forked process while this one goes on.

    ``build --incremental`` in a new process checks that every file of the last build is still
    there (a page deleted by hand is made again): ninety thousand ``stat`` calls at ten thousand
    papers, over a second. Listed meanwhile on the other core, while the previous state loads, it
    costs nothing to wait for."""

    def __init__(self, folder: Path) -> None:
        import concurrent.futures
        import multiprocessing

        self._pool = concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("fork"))
        self._future = self._pool.submit(list_files, str(folder))

    def result(self) -> set[str] | None:
        """The files, or None if the listing failed (then check each file)."""
        try:
            return self._future.result()
        except Exception:  # a broken worker: the caller falls back to one stat per file
            return None

    def close(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
