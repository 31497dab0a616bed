"""The site configuration: one frozen, typed object read from ``ketsite.yaml``.

Unknown keys are errors (a typo must not silently fall back to a default). Build options that are
not properties of the site (output folder, link style) are passed separately by the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from urllib.parse import quote

from ketsite.diagnostics import Diagnostics, SourceLocation
from ketsite.model.schema import Field, read_fields
from ketsite.sources.discover import SourceFile
from ketsite.sources.yamlio import YMap, YScalar, parse_yaml

#: The sitemap protocol's limit of URLs in one sitemap file.
SITEMAP_MAX_URLS = 50_000


@dataclass(frozen=True)
class Pagination:
    """How much one page or file of the whole library may hold before it is split (papers,
    authors, sitemap) or shortened (matrix, search fallback, feed), so that no page grows with
    the library: a 10,000-paper index is unusable and re-rendering it makes every edit slow."""

    papers: int = 500  #: papers per page of the papers index; over it, numbered pages by year
    authors: int = 2000  #: authors on the A–Z index; over it, one page per initial letter
    matrix_cells: int = 5000  #: reviews × cited papers the reviews index's matrix may show
    search: int = 1000  #: papers + authors the search page lists for readers without JavaScript
    feed: int = 50  #: newest papers in the Atom feed
    sitemap: int = SITEMAP_MAX_URLS  #: URLs per sitemap file; over it, sitemap.xml is an index


def absolute_url(site_url: str, url_path: str) -> str:
    """The public URL of a site path like ``papers/x/`` on the site at ``site_url``."""
    return site_url.rstrip("/") + "/" + url_path.lstrip("/")


@dataclass(frozen=True)
class SiteConfig:
    title: str = "ketsite"  #: site name, shown in every page header
    description: str = "An open evidence site."  #: one sentence, for the home page and metadata
    url: str = "https://example.org"  #: public base URL: canonical links, sitemap, feed
    repository: str | None = None  #: repository URL, for "Edit this page" links
    branch: str = "main"  #: branch for edit links
    issues: str | None = None  #: where "Report a problem" links go
    language: str = "en"  #: the language of the site's own text
    pagination: Pagination = field(default_factory=Pagination)  #: page and file size limits

    @property
    def base_path(self) -> str:
        """The path part of ``url``, always ending in ``/`` (``/`` for a site at the root)."""
        rest = self.url.split("://", 1)[-1]
        path = rest[rest.find("/"):] if "/" in rest else "/"
        return path if path.endswith("/") else path + "/"

    def absolute(self, url_path: str) -> str:
        """The public URL of a site path like ``papers/x/``."""
        return absolute_url(self.url, url_path)

    def edit_url(self, source_path: str) -> str | None:
        """GitHub's editor for a file (it offers a fork to anyone without write access)."""
        if not self.repository or source_path in ("", "bib"):
            return None
        # percent-encoded: a file named "x?y#z.bib" must stay a path, not become a query
        return (f"{self.repository.rstrip('/')}/edit/{quote(self.branch)}/"
                f"{quote(source_path)}")


FIELDS = (
    Field("title", "text", required=True),
    Field("description", "text", required=True),
    Field("url", "url", required=True),
    Field("repository", "url"),
    Field("branch", "text"),
    Field("issues", "url"),
    Field("language", "text"),
    Field("pagination", "int"),  # a mapping, read by _pagination; listed for "did you mean"
)
PAGINATION_FIELDS = tuple(Field(f.name, "int") for f in fields(Pagination))


def _pagination(node: YMap, diags: Diagnostics) -> Pagination:
    values = read_fields(node, PAGINATION_FIELDS, "'pagination'", diags) or {}
    limits: dict[str, int] = {}
    for name, v in values.items():
        if v.value < 1:
            diags.error(v.loc, f"'pagination.{name}' must be at least 1")
        elif name == "sitemap" and v.value > SITEMAP_MAX_URLS:
            diags.error(v.loc, f"'pagination.sitemap' is {v.value}; the sitemap protocol "
                        f"allows at most {SITEMAP_MAX_URLS} URLs per file")
        else:
            limits[name] = v.value
    return Pagination(**limits)


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
    pagination = Pagination()
    if isinstance(node, YMap):  # a nested mapping, which the flat schema does not describe
        nested = node.get("pagination")
        if isinstance(nested, YMap):
            pagination = _pagination(nested, diags)
        elif nested is not None and not (isinstance(nested, YScalar) and nested.kind == "null"):
            diags.error(nested.loc, "'pagination' must be a mapping, like "
                        "'pagination: {papers: 500, feed: 50}'")
        if nested is not None:
            node = YMap(tuple(e for e in node.entries if e[0].text != "pagination"), node.loc)
    values = read_fields(node, FIELDS, "ketsite.yaml", diags)
    if not values:
        return SiteConfig(pagination=pagination)
    return SiteConfig(**{name: v.value.strip() for name, v in values.items()},
                      pagination=pagination)
