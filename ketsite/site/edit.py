"""Where a page's "Edit this page" and "Report a problem" links go.

A stranger fixes a page by editing the file it was built from, so each page links to exactly that
file in the repository: a review, condition, annotation or author file, or the .bib file of a paper
nobody has annotated yet. An author without an identity file gets a link that creates one,
pre-filled with their name. An index page links to the folder of the sources it lists, and a page
with no source of its own (home, search, 404) to ``ketsite.yaml``, which holds the text they show.
The links depend on the sources only, never on where templates come from. A problem report names
the page it came from.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from ketsite.config import SiteConfig
from ketsite.model.corpus import Corpus
from ketsite.site.routes import Route

#: Index pages: the folder whose files they list.
INDEX_FOLDERS = {"papers": "bib", "conditions": "content/conditions", "reviews": "content/reviews"}


def edit_link(route: Route, config: SiteConfig, corpus: Corpus) -> str | None:
    if not config.repository:
        return None
    repo, branch = config.repository.rstrip("/"), quote(config.branch)
    if route.kind == "author" and route.source == "bib" and route.ident in corpus.authors:
        name = corpus.authors[route.ident].name.inverted
        # a JSON string is a YAML double-quoted one: quotes and backslashes in a name escaped
        value = f"name: {json.dumps(name, ensure_ascii=False)}\n"
        query = urlencode({"filename": f"{route.ident}.yaml", "value": value}, quote_via=quote)
        return f"{repo}/new/{branch}/content/authors?{query}"
    if route.source:
        return config.edit_url(route.source)
    if route.kind == "404":  # no page of its own: the missing one has no source to edit
        return None
    if route.kind == "authors":  # the folder may not exist yet: offer to add an identity file
        return f"{repo}/new/{branch}/content/authors"
    if route.kind in INDEX_FOLDERS:
        return f"{repo}/tree/{branch}/{INDEX_FOLDERS[route.kind]}"
    return config.edit_url("ketsite.yaml")


def report_link(route: Route, config: SiteConfig, title: str) -> str | None:
    """The issue tracker; a GitHub one gets a new issue pre-filled with the page's address."""
    if not config.issues:
        return None
    issues = config.issues.rstrip("/")
    if not (issues.startswith("https://github.com/") and issues.endswith("/issues")):
        return config.issues
    title = title.strip().removesuffix(f" — {config.title}")
    if route.kind == "404":  # shown at any missing address: the reader knows which one
        fields = {"title": "Missing page", "body": "Address I tried:\n\nWhere its link was:\n"}
    else:
        page = config.absolute(route.url_path)
        fields = {"title": f"Problem on: {title}", "body": f"Page: {page}\n\nWhat is wrong:\n"}
    query = urlencode(fields, quote_via=quote)
    return f"{issues}/new?{query}"
