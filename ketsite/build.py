"""Orchestration: load → model → site → render → write. ``check`` is ``build`` without writing.

Everything is read and validated before anything is rendered (MkDocs' build); any error stops the
build before the output folder is touched.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ketsite.config import SiteConfig, load_config
from ketsite.diagnostics import Diagnostics, SourceLocation, relative_path
from ketsite.engine import Builder, BuildResult
from ketsite.generators import GENERATORS, entity_file_routes, extra_routes, generate
from ketsite.markdown import check_markdown
from ketsite.model.corpus import Corpus, build_corpus
from ketsite.model.parse import parse_sources
from ketsite.render import Renderer, RenderError, SiteContext
from ketsite.site.paging import index_routes
from ketsite.site.routes import (
    EntityRoutes,
    LinkStyle,
    Route,
    RouteTable,
    build_routes,
    entity_routes,
    entity_signature,
)
from ketsite.sources.bibtex import RawEntry, parse_bibtex
from ketsite.sources.discover import SourceSet, discover
from ketsite.vendor import vendor_assets

log = logging.getLogger(__name__)

PACKAGE_TEMPLATES = Path(__file__).parent / "default_templates"


@dataclass(frozen=True)
class Project:
    """A loaded, validated project: what ``check`` reports on and ``build`` renders."""

    root: Path
    sources: SourceSet
    config: SiteConfig
    corpus: Corpus


def load_project(root: Path, diags: Diagnostics) -> Project:
    return load_sources(root, discover(root, diags), diags)


def load_sources(root: Path, sources: SourceSet, diags: Diagnostics) -> Project:
    """Everything after reading the files; ``ketsite new`` passes sources with a file added."""
    config = load_config(sources.config, diags)
    entries: list[RawEntry] = []
    for source in sources.bib:
        entries.extend(parse_bibtex(source, diags))
    parsed = parse_sources(sources, entries, diags)
    check_markdown(parsed.markdown, diags)
    corpus = build_corpus(parsed, diags)
    return Project(root, sources, config, corpus)


def template_dirs(root: Path) -> list[Path]:
    """The project's ``templates/`` first, then the defaults shipped with ketsite."""
    dirs = [d for d in (root / "templates",) if d.is_dir()]
    return dirs + [PACKAGE_TEMPLATES]


def source_date(root: Path) -> str:
    """The date the sources represent: SOURCE_DATE_EPOCH, else the last git commit, else none."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(root), "log", "-1", "--format=%ct"],
                capture_output=True, text=True, timeout=10, check=False,
            )
            epoch = proc.stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            epoch = None
    if not epoch or not epoch.isdigit():
        return ""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%d")


def asset_files(dirs: list[Path]) -> dict[str, bytes]:
    """Static assets by logical name (``style.css``): the first template folder that has one
    wins."""
    assets: dict[str, bytes] = {}
    for d in reversed(dirs):
        folder = d / "assets"
        if folder.is_dir():
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    assets[p.relative_to(folder).as_posix()] = p.read_bytes()
    return assets


def fingerprint(name: str, data: bytes) -> str:
    stem, dot, ext = name.rpartition(".")
    digest = hashlib.sha256(data).hexdigest()[:10]
    return f"assets/{stem}.{digest}.{ext}" if dot else f"assets/{name}.{digest}"


def plan(project: Project, style: LinkStyle, diags: Diagnostics, live_reload: bool = False,
         previous: RouteTable | None = None, kept: EntityRoutes | None = None,
         ) -> tuple[SiteContext, dict[str, bytes], list[Path]]:
    """Routes and the site context, plus the non-template files (assets) already in bytes.

    A long-running process passes the route table of its last successful build (``previous``,
    see :func:`build_routes`) and the entities' routes it made (``kept``, reused while their
    signature is the same)."""
    dirs = template_dirs(project.root)
    assets = asset_files(dirs)
    assets.update(vendor_assets(project.root, diags))  # MiniSearch, from node_modules
    files: dict[str, bytes] = {}
    asset_paths: dict[str, str] = {}
    extra: list[Route] = []
    for name, data in sorted(assets.items()):
        path = fingerprint(name, data)
        asset_paths[name] = path
        files[path] = data
        extra.append(Route("asset", name, path, ""))
    corpus, config = project.corpus, project.config
    letters = kept.authors_by_letter(corpus) if kept is not None else None
    extra.extend(index_routes(corpus, config, letters))  # papers/page/2/, authors/letter/a/
    extra.extend(extra_routes(corpus, config))
    signature = (config, entity_signature(corpus, kept)) if kept is not None else None
    if kept is not None and kept.signature == signature and kept.pages is not None \
            and kept.files is not None:
        pages, entity_files = kept.pages, kept.files
    else:
        pages, entity_files = entity_routes(corpus), entity_file_routes(corpus, config)
        if kept is not None:
            kept.signature, kept.pages, kept.files = signature, pages, entity_files
    routes: RouteTable = build_routes(corpus, (pages, extra, entity_files), diags, previous)
    ctx = SiteContext(
        config=project.config, corpus=project.corpus, routes=routes, style=style,
        assets=asset_paths, build_date=source_date(project.root), live_reload=live_reload,
    )
    return ctx, files, dirs


def render_site(project: Project, style: LinkStyle, diags: Diagnostics,
                live_reload: bool = False) -> dict[str, bytes]:
    """Every output file of the site in memory (path → bytes)."""
    ctx, files, dirs = plan(project, style, diags, live_reload)
    if diags.has_errors:
        return {}
    renderer = Renderer(dirs, ctx)
    for route in ctx.routes.pages():
        files[route.path] = renderer.render(route)
    for route in ctx.routes.routes.values():
        if route.template is None and route.kind in GENERATORS:
            files[route.path] = generate(route, ctx)
    return files


def render_checked(project: Project, style: LinkStyle, diags: Diagnostics) -> dict[str, bytes]:
    """:func:`render_site`, with a failing template reported as a located error (a project's own
    template is a source like any other), so ``check`` catches everything ``build`` would."""
    try:
        return render_site(project, style, diags)
    except RenderError as exc:
        path = relative_path(Path(exc.template), project.root) if exc.template else "templates"
        diags.error(SourceLocation(path, exc.line), str(exc).split(": ", 1)[-1])
        return {}


def global_key(ctx: SiteContext, files: dict[str, bytes], dirs: list[Path]) -> str:
    """A hash of everything any page may read besides the corpus and the routes: configuration,
    link style, date, live reload, assets, every template file, and ketsite's own code."""
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((ctx.config, ctx.style.value, ctx.build_date, ctx.live_reload,
                   sorted(ctx.assets.items()), sorted(ctx.extra.items()))).encode())
    for path in sorted(files):
        h.update(path.encode() + b"\0" + hashlib.blake2b(files[path], digest_size=16).digest())
    for i, d in enumerate(dirs):
        for p in sorted(d.rglob("*")):
            if p.is_file():
                h.update(f"{i}:{p.relative_to(d).as_posix()}\0".encode() + p.read_bytes())
    package = Path(__file__).parent
    for p in sorted(package.rglob("*.py")):
        h.update(p.relative_to(package).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def build(root: Path, out: Path, style: LinkStyle = LinkStyle.PRETTY, *,
          jobs: int | None = None, incremental: bool = False, cache: bool = True,
          background_save: bool = False) -> BuildResult:
    """Load, check, render and write the site. On any error nothing is written.

    ``jobs`` worker processes render (default: the CPUs available); ``incremental`` re-renders only
    what changed since the last ``incremental`` build of ``out`` (state in ``.ketsite-cache/``).
    Parsed sources are cached there by content hash unless ``cache`` is false. With
    ``background_save`` (the command line) the state is saved by a forked process after this
    returns; the next incremental build waits for it.
    """
    builder = Builder(root, out, style, jobs=jobs, cache=cache, persist_state=incremental,
                      track=incremental, background_save=background_save)
    return builder.build(incremental=incremental)
