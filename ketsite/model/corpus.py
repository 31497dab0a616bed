"""The corpus: every entity keyed by id, cross-references resolved, reverse indexes computed once.

Like Zola's library, pages refer to each other by id and every backlink (papers of an author,
reviews citing a paper, papers of a condition) is filled in one pass here, so templates never
search.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from operator import attrgetter

from ketsite.diagnostics import Diagnostic, Diagnostics, SourceLocation
from ketsite.model.citations import find_citations, find_unreadable_citations
from ketsite.model.entities import (
    Annotation,
    Author,
    Condition,
    Credit,
    MarkdownText,
    Paper,
    ParsedSources,
    PersonName,
    Review,
)
from ketsite.model.names import identity, parse_name_text, preferred, sort_key

#: An author's co-authors (ids) and the number of papers shared with each, most first: two
#: tuples rather than a pair per co-author (a library has ten of those per author, and a saved
#: state loads each one).
Coauthors = tuple[tuple[str, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Corpus:
    """Everything a site is built from. Mappings are in a stable, meaningful order."""

    papers: dict[str, Paper]  # newest first, then title
    authors: dict[str, Author]  # A–Z
    conditions: dict[str, Condition]  # by name
    reviews: dict[str, Review]  # newest first
    annotations: dict[str, Annotation]
    papers_by_author: dict[str, tuple[str, ...]]
    coauthors: dict[str, Coauthors]
    papers_by_condition: dict[str, tuple[str, ...]]
    conditions_by_paper: dict[str, tuple[str, ...]]
    reviews_citing: dict[str, tuple[str, ...]]
    review_of_paper: dict[str, str]
    cites: dict[str, tuple[str, ...]]
    cited_by: dict[str, tuple[str, ...]]

    def shared_references(self) -> tuple[str, ...]:
        """Papers cited by more than one review, in library order."""
        return tuple(k for k in self.papers if len(self.reviews_citing.get(k, ())) > 1)


def library_order(paper: Paper) -> tuple[int, str, str]:
    """Where a paper goes in the library: newest first, then by title, then by key. A page that
    lists some papers in library order sorts them by this, reading only those papers (iterating
    the whole library would make it depend on every paper)."""
    return (-paper.year, paper.title.lower(), paper.key)


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _all_distinct(values: list[str]) -> bool:
    return len(set(values)) == len(values)


_KEY = attrgetter("key")


def _unique_papers(parsed: ParsedSources, diags: Diagnostics) -> dict[str, Paper]:
    """The papers by key, each key and identifier (DOI, PMID, PMCID) reported where it is used a
    second time. Checked in C first (at every rebuild), and one by one only if something repeats."""
    keys = list(map(_KEY, parsed.papers))
    if _all_distinct(list(map(str.lower, keys))) and all(
        _all_distinct([v.lower() for v in map(attrgetter(attr), parsed.papers) if v is not None])
        for attr in ("doi", "pmid", "pmcid")
    ):
        return dict(zip(keys, parsed.papers, strict=True))
    papers: dict[str, Paper] = {}
    by_folded: dict[str, Paper] = {}
    for paper in parsed.papers:
        first = by_folded.get(paper.key.lower())
        if first is not None:
            same = ("the same key" if first.key == paper.key
                    else f"'{first.key}' (keys differ only by case)")
            diags.error(paper.loc, f"citation key '{paper.key}' duplicates {same} at {first.loc}")
            # and at the first one too: which of the two is new, the files' order does not say
            again = ("is used again" if first.key == paper.key
                     else f"is used again as '{paper.key}' (keys differ only by case)")
            diags.error(first.loc, f"citation key '{first.key}' {again} at {paper.loc}")
            continue
        by_folded[paper.key.lower()] = paper
        papers[paper.key] = paper
    for label, attr in (("DOI", "doi"), ("PMID", "pmid"), ("PMCID", "pmcid")):
        seen: dict[str, Paper] = {}
        for paper in papers.values():
            value = getattr(paper, attr)
            if value is None:
                continue
            other = seen.get(value.lower())
            if other is not None:
                diags.error(
                    paper.field_loc(attr),
                    f"{label} {value} of '{paper.key}' is already used by '{other.key}' at "
                    f"{other.field_loc(attr)}; one paper, one entry",
                )
                diags.error(other.field_loc(attr), f"{label} of '{other.key}' is used again by "
                            f"'{paper.key}' at {paper.field_loc(attr)}; one paper, one entry")
            else:
                seen[value.lower()] = paper
    return papers


@dataclass
class CorpusCache:
    """The slowest parts of :func:`build_corpus`, kept by a long-running process between builds.

    Resolving authors (identities, author files, preferred spellings, A–Z order) and counting
    co-authors take most of the model's time at ten thousand papers, yet depend only on the
    credits of the papers and the author files — which most edits (a title, a DOI, a year, an
    annotation) leave as they were. They are reused when those inputs are equal (mostly the very
    same objects, from unchanged source files), and recomputed otherwise.
    """

    credits: tuple[object, ...] | None = None
    resolved: _Resolution | None = None
    #: key → (paper as parsed, paper with resolved author ids, its distinct author ids), for
    #: ``resolved``: an unchanged paper (the same object) is not resolved again
    papers: dict[str, tuple[Paper, Paper, tuple[str, ...]]] = field(default_factory=dict)
    #: The last build's resolved papers by key, its library order (the :func:`library_order`
    #: of each paper, in order) and papers by author: after an edit of a few papers, only those
    #: are placed again (:func:`_in_library_order`, :func:`_by_author`).
    last_papers: dict[str, Paper] | None = None
    order: list[tuple[int, str, str]] | None = None
    by_author: dict[str, tuple[str, ...]] | None = None
    by_author_of: object = None  # the authors (the dict) ``by_author`` was made for


@dataclass(frozen=True)
class _Resolution:
    remap: dict[str, str]  # natural author id → author id (author files' variants)
    authors: dict[str, Author]  # A–Z
    coauthors: dict[str, Coauthors]
    diagnostics: tuple[Diagnostic, ...]


def _resolve_authors(
    papers: dict[str, Paper], parsed: ParsedSources, diags: Diagnostics
) -> tuple[dict[str, str], dict[str, Author]]:
    """Map every credit's natural id to an author id, applying author files' variants, and build
    the authors, A–Z. Reads only the papers' credits and the author files."""
    natural: set[str] = {c.author_id for p in papers.values() for c in p.authors}
    remap: dict[str, tuple[str, SourceLocation]] = {}
    overrides: dict[str, Author] = {}
    for author, variants in parsed.author_overrides:
        overrides[author.id] = author
        for text, loc in variants:
            ident = identity(parse_name_text(text))
            if ident not in natural:
                if text == variants[0][0]:
                    continue  # the display name need not appear in bib/
                diags.error(loc, f"variant '{text}' matches no author in bib/")
                continue
            claimed = remap.get(ident)
            if claimed is not None and claimed[0] != author.id:
                diags.error(loc, f"'{text}' is already claimed by the author file of "
                            f"'{claimed[0]}' "
                            f"({claimed[1]})")
                continue
            remap[ident] = (author.id, loc)
    by_orcid: dict[str, str] = {}
    for author in overrides.values():  # one ORCID is one person: two files would split them
        if author.orcid:
            first = by_orcid.setdefault(author.orcid, author.id)
            if first != author.id:
                diags.error(author.loc, f"ORCID {author.orcid} is also the ORCID of the author "
                            f"file of '{first}': one person, one file; merge the two (list the "
                            "other spellings under variants)")
    targets = {target for target, _ in remap.values()}
    for author in overrides.values():
        if author.id not in targets:
            diags.error(author.loc, f"author file '{author.id}': neither its name nor a variant "
                        "matches any author in bib/")
        claimed = remap.get(author.id)
        if author.id in natural and (claimed is None or claimed[0] != author.id):
            # without this, every paper of that other spelling would silently join this author
            spelled = next((c.name.inverted for p in papers.values() for c in p.authors
                            if c.author_id == author.id), author.id)
            diags.error(author.loc, f"author id '{author.id}' is already the id of the author "
                        f"'{spelled}' in bib/; if that is the same person, add \"{spelled}\" to "
                        "variants, otherwise rename this file")
    ids = {natural_id: target for natural_id, (target, _) in remap.items()}
    spellings: dict[str, list[PersonName]] = defaultdict(list)
    for paper in papers.values():
        for credit in paper.authors:
            spellings[ids.get(credit.author_id, credit.author_id)].append(credit.name)
    authors: dict[str, Author] = {}
    bib = SourceLocation("bib")
    for aid, names in spellings.items():
        base = overrides.get(aid)
        distinct = list(dict.fromkeys(names))  # most authors are spelled one way everywhere
        shown = base.name if base is not None else (
            distinct[0] if len(distinct) == 1 else preferred(distinct))
        variants = tuple(sorted({n.inverted for n in distinct}))
        if base is not None:
            authors[aid] = replace(base, spellings=variants)
        else:
            authors[aid] = Author(id=aid, name=shown, loc=bib, spellings=variants)
    ordered = dict(sorted(authors.items(), key=lambda kv: (sort_key(kv[1].name), kv[0])))
    return ids, ordered


def _coauthors(papers: dict[str, Paper], remap: dict[str, str],
               authors: dict[str, Author]) -> dict[str, Coauthors]:
    """Each author's co-authors, most shared papers first, then A–Z."""
    author_order = {a: i for i, a in enumerate(authors)}
    co: dict[str, Counter[str]] = defaultdict(Counter)
    for paper in papers.values():
        ids = list(dict.fromkeys(remap.get(c.author_id, c.author_id) for c in paper.authors))
        for aid in ids:
            co[aid].update(other for other in ids if other != aid)
    out: dict[str, Coauthors] = {}
    for a in authors:
        if a in co:
            ranked = sorted((-n, author_order[other], other, n) for other, n in co[a].items())
            out[a] = (tuple(r[2] for r in ranked), tuple(r[3] for r in ranked))
    return out


def _resolution(papers: dict[str, Paper], parsed: ParsedSources, diags: Diagnostics,
                cache: CorpusCache | None) -> _Resolution:
    credits = (tuple(p.authors for p in papers.values()), tuple(parsed.author_overrides))
    if cache is not None and cache.resolved is not None and cache.credits == credits:
        diags.items.extend(cache.resolved.diagnostics)
        return cache.resolved
    own = Diagnostics()
    remap, authors = _resolve_authors(papers, parsed, own)
    diags.items.extend(own.items)
    result = _Resolution(remap, authors, _coauthors(papers, remap, authors), tuple(own.items))
    if cache is not None:
        cache.credits, cache.resolved = credits, result
        cache.papers = {}
    return result


def _authors(
    papers: dict[str, Paper], parsed: ParsedSources, diags: Diagnostics,
    cache: CorpusCache | None = None,
) -> tuple[dict[str, Paper], dict[str, tuple[str, ...]], _Resolution]:
    """Resolve every credit to an author id, applying author files' variants, and build authors;
    also each paper's distinct author ids."""
    resolution = _resolution(papers, parsed, diags, cache)
    remap = resolution.remap
    kept = cache.papers if cache is not None else {}
    resolved: dict[str, Paper] = {}
    ids: dict[str, tuple[str, ...]] = {}
    for key, paper in papers.items():
        hit = kept.get(key)
        if hit is not None and hit[0] is paper:
            resolved[key], ids[key] = hit[1], hit[2]
            continue
        parsed_paper = paper
        # Papers no author file touches stay the same objects: cheaper, and an incremental
        # rebuild compares them by identity first.
        if any(c.author_id in remap for c in paper.authors):
            paper = replace(paper, authors=tuple(
                Credit(c.name, remap.get(c.author_id, c.author_id)) for c in paper.authors))
        resolved[key] = paper
        ids[key] = tuple(dict.fromkeys(c.author_id for c in paper.authors))
        if cache is not None:
            kept[key] = (parsed_paper, paper, ids[key])
    return resolved, ids, resolution


def _check_references(
    parsed: ParsedSources, papers: dict[str, Paper], conditions: dict[str, Condition],
    diags: Diagnostics,
) -> None:
    keys = list(papers)
    for ref in parsed.references:
        if ref.kind == "paper" and ref.target not in papers:
            diags.error(ref.loc, f"no paper with citation key '{ref.target}' in bib/"
                        + _suggest(ref.target, keys))
        elif ref.kind == "condition" and ref.target not in conditions:
            diags.error(ref.loc, f"no condition '{ref.target}' in content/conditions/"
                        + _suggest(ref.target, list(conditions)))
    for text in parsed.markdown:
        for key, offset in find_citations(text.text):
            if key not in papers:
                diags.error(_locate(text, "@" + key, offset),
                            f"citation [@{key}] in '{text.field}': no paper with that key in bib/"
                            + _suggest(key, keys))
        for written, offset in find_unreadable_citations(text.text):
            diags.warning(_locate(text, written, offset),
                          f"'{written}' in '{text.field}' is shown as written, not as a citation: "
                          "write [@key], or [@key1; @key2] for several (no page or other words "
                          "inside the brackets)")


def _locate(text: MarkdownText, fragment: str, offset: int) -> SourceLocation:
    """Where ``fragment`` (first found at or after ``offset`` in the value) is in the file."""
    at = text.text.find(fragment, offset)
    if text.locate is not None and at >= 0:
        return text.locate(fragment, text.text.count(fragment, 0, at))
    line = text.loc.line + text.text.count("\n", 0, offset)
    return SourceLocation(text.loc.path, line, text.loc.col if line == text.loc.line else 1)


#: Above this many changed papers, sorting the library again is as quick as placing each one.
_PLACED_MAX = 256


def _changed(papers: dict[str, Paper], cache: CorpusCache | None) -> list[str] | None:
    """The keys of the papers that are not the very objects of the last build (new ones too),
    in the order of ``papers``; None without a last build or when most papers changed."""
    last = cache.last_papers if cache is not None else None
    if last is None:
        return None
    changed = [k for k, p in papers.items() if last.get(k) is not p]
    return changed if len(changed) <= _PLACED_MAX else None


def _in_library_order(papers: dict[str, Paper], changed: list[str] | None,
                      cache: CorpusCache | None) -> list[tuple[int, str, str]]:
    """The :func:`library_order` of ``papers``, sorted. After a build that kept its order in
    ``cache``, the papers that did not change keep their places relative to each other (their
    sort keys are the same and all keys differ), so only the changed ones are taken out and
    put back where they now belong: the same order as sorting all, without 10,000 sort keys."""
    last = cache.last_papers if cache is not None else None
    if cache is None or cache.order is None or last is None or changed is None \
            or len(last) - len(papers.keys() & last.keys()) > _PLACED_MAX:
        return sorted(map(library_order, papers.values()))
    gone = set(changed).union(last.keys() - papers.keys())
    order = [o for o in cache.order if o[2] not in gone]
    for key in changed:
        bisect.insort(order, library_order(papers[key]))
    return order


def _by_author(papers: dict[str, Paper], author_ids: dict[str, tuple[str, ...]],
               authors: dict[str, Author], position: dict[str, int], changed: list[str] | None,
               cache: CorpusCache | None) -> dict[str, tuple[str, ...]]:
    """Each author's papers in library order, authors A–Z (as ``authors``).

    When the authors are those of the last build (the same object: the credits of all papers,
    in source order, are equal) and so are the keys, only the authors of the changed papers have
    their papers placed again. The changed papers then hold the same credits between them as
    before (the others hold theirs), so their authors now are all the authors they had."""
    last = cache.last_papers if cache is not None else None
    if cache is not None and changed is not None and cache.by_author is not None \
            and cache.by_author_of is authors and last is not None \
            and last.keys() == papers.keys():
        out = dict(cache.by_author)
        moved = set(changed)
        for aid in {a for k in changed for a in author_ids[k]}:
            keys = [k for k in out.get(aid, ()) if k not in moved]
            keys += [k for k in changed if aid in author_ids[k]]
            out[aid] = tuple(sorted(keys, key=position.__getitem__))
        return out
    lists: dict[str, list[str]] = defaultdict(list)
    for key in papers:
        for aid in author_ids[key]:
            lists[aid].append(key)
    out = {a: tuple(lists[a]) for a in authors if a in lists}
    if len(out) != len(lists):  # (none: every author is made of credits)
        out.update((a, tuple(ks)) for a, ks in lists.items() if a not in out)
    return out


def build_corpus(parsed: ParsedSources, diags: Diagnostics,
                 cache: CorpusCache | None = None) -> Corpus:
    """Resolve and index everything. Problems are reported; what is valid is still indexed.

    A ``cache`` kept between builds (``ketsite serve``) skips resolving authors again when no
    credit and no author file changed; the result is the same either way."""
    papers = _unique_papers(parsed, diags)
    conditions = {c.id: c for c in sorted(parsed.conditions, key=lambda c: (c.name.lower(), c.id))}
    _check_references(parsed, papers, conditions, diags)
    papers, author_ids, resolution = _authors(papers, parsed, diags, cache)
    authors = resolution.authors
    changed = _changed(papers, cache)  # (a paper's author ids are made of its resolved object)
    resolved = papers
    library = _in_library_order(papers, changed, cache)
    papers = {o[2]: papers[o[2]] for o in library}
    annotations = {a.key: a for a in parsed.annotations if a.key in papers}

    review_of_paper: dict[str, str] = {}
    for review in parsed.reviews:
        if review.paper in review_of_paper:
            diags.error(review.loc, f"paper '{review.paper}' is already the review "
                        f"'{review_of_paper[review.paper]}'")
            continue
        if review.paper in papers:
            review_of_paper[review.paper] = review.id
    reviews = {
        r.id: r for r in sorted(
            (r for r in parsed.reviews if review_of_paper.get(r.paper) == r.id),
            key=lambda r: (-papers[r.paper].year, r.id),
        )
    }
    order = {k: i for i, k in enumerate(papers)}

    def ordered(keys: set[str] | list[str]) -> tuple[str, ...]:
        return tuple(sorted((k for k in set(keys) if k in papers), key=order.__getitem__))

    papers_by_author = _by_author(papers, author_ids, authors, order, changed, cache)
    if cache is not None:  # together: each of them is updated from the others next time
        cache.last_papers, cache.order = resolved, library
        cache.by_author, cache.by_author_of = papers_by_author, authors

    by_condition: dict[str, set[str]] = defaultdict(set)
    for condition in conditions.values():
        by_condition[condition.id].update(condition.papers)
    for annotation in annotations.values():
        for cid in annotation.conditions:
            by_condition[cid].add(annotation.key)
    for review in reviews.values():
        for cid in review.conditions:
            by_condition[cid].add(review.paper)
    conditions_by_paper: dict[str, list[str]] = defaultdict(list)
    for cid in conditions:
        for key in by_condition.get(cid, ()):
            if key in papers:
                conditions_by_paper[key].append(cid)

    reviews_citing: dict[str, list[str]] = defaultdict(list)
    cites: dict[str, set[str]] = defaultdict(set)
    for review in reviews.values():
        for key in review.references:
            reviews_citing[key].append(review.id)
            cites[review.paper].add(key)
        for key in review.citing:
            cites[key].add(review.paper)
    cited_by: dict[str, set[str]] = defaultdict(set)
    for source, targets in cites.items():
        for target in targets:
            cited_by[target].add(source)

    return Corpus(
        papers=papers,
        authors=authors,
        conditions=conditions,
        reviews=reviews,
        annotations=annotations,
        papers_by_author=papers_by_author,
        coauthors=resolution.coauthors,
        papers_by_condition={c: ordered(by_condition.get(c, set())) for c in conditions},
        conditions_by_paper={k: tuple(v) for k, v in conditions_by_paper.items()},
        reviews_citing={k: tuple(v) for k, v in reviews_citing.items() if k in papers},
        review_of_paper=review_of_paper,
        cites={k: ordered(v) for k, v in cites.items() if k in papers},
        cited_by={k: ordered(v) for k, v in cited_by.items() if k in papers},
    )
