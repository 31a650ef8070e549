"""Field normalisers: the same article exported by two databases must normalise to
the same strings. Each function is pure, total (any input, never raises) and
idempotent (normalising a normalised value changes nothing).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

from searches.dedup.types import DedupRecord

# --- Text folding -------------------------------------------------------------

# Letters NFKD does not decompose into ASCII.
_SPECIAL_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "µ": "mu",  # the micro sign, common in units and in "µ-opioid"
    }
)
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_LATEX_COMMAND = re.compile(r"\\(?:[a-zA-Z]+|.)")
_GREEK_NAMES = frozenset(
    [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "eta",
        "theta",
        "iota",
        "kappa",
        "lambda",
        "mu",
        "nu",
        "xi",
        "omicron",
        "pi",
        "rho",
        "sigma",
        "tau",
        "upsilon",
        "phi",
        "chi",
        "psi",
        "omega",
    ]
)
# Greek letters spelt out, so "TNF-\u03b1" and "TNF-alpha" fold alike.
_GREEK = {
    code: f" {unicodedata.name(chr(code)).rsplit(' ', 1)[-1].lower()} "
    for code in range(0x391, 0x3CA)
    if unicodedata.name(chr(code), "").startswith("GREEK")
}
_COMBINING = re.compile(r"[\u0300-\u036f]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _latex(match: re.Match[str]) -> str:
    command = match.group(0)[1:]
    return f" {command} " if command.lower() in _GREEK_NAMES else ""


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: HTML entities and tags,
    LaTeX commands, diacritics and punctuation removed, Greek letters spelt out
    ("TNF-\u03b1" -> "tnf alpha"). The base of every other text normaliser."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if "<" in text:
        # Inline markup ("H<sub>2</sub>O") must glue back together: no space.
        text = _TAG.sub("", text)
    if "\\" in text or "{" in text:
        text = _LATEX_COMMAND.sub(_latex, text).replace("{", "").replace("}", "")
    if not text.isascii():
        text = text.translate(_SPECIAL_LETTERS).translate(_GREEK)
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
        text = _NON_ASCII.sub(" ", text)
    return _NON_ALNUM.sub(" ", text.lower()).strip()


# British and American spellings of the same word ("haematology", "tumour",
# "randomised") fold to one form; applied to both sides, so over-folding is harmless.
_SPELLING = [
    (re.compile(r"ae"), "e"),
    (re.compile(r"oe"), "e"),
    (re.compile(r"our\b"), "or"),
    (re.compile(r"(?<=[a-z])is(e|ed|es|ing|ation|ations)\b"), r"iz\1"),
    (re.compile(r"(?<=[a-z]{3})tre\b"), "ter"),
]


def fold_spelling(folded: str) -> str:
    """British -> American spelling on already folded text."""
    for pattern, replacement in _SPELLING:
        folded = pattern.sub(replacement, folded)
    return folded


# --- Identifiers --------------------------------------------------------------

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+", re.IGNORECASE)


def normalise_doi(value: str) -> str:
    """'https://doi.org/10.1000/ABC.' or 'doi:10.1000/abc [doi]' -> '10.1000/abc'.

    URL-encoding is decoded, the first DOI is taken when several are listed, and
    trailing punctuation is dropped. Empty when the value holds no DOI."""
    if not value:
        return ""
    match = _DOI.search(unquote(value.strip()))
    if not match:
        return ""
    doi = match.group(0).lower()
    # Lists glued without spaces ("10.1/a;10.2/b") and trailing punctuation.
    doi = re.split(r"[;,](?=\s*10\.)", doi)[0]
    return doi.rstrip(".,;:)]}>'")


def normalise_pmid(value: str) -> str:
    """'PMID: 012345 [Indexed for MEDLINE]' or a PubMed URL -> '12345'.

    Leading zeros go (some exports pad). Empty when there is no 1-9 digit number."""
    match = re.search(r"(?<!\d)0*(\d{1,9})(?!\d)", value or "")
    return match.group(1).lstrip("0") if match else ""


# --- Titles -------------------------------------------------------------------

# Notes that databases append to a title: MEDLINE's "[Erratum appears in ...]"
# and "[Comment in ...]" (often cut short, without the closing bracket), a
# language or article-type tag ("[Spanish]", "[Review]"), Embase's "(multiple
# letters)" and a footnote mark "[1]". A translated title is printed in
# brackets; the brackets go, the words stay.
_TITLE_NOTES = re.compile(
    r"\s*[\[(](?:erratum appears|comment (?:in|on)|retraction (?:in|of)|"
    r"update (?:in|of)|corrected and republished|republished|note:|see comment)"
    r".*$|"
    r"\s*[\[(](?:abstract|review|editorial|letter|multiple letters|"
    r"article in [a-z]+|author'?s? transl[a-z]*|english abstract|"
    r"[a-z]+ language|[a-z]+|\d{1,2}|\d+ refs?)[\])]\s*$",
    re.IGNORECASE,
)
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6"}
_ROMAN_AFTER = re.compile(
    r"\b(part|phase|type|stage|grade|class|study|trial|experiment|section) "
    r"(i{1,3}|iv|v|vi)\b"
)


def normalise_title(value: str) -> str:
    """A title folded for comparison: case, punctuation, diacritics, markup and
    spelling variants removed, Roman numerals after "part"/"phase"/"type" written
    as digits, a trailing "[Review]"-style note dropped. Equal titles compare
    equal; the result is a space-separated word string."""
    if not value:
        return ""
    value = value.strip()
    for _ in range(4):  # notes come stacked: "... [Review]. [Spanish]"
        shorter = _TITLE_NOTES.sub("", value.rstrip(". "))
        if shorter == value.rstrip(". "):
            break
        value = shorter
    # Errata and replies name their kind in the title ("Erratum: ...", "... -
    # Reply"); `notice_kind` records that, so the title itself is the article's.
    value = _NOTICE_END.sub("", value)
    value = _NOTICE.sub("", value)
    folded = fold_spelling(fold(value))
    folded = _ROMAN_AFTER.sub(lambda m: f"{m.group(1)} {_ROMAN[m.group(2)]}", folded)
    return folded


_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "without",
        "its",
        "their",
        "than",
        "that",
        "this",
        "these",
        "those",
        "via",
    ]
)


def title_words(title: str) -> list[str]:
    """The content words of a normalised title (stop words dropped)."""
    return [w for w in title.split() if w not in _STOPWORDS]


def title_numbers(title: str) -> frozenset[str]:
    """The numbers printed in a normalised title ("type 2", "phase 3", "2019",
    "il 6"): two titles differing in them are different studies. Digit runs are
    taken wherever they stand, so "ADAMTS 13" and "ADAMTS13" agree."""
    return frozenset(n.lstrip("0") or "0" for n in re.findall(r"\d+", title))


# --- Journals -----------------------------------------------------------------

_JOURNAL_PLACE = re.compile(r"\s*\([^)]*\)\s*$")
_JOURNAL_STOP = frozenset(
    {"the", "of", "and", "in", "for", "de", "la", "le", "et", "on"}
)


def normalise_journal(value: str) -> str:
    """'The Lancet (London, England)' -> 'lancet'; 'Nat. Rev. Nephrol.' ->
    'nat rev nephrol'. Words only, connectives dropped, so full names and ISO
    abbreviations can be aligned word by word (`journals_match`)."""
    if not value:
        return ""
    # Embase: "Pediatric Nephrology.Conference: 45th Annual Meeting ...".
    value = re.split(r"\.?\s*\bConference\s*:", value, maxsplit=1, flags=re.I)[0]
    value = _JOURNAL_PLACE.sub("", value.replace("&", " and "))
    words = fold_spelling(fold(value)).split()
    return " ".join(w for w in words if w not in _JOURNAL_STOP)


def _abbreviates(short: str, full: str) -> bool:
    # ISO 4 abbreviations keep the first letter and drop others: "natl" for
    # "national", "soc" for "society", "j" for "journal".
    if short == full:
        return True
    if not short or not full or short[0] != full[0] or len(short) > len(full):
        return False
    rest = iter(full[1:])
    return all(char in rest for char in short[1:])


def journals_match(a: str, b: str) -> bool:
    """True when two normalised journal names are the same journal written in
    full or abbreviated: every word of the shorter name abbreviates the word at
    the same position of the longer one ("curr opin rheumatol" ~ "current
    opinion rheumatology"). Requires both names to have the same word count."""
    if not a or not b:
        return False
    if a == b:
        return True
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return False
    return all(
        _abbreviates(x, y) if len(x) <= len(y) else _abbreviates(y, x)
        for x, y in zip(wa, wb, strict=True)
    )


def normalise_issn(value: str) -> frozenset[str]:
    """All ISSNs in a field, as 8 characters without hyphen ('0195-668x' ->
    '0195668X')."""
    found = re.findall(r"\b(\d{4})-?(\d{3}[\dxX])\b", value or "")
    return frozenset((a + b).upper() for a, b in found)


# --- Volume, issue, pages -----------------------------------------------------

_SUPPLEMENT = re.compile(r"suppl|supplement|\bS\d", re.IGNORECASE)


def normalise_number(value: str) -> str:
    """Volume or issue: '38 (Suppl 1)' -> '38 suppl 1', 'Vol. 12' -> '12'. Leading
    zeros dropped, so '012' == '12'."""
    folded = fold(value)
    folded = re.sub(r"\b(vol|volume|no|issue|number|nr)\b", " ", folded)
    folded = re.sub(r"\bsupplement\b", "suppl", folded)
    return " ".join(w.lstrip("0") or "0" if w.isdigit() else w for w in folded.split())


_PAGE_RANGE = re.compile(
    r"([a-z]?)(\d+)(?:[a-z]\d*)?(?:\s*[-\u2010-\u2015\u2212]+\s*([a-z]?)(\d+))?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Pages:
    """A normalised page range: prefix ('e', 's', ''), first and last page."""

    prefix: str
    first: int
    last: int
    # The printed last page, when it was before the first ("2297-2108", a typo).
    bad_last: int = 0

    def __str__(self) -> str:
        if self.last == self.first:
            return f"{self.prefix}{self.first}"
        return f"{self.prefix}{self.first}-{self.prefix}{self.last}"

    def overlaps(self, other: Pages) -> bool:
        """Whether the two ranges share a page (same prefix)."""
        return self.prefix == other.prefix and not (
            self.last < other.first or other.last < self.first
        )


def parse_pages(value: str) -> Pages | None:
    """'123-9' -> 123..129, 'pp. 1234-1238.e5' -> 1234..1238, 'e0123' -> e123,
    'S12-S15' -> s12..s15. None when the value holds no page number."""
    if not value:
        return None
    match = _PAGE_RANGE.search(value.replace("pp.", " ").strip())
    if not match:
        return None
    prefix = match.group(1).lower()
    first_text = match.group(2)
    first = int(first_text)
    last = first
    if match.group(4):
        last_text = match.group(4)
        # Abbreviated last page: "123-9" is 123-129, "1234-56" is 1234-1256.
        if len(last_text) < len(first_text):
            last_text = first_text[: len(first_text) - len(last_text)] + last_text
        last = int(last_text)
        if last < first:  # a typo in one of the two: keep both for comparison
            return Pages(
                prefix if prefix in ("e", "s", "a") else "", first, first, last
            )
    # Page numbers this large are article ids or garbage; keep them as ids.
    return Pages(prefix if prefix in ("e", "s", "a") else "", first, last)


def normalise_pages(value: str) -> str:
    """The canonical text of a page range ('123-9' -> '123-129'); '' if none."""
    pages = parse_pages(value)
    return str(pages) if pages else ""


def is_supplement(volume: str, issue: str, pages: str) -> bool:
    """True for a journal supplement (where conference abstracts are printed):
    'Suppl' in volume or issue, or pages like 'S123' / 'A45'."""
    if _SUPPLEMENT.search(volume) or _SUPPLEMENT.search(issue):
        return True
    return bool(re.match(r"\s*[SA]\d", pages))


# --- Authors ------------------------------------------------------------------

_PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "da",
        "di",
        "le",
        "la",
        "du",
        "dos",
        "das",
        "ter",
        "ten",
        "bin",
        "al",
        "el",
    }
)


def normalise_family(family: str, given: str = "") -> str:
    """A family name as one folded token: 'van der Berg' -> 'vanderberg',
    'Le Quintrec' -> 'lequintrec', 'Müller' -> 'muller'. When the parts look
    swapped ('J' as family, 'Zuber' as given) the longer part is used."""
    family_folded = fold(family)
    given_folded = fold(given)
    if len(family_folded.replace(" ", "")) <= 2 < len(given_folded.replace(" ", "")):
        family_folded = given_folded
    return family_folded.replace(" ", "")


def normalise_initials(given: str) -> str:
    """'John A.' / 'J. A.' / 'JA' -> 'ja'."""
    folded = fold(given)
    if not folded:
        return ""
    words = folded.split()
    if len(words) == 1 and len(words[0]) <= 3 and given.strip().isupper():
        return words[0]  # MEDLINE 'JA'
    return "".join(w[0] for w in words)


def normalise_authors(authors: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """Family names, normalised, in order; empty names and 'et al.' dropped."""
    out: list[str] = []
    for family, given in authors:
        name = normalise_family(family, given)
        if name and name not in ("etal", "anonymous", "anon"):
            out.append(name)
    return tuple(out)


# --- Record markers -----------------------------------------------------------

# Notices about another article: they often repeat its title, so they are told
# apart by the opening words (on the raw title: the colon matters, "Correction
# of hypoxaemia" is an article, "Correction: ..." a notice).
_NOTICE = re.compile(
    r"^[\s\[(\"']*(erratum|errata|corrigend[a-z]*|correction(?= to\b|\s*[:.])|"
    r"retraction|retracted|expression of concern|withdrawn(?=\s*[:.])|"
    r"notice of (?:retraction|duplicate)|in reply|reply|authors?'? reply|"
    r"author'?s'? reply|response to (?:the )?(?:letter|comment|correspondence)|"
    r"comment(?:s|ary)? on|re(?=\s*:))\b",
    re.IGNORECASE,
)
# Corrections cited at the end of the corrected title: WoS "(vol 360, pg 542,
# 2009)" and Embase "(New England Journal of Medicine (2009) 360 (542-544))";
# replies and comments flagged at the end: "... - Reply", "...: author's reply".
_NOTICE_END = re.compile(
    r"(?P<erratum>\(vol\.? \d+[^()]*,? pg\.? \d+[^()]*\)|"
    r"\([^()]+\((?:19|20)\d\d\)\s*\d+[^()]*\(\s*[A-Za-z]?\d+[^()]*\)\s*\))\s*\.?$|"
    r"(?P<reply>[-:\u2013\u2014]\s*(?:authors?'?s?'? )?reply|\breply to [^.]*|"
    r"\bin reply)\s*\.?$",
    re.IGNORECASE,
)
_NOTICE_WORDS = {
    "errata": "erratum",
    "in reply": "reply",
    "re": "comment",
}
_NOTICE_TYPES = {
    "erratum": "erratum",
    "published erratum": "erratum",
    "retraction of publication": "retraction",
    "retraction notice": "retraction",
    "expression of concern": "expression of concern",
}
_CONFERENCE_TYPES = (
    "conference",
    "congress",
    "meeting abstract",
    "inproceedings",
    "proceedings",
)


def notice_kind(title: str, publication_types: tuple[str, ...]) -> str:
    """'erratum', 'reply', 'comment', 'retraction' ... when a record is a notice
    about another article rather than the article; '' otherwise. The erratum
    to a paper often repeats the paper's title, so this is what keeps them
    apart."""
    title = html.unescape(title or "").strip()
    end = _NOTICE_END.search(title)
    if end:
        return "erratum" if end.group("erratum") else "reply"
    match = _NOTICE.match(title)
    if match:
        word = match.group(1).lower()
        if word.startswith("corrig") or word.startswith("correction"):
            return "erratum"
        if "reply" in word or word.startswith("response"):
            return "reply"
        if word.startswith("comment"):
            return "comment"
        if word.startswith("retract") or word.startswith("notice"):
            return "retraction"
        return _NOTICE_WORDS.get(word, word)
    for kind in publication_types:
        found = _NOTICE_TYPES.get(kind.lower().strip())
        if found:
            return found
    return ""


def is_conference(publication_types: tuple[str, ...], journal: str) -> bool:
    """True for a conference abstract/paper by its type or its container name."""
    for kind in publication_types:
        if any(word in kind.lower() for word in _CONFERENCE_TYPES):
            return True
    low = journal.lower()
    return any(
        word in low
        for word in ("congress", "conference", "proceedings", "meeting", "symposium")
    )


# --- The normalised record ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class NormRecord:
    """A `DedupRecord` with every field normalised once, ready for blocking and
    scoring. `index` is the record's position in the input."""

    index: int
    title: str
    title_key: str  # the title with spaces removed: exact-match blocking
    title_numbers: frozenset[str]
    authors: tuple[str, ...]
    first_initial: str
    year: int | None
    journal: str
    issns: frozenset[str]
    volume: str
    issue: str
    pages: Pages | None
    doi: str
    pmid: str
    abstract: str
    notice: str
    # A conference abstract: a supplement issue, a conference container or type.
    abstract_like: bool
    # Whether any of volume, issue, pages is known (else abstract_like is a guess).
    located: bool


def normalise_record(index: int, record: DedupRecord) -> NormRecord:
    """Normalise every field of `record` (see the field normalisers)."""
    title = normalise_title(record.title)
    first_given = record.authors[0][1] if record.authors else ""
    # Abstracts: the first 600 folded characters are enough to tell two apart and
    # keep comparisons cheap; copyright lines at the end vary between databases.
    abstract = fold(record.abstract[:900])[:600]
    year = record.year if record.year and 1000 < record.year < 3000 else None
    return NormRecord(
        index=index,
        title=title,
        title_key=title.replace(" ", ""),
        title_numbers=title_numbers(title),
        authors=normalise_authors(record.authors),
        first_initial=normalise_initials(first_given)[:1],
        year=year,
        journal=normalise_journal(record.journal),
        issns=normalise_issn(record.issn),
        volume=normalise_number(record.volume),
        issue=normalise_number(record.issue),
        pages=parse_pages(record.pages),
        doi=normalise_doi(record.doi),
        pmid=normalise_pmid(record.pmid),
        abstract=abstract,
        notice=notice_kind(record.title, record.publication_types),
        abstract_like=is_supplement(record.volume, record.issue, record.pages)
        or is_conference(record.publication_types, record.journal),
        located=bool(record.volume or record.issue or record.pages),
    )
