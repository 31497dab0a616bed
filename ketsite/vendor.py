"""Third-party browser code, copied at build time from ``node_modules`` (installed by ``npm ci``).

The site ships the exact file the lock file pins rather than a copy kept by hand, and it ships it
as a local asset: no CDN, so the offline bundle and the CSP (``script-src 'self'``) both hold. A
missing or stale install is an error with the fix in it, never a site whose search silently fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ketsite.diagnostics import Diagnostics, SourceLocation


@dataclass(frozen=True)
class VendorFile:
    asset: str  # logical asset name, as in ``h.asset('minisearch.js')``
    package: str  # npm package name
    path: str  # file inside the package
    purpose: str


VENDOR_FILES = (
    VendorFile("minisearch.js", "minisearch", "dist/umd/index.js",
               "the search library (classic script defining window.MiniSearch)"),
)

#: The ketsite checkout itself: its node_modules serve projects that have none of their own.
KETSITE_HOME = Path(__file__).resolve().parent.parent


def _candidates(root: Path) -> list[Path]:
    """node_modules folders in Node's lookup order (the project, then its parents), then
    ketsite's own checkout (an editable install), without duplicates."""
    seen: list[Path] = []
    start = root.resolve()
    for folder in (start, *start.parents, KETSITE_HOME):
        nm = folder / "node_modules"
        if nm not in seen:
            seen.append(nm)
    return seen


def _locked_version(root: Path, package: str) -> str | None:
    """The version the nearest package-lock.json pins for ``package``."""
    for folder in (root.resolve(), *root.resolve().parents, KETSITE_HOME):
        lock = folder / "package-lock.json"
        if lock.is_file():
            try:
                data = json.loads(lock.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            entry = data.get("packages", {}).get(f"node_modules/{package}", {})
            return entry.get("version")
    return None


def _banner(package_dir: Path, package: str, version: str) -> bytes:
    """The package's licence as a leading comment: the MIT licence asks copies to keep it."""
    licence = ""
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE"):
        if (package_dir / name).is_file():
            licence = (package_dir / name).read_text(encoding="utf-8").strip()
            break
    text = f"{package} {version} (from node_modules, pinned by package-lock.json)"
    if licence:
        text += "\n\n" + licence
    return ("/*! " + text.replace("*/", "* /") + "\n*/\n").encode("utf-8")


def vendor_assets(root: Path, diags: Diagnostics) -> dict[str, bytes]:
    """Every vendor file by logical asset name; a missing or stale install is an error."""
    assets: dict[str, bytes] = {}
    for vf in VENDOR_FILES:
        locked = _locked_version(root, vf.package)
        where = SourceLocation("package.json")
        found = None
        for nm in _candidates(root):
            if (nm / vf.package / vf.path).is_file():
                found = nm / vf.package
                break
        if found is None:
            diags.error(
                where,
                f"{vf.package} is not installed (needed for {vf.purpose}): no "
                f"node_modules/{vf.package}/{vf.path} in {root.resolve()} or its parents; "
                f"run `npm ci` in the project folder",
            )
            continue
        try:
            meta = json.loads((found / "package.json").read_text(encoding="utf-8"))
            version = str(meta.get("version", "?"))
        except (OSError, ValueError):
            version = "?"
        if locked and version != locked:
            diags.error(
                where,
                f"{found} is {vf.package} {version} but package-lock.json pins {locked}; "
                f"run `npm ci` to install the locked version",
            )
            continue
        code = (found / vf.path).read_bytes()
        # The source map is not shipped; a dangling reference would 404 in developer tools.
        lines = [ln for ln in code.split(b"\n") if not ln.startswith(b"//# sourceMappingURL=")]
        assets[vf.asset] = _banner(found, vf.package, version) + b"\n".join(lines)
    return assets
