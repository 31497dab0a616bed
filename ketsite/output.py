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


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (site-relative path → bytes) below ``root``, in sorted order.

    Modes are set explicitly (0644 files, 0755 folders), so the output does not depend on the
    umask of whoever builds it and a web server running as another user can read it."""
    for rel in sorted(files):
        target = safe_join(root, rel)
        folder = target.parent
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            while folder != root and folder.is_relative_to(root):
                os.chmod(folder, 0o755)
                folder = folder.parent
        target.write_bytes(files[rel])
        os.chmod(target, 0o644)


def write_atomically(out: Path, files: dict[str, bytes]) -> None:
    """Replace the folder ``out`` with exactly ``files``; on any error ``out`` is unchanged."""
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        write_tree(tmp, files)
        os.chmod(tmp, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "site")
            try:
                os.replace(tmp, out)
            except OSError:
                os.replace(old / "site", out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def update_in_place(out: Path, files: dict[str, bytes]) -> list[str]:
    """Incremental write: rewrite only files whose bytes changed, remove files no longer built.
    Returns the paths written."""
    written = []
    existing = {
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()
    } if out.exists() else set()
    for rel in sorted(files):
        target = safe_join(out, rel)
        data = files[rel]
        if rel in existing and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written.append(rel)
    for rel in sorted(existing - set(files)):
        safe_join(out, rel).unlink()
    return written
