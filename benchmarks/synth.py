"""A synthetic ketsite library of N papers, written as real ``bib/`` and ``content/`` sources.

The benchmark must measure what a real library costs, so the generator imitates one: authors shared
between papers (a few prolific, most on one paper), names with diacritics written both as Unicode
and as LaTeX accents (``M{\\"u}ller``), some corporate authors, LaTeX in titles and journals, 15
conditions, reviews whose reference lists cite older papers, annotations with inline citations, and
author files merging two spellings of one person. Everything is drawn from one seeded
``random.Random``: the same N (and seed) always writes the same bytes.

None of it is real: titles are assembled from a word list, DOIs use the ``10.5555`` test prefix
(reserved for examples), there are no PMIDs and no ORCIDs.

Usage: ``python benchmarks/synth.py --n 1000 --out /tmp/lib``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: Bumped whenever the output for a given (n, seed) changes, so cached libraries are regenerated.
GENERATOR_VERSION = 1
ENTRIES_PER_BIB_FILE = 250

FAMILY_HEADS = (
    "Ab", "Al", "And", "Bau", "Ber", "Bj", "Bra", "Cal", "Car", "Ch", "Co", "Da", "De", "Dv", "Ed",
    "Fa", "Fe", "Fr", "Ga", "Gą", "Gei", "Gr", "Ha", "He", "Hi", "Ho", "Ib", "Ja", "Jo", "Ka", "Ki",
    "Ko", "Kr", "La", "Le", "Li", "Lu", "Ma", "Me", "Mi", "Mo", "Mü", "Na", "Ni", "No", "Nú", "Ok",
    "Ol", "Ö", "Pa", "Pe", "Pi", "Po", "Qu", "Ra", "Re", "Ri", "Ro", "Sa", "Sc", "Se", "Si", "Sø",
    "St", "Ta", "Te", "Th", "To", "Tr", "Ul", "Va", "Ve", "Vi", "Wa", "We", "Wi", "Ya", "Yo", "Za",
    "Ze", "Zh", "Łu", "Ça", "Šk", "Ðo", "Žu", "Ér",
)
FAMILY_TAILS = (
    "ad", "berg", "bé", "chez", "dahl", "dez", "e", "el", "ens", "er", "ez", "gaard", "hara", "ić",
    "ier", "ini", "ino", "kamp", "ko", "kowski", "lund", "man", "mann", "mura", "nen", "ni", "off",
    "ová", "quist", "rez", "rić", "sen", "ski", "son", "ström", "tti", "ura", "vić", "wicz", "yama",
    "zak", "ñez", "ço", "ørn", "üller", "ëlle", "ás", "ík",
)
GIVEN = (
    "Anna", "Ahmed", "Akira", "Amélie", "Ana", "Andrzej", "Ángel", "Astrid", "Bao", "Beatriz",
    "Björn", "Carlos", "Chen", "Chloé", "Dagny", "Daniel", "Đorđe", "Elena", "Emil", "Érica",
    "Fatima", "François", "Grzegorz", "Hana", "Hélène", "Ingrid", "Ivan", "Jakub", "Jérôme",
    "José", "Jürgen", "Kenji", "Kerstin", "Lars", "Łucja", "Lucía", "Magnus", "Marek", "María",
    "Mei", "Miguel", "Mónica", "Nils", "Noémie", "Olga", "Oskar", "Paweł", "Priya", "Raúl", "Rania",
    "Sakura", "Sébastien", "Siobhán", "Søren", "Stefan", "Tomás", "Ulla", "Víctor", "Wei",
    "Wojciech", "Yusuf", "Zoë", "Zsófia", "Ömer",
)
CORPORATE = (
    "International Association for the Study of Pain",
    "Synthetic Pain Consortium",
    "Ketamine Benchmark Study Group",
    "European Collaborative Analgesia Network",
)
#: Unicode letter → its LaTeX spelling; only accents pylatexenc decodes back to the same letter.
LATEX_ACCENTS = {
    "é": "{\\'e}", "á": "{\\'a}", "ó": "{\\'o}", "ú": "{\\'u}", "í": "{\\'i}", "É": "{\\'E}",
    "ü": '{\\"u}', "ö": '{\\"o}', "ë": '{\\"e}', "Ö": '{\\"O}', "ñ": "{\\~n}", "ç": "{\\c c}",
    "Ç": "{\\c C}", "è": "{\\`e}", "ø": "{\\o}", "ł": "{\\l}", "Ł": "{\\L}", "ą": "{\\k a}",
    "š": "{\\v s}", "Š": "{\\v S}", "ž": "{\\v z}", "Ž": "{\\v Z}", "ć": "{\\'c}", "ô": "{\\^o}",
}
TITLE_START = (
    "Ketamine for", "Low-dose ketamine in", "Subanaesthetic ketamine infusion for",
    "Oral ketamine in", "Intranasal {S}-ketamine for", "Perioperative ketamine and",
    "Effects of ketamine on", "Ketamine versus placebo in", "Long-term outcomes of ketamine for",
    "NMDA receptor antagonism with ketamine in", "Ketamine and magnesium in",
    "Esketamine ($S$-ketamine) for",
)
TITLE_TOPIC = (
    "neuropathic pain", "fibromyalgia", "complex regional pain syndrome", "cancer pain",
    "chronic postsurgical pain", "phantom limb pain", "post-thoracotomy pain", "migraine",
    "chronic low back pain", "knee osteoarthritis", "sickle cell disease", "spinal cord injury",
    "postherpetic neuralgia", "chronic pelvic pain", "central post-stroke pain",
)
TITLE_END = (
    "a randomized, double-blind, placebo-controlled trial", "a systematic review and meta-analysis",
    "a retrospective cohort study", "a pilot study", "a case series", "a narrative review",
    "a prospective observational study", "results of a multicentre trial",
    "a dose--response study", "pharmacokinetics and pharmacodynamics",
    "a Bayesian network meta-analysis", "12-month follow-up",
)
JOURNALS = (
    "Pain", "European Journal of Pain", "Anesthesia {\\&} Analgesia",
    "British Journal of Anaesthesia", "Pain Medicine", "Journal of Pain Research", "Pain Physician",
    "Regional Anesthesia {\\&} Pain Medicine", "Clinical Journal of Pain", "Anaesthesia",
    "Anesthesiology", "Journal of Pain", "Pain Practice", "Scandinavian Journal of Pain",
    "BMC Anesthesiology", "Frontiers in Pain Research",
    "Journal of Clinical Medicine", "Cochrane Database of Systematic Reviews",
    "Revista Espa{\\~n}ola de Anestesiolog{\\'\\i}a", "Der Schmerz",
    "Acta Anaesthesiologica Scandinavica", "Journal of Pain and Symptom Management",
)
WORDS = (
    "ketamine", "infusion", "pain", "patients", "analgesia", "opioid", "consumption", "reduced",
    "trial", "dose", "placebo", "randomised", "outcome", "week", "months", "score", "intensity",
    "neuropathic", "central", "sensitisation", "receptor", "NMDA", "antagonist", "adverse",
    "effects", "dissociative", "nausea", "hallucinations", "follow-up", "baseline", "significant",
    "difference", "groups", "cohort", "quality", "life", "function", "sleep", "depression",
    "tolerability", "evidence", "certainty", "low", "moderate", "studies", "included", "review",
)
CONDITIONS = (
    ("acute-perioperative-pain", "Acute perioperative pain", ("perioperative pain",)),
    ("cancer-pain", "Cancer pain", ()),
    ("central-post-stroke-pain", "Central post-stroke pain", ("CPSP",)),
    ("chronic-low-back-pain", "Chronic low back pain", ("CLBP", "low back pain")),
    ("chronic-pelvic-pain", "Chronic pelvic pain", ()),
    ("chronic-postsurgical-pain", "Chronic postsurgical pain",
     ("CPSP", "persistent postsurgical pain")),
    ("chronic-primary-pain", "Chronic primary pain", ()),
    ("complex-regional-pain-syndrome", "Complex regional pain syndrome", ("CRPS",)),
    ("fibromyalgia", "Fibromyalgia", ("FM",)),
    ("knee-osteoarthritis", "Knee osteoarthritis", ("OA",)),
    ("migraine", "Migraine", ()),
    ("neuropathic-pain", "Neuropathic pain", ()),
    ("phantom-limb-pain", "Phantom limb pain", ("PLP",)),
    ("postherpetic-neuralgia", "Postherpetic neuralgia", ("PHN",)),
    ("sickle-cell-disease-pain", "Sickle cell disease pain", ("SCD pain",)),
)
DESIGNS = (
    "randomised-controlled-trial", "systematic-review", "meta-analysis", "observational-study",
    "case-report", "narrative-review", "pharmacology", "animal-study",
)
DIRECTIONS = ("benefit", "no-benefit", "mixed", "harm", "not-applicable")
ROUTES = ("intravenous", "oral", "subcutaneous", "intranasal", "intramuscular", "topical")


@dataclass
class Person:
    family: str
    given: str  # full given names ("Anna B.")
    #: spellings used in bib/ (``Family, Given`` as Unicode); >1 only for people with an author file
    forms: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    corporate: bool = False


@dataclass
class SynthPaper:
    key: str
    year: int
    title: str
    authors: list[tuple[Person, str]]  # (person, form used)
    journal: str
    volume: int
    number: int
    first_page: int
    abstract: str | None
    latex_names: bool


def _ascii(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L")
                                         .replace("ø", "o").replace("Đ", "D").replace("Ð", "D"))
        if c.isascii() and c.isalnum()
    ).lower()


def _latex(text: str) -> str:
    return "".join(LATEX_ACCENTS.get(c, c) for c in text)


def _yaml_str(text: str) -> str:
    """A double-quoted YAML scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Library:
    """The synthetic library of ``n`` papers; :meth:`write` puts it on disk."""

    def __init__(self, n: int, seed: int = 1) -> None:
        self.n = n
        self.rng = random.Random(seed * 1_000_003 + n)
        self.people: list[Person] = []
        self._names: set[tuple[str, str]] = set()
        self._credits: list[Person] = []
        self.papers: list[SynthPaper] = []
        self._make_papers()

    # --- people ---------------------------------------------------------------------------------

    def _new_person(self) -> Person:
        rng = self.rng
        while True:
            family = rng.choice(FAMILY_HEADS) + rng.choice(FAMILY_TAILS)
            if rng.random() < 0.15:
                family = family + "-" + rng.choice(FAMILY_HEADS) + rng.choice(FAMILY_TAILS)
            given = rng.choice(GIVEN)
            if rng.random() < 0.5:
                given += f" {chr(65 + rng.randrange(26))}."
            key = (_ascii(family), _ascii(given))
            initials = (_ascii(family), given[0])
            if key not in self._names and initials not in self._names:
                break
        self._names.add(key)
        self._names.add(initials)
        person = Person(family, given)
        initials_form = f"{family}, " + " ".join(f"{p[0]}." for p in given.replace(".", "").split())
        style = rng.random()
        if style < 0.01:  # one person, two spellings: an author file merges them
            person.forms = [f"{family}, {given}", initials_form]
        elif style < 0.6:
            person.forms = [initials_form]  # PubMed style: initials only
        else:
            person.forms = [f"{family}, {given}"]
        self.people.append(person)
        return person

    def _pick_author(self) -> Person:
        if not self._credits or self.rng.random() < 0.6:
            person = self._new_person()
        else:
            person = self.rng.choice(self._credits)  # preferential: prolific authors get more
        self._credits.append(person)
        return person

    # --- papers ---------------------------------------------------------------------------------

    def _year(self) -> int:
        # More papers in recent years, as in PubMed.
        return 2025 - min(40, int(self.rng.expovariate(1 / 9)))

    def _make_papers(self) -> None:
        rng = self.rng
        keys: set[str] = set()
        corporate = [Person(name, "", [name], corporate=True) for name in CORPORATE]
        for _ in range(self.n):
            year = self._year()
            count = max(1, min(18, int(rng.lognormvariate(1.5, 0.55))))
            authors: list[tuple[Person, str]] = []
            seen: set[int] = set()
            for _ in range(count):
                person = self._pick_author()
                if id(person) in seen:
                    continue
                seen.add(id(person))
                form = rng.choice(person.forms)
                person.used.add(form)
                authors.append((person, form))
            if rng.random() < 0.01:
                org = rng.choice(corporate)
                authors.append((org, org.family))
            start = rng.choice(TITLE_START)
            topic = rng.choice(TITLE_TOPIC)
            title = f"{start} {topic}: {rng.choice(TITLE_END)}"
            if rng.random() < 0.05:
                title = f"{title} ({rng.choice(('the', 'a'))} {rng.choice(WORDS)} study)"
            first = authors[0][0]
            base = f"{_ascii(first.family)[:12] or 'anon'}{year}{_ascii(topic.split()[0])}"
            key, suffix = base, 0
            while key in keys:
                suffix += 1
                key = f"{base}{suffix}"
            keys.add(key)
            abstract = None
            if rng.random() < 0.3:
                words = rng.randint(40, 160)
                abstract = " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."
            self.papers.append(SynthPaper(
                key=key, year=year, title=title, authors=authors, journal=rng.choice(JOURNALS),
                volume=rng.randint(1, 160), number=rng.randint(1, 12),
                first_page=rng.randint(1, 2000),
                abstract=abstract, latex_names=rng.random() < 0.3,
            ))

    # --- writing --------------------------------------------------------------------------------

    def bib_entry(self, p: SynthPaper, index: int) -> str:
        names = []
        for person, form in p.authors:
            if person.corporate:
                names.append("{" + form + "}")
            else:
                names.append(_latex(form) if p.latex_names else form)
        fields = [
            ("author", " and ".join(names)),
            ("title", p.title),
            ("journal", p.journal),
            ("year", str(p.year)),
            ("volume", str(p.volume)),
            ("number", str(p.number)),
            ("pages", f"{p.first_page}--{p.first_page + 3 + index % 17}"),
            ("doi", f"10.5555/ketsite-bench.{index}"),
        ]
        if p.abstract:
            fields.append(("abstract", p.abstract))
        width = max(len(k) for k, _ in fields)
        body = "".join(f"  {k.ljust(width)} = {{{v}}},\n" for k, v in fields)
        return f"@article{{{p.key},\n{body}}}\n"

    def files(self) -> Iterable[tuple[str, str]]:
        """Every source file as (relative path, text), in a fixed order."""
        rng = self.rng
        n = self.n
        yield "ketsite.yaml", (
            f"title: Synthetic benchmark library ({n} papers)\n"
            "description: Generated by benchmarks/synth.py to measure ketsite; none of it is real."
            "\n"
            "url: https://bench.example.org\n"
        )
        for start in range(0, n, ENTRIES_PER_BIB_FILE):
            chunk = self.papers[start:start + ENTRIES_PER_BIB_FILE]
            text = "\n".join(self.bib_entry(p, start + i) for i, p in enumerate(chunk))
            yield f"bib/part-{start // ENTRIES_PER_BIB_FILE:04d}.bib", text
        keys = [p.key for p in self.papers]
        by_year = sorted(range(n), key=lambda i: (self.papers[i].year, i))
        years = [self.papers[i].year for i in by_year]
        condition_ids = [c[0] for c in CONDITIONS]

        # Conditions: each lists ~2% of the library.
        for cid, name, synonyms in CONDITIONS:
            papers = sorted(rng.sample(range(n), max(1, n // 50)))
            text = f"name: {name}\n"
            if synonyms:
                text += "synonyms: [" + ", ".join(synonyms) + "]\n"
            text += "description: >-\n  " + " ".join(rng.choice(WORDS) for _ in range(40)) + ".\n"
            text += "papers:\n" + "".join(f"  - {keys[i]}\n" for i in papers)
            yield f"content/conditions/{cid}.yaml", text

        # Reviews: one per 200 papers, citing older papers, cited by newer ones.
        review_papers = [i for i in by_year if self.papers[i].year >= 2000]
        count = max(2, n // 200)
        chosen = sorted(rng.sample(review_papers, min(count, len(review_papers))))
        for r, i in enumerate(chosen):
            year = self.papers[i].year
            older = [j for j in by_year[:bisect_right(years, year)] if j != i]
            newer = [j for j in by_year[bisect_left(years, year):] if j != i]
            refs = rng.sample(older, min(len(older), rng.randint(20, 120)))
            citing = sorted(rng.sample(newer, min(len(newer), rng.randint(0, 15))))
            conds = sorted(rng.sample(condition_ids, rng.randint(1, 3)))
            cite = ", ".join(f"@{keys[j]}" for j in refs[:2])
            text = (
                f"paper: {keys[i]}\nlicence: CC-BY-4.0\n"
                "summary: >-\n  " + " ".join(rng.choice(WORDS) for _ in range(50))
                + f" [{cite.replace(', ', '; ')}].\n"
                + "conditions: [" + ", ".join(conds) + "]\n"
                + "abstract:\n"
                + "".join(f"  - heading: {h}\n    text: >-\n      "
                          + " ".join(rng.choice(WORDS) for _ in range(30)) + ".\n"
                          for h in ("Background", "Methods", "Results", "Conclusion"))
                + "references:\n" + "".join(f"  - {keys[j]}\n" for j in refs)
                + ("citing:\n" + "".join(f"  - {keys[j]}\n" for j in citing) if citing else "")
            )
            yield f"content/reviews/review-{r + 1:04d}.yaml", text

        # Annotations on a quarter of the papers.
        for i in sorted(rng.sample(range(n), n // 4)):
            p = self.papers[i]
            design = rng.choice(DESIGNS)
            lines = [f"design: {design}"]
            lines.append(f"population: {_yaml_str('Adults with ' + rng.choice(TITLE_TOPIC))}")
            if rng.random() < 0.7:
                lines.append(f"sample_size: {rng.randint(8, 900)}")
                routes = sorted(rng.sample(ROUTES, rng.randint(1, 2)))
                lines.append("route: [" + ", ".join(routes) + "]")
                lines.append(f"dose: {_yaml_str(f'{rng.randint(1, 20) / 10} mg/kg')}")
                comparator = rng.choice(("Placebo", "Active placebo", "Morphine", "Usual care"))
                lines.append(f"comparator: {_yaml_str(comparator)}")
            lines.append(f"direction: {rng.choice(DIRECTIONS)}")
            finding = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 25))).capitalize()
            if rng.random() < 0.3 and i > 0:
                finding += f" [@{keys[rng.randrange(n)]}]"
            lines.append(f"finding: {_yaml_str(finding + '.')}")
            conds = sorted(rng.sample(condition_ids, rng.randint(1, 2)))
            lines.append("conditions: [" + ", ".join(conds) + "]")
            if rng.random() < 0.01:
                lines.append("status: retracted")
                lines.append(f"status_note: {_yaml_str('Retracted; see the notice.')}")
            lines.append(f"basis: {_yaml_str(p.title.replace('{', '').replace('}', ''))}")
            yield f"content/papers/{p.key}.yaml", "\n".join(lines) + "\n"

        # Author files for people written two ways.
        seen_ids: set[str] = set()
        for person in self.people:
            if len(person.used) < 2:
                continue
            words = (person.family + " " + person.given).replace("-", " ").split()
            aid = "-".join(filter(None, (_ascii(part) for part in words)))
            if aid in seen_ids:
                continue
            seen_ids.add(aid)
            variants = [f for f in person.forms[1:] if f in person.used]
            text = f"name: {_yaml_str(person.forms[0])}\n"
            text += "variants: [" + ", ".join(_yaml_str(v) for v in variants) + "]\n"
            text += f"affiliation: {_yaml_str('Synthetic University Hospital')}\n"
            yield f"content/authors/{aid}.yaml", text

    def write(self, root: Path) -> int:
        """Write the library under ``root`` (replacing ``bib/``, ``content/``); the file count."""
        for sub in ("bib", "content"):
            if (root / sub).exists():
                shutil.rmtree(root / sub)
        count = 0
        for rel, text in self.files():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            count += 1
        return count


def generate(n: int, out: Path, seed: int = 1) -> int:
    return Library(n, seed).write(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, required=True, help="number of papers")
    parser.add_argument("--out", type=Path, required=True, help="project folder to write")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    count = generate(args.n, args.out, args.seed)
    print(f"wrote {count} files for {args.n} papers to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
