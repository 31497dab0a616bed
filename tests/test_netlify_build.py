"""Netlify's build as written in netlify.toml, from a clean checkout in a fresh virtualenv.

This is what Netlify runs: a non-editable `pip install .` (so the wheel must carry the templates
and assets), `npm ci` (MiniSearch from the lock file), then the build into the publish folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sitetools import REPO

pytestmark = pytest.mark.slow


def clean_checkout(dest: Path) -> Path:
    """The files git would check out (tracked, plus new files not ignored), symlinks kept."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src, dst = REPO / rel, dest / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree, not yet committed
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, dst)
    return dest


def test_netlify_build_command_from_a_clean_checkout(tmp_path):
    config = tomllib.loads((REPO / "netlify.toml").read_text(encoding="utf-8"))
    command, publish = config["build"]["command"], config["build"]["publish"]
    checkout = clean_checkout(tmp_path / "checkout")
    assert not (checkout / "node_modules").exists() and not (checkout / ".venv").exists()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run(["bash", "-c", command], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"^built \d{3} pages", proc.stdout, re.M), proc.stdout

    site = checkout / publish
    for rel in ("index.html", "404.html", "search/index.html", "sitemap.xml", "robots.txt",
                "feed.xml", "data/graph.json", "papers/noppers2011absence/index.html",
                "conditions/fibromyalgia/index.html", "reviews/israel-2021/index.html"):
        assert (site / rel).is_file(), rel
    for stem in ("minisearch", "search", "style"):
        assert list((site / "assets").glob(f"{stem}.*.*")), stem
    assert (site / "assets" / "search-index.js").is_file()  # one name; links add ?v=digest
    assert ET.parse(site / "sitemap.xml").getroot().tag.endswith("urlset")
    assert ET.parse(site / "feed.xml").getroot().tag.endswith("feed")

    # The installed package is a real copy (not the checkout) and carries templates and assets.
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import ketsite.build as b, ketsite.serve as s; "
         "print(b.PACKAGE_TEMPLATES.resolve()); print(s.RELOAD_SCRIPT_FILE)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()
    templates, reload_js = Path(where[0]), Path(where[1])
    assert templates.is_relative_to(venv) and "site-packages" in templates.parts
    for name in ("base.html", "search.html", "404.html", "partials/macros.html",
                 "assets/style.css", "assets/search.js", "assets/search.css"):
        assert (templates / name).is_file(), name
    assert reload_js.is_file() and reload_js.is_relative_to(venv)

    # Without the checkout's templates/, the packaged ones give the very same site.
    shutil.rmtree(checkout / "templates")
    again = tmp_path / "again"
    proc = subprocess.run([str(venv / "bin" / "ketsite"), "build", "--out", str(again)],
                          cwd=checkout, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    first = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    assert first == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in first:
        assert (site / rel).read_bytes() == (again / rel).read_bytes(), rel
