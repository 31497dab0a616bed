"""The offline bundle: the whole site as one reproducible zip that works from ``file://``.

It is built with ``LinkStyle.FILES`` (every link names its ``index.html``: a folder link would open
a directory listing from disk), into a temporary folder, then packed with sorted entries, a fixed
date and fixed permissions, so the same sources always give the same bytes. The zip is written
beside its destination and renamed into place: a failed run leaves the previous zip untouched.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ketsite.build import BuildResult, build
from ketsite.site.routes import LinkStyle
from ketsite.sources.discover import WINDOWS_RESERVED, WINDOWS_UNSAFE

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold
FILE_MODE = stat.S_IFREG | 0o644


@dataclass
class BundleResult:
    build: BuildResult
    zip_path: Path | None = None
    files: int = 0
    size: int = 0


def folder_name(zip_name: str) -> str:
    """The folder inside ``zip_name``: its name without ``.zip`` (any case), with the characters
    Windows refuses in a file name as ``-``, and not a device name (``CON``): the zip must
    unpack everywhere."""
    stem = WINDOWS_UNSAFE.sub("-", zip_name[:-4] if zip_name.lower().endswith(".zip")
                              else zip_name).rstrip(" .")
    if not stem or stem.split(".")[0].lower() in WINDOWS_RESERVED:
        stem = f"site-{stem}" if stem else "site"
    return stem


def zip_folder(site: Path, dest: Path, top: str) -> int:
    """Pack every file below ``site`` into ``dest`` under the folder ``top``; returns the count."""
    files = sorted(
        (p for p in site.rglob("*") if p.is_file()), key=lambda p: p.relative_to(site).as_posix()
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for path in files:
                info = zipfile.ZipInfo(f"{top}/{path.relative_to(site).as_posix()}", FIXED_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, so the permission bits below are honoured
                info.external_attr = FILE_MODE << 16
                zf.writestr(info, path.read_bytes(), compresslevel=9)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return len(files)


def bundle(root: Path, dest: Path) -> BundleResult:
    """Check and build the site for offline use and write it to the zip ``dest``.

    The zip holds one folder named after the zip (``site.zip`` → ``site/``), with ``index.html``
    at its top: unzip, open the folder, double-click ``index.html``."""
    with tempfile.TemporaryDirectory(prefix="ketsite-bundle-") as tmp:
        site = Path(tmp) / "site"
        result = BundleResult(build(root, site, LinkStyle.FILES))
        if result.build.diagnostics.has_errors:
            return result
        top = folder_name(dest.name)
        result.files = zip_folder(site, dest, top)
    result.zip_path = dest
    result.size = dest.stat().st_size
    return result
