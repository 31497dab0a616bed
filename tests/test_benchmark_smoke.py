"""The benchmark runs end to end at N=1,000 and prints its table (a smoke run: no timing checks)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sitetools import REPO

MODES = ("cold", "cached", "warm-cli", "warm-serve", "serve-page")


@pytest.mark.slow
def test_benchmark_at_1000_papers_prints_its_table(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--n", "1000",
         "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=1800, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| mode"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns[:6] == ["mode", "wall", "parse", "model", "render", "write"]
    assert "pages/s" in columns and "rss MiB" in columns
    rows = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in MODES:
            rows[cells[0]] = dict(zip(columns, cells, strict=True))
    assert set(rows) == set(MODES)
    for row in rows.values():
        assert all(re.fullmatch(r"\d+(\.\d+)?", row[c]) for c in columns[1:]), row
    cold, warm = rows["cold"], rows["warm-serve"]
    assert int(cold["pages"]) > 3000 and int(cold["written"]) >= int(cold["rendered"]) > 3000
    # The edited paper, its authors, conditions and the indexes listing it: a handful of pages.
    assert 0 < int(warm["written"]) < 60 and int(warm["rendered"]) < int(cold["rendered"]) / 10
    assert "N=1000 papers" in proc.stdout


@pytest.mark.slow
@pytest.mark.browser
def test_serve_benchmark_shows_each_edit_in_the_browser(tmp_path):
    """benchmarks/serve_e2e.py: ketsite serve and Chromium, each saved edit seen in the page."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "serve_e2e.py"), "--n", "200", "--edits", "2",
         "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == 2, proc.stdout
    for row in rows:
        visible, noticed, pages, _rest = (float(c) for c in row.strip("|").split("|")[1:5])
        assert 0 < noticed < visible and 0 < pages < visible, row
        assert "data files" in row  # the pages came first, the data files after
    assert "median" in proc.stdout
