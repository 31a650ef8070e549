"""RIS, as written by bibliographic databases and reference managers.

rispy supplies the tag vocabulary (TAG_KEY_MAPPING, LIST_TYPE_TAGS, the reference
type names); the record splitter is our own so that it streams and survives the
broken files real exports contain. How it reads a file:

* A line is a tag line when it starts with a two-character tag (``[A-Z][A-Z0-9]``),
  two spaces and a hyphen (``TY  - JOUR``; ``ER  -`` with nothing after it; a
  missing space after the hyphen is accepted). One space before the hyphen is also
  accepted, but only for tags rispy knows, so that prose continuation lines such as
  ``OR - 1.5`` are not taken for tags.
* A line without a tag continues the previous tag: a new value for list tags
  (AU/A1, KW, SN, AD, DB, ...: EndNote writes one keyword per line), more text for
  the others (an abstract's continuation lines are new paragraphs).
* A record runs from ``TY  -`` to ``ER  -``. Anything before the first TY
  (Ovid's result numbers '1.', headers, blank lines) is ignored. A BOM at the
  start of any line is dropped; CRLF and blank lines are fine.
* Broken structure, decided as follows:
  - A ``TY  -`` before the previous record's ``ER  -`` ends the previous record
    there: both records are kept, none is merged or dropped.
  - Tag lines after ``ER  -`` and before the next ``TY  -`` (Ovid writes ``NL  -``
    after ``ER  -``) belong to the record just ended, unless they hold a title
    (TI/T1/CT/BT) or end with their own ``ER  -``: then they are a record whose
    TY line was lost, and are kept as a record of their own. Tag lines before the
    first TY that neither hold a title nor end with ``ER  -`` are a header and
    are ignored.
  - A record still open at the end of the file (no final ``ER  -``) is kept.
* ParseError: an empty file; a file with no ``TY  -`` line at all, or none in
  its first 50 records (not RIS: the message names the format it looks like when
  it can tell); binary data (NUL characters), with the record and line.

Every field is chosen per record, never per file, because one file can mix tag
dialects: see `_build` for the order of preference of each field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO
from urllib.parse import unquote

from rispy.config import (  # type: ignore[import-untyped]
    LIST_TYPE_TAGS,
    TAG_KEY_MAPPING,
    TYPE_OF_REFERENCE_MAPPING,
)

from searches.parsers.base import (
    Author,
    ParsedRecord,
    ParseError,
    clean_text,
    normalise_doi,
    normalise_pmcid,
    parse_year,
    split_author,
)

# --- Helpers shared with the other tagged formats (medline, wos_tagged) -------

_INITIALS = re.compile(r"(?:[A-Z][a-z]?\.?-?)+")
_ISSN = re.compile(r"(?<![\dXx-])(\d{4})-?(\d{3}[\dXx])(?![\dXx])")


def author_from_name(name: str) -> Author | None:
    """split_author, plus Embase's 'Liu R.' / 'Adler D.G.' (family, dotted initials)."""
    name = " ".join(name.split()).strip(" ;,")
    if not name:
        return None
    if "," not in name:
        family, _, last = name.rpartition(" ")
        if family and "." in last and _INITIALS.fullmatch(last):
            return Author(family, last)
    return split_author(name)


_PAGE_RANGE = re.compile(r"(\w*\d\w*)\s*[-\u2010-\u2015\u2212]+\s*(\w*\d\w*)")
_NO_PAGES = re.compile(r"(?i)not?\W*specified|n/?a|unknown|-+")


def normalise_pages(start: str, end: str = "") -> str:
    """('479', '88') or '479-88' -> '479-488'; ('e123', '') -> 'e123'; any dash
    -> '-'. Placeholders (Ovid's SP 'No' and EP 'Specified') give ''; anything
    else ('1-10; quiz 11') is kept as written."""
    start, end = clean_text(start), clean_text(end)
    whole = _PAGE_RANGE.fullmatch(start)
    if whole is not None and not end:
        start, end = whole.groups()
    if end == start:
        end = ""
    if (
        start.isdigit()
        and end.isdigit()
        and len(end) < len(start)
        and int(start[-len(end) :]) < int(end)
    ):
        end = start[: -len(end)] + end  # abbreviated end page, as MEDLINE writes
    pages = f"{start}-{end}" if start and end else start or end
    return "" if _NO_PAGES.fullmatch(pages) else pages


def normalise_issn(value: str) -> str:
    """The first ISSN in a value, as NNNN-NNNX: '19326203' -> '1932-6203'."""
    match = _ISSN.search(value or "")
    return f"{match.group(1)}-{match.group(2).upper()}" if match else ""


# Section labels of structured abstracts. Upper-case labels ('BACKGROUND:',
# 'MATERIALS AND METHODS:') are recognised anywhere a sentence starts; labels in
# ordinary case only when they start with one of these words, or at the start of
# a paragraph.
_LABEL_WORDS = (
    "abstract|aim|aims|background|case|conclusion|conclusions|context|design|"
    "discussion|evidence|findings|implications|importance|interpretation|"
    "interventions?|introduction|limitations|main|material|materials|measurements|"
    "method|methods|methodology|objective|objectives|outcomes?|participants|"
    "patients|population|practical|purpose|rationale|recommendations|results|"
    "review|setting|settings|significance|statement|study|summary|trial"
)
_SECTION_LABEL = re.compile(
    r"(?:^|(?<=[.!?)\]])\s+|\n\s*)"
    r"(?P<label>"
    r"[A-Z][A-Z0-9,&/()' -]{1,58}[A-Z)]"  # upper case
    rf"|(?i:{_LABEL_WORDS})(?:[ /-][A-Za-z]+){{0,5}}"  # known first word
    r"|(?<=\n)[A-Z][a-z]+(?:[ /-][A-Za-z]+){0,4}"  # paragraph start
    r"):\Z"
)
_LABEL_COLON = re.compile(r":\s")


def split_abstract_sections(text: str) -> list[tuple[str, str]]:
    """'BACKGROUND: x. METHODS: y.' -> [('BACKGROUND', 'x.'), ('METHODS', 'y.')].

    Empty unless the abstract opens with a label and has at least two sections."""
    if ":" not in text[:80]:
        return []
    found: list[tuple[int, int, str]] = []  # (label start, text start, label)
    for colon in _LABEL_COLON.finditer(text):
        # Only the 64 characters before each colon can hold its label.
        end = colon.start() + 1
        label = _SECTION_LABEL.search(text, max(0, end - 64), end)
        if label is not None:
            found.append((label.start(), colon.end(), label.group("label")))
        elif not found:
            return []  # the first colon is not a label's
    if len(found) < 2 or found[0][0] != 0:
        return []
    sections = []
    for (_, start, name), following in zip(found, [*found[1:], None], strict=True):
        end = following[0] if following else len(text)
        sections.append((clean_text(name), clean_text(text[start:end])))
    return sections


def other_format_hint(first_line: str) -> str:
    """A sentence naming the format a file's first non-blank line suggests."""
    line = first_line.lstrip("\ufeff").strip()
    if line.startswith("<"):
        return " It looks like an XML file: choose PubMed XML or EndNote XML."
    if re.match(r"@\w+\s*[{(]", line):
        return " It looks like a BibTeX file: choose BibTeX."
    if re.match(r"PMID- ", line):
        return " It looks like a MEDLINE / PubMed .nbib file: choose that format."
    if re.match(r"(FN|VR|PT) \S", line):
        return " It looks like a Web of Science plain-text file: choose that format."
    if re.match(r"TY {1,2}- ?", line):
        return " It looks like a RIS file: choose RIS."
    if line.count("\t") >= 2 or line.count(",") >= 3:
        return " It looks like a spreadsheet (CSV/TSV): choose CSV / TSV."
    return ""


# --- RIS ---------------------------------------------------------------------

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TAGS = frozenset(a + b for a in _UPPER for b in _UPPER + "0123456789")
_LOOSE_TAG_LINE = re.compile(r"([A-Z][A-Z0-9]) -(?: |(?=\S)|$)(.*)")
_KNOWN_TAGS = frozenset(TAG_KEY_MAPPING) | {
    "BT", "CP", "CT", "ED", "L3", "LK", "M2", "NL", "U1", "U2", "U3", "U4", "U5",
    "Y3", "C9",
}  # fmt: skip
# Continuation lines of these tags are new values (rispy's list tags, plus the
# tags EndNote and others write one value per line).
_LIST_TAGS = frozenset(LIST_TYPE_TAGS) | {
    "AD", "DB", "SN", "L1", "L2", "L3", "L4", "C1", "C3", "M1", "M3", "DO", "AN",
    "ID", "LA", "A2", "ED",
}  # fmt: skip
_PARAGRAPH_TAGS = frozenset({"AB", "N2"})
_TITLE_TAGS = ("TI", "T1", "CT", "BT")
_COPYRIGHT_NOTICE = re.compile(r"^Copyright of .{1,300} is the property of ", re.S)
_PMID_LABEL = re.compile(r"\bPMID\s*[:=#-]?\s*(\d{1,9})\b", re.IGNORECASE)
_PMID_URL = re.compile(
    r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/|[?&]list_uids=)"
    r"(\d{1,9})\b"
)
_PMCID_URL = re.compile(r"/pmc/articles/(PMC\d+)", re.IGNORECASE)
_DOI_URL = re.compile(
    r"(?:doi\.org/|[?&](?:doi|id|rft_id)=(?:doi:|info:doi/|info%3Adoi%2F)?)"
    r"(10\.\d{4,9}(?:/|%2F)[^\s&#?]+)",
    re.IGNORECASE,
)
_DOI_SPLIT = re.compile(r"\s*[;,]\s*(?=(?:\S*doi\S*)?10\.\d)|\s+")
_ACCESSION_NOTE = re.compile(r"Accession Number:\s*([\w.:-]+)", re.IGNORECASE)
_ACCESSION_ID = re.compile(r"\d+(?:[-.]\d+)+")
_SCOPUS_EID = re.compile(r"[?&]eid=(2-s2\.0-\d+)")
_ABBREVIATED = re.compile(r"[A-Za-z]\.(?:\s|$)|^[A-Z][a-z]*\.[A-Z]")
_NCBI_SOURCES = re.compile(r"pubmed|medline|\bnlm\b|ncbi", re.IGNORECASE)
_CLASSIFICATION = re.compile(r"\[\d{3,5}\]$")  # Ovid's M3 'Health & ... [3300]'


class _Record:
    """The tags of one record as read, and its lines."""

    __slots__ = ("last", "lines", "tags")

    def __init__(self) -> None:
        self.tags: dict[str, list[str]] = {}
        self.lines: list[str] = []
        self.last = ""  # the tag continuation lines belong to

    def add(self, tag: str, value: str) -> None:
        if tag == "A1":  # primary authors, same as AU; one list keeps their order
            tag = "AU"
        values = self.tags.get(tag)
        if values is None:
            self.tags[tag] = [value]
        else:
            values.append(value)
        self.last = tag

    def continue_last(self, text: str) -> None:
        values = self.tags[self.last]
        if not values[-1]:  # 'N1  - ' with its value on the next line
            values[-1] = text
        elif self.last in _LIST_TAGS:
            values.append(text)
        elif self.last in _PARAGRAPH_TAGS:
            values[-1] += "\n" + text
        else:
            values[-1] += " " + text

    def has_title(self) -> bool:
        return any(tag in self.tags for tag in _TITLE_TAGS)


def _tag_line(line: str) -> tuple[str, str] | None:
    """(tag, value) of a tag line, else None. 'TY  - JOUR', 'ER  -', 'TY  -JOUR';
    'TY - JOUR' only for tags rispy knows."""
    if line[2:5] == "  -" and line[:2] in _TAGS:
        return line[:2], line[5:].strip()
    if line[2:4] == " -":
        match = _LOOSE_TAG_LINE.match(line)
        if match is not None and match.group(1) in _KNOWN_TAGS:
            return match.group(1), match.group(2).strip()
    return None


def parse(stream: TextIO) -> Iterator[ParsedRecord]:
    """Yield the records of a RIS text stream one by one."""
    lineno = 0
    seen_ty = False
    first_line = ""
    begun = 0  # TY lines read: the number of the record being read
    record: _Record | None = None  # open: after TY, before ER
    ended: _Record | None = None  # closed by ER, may still get stray tag lines
    stray: _Record | None = None  # tag lines outside any record
    orphans: list[_Record] = []  # TY-less records before the first TY

    for lineno, text in enumerate(stream, 1):
        line = text.rstrip("\r\n")
        if line[:1] == "\ufeff":
            line = line.lstrip("\ufeff")
        if "\x00" in line:
            raise ParseError(
                "This file contains binary data, not RIS text. Export the "
                "references again as a RIS (.ris) text file.",
                record=begun or None,
                line=lineno,
            )
        if not first_line and line.strip():
            first_line = line
        # The usual 'XX  - value' inline, for speed; the rest in _tag_line.
        if line[2:5] == "  -" and line[:2] in _TAGS:
            tagged: tuple[str, str] | None = (line[:2], line[5:].strip())
        else:
            tagged = _tag_line(line)
        if tagged is None:
            if record is not None:
                stripped = line.strip()
                record.lines.append(line)
                if stripped and record.last:
                    record.continue_last(stripped)
            continue

        tag, value = tagged
        if tag == "TY":
            seen_ty = True
            begun += 1
            for done in _close(ended, stray, record, orphans):
                yield _build(done)
            ended = stray = None
            orphans.clear()
            record = _Record()
            record.lines.append(line)
            record.add(tag, value)
        elif tag == "ER":
            if record is not None:
                record.lines.append(line)
                for done in _close(ended, stray, None, []):
                    yield _build(done)
                ended, stray, record = record, None, None
            elif stray is not None:  # a record whose TY line was lost
                stray.lines.append(line)
                if not seen_ty:
                    orphans.append(stray)
                    if len(orphans) > 50:
                        raise _not_ris(first_line, lineno)
                else:
                    for done in _close(ended, None, stray, []):
                        yield _build(done)
                ended = stray = None
        elif record is not None:
            record.lines.append(line)
            record.add(tag, value)
        else:  # a tag line after ER or before the first TY
            if stray is None:
                stray = _Record()
            stray.lines.append(line)
            stray.add(tag, value)

    if not seen_ty:
        if not first_line:
            raise ParseError("The file is empty: there are no references in it.")
        raise _not_ris(first_line, None)
    for done in _close(ended, stray, record, []):
        yield _build(done)


def _not_ris(first_line: str, line: int | None) -> ParseError:
    return ParseError(
        "This does not look like a RIS file: no 'TY  -' line was found."
        + other_format_hint(first_line),
        line=line,
    )


def _close(
    ended: _Record | None,
    stray: _Record | None,
    record: _Record | None,
    orphans: list[_Record],
) -> list[_Record]:
    """The records complete once a new record starts (or the file ends): the
    TY-less records seen before the first TY, the record ended by ER with any
    stray tag lines that followed it (or those lines as a record of their own
    when they carry a title), and a record left open (no ER). Stray tag lines
    with no title and no record before them (a header) are ignored."""
    done = list(orphans)
    if stray is not None and ended is not None and not stray.has_title():
        for tag, values in stray.tags.items():  # e.g. Ovid's 'NL  -' after 'ER  -'
            for value in values:
                ended.add(tag, value)
        ended.lines.extend(stray.lines)
        stray = None
    if ended is not None:
        done.append(ended)
    if stray is not None and stray.has_title():  # a record that lost TY and ER
        done.append(stray)
    if record is not None:
        done.append(record)
    return done


# --- From tags to a ParsedRecord ---------------------------------------------


def _first(tags: dict[str, list[str]], *names: str) -> str:
    """The first non-empty value of the first of `names` that has one."""
    for name in names:
        for value in tags.get(name, ()):
            if value:
                return " ".join(value.split())
    return ""


def _doi_from_url(url: str) -> str:
    match = _DOI_URL.search(url)
    return normalise_doi(unquote(match.group(1))) if match else ""


def _first_doi(value: str) -> str:
    for part in _DOI_SPLIT.split(value):
        doi = normalise_doi(part)
        if doi:
            return doi
    return ""


def _doi(tags: dict[str, list[str]]) -> str:
    for tag in ("DO", "L3", "M3"):
        for value in tags.get(tag, ()):
            doi = _first_doi(value)
            if doi:
                return doi
    for tag in ("UR", "L2", "L1", "L4", "LK"):
        for value in tags.get(tag, ()):
            doi = _doi_from_url(value)
            if doi:
                return doi
    for tag in ("N1", "M1", "M2"):
        for value in tags.get(tag, ()):
            match = re.search(r"\bdoi\b[:\s]*(10\.\S+)", value, re.IGNORECASE)
            if match:
                return normalise_doi(match.group(1))
    return ""


def _from_ncbi(tags: dict[str, list[str]]) -> bool:
    return any(
        _NCBI_SOURCES.search(value)
        for tag in ("DP", "DB")
        for value in tags.get(tag, ())
    )


def _pmid(tags: dict[str, list[str]]) -> str:
    for tag in ("AN", "C2", "C5", "N1", "M1", "M2", "ID", "U1", "C1"):
        for value in tags.get(tag, ()):
            match = _PMID_LABEL.search(value)
            if match:
                return match.group(1)
    for value in tags.get("C2", ()):  # Scopus: C2 is the PubMed id
        if value.strip().isdigit() and len(value.strip()) <= 9:
            return value.strip()
    accession = _first(tags, "AN")
    if accession.isdigit() and len(accession) <= 9 and _from_ncbi(tags):
        return accession  # EndNote/Zotero records from PubMed: AN is the PMID
    embase = any("embase" in value.lower() for value in tags.get("DB", ()))
    for value in tags.get("C5", ()):  # Embase: C5 is the PubMed id
        if embase and value.strip().isdigit() and len(value.strip()) <= 9:
            return value.strip()
    for tag in ("UR", "L2", "L1", "LK"):
        for value in tags.get(tag, ()):
            match = _PMID_URL.search(value)
            if match:
                return match.group(1)
    return ""


def _pmcid(tags: dict[str, list[str]]) -> str:
    for tag in ("C2", "C6", "N1", "M1", "AN"):
        for value in tags.get(tag, ()):
            if "PMC" in value.upper():
                pmcid = normalise_pmcid(value)
                if pmcid:
                    return pmcid
    for tag in ("UR", "L2", "L1"):
        for value in tags.get(tag, ()):
            match = _PMCID_URL.search(value)
            if match:
                return match.group(1).upper()
    return ""


def _source_id(tags: dict[str, list[str]]) -> str:
    accession = _first(tags, "AN")
    if accession:
        return accession.split(";")[0].strip()
    for value in tags.get("U2", ()):  # Embase L-number
        if re.fullmatch(r"L\d+", value.strip()):
            return value.strip()
    for tag in ("N1", "M1"):
        for value in tags.get(tag, ()):
            match = _ACCESSION_NOTE.search(value)
            if match:
                return match.group(1)
    for tag in ("UR", "L2"):
        for value in tags.get(tag, ()):
            match = _SCOPUS_EID.search(value)
            if match:
                return match.group(1)
    # Ovid writes the database's accession in ID ('2019-65183-001'); other IDs are
    # local record numbers (EndNote '966'), RefWorks RefIDs or citation keys.
    record_id = _first(tags, "ID")
    return record_id if _ACCESSION_ID.fullmatch(record_id) else ""


def _journal(tags: dict[str, list[str]]) -> str:
    """The full journal name rather than an abbreviation: JF, T2, JO, J2, JA, NL in
    that order, skipping names that look abbreviated ('Nat. Commun.') when a
    later tag has an unabbreviated one."""
    candidates = [
        clean_text(value)
        for tag in ("JF", "T2", "JO", "J2", "JA", "NL")
        for value in tags.get(tag, ())[:1]
        if value.strip()
    ]
    for name in candidates:
        if not _ABBREVIATED.search(name):
            return name
    return candidates[0] if candidates else ""


def _abstract(tags: dict[str, list[str]]) -> str:
    """AB, or N2 when AB is missing or shorter; several AB lines are joined, less
    EBSCO's 'Copyright of ... is the property of ...' notice."""
    best = ""
    for tag in ("AB", "N2"):
        parts = [
            value.strip()
            for value in tags.get(tag, ())
            if value.strip() and not _COPYRIGHT_NOTICE.match(value.strip())
        ]
        text = "\n".join(parts)
        if len(text) > len(best):
            best = text
    return best


def _keywords(tags: dict[str, list[str]]) -> list[str]:
    keywords: list[str] = []
    for value in tags.get("KW", ()):
        for keyword in value.split(";") if ";" in value else (value,):
            keyword = clean_text(keyword)
            if keyword and keyword not in keywords:
                keywords.append(keyword)
    return keywords


def _authors(tags: dict[str, list[str]]) -> list[Author]:
    authors = []
    for value in tags.get("AU", ()):
        for name in value.split(";") if ";" in value else (value,):
            author = author_from_name(name)
            if author is not None:
                authors.append(author)
    return authors


def _url(tags: dict[str, list[str]]) -> str:
    for tag in ("UR", "L2"):
        for value in tags.get(tag, ()):
            for token in value.replace(";", " ").split():
                if token.startswith(("http://", "https://", "www.")):
                    return token
    return ""


def _year(tags: dict[str, list[str]]) -> int | None:
    for tag in ("PY", "Y1", "DA"):
        for value in tags.get(tag, ()):
            year = parse_year(value)
            if year:
                return year
    return None


def _build(record: _Record) -> ParsedRecord:
    tags = record.tags
    type_code = _first(tags, "TY")
    types = [TYPE_OF_REFERENCE_MAPPING.get(type_code, type_code)] if type_code else []
    for value in tags.get("M3", ()):
        value = clean_text(value)
        if (
            value
            and value not in types
            and not normalise_doi(value)
            and not _CLASSIFICATION.search(value)
        ):
            types.append(value)
    abstract = _abstract(tags)
    issn = ""
    for value in tags.get("SN", ()):
        issn = normalise_issn(value)
        if issn:
            break
    return ParsedRecord(
        title=_first(tags, *_TITLE_TAGS) or _first(tags, "ST"),
        abstract=abstract,
        abstract_sections=split_abstract_sections(abstract),
        authors=_authors(tags),
        year=_year(tags),
        journal=_journal(tags),
        volume=_first(tags, "VL"),
        issue=_first(tags, "IS", "CP"),
        pages=normalise_pages(_first(tags, "SP"), _first(tags, "EP")),
        doi=_doi(tags),
        pmid=_pmid(tags),
        pmcid=_pmcid(tags),
        issn=issn,
        keywords=_keywords(tags),
        publication_types=types,
        language=_first(tags, "LA"),
        url=_url(tags),
        source_id=_source_id(tags),
        raw="\n".join(record.lines),
    )
