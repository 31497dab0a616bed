"""Where a page's "Edit this page" and "Report a problem" links go.

A stranger fixes a page by editing the file it was built from, so each page links to exactly that
file in the repository: a review, condition, annotation or author file; the .bib file of a paper
nobody has annotated yet; the template of an index page. An author without an identity file gets a
link that creates one, pre-filled with their name. A problem report names the page it came from.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.site.routes import Route


def source_of(route: Route, project_templates: frozenset[str]) -> str:
    """The repository path a page is built from ("" if the project has none to offer)."""
    if route.source and route.source != "bib":
        return route.source
    if not route.source and route.template in project_templates:
        return f"templates/{route.template}"
    return ""


def edit_link(route: Route, config: SiteConfig, corpus: Corpus,
              project_templates: frozenset[str]) -> str | None:
    if not config.repository:
        return None
    repo = config.repository.rstrip("/")
    if route.kind == "author" and route.source == "bib" and route.ident in corpus.authors:
        name = corpus.authors[route.ident].name.inverted
        query = urlencode({"filename": f"{route.ident}.yaml", "value": f'name: "{name}"\n'},
                          quote_via=quote)
        return f"{repo}/new/{quote(config.branch)}/content/authors?{query}"
    source = source_of(route, project_templates)
    return config.edit_url(source) if source else None


def report_link(route: Route, config: SiteConfig, title: str) -> str | None:
    """The issue tracker; a GitHub one gets a new issue pre-filled with the page's address."""
    if not config.issues:
        return None
    issues = config.issues.rstrip("/")
    if not (issues.startswith("https://github.com/") and issues.endswith("/issues")):
        return config.issues
    page = config.absolute(route.url_path)
    title = title.strip().removesuffix(f" — {config.title}")
    query = urlencode(
        {"title": f"Problem on: {title}", "body": f"Page: {page}\n\nWhat is wrong:\n"},
        quote_via=quote,
    )
    return f"{issues}/new?{query}"
