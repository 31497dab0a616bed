"""Pack a built site directory into a reproducible zip (sorted entries, fixed dates).

python scripts/bundle.py _site _site.zip
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def bundle(site: Path, dest: Path) -> int:
    if not (site / "index.html").is_file():
        raise SystemExit(f"bundle: {site}/index.html not found; build the site first")
    files = sorted(p for p in site.rglob("*") if p.is_file())
    tmp = dest.with_name(dest.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in files:
            info = zipfile.ZipInfo(f"{site.name}/{path.relative_to(site).as_posix()}", FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    tmp.replace(dest)
    return len(files)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    site, dest = Path(argv[0]), Path(argv[1])
    count = bundle(site, dest)
    print(f"bundle: {dest} ({count} files, {dest.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
