"""From raw sources to entities: field validation, LaTeX decoding, names, YAML schemas.

Each function turns one kind of source into entities and reports what is wrong with it; none looks
at another file. Cross-references between files are checked later, in :mod:`ketsite.model.corpus`.
"""

from __future__ import annotations

import datetime
import difflib
import re
from pathlib import PurePosixPath

from ketsite.diagnostics import Diagnostics, SourceLocation
from ketsite.model.entities import (
    DESIGNS,
    DIRECTIONS,
    ROUTES,
    STATUSES,
    AbstractSection,
    Annotation,
    Author,
    Condition,
    Credit,
    MarkdownText,
    Paper,
    ParsedSources,
    PersonName,
    Reference,
    Review,
)
from ketsite.model.languages import bcp47
from ketsite.model.names import identity, parse_name_text
from ketsite.model.schema import ID_RE, KEY_RE, Field, Located, read_fields
from ketsite.sources.bibtex import MONTHS, RawEntry, raw_names, split_names
from ketsite.sources.discover import SourceFile, SourceSet, windows_problem
from ketsite.sources.latex import latex_to_unicode, unknown_commands
from ketsite.sources.yamlio import parse_yaml

ENTRY_TYPES: dict[str, tuple[str, ...]] = {
    # type: required fields besides key, title, year and author/editor
    "article": ("journal",),
    "incollection": ("booktitle",),
    "inproceedings": ("booktitle",),
    "inbook": ("booktitle",),
    "book": (),
    "misc": (),
    "report": (),
    "techreport": (),
    "thesis": (),
    "phdthesis": (),
    "mastersthesis": (),
}

#: Types reference managers write that ketsite reads as another (Better BibTeX's ``@online``).
TYPE_SUGGESTIONS = {"online": "misc", "electronic": "misc", "www": "misc", "webpage": "misc",
                    "dataset": "misc", "software": "misc", "unpublished": "misc",
                    "manual": "misc", "booklet": "book", "collection": "book",
                    "proceedings": "book", "conference": "inproceedings"}
#: HTML as Crossref's BibTeX carries it (``Muscle &amp; Nerve``, ``<scp>CRPS</scp>``).
_HTML_IN_FIELD = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,6}|#x[0-9a-fA-F]{1,6});|"
                            r"</?(?:scp|i|b|em|strong|sub|sup|span|mml:\w+|jats:[\w-]+)\b[^<>]*>")

#: Fields ketsite reads; any other is kept in the .bib exports and named in a warning ("not used
#: by ketsite"), so nothing a contributor writes is ignored without a word.
KNOWN_FIELDS = frozenset({
    "author", "editor", "title", "year", "date", "journal", "booktitle", "publisher",
    "series", "volume", "number", "issue", "pages", "eid", "doi", "pmid", "pmcid", "url",
    "language", "abstract", "note", "institution", "school", "journaltitle", "month",
})
#: Fields shown as text, decoded from LaTeX: an unknown command in them is reported.
DECODED_FIELDS = ("author", "editor", "title", "journal", "journaltitle", "booktitle",
                  "publisher", "series", "note", "institution", "school", "abstract")

DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
PMCID_RE = re.compile(r"^PMC\d{1,9}$")
DATE_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?$")
URL_RE = re.compile(r"^https?://[^\s<>\"'{}|\\^`]+$")
#: Characters a URL may not hold as they are, which exporters leave in (Crossref: ``<`` and ``>``
#: in SICI DOIs): percent-encoded, as a browser would.
_URL_UNSAFE = {c: f"%{ord(c):02X}" for c in "<>\"{}|^`"}
_BRACED_ESCAPE = re.compile(r"\{(\\[_%&#$])\}")
#: A page range with one hyphen, as PubMed and EndNote write it: ``357-67``, ``S45-S52``.
_HYPHEN_RANGE = re.compile(r"^\s*([A-Za-z]{0,2}\d+[A-Za-z]?)\s*-\s*([A-Za-z]{0,2}\d+[A-Za-z]?)\s*$")
_HYPHENS = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2212", "-"))

#: Names that would collide with the site's own folders or files if used as ids.
RESERVED_IDS = frozenset({"index", "assets", "data", "search", "404", "feed", "sitemap", "robots"})


def _url(value: str) -> str:
    """A URL as written in BibTeX, made a URL: ``\\_``, ``\\&`` and ``{\\&}`` (Mendeley, Zotero) are
    the characters; ``<``, ``>`` and the other characters a URL cannot hold are percent-encoded."""
    value = _TEX_ESCAPE.sub(r"\1", _BRACED_ESCAPE.sub(r"\1", value))
    return "".join(_URL_UNSAFE.get(c, c) for c in value)


_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")


def _month(text: str) -> int | None:
    """``6``, ``jun``, ``June`` (bibtexparser gives the number for a ``jun`` macro) → 6."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 12 else None
    number = MONTHS.get(text[:3])
    if number is None:
        return None
    written = {text[:3], text[:3] + ".", _MONTH_NAMES[int(number) - 1], "sept", "sept."}
    return int(number) if text in written else None


def _real_date(text: str) -> bool:
    """``2022-02-30`` matches the pattern but is no day of any calendar."""
    parts = [int(p) for p in text.split("-")] + [1]
    try:
        datetime.date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


def _plain(value: str) -> str:
    return latex_to_unicode(value)


def _pages(pages: str | None) -> str | None:
    """``357-67`` → ``357–67``: one hyphen between two page numbers is a range, as ``--`` is."""
    if pages and "-" in pages:
        match = _HYPHEN_RANGE.match(pages)
        if match:
            return f"{match.group(1)}–{match.group(2)}"
    return pages


def _person(raw_first: str, raw_von: str, raw_last: str, raw_jr: str,
            corporate: bool) -> PersonName:
    if corporate:
        return PersonName(_plain(raw_last), corporate=True)
    family = _plain(" ".join(p for p in (raw_von, raw_last) if p))
    return PersonName(family, _plain(raw_first), _plain(raw_jr))


#: ``\_`` and friends, as LaTeX users write them in a DOI: the character itself.
_TEX_ESCAPE = re.compile(r"\\([_%&#$])")
_BRACED = re.compile(r"\{[^{}]*\}")


_INITIALS_ONLY = re.compile(r"^[A-Z]{1,3}$")
#: Words of organisations' names, which a person's name does not hold.
_ORGANISATION_WORDS = frozenset({
    "organization", "organisation", "association", "society", "institute", "agency", "group",
    "collaboration", "committee", "council", "consortium", "foundation", "network",
    "department", "university", "centre", "center", "board", "commission", "federation",
    "academy", "college", "ministry", "service", "services", "initiative", "alliance",
    "working", "task", "force", "panel", "office", "investigators", "trialists",
})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
#: Lower-case words that belong to personal names (van der Velzen, de la Cruz, bin Said).
_PARTICLES = frozenset({
    "von", "van", "de", "der", "den", "des", "la", "le", "les", "da", "di", "du", "del", "della",
    "dos", "das", "do", "ten", "ter", "te", "zu", "zum", "zur", "y", "e", "bin", "ibn", "al",
    "el", "st", "af", "av", "op", "het", "'t", "dei", "degli", "lo", "mac",
})


def name_problem(raw: str) -> str | None:
    """What is wrong with one name of an ``author`` or ``editor`` field as split at " and ", or
    None. bibtexparser makes a person of anything; these are the slips that made authors called
    "others" or "Jim Roe, Jane; Poe" instead of an error."""
    bare = raw
    while "{" in bare:  # a braced group is one unit (a corporate name may hold "and", ";", ",")
        stripped = _BRACED.sub("x", bare)
        if stripped == bare:
            break
        bare = stripped
    words = bare.split()
    if bare.strip().lower() == "others":
        return ("'and others' stands for authors not listed, and ketsite gives every author a "
                "page: list them all (PubMed lists every author)")
    if not words or words[0] == "and" or words[-1] == "and":
        return "an empty name: ' and ' is written twice or at an end; remove the extra 'and'"
    if ";" in bare:
        return (f"'{raw}' holds a ';': separate names with ' and ', as in "
                "'Roe, Jane and Poe, Jim'")
    if bare.count(",") > 2:
        return (f"'{raw}' has {bare.count(',')} commas: write each name as 'Family, Given' "
                "(or 'Family, Jr, Given') and separate names with ' and '")
    if bare.lstrip().startswith(","):
        return f"'{raw}' has no family name before its comma"
    if len(words) == 2 and "," not in bare and _INITIALS_ONLY.match(words[1]) and (
            words[0][:1].isupper() and not words[0].isupper()):
        return (f"'{raw}' reads as given name '{words[0]}', family name '{words[1]}': for "
                f"PubMed's 'Family Initials' write '{words[0]}, "
                f"{' '.join(c + '.' for c in words[1])}'")
    parts = [p.strip() for p in bare.split(",")] if bare.count(",") == 2 else ()
    if parts and parts[2].rstrip(".").lower() in _SUFFIXES and (
            parts[1].rstrip(".").lower() not in _SUFFIXES):
        return (f"'{raw}' puts the suffix last, where BibTeX expects the given name: write "
                f"'{parts[0]}, {parts[2]}, {parts[1]}' (Family, Suffix, Given)")
    return None


def name_warning(raw: str) -> str | None:
    """A name that is probably an organisation's cut at its " and " (BibTeX splits names there
    unless the whole is braced), or None."""
    if "{" in raw or "," in raw:
        return None
    words = raw.split()
    odd = [w for w in words[1:-1] if w.islower() and w not in _PARTICLES]
    named = [w for w in words if w.lower().strip(".,") in _ORGANISATION_WORDS]
    if len(words) >= 3 and (odd or named):
        why = f"has '{odd[0]}' inside it" if odd else f"has the word '{named[0]}'"
        return (f"'{raw}' {why}, as an organisation's name does: write a corporate author in "
                "double braces, as in {{World Health Organization}}, or BibTeX reads it as a "
                "person (its last word the family name) and cuts it at any ' and '")
    return None


def _names(value: str) -> tuple[PersonName, ...]:
    return tuple(_person(n.first, n.von, n.last, n.jr, n.corporate) for n in split_names(value))


def parse_paper(entry: RawEntry, diags: Diagnostics,
                shared: dict[tuple[str, ...], tuple[str, ...]] | None = None) -> Paper | None:
    """Validate one BibTeX entry and decode it for display. ``None`` if it cannot make a page.

    ``shared``: the field-name tuples of the papers parsed before (one per file), so papers with
    the same fields share one."""
    loc = entry.loc
    ok = True
    if not KEY_RE.match(entry.key):
        diags.error(
            loc,
            f"citation key '{entry.key}' may only use ASCII letters, digits and _ . : + -, "
            "starting with a letter or digit, at most 100 characters (it becomes part of a URL)",
        )
        ok = False
    # the key names the paper's folder and files (":" and "+" written as "-")
    problem = windows_problem(entry.key.replace(":", "-").replace("+", "-")) if ok else None
    if problem is not None:
        diags.error(loc, f"citation key {problem}; choose another key")
        ok = False
    if entry.entry_type not in ENTRY_TYPES:
        close = ([TYPE_SUGGESTIONS[entry.entry_type]] if entry.entry_type in TYPE_SUGGESTIONS
                 else difflib.get_close_matches(entry.entry_type, list(ENTRY_TYPES), n=1))
        hint = f" (did you mean @{close[0]}?)" if close else ""
        diags.error(
            loc, f"unknown entry type @{entry.entry_type} for '{entry.key}'{hint}; "
            f"use one of {', '.join('@' + t for t in ENTRY_TYPES)}"
        )
        ok = False
    fields: dict[str, str] = {}
    where: dict[str, SourceLocation] = {}
    for f in entry.fields:
        fields[f.name] = f.value
        where[f.name] = f.loc
        if f.name not in KNOWN_FIELDS:
            diags.warning(f.loc, f"field '{f.name}' of '{entry.key}' is not used by ketsite")
    if not fields.get("journal", "").strip() and fields.get("journaltitle", "").strip():
        fields["journal"] = fields["journaltitle"]  # biblatex's name for it
        where.setdefault("journal", where["journaltitle"])
    date_text = fields.get("date", "").strip()
    if re.fullmatch(r"\d{4}", date_text):  # biblatex: a year alone is a date
        fields.setdefault("year", date_text)
        where.setdefault("year", where["date"])
        del fields["date"]
    elif not fields.get("year", "").strip() and re.match(r"\d{4}-", date_text):
        fields["year"] = date_text[:4]  # biblatex writes the date and no year
        where["year"] = where["date"]
    required = ("title", "year") + ENTRY_TYPES.get(entry.entry_type, ())
    rejected = set(entry.invalid)  # written but unreadable: reported already, not "missing" too
    ok = ok and not rejected
    for name in required:
        if not fields.get(name, "").strip() and name not in rejected:
            if name in where:  # written, but empty: at the field
                diags.error(where[name], f"field '{name}' of '{entry.key}' is empty; "
                            "it is required: write its value")
            else:
                diags.error(loc, f"entry '{entry.key}' is missing the required field '{name}'")
            ok = False
    if (not fields.get("author", "").strip() and not fields.get("editor", "").strip()
            and not rejected & {"author", "editor"}):
        diags.error(loc, f"entry '{entry.key}' has no author (or editor)")
        ok = False
    year_text = fields.get("year", "").strip()
    if year_text and not re.fullmatch(r"\d{4}", year_text):
        diags.error(where["year"], f"year of '{entry.key}' must be four digits, not '{year_text}'")
        ok = False

    def checked(name: str, pattern: re.Pattern[str], example: str, fix=lambda v: v) -> str | None:
        nonlocal ok
        if name not in fields:
            return None
        written = fields[name].strip()
        value = fix(written)
        if not pattern.match(value):
            if name == "url" and re.match(r"(?i)https?://", value):
                bad = next((c for c in value if c.isspace() or c in "'\\"), None)
                example = (f"no {'space' if bad and bad.isspace() else repr(bad)} in it: "
                           "percent-encode it (a space is %20)")
            diags.error(where[name],
                        f"{name} of '{entry.key}' is malformed: '{written}'; expected {example}")
            ok = False
            return None
        return value

    doi = checked("doi", DOI_RE, "a bare DOI like 10.1097/j.pain.0000000000001390",
                  lambda v: re.sub(r"(?i)^(https?://(dx\.)?doi\.org/|doi:\s*)", "",
                                   _TEX_ESCAPE.sub(r"\1", v)).translate(_HYPHENS))
    pmid = checked("pmid", PMID_RE, "digits only, no leading zero, like 34746491")
    pmcid = checked("pmcid", PMCID_RE, "PMC followed by digits, like PMC6676152",
                    lambda v: v if v.upper().startswith("PMC") else "PMC" + v)
    url = checked("url", URL_RE, "an http:// or https:// URL", _url)
    date = checked("date", DATE_RE, "YYYY-MM-DD, YYYY-MM or YYYY")
    if date and not _real_date(date):
        diags.error(where["date"], f"date {date} of '{entry.key}' does not exist in the calendar")
        ok = False
        date = None
    if date and year_text and not date.startswith(year_text):
        diags.error(where["date"], f"date {date} of '{entry.key}' disagrees with year {year_text}")
        ok = False
    if "month" in fields:
        month = _month(fields["month"])
        if month is None:
            diags.warning(where["month"], f"month of '{entry.key}' is not a month: "
                          f"'{fields['month'].strip()}'; write 1 to 12 or jan to dec")
        elif not date and year_text and not rejected & {"date"}:
            date = f"{year_text}-{month:02d}"  # as if written date = {YYYY-MM}
    if fields.get("language", "").strip() and bcp47(latex_to_unicode(fields["language"])) is None:
        diags.warning(where["language"], f"language of '{entry.key}' is not one ketsite knows: "
                      f"'{fields['language'].strip()}'; write its ISO 639 code (fr, de, es…) so "
                      "pages can mark the title's language")
    for name in DECODED_FIELDS:
        value = fields.get(name)
        if value and ("&" in value or "<" in value):
            html = _HTML_IN_FIELD.search(value)
            if html:
                diags.warning(where[name], f"{name} of '{entry.key}' holds HTML "
                              f"('{html.group()}'), which is shown as written: write the plain "
                              "text (the character itself, no tags)")
        if value and "\\" in value:
            for command in unknown_commands(value):
                diags.warning(where[name], f"{name} of '{entry.key}' uses the LaTeX command "
                              f"\\{command}, which ketsite does not know: it is left out of the "
                              "page; write the character or words themselves")
    for role in ("author", "editor"):
        value = fields.get(role, "")
        if value.strip():
            for raw in raw_names(value):
                problem = name_problem(raw)
                if problem is not None:
                    diags.error(where[role], f"{role} of '{entry.key}': {problem}")
                    ok = False
                    break
                doubt = name_warning(raw)
                if doubt is not None:
                    diags.warning(where[role], f"{role} of '{entry.key}': {doubt}")
    if not ok:
        return None
    authors = _names(fields["author"]) if fields.get("author", "").strip() else ()
    editors = _names(fields["editor"]) if fields.get("editor", "").strip() else ()
    if not authors and not editors:
        diags.error(loc, f"entry '{entry.key}' has no author (or editor)")
        return None
    credited = authors or editors
    names = tuple(f.name for f in entry.fields)

    def text(name: str) -> str | None:
        value = fields.get(name)
        decoded = _plain(value) if value is not None else ""
        return decoded or None

    return Paper(
        key=entry.key,
        slug=entry.key.lower().replace(":", "-").replace("+", "-"),
        entry_type=entry.entry_type,
        title=text("title") or entry.key,
        year=int(year_text),
        authors=tuple(Credit(n, identity(n)) for n in credited),
        editors=editors if authors else (),
        edited=not authors,
        loc=loc,
        date=date,
        journal=text("journal") or text("journaltitle"),
        booktitle=text("booktitle"),
        # a thesis's university, a report's institution: CSL and RIS call it the publisher
        publisher=text("publisher") or text("school") or text("institution"),
        series=text("series"),
        volume=text("volume"),
        number=text("number") or text("issue"),
        pages=_pages(text("pages")),
        eid=text("eid"),
        doi=doi,
        pmid=pmid,
        pmcid=pmcid,
        url=url,
        language=text("language"),
        abstract=text("abstract"),
        note=text("note"),
        bibtex_names=shared.setdefault(names, names) if shared is not None else names,
        bibtex_values=tuple(f.value for f in entry.fields),
        field_positions=tuple(n for f in entry.fields for n in (f.loc.line, f.loc.col)),
    )


# --- YAML content -------------------------------------------------------------------------------

REVIEW_FIELDS = (
    Field("paper", "key", required=True),
    Field("licence", "licence"),  # only when the source states one: never guessed
    Field("summary", "markdown"),
    Field("abstract", "abstract"),
    Field("aim", "markdown"),
    Field("methods", "markdown"),
    Field("conclusion", "markdown"),
    Field("conditions", "list:id"),
    Field("references", "list:key", required=True),
    Field("citing", "list:key"),
    Field("cited_by_count", "int"),
)

CONDITION_FIELDS = (
    Field("name", "text", required=True),
    Field("synonyms", "list:text"),
    Field("description", "markdown", required=True),
    Field("papers", "list:key"),
)

ANNOTATION_FIELDS = (
    Field("design", "enum", choices=tuple(DESIGNS)),
    Field("population", "text"),
    Field("sample_size", "int"),
    Field("route", "list:enum", choices=ROUTES),
    Field("dose", "text"),
    Field("comparator", "text"),
    Field("outcomes", "list:text"),
    Field("direction", "enum", choices=tuple(DIRECTIONS)),
    Field("finding", "markdown"),
    Field("conditions", "list:id"),
    Field("status", "enum", choices=STATUSES),
    Field("status_note", "markdown"),
    Field("basis", "text"),
)

AUTHOR_FIELDS = (
    Field("name", "name", required=True),
    Field("variants", "list:name"),
    Field("orcid", "orcid"),
    Field("affiliation", "text"),
    Field("url", "url"),
)

LICENCES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International",
                  "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-NC-4.0": ("Creative Commons Attribution-NonCommercial 4.0 International",
                     "https://creativecommons.org/licenses/by-nc/4.0/"),
    "CC-BY-NC-ND-4.0": ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 "
                        "International",
                        "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
    "CC-BY-SA-4.0": ("Creative Commons Attribution-ShareAlike 4.0 International",
                     "https://creativecommons.org/licenses/by-sa/4.0/"),
    "CC0-1.0": ("Creative Commons Zero 1.0 Universal",
                "https://creativecommons.org/publicdomain/zero/1.0/"),
    "all-rights-reserved": ("All rights reserved", ""),
}


def orcid_valid(orcid: str) -> bool:
    """ISO 7064 11,2 checksum, as ORCID specifies."""
    if not re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", orcid):
        return False
    digits = orcid.replace("-", "")
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def _file_id(source: SourceFile, diags: Diagnostics, pattern: re.Pattern[str],
             what: str) -> str | None:
    stem = PurePosixPath(source.rel).stem
    if not pattern.match(stem):
        rule = ("name the file after the paper's citation key exactly (letters, digits and "
                "_ . : + -)" if pattern is KEY_RE else "use lower-case letters, digits and '-'")
        diags.error(SourceLocation(source.rel), f"file name '{stem}' is not a valid {what}; {rule}")
        return None
    if stem.lower() in RESERVED_IDS:
        diags.error(SourceLocation(source.rel),
                    f"'{stem}' is a reserved name; choose another file name")
        return None
    problem = windows_problem(stem, characters=pattern is not KEY_RE)
    if problem is not None:
        diags.error(SourceLocation(source.rel), f"{problem}; choose another file name")
        return None
    return stem


def _load(source: SourceFile, fields: tuple[Field, ...], owner: str,
          diags: Diagnostics) -> dict[str, Located] | None:
    reported = len(diags.items)
    node = parse_yaml(source.rel, source.text, diags)
    if node is None:
        if len(diags.items) == reported:  # no YAML error: nothing but blank lines and comments
            diags.error(SourceLocation(source.rel), f"{owner} file is empty")
        return None
    return read_fields(node, fields, owner, diags)


def _refs(out: ParsedSources, kind: str, values: Located | None) -> tuple[str, ...]:
    if values is None:
        return ()
    for item in values.value:
        out.references.append(Reference(kind, item.value, item.loc))
    return tuple(item.value for item in values.value)


def _md(out: ParsedSources, owner: str, name: str, value: Located | None) -> str | None:
    if value is None:
        return None
    locate = value.node.locate_in if value.node is not None else None
    out.markdown.append(MarkdownText(owner, name, value.value, value.loc, locate))
    return str(value.value)


def parse_review(source: SourceFile, out: ParsedSources, diags: Diagnostics) -> None:
    # A bad file name or licence is reported, and the rest of the file is still checked (its
    # citations, links, condition ids): a contributor sees every problem in one run.
    rid = _file_id(source, diags, ID_RE, "review id")
    values = _load(source, REVIEW_FIELDS, "review", diags)
    if values is None:
        return
    owner = rid or PurePosixPath(source.rel).stem
    licence = values.get("licence")
    if licence is not None and licence.value not in LICENCES:
        close = difflib.get_close_matches(licence.value, list(LICENCES), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        diags.error(licence.loc, f"unknown licence '{licence.value}'{hint}; use an SPDX id: "
                    + ", ".join(LICENCES))
        licence = None
    paper = values.get("paper")
    if paper is not None:
        out.references.append(Reference("paper", paper.value, paper.loc))
    abstract = tuple(
        AbstractSection(h.value, _md(out, owner, f"abstract.{h.value}", t) or "")
        for h, t in (values["abstract"].value if "abstract" in values else ())
    )
    references = _refs(out, "paper", values.get("references"))
    citing = _refs(out, "paper", values.get("citing"))
    conditions = _refs(out, "condition", values.get("conditions"))
    texts = {name: _md(out, owner, name, values.get(name))
             for name in ("summary", "aim", "methods", "conclusion")}
    count = values.get("cited_by_count")
    if count is not None and count.value < len(citing):
        diags.error(count.loc, f"'cited_by_count' is {count.value}, fewer than the "
                    f"{len(citing)} articles under 'citing'; give the count the source "
                    "reports, or remove it")
        count = None
    if rid is None or paper is None:
        return
    out.reviews.append(Review(
        id=rid,
        paper=paper.value,
        licence=licence.value if licence is not None else None,
        loc=SourceLocation(source.rel),
        references=references,
        citing=citing,
        conditions=conditions,
        summary=texts["summary"],
        abstract=abstract,
        aim=texts["aim"],
        methods=texts["methods"],
        conclusion=texts["conclusion"],
        cited_by_count=count.value if count is not None else None,
    ))


def parse_condition(source: SourceFile, out: ParsedSources, diags: Diagnostics) -> None:
    cid = _file_id(source, diags, ID_RE, "condition id")
    values = _load(source, CONDITION_FIELDS, "condition", diags)
    if values is None:
        return
    # checked whatever else is wrong with the file (see parse_review)
    description = _md(out, cid or PurePosixPath(source.rel).stem, "description",
                      values.get("description"))
    papers = _refs(out, "paper", values.get("papers"))
    if cid is None or "name" not in values or description is None:
        return
    out.conditions.append(Condition(
        id=cid,
        name=values["name"].value.strip(),
        description=description,
        loc=SourceLocation(source.rel),
        synonyms=(tuple(s.value.strip() for s in values["synonyms"].value)
                  if "synonyms" in values else ()),
        papers=papers,
    ))


def parse_annotation(source: SourceFile, out: ParsedSources, diags: Diagnostics) -> None:
    key = _file_id(source, diags, KEY_RE, "citation key")
    values = _load(source, ANNOTATION_FIELDS, "paper annotation", diags)
    if values is None:
        return
    if key is None:  # reported; its citations and links are still checked (see parse_review)
        stem = PurePosixPath(source.rel).stem
        _md(out, stem, "finding", values.get("finding"))
        _md(out, stem, "status_note", values.get("status_note"))
        _refs(out, "condition", values.get("conditions"))
        return
    out.references.append(Reference("paper", key, SourceLocation(source.rel)))
    if "status_note" in values and "status" not in values:
        diags.error(values["status_note"].loc,
                    "'status_note' explains a status, and this annotation has none; add "
                    f"'status:' (one of {', '.join(STATUSES)}) or remove the note")

    def get(name: str) -> str | None:
        return values[name].value.strip() if name in values else None

    def many(name: str) -> tuple[str, ...]:
        return tuple(v.value.strip() for v in values[name].value) if name in values else ()

    out.annotations.append(Annotation(
        key=key,
        loc=SourceLocation(source.rel),
        design=get("design"),
        population=get("population"),
        sample_size=values["sample_size"].value if "sample_size" in values else None,
        route=many("route"),
        dose=get("dose"),
        comparator=get("comparator"),
        outcomes=many("outcomes"),
        direction=get("direction"),
        finding=_md(out, key, "finding", values.get("finding")),
        conditions=_refs(out, "condition", values.get("conditions")),
        status=get("status"),
        status_note=_md(out, key, "status_note", values.get("status_note")),
        basis=get("basis"),
    ))


def parse_author(source: SourceFile, out: ParsedSources, diags: Diagnostics) -> None:
    aid = _file_id(source, diags, ID_RE, "author id")
    values = _load(source, AUTHOR_FIELDS, "author", diags)
    if aid is None or values is None or "name" not in values:
        return
    orcid = values.get("orcid")
    if orcid is not None:
        bare = re.sub(r"^https?://orcid\.org/", "", orcid.value)
        if not orcid_valid(bare):
            diags.error(orcid.loc, f"ORCID '{orcid.value}' is not valid "
                        "(format 0000-0002-1825-0097, "
                        "with a correct check digit)")
            # the rest is still checked (its variants against the papers): the build fails
        orcid = Located(bare, orcid.loc)
    name = values["name"]
    variants = [(name.value, name.loc)]
    if "variants" in values:
        variants += [(v.value, v.loc) for v in values["variants"].value]
    author = Author(
        id=aid,
        name=parse_name_text(name.value),
        loc=SourceLocation(source.rel),
        orcid=orcid.value if orcid else None,
        affiliation=values["affiliation"].value.strip() if "affiliation" in values else None,
        url=values["url"].value if "url" in values else None,
    )
    out.author_overrides.append((author, tuple(variants)))


def parse_sources(sources: SourceSet, entries: list[RawEntry], diags: Diagnostics) -> ParsedSources:
    out = ParsedSources()
    for entry in entries:
        paper = parse_paper(entry, diags)
        if paper is not None:
            out.papers.append(paper)
    for source in sources.reviews:
        parse_review(source, out, diags)
    for source in sources.conditions:
        parse_condition(source, out, diags)
    for source in sources.papers:
        parse_annotation(source, out, diags)
    for source in sources.authors:
        parse_author(source, out, diags)
    return out
