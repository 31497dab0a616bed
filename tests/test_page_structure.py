"""Structure a screen reader relies on, checked on every page of the built site (axe-core runs in
the browser on a sample of each page type; these rules are cheap enough to check everywhere):
one h1, no skipped heading level, the landmarks, a skip link first, captions and header cells on
every table, a text alternative on every image and chart."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from pagetypes import build_bundled_site, site_pages

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_bundled_site(tmp_path_factory.mktemp("structure") / "_site")


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.lang = ""
        self.headings: list[int] = []
        self.landmarks: list[str] = []
        self.first_link: dict | None = None
        self.ids: set[str] = set()
        self.stack: list[tuple[str, dict]] = []
        self.tables: list[dict] = []
        self.svgs: list[dict] = []

    def _inside(self, tag: str) -> dict | None:
        for t, a in reversed(self.stack):
            if t == tag:
                return a
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.lang = a.get("lang", "")
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.headings.append(int(tag[1]))
        if tag in ("main", "nav", "header", "footer") or a.get("role") in ("main", "navigation"):
            in_section = any(t in ("article", "section", "aside", "main", "nav")
                             for t, _ in self.stack)
            if not (tag in ("header", "footer") and in_section):
                self.landmarks.append(tag if tag != "nav" else f"nav:{a.get('aria-label', '')}")
        if tag == "a" and "href" in a and self.first_link is None:
            self.first_link = a
        if tag == "table":
            self.tables.append({"caption": bool(a.get("aria-label") or a.get("aria-labelledby")),
                                "th": 0, "th_no_scope": 0, "role": a.get("role", "")})
        if tag == "caption" and self.tables:
            self.tables[-1]["caption"] = True
        if tag == "th" and self.tables:
            self.tables[-1]["th"] += 1
            if "scope" not in a and not self._inside("thead"):
                self.tables[-1]["th_no_scope"] += 1
        if tag == "svg" and not self._inside("svg"):
            hidden = a.get("aria-hidden") == "true" or self._inside("a") or self._inside("button")
            self.svgs.append({"hidden": bool(hidden), "role": a.get("role", ""),
                              "named": bool(a.get("aria-label") or a.get("aria-labelledby")),
                              "figure": self._inside("figure") is not None})
        if tag == "title" and self._inside("svg") and self.svgs:
            self.svgs[-1]["named"] = True
        if tag == "img" and "alt" not in a:
            self.problems.append(f"<img src={a.get('src')!r}> has no alt")
        if tag not in VOID:
            self.stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def _outline(path: Path) -> _Outline:
    parser = _Outline()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def check_page(path: Path) -> list[str]:
    o = _outline(path)
    problems = list(o.problems)
    if not o.lang:
        problems.append("<html> has no lang")
    if o.headings.count(1) != 1:
        problems.append(f"{o.headings.count(1)} h1 elements (want exactly one)")
    if o.headings and o.headings[0] != 1:
        problems.append(f"first heading is h{o.headings[0]}, not h1")
    for before, after in zip(o.headings, o.headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading level skips from h{before} to h{after}")
    for landmark in ("header", "main", "footer"):
        if o.landmarks.count(landmark) != 1:
            problems.append(f"{o.landmarks.count(landmark)} page-level <{landmark}> (want one)")
    navs = [x for x in o.landmarks if x.startswith("nav")]
    if not navs or len(set(navs)) != len(navs) or "nav:" in navs:
        problems.append(f"navigation landmarks need distinct labels: {navs}")
    first = o.first_link or {}
    if "skip-link" not in first.get("class", "") or first.get("href", "")[1:] not in o.ids:
        problems.append(f"the first link is not a working skip link: {first}")
    for i, t in enumerate(o.tables, 1):
        if not t["caption"] and t["role"] != "presentation":
            problems.append(f"table {i} has no caption (or aria-label)")
        if not t["th"] and t["role"] != "presentation":
            problems.append(f"table {i} has no header cells")
        if t["th_no_scope"]:
            problems.append(f"table {i}: {t['th_no_scope']} <th> outside <thead> without scope")
    for i, s in enumerate(o.svgs, 1):
        if not s["hidden"] and not (s["role"] == "img" and s["named"]):
            problems.append(f"svg {i} is neither aria-hidden nor role=img with a name")
    return problems


def test_every_page_has_a_sound_outline_landmarks_and_text_alternatives(site):
    failures = []
    pages = site_pages(site)
    for p in pages:
        failures += [f"{p.rel}: {msg}" for msg in check_page(p.path)]
    assert len(pages) > 200
    assert failures == [], "\n".join(failures)


BAD_PAGE = """<!doctype html><html><head><title>x</title></head><body>
<header><a href="/">Site</a><nav><a href="/a">A</a></nav></header>
<main id="main"><h2>Starts at two</h2><h1>One</h1><h1>Two</h1><h4>Skips</h4>
<table><tr><th>Row</th><td>1</td></tr></table>
<svg viewBox="0 0 10 10"><rect width="10" height="10"/></svg><img src="x.png"></main>
</body></html>"""


def test_the_outline_check_catches_broken_pages(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(BAD_PAGE, encoding="utf-8")
    problems = "\n".join(check_page(page))
    for expected in ("no lang", "2 h1", "first heading is h2", "skips from h1 to h4",
                     "0 page-level <footer>", "distinct labels", "skip link", "no caption",
                     "without scope", "svg 1", "has no alt"):
        assert expected in problems, (expected, problems)
