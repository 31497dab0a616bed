"""Untrusted content is shown, never run: HTML, event handlers, script links and Jinja syntax in
any source field come out as inert text; ``javascript:``/``data:`` links never reach a page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from sitetools import script_is_inert, write_files

from ketsite.cli import main
from ketsite.markdown import render_markdown

BAD_SCHEMES = ("javascript:", "data:", "vbscript:")

JINJA = "{{ 7*191 }}"  # 1337 if it were ever evaluated
JINJA_BLOCK = "{% raw %}not raw{% endraw %}"

PAYLOADS = {
    # BibTeX fields (braces and % are BibTeX/LaTeX syntax there, so they are escaped as \{ \%)
    "bib title": ("title", "<img src=x onerror=\"window.__pwned='title'\">"),
    "bib author": ("author", "<svg onload=\"window.__pwned='author'\">"),
    "bib journal": ("journal", "\"><script>window.__pwned='journal'</script>"),
    "bib abstract": ("abstract", "<iframe src=\"javascript:window.__pwned='abstract'\"></iframe>"),
    # YAML text fields
    "population": ("population", "<img src=x onerror=\"window.__pwned='population'\">"),
    "outcomes": ("outcomes", "<script>window.__pwned='outcomes'</script>"),
    "basis": ("basis", "\"><svg onload=\"window.__pwned='basis'\">"),
    "condition name": ("name", "<details open ontoggle=\"window.__pwned='cname'\">C</details>"),
    "synonym": ("synonyms", "<video><source onerror=\"window.__pwned='syn'\"></video>"),
    "abstract heading": ("heading", "<h6 onclick=\"window.__pwned='heading'\">H</h6>"),
    "affiliation": ("affiliation", "<marquee onstart=\"window.__pwned='affil'\">x</marquee>"),
    "site title": ("title", "<script>window.__pwned='site'</script>"),
}

MARKDOWN_PAYLOADS = {
    "finding": "<img src=x onerror=\"window.__pwned='finding'\">",
    "status_note": "<div onclick=\"window.__pwned='status'\">div</div>",
    "description": "<script>window.__pwned='description'</script>",
    "summary": "<style>body { display: none }</style>",
    "abstract text": "<form action=\"javascript:window.__pwned='form'\"><button>go</button></form>",
}


def yaml_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def payload(name: str) -> str:
    return PAYLOADS[name][1]


def bib_escape(text: str) -> str:
    return text.replace("{", "\\{").replace("}", "\\}").replace("%", "\\%")


def payload_project(root: Path, benign: bool = False) -> Path:
    """The payload project; ``benign`` writes plain words in the same places instead, to build
    the same site structure for comparison."""
    q = yaml_quote

    def v(text: str) -> str:
        return "plain-words" if benign else text

    write_files(root, {
        "ketsite.yaml": f"""
            title: {q(v(payload("site title") + " " + JINJA))}
            description: {q(v("A <em>site</em> " + JINJA_BLOCK))}
            url: https://example.org
            repository: https://github.com/example/example
            issues: https://github.com/example/example/issues
            """,
        "bib/papers.bib": f"""
            @article{{xss2020,
              author   = {{{{{v(payload("bib author"))}}} and Doe, Jane}},
              title    = {{{v(f"{payload('bib title')} {bib_escape(JINJA + JINJA_BLOCK)}")}}},
              journal  = {{{v(payload("bib journal"))}}},
              abstract = {{{v(payload("bib abstract"))}}},
              year     = {{2020}},
              doi      = {{10.1000/{v('"><svg/onload=window.__pwned=' + "'doi'>")}}},
            }}

            @article{{review2021,
              author  = {{Doe, Jane}},
              title   = {{A review}},
              journal = {{Journal of Examples}},
              year    = {{2021}},
            }}
            """,
        "content/papers/xss2020.yaml": f"""
            design: randomised-controlled-trial
            population: {q(v(payload("population")))}
            dose: {q(v(JINJA))}
            comparator: {q(v(JINJA_BLOCK))}
            outcomes: [{q(v(payload("outcomes")))}]
            basis: {q(v(payload("basis")))}
            status: corrected
            status_note: |
              {v(MARKDOWN_PAYLOADS["status_note"])}
            finding: |
              {v(MARKDOWN_PAYLOADS["finding"] + " and " + JINJA + " and " + JINJA_BLOCK)}
              and `{v("<script>window.__pwned='code'</script>")}` [@review2021].
            """,
        "content/conditions/xss.yaml": f"""
            name: {q(v(payload("condition name")))}
            synonyms: [{q(v(payload("synonym")))}]
            description: |
              {v(MARKDOWN_PAYLOADS["description"])}

              Studied in [@xss2020].
            papers: [xss2020]
            """,
        "content/reviews/xss-review.yaml": f"""
            paper: review2021
            licence: CC-BY-4.0
            summary: {q(v(MARKDOWN_PAYLOADS["summary"] + " " + JINJA))}
            abstract:
              - heading: {q(v(payload("abstract heading")))}
                text: {q(v(MARKDOWN_PAYLOADS["abstract text"]))}
            conditions: [xss]
            references: [xss2020]
            """,
        "content/authors/doe-jane.yaml": f"""
            name: Doe, Jane
            affiliation: {q(v(payload("affiliation")))}
            """,
    })
    return root


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str], str]] = []  # (attributes, content)
        self._script: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "script":
            self._script = self.elements[-1][1]
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag):
        self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[-1] = (self._script, self.scripts[-1][1] + data)
        else:
            self.text.append(data)


def inspect(page: Path) -> Elements:
    parser = Elements()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def build_project(root: Path) -> Path:
    assert main(["check", "--src", str(root)]) == 0
    assert main(["build", "--src", str(root), "--out", str(root / "_site"),
                 "--links", "files"]) == 0
    return root / "_site"


@pytest.fixture(scope="module")
def payload_site(tmp_path_factory) -> Path:
    return build_project(payload_project(tmp_path_factory.mktemp("payloads")))


@pytest.fixture(scope="module")
def benign_site(tmp_path_factory) -> Path:
    return build_project(payload_project(tmp_path_factory.mktemp("benign"), benign=True))


def element_counts(site: Path) -> list[tuple[tuple[str, int], ...]]:
    """How many elements of each kind every page has (pages sorted, not named: the corporate
    author's page address is made from its name)."""
    pages = []
    for page in sorted(site.rglob("*.html")):
        counts: dict[str, int] = {}
        for tag, _ in inspect(page).elements:
            counts[tag] = counts.get(tag, 0) + 1
        pages.append(tuple(sorted(counts.items())))
    return sorted(pages)


def test_payloads_add_no_element_to_any_page(payload_site, benign_site):
    """The same site with plain words in the same fields has exactly the same elements: not one
    came out of the payloads."""
    assert element_counts(payload_site) == element_counts(benign_site)


def test_no_page_contains_a_foreign_element_handler_or_script_link(payload_site):
    pages = sorted(payload_site.rglob("*.html"))
    assert len(pages) >= 10
    for page in pages:
        parsed = inspect(page)
        rel = page.relative_to(payload_site)
        for tag, attrs in parsed.elements:
            assert not [a for a in attrs if a.startswith("on")], (rel, tag, attrs)
            for name in ("href", "src", "action", "formaction"):
                value = "".join(attrs.get(name, "").split()).lower()
                assert not value.startswith(BAD_SCHEMES), (rel, tag, attrs)
        for attrs, content in parsed.scripts:  # the site's own files and JSON-LD data only
            assert script_is_inert(attrs, content), (rel, attrs, content[:200])
        assert "1337" not in "".join(parsed.text), rel


def test_every_payload_is_shown_literally_as_text(payload_site):
    text = ""
    for page in sorted(payload_site.rglob("*.html")):
        text += " ".join(inspect(page).text) + "\n"
    for name, (_, value) in PAYLOADS.items():
        assert value in text, name
    for name, value in MARKDOWN_PAYLOADS.items():
        assert value in text, name
    assert JINJA in text and JINJA_BLOCK in text
    assert "<script>window.__pwned='code'</script>" in text  # a code span stays code
    assert '10.1000/"><svg/onload=' in text


def test_markup_is_escaped_in_attributes_too(payload_site):
    paper = (payload_site / "papers" / "xss2020" / "index.html").read_text(encoding="utf-8")
    head = paper.split("</head>")[0]
    assert str(escape(payload("bib title"))) in head  # in <title> and the description
    assert "<img" not in head and "<script>window" not in head


@pytest.mark.browser
def test_payload_pages_run_no_script_in_chromium(payload_site, page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for rel in ("index.html", "papers/xss2020/index.html", "papers/review2021/index.html",
                "reviews/xss-review/index.html", "conditions/xss/index.html",
                "authors/doe-jane/index.html", "papers/index.html", "authors/index.html"):
        page.goto((payload_site / rel).as_uri())
        page.mouse.move(10, 10)
        assert page.evaluate("typeof window.__pwned") == "undefined", rel
        assert page.locator("body").is_visible(), rel  # the <style> payload did not apply
    assert dialogs == []
    assert page.console_errors == []


# --- links: refused by the checker everywhere, and inert even if the renderer saw one ---------

UNSAFE_LINKS = {
    "inline javascript": "[x](javascript:alert(1))",
    "upper case": "[x](JAVASCRIPT:alert(1))",
    "entity encoded": "[x](&#106;avascript:alert(1))",
    "autolink": "<javascript:alert(1)>",
    "reference": "[x][r]\n\n[r]: javascript:alert(1)",
    "data html": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data image": "![x](data:image/svg+xml,<svg/onload=alert(1)>)",
    "vbscript": "[x](vbscript:msgbox(1))",
    "protocol relative": "[x](//evil.example/x)",
}


@pytest.mark.parametrize("name", sorted(UNSAFE_LINKS))
def test_check_refuses_unsafe_links_in_markdown(name, tmp_path, capsys):
    text = UNSAFE_LINKS[name].replace("\n", "\n  ")
    write_files(tmp_path, {
        "bib/a.bib": """
            @article{a2020,
              author = {Doe, Jane}, title = {T}, journal = {J}, year = {2020},
            }
            """,
    })
    (tmp_path / "content" / "papers").mkdir(parents=True)
    (tmp_path / "content" / "papers" / "a2020.yaml").write_text(
        f"design: meta-analysis\nfinding: |\n  Before.\n  {text}\n", encoding="utf-8")
    assert main(["check", "--src", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    line = 6 if name == "reference" else 4  # a reference link is refused at its definition
    assert f"content/papers/a2020.yaml:{line}:" in err
    if name == "entity encoded":  # at the link as written, not at the start of the field
        assert "content/papers/a2020.yaml:4:7:" in err
    assert "is not allowed: links may only be http:, https:, mailto: or relative" in err


@pytest.mark.parametrize("where", ["bib url", "author url", "site issues", "site repository"])
def test_check_refuses_script_urls_in_url_fields(where, tmp_path, capsys):
    files = {"bib/a.bib": "@article{a2020,\n  author = {Doe, Jane},\n  title = {T},\n"
                          "  journal = {J},\n  year = {2020},\n}\n"}
    if where == "bib url":
        files["bib/a.bib"] = files["bib/a.bib"].replace(
            ",\n}\n", ",\n  url = {javascript:alert(1)},\n}\n")
    elif where == "author url":
        files["content/authors/doe-jane.yaml"] = "name: Doe, Jane\nurl: javascript:alert(1)\n"
    else:
        key = where.split()[1]
        files["ketsite.yaml"] = (f"title: T\ndescription: D\nurl: https://example.org\n"
                                 f"{key}: 'data:text/html,x'\n")
    write_files(tmp_path, files)
    assert main(["check", "--src", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "http:// or https://" in err


@pytest.mark.parametrize("name", sorted(UNSAFE_LINKS))
def test_renderer_alone_makes_unsafe_links_inert(name):
    rendered = render_markdown(UNSAFE_LINKS[name], lambda key: None).html
    parser = Elements()
    parser.feed(rendered)
    for tag, attrs in parser.elements:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for attr in ("href", "src"):
            value = "".join(attrs.get(attr, "").split()).lower()
            assert not value.startswith(BAD_SCHEMES), (tag, attrs)


def test_headings_in_a_markdown_field_stay_below_the_pages_own():
    """A field's Markdown is shown inside an h2 section of a page with one h1: its headings start
    at h3 and keep their steps, so the page's outline stays whole."""
    html = render_markdown("# Background\n\ntext\n\n## Detail\n\n# Also", lambda _key: None).html
    assert re.findall(r"<(h\d)>", html) == ["h3", "h4", "h3"]
    assert "<h1" not in html and "<h2" not in html


def test_citations_in_code_are_text_and_unreadable_ones_are_warned_about(tmp_path, capsys):
    """``[@key]`` in code is shown as written, so it is not checked (it was an error); a
    citation with a page or a prefix inside the brackets is shown as written too, so it is
    a warning saying how to write it (it passed silently, a misspelt key with it)."""
    write_files(tmp_path, {
        "bib/a.bib": "@article{a2020,\n  author = {Doe, Jane},\n  title = {T},\n"
                     "  journal = {J},\n  year = {2020},\n}\n",
        "content/conditions/pain.yaml": (
            "name: Pain\n"
            "description: \"Cite papers as `[@key]`. As shown [@a2020, p. 4] and [@a2020].\"\n"),
    })
    assert main(["check", "--src", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "[@key]" not in err.replace("write [@key]", "")
    assert "content/conditions/pain.yaml:2:" in err
    assert "'[@a2020, p. 4]' in 'description' is shown as written, not as a citation" in err
