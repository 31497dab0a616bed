"""The offline bundle: one reproducible zip whose links all work from disk, asking no other host."""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sitetools import REPO, PageParser, broken_links

from ketsite import cli
from ketsite.bundle import FIXED_DATE, bundle


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("bundle") / "ketsite-offline.zip"
    result = bundle(REPO, dest)
    assert not result.build.diagnostics.has_errors
    assert result.zip_path == dest and result.size == dest.stat().st_size
    return dest


@pytest.fixture(scope="module")
def unzipped(bundled, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(bundled) as zf:
        zf.extractall(out)
    return out / "ketsite-offline"


def test_zip_is_reproducible_sorted_and_dated_1980(bundled, tmp_path):
    again = tmp_path / "ketsite-offline.zip"
    bundle(REPO, again)
    assert again.read_bytes() == bundled.read_bytes()
    with zipfile.ZipFile(bundled) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert all(n.startswith("ketsite-offline/") for n in names)
    assert "ketsite-offline/index.html" in names and "ketsite-offline/404.html" in names
    for info in infos:
        assert info.date_time == FIXED_DATE, info.filename
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644, info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_every_internal_link_is_relative_and_names_a_file(unzipped):
    pages = sorted(unzipped.rglob("*.html"))
    assert len(pages) >= 278  # every page of the site (other features may add more)
    checked = 0
    for page in pages:
        parser = PageParser()
        parser.feed(page.read_text(encoding="utf-8"))
        for href in parser.links:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "mailto"):
                continue  # links out (DOIs, PubMed, the canonical URL) are not requests
            assert not parts.scheme and not parts.netloc, (page, href)
            assert not href.startswith("/"), (page, href)  # root-absolute fails from file://
            if parts.path:
                assert not parts.path.endswith("/"), (page, href)  # a folder: a listing on disk
                assert re.search(r"\.(html|css|js|svg|xml|json|bib|ris|txt)$", parts.path), href
                checked += 1
    assert checked > 5000
    assert broken_links(unzipped) == []


def test_no_page_loads_anything_from_another_host(unzipped):
    for path in unzipped.rglob("*"):
        if path.suffix not in (".html", ".css", ".js"):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            for tag in re.findall(r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*>", text):
                if re.search(r'rel="(canonical|alternate|license)"', tag):
                    continue  # not fetched by a browser
                assert not re.search(r'(src|href)="(https?:)?//', tag), (path, tag)
        else:  # no fonts, imports or beacons hidden in CSS or scripts
            assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), path
            assert "@import" not in text, path
            assert not re.search(r"fetch\(|XMLHttpRequest|sendBeacon|importScripts", text) \
                or path.name.startswith("minisearch."), path


def test_bundle_pages_use_file_links_for_search_results(unzipped):
    html = (unzipped / "search" / "index.html").read_text(encoding="utf-8")
    assert 'data-links="files"' in html and 'data-root="../"' in html


def test_cli_bundle_writes_the_zip_and_a_failed_one_keeps_the_old(tmp_path, capsys):
    dest = tmp_path / "site.zip"
    assert cli.main(["bundle", "--src", str(REPO), "--out", str(dest)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"bundled \d{3} pages \(\d+ files\) into .*site\.zip \([\d,]+ bytes\)", out)
    good = dest.read_bytes()
    with zipfile.ZipFile(dest) as zf:
        assert "site/index.html" in zf.namelist()

    broken = tmp_path / "broken"
    (broken / "content" / "conditions").mkdir(parents=True)
    (broken / "bib").mkdir()
    (broken / "bib" / "x.bib").write_text("@article{broken,\n  title = {No year}\n}\n",
                                          encoding="utf-8")
    assert cli.main(["bundle", "--src", str(broken), "--out", str(dest)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"bib/x\.bib:\d+:\d+: error: ", err) and "no zip was written" in err
    assert dest.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "site.zip"]  # no temp left

    assert cli.main(["bundle", "--src", str(REPO), "--out", str(tmp_path / "site.tar")]) == 2


def test_the_folder_inside_the_zip_unpacks_on_windows_too():
    from ketsite.bundle import folder_name

    assert folder_name("site.zip") == "site" and folder_name("site.ZIP") == "site"
    assert folder_name('a:b*c?"<>|.zip') == "a-b-c-----"
    assert folder_name("CON.zip") == "site-CON" and folder_name("lpt1.x.zip") == "site-lpt1.x"
    assert folder_name(".zip") == "site" and folder_name("offline. .zip") == "offline"
