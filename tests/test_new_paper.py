"""``ketsite new paper``: one BibTeX entry in, checked like ``ketsite check``, appended to bib/,
annotation scaffolded; duplicates refused naming the existing entry; nothing written on error."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sitetools import REPO

from ketsite.cli import main

NEW = """@article{doe2024ketamine,
  author  = {Doe, Jane and Roe, Richard},
  title   = {A made-up trial used only by this test},
  journal = {Journal of Examples},
  year    = {2024},
  doi     = {10.5555/example.2024.1},
}
"""


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("bib", "content"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy2(REPO / "ketsite.yaml", root / "ketsite.yaml")
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def new_paper(project: Path, stdin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ketsite.cli", "new", "paper", "--src", str(project), *args],
        input=stdin.encode("utf-8"), capture_output=True, check=False,
    )


def test_adds_the_entry_and_a_scaffold_that_passes_check(project, capsys):
    before = tree(project)
    proc = new_paper(project, NEW)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().splitlines() == [
        "added 'doe2024ketamine' to bib/contributed.bib at line 1",
        "created content/papers/doe2024ketamine.yaml: fill in what the paper supports, then run "
        "ketsite check",
    ]
    after = tree(project)
    assert set(after) - set(before) == {"bib/contributed.bib",
                                        "content/papers/doe2024ketamine.yaml"}
    assert all(after[k] == v for k, v in before.items())  # nothing else touched
    assert after["bib/contributed.bib"].decode() == NEW
    scaffold = after["content/papers/doe2024ketamine.yaml"].decode()
    assert scaffold.startswith(
        "# Annotation of doe2024ketamine: A made-up trial used only by this test (2024)\n")
    keys = re.findall(r"^(\w+):\s*$", scaffold, re.M)  # every field present, every value empty
    assert keys == ["design", "population", "sample_size", "route", "dose", "comparator",
                    "outcomes", "direction", "finding", "conditions", "status", "status_note",
                    "basis"]
    assert main(["check", "--src", str(project)]) == 0
    assert "ok: 45 papers" in capsys.readouterr().out
    assert main(["build", "--src", str(project), "--out", str(project / "_site")]) == 0
    assert (project / "_site" / "papers" / "doe2024ketamine" / "index.html").is_file()


def test_a_filled_in_scaffold_still_passes(project):
    assert new_paper(project, NEW).returncode == 0
    path = project / "content" / "papers" / "doe2024ketamine.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("design:\n", "design: randomised-controlled-trial\n")
    text = text.replace("conditions:\n", "conditions: [fibromyalgia]\n")
    path.write_text(text, encoding="utf-8")
    assert main(["check", "--src", str(project)]) == 0


def test_appends_to_an_existing_file_from_a_file_argument(project, tmp_path):
    bib = project / "bib" / "reviews.bib"
    original = bib.read_bytes()
    entry = tmp_path / "entry.bib"
    entry.write_text(NEW, encoding="utf-8")
    proc = new_paper(project, "", str(entry), "--bib", "bib/reviews.bib", "--no-annotation")
    assert proc.returncode == 0, proc.stderr.decode()
    line = original.decode().count("\n") + 2
    assert proc.stdout.decode() == f"added 'doe2024ketamine' to bib/reviews.bib at line {line}\n"
    assert bib.read_bytes() == original + b"\n" + NEW.encode()
    assert bib.read_text(encoding="utf-8").split("\n")[line - 1] == "@article{doe2024ketamine,"
    assert not (project / "content" / "papers" / "doe2024ketamine.yaml").exists()


def located(project: Path, message: str) -> str:
    """The source line an 'at path:line:col' in ``message`` points to."""
    path, line = re.search(r" at (\S+?):(\d+):\d+", message).groups()
    return (project / path).read_text(encoding="utf-8").split("\n")[int(line) - 1]


@pytest.mark.parametrize(("field", "value", "label", "existing"), [
    ("doi", "10.1016/j.ejpain.2011.03.008", "DOI", "noppers2011absence"),
    ("doi", "https://doi.org/10.1016/J.EJPAIN.2011.03.008", "DOI", "noppers2011absence"),
    ("pmid", "34746491", "PMID", "israel2021ketamine"),
    ("pmcid", "PMC6676152", "PMCID", "mills2019chronic"),
])
def test_refuses_a_duplicate_identifier_naming_the_existing_entry(project, field, value, label,
                                                                   existing):
    before = tree(project)
    entry = NEW.replace("  doi     = {10.5555/example.2024.1},", f"  {field} = {{{value}}},")
    proc = new_paper(project, entry)
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert err.startswith(f"<stdin>:6:3: error: {label} ")
    assert f"of 'doe2024ketamine' is already used by '{existing}' at bib/" in err
    assert field in located(project, err).lower()  # file:line of the existing entry's field
    assert "nothing was added" in err
    assert tree(project) == before


@pytest.mark.parametrize("key", ["noppers2011absence", "Noppers2011Absence"])
def test_refuses_a_duplicate_key_also_ignoring_case(project, key):
    before = tree(project)
    proc = new_paper(project, NEW.replace("doe2024ketamine", key))
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert err.startswith(f"<stdin>:1:1: error: citation key '{key}' duplicates ")
    assert located(project, err).startswith("@article{noppers2011absence,")
    assert "content/papers/" not in err  # no error about the scaffold that was never written
    assert tree(project) == before


def test_refuses_an_entry_whose_page_would_collide(project):
    before = tree(project)
    proc = new_paper(project, NEW.replace("doe2024ketamine", "noppers2011absence:x"))
    assert proc.returncode == 0  # a different slug: fine
    proc = new_paper(project, NEW.replace("doe2024ketamine", "noppers2011absence+x")
                     .replace("10.5555/example.2024.1", "10.5555/example.2024.2"))
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "2 pages would be written to 'papers/noppers2011absence-x/index.html'" in err
    assert set(tree(project)) - set(before) == {"bib/contributed.bib",
                                                 "content/papers/noppers2011absence:x.yaml"}


@pytest.mark.parametrize(("entry", "expected"), [
    (NEW.replace("  journal = {Journal of Examples},\n", ""),
     "<stdin>:1:1: error: entry 'doe2024ketamine' is missing the required field 'journal'"),
    (NEW.replace("{2024}", "{24}"),
     "<stdin>:5:3: error: year of 'doe2024ketamine' must be four digits, not '24'"),
    (NEW.replace("{A made-up", "{A {made-up"),
     "<stdin>:3:3: error: field 'title' of 'doe2024ketamine' has 1 more '{' than '}'"),
    (NEW + "\n" + NEW.replace("doe2024ketamine", "doe2024second"),
     "<stdin>:9:1: error: expected exactly one BibTeX entry, found 2; add papers one at a time"),
    ("% just a comment\n", "<stdin>:1:1: error: expected exactly one BibTeX entry, found 0"),
    ("@article{x2024,\n  author = {Doe, Jane},\n  title = {Caf\udce9}\n", "<stdin>:3:"),
])
def test_refuses_an_invalid_entry_and_writes_nothing(project, entry, expected):
    before = tree(project)
    proc = subprocess.run(
        [sys.executable, "-m", "ketsite.cli", "new", "paper", "--src", str(project), "-"],
        input=entry.encode("utf-8", "surrogateescape"), capture_output=True, check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert err.startswith(expected), err
    assert "Traceback" not in err
    assert tree(project) == before


def test_keeps_an_annotation_written_before_the_entry(project, capsys):
    annotation = project / "content" / "papers" / "doe2024ketamine.yaml"
    annotation.write_text("design: meta-analysis\n", encoding="utf-8")
    assert main(["check", "--src", str(project)]) == 1  # dangling until the entry exists
    proc = new_paper(project, NEW)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "created" not in proc.stdout.decode()
    assert annotation.read_text(encoding="utf-8") == "design: meta-analysis\n"
    capsys.readouterr()
    assert main(["check", "--src", str(project)]) == 0


@pytest.mark.parametrize("args", [
    ("no-such-file.bib",),
    ("-", "--bib", "content/papers/x.bib"),
    ("-", "--bib", "bib/../../outside.bib"),
    ("-", "--bib", "bib/notbib.txt"),
])
def test_usage_errors_exit_2_and_write_nothing(project, args):
    before = tree(project)
    proc = subprocess.run(
        [sys.executable, "-m", "ketsite.cli", "new", "paper", "--src", str(project), *args],
        input=NEW.encode(), capture_output=True, check=False, cwd=project,
    )
    assert proc.returncode == 2, proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()
    assert tree(project) == before


def test_a_warning_is_said_and_counted_once(project):
    """The entry is checked alone, then in the project: one unused field is one warning."""
    proc = new_paper(project, NEW.replace("  doi ", "  urldate = {2024-01-01},\n  doi "))
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stderr.decode().splitlines()
    warnings = [line for line in lines if ": warning: " in line]
    assert len(warnings) == 1 and "field 'urldate' of 'doe2024ketamine'" in warnings[0], lines
    assert "0 error(s), 1 warning(s)" in lines
