"""Validity: the Nu HTML Checker (vnu-jar from npm, run with the system Java) finds no error on
any page of the built site — the Netlify build and the offline (file://) build — nor in its CSS.

Valid markup is what lets every browser, screen reader and crawler read the page the same way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pagetypes import build_bundled_site, build_paged_site
from sitetools import REPO

from ketsite.site.routes import LinkStyle

VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vnu")
    sites = {style.value: build_bundled_site(root / style.value, style) for style in LinkStyle}
    # and with small pagination limits: the paged papers and authors indexes, the shortened
    # reviews and search pages
    sites["paged"] = build_paged_site(root / "paged", LinkStyle.FILES)
    return sites


def run_vnu(*args: str) -> list[dict]:
    java = shutil.which("java")
    assert java, "no java on PATH: run `bash scripts/setup.sh` (installs default-jre-headless)"
    assert VNU.is_file(), "node_modules/vnu-jar missing: run `bash scripts/setup.sh`"
    proc = subprocess.run([java, "-jar", str(VNU), "--format", "json", *args],
                          capture_output=True, text=True, timeout=600, check=False)
    try:  # vnu writes its JSON report to stderr and exits 1 when it found errors
        return json.loads(proc.stderr)["messages"]
    except (json.JSONDecodeError, KeyError):
        pytest.fail(f"vnu did not report (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def _format(messages: list[dict], roots: list[Path]) -> str:
    lines = []
    for m in messages:
        url = m.get("url", "")
        for root in roots:
            url = url.replace(root.as_uri() + "/", "")
        lines.append(f"{url}:{m.get('lastLine', 0)}:{m.get('firstColumn', m.get('lastColumn', 0))}"
                     f": {m['type']}: {m['message']}\n    {m.get('extract', '').strip()[:200]}")
    return "\n".join(lines)


def test_nu_checker_reports_no_error_on_any_page(sites, artifacts_dir):
    roots = list(sites.values())
    pages = sum(len(list(r.rglob("*.html"))) for r in roots)
    assert pages > 500  # both builds, every page
    messages = run_vnu("--skip-non-html", *map(str, roots))
    errors = [m for m in messages if m["type"] in ("error", "non-document-error")]
    warnings = [m for m in messages if m["type"] == "info" and m.get("subType") == "warning"]
    report = artifacts_dir / "reports"
    report.mkdir(parents=True, exist_ok=True)
    (report / "vnu.json").write_text(json.dumps(
        {"pages": pages, "errors": len(errors), "warnings": len(warnings),
         "messages": messages}, indent=1), encoding="utf-8")
    print(f"vnu: {pages} pages, {len(errors)} errors, {len(warnings)} warnings")
    assert errors == [], f"{len(errors)} vnu errors:\n{_format(errors, roots)}"


def test_nu_checker_reports_no_error_in_the_stylesheets(sites):
    css = sorted(str(p) for p in (sites["pretty"] / "assets").rglob("*.css"))
    assert css, "no stylesheet in the built site"
    errors = [m for m in run_vnu("--css", *css) if m["type"] != "info"]
    assert errors == [], _format(errors, [sites["pretty"]])


def test_nu_checker_does_report_errors(tmp_path):
    """The check can fail: a page with a misplaced element and a bad attribute is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><html lang="en"><head><title>x</title></head>'
                   '<body><ul><p>not a list item</p></ul><img src="a.png"></body></html>',
                   encoding="utf-8")
    errors = [m for m in run_vnu("--skip-non-html", str(tmp_path)) if m["type"] == "error"]
    assert len(errors) >= 2, errors
