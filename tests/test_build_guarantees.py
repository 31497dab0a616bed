"""Build guarantees: a failed build leaves the previous site byte-identical; a build does not
depend on hash seed, time zone, locale, umask or where the checkout lives."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sitetools import REPO

from ketsite.cli import main
from ketsite.output import FreshTreeWriter

SOURCES = ("bib", "content", "templates", "ketsite.yaml")


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return dest


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and folder below ``folder``: bytes (None for folders) and permission bits."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        out[rel] = (p.read_bytes() if p.is_file() else b"<dir>", p.stat().st_mode & 0o777)
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, dict[str, tuple[bytes, int]]]:
    root = tmp_path_factory.mktemp("guarantees")
    project = copy_project(root / "project")
    out = root / "out" / "_site"
    assert main(["build", "--src", str(project), "--out", str(out)]) == 0
    return project, out, snapshot(out)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


def test_content_error_leaves_the_previous_output_untouched(built, capsys):
    project, out, before = built
    bib = project / "bib" / "reviews.bib"
    original = bib.read_text(encoding="utf-8")
    try:
        bib.write_text(original + "\n@article{broken,\n  title = {Unclosed,\n}\n", encoding="utf-8")
        assert main(["build", "--src", str(project), "--out", str(out)]) == 1
    finally:
        bib.write_text(original, encoding="utf-8")
    err = capsys.readouterr().err
    assert "bib/reviews.bib:" in err and "the output folder was not changed" in err
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_template_error_is_a_located_error_and_leaves_the_output_untouched(built, capsys):
    project, out, before = built
    template = project / "templates" / "paper.html"
    original = template.read_text(encoding="utf-8")
    try:
        template.write_text(original.replace("{{ h.title(p) }}</h1>",
                                             "{{ p.no_such_field }}</h1>"), encoding="utf-8")
        assert main(["build", "--src", str(project), "--out", str(out)]) == 1
    finally:
        template.write_text(original, encoding="utf-8")
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(original.splitlines(), 1)
                if "{{ h.title(p) }}</h1>" in text)
    assert f"templates/paper.html:{line}:1: error: template error while rendering papers/" in err
    assert "no_such_field" in err and "Traceback" not in err
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_crash_while_writing_leaves_the_output_untouched(built, capsys, monkeypatch):
    project, out, before = built
    real_write = FreshTreeWriter.write
    calls = {"n": 0}

    def failing_write(self: FreshTreeWriter, rel: str, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] > 10:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, rel, data)

    monkeypatch.setattr(FreshTreeWriter, "write", failing_write)
    code = main(["build", "--src", str(project), "--out", str(out)])
    monkeypatch.undo()
    assert code == 2 and calls["n"] == 11
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert snapshot(out) == before
    assert leftovers(out) == []


@pytest.mark.parametrize("where", [".", "content", "bib/new", "..", "notes", "repo", "file"])
def test_an_output_folder_whose_replacement_would_destroy_files_is_refused(tmp_path, capsys,
                                                                           where):
    """A build replaces its output folder whole: ``--out .`` would delete the project, ``--out
    ..`` everything around it, ``--out notes`` someone's documents. Each is refused (exit 2),
    and every file is still there."""
    project = copy_project(tmp_path / "work" / "project")
    (project / ".git").mkdir()
    (project / "NOTES.md").write_text("mine\n", encoding="utf-8")
    notes = project / "notes"
    notes.mkdir()
    (notes / "thesis.txt").write_text("years of work\n", encoding="utf-8")
    repo = tmp_path / "work" / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "index.html").write_text("<p>a site with its own history</p>\n", encoding="utf-8")
    (project / "file").write_text("a file, not a folder\n", encoding="utf-8")
    out = {"repo": repo}.get(where, project / where)
    before = snapshot(tmp_path / "work")
    assert main(["build", "--src", str(project), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "refusing to build" in err and "Traceback" not in err
    assert snapshot(tmp_path / "work") == before


def test_an_empty_folder_or_an_earlier_site_is_a_fine_output_folder(built, tmp_path):
    project, out, before = built
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["build", "--src", str(project), "--out", str(empty)]) == 0
    assert (empty / "index.html").is_file()
    assert main(["build", "--src", str(project), "--out", str(empty)]) == 0  # its own site


def test_an_output_folder_given_by_a_symlink_gets_the_site(built, tmp_path):
    """``--out link`` where ``link`` points to a folder: the site lands in that folder, and the
    link stays a link (the swap used to replace the link with a new folder, the target empty)."""
    project, _, before = built
    target = tmp_path / "www"
    target.mkdir()
    link = tmp_path / "site-link"
    link.symlink_to(target, target_is_directory=True)
    assert main(["build", "--src", str(project), "--out", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert snapshot(target) == before


def test_a_successful_rebuild_replaces_the_output(built, tmp_path):
    project, out, before = built
    other = tmp_path / "_site"
    other.mkdir()
    (other / "index.html").write_text("an older build's home page", encoding="utf-8")
    (other / "stale.html").write_text("old", encoding="utf-8")
    assert main(["build", "--src", str(project), "--out", str(other)]) == 0
    assert snapshot(other) == before  # exactly the site: the stale file is gone


def run_build(project: Path, env: dict[str, str], umask: int) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("SOURCE_DATE_EPOCH", "PYTHONHASHSEED", "TZ", "LC_ALL", "LANG")}
    return subprocess.run(
        [sys.executable, "-c",
         f"import os, sys; os.umask(0o{umask:o}); from ketsite.cli import main; "
         "sys.exit(main(['build', '--src', '.', '--out', '_site']))"],
        cwd=project, env={**base, **env}, capture_output=True, text=True, check=False,
    )


ENVIRONMENTS = (
    ({"PYTHONHASHSEED": "1", "TZ": "UTC", "LC_ALL": "C.UTF-8"}, 0o022),
    ({"PYTHONHASHSEED": "4242", "TZ": "Pacific/Kiritimati", "LC_ALL": "C"}, 0o077),
)


def test_builds_are_byte_identical_across_environments_and_checkout_paths(tmp_path):
    a = copy_project(tmp_path / "a")
    b = copy_project(tmp_path / "somewhere" / "much deeper" / "checkout-b")
    epoch = {"SOURCE_DATE_EPOCH": "1700000000"}  # 2023-11-14 UTC; 2023-11-15 in Kiritimati
    for project, (env, umask) in zip((a, b), ENVIRONMENTS, strict=True):
        proc = run_build(project, {**env, **epoch}, umask)
        assert proc.returncode == 0, proc.stderr
    site_a, site_b = snapshot(a / "_site"), snapshot(b / "_site")
    assert len(site_a) > 100
    assert site_a.keys() == site_b.keys()
    for rel in site_a:
        assert site_a[rel] == site_b[rel], rel
    assert {mode for _, mode in site_a.values()} == {0o644, 0o755}
    home = (a / "_site" / "index.html").read_text(encoding="utf-8")
    assert '<time datetime="2023-11-14">2023-11-14</time>' in home


def git(project: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": "2024-02-29T12:00:00+00:00",
           "GIT_COMMITTER_DATE": "2024-02-29T12:00:00+00:00", "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", "-C", str(project), *args], env=env, check=True, capture_output=True)


def test_without_source_date_epoch_the_date_comes_from_git_not_the_clock(tmp_path):
    sites = []
    for name, (env, umask) in zip(("one", "two"), ENVIRONMENTS, strict=True):
        project = copy_project(tmp_path / name)
        git(project, "init", "-q")
        git(project, "add", ".")
        git(project, "commit", "-q", "-m", "sources")
        proc = run_build(project, env, umask)
        assert proc.returncode == 0, proc.stderr
        sites.append(snapshot(project / "_site"))
    assert sites[0] == sites[1]
    home = sites[0]["index.html"][0].decode("utf-8")
    assert '<time datetime="2024-02-29">2024-02-29</time>' in home


def test_the_output_listing_finds_every_file_and_no_folder(tmp_path):
    """What ``build --incremental`` checks the last build's files against (a page deleted by hand
    is made again): files at any depth and symlinks to files, never folders or what a symlinked
    folder holds."""
    from ketsite.output import Listing, list_files

    (tmp_path / "papers" / "a").mkdir(parents=True)
    (tmp_path / "papers" / "a" / "index.html").write_text("a")
    (tmp_path / "index.html").write_text("home")
    (tmp_path / "empty").mkdir()
    (tmp_path / "link.html").symlink_to(tmp_path / "index.html")
    (tmp_path / "folder-link").symlink_to(tmp_path / "papers")
    expected = {"index.html", "link.html", "papers/a/index.html"}
    assert list_files(str(tmp_path)) == expected
    listing = Listing(tmp_path)  # the same, from a forked process
    try:
        assert listing.result() == expected
    finally:
        listing.close(wait=True)


@pytest.mark.parametrize("work", ["delete", "save"])
def test_background_work_does_not_hold_the_commands_output_open(tmp_path, work):
    """``ketsite build | tee log`` ends when the build does: the detached processes that delete
    the previous site or save the incremental state let go of the command's output pipe."""
    script = f"""
import shutil, sys, time
from pathlib import Path
import ketsite.engine as engine
import ketsite.output as output
def slow(*args, **kwargs):
    time.sleep(6)
    return True
folder = Path({str(tmp_path / "old")!r}); folder.mkdir()
if {work!r} == "delete":
    shutil.rmtree = slow
    output.delete_in_background(folder)
else:
    engine.write_pickle = slow
    engine.save_in_background(folder / "state.pickle", object(), True)
print("returned", flush=True)
"""
    import time

    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "returned\n"
    assert time.monotonic() - start < 5, "the output pipe stayed open for the background work"


def test_a_build_stopped_by_sigterm_leaves_no_half_written_folder(built):
    """A CI runner's timeout or ``kill`` sends SIGTERM: the build stops, removes the sibling folder
    it was writing and leaves the previous site as it was (Python's default would exit on the
    spot and leave ``.​_site.new-*`` behind for good)."""
    import signal
    import time

    project, out, before = built
    script = f"""
import sys, time
import ketsite.output as output
write = output.FreshTreeWriter.write
def slow(self, rel, data):
    write(self, rel, data)
    print("writing", flush=True)
    time.sleep(60)
output.FreshTreeWriter.write = slow
from ketsite.cli import main
sys.exit(main(["build", "--src", {str(project)!r}, "--out", {str(out)!r}, "--jobs", "1"]))
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout.readline() == "writing\n"
        assert any(p.name.startswith(f".{out.name}.new-") for p in out.parent.iterdir())
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert time.monotonic() - start < 10
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    assert leftovers(out) == []
    assert snapshot(out) == before
