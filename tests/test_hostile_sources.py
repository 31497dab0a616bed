"""Sources from a stranger's pull request that try to reach past the page: files linked from
outside the project, messages that pose as CI workflow commands or move the terminal's cursor,
characters no XML file may hold, names a checkout or the build cannot write."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml
from sitetools import write_files

from ketsite.build import build
from ketsite.cli import main

CONFIG = """
    title: Hostile
    description: Sources that try to reach past the page.
    url: https://hostile.example.org/
    repository: https://github.com/example/hostile
"""
PAPER = """
    @article{fine2020,
      author = {Roe, Jane}, title = {A fine paper}, journal = {Pain}, year = {2020},
    }
"""


def project(root: Path, **files: str) -> Path:
    return write_files(root, {"ketsite.yaml": CONFIG, "bib/fine.bib": PAPER, **files})


def check(capsys, root: Path) -> tuple[int, str, str]:
    code = main(["check", "--src", str(root)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_source_linked_from_outside_the_project_is_not_read(tmp_path, capsys):
    secret = tmp_path / "home" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text("name: Leaked\ndescription: client_secret: abc\n", encoding="utf-8")
    (tmp_path / "home" / "x.bib").write_text(PAPER.replace("fine2020", "leak2020"), "utf-8")
    root = project(tmp_path / "p")
    (root / "content" / "conditions").mkdir(parents=True)
    (root / "content" / "conditions" / "leak.yaml").symlink_to(secret)
    (root / "bib" / "leak.bib").symlink_to(tmp_path / "home" / "x.bib")
    (root / "templates").mkdir()
    (root / "templates" / "base.html").symlink_to(secret)
    code, _, err = check(capsys, root)
    assert code == 1
    assert "bib/leak.bib:1:1: error: a symbolic link out of the project is not read" in err
    assert "content/conditions/leak.yaml:1:1: error: a symbolic link out of the project" in err
    assert "templates/base.html:1:1: error: a symbolic link out of the project" in err
    assert "Leaked" not in err and "client_secret" not in err and "leak2020" not in err
    inside = root / "bib" / "inside.bib"  # a link that stays in the project is a plain source
    (root / "shared.bib").write_text(PAPER.replace("fine2020", "shared2020"), "utf-8")
    for link in (root / "content" / "conditions" / "leak.yaml", root / "bib" / "leak.bib",
                 root / "templates" / "base.html"):
        link.unlink()
    inside.symlink_to(root / "shared.bib")
    assert check(capsys, root)[0] == 0


def test_messages_quoting_a_contributor_cannot_start_lines_or_move_the_cursor(tmp_path, capsys,
                                                                            monkeypatch):
    root = project(tmp_path, **{
        "content/conditions/pain.yaml": """
            name: Pain
            description: Pain.
            "x\\n::warning file=ketsite.yaml,line=1::INJECTED\\e[2K\\rok": 1
        """,
    })
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, err = check(capsys, root)
    assert code == 1
    for text in (out, err):
        assert "\x1b" not in text and "\r" not in text
        assert not any(line.startswith("::warning") for line in text.splitlines()), text
    assert "unknown key 'x\\n::warning file=ketsite.yaml,line=1::INJECTED\\x1b[2K\\rok'" in err
    annotation = [line for line in out.splitlines() if line.startswith("::error ")]
    assert annotation and annotation[0].startswith(
        "::error file=content/conditions/pain.yaml,line=3,col=1::")


def test_a_character_no_xml_file_may_hold_is_refused(tmp_path, capsys):
    root = project(tmp_path, **{
        "content/conditions/pain.yaml": 'name: "Pain\\uFFFF"\ndescription: Pain.\n',
        "bib/raw.bib": "@article{raw2020, author = {Roe, J.}, title = {A \ufffe title},\n"
                       "  journal = {Pain}, year = {2020}}\n",
    })
    code, _, err = check(capsys, root)
    assert code == 1
    assert "content/conditions/pain.yaml:1:7: error: 'name' contains the character U+FFFF" in err
    assert "bib/raw.bib:1:50: error: noncharacter U+FFFE in the file" in err
    # a raw line separator: invisible, and a line break to YAML (every later line would be off)
    (root / "bib/raw.bib").unlink()
    (root / "content/conditions/pain.yaml").write_text(
        "name: Pain\ndescription: a\u2028b\nsynonym: x\n", "utf-8")
    code, _, err = check(capsys, root)
    assert code == 1
    assert "content/conditions/pain.yaml:2:15: error: line separator U+2028 in the file" in err
    assert "content/conditions/pain.yaml:3:1: error: unknown key 'synonym'" in err


def test_names_a_build_or_a_windows_checkout_cannot_write_are_errors_in_check(tmp_path, capsys):
    root = project(tmp_path, **{
        "bib/more.bib": """
            @misc{index.html, author = {Doe, Q.}, title = {T}, year = {2001}}
            @misc{CON, author = {Doe, Q.}, title = {T}, year = {2002}}
            @misc{trailing., author = {Doe, Q.}, title = {T}, year = {2003}}
        """,
        "bib/what?.bib": PAPER.replace("fine2020", "what2020"),
        "content/conditions/aux.yaml": "name: Aux\ndescription: Aux.\n",
    })
    code, _, err = check(capsys, root)
    assert code == 1
    assert ("bib/more.bib:1:1: error: the site's papers page is the file 'papers/index.html', "
            "which paper 'index.html' needs as a folder") in err
    assert "bib/more.bib:2:1: error: citation key 'CON' is a name Windows reserves" in err
    assert "bib/more.bib:3:1: error: citation key 'trailing.' ends with '.'" in err
    assert "bib/what?.bib:1:1: error: 'what?.bib' holds ?, which Windows does not allow" in err
    assert "content/conditions/aux.yaml:1:1: error: 'aux' is a name Windows reserves" in err


def test_a_new_author_file_link_prefills_yaml_that_reads_back_as_the_name(tmp_path):
    root = project(tmp_path, **{"bib/quotes.bib": r"""
        @article{quotes2020,
          author = {Smith, John "Jack" and Doe" \# x, Jane},
          title = {Quotes}, journal = {Pain}, year = {2020},
        }
    """, "bib/odd#name.bib": PAPER.replace("fine2020", "odd2020")})
    assert not build(root, root / "_site").diagnostics.has_errors
    names = []
    for page in sorted((root / "_site" / "authors").glob("*/index.html")):
        html = page.read_text(encoding="utf-8")
        for href in (h.replace("&amp;", "&") for h in _hrefs(html) if "/new/main/" in h):
            value = parse_qs(urlsplit(href).query)["value"][0]
            names.append(yaml.safe_load(value)["name"])
    assert 'Smith, John "Jack"' in names and 'Doe" # x, Jane' in names
    odd = (root / "_site" / "papers" / "odd2020" / "index.html").read_text(encoding="utf-8")
    assert "https://github.com/example/hostile/edit/main/bib/odd%23name.bib" in odd


def _hrefs(html: str) -> list[str]:
    import re

    return re.findall(r'href="([^"]+)"', html)


def test_a_markdown_image_is_a_link_to_it_and_each_bad_link_is_located(tmp_path, capsys):
    root = project(tmp_path, **{"content/papers/fine2020.yaml":
                                'finding: "See ![a chart](https://x.example/pixel.png) here"\n'})
    code, _, err = check(capsys, root)
    assert code == 0
    assert ("content/papers/fine2020.yaml:1:26: warning: image 'https://x.example/pixel.png' in "
            "'finding' is shown as a link to it") in err
    assert not build(root, root / "_site").diagnostics.has_errors
    html = (root / "_site" / "papers" / "fine2020" / "index.html").read_text(encoding="utf-8")
    assert '<a href="https://x.example/pixel.png">a chart</a>' in html and "<img" not in html
    (root / "content/papers/fine2020.yaml").write_text(
        'finding: "[a](javascript:alert(1)) then [b](&#106;avascript:alert(2))"\n', "utf-8")
    code, _, err = check(capsys, root)
    assert code == 1
    assert "fine2020.yaml:1:15: error: link to 'javascript:alert(1)'" in err
    assert "fine2020.yaml:1:45: error: link to 'javascript:alert(2)'" in err
