"""Rendering: a page route and the site context in, bytes out. The only module importing jinja2.

Autoescape is on and undefined variables are errors, so a typo in a template fails the build rather
than the reader. Rendering has no side effects and depends only on (route, context), so pages can be
rendered in any order, in parallel, or one at a time for an incremental rebuild.
"""

from __future__ import annotations

import functools
import posixpath
import traceback
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
)
from jinja2.bccache import Bucket
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Expr
from jinja2.runtime import Context, Macro
from jinja2.utils import internalcode
from markupsafe import Markup, escape

from ketsite import charts
from ketsite.config import SiteConfig
from ketsite.generators import VERSIONS
from ketsite.markdown import RenderedMarkdown, render_markdown
from ketsite.memo import Memo, Pieces
from ketsite.model.corpus import Corpus
from ketsite.model.entities import DESIGNS, DIRECTIONS, Paper
from ketsite.model.parse import LICENCES
from ketsite.scholarly import exports, metadata
from ketsite.site.edit import edit_link, report_link
from ketsite.site.paging import FIRST_PAGES
from ketsite.site.routes import Hrefs, LinkStyle, Route, RouteTable
from ketsite.site.views import view_for

try:  # MarkupSafe 3: the C function inside ``escape``, without its ``Markup`` around the result
    from markupsafe import _escape_inner as _escape_str
except ImportError:  # MarkupSafe 2, whose ``escape`` is all C
    _escape_str = escape


def _printed(value: Any) -> str:
    """``escape(value)`` for text a template prints: a page is the join of such pieces, so the
    ``Markup`` that ``escape`` wraps around a plain string (two thirds of its cost) is not needed,
    nor a new one around a macro's ``Markup`` or the ``str`` of a number."""
    kind = type(value)
    if kind is str:
        return _escape_str(value)  # type: ignore[no-any-return]
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    return escape(value)


@dataclass(frozen=True)
class SiteContext:
    """Everything every page may read; built once per build."""

    config: SiteConfig
    corpus: Corpus
    routes: RouteTable
    style: LinkStyle
    assets: dict[str, str]  # logical name (``style.css``) → output path (``assets/style.1a2b.css``)
    build_date: str  # ISO date of the sources (SOURCE_DATE_EPOCH or git), never the clock
    live_reload: bool = False  # only ``ketsite serve`` sets this
    extra: dict[str, object] = field(default_factory=dict)


class RenderError(Exception):
    """A template failed; the message names the template, line and route."""

    def __init__(self, message: str, template: str = "", line: int = 1) -> None:
        super().__init__(message)
        self.template = template  #: the template file as Jinja knows it (may be absolute)
        self.line = line

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Raised in a worker process, it reaches the parent whole (template and line too).
        return (type(self), (str(self), self.template, self.line))


def _translated(title: str) -> tuple[str, str]:
    """A title and the translation in brackets after it, as PubMed gives one ("Kétamine …
    [Low doses ketamine]"), or the title and ""."""
    if title.endswith("]") and " [" in title:
        cut = title.rindex(" [")
        return title[:cut], title[cut + 1:]
    return title, ""


class PageHelpers:
    """Links and text helpers bound to one page, handed to its template as ``h``."""

    def __init__(self, route: Route, ctx: SiteContext, pieces: Pieces | None = None) -> None:
        self.route = route
        self.ctx = ctx
        self.pieces = pieces
        self._links: dict[tuple[str, str], str] = {}  # a page links to one author many times
        self._relative = Hrefs(route.path, ctx.style)

    def _href(self, to_path: str) -> str:
        if self.route.kind == "404" and self.ctx.style is LinkStyle.PRETTY:
            # 404.html is served at any missing URL, so its links cannot be relative.
            target = Route("x", "", to_path, "").url_path
            return self.ctx.config.base_path + target
        return self._relative(to_path)

    def author_links(self, paper: Paper, limit: int = 0) -> Markup:
        """``paper``'s authors as links, the first ``limit`` of them if more, then ", et al.".

        The body of the ``author_list`` macro, in Python: it runs for every paper listed on every
        page, and a Jinja loop calling ``h.link`` costs several times as much.
        """
        authors = paper.authors
        shown = authors if not limit or len(authors) <= limit else authors[:limit]
        html = ", ".join(
            f'<a href="{_printed(self.link("author", c.author_id))}">{_printed(c.name.display)}</a>'
            for c in shown
        )
        if len(shown) < len(authors):
            html += ", et al."
        return Markup(html)

    def link(self, kind: str, ident: str = "") -> str:
        key = (kind, ident)
        href = self._links.get(key)
        if href is None:
            href = self._href(self.ctx.routes.get(kind, ident).path)
            version = VERSIONS.get(kind)
            if version is not None:  # a file that keeps its name: its content's digest as query
                href += "?v=" + version(self.ctx, self.pieces)
            self._links[key] = href
        return href

    def export(self, kind: str, ident: str) -> tuple[str, str]:
        """The link to the ``kind`` export file of the collection ``ident`` (``author:x``), and
        the name to save it under when it is another collection's file (an author of a single
        paper links to the paper's file, the same bytes: ``exports.own_files``), else ""."""
        if self.has(kind, ident):
            return self.link(kind, ident), ""
        (key,) = exports.collection(self.ctx.corpus, ident)
        return self.link(kind, f"paper:{key}"), exports.saved_as(ident, kind)

    def has(self, kind: str, ident: str = "") -> bool:
        return self.ctx.routes.has(kind, ident)

    def index(self, kind: str) -> str:
        """A link to the first page of the papers or authors index by its fixed path: every page
        links there, and reading its route would make every page depend on what it lists."""
        return self._href(FIRST_PAGES[kind])

    def paper(self, key: str) -> str:
        return self.link("paper", key)

    def title(self, paper: Paper) -> Markup:
        """The paper's title, marked with its language where that is not the site's (a screen
        reader reads it in that language); a translation in brackets after it, as PubMed gives
        one ("… [Low doses ketamine]"), stays in the site's language."""
        return self.in_language(paper, paper.title)

    def _other_language(self, paper: Paper) -> str | None:
        """The paper's language tag where it is not the site's, else None."""
        lang = paper.lang
        site = self.ctx.config.language
        return lang if lang and lang.split("-")[0] != site.split("-")[0] else None

    def reference(self, paper: Paper, html: Markup) -> Markup:
        """A formatted reference of the cite panel with the paper's title in its language, where
        that is not the site's (the rest of a reference, names and numbers, is in none)."""
        lang = self._other_language(paper)
        escaped = _escape_str(_translated(paper.title)[0]) if lang else ""
        if not escaped or escaped not in html:  # the style changed its case: leave it as it is
            return html
        marked = f'<span lang="{_escape_str(lang)}">{escaped}</span>'
        return Markup(str(html).replace(escaped, marked, 1))  # noqa: S704 — escaped parts

    def in_language(self, paper: Paper, text: str) -> Markup:
        """``text`` (the title, or a quotation of it) in the paper's language, as :meth:`title`."""
        lang = self._other_language(paper)
        if lang is None:
            return Markup(_escape_str(text))  # noqa: S704 — escaped
        own, translated = _translated(text)
        html = f'<span lang="{_escape_str(lang)}">{_escape_str(own)}</span>'
        if translated:
            site = self.ctx.config.language
            html += f' <span lang="{_escape_str(site)}">{_escape_str(translated)}</span>'
        return Markup(html)  # noqa: S704 — every part escaped

    def file(self, path: str) -> str:
        """A link to any output file by its site-relative path."""
        return self._href(path)

    def asset(self, name: str) -> str:
        return self._href(self.ctx.assets[name])

    def root(self) -> str:
        """The prefix from this page to the site root (``../../``, ``/`` on a pretty 404 page), so
        scripts can resolve site-relative paths the way ``_href`` does."""
        return self._href("index.html").removesuffix("index.html") or "./"

    def canonical(self) -> str:
        return self.ctx.config.absolute(self.route.url_path)

    def edit_url(self) -> str | None:
        return edit_link(self.route, self.ctx.config, self.ctx.corpus)

    def report_url(self, title: str) -> str | None:
        return report_link(self.route, self.ctx.config, title)

    def md(self, text: str | None) -> RenderedMarkdown:
        corpus = self.ctx.corpus

        def resolve(key: str) -> tuple[str, str] | None:
            paper = corpus.papers.get(key)
            if paper is None:
                return None
            return self.paper(key), cite_label(paper)

        return render_markdown(text or "", resolve)

    def safe_md(self, text: str | None) -> Markup:
        return Markup(self.md(text).html)  # markdown-it escapes all raw HTML (html=False)


def _cite_formats(memo: Memo | None, paper: Paper) -> tuple[Any, ...]:
    """The cite panel's references (citeproc: milliseconds each), kept in ``memo``.

    citeproc-py is imported by the first page with a cite panel, not with ketsite: a tenth of
    a second that ``build --incremental`` after an edit need not spend before its first page."""
    from ketsite.scholarly import cite

    if memo is None:
        return cite.format_all(paper)
    return cite.from_plain(memo.call("cite", cite.format_all_key(paper), cite.format_all_plain,
                                     paper))


def cite_label(paper: Paper) -> str:
    first = paper.authors[0].name.family if paper.authors else ""
    etal = " et al." if len(paper.authors) > 2 else (
        f" & {paper.authors[1].name.family}" if len(paper.authors) == 2 else "")
    return f"{first}{etal} ({paper.year}). {paper.title}"


def _escaped_coins(paper: Paper) -> Markup:
    return escape(metadata.coins(paper))


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory, keyed by file and checked against the source's hash
    by Jinja: a second build in one process (tests, ``serve``) skips Jinja's compiler, which
    costs more than rendering a small site. A cache, like ``lru_cache``: never a result."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


#: Callables that take no context, environment or eval context unless marked so (``pass_context``).
_PLAIN_CALLABLES = frozenset({FunctionType, MethodType, BuiltinFunctionType, Macro})


class _Context(Context):
    """Jinja's template context with a shorter way through ``call`` for plain callables.

    Templates call ``h.link`` and the like some forty times a page, and every call goes through
    ``Context.call``, which probes the callable (and its ``__call__``) for what to pass it; a
    function, method or macro needs that looked up once, on itself.
    """

    @internalcode
    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if type(__obj) not in _PLAIN_CALLABLES or hasattr(__obj, "jinja_pass_arg"):
            return Context.call(__self, __obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:  # as Context.call answers it
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class _CodeGenerator(CodeGenerator):
    """Jinja's compiler, printing ``{{ ... }}`` through ``_printed`` rather than ``escape`` where
    autoescaping is on for good (ours is), some hundred times a page. ``_output_child_pre`` is
    where Jinja 3.1 writes that call (pyproject keeps Jinja below 4)."""

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.printed(")
        if finalize.src is not None:
            self.write(finalize.src)


class _Environment(Environment):
    """Jinja's environment with each template's globals a plain dict, not a ``ChainMap``.

    Every ``{% from ... import %}`` compares the importing page's globals with the imported
    template's, and on a ``ChainMap`` that set difference runs in Python, key by key (~70 µs an
    import, several per page). The dict is a copy taken when the template loads, which is all a
    ChainMap gives too as long as ``globals`` is complete before the first template loads, as
    ``Renderer.__init__`` ensures.
    """

    context_class = _Context
    code_generator_class = _CodeGenerator
    printed = staticmethod(_printed)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **d} if d else dict(self.globals)


class Renderer:
    def __init__(self, template_dirs: list[Path], ctx: SiteContext,
                 bytecode_dir: Path | None = None, memo: Memo | None = None) -> None:
        self.ctx = ctx
        # parts of whole-library files and per-paper strings, kept by the memo's owner (the
        # Builder) between builds; without one, for this renderer's life
        self.pieces = memo.pieces if memo is not None else Pieces()
        cache = None
        if bytecode_dir is not None:  # compiled templates kept between runs (.ketsite-cache/jinja)
            try:
                bytecode_dir.mkdir(parents=True, exist_ok=True)
                # not Jinja's file names: our compiler's code calls ``environment.printed``
                cache = FileSystemBytecodeCache(str(bytecode_dir), "__ketsite_%s.cache")
            except OSError:
                cache = None
        self.env = _Environment(
            loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs]),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # on disk between runs (.ketsite-cache/jinja), else in memory for this process
            bytecode_cache=cache if cache is not None else _COMPILED,
            auto_reload=False,  # templates are read once per build; no stat per page
        )
        self.env.globals.update(
            site=ctx.config, corpus=ctx.corpus, DESIGNS=DESIGNS, DIRECTIONS=DIRECTIONS,
            LICENCES=LICENCES, build_date=ctx.build_date, live_reload=ctx.live_reload,
            cite_label=cite_label,
        )
        self.env.filters["basename"] = posixpath.basename
        self.env.globals.update(  # evidence pages, cite panel, exports, metadata for machines
            cite_formats=functools.partial(_cite_formats, memo),
            export_formats=exports.FORMATS,
            highwire_tags=metadata.highwire_tags, opengraph_tags=metadata.opengraph_tags,
            paper_jsonld=metadata.paper_jsonld, condition_jsonld=metadata.condition_jsonld,
            author_jsonld=metadata.author_jsonld, coins=self._coins,
            years_chart=charts.years_chart, designs_chart=charts.designs_chart,
            EXPORT_TYPES=exports.MEDIA_TYPES,
            DIRECTION_RANK={d: i for i, d in enumerate(DIRECTIONS)},
        )

    def _coins(self, paper: Paper) -> Markup:
        """A paper's COinS, escaped once: an evidence table shows one per row, the same string
        on every page listing the paper, and it takes longer than the rest of the row."""
        return self.pieces.get("coins", paper.key, _escaped_coins, paper)  # type: ignore[no-any-return]

    def render(self, route: Route) -> bytes:
        assert route.template is not None
        try:
            template = self.env.get_template(route.template)
            html = template.render(page=route, h=PageHelpers(route, self.ctx, self.pieces),
                                   v=view_for(route, self.ctx.corpus, self.ctx.config,
                                              self.ctx.routes))
        except TemplateError as exc:
            where = f"{getattr(exc, 'filename', None) or route.template}"
            line = getattr(exc, "lineno", None)
            if line is None:  # a runtime error: Jinja maps its traceback to template lines
                frames = [f for f in traceback.extract_tb(exc.__traceback__)
                          if not f.filename.endswith(".py") and f.filename != "<template>"]
                if frames:
                    where, line = frames[-1].filename, frames[-1].lineno
            raise RenderError(
                f"{where}:{line or 1}: template error while rendering {route.path}: {exc}",
                where, line or 1,
            ) from exc
        return html.encode("utf-8")
