"""What every bibliographic parser yields, and the normalisers they share.

Pure Python: no Django. A parser is a function `parse(stream) -> Iterator[ParsedRecord]`
that streams: it yields records as it reads, so memory stays flat as files grow.
Text formats take a text stream (see `open_text`); XML formats take a binary stream.
A parser raises `ParseError` naming the record number (1-based) and, where known,
the line, for input it cannot read; it never yields a half-read record silently.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

import charset_normalizer


@dataclass(frozen=True)
class Author:
    family: str
    given: str = ""

    def __str__(self) -> str:
        return f"{self.family}, {self.given}" if self.given else self.family


@dataclass
class ParsedRecord:
    title: str = ""
    abstract: str = ""
    # Structured abstracts keep their sections: [("BACKGROUND", "..."), ...].
    abstract_sections: list[tuple[str, str]] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    issn: str = ""
    keywords: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    publication_types: list[str] = field(default_factory=list)
    language: str = ""
    url: str = ""
    # The database's own id for the record (Embase accession, WoS UT, Scopus EID, ...).
    source_id: str = ""
    # The entry exactly as it stood in the file (the RIS lines, the XML element, ...).
    raw: str = ""


class ParseError(Exception):
    """Input a parser cannot read. The message is for the person who uploaded it."""

    def __init__(
        self, message: str, *, record: int | None = None, line: int | None = None
    ):
        self.message = message
        self.record = record
        self.line = line
        where = []
        if record is not None:
            where.append(f"record {record}")
        if line is not None:
            where.append(f"line {line}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


# --- Normalisers ------------------------------------------------------------

_DOI = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)


def normalise_doi(value: str) -> str:
    """'https://doi.org/10.1000/ABC.' -> '10.1000/abc'. The first DOI when several."""
    match = _DOI.search(value or "")
    if not match:
        return ""
    return match.group(0).rstrip(".,;)]}>").lower()


def normalise_pmid(value: str) -> str:
    """'PMID: 12345678 [Indexed for MEDLINE]' or a PubMed URL -> '12345678'."""
    match = re.search(r"\d{1,9}", value or "")
    return match.group(0) if match else ""


def normalise_pmcid(value: str) -> str:
    match = re.search(r"PMC\d+", value or "", re.IGNORECASE)
    return match.group(0).upper() if match else ""


def parse_year(value: str) -> int | None:
    """The first plausible year in a date string: '2015 Oct-Dec' -> 2015."""
    match = re.search(r"(?<!\d)(1[5-9]\d\d|20\d\d|2100)(?!\d)", value or "")
    return int(match.group(0)) if match else None


def split_author(name: str) -> Author:
    """'Smith, John A.' or 'Smith JA' or 'John A. Smith' -> Author(family, given)."""
    name = " ".join((name or "").split()).strip(" ;,")
    if not name:
        return Author("")
    if "," in name:
        family, given = name.split(",", 1)
        return Author(family.strip(), given.strip())
    parts = name.split(" ")
    if len(parts) > 1 and re.fullmatch(r"[A-Z]{1,4}", parts[-1]):
        return Author(" ".join(parts[:-1]), parts[-1])  # MEDLINE style 'Smith JA'
    if len(parts) > 1:
        return Author(parts[-1], " ".join(parts[:-1]))
    return Author(name)


def clean_text(value: str) -> str:
    """Collapse white space; strip."""
    return " ".join((value or "").split())


# --- Encodings --------------------------------------------------------------

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
SNIFF_BYTES = 1 << 20
_EAST_ASIAN = {
    "gb18030",
    "gbk",
    "gb2312",
    "big5",
    "shift_jis",
    "cp932",
    "euc_jp",
    "euc_kr",
    "cp949",
}


def detect_encoding(head: bytes) -> str:
    """The encoding of a file from its first bytes: BOM, else UTF-8 if it decodes,
    else UTF-16 without BOM (NUL pattern), else charset-normalizer's best guess
    (Windows-1252 for the usual Latin-1 exports)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3:  # a character cut by the sniff window
            return "utf-8"
    if head[1:200:2].count(0) > 50:
        return "utf-16-le"
    if head[0:200:2].count(0) > 50:
        return "utf-16-be"
    # Legacy exports are nearly always Windows-1252 (Western). Trust the detector
    # only for East Asian multi-byte encodings, which cp1252 would garble.
    best = charset_normalizer.from_bytes(head[:200_000]).best()
    if best is not None and best.encoding in _EAST_ASIAN:
        return str(best.encoding)
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def open_text(binary: BinaryIO) -> TextIO:
    """A text stream over a binary one, in its detected encoding, with any newline
    convention (LF, CRLF, CR) read as '\\n'. Undecodable bytes become U+FFFD rather
    than failing a whole import."""
    head = binary.read(SNIFF_BYTES)
    binary.seek(0)
    encoding = detect_encoding(head)
    return io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline=None)
