"""The site configuration: one frozen, typed object read from ``ketsite.yaml``.

Unknown keys are errors (a typo must not silently fall back to a default). Build options that are
not properties of the site (output folder, link style) are passed separately by the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketsite.diagnostics import Diagnostics, SourceLocation
from ketsite.model.schema import Field, read_fields
from ketsite.sources.discover import SourceFile
from ketsite.sources.yamlio import parse_yaml


@dataclass(frozen=True)
class SiteConfig:
    title: str = "ketsite"  #: site name, shown in every page header
    description: str = "An open evidence site."  #: one sentence, for the home page and metadata
    url: str = "https://example.org"  #: public base URL: canonical links, sitemap, feed
    repository: str | None = None  #: repository URL, for "Edit this page" links
    branch: str = "main"  #: branch for edit links
    issues: str | None = None  #: where "Report a problem" links go
    language: str = "en"  #: the language of the site's own text

    @property
    def base_path(self) -> str:
        """The path part of ``url``, always ending in ``/`` (``/`` for a site at the root)."""
        rest = self.url.split("://", 1)[-1]
        path = rest[rest.find("/"):] if "/" in rest else "/"
        return path if path.endswith("/") else path + "/"

    def absolute(self, url_path: str) -> str:
        """The public URL of a site path like ``papers/x/``."""
        return self.url.rstrip("/") + "/" + url_path.lstrip("/")

    def edit_url(self, source_path: str) -> str | None:
        """GitHub's editor for a file (it offers a fork to anyone without write access)."""
        if not self.repository or source_path in ("", "bib"):
            return None
        return f"{self.repository.rstrip('/')}/edit/{self.branch}/{source_path}"


FIELDS = (
    Field("title", "text", required=True),
    Field("description", "text", required=True),
    Field("url", "url", required=True),
    Field("repository", "url"),
    Field("branch", "text"),
    Field("issues", "url"),
    Field("language", "text"),
)


def load_config(source: SourceFile | None, diags: Diagnostics) -> SiteConfig:
    """Read ``ketsite.yaml``; a project without one gets the defaults."""
    if source is None:
        return SiteConfig()
    reported = len(diags.items)
    node = parse_yaml(source.rel, source.text, diags)
    if node is None:
        if len(diags.items) == reported:  # no YAML error: nothing but blank lines and comments
            diags.error(SourceLocation(source.rel), "ketsite.yaml is empty")
        return SiteConfig()
    values = read_fields(node, FIELDS, "ketsite.yaml", diags)
    if not values:
        return SiteConfig()
    return SiteConfig(**{name: v.value.strip() for name, v in values.items()})
