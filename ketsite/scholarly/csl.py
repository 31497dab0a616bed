"""A paper as a CSL-JSON item: the one neutral record that citations and exports are made from.

CSL-JSON is what citeproc processors, Zotero and Mendeley read. Corporate authors stay whole as
``{"literal": ...}`` so "International Association for the Study of Pain" is never split into a
family and a given name. Page ranges use a plain hyphen, as CSL-JSON expects; the style decides how
to print them.
"""

from __future__ import annotations

from ketsite.model.entities import Paper, PersonName

#: BibTeX entry type → CSL item type.
CSL_TYPES = {
    "article": "article-journal",
    "incollection": "chapter",
    "inbook": "chapter",
    "inproceedings": "paper-conference",
    "book": "book",
    "report": "report",
    "techreport": "report",
    "thesis": "thesis",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "misc": "document",
}
#: What a thesis is, which its BibTeX type says: APA prints it ("[Doctoral dissertation, …]").
GENRES = {"phdthesis": "Doctoral dissertation", "mastersthesis": "Master's thesis"}
#: Types whose ``number`` is the item's own number (a report's "RR-1234"), not a journal issue.
NUMBERED_TYPES = frozenset({"report", "techreport"})


def _initials(given: str) -> str:
    """``AD`` → ``A. D.``, ``Martin CR`` → ``Martin C. R.``: PubMed's initials run together are
    one word to a citation processor, which would keep only the first (``A.``)."""
    words = given.split()
    if not any(2 <= len(w) <= 3 and w.isalpha() and w.isupper() for w in words):
        return given
    return " ".join(" ".join(c + "." for c in w) if 2 <= len(w) <= 3 and w.isalpha()
                    and w.isupper() else w for w in words)


def csl_name(name: PersonName) -> dict[str, str]:
    if name.corporate:
        return {"literal": name.family}
    out = {"family": name.family}
    if name.given:
        out["given"] = _initials(name.given)
    if name.suffix:
        out["suffix"] = name.suffix
    return out


def date_parts(paper: Paper) -> list[int]:
    """``[2021, 11, 8]`` from ``date`` when known, else ``[year]``."""
    if paper.date:
        return [int(p) for p in paper.date.split("-")]
    return [paper.year]


def csl_page(paper: Paper) -> str | None:
    """``287-293`` for ``287--93``: CSL processors abbreviate ranges by style but do not all
    expand them, so the item carries the full range."""
    if not paper.pages:
        return None
    last = paper.last_page
    if last is not None and last == paper.first_page:  # "5--5": one page
        return last
    return f"{paper.first_page}-{last}" if last else paper.pages


def csl_item(paper: Paper) -> dict[str, object]:
    """The CSL-JSON item of a paper; keys in a fixed order so exports are byte-stable."""
    item: dict[str, object] = {"id": paper.key, "type": CSL_TYPES.get(paper.entry_type, "document")}
    item["title"] = paper.title
    names = [csl_name(c.name) for c in paper.authors]
    if names:
        item["editor" if paper.edited else "author"] = names
    if paper.editors:
        item["editor"] = [csl_name(n) for n in paper.editors]
    item["issued"] = {"date-parts": [date_parts(paper)]}
    own_number = paper.entry_type in NUMBERED_TYPES
    optional: tuple[tuple[str, str | None], ...] = (
        ("genre", GENRES.get(paper.entry_type)),
        ("container-title", paper.container),
        ("collection-title", paper.series),
        ("publisher", paper.publisher),
        ("volume", paper.volume),
        ("issue", None if own_number else paper.number),
        ("page", csl_page(paper)),
        ("number", paper.number if own_number else paper.eid),
        ("DOI", paper.doi),
        ("PMID", paper.pmid),
        ("PMCID", paper.pmcid),
        ("URL", paper.url),
        ("language", paper.language),
        ("abstract", paper.abstract),
        ("note", paper.note),
    )
    for name, value in optional:
        if value:
            item[name] = value
    return item
