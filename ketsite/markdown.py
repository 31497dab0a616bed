"""Markdown fields to HTML: CommonMark with raw HTML off, safe links only, inline citations.

Contributors' text is untrusted: markdown-it-py escapes any HTML it sees, and links are limited to
http(s), mailto and relative targets, so ``javascript:`` and ``data:`` never reach a page. Citations
``[@key]`` become numbered links to paper pages, with the list of cited papers returned beside the
HTML so the template can print it after the text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ketsite.diagnostics import Diagnostics, SourceLocation
from ketsite.model.citations import CITATION_RE, split_citation
from ketsite.model.entities import MarkdownText

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline

_SAFE_LINK = re.compile(r"^(https?:|mailto:|[^:]*$|[^:]*[/?#])", re.IGNORECASE)


@dataclass(frozen=True)
class Cited:
    """One entry of a field's reference list."""

    number: int
    key: str
    href: str
    label: str


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    cited: tuple[Cited, ...]


CiteResolver = Callable[[str], tuple[str, str] | None]  # key → (href, label)


def _validate_link(url: str) -> bool:
    url = url.strip()
    if url.startswith("//"):  # another host in the page's own scheme (file:// from disk)
        return False
    return bool(_SAFE_LINK.match(url)) and not url.lower().startswith(
        ("javascript:", "data:", "vbscript:"))


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[" or not state.src.startswith("[@", state.pos):
        return False
    match = CITATION_RE.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"keys": split_citation(match.group(1))}
    state.pos = match.end()
    return True


# The parsers are made when first used, not when ketsite is imported: ``build --incremental``
# after a BibTeX edit may render no Markdown at all, and markdown-it takes a twentieth of a second
# to import and set up.

#: The level on the page of a Markdown field's highest heading (the field is inside an h2 section).
FIRST_HEADING = 3


@cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = _validate_link
    md.inline.ruler.before("link", "citation", _citation_rule)

    def render_citation(self, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        numbers = []
        resolve: CiteResolver = env["resolve"]
        order: dict[str, Cited] = env["cited"]
        for key in tokens[idx].meta["keys"]:
            if key not in order:
                target = resolve(key)
                href, label = target if target else ("", key)
                order[key] = Cited(len(order) + 1, key, href, label)
            cited = order[key]
            text = str(cited.number)
            if cited.href:
                href, label = html.escape(cited.href), html.escape(cited.label)
                numbers.append(f'<a href="{href}" title="{label}">{text}</a>')
            else:
                numbers.append(text)
        return '<span class="cite">[' + ", ".join(numbers) + "]</span>"

    md.add_render_rule("citation", render_citation)

    def render_heading(self, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        # A field sits under the page's h1 and a section's h2: its highest heading is an h3,
        # the others below it in step (to h6), so a page keeps one h1 and skips no level.
        top = env.get("heading_top")
        if top is None:
            top = env["heading_top"] = min(
                int(t.tag[1]) for t in tokens if t.type == "heading_open")
        token = tokens[idx]
        token.tag = f"h{min(6, int(token.tag[1]) - top + FIRST_HEADING)}"
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("heading_open", render_heading)
    md.add_render_rule("heading_close", render_heading)

    def render_image(self, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        # A link to the image, not the image: a page loads nothing from another host (a reader
        # of the offline bundle has no network, and a remote image is a reader-tracking pixel).
        token = tokens[idx]
        src = html.escape(str(token.attrGet("src") or ""))
        alt = html.escape(self.renderInlineAsText(token.children or [], options, env) or "image")
        return f'<a href="{src}">{alt}</a>'

    md.add_render_rule("image", render_image)
    return md


def render_markdown(text: str, resolve: CiteResolver) -> RenderedMarkdown:
    """Render ``text``; ``resolve`` maps a citation key to (href, label) or ``None``."""
    env: dict[str, object] = {"resolve": resolve, "cited": {}}
    html = _parser().render(text, env)
    cited = env["cited"]
    assert isinstance(cited, dict)
    return RenderedMarkdown(html, tuple(cited.values()))


@cache
def _inspector() -> MarkdownIt:
    """A parser that keeps every link and raw HTML, only to find what the real one would refuse."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    md.validateLink = lambda url: True
    md.inline.ruler.before("link", "citation", _citation_rule)
    return md


def _tokens(text: str) -> list[tuple[object, int]]:
    """Every token, with the 0-based line of the value its block starts on."""
    out: list[tuple[object, int]] = []
    for token in _inspector().parse(text):
        line = token.map[0] if token.map else 0
        out.append((token, line))
        for child in token.children or ():
            out.append((child, line))
            line += child.type in ("softbreak", "hardbreak")
    return out


def check_markdown(texts: list[MarkdownText], diags: Diagnostics) -> None:
    """Links the renderer would drop are errors (the contributor meant a link and would silently
    get plain text); raw HTML, which is shown as text, is a warning."""
    for text in texts:
        warned_html = False
        lines = text.text.split("\n")
        located: dict[str, int] = {}  # fragment → errors placed at it so far (the n-th at the n-th)
        for token, line in _tokens(text.text):
            kind = getattr(token, "type", "")
            if kind in ("link_open", "image"):
                url = str(token.attrGet("href") or token.attrGet("src") or "")  # type: ignore[attr-defined]
                if not _validate_link(url):
                    scheme = url.split(":", 1)[0] + ":"
                    written = (url if url in text.text else _written_target(text.text, url)
                               or (scheme if scheme in text.text else ""))
                    fragment = written or lines[min(line, len(lines) - 1)].strip()
                    nth = located.get(fragment, 0)
                    located[fragment] = nth + 1
                    diags.error(
                        _where(text, fragment, nth),
                        f"link to '{url[:60]}' in '{text.field}' is not allowed: links may only be "
                        "http:, https:, mailto: or relative (another site: its full https:// "
                        "address)",
                    )
                elif kind == "image":
                    diags.warning(
                        _where(text, url if url in text.text else ""),
                        f"image '{url[:60]}' in '{text.field}' is shown as a link to it: pages "
                        "load nothing from other hosts (the offline bundle has no network)",
                    )
            elif kind in ("html_inline", "html_block") and not warned_html:
                warned_html = True
                snippet = str(getattr(token, "content", "")).strip().split("\n")[0][:40]
                diags.warning(
                    _where(text, snippet),
                    f"raw HTML in '{text.field}' ({snippet}) is shown as text, not as HTML; "
                    "use Markdown instead",
                )


_TARGET = re.compile(r"\]\(\s*<?([^)\s>]+)|^\s*\[[^\]]+\]:\s*<?(\S+)", re.MULTILINE)


def _written_target(source: str, url: str) -> str:
    """The target of a link as written in ``source`` when it differs from the ``url`` it means
    (``&#106;avascript:…``, ``java&#x09;script:…``), so the error points at the link, not at the
    start of the field."""
    want = re.sub(r"\s", "", unquote(url).lower())  # markdown-it percent-encodes
    raws = [(m.group(1) or m.group(2)) for m in _TARGET.finditer(source)]
    meant = [re.sub(r"\s", "", html.unescape(unquote(raw)).lower()) for raw in raws]
    for raw, target in zip(raws, meant, strict=True):  # the whole target (cut at a ')')
        if target.startswith(want) or (len(target) >= 12 and want.startswith(target)):
            return raw
    for raw, target in zip(raws, meant, strict=True):  # else its start
        if target.startswith(want[:12]):
            return raw
    return ""


def _where(text: MarkdownText, fragment: str, nth: int = 0) -> SourceLocation:
    """Where the ``nth`` ``fragment`` (or the last one, if fewer) is written in the source."""
    if text.locate is not None and fragment and fragment in text.text:
        return text.locate(fragment, min(nth, text.text.count(fragment) - 1))
    return text.loc
