"""Web of Science plain text ('Other file formats' > 'Plain text', .txt/.ciw).

The file opens with 'FN ...' and 'VR 1.0', each record runs from 'PT ' to 'ER'
and the file ends with 'EF'. A tag line is a two-character tag, a space and the
value; a value continues on lines indented by three spaces. For the tags rispy
lists as multi-valued (AU, AF, CR, ...; plus C1 and BE) each continuation line is
a new value; for the others it continues the text (a wrapped title, a keyword
list).

Broken structure is handled as in the RIS parser: a 'PT ' before the previous
record's 'ER' ends that record there; tag lines between 'ER' and the next 'PT '
belong to the record before, unless they hold a title (TI) or end with their own
'ER', when they are kept as a record of their own; a record still open at the end
of the file is kept. 'EF' ends a record left open; files joined one after another
(EF, FN, VR, PT ...) read as one.

ParseError: an empty file; a file with no 'PT ' line (the message names the format
it looks like: Web of Science also exports RIS, and a RIS file saved with a .txt
extension is easily taken for this format); binary data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from rispy.config import WOK_LIST_TYPE_TAGS  # type: ignore[import-untyped]

from searches.parsers.base import (
    Author,
    ParsedRecord,
    ParseError,
    clean_text,
    normalise_doi,
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

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TAGS = frozenset(a + b for a in _UPPER for b in _UPPER + "0123456789")
_LIST_TAGS = frozenset(WOK_LIST_TYPE_TAGS) | {"C1", "BE"}
_PARAGRAPH_TAGS = frozenset({"AB"})
_HEADER_TAGS = frozenset({"FN", "VR"})
_RIS_LINE = re.compile(r"[A-Z][A-Z0-9]  -")
_PUBLICATION_TYPES = {"J": "Journal", "B": "Book", "S": "Series", "P": "Patent"}


class _Record:
    __slots__ = ("last", "lines", "tags")

    def __init__(self) -> None:
        self.tags: dict[str, list[str]] = {}
        self.lines: list[str] = []
        self.last = ""

    def add(self, tag: str, value: str) -> None:
        values = self.tags.get(tag)
        if values is None:
            self.tags[tag] = [value]
        else:
            values.append(value)
        self.last = tag

    def continue_last(self, text: str) -> None:
        values = self.tags[self.last]
        if not values[-1]:
            values[-1] = text
        elif self.last in _LIST_TAGS:
            values.append(text)
        elif self.last in _PARAGRAPH_TAGS:
            values[-1] += "\n" + text
        else:
            values[-1] += " " + text


def _tag_line(line: str) -> tuple[str, str] | None:
    if line[:2] in _TAGS and (len(line) == 2 or line[2] == " "):
        return line[:2], line[3:].strip()
    return None


def parse(stream: TextIO) -> Iterator[ParsedRecord]:
    """Yield the records of a Web of Science plain-text stream one by one."""
    record: _Record | None = None  # open: after PT, before ER
    ended: _Record | None = None  # closed by ER, may still get stray tag lines
    stray: _Record | None = None  # tag lines outside any record
    first_line = ""
    begun = 0
    for lineno, text in enumerate(stream, 1):
        line = text.rstrip("\r\n")
        if line[:1] == "\ufeff":
            line = line.lstrip("\ufeff")
        if "\x00" in line:
            raise ParseError(
                "This file contains binary data, not Web of Science plain text. "
                "Export the records again as 'Plain text file'.",
                record=begun or None,
                line=lineno,
            )
        if not first_line and line.strip():
            first_line = line
            if _RIS_LINE.match(line):
                raise _not_wos(first_line, lineno)
        tagged = _tag_line(line)
        if tagged is None:
            stripped = line.strip()
            if stripped and line[:1].isspace():  # continuation line
                target = record if record is not None else stray
                if target is not None and target.last:
                    target.lines.append(line)
                    target.continue_last(stripped)
            elif record is not None:
                record.lines.append(line)
            continue

        tag, value = tagged
        if tag == "PT":
            begun += 1
            yield from _close(ended, stray, record)
            ended = stray = None
            record = _Record()
            record.lines.append(line)
            record.add(tag, value)
        elif tag in ("ER", "EF"):
            if record is not None:
                record.lines.append(line)
                yield from _close(ended, stray, None)
                ended, stray, record = record, None, None
            elif stray is not None and tag == "ER":  # a record that lost its PT
                stray.lines.append(line)
                yield from _close(ended, None, stray)
                ended = stray = None
        elif record is not None:
            record.lines.append(line)
            record.add(tag, value)
        elif tag not in _HEADER_TAGS:  # a tag line after ER
            if stray is None:
                stray = _Record()
            stray.lines.append(line)
            stray.add(tag, value)

    if not begun:
        if not first_line:
            raise ParseError("The file is empty: there are no references in it.")
        raise _not_wos(first_line, None)
    yield from _close(ended, stray, record)


def _not_wos(first_line: str, line: int | None) -> ParseError:
    return ParseError(
        "This does not look like a Web of Science plain-text file: no 'PT ' line "
        "was found." + other_format_hint(first_line),
        line=line,
    )


def _close(
    ended: _Record | None, stray: _Record | None, record: _Record | None
) -> Iterator[ParsedRecord]:
    """The records complete once a new record starts (or the file ends); see
    ris._close."""
    if stray is not None and ended is not None and "TI" not in stray.tags:
        for tag, values in stray.tags.items():
            for value in values:
                ended.add(tag, value)
        ended.lines.extend(stray.lines)
        stray = None
    if ended is not None:
        yield _build(ended)
    if stray is not None and "TI" in stray.tags:
        yield _build(stray)
    if record is not None:
        yield _build(record)


def _first(tags: dict[str, list[str]], *names: str) -> str:
    for name in names:
        for value in tags.get(name, ()):
            if value:
                return clean_text(value)
    return ""


def _split(tags: dict[str, list[str]], *names: str) -> list[str]:
    """The ';'-separated values of tags, in order, without repeats."""
    items: list[str] = []
    for name in names:
        for value in tags.get(name, ()):
            for item in value.split(";"):
                item = clean_text(item)
                if item and item not in items:
                    items.append(item)
    return items


def _authors(tags: dict[str, list[str]]) -> list[Author]:
    """AF (full names) unless it lists fewer authors than AU; group authors (CA,
    GP) when there are no personal ones."""
    full = [v for v in tags.get("AF", ()) if v.strip()]
    short = [v for v in tags.get("AU", ()) if v.strip()]
    names = full if full and len(full) >= len(short) else short
    authors = [a for a in map(author_from_name, names) if a is not None]
    if not authors:
        authors = [Author(name) for name in _split(tags, "CA", "GP")]
    return authors


def _year(tags: dict[str, list[str]]) -> int | None:
    for tag in ("PY", "EY", "EA", "PD"):
        for value in tags.get(tag, ()):
            year = parse_year(value)
            if year:
                return year
    return None


def _build(record: _Record) -> ParsedRecord:
    tags = record.tags
    abstract = "\n".join(
        clean_text(part) for value in tags.get("AB", ()) for part in value.split("\n")
    ).strip()
    types = _split(tags, "DT")
    if not types:
        code = _first(tags, "PT")
        types = [_PUBLICATION_TYPES.get(code, code)] if code else []
    issn = normalise_issn(_first(tags, "SN")) or normalise_issn(_first(tags, "EI"))
    return ParsedRecord(
        title=_first(tags, "TI"),
        abstract=abstract,
        abstract_sections=split_abstract_sections(abstract),
        authors=_authors(tags),
        year=_year(tags),
        journal=_first(tags, "SO", "JI", "J9", "SE"),
        volume=_first(tags, "VL"),
        issue=_first(tags, "IS"),
        pages=normalise_pages(_first(tags, "BP"), _first(tags, "EP"))
        or _first(tags, "AR"),
        doi=normalise_doi(_first(tags, "DI")) or normalise_doi(_first(tags, "D2")),
        pmid=normalise_pmid(_first(tags, "PM")),
        issn=issn,
        keywords=_split(tags, "DE", "ID"),
        publication_types=types,
        language=_first(tags, "LA"),
        source_id=_first(tags, "UT"),
        raw="\n".join(record.lines),
    )
