"""MEDLINE tagged text, as PubMed exports it (.nbib, 'PubMed' format, .txt).

A tag line is a tag of up to four characters, padded to four, then '- ' and the
value ('PMID- 30689646', 'AB  - ...'); a value continues on lines indented by six
spaces. This is what Bio.Medline reads too, but its parser is not used here:
it splits records only on blank lines, appends continuation lines of tags other
than MH and AD as separate values (a wrapped OT keyword or FAU name would become
two), loses the order of FAU/AU/CN lines between tags (which full name belongs to
which author, where a group author stands), and cannot tell where in the file a
problem lies. This module reads the same layout line by line and streams.

Records: a record starts at each 'PMID- ' line, so files whose blank lines were
doubled or lost (CR CR LF) still read correctly. In a file without PMIDs,
records are separated by blank lines. In a file with PMIDs, a blank line
followed by a tag that the current record already has and can hold only once
(TI, DP, OWN, ...) starts a new record too: a record that lost its PMID line is
kept, not merged into the one before.

ParseError: an empty file; a file with no MEDLINE tag lines (the message names
the format it looks like, e.g. RIS, whose lines have the same shape); binary data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from searches.parsers.base import (
    Author,
    ParsedRecord,
    ParseError,
    clean_text,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    parse_year,
)
from searches.parsers.ris import (
    author_from_name,
    normalise_issn,
    normalise_pages,
    other_format_hint,
    split_abstract_sections,
)

_TAG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Tags a record holds at most once: seeing one again after a blank line means a
# new record (one whose PMID line is missing).
_SINGLE_TAGS = frozenset(
    {"OWN", "STAT", "DP", "TI", "AB", "JT", "TA", "VI", "IP", "PG", "SO", "JID"}
)
_PEOPLE_TAGS = frozenset({"FAU", "AU", "CN"})


class _Record:
    __slots__ = ("last", "lines", "people", "tags")

    def __init__(self) -> None:
        self.tags: dict[str, list[str]] = {}
        self.lines: list[str] = []
        self.people: list[tuple[str, int]] = []  # FAU/AU/CN in file order
        self.last = ""

    def add(self, tag: str, value: str) -> None:
        values = self.tags.setdefault(tag, [])
        values.append(value)
        if tag in _PEOPLE_TAGS:
            self.people.append((tag, len(values) - 1))
        self.last = tag

    def continue_last(self, text: str) -> None:
        values = self.tags[self.last]
        values[-1] = f"{values[-1]} {text}" if values[-1] else text


def _tag_line(line: str) -> tuple[str, str] | None:
    """('AB', text) for 'AB  - text'; None for other lines."""
    if line[4:6] != "- " and line[4:] != "-":
        return None
    tag = line[:4].rstrip()
    if not tag or not tag[0].isalpha() or not _TAG_CHARS.issuperset(tag):
        return None
    return tag, line[6:].strip()


def parse(stream: TextIO) -> Iterator[ParsedRecord]:
    """Yield the records of a MEDLINE text stream one by one."""
    record: _Record | None = None
    by_pmid = False  # the first record starts with PMID: so does every record
    after_blank = False
    first_line = ""
    count = 0
    for lineno, text in enumerate(stream, 1):
        line = text.rstrip("\r\n")
        if line[:1] == "\ufeff":
            line = line.lstrip("\ufeff")
        if "\x00" in line:
            raise ParseError(
                "This file contains binary data, not MEDLINE text. Export the "
                "records from PubMed again with 'Save' and the PubMed format.",
                record=count + 1 if record is not None else None,
                line=lineno,
            )
        if not line.strip():
            after_blank = True
            continue
        if not first_line:
            first_line = line
        tagged = _tag_line(line)
        if tagged is None:
            if record is not None and record.last:
                if after_blank and not line[:1].isspace():
                    continue  # stray text between records
                record.lines.append(line)
                record.continue_last(line.strip())
            after_blank = False
            continue

        tag, value = tagged
        if record is None:
            if tag == "TY":  # RIS lines have the same shape as MEDLINE lines
                raise _not_medline(first_line, lineno)
            by_pmid = tag == "PMID"
            record = _Record()
        elif tag == "PMID" or (
            after_blank
            and (not by_pmid or (tag in _SINGLE_TAGS and tag in record.tags))
        ):
            count += 1
            yield _build(record)
            record = _Record()
        after_blank = False
        record.lines.append(line)
        record.add(tag, value)

    if record is None:
        if not first_line:
            raise ParseError("The file is empty: there are no references in it.")
        raise _not_medline(first_line, None)
    yield _build(record)


def _not_medline(first_line: str, line: int | None) -> ParseError:
    return ParseError(
        "This does not look like a MEDLINE / PubMed (.nbib) file: no "
        "'PMID- ' line was found." + other_format_hint(first_line),
        line=line,
    )


def _first(tags: dict[str, list[str]], *names: str) -> str:
    for name in names:
        for value in tags.get(name, ()):
            if value:
                return clean_text(value)
    return ""


def _authors(record: _Record) -> list[Author]:
    """FAU (full name) for each author, AU where no FAU precedes it; CN (a group
    author) where it stands in the list."""
    authors = []
    full_name_seen = False
    for tag, index in record.people:
        value = record.tags[tag][index]
        if tag == "AU" and full_name_seen:
            full_name_seen = False  # the short form of the FAU before it
            continue
        full_name_seen = tag == "FAU"
        author = Author(clean_text(value)) if tag == "CN" else author_from_name(value)
        if author is not None and author.family:
            authors.append(author)
    return authors


def _doi(tags: dict[str, list[str]]) -> str:
    for tag in ("AID", "LID"):
        for value in tags.get(tag, ()):
            if value.rstrip().endswith("[doi]"):
                doi = normalise_doi(value)
                if doi:
                    return doi
    return ""


def _year(tags: dict[str, list[str]]) -> int | None:
    for tag in ("DP", "DEP", "DA", "EDAT", "CRDT"):
        for value in tags.get(tag, ()):
            year = parse_year(value)
            if year:
                return year
    return None


def _list(tags: dict[str, list[str]], tag: str) -> list[str]:
    values = []
    for value in tags.get(tag, ()):
        value = clean_text(value)
        if value and value not in values:
            values.append(value)
    return values


def _build(record: _Record) -> ParsedRecord:
    tags = record.tags
    abstract = "\n".join(clean_text(value) for value in tags.get("AB", ()) if value)
    pmid = normalise_pmid(_first(tags, "PMID"))
    issn = ""
    for value in tags.get("IS", ()):
        issn = normalise_issn(value)
        if issn:
            break
    return ParsedRecord(
        title=_first(tags, "TI", "BTI", "TT"),
        abstract=abstract,
        abstract_sections=split_abstract_sections(abstract),
        authors=_authors(record),
        year=_year(tags),
        journal=_first(tags, "JT", "TA"),
        volume=_first(tags, "VI"),
        issue=_first(tags, "IP"),
        pages=normalise_pages(_first(tags, "PG")),
        doi=_doi(tags),
        pmid=pmid,
        pmcid=normalise_pmcid(_first(tags, "PMC")),
        issn=issn,
        keywords=_list(tags, "OT"),
        mesh_terms=_list(tags, "MH"),
        publication_types=_list(tags, "PT"),
        language=_first(tags, "LA"),
        source_id=pmid,
        raw="\n".join(record.lines),
    )
