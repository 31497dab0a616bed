"""Helpers for tests that look at a built site the way a browser or a crawler would."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent


def load_synth() -> ModuleType:
    """benchmarks/synth.py (the synthetic-library generator), loaded once under its own name,
    without putting benchmarks/ on sys.path (whose run.py and cite.py would shadow modules)."""
    synth = sys.modules.get("ketsite_bench_synth")
    if synth is None:
        spec = importlib.util.spec_from_file_location("ketsite_bench_synth",
                                                      REPO / "benchmarks" / "synth.py")
        assert spec and spec.loader
        synth = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = synth  # dataclasses look their module up there
        spec.loader.exec_module(synth)
    return synth
SEEDS = REPO / "tests" / "fixtures" / "seeds"


class PageParser(HTMLParser):
    """Collects links, ids, text and meta tags of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.meta: list[tuple[str, str]] = []
        self.h1: list[str] = []
        self._in_h1 = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        for attr in ("href", "src"):
            if attr in a and tag in ("a", "link", "script", "img"):
                self.links.append(a[attr])
        if tag == "meta" and "name" in a:
            self.meta.append((a["name"], a.get("content", "")))
        if tag == "h1":
            self._in_h1 = True
            self.h1.append("")
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_h1 = False
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._in_h1:
            self.h1[-1] += data


def record_renders(monkeypatch) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(kind, ident) of every route the engine renders from now on."""
    from ketsite.engine import RouteRenderer

    rendered: list[tuple[str, str]] = []
    render = RouteRenderer.__call__

    def spy(self, route):  # type: ignore[no-untyped-def]
        rendered.append((route.kind, route.ident))
        return render(self, route)

    monkeypatch.setattr(RouteRenderer, "__call__", spy)
    return rendered


def parse_page(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def page_text(path: Path) -> str:
    return " ".join(" ".join(parse_page(path).text).split())


def resolve_link(site: Path, page: Path, href: str) -> tuple[Path, str] | None:
    """The file and fragment an internal link points at, or None for external links."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("mailto:"):
        return None
    if not parts.path:
        return page, parts.fragment
    if parts.path.startswith("/"):
        target = site / unquote(parts.path).lstrip("/")
    else:
        target = (page.parent / unquote(parts.path)).resolve()
    if href.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, parts.fragment


def broken_links(site: Path) -> list[str]:
    """Every internal link or anchor in the site that does not resolve, as 'page -> href'."""
    problems = []
    ids: dict[Path, set[str]] = {}
    pages = sorted(site.rglob("*.html"))
    parsed = {p.resolve(): parse_page(p) for p in pages}
    for p, info in parsed.items():
        ids[p] = info.ids
    for page, info in parsed.items():
        if page.name == "404.html":
            continue  # root-absolute links, checked separately
        for href in info.links:
            resolved = resolve_link(site, page, href)
            if resolved is None:
                continue
            target, fragment = resolved
            target = target.resolve()
            if not target.is_file() or not target.is_relative_to(site.resolve()):
                problems.append(f"{page.relative_to(site.resolve())} -> {href} (no file)")
            elif fragment and target.suffix == ".html" and fragment not in ids.get(target, set()):
                problems.append(f"{page.relative_to(site.resolve())} -> {href} (no anchor)")
    return problems


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write dedented files below ``root`` (a scratch project)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def scratch_copy(root: Path) -> Path:
    """A copy of the bundled project that a test may edit (node_modules linked, not copied)."""
    import shutil

    for name in ("bib", "content", "templates"):
        shutil.copytree(REPO / name, root / name, symlinks=True)
    for name in ("ketsite.yaml", "netlify.toml", "package.json", "package-lock.json"):
        shutil.copy2(REPO / name, root / name)
    (root / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    return root


#: Elements written to format content: CommonMark's for Markdown syntax (raw HTML is off),
#: ketsite's citation span, citeproc's in formatted references.
FORMATTED_TAGS = frozenset({"p", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
                            "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "a", "img", "span",
                            "i", "b", "sup", "sub"})


def script_is_inert(attrs: dict[str, str], content: str) -> bool:
    """A script element may be one of the site's own files, or a JSON-LD data block that is
    whole, valid JSON (content that closed it early would leave broken JSON behind)."""
    import json

    if attrs.get("src"):
        return not content.strip()
    if attrs.get("type") != "application/ld+json":
        return False
    try:
        json.loads(content)
    except ValueError:
        return False
    return True
