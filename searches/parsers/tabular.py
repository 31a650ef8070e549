"""CSV and TSV exports of any database or tool, read through a column mapping.

A `ColumnMapping` says which column(s) hold each ParsedRecord field. Known layouts
(Scopus, Web of Science tab-delimited, PubMed 'Save as CSV', Cochrane CENTRAL,
Covidence, Rayyan, IEEE Xplore, old Embase CSV and the common research datasets)
are recognised from their header by `detect_mapping`; anything else with a
recognisable title column gets a synonym-based guess, and the web app can ask the
person uploading to map the columns by hand (`read_header` gives the columns) and
remember the answer (`ColumnMapping.to_dict` / `from_dict`).

Each mapped field may name several columns, in order of preference: a text field
takes the first non-empty one (Scopus authors: 'Author full names', else
'Authors'); a list field (keywords, MeSH terms, publication types) takes them all.

Pure Python: no Django. `parse_rows` is shared with the Excel reader.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from searches.parsers.base import (
    Author,
    ParsedRecord,
    ParseError,
    clean_text,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    parse_year,
    split_author,
)

# Scopus 'References' and WoS 'CR' cells pass csv's default 128 KiB limit.
FIELD_SIZE_LIMIT = 2**31 - 1
# Characters read ahead to find the delimiter (then completed to a whole line).
SAMPLE_CHARS = 1 << 16
DELIMITERS = (",", ";", "\t")

# The fields a mapping can fill: ParsedRecord's, plus start_page/end_page (joined
# into pages) and citation (a free-text citation such as PubMed's 'Eur J Med Genet.
# 2020 Feb;63(2):103640.' or Embase's 'Cancer (2004) 102:4 (253-258).', from which
# journal, year, volume, issue and pages are taken when no column gives them).
MAPPED_FIELDS = (
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "start_page",
    "end_page",
    "doi",
    "pmid",
    "pmcid",
    "issn",
    "keywords",
    "mesh_terms",
    "publication_types",
    "language",
    "url",
    "source_id",
    "citation",
)
LIST_FIELDS = frozenset({"keywords", "mesh_terms", "publication_types"})
# How one authors cell separates names; 'auto' recognises ';', ' and ', ', ' and
# ASySD's names run together ('Adeli K.Lewis G. F.').
AUTHOR_SEPARATORS = {"auto": "", "semicolon": ";", "comma": ",", "and": " and "}


@dataclass(frozen=True)
class ColumnMapping:
    """Which column(s) hold each field; several columns are alternatives in order
    of preference (list fields take them all). Column names match case-insensitively.
    """

    layout: str = "custom"
    title: tuple[str, ...] = ()
    abstract: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    year: tuple[str, ...] = ()
    journal: tuple[str, ...] = ()
    volume: tuple[str, ...] = ()
    issue: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    start_page: tuple[str, ...] = ()
    end_page: tuple[str, ...] = ()
    doi: tuple[str, ...] = ()
    pmid: tuple[str, ...] = ()
    pmcid: tuple[str, ...] = ()
    issn: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    mesh_terms: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    url: tuple[str, ...] = ()
    source_id: tuple[str, ...] = ()
    citation: tuple[str, ...] = ()
    author_separator: str = "auto"  # a key of AUTHOR_SEPARATORS
    list_separator: str = ";"  # between keywords, MeSH terms, publication types

    def __post_init__(self) -> None:
        if self.author_separator not in AUTHOR_SEPARATORS:
            choices = ", ".join(AUTHOR_SEPARATORS)
            raise ValueError(
                f"Unknown author separator {self.author_separator!r}: use one of "
                f"{choices}."
            )
        if not self.list_separator:
            raise ValueError("The list separator cannot be empty.")
        for name in MAPPED_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(
                isinstance(column, str) for column in value
            ):
                raise ValueError(f"{name}: expected a tuple of column names")

    def columns(self, name: str) -> tuple[str, ...]:
        """The columns mapped to a field (see MAPPED_FIELDS)."""
        if name not in MAPPED_FIELDS:
            raise KeyError(name)
        value: tuple[str, ...] = getattr(self, name)
        return value

    def used_columns(self) -> list[str]:
        """Every column the mapping reads, once each, in field order."""
        seen: dict[str, None] = {}
        for name in MAPPED_FIELDS:
            for column in self.columns(name):
                seen.setdefault(column, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: {'layout': ..., 'author_separator': ..., 'list_separator':
        ..., '<field>': ['<column>', ...]} for the mapped fields only."""
        data: dict[str, Any] = {
            "layout": self.layout,
            "author_separator": self.author_separator,
            "list_separator": self.list_separator,
        }
        for name in MAPPED_FIELDS:
            if columns := self.columns(name):
                data[name] = list(columns)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnMapping:
        """The inverse of to_dict. A field may also be a single column name (str).
        Raises ValueError for unknown keys or values of the wrong type."""
        if not isinstance(data, Mapping):
            raise ValueError("A column mapping must be a JSON object.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown column-mapping keys: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for key in ("layout", "author_separator", "list_separator"):
            if key in data:
                if not isinstance(data[key], str):
                    raise ValueError(f"{key}: expected a string")
                values[key] = data[key]
        for name in MAPPED_FIELDS:
            value = data.get(name)
            if value is None or value == "":
                continue
            if isinstance(value, str):
                values[name] = (value,)
            elif isinstance(value, list | tuple) and all(
                isinstance(column, str) for column in value
            ):
                values[name] = tuple(column for column in value if column)
            else:
                raise ValueError(f"{name}: expected a column name or a list of them")
        return cls(**values)


# --- Layouts ----------------------------------------------------------------


def _key(name: str) -> str:
    """Exact-but-case-insensitive column key: 'Source title ' -> 'source title'."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def _loose(name: str) -> str:
    """Synonym key, punctuation and spacing ignored: 'Author(s)' -> 'authors'."""
    return re.sub(r"[\W_]+", "", name.casefold())


@dataclass(frozen=True)
class _Layout:
    name: str
    required: frozenset[str]  # _key()s that identify the layout
    columns: Mapping[str, tuple[str, ...]]  # field -> columns, in preference order
    author_separator: str = "auto"
    list_separator: str = ";"


def _layout(
    name: str,
    required: Iterable[str],
    author_separator: str = "auto",
    list_separator: str = ";",
    **columns: tuple[str, ...],
) -> _Layout:
    return _Layout(name, frozenset(required), columns, author_separator, list_separator)


_WOS_TAGS = frozenset({"pt", "au", "ti", "so", "ut"})

# Checked in order; the first whose required columns are all present wins. Fields a
# layout does not mention are filled from _SYNONYMS if the header has them.
_LAYOUTS = (
    _layout(
        "wos_tab",
        _WOS_TAGS,
        author_separator="semicolon",
        title=("TI",),
        abstract=("AB",),
        authors=("AF", "AU", "BF", "BA", "CA"),
        year=("PY", "EA"),
        journal=("SO",),
        volume=("VL",),
        issue=("IS",),
        start_page=("BP",),
        end_page=("EP",),
        pages=("AR",),
        doi=("DI", "D2"),
        pmid=("PM",),
        issn=("SN", "EI"),
        keywords=("DE", "ID"),
        publication_types=("DT",),
        language=("LA",),
        url=("DL",),
        source_id=("UT",),
    ),
    _layout(
        "scopus",
        {"authors", "title", "year", "source title", "eid"},
        title=("Title",),
        abstract=("Abstract",),
        authors=("Author full names", "Authors"),
        year=("Year",),
        journal=("Source title",),
        volume=("Volume",),
        issue=("Issue",),
        start_page=("Page start",),
        end_page=("Page end",),
        pages=("Art. No.",),
        doi=("DOI",),
        pmid=("PubMed ID",),
        issn=("ISSN",),
        keywords=("Author Keywords", "Index Keywords"),
        publication_types=("Document Type",),
        language=("Language of Original Document",),
        url=("Link",),
        source_id=("EID",),
    ),
    _layout(
        "pubmed_csv",
        {"pmid", "title", "authors", "citation", "journal/book"},
        author_separator="comma",
        title=("Title",),
        authors=("Authors",),
        year=("Publication Year",),
        journal=("Journal/Book",),
        citation=("Citation",),
        doi=("DOI",),
        pmid=("PMID",),
        pmcid=("PMCID",),
        source_id=("PMID",),
    ),
    _layout(
        "cochrane_central",
        {"central id", "author(s)", "title", "source"},
        author_separator="semicolon",
        title=("Title",),
        abstract=("Abstract",),
        authors=("Author(s)",),
        year=("Year",),
        journal=("Source",),
        volume=("Volume",),
        issue=("Issue",),
        pages=("Pages",),
        doi=("DOI",),
        pmid=("PubMed ID",),
        keywords=("Keywords",),
        publication_types=("Publication Type",),
        url=("URL",),
        source_id=("CENTRAL ID",),
    ),
    _layout(
        "covidence",
        {"covidence #", "title", "authors"},
        author_separator="semicolon",
        title=("Title",),
        abstract=("Abstract",),
        authors=("Authors",),
        year=("Published Year",),
        journal=("Journal",),
        volume=("Volume",),
        issue=("Issue",),
        pages=("Pages",),
        doi=("DOI",),
        source_id=("Accession Number", "Covidence #"),
    ),
    _layout(
        "rayyan",
        {"key", "title", "authors"},
        author_separator="and",
        title=("title",),
        abstract=("abstract",),
        authors=("authors",),
        year=("year",),
        journal=("journal",),
        volume=("volume",),
        issue=("issue",),
        pages=("pages",),
        doi=("doi",),
        pmid=("pubmed_id",),
        pmcid=("pmc_id",),
        issn=("issn",),
        keywords=("keywords",),
        language=("language",),
        url=("url",),
        source_id=("key",),
    ),
    _layout(
        "ieee_xplore",
        {"document title", "authors", "publication title"},
        author_separator="semicolon",
        title=("Document Title",),
        abstract=("Abstract",),
        authors=("Authors",),
        year=("Publication Year",),
        journal=("Publication Title",),
        volume=("Volume",),
        issue=("Issue",),
        start_page=("Start Page",),
        end_page=("End Page",),
        doi=("DOI",),
        issn=("ISSN",),
        keywords=("Author Keywords", "IEEE Terms"),
        mesh_terms=("Mesh_Terms",),
        publication_types=("Document Identifier",),
        url=("PDF Link",),
    ),
    _layout(
        # Embase's older 20-column CSV: no year, journal or DOI columns; 'Source'
        # is a citation and 'Open URL Link' an OpenURL carrying the DOI and ISSN.
        "embase_csv",
        {"title", "author names", "source"},
        author_separator="comma",
        list_separator=",",
        title=("Title", "Original Title"),
        abstract=("Abstract", "Original Abstract"),
        authors=("Author Names",),
        citation=("Source",),
        keywords=("Emtree Drug Index Terms", "Emtree Medical Index Terms", "keywords"),
        url=("Open URL Link",),
    ),
    # Research datasets: the generic synonyms read them; only the quirks are here.
    _layout(
        # ASySD's benchmark sets: 'isbn' holds ISSNs; 'source' and 'label' are the
        # dedup labels, not fields.
        "asysd",
        {"author", "title", "year", "journal", "abstract", "doi", "number"}
        | {"pages", "volume", "isbn", "record_id"},
        issn=("isbn",),
    ),
    _layout(
        "bib_dedupe",
        {"id", "title", "year", "author", "pages", "volume", "number", "journal"},
    ),
    _layout("asreview", {"record_id", "title"}),
)

# Generic guesses, by _loose() key, in order of preference.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": (
        "title",
        "articletitle",
        "documenttitle",
        "ti",
        "t1",
        "primarytitle",
        "papertitle",
        "originaltitle",
    ),
    "abstract": ("abstract", "ab", "abstractnote", "n2", "summary"),
    "authors": (
        "authorfullnames",
        "af",
        "authors",
        "author",
        "authornames",
        "au",
        "a1",
        "creators",
        "creator",
        "authorlist",
    ),
    "year": (
        "year",
        "publicationyear",
        "py",
        "pubyear",
        "yr",
        "publishedyear",
        "date",
        "publicationdate",
        "pubdate",
        "dp",
        "y1",
        "da",
        "issued",
        "datepublished",
    ),
    "journal": (
        "journal",
        "sourcetitle",
        "journaltitle",
        "journalbook",
        "publicationtitle",
        "so",
        "jo",
        "jf",
        "t2",
        "secondarytitle",
        "journalname",
        "containertitle",
        "venue",
        "fulljournal",
        "jt",
        "ta",
    ),
    "volume": ("volume", "vl", "vol", "vi"),
    "issue": ("issue", "number", "is", "no", "ip", "issuenumber"),
    "pages": ("pages", "page", "pagination", "pp", "pagerange"),
    "start_page": ("startpage", "pagestart", "firstpage", "bp", "sp", "spage"),
    "end_page": ("endpage", "pageend", "lastpage", "ep", "epage"),
    "doi": ("doi", "di", "do"),
    "pmid": ("pmid", "pubmedid", "pubmed", "pm"),
    "pmcid": ("pmcid", "pmc"),
    "issn": ("issn", "sn", "eissn", "issnl"),
    "keywords": (
        "keywords",
        "keyword",
        "authorkeywords",
        "de",
        "kw",
        "ot",
        "indexkeywords",
        "keywordsplus",
        "manualtags",
        "automatictags",
    ),
    "mesh_terms": ("meshterms", "mesh", "meshheadings", "mh"),
    "publication_types": (
        "publicationtype",
        "publicationtypes",
        "documenttype",
        "type",
        "dt",
        "itemtype",
        "entrytype",
        "referencetype",
        "ty",
    ),
    "language": ("language", "lang", "la", "languageoforiginaldocument"),
    "url": ("url", "link", "ur", "links", "pdflink", "l2"),
    "source_id": (
        "recordid",
        "id",
        "key",
        "accessionnumber",
        "accession",
        "an",
        "eid",
        "ut",
    ),
    "citation": ("citation", "bibliographiccitation"),
}


def _first_positions(
    header: Sequence[str], key: Callable[[str], str]
) -> dict[str, str]:
    """key(column) -> the header's own spelling, first occurrence winning."""
    positions: dict[str, str] = {}
    for name in header:
        if name.strip():
            positions.setdefault(key(name), name)
    return positions


def _generic_columns(header: Sequence[str]) -> dict[str, tuple[str, ...]]:
    loose = _first_positions(header, _loose)
    found: dict[str, tuple[str, ...]] = {}
    for name, synonyms in _SYNONYMS.items():
        columns = tuple(dict.fromkeys(loose[s] for s in synonyms if s in loose))
        if columns:
            found[name] = columns
    return found


def detect_mapping(header: list[str]) -> ColumnMapping | None:
    """The mapping for a known layout recognised by its columns (case-insensitive),
    else a guess from common column names; None when no title column is found."""
    exact = _first_positions(header, _key)
    generic = _generic_columns(header)
    for layout in _LAYOUTS:
        if not layout.required <= exact.keys():
            continue
        columns: dict[str, tuple[str, ...]] = {}
        for name in MAPPED_FIELDS:
            if name in layout.columns:
                present = tuple(
                    exact[_key(c)] for c in layout.columns[name] if _key(c) in exact
                )
                if present:
                    columns[name] = present
            elif name in generic:
                columns[name] = generic[name]
        if columns.get("title"):
            return ColumnMapping.from_dict(
                {
                    "layout": layout.name,
                    "author_separator": layout.author_separator,
                    "list_separator": layout.list_separator,
                    **columns,
                }
            )
    if "title" not in generic:
        return None
    return ColumnMapping.from_dict({"layout": "generic", **generic})


# --- Reading the text -------------------------------------------------------


def _clean_header(header: Sequence[str]) -> list[str]:
    cleaned = [name.replace("\ufeff", "").strip() for name in header]
    while cleaned and not cleaned[-1]:  # a trailing delimiter
        cleaned.pop()
    return cleaned


def _sniff(sample: str) -> str:
    """The delimiter under which the header has most columns and the rows agree
    with it; ',' when nothing splits the header."""
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=None), delimiter=delimiter)
        try:
            rows = [row for row in itertools.islice(reader, 100) if row]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(_clean_header(rows[0]))
        body = rows[1:-1] if len(rows) > 2 else rows[1:]  # the last may be cut off
        if width < 2:
            agreement = 0.0
        elif body:
            agreement = sum(len(_clean_header(r)) <= width for r in body) / len(body)
            agreement = min(agreement, sum(len(r) >= width for r in body) / len(body))
        else:
            agreement = 1.0
        score = (agreement, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _is_wos_tab(header: Sequence[str], delimiter: str) -> bool:
    keys = {_key(name) for name in header}
    return delimiter == "\t" and keys >= _WOS_TAGS


Rows = Iterator[tuple[int | None, Sequence[str]]]


def _open(stream: TextIO) -> tuple[list[str], str, Rows]:
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    sample = stream.read(SAMPLE_CHARS)
    if sample and not sample.endswith(("\n", "\r")):
        sample += stream.readline()
    sample = sample.lstrip("\ufeff")
    if not sample.strip():
        raise ParseError("The file is empty: there is no header row.")
    delimiter = _sniff(sample)
    lines = itertools.chain(io.StringIO(sample, newline=None), stream)
    head = csv.reader(lines, delimiter=delimiter, strict=True)
    header: list[str] = []
    try:
        while not any(cell.strip() for cell in header):
            header = next(head)
    except StopIteration:
        raise ParseError("The file is empty: there is no header row.") from None
    except csv.Error as error:
        raise ParseError(
            f"Cannot read the header row: {error}", line=head.line_num
        ) from error
    header = _clean_header(header)
    # WoS tab-delimited text is never quoted: a '"' in a title is just a character.
    if _is_wos_tab(header, delimiter):
        body = csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_NONE)
    else:
        body = csv.reader(lines, delimiter=delimiter, strict=True)
    offset = head.line_num

    def rows() -> Rows:
        line = offset + 1
        while True:
            try:
                row = next(body)
            except StopIteration:
                return
            except csv.Error as error:
                raise ParseError(
                    f"Cannot read this row ({error}); a cell is probably not quoted "
                    "properly",
                    line=line,
                ) from error
            yield line, row
            line = offset + body.line_num + 1

    return header, delimiter, rows()


def read_header(stream: TextIO) -> tuple[list[str], str]:
    """The column names and the delimiter (',', ';' or tab) of a CSV/TSV text.
    Reads only as far as the header (and a 64 KB sample)."""
    header, delimiter, _ = _open(stream)
    return header, delimiter


def parse(
    stream: TextIO, mapping: ColumnMapping | None = None
) -> Iterator[ParsedRecord]:
    """Records from a CSV/TSV text stream (see base.open_text), one per data row,
    through `mapping` or the detected one."""
    header, _, rows = _open(stream)
    yield from parse_rows(header, rows, mapping)


# --- Rows to records --------------------------------------------------------


def unknown_layout_error(header: Sequence[str]) -> ParseError:
    columns = ", ".join(name for name in header if name) or "(none)"
    return ParseError(
        f"Unknown CSV layout: no title column among: {columns}. "
        "Map the columns by hand."
    )


class _Plan:
    """A mapping resolved against one header: field -> column positions."""

    def __init__(self, header: Sequence[str], mapping: ColumnMapping):
        self.mapping = mapping
        self.width = len(header)
        exact: dict[str, int] = {}
        folded: dict[str, int] = {}
        for position, name in enumerate(header):
            exact.setdefault(name, position)
            folded.setdefault(_key(name), position)
        self.positions: dict[str, list[int]] = {}
        for name in MAPPED_FIELDS:
            found = []
            for column in mapping.columns(name):
                at = exact.get(column)
                if at is None:
                    at = folded.get(_key(column))
                if at is not None and at not in found:
                    found.append(at)
            self.positions[name] = found
        if mapping.title and not self.positions["title"]:
            raise ParseError(
                f"The column mapped to the title ({', '.join(mapping.title)}) is not "
                f"in the file, whose columns are: {', '.join(header)}. "
                "Map the columns by hand."
            )
        if not any(self.positions.values()):
            raise ParseError(
                f"None of the mapped columns ({', '.join(mapping.used_columns())}) "
                f"is in the file, whose columns are: {', '.join(header)}."
            )
        # JSON keys for raw: unique, never empty.
        self.keys: list[str] = []
        for position, name in enumerate(header):
            key = name or f"column {position + 1}"
            while key in self.keys:
                key = f"{key} ({position + 1})"
            self.keys.append(key)
        # A variable-width group: Scopus writes as many 'Funding Text n' columns as
        # the longest record needs, and some files keep fewer names than cells.
        self.group_end: int | None = None
        for position, name in enumerate(header):
            if _loose(name).startswith("fundingtext"):
                self.group_end = position

    def fit(self, row: Sequence[str]) -> Sequence[str] | None:
        """A row with surplus cells aligned to the header, or None when the surplus
        cannot be explained."""
        surplus = len(row) - self.width
        if self.group_end is None:
            return None
        cut = self.group_end + 1
        return [*row[:cut], *row[cut + surplus :]]

    def cells(self, row: Sequence[str], name: str) -> Iterator[str]:
        for position in self.positions[name]:
            if position < len(row):
                value = _cell(row[position])
                if value:
                    yield value

    def first(self, row: Sequence[str], name: str) -> str:
        return next(self.cells(row, name), "")

    def items(self, row: Sequence[str], name: str) -> list[str]:
        separator = self.mapping.list_separator
        found: dict[str, None] = {}
        for value in self.cells(row, name):
            for item in _split_outside_brackets(value, separator):
                item = clean_text(item)
                if item:
                    found.setdefault(item, None)
        return list(found)

    def record(self, row: Sequence[str]) -> ParsedRecord:
        first = self.first
        record = ParsedRecord(
            title=first(row, "title"),
            abstract=first(row, "abstract"),
            journal=first(row, "journal"),
            volume=first(row, "volume"),
            issue=first(row, "issue"),
            language=first(row, "language"),
            source_id=first(row, "source_id"),
            keywords=self.items(row, "keywords"),
            mesh_terms=self.items(row, "mesh_terms"),
            publication_types=self.items(row, "publication_types"),
        )
        authors = first(row, "authors")
        record.authors = split_authors(authors, self.mapping.author_separator)
        record.year = next(
            (y for v in self.cells(row, "year") if (y := parse_year(v))), None
        )
        start, end = first(row, "start_page"), first(row, "end_page")
        if start:
            record.pages = _dashes(f"{start}-{end}" if end and end != start else start)
        else:
            record.pages = _dashes(first(row, "pages"))
        record.doi = next((d for v in self.cells(row, "doi") if (d := _doi(v))), "")
        record.pmid = next(
            (p for v in self.cells(row, "pmid") if (p := normalise_pmid(v))), ""
        )
        record.pmcid = next(
            (p for v in self.cells(row, "pmcid") if (p := _pmcid(v))), ""
        )
        record.issn = _issn(first(row, "issn"))
        url = first(row, "url")
        record.url = url.split()[0] if url else ""
        _from_openurl(record)
        _from_citation(record, first(row, "citation"))
        raw = {
            key: row[position] if position < len(row) else ""
            for position, key in enumerate(self.keys)
        }
        record.raw = json.dumps(raw, ensure_ascii=False)
        return record


def parse_rows(
    header: Sequence[str],
    rows: Iterable[tuple[int | None, Sequence[str]]],
    mapping: ColumnMapping | None = None,
    *,
    strict: bool = True,
) -> Iterator[ParsedRecord]:
    """Records from rows of cells, each given with its physical line (or None).
    Blank rows are skipped and not counted. With `strict`, a row with more non-empty
    cells than the header has columns is an error (unless a variable-width column
    group explains it); otherwise the surplus is ignored."""
    header = _clean_header(header)
    if mapping is None:
        mapping = detect_mapping(header)
        if mapping is None:
            raise unknown_layout_error(header)
    plan = _Plan(header, mapping)
    number = 0
    iterator = iter(rows)
    while True:
        try:
            line, row = next(iterator)
        except StopIteration:
            return
        except ParseError as error:
            if error.record is None:
                raise ParseError(
                    error.message, record=number + 1, line=error.line
                ) from error
            raise
        if not any(cell.strip() for cell in row):
            continue
        number += 1
        if len(row) > plan.width:
            row = list(row)
            while len(row) > plan.width and not row[-1].strip():
                row.pop()  # trailing delimiters
        if len(row) > plan.width:
            fitted = plan.fit(row) if strict else row[: plan.width]
            if fitted is None:
                raise ParseError(
                    f"This row has {len(row)} cells but the header has {plan.width} "
                    "columns; a cell is probably not quoted properly",
                    record=number,
                    line=line,
                )
            row = fitted
        yield plan.record(row)


# --- Field values -----------------------------------------------------------

_PLACEHOLDER = re.compile(r"\[no [^\]]* available\]", re.IGNORECASE)


# What R, pandas and databases write for a missing value.
_MISSING = frozenset({"NA", "N/A", "NaN", "nan", "NULL"})


def _cell(value: str) -> str:
    """A cell's text on one line; Scopus' '[No abstract available]' and the like,
    and R's 'NA', read as empty."""
    value = clean_text(value)
    if value in _MISSING or _PLACEHOLDER.fullmatch(value):
        return ""
    return value


def _split_outside_brackets(value: str, separator: str) -> list[str]:
    """Split on `separator` except inside (), [] or {}: Emtree's 'cyst (diagnosis,
    surgery), adult' holds two terms."""
    items, depth, start, index = [], 0, 0, 0
    while index < len(value):
        char = value[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif depth == 0 and value.startswith(separator, index):
            items.append(value[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    items.append(value[start:])
    return items


def _dashes(pages: str) -> str:
    return re.sub(r"\s*[\u2010-\u2015\u2212]\s*", "-", pages)


def _doi(value: str) -> str:
    if "%2f" in value.casefold():
        value = unquote(value)
    return normalise_doi(value)


def _pmcid(value: str) -> str:
    if value.isdigit():
        return f"PMC{value}"
    return normalise_pmcid(value)


_ISSN = re.compile(r"(?<![\dA-Za-z])(\d{4})-?(\d{3}[\dXx])(?![\dA-Za-z])")


def _issn(value: str) -> str:
    """'19328486' -> '1932-8486'; the first ISSN when several."""
    match = _ISSN.search(value)
    if not match:
        return value
    return f"{match.group(1)}-{match.group(2).upper()}"


def _from_openurl(record: ParsedRecord) -> None:
    """Embase's 'Open URL Link' (an OpenURL) carries the DOI, PMID and ISSN."""
    if "?" not in record.url:
        return
    query = parse_qs(urlsplit(record.url).query)
    for value in query.get("id", []) + query.get("rft_id", []):
        kind, _, identifier = value.partition(":")
        if kind.casefold() == "doi" and not record.doi:
            record.doi = normalise_doi(identifier)
        elif kind.casefold() == "pmid" and not record.pmid:
            record.pmid = normalise_pmid(identifier)
    if not record.issn and (issn := query.get("issn")):
        record.issn = _issn(issn[0])


# 'Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004' (Embase)
_EMBASE_SOURCE = re.compile(
    r"^(?P<journal>.+?)\s+\((?P<year>\d{4})\)\s*(?P<volume>[^\s:(]+)?"
    r"(?::(?P<issue>[^\s(]+))?\s*(?:\((?P<pages>[^)]*)\))?"
)
# 'Eur J Med Genet. 2020 Feb;63(2):103640. doi: ...' (PubMed, MEDLINE style)
_MEDLINE_CITATION = re.compile(
    r"^(?P<journal>[^.]+)\.\s+(?P<date>[^;:.]*?)"
    r";\s*(?P<volume>[^\s():;.]+)?\s*(?:\((?P<issue>[^)]*)\))?"
    r"(?::\s*(?P<pages>[^\s;,]+?))?\.?(?:\s|$)"
)


def _from_citation(record: ParsedRecord, citation: str) -> None:
    """Fill the bibliographic fields no column gave from a free-text citation."""
    if not citation:
        return
    match = _EMBASE_SOURCE.match(citation) or _MEDLINE_CITATION.match(citation)
    if match:
        parts = {k: clean_text(v or "") for k, v in match.groupdict().items()}
        record.journal = record.journal or parts["journal"]
        record.volume = record.volume or parts["volume"]
        record.issue = record.issue or parts["issue"]
        record.pages = record.pages or _dashes(parts["pages"])
    if record.year is None:
        record.year = parse_year(citation)


# --- Authors ----------------------------------------------------------------

_SCOPUS_ID = re.compile(r"\s*\(\d+\)\s*$")  # 'Wilson, Lauren N. (58975547800)'
# 'Adeli K.Lewis G. F.', "Crean D.O'Reilly M. E."
_RUN_TOGETHER = re.compile(r"(?<=\.)(?=[^\W\d_](?:[^\W\d_]|'))")
_SUFFIXES = r"(?:[JS]r|JR|SR|II|III|IV|2nd|3rd)\.?"
_SUFFIX = re.compile(_SUFFIXES)
_COMMA_SUFFIX = re.compile(rf",\s*(?={_SUFFIXES}(?:,|;|\s+and\s|$))")
_AND = re.compile(r"\s+(?:and|&)\s+")
_ANONYMOUS = frozenset({"anonymous", "[anonymous]"})


def split_authors(value: str, separator: str = "auto") -> list[Author]:
    """The authors in one cell. `separator` is a key of AUTHOR_SEPARATORS; 'auto'
    reads 'Family, G.; Family2, H.' (Scopus, WoS, Cochrane), 'A and B' (Rayyan,
    BibTeX), 'Smith J, Doe A.' (PubMed), 'Phillips J.C., Braun R.' (old Scopus,
    Embase), 'Z. S. Herman, A. Plech and E. Bien' and 'Adeli K.Lewis G. F.'."""
    value = clean_text(value)
    if not value or _PLACEHOLDER.fullmatch(value):
        return []
    literal = AUTHOR_SEPARATORS.get(separator, "")
    if literal == " and ":
        names = re.split(r"\s+and\s+", value)
    elif literal:
        names = value.split(literal)
    else:
        names = _auto_names(value)
    authors = [
        author
        for author in map(_author, names)
        if author.family and str(author).casefold() not in _ANONYMOUS
    ]
    if len(authors) > 1 and any(_undotted(a.given) for a in authors[:-1]):
        last = authors[-1]  # PubMed's list ends with a period: "O'Connor RE."
        if last.given.endswith(".") and _undotted(last.given[:-1]):
            authors[-1] = Author(last.family, last.given[:-1])
    return authors


def _undotted(given: str) -> bool:
    """MEDLINE-style initials: 'DK'."""
    return given.isalpha() and given.isupper()


def _auto_names(value: str) -> list[str]:
    value = _COMMA_SUFFIX.sub(" ", value)  # 'J. Ross, Jr.' -> 'J. Ross Jr.'
    if ";" in value:
        names = []
        for piece in value.split(";"):  # 'A, B; C, D and E, F' (one ';' missing)
            parts = _AND.split(piece)
            names.extend(parts if all("," in part for part in parts) else [piece])
        return names
    pieces = _AND.split(value)
    if len(pieces) > 1:
        if all(piece.count(",") == 1 for piece in pieces):  # 'Family, G. and ...'
            return pieces
        return [name for piece in pieces for name in _comma_names(piece)]
    if "," in value:
        return _comma_names(value)
    return _RUN_TOGETHER.split(value)


def _comma_names(value: str) -> list[str]:
    """'Phillips J.C., Braun R.' / 'P. Kogge, J. Shalf' -> one name per part;
    'Smith, John' / 'Smith, J., Doe, A.' -> 'Family, Given' pairs."""
    parts: list[str] = []
    for part in (part.strip() for part in value.split(",")):
        if parts and _SUFFIX.fullmatch(part):  # 'C. W. Livingston, Jr.'
            parts[-1] = f"{parts[-1]} {part}"
        elif part:
            parts.append(part)
    if len(parts) < 2:
        return parts
    if all(" " in part and not _is_initials(part) for part in parts):
        return parts
    if len(parts) % 2 == 0 and all(_is_given(part) for part in parts[1::2]):
        return [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]
    if len(parts) == 2:
        return [value]
    return parts


def _is_initial(token: str) -> bool:
    """'J.', 'J.C.', '-P.', 'Y.-T.', 'Th.' or MEDLINE's undotted 'JA' (also 'RE.')."""
    core = token.strip("-")
    stem = core.removesuffix(".")
    if stem.isalpha() and stem.isupper() and len(stem) <= 4:
        return True
    if "." not in core:
        return False
    pieces = [piece for piece in re.split(r"[.\-]+", core) if piece]
    return bool(pieces) and all(
        (len(piece) == 1 and piece.isupper())
        or (len(piece) == 2 and piece[0].isupper() and piece[1].islower())
        for piece in pieces
    )


def _is_initials(name: str) -> bool:
    tokens = name.split()
    return bool(tokens) and all(_is_initial(token) for token in tokens)


def _is_given(part: str) -> bool:
    """'J.', 'JA', 'John', 'Lauren N.', but not a whole name such as 'R. Radersma'."""
    tokens = part.split()
    if not 0 < len(tokens) <= 3:
        return False
    if _is_initial(tokens[0]):
        return all(_is_initial(token) for token in tokens)
    return all(
        _is_initial(token) or (token[:1].isupper() and token.replace("-", "").isalpha())
        for token in tokens
    )


def _author(name: str) -> Author:
    name = _SCOPUS_ID.sub("", clean_text(name)).strip(" ;,")
    if not name or "," in name:
        return split_author(name)
    tokens = name.split()
    if len(tokens) > 2 and _SUFFIX.fullmatch(tokens[-1]):  # 'C. W. Livingston Jr.'
        author = _author(" ".join(tokens[:-1]))
        given = f"{author.given}, {tokens[-1]}" if author.given else tokens[-1]
        return Author(author.family, given)
    trailing = len(list(itertools.takewhile(_is_initial, reversed(tokens))))
    if 0 < trailing < len(tokens):  # 'Phillips J.C.', 'Griffin DK'
        given = " ".join(tokens[-trailing:])
        return Author(" ".join(tokens[:-trailing]), _join_initials(given))
    leading = len(list(itertools.takewhile(_is_initial, tokens)))
    if 0 < leading < len(tokens):  # 'P. Kogge', 'J. -P. Nominé'
        given = " ".join(tokens[:leading])
        return Author(" ".join(tokens[leading:]), _join_initials(given))
    return split_author(name)


def _join_initials(given: str) -> str:
    return re.sub(r"\s+-", "-", given)
