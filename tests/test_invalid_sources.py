"""Every bad input a contributor can write is reported at its exact place, and nothing else is lost.

Each folder of ``tests/fixtures/invalid/`` is a tiny project (``bib/``, ``content/``, maybe
``ketsite.yaml``) with one problem among valid entries. Its ``expected.txt`` holds:

- ``# what the case is``
- the exact diagnostic lines ``ketsite check`` prints, in order (``path:line:col: error: …``)
- ``keeps <papers|reviews|conditions|annotations>: id id …``: every id of that kind still in the
  model after the error (a kind not listed must be empty), so a bad entry never takes a good one
  with it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sitetools import REPO

from ketsite.build import load_project
from ketsite.cli import main
from ketsite.diagnostics import Diagnostics

FIXTURES = REPO / "tests" / "fixtures" / "invalid"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
KINDS = ("papers", "reviews", "conditions", "annotations")


def read_expected(case: Path) -> tuple[list[str], dict[str, set[str]]]:
    diagnostics: list[str] = []
    keeps: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("keeps "):
            kind, _, ids = line[len("keeps "):].partition(":")
            keeps[kind.strip()] = set(ids.split())
        else:
            diagnostics.append(line)
    return diagnostics, keeps


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def diagnostic_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line or ": warning: " in line]


def test_the_fixture_corpus_is_large_and_every_case_expects_an_error():
    assert len(CASES) >= 40
    for name in CASES:
        diagnostics, _ = read_expected(FIXTURES / name)
        assert any(": error: " in d for d in diagnostics), name


@pytest.mark.parametrize("name", CASES)
def test_check_reports_the_exact_place_and_keeps_everything_else(name, capsys, tmp_path):
    case = FIXTURES / name
    expected, keeps = read_expected(case)

    code, out, err = run(capsys, "check", "--src", str(case))
    assert code == 1, err
    assert "Traceback" not in out + err and "internal error" not in err
    assert diagnostic_lines(err) == expected

    for line in expected:  # every location is a real, 1-based place in the file it names
        path, lineno, col, _ = line.split(":", 3)
        source = case / path
        if source.is_dir():  # an entry that is not a source file at all: the place is the entry
            assert (lineno, col) == ("1", "1"), line
            continue
        assert source.is_file(), line
        lines = source.read_bytes().split(b"\n")
        assert 1 <= int(lineno) <= len(lines), line
        assert 1 <= int(col) <= max(1, len(lines[int(lineno) - 1]) + 1), line

    corpus = load_project(case, Diagnostics()).corpus
    found = {"papers": corpus.papers, "reviews": corpus.reviews,
             "conditions": corpus.conditions, "annotations": corpus.annotations}
    for kind in KINDS:
        assert set(found[kind]) == keeps[kind], kind

    out_dir = tmp_path / "site"
    code, _, err = run(capsys, "build", "--src", str(case), "--out", str(out_dir))
    assert code == 1
    assert diagnostic_lines(err) == expected
    assert not out_dir.exists()


def test_github_actions_annotations(capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = run(capsys, "check", "--src", str(FIXTURES / "bib-unbalanced-braces"))
    assert code == 1
    assert out.splitlines()[0] == (
        "::error file=bib/more.bib,line=10,col=3::field 'title' of 'broken2022' has 1 more '{' "
        "than '}'; the entry cannot be read (check the braces and quotes of this field)"
    )


def test_all_problems_of_a_run_are_reported_sorted_by_file_then_line(tmp_path, capsys):
    for name in ("yaml-no-is-false", "bib-duplicate-doi", "xref-condition-unknown-paper"):
        for path in (FIXTURES / name).rglob("*"):
            if path.is_file() and path.name != "expected.txt":
                target = tmp_path / path.relative_to(FIXTURES / name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    code, _, err = run(capsys, "check", "--src", str(tmp_path))
    assert code == 1
    lines = diagnostic_lines(err)
    assert [line.split(":")[0] for line in lines] == [
        "bib/more.bib", "bib/ok.bib", "content/conditions/fibromyalgia.yaml",
        "content/papers/okfirst2020.yaml",
    ]
    assert err.splitlines()[-1] == "4 error(s), 0 warning(s)"


def test_a_folder_that_is_no_project_and_a_content_kind_that_is_a_file(tmp_path, capsys):
    """``--src`` naming a folder with no ketsite.yaml, bib/ or content/ (a typo, the wrong folder)
    is an error, not "ok: 0 papers"; ``content/papers`` written as a file is an error, not a
    library without annotations."""
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "check", "--src", str(empty))
    assert code == 1 and "no ketsite project in" in err and "(--src DIR)" in err
    project = tmp_path / "p"
    shutil.copytree(FIXTURES / "content-unexpected-file" / "bib", project / "bib")
    (project / "content").mkdir()
    (project / "content" / "papers").write_text("design: case-report\n", encoding="utf-8")
    code, _, err = run(capsys, "check", "--src", str(project))
    assert code == 1
    assert "content/papers:1:1: error: content/papers is a file, not a folder" in err


def test_fields_ketsite_does_not_use_are_named_and_a_school_is_the_publisher(tmp_path, capsys):
    project = tmp_path / "p"
    (project / "bib").mkdir(parents=True)
    (project / "bib" / "a.bib").write_text(
        "@phdthesis{student2014,\n  author = {Student, Sam},\n  title = {Ketamine},\n"
        "  school = {Universit{\\'e} de Montr{\\'e}al},\n  year = {2014},\n"
        "  isbn = {978-0-00-000000-0},\n}\n", encoding="utf-8")
    code, _, err = run(capsys, "check", "--src", str(project))
    assert code == 0
    assert "bib/a.bib:6:3: warning: field 'isbn' of 'student2014' is not used by ketsite" in err
    corpus = load_project(project, Diagnostics()).corpus
    assert corpus.papers["student2014"].publisher == "Université de Montréal"


def test_the_real_command_line(tmp_path):
    """As a contributor runs it: a separate process, exit codes 1 and 2, no traceback."""
    case = FIXTURES / "yaml-duplicate-key"
    proc = subprocess.run([sys.executable, "-m", "ketsite.cli", "check", "--src", str(case)],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == (
        "content/conditions/cancer-pain.yaml:3:1: error: duplicate key 'name' (first defined at "
        "line 1); keep one of them"
    )
    assert "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "ketsite.cli", "check", "--src", str(tmp_path / "missing")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2 and "not a folder" in proc.stderr
