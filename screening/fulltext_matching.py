"""Matching a bulk upload of full-text PDFs to a review's records (full text).

Pure Python, no Django: the service opens the uploaded ZIP, reads it with
`zip_pdf_entries`, builds a `RecordKey` per record at the full-text stage and
calls `match_pdfs`. Every file comes back in a `FileMatch`: matched to one
record, a duplicate of an earlier file, or left for a person with the best
candidates and the reason it was not matched.

Evidence, strongest first:

1. identifiers the uploader chose: a DOI, PMID or PMCID in the file name
   ("10.1016_j.pain.2019.01.002.pdf", "PMID_31234567.pdf", "31234567.pdf"), a
   file name that is the end of a record's DOI ("s41598-019-12345-6.pdf"), or
   an identifier in the PDF's metadata (Info dictionary, XMP);
2. identifiers printed on page 1, then page 2 ("doi:10...", "PMID: ...");
3. the title: in the metadata, in the file name, in the largest type on page 1
   or anywhere near the top of the first page's text, compared with rapidfuzz.
   A title alone must be 4+ words and score >= 92; with the first author and
   year of the file name ("Smith 2019 - Exercise reduces pain.pdf") agreeing,
   >= 85 (and short titles count).

An identifier that points at several records, or that the title contradicts,
is not trusted: the file goes to a person with those records as candidates.
Attaching the wrong full text to a record is worse than matching by hand.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import html
import io
import math
import re
import unicodedata
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import unquote

import pypdf
from pypdf.generic import StreamObject
from rapidfuzz import fuzz

from searches.dedup.normalise import (
    fold,
    fold_spelling,
    normalise_doi,
    normalise_family,
    normalise_pmid,
    title_words,
)

TITLE_THRESHOLD = 92.0  # a title alone
AUTHOR_YEAR_THRESHOLD = 85.0  # a title with the file name's first author and year
MIN_TITLE_WORDS = 4  # shorter titles ("Back pain") need author and year too
CANDIDATE_MIN_SCORE = 60.0  # weaker candidates are noise to the person matching
TEXT_PAGES = 2  # pages read for text, whatever the length of the PDF
PAGE_TEXT_CHARS = 20_000  # per page, for identifiers
HEAD_CHARS = 4_000  # the top of the text, where the title is
XMP_BYTES = 1_000_000

# Crossref's recommended pattern for modern DOIs.
_DOI = re.compile(r"10\.\d{4,9}/[-._;()/:A-Z0-9]+", re.IGNORECASE)
_DOI_START = re.compile(r"10\.\d{4,9}(?=[/_\-])")
_DOI_CHARS = re.compile(r"[-._;()/:A-Z0-9]+", re.IGNORECASE)
_GLUED_WORD = re.compile(r"(?<=[\d./)])[A-Z][a-z]{2,}$")
_PMID_TEXT = re.compile(r"\b(?:PMID|PubMed ID)\s*[:#]?\s*(\d{1,8})\b", re.IGNORECASE)
_PMID_NAME = re.compile(r"(?:^|[^a-z])pmid[\s_:#-]*(\d{1,8})(?!\d)", re.IGNORECASE)
_PMCID = re.compile(r"\bPMC\s?(\d{4,9})\b", re.IGNORECASE)
_COPY_SUFFIX = re.compile(r"(?:\s*\(\d{1,3}\)|\s*-\s*copy(?:\s*\(\d+\))?)+$", re.I)
_AUTHOR_YEAR_TITLE = re.compile(
    r"^(?P<author>[^\W\d_][^\d]{0,80}?)[\s,.(\-]*(?P<year>(?:19|20)\d\d)[a-z]?\)?"
    r"[\s,.:)\-]*(?P<title>.*)$"
)
_AUTHOR_END = re.compile(r"\s+(?:et\.?\s*al\.?|and|&)(?:\s.*)?$|[,;].*$", re.I)
_WORD_PROCESSOR = re.compile(r"^(?:microsoft (?:word|powerpoint) - )", re.I)
_FILE_EXTENSION = re.compile(r"\.(?:docx?|pdf|tex|dvi|indd|rtf|odt|qxd)$", re.I)
_XMP_TITLE = re.compile(
    rb"<dc:title>.*?<rdf:li[^>]*>(.*?)</rdf:li>", re.DOTALL | re.IGNORECASE
)
_LETTER = re.compile(r"[a-z]")
_HYPHEN_BREAK = re.compile(r"(?<=[a-z])-\n(?=[a-z])")
_JUNK_FILES = frozenset({"thumbs.db", "desktop.ini"})


class Source(StrEnum):
    """Where a clue was found, strongest first."""

    FILE_NAME = "file name"
    METADATA = "PDF metadata"
    PAGE_1 = "page 1"
    PAGE_2 = "page 2"


_PAGES = (Source.PAGE_1, Source.PAGE_2)


class MatchMethod(StrEnum):
    DOI = "doi"
    PMID = "pmid"
    PMCID = "pmcid"
    TITLE = "title"
    AUTHOR_YEAR_TITLE = "author-year-title"


class FileStatus(StrEnum):
    MATCHED = "matched"
    DUPLICATE = "duplicate"  # an earlier file already matched the record
    UNMATCHED = "unmatched"  # a PDF no record could be chosen for
    NOT_PDF = "not-pdf"
    UNREADABLE = "unreadable"  # corrupt, or needs a password


@dataclass(frozen=True, slots=True)
class RecordKey:
    """What matching needs of a record. `first_author` is the family name."""

    id: int
    doi: str = ""
    pmid: str = ""
    title: str = ""
    first_author: str = ""
    year: int | None = None
    pmcid: str = ""


@dataclass(frozen=True, slots=True)
class Clue:
    value: str
    source: Source


@dataclass(frozen=True, slots=True)
class PdfClues:
    """What one file says about itself. DOIs are normalised (lower case, no URL),
    PMIDs bare digits, PMCIDs "PMC123"; each list in order of strength."""

    name: str
    sha256: str
    is_pdf: bool
    pages: int  # 0 when unknown
    dois: tuple[Clue, ...]
    pmids: tuple[Clue, ...]
    pmcids: tuple[Clue, ...]
    titles: tuple[Clue, ...]
    author: str  # the file name's first author, folded ("vanderberg")
    year: int | None  # the file name's year
    article_id: str  # the file name as it may end a DOI ("s41598-019-12345-6")
    text: str  # the top of the first page(s), for title matching
    error: str = ""  # set when the file could not be read as a PDF
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The best title guess: metadata, then the largest type on page 1 (or
        2), then the file name."""
        return self.titles[0].value if self.titles else ""


@dataclass(frozen=True, slots=True)
class Candidate:
    record_id: int
    score: float  # 0-100


@dataclass(frozen=True, slots=True)
class FileMatch:
    index: int  # position in the upload, from 0
    name: str
    status: FileStatus
    record_id: int | None  # set for MATCHED, and for a DUPLICATE of a match
    method: MatchMethod | None
    score: float  # confidence 0-100; 0 when unmatched
    reason: str  # for people: what matched, or why nothing did
    candidates: tuple[Candidate, ...]  # best first, for files not matched
    duplicate_of: str  # the name of the earlier file kept, for a DUPLICATE
    clues: PdfClues


@dataclass(frozen=True, slots=True)
class MatchReport:
    files: tuple[FileMatch, ...]

    @property
    def matched(self) -> tuple[FileMatch, ...]:
        return tuple(f for f in self.files if f.status == FileStatus.MATCHED)

    @property
    def duplicates(self) -> tuple[FileMatch, ...]:
        return tuple(f for f in self.files if f.status == FileStatus.DUPLICATE)

    @property
    def unmatched(self) -> tuple[FileMatch, ...]:
        """Files a person must match or discard: unmatched, not PDFs, unreadable."""
        return tuple(
            f
            for f in self.files
            if f.status not in (FileStatus.MATCHED, FileStatus.DUPLICATE)
        )

    def by_record(self) -> dict[int, FileMatch]:
        """The kept file of each matched record."""
        return {f.record_id: f for f in self.matched if f.record_id is not None}


# --- ZIP ----------------------------------------------------------------------


def zip_pdf_entries(
    zf: zipfile.ZipFile, *, max_files: int, max_file_bytes: int, max_total_bytes: int
) -> Iterator[tuple[str, bytes]]:
    """Yield (base name, bytes) of each file in the archive, folders flattened.

    Skips folders, macOS `__MACOSX/` resource forks, dot-files and Windows
    thumbnails. Raises ValueError naming the problem when the archive holds more
    than `max_files` files, a file larger than `max_file_bytes` or more than
    `max_total_bytes` in all (checked on the declared sizes first, then on the
    bytes actually inflated, so a header that lies does not help a zip bomb), an
    encrypted entry or a corrupt one. Non-PDF files are yielded: `match_pdfs`
    reports them."""
    count = 0
    total = 0
    for info in zf.infolist():
        if info.is_dir():
            continue
        path = _entry_name(info)
        parts = [part for part in path.split("/") if part]
        if not parts or any(p == "__MACOSX" or p.startswith(".") for p in parts):
            continue
        name = parts[-1]
        if name.lower() in _JUNK_FILES or name.startswith("~$"):
            continue
        count += 1
        if count > max_files:
            raise ValueError(f"The ZIP holds more than {max_files} files.")
        if info.flag_bits & 0x1:
            raise ValueError(f"{path} in the ZIP is password-protected.")
        _check_size(path, info.file_size, total, max_file_bytes, max_total_bytes)
        try:
            with zf.open(info) as entry:
                data = entry.read(max_file_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise ValueError(f"{path} in the ZIP cannot be read: {exc}") from exc
        _check_size(path, len(data), total, max_file_bytes, max_total_bytes)
        total += len(data)
        yield name, data


def _check_size(path: str, size: int, total: int, per_file: int, limit: int) -> None:
    if size > per_file:
        raise ValueError(
            f"{path} in the ZIP unpacks to more than {per_file:,} bytes "
            "(the limit per file)."
        )
    if total + size > limit:
        raise ValueError(
            f"The ZIP unpacks to more than {limit:,} bytes in all (at {path})."
        )


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's path, decoded as the archiver meant it.

    Without the UTF-8 flag (bit 11) zipfile decodes names as cp437, but macOS
    and many other tools write UTF-8 without setting it: undo cp437 and try
    UTF-8 first. Then NFC (macOS names are decomposed) and "/" separators."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except UnicodeError:
            name = info.filename
    name = unicodedata.normalize("NFC", name).replace("\\", "/")
    return "".join(ch for ch in name if ch.isprintable())


# --- Reading one file ---------------------------------------------------------


def pdf_identifiers(name: str, data: bytes) -> PdfClues:
    """The clues in a file's name and, for a PDF, its metadata and the text of
    its first `TEXT_PAGES` pages. Never raises: a file that is not a PDF, or a
    PDF pypdf cannot open or decrypt, comes back with `error` set (and the file
    name's clues)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = _stem(name)
    author, year, name_title = _author_year_title(stem)
    name_dois = [Clue(doi, Source.FILE_NAME) for doi in _dois_in_name(stem)]
    name_pmids = [Clue(pmid, Source.FILE_NAME) for pmid in _pmids_in_name(stem)]
    name_pmcids = [Clue(f"PMC{m}", Source.FILE_NAME) for m in _PMCID.findall(stem)]
    name_titles = [Clue(name_title, Source.FILE_NAME)] if name_title else []
    not_pdf = _not_pdf(data)
    read = _Read(error=not_pdf) if not_pdf else _read_pdf(data)
    texts = [Clue(text, source) for source, text in read.texts]
    meta = [Clue(value, Source.METADATA) for value in read.metadata]
    inside = meta + texts
    dois = name_dois + [Clue(d, c.source) for c in inside for d in _dois_in(c.value)]
    pmids = name_pmids + [
        Clue(m, c.source) for c in inside for m in _PMID_TEXT.findall(c.value)
    ]
    pmcids = name_pmcids + [
        Clue(f"PMC{m}", c.source) for c in inside for m in _PMCID.findall(c.value)
    ]
    titles = [Clue(t, Source.METADATA) for t in read.titles]
    titles += [read.page_title] if read.page_title else []
    titles += name_titles
    return PdfClues(
        name=name,
        sha256=hashlib.sha256(data).hexdigest(),
        is_pdf=not not_pdf,
        pages=read.pages,
        dois=_unique(dois, normalise_doi),
        pmids=_unique(pmids, normalise_pmid),
        pmcids=_unique(pmcids, str.upper),
        titles=_unique(titles, str.strip),
        author=author,
        year=year,
        article_id=_article_id(stem),
        text=read.head,
        error=read.error,
        warnings=read.warnings,
    )


def _unique(clues: Iterable[Clue], normalise: Callable[[str], str]) -> tuple[Clue, ...]:
    seen: set[str] = set()
    out = []
    for clue in clues:
        value = normalise(clue.value)
        if value and value not in seen:
            seen.add(value)
            out.append(Clue(value, clue.source))
    return tuple(out)


def _not_pdf(data: bytes) -> str:
    """Why the bytes are not a PDF, or "" when they start like one."""
    head = data[:1024]
    if b"%PDF-" in head:
        return ""
    if not data.strip():
        return "not a PDF: the file is empty"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
        return "not a PDF: a web page (a publisher's login or error page?)"
    if head.startswith(b"PK\x03\x04"):
        return "not a PDF: a ZIP archive or Office document"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "not a PDF: an old Office document"
    return "not a PDF: the file does not start with %PDF-"


@dataclass
class _Read:
    pages: int = 0
    metadata: tuple[str, ...] = ()  # every string of the Info dictionary and XMP
    titles: tuple[str, ...] = ()
    texts: tuple[tuple[Source, str], ...] = ()
    page_title: Clue | None = None  # the largest type of page 1 (or 2)
    head: str = ""
    error: str = ""
    warnings: tuple[str, ...] = ()


def _read_pdf(data: bytes) -> _Read:
    # pypdf raises more than PdfError on broken files (KeyError, ValueError,
    # RecursionError...): any failure is a clue, never an exception.
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return _Read(error="the PDF needs a password to open")
    except pypdf.errors.DependencyError:
        # pypdf decrypts AES (most publishers' "no copying" PDFs) only with
        # the cryptography package installed.
        return _Read(error="the PDF is encrypted in a way that cannot be read here")
    except Exception as exc:
        return _Read(error=f"the PDF could not be read ({_describe(exc)})")
    warnings = []
    read = _Read()
    try:
        read.pages = len(reader.pages)
    except Exception as exc:
        return _Read(error=f"the PDF's pages could not be read ({_describe(exc)})")
    try:
        read.metadata, read.titles = _metadata(reader)
    except Exception as exc:
        warnings.append(f"metadata unreadable ({_describe(exc)})")
    texts = []
    for number in range(min(read.pages, TEXT_PAGES)):
        try:
            text, title = _page_text(reader.pages[number])
        except Exception as exc:
            warnings.append(f"text of page {number + 1} unreadable ({_describe(exc)})")
            continue
        source = _PAGES[number]
        texts.append((source, text))
        if title and read.page_title is None:  # page 1 may be a cover sheet
            read.page_title = Clue(title, source)
    read.texts = tuple(texts)
    read.head = _head(texts)
    read.warnings = tuple(warnings)
    if read.pages == 0:
        read.error = "the PDF has no pages"
    return read


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _metadata(reader: pypdf.PdfReader) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """All string values of the Info dictionary and the raw XMP packet (where
    publishers put the DOI: /doi, /Subject, prism:doi, dc:identifier), and the
    title candidates among them.

    XMP is searched with regular expressions, not pypdf's `xmp_metadata`, which
    raises on the invalid XML many PDFs carry."""
    values: list[str] = []
    titles: list[str] = []
    info = reader.metadata
    if info is not None:
        for value in info.values():
            text = value.get_object() if hasattr(value, "get_object") else value
            if isinstance(text, str) and text.strip():
                values.append(text[:2000])
        titles.append(_clean_metadata_title(info.title or ""))
    stream = reader.root_object.get("/Metadata")
    stream = stream.get_object() if stream is not None else None
    if isinstance(stream, StreamObject):
        xmp = stream.get_data()[:XMP_BYTES]
        values.append(xmp.decode("utf-8", "replace"))
        match = _XMP_TITLE.search(xmp)
        if match:
            title = html.unescape(match.group(1).decode("utf-8", "replace"))
            titles.append(_clean_metadata_title(title))
    return tuple(values), tuple(t for t in titles if t)


def _clean_metadata_title(title: str) -> str:
    """The metadata title if it looks like one: not "untitled", a file name or
    a DOI, and at least two words."""
    title = " ".join(title.split())
    title = _FILE_EXTENSION.sub("", _WORD_PROCESSOR.sub("", title)).strip()
    words = re.findall(r"[^\W\d_]{2,}", title)
    if len(words) < 2 or _DOI.search(title) or title.lower().startswith("untitled"):
        return ""
    return title


def _page_text(page: pypdf.PageObject) -> tuple[str, str]:
    """The page's text (bounded) and its title guess: the largest type of 3+
    words (the journal's name in bigger type is usually one or two words),
    larger than the body text's."""
    runs: list[tuple[float, str]] = []

    def visit(text: Any, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if len(runs) < 5000 and isinstance(text, str) and text:
            scale = _scale(tm) * _scale(cm)
            runs.append((round(float(size or 0) * scale * 2) / 2, text))

    text = page.extract_text(visitor_text=visit)[:PAGE_TEXT_CHARS]
    return text, _largest_type(runs)


def _scale(matrix: Any) -> float:
    try:
        a, b, c, d = (float(v) for v in matrix[:4])
    except (TypeError, ValueError):
        return 1.0
    return math.sqrt(abs(a * d - b * c)) or 1.0


def _largest_type(runs: list[tuple[float, str]]) -> str:
    # Runs concatenate to the page text; runs of one size that follow each
    # other are one piece, pieces of one size elsewhere on the page are joined
    # with a space.
    pieces: dict[float, list[str]] = defaultdict(list)
    size = -1.0
    for run_size, text in runs:
        if not text.strip():
            if size in pieces:
                pieces[size][-1] += " "
            continue
        if run_size == size:
            pieces[size][-1] += text
        else:
            size = run_size
            pieces[size].append(text)
    chars = {size: sum(map(len, texts)) for size, texts in pieces.items()}
    body = max(chars, key=chars.__getitem__, default=0.0)
    for run_size in sorted((size for size in pieces if size > body), reverse=True):
        guess = " ".join(" ".join(pieces[run_size]).split())
        letters = sum(ch.isalpha() for ch in guess)
        if len(guess.split()) >= 3 and letters >= 15 and len(guess) <= 300:
            return guess
    return ""


def _head(texts: list[tuple[Source, str]]) -> str:
    """The top of page 1, where the title is; with page 2 when page 1 is
    almost empty (a cover sheet, a scanned page)."""
    head = texts[0][1][:HEAD_CHARS] if texts else ""
    if len(head.strip()) < 500 and len(texts) > 1:
        head = f"{head}\n{texts[1][1][:HEAD_CHARS]}"
    return head


# --- File names ---------------------------------------------------------------


def _stem(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if name.lower().endswith(".pdf") else name
    return _COPY_SUFFIX.sub("", unicodedata.normalize("NFC", stem)).strip()


def _dois_in_name(stem: str) -> list[str]:
    """DOIs in a file name, where "/" is not allowed: "10.1016_j.pain.2019.01.002"
    is tried as "10.1016/j.pain.2019.01.002" (the first "_" or "-" as the
    slash) and with every "_" a slash; the index decides which exists."""
    stem = unquote(stem)
    dois = [m.group(0) for m in _DOI.finditer(stem)]
    for start in _DOI_START.finditer(stem):
        prefix, rest = stem[: start.end()], stem[start.end() + 1 :]
        rest = rest.split(" ", 1)[0]
        dois.append(f"{prefix}/{rest}")
        dois.append(f"{prefix}/{rest.replace('_', '/')}")
    return [normalise_doi(doi) for doi in dois if _DOI.fullmatch(doi)]


def _pmids_in_name(stem: str) -> list[str]:
    pmids = _PMID_NAME.findall(stem)
    if re.fullmatch(r"\d{7,8}", stem):  # a bare number of a PMID's length
        pmids.append(stem)
    return pmids


def _article_id(stem: str) -> str:
    """The file name as the end of a DOI ("s41598-019-12345-6",
    "journal.pone.0123456"): one token with letters and digits."""
    stem = stem.lower()
    if (
        len(stem) >= 6
        and "_" not in stem
        and not stem.startswith(("10.", "pmid", "pmc"))
        and _DOI_CHARS.fullmatch(stem)
        and re.search(r"[a-z]", stem)
        and re.search(r"\d", stem)
    ):
        return stem
    return ""


def _author_year_title(stem: str) -> tuple[str, int | None, str]:
    """ "Smith 2019 - Title", "Smith et al. - 2019 - Title" (Zotero, Mendeley),
    "Smith-2019-Title" (EndNote), "Smith_2019_Title" -> ("smith", 2019, "Title").
    A name without author and year is taken as a title if it has 3+ words."""
    spaced = stem.replace("_", " ").strip()
    match = _AUTHOR_YEAR_TITLE.match(spaced)
    if match:
        author = _AUTHOR_END.sub("", match.group("author").strip(" -.,(")).strip()
        if 1 <= len(author.split()) <= 3:  # "van der Berg"; more is a title
            title = match.group("title").strip(" -.")
            return normalise_family(author), int(match.group("year")), title
    if len(re.findall(r"[^\W\d_]{2,}", spaced)) >= 3 and not _DOI.search(stem):
        return "", None, spaced
    return "", None, ""


# --- Identifiers in text ------------------------------------------------------


def _dois_in(text: str) -> list[str]:
    """DOIs in PDF text, with repairs for how extraction breaks them: a DOI cut
    at a line end is also tried joined to the next line, and one glued to the
    next word ("...002Received") also without it."""
    dois = []
    for match in _DOI.finditer(text):
        doi = match.group(0)
        dois.append(doi)
        glued = _GLUED_WORD.search(doi)
        if glued:
            dois.append(doi[: glued.start()])
        # Cut after a separator, or before a digit: not before a new sentence
        # or the next identifier.
        after = _DOI_CHARS.match(text, match.end() + 1)
        if (
            text[match.end() : match.end() + 1] == "\n"
            and after
            and (doi[-1] in "./-_:;(" or after.group(0)[0].isdigit())
            and not after.group(0).lower().startswith(("doi", "http", "pmid"))
            and not _DOI.search(after.group(0))
        ):
            dois.append(doi + after.group(0))
        if len(dois) >= 40:  # a reference list
            break
    return dois


# --- The record index ---------------------------------------------------------


def _norm_title(title: str) -> str:
    """Titles and page text folded alike: case, accents, punctuation, British
    spelling. (Not `normalise_title`: it drops "Erratum:", which matters here.)"""
    if "-\n" in title:
        title = _HYPHEN_BREAK.sub("", title)
    return " ".join(map(_spelling, fold(title).split()))


@functools.lru_cache(maxsize=1 << 17)
def _spelling(word: str) -> str:
    # `fold_spelling`'s rules are all within one word, and words repeat across
    # titles: once per distinct word makes a 100,000-record index 3x faster.
    return fold_spelling(word)


def _content_words(text: str) -> set[str]:
    return {word for word in title_words(text) if len(word) > 1}


class RecordIndex:
    """The records, indexed for lookups: DOI, DOI suffix, PMID, PMCID, title
    words and (first author, year). Built once per upload; 100,000 records take
    a few seconds, and each file then costs dictionary lookups plus fuzzy
    scoring of a few dozen candidate titles, not of every record."""

    def __init__(self, records: Sequence[RecordKey]) -> None:
        self.records = {record.id: record for record in records}
        self.doi: dict[str, list[int]] = defaultdict(list)
        self.doi_suffix: dict[str, list[int]] = defaultdict(list)
        self.pmid: dict[str, list[int]] = defaultdict(list)
        self.pmcid: dict[str, list[int]] = defaultdict(list)
        self.titles: dict[int, str] = {}
        self.title_sizes: dict[int, int] = {}
        self.postings: dict[str, list[int]] = defaultdict(list)
        self.author_year: dict[tuple[str, int], list[int]] = defaultdict(list)
        self.authors: dict[int, str] = {}
        for record in records:
            self._add(record)

    def _add(self, record: RecordKey) -> None:
        doi = normalise_doi(record.doi)
        if doi:
            self.doi[doi].append(record.id)
            suffix = doi.split("/", 1)[1]
            if len(suffix) >= 6 and _LETTER.search(suffix):
                self.doi_suffix[suffix].append(record.id)
        pmid = normalise_pmid(record.pmid)
        if pmid:
            self.pmid[pmid].append(record.id)
        pmcid_match = _PMCID.search(record.pmcid or "")
        if pmcid_match:
            self.pmcid[f"PMC{pmcid_match.group(1)}"].append(record.id)
        title = _norm_title(record.title)
        if title:
            self.titles[record.id] = title
            words = _content_words(title)
            self.title_sizes[record.id] = len(words)
            for word in words:
                self.postings[word].append(record.id)
        family = normalise_family(record.first_author.split(",", 1)[0])
        if family:
            self.authors[record.id] = family
            if record.year:
                self.author_year[(family, record.year)].append(record.id)

    def doi_of(self, record_id: int) -> str:
        return normalise_doi(self.records[record_id].doi)


# --- Matching -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scored:
    record_id: int
    score: float  # the best title score
    specific: float  # the best whole-title comparison (not "appears on the page")
    source: Source | None  # where the best score came from
    author_year: bool  # the file name's first author and year agree
    short: bool  # fewer than MIN_TITLE_WORDS words
    length: int

    @property
    def eligible(self) -> bool:
        if self.score >= TITLE_THRESHOLD and not self.short:
            return True
        needed = TITLE_THRESHOLD if self.short else AUTHOR_YEAR_THRESHOLD
        return self.author_year and self.score >= needed

    def rank(self) -> tuple[bool, float, bool, float, int]:
        return (self.eligible, self.score, self.author_year, self.specific, self.length)


@dataclass(frozen=True, slots=True)
class _Hit:
    record_id: int
    method: MatchMethod
    source: Source
    reason: str
    score: float = 100.0


@dataclass(frozen=True, slots=True)
class _Outcome:
    record_id: int | None
    method: MatchMethod | None
    score: float
    reason: str
    candidates: tuple[Candidate, ...] = ()


class _Matcher:
    """Matches one file's clues; title scores computed once, when needed."""

    def __init__(self, clues: PdfClues, index: RecordIndex) -> None:
        self.clues = clues
        self.index = index
        self._scored: list[_Scored] | None = None

    @property
    def scored(self) -> list[_Scored]:
        if self._scored is None:
            self._scored = _score_titles(self.clues, self.index)
        return self._scored

    def title_score(self, record_id: int) -> float | None:
        for scored in self.scored:
            if scored.record_id == record_id:
                return scored.score
        return None

    def match(self) -> _Outcome:
        for tier in (
            (Source.FILE_NAME, Source.METADATA),
            (Source.PAGE_1,),
            (Source.PAGE_2,),
        ):
            hits = self._identifier_hits(tier)
            if hits:
                return self._decide_identifier(hits)
        return self._decide_title()

    def _identifier_hits(self, sources: tuple[Source, ...]) -> list[_Hit]:
        """Every identifier from `sources` that names a record: DOIs (and the
        file name as a DOI's end), then PMIDs, then PMCIDs."""
        index, clues = self.index, self.clues
        hits = []
        lookups = (
            (MatchMethod.DOI, "DOI", clues.dois, index.doi),
            (MatchMethod.PMID, "PMID", clues.pmids, index.pmid),
            (MatchMethod.PMCID, "PMCID", clues.pmcids, index.pmcid),
        )
        for method, label, found, table in lookups:
            for clue in found:
                if clue.source in sources:
                    reason = f"{label} {clue.value} {_where(clue.source)}"
                    # On a page, an identifier may be one the article cites.
                    score = 98.0 if clue.source in _PAGES else 100.0
                    for record_id in table.get(clue.value, ()):
                        hit = _Hit(record_id, method, clue.source, reason, score)
                        hits.append(hit)
            if method == MatchMethod.DOI and Source.FILE_NAME in sources:
                for record_id in index.doi_suffix.get(clues.article_id, ()):
                    doi = index.doi_of(record_id)
                    reason = f"the file name is the end of DOI {doi}"
                    hits.append(_Hit(record_id, method, Source.FILE_NAME, reason, 95.0))
        return hits

    def _decide_identifier(self, hits: list[_Hit]) -> _Outcome:
        ids = list(dict.fromkeys(hit.record_id for hit in hits))
        if len(ids) > 1:
            return self._disambiguate(ids, hits)
        hit = hits[0]
        other = self._title_contradicts(hit.record_id)
        if other is not None:
            reason = (
                f"{hit.reason} names record {hit.record_id}, "
                f"but the title is record {other}'s"
            )
            candidates = self._candidates([hit.record_id, other], hit.record_id)
            return _Outcome(None, None, 0.0, reason, candidates)
        return _Outcome(hit.record_id, hit.method, hit.score, hit.reason)

    def _disambiguate(self, ids: list[int], hits: list[_Hit]) -> _Outcome:
        """Several records share the identifiers (duplicate records, or a DOI
        the article cites on page 1): the title decides, if it clearly does."""
        scores = sorted(((self.title_score(i) or 0.0, i) for i in ids), reverse=True)
        (best, best_id), (second, _) = scores[0], scores[1]
        if best >= TITLE_THRESHOLD and best - second > 5:
            hit = next(hit for hit in hits if hit.record_id == best_id)
            return _Outcome(best_id, hit.method, hit.score, hit.reason)
        listed = ", ".join(str(i) for i in ids)
        reason = f"{hits[0].reason}: the identifiers name several records ({listed})"
        return _Outcome(None, None, 0.0, reason, self._candidates(ids, *ids))

    def _title_contradicts(self, record_id: int) -> int | None:
        """Another record whose title the file clearly has, when the identified
        record's own title (4+ words) is nowhere: a mislabelled file, or a DOI
        the article cites."""
        title = self.index.titles.get(record_id, "")
        if len(title.split()) < MIN_TITLE_WORDS:
            return None
        # A title on a well-extracted page scores 90+; a stranger's ~60.
        own = self.title_score(record_id) or 0.0
        if own >= 75:
            return None
        for scored in self.scored:
            if scored.record_id != record_id and scored.eligible:
                return scored.record_id if scored.score >= own + 15 else None
        return None

    def _decide_title(self) -> _Outcome:
        eligible = [s for s in self.scored if s.eligible]
        if not eligible:
            reason = "no DOI, PMID or title matched a record"
            return _Outcome(None, None, 0.0, reason, self._candidates())
        best = eligible[0]
        rivals = [
            s
            for s in eligible[1:]
            if s.score >= best.score - 2
            and s.specific >= best.specific - 2
            and s.author_year == best.author_year
            and s.length >= 0.9 * best.length
        ]
        if rivals:
            listed = ", ".join(str(s.record_id) for s in [best, *rivals])
            reason = f"the title matches several records equally ({listed})"
            return _Outcome(None, None, 0.0, reason, self._candidates())
        score = round(best.score, 1)
        where = _where(best.source or Source.PAGE_1)
        if best.score >= TITLE_THRESHOLD and not best.short:
            return _Outcome(
                best.record_id, MatchMethod.TITLE, score, f"title {where} ({score:g})"
            )
        reason = f"first author and year in the file name, title {where} ({score:g})"
        return _Outcome(best.record_id, MatchMethod.AUTHOR_YEAR_TITLE, score, reason)

    def _candidates(
        self, ids: Iterable[int] = (), *identified: int
    ) -> tuple[Candidate, ...]:
        """The best 3: `ids` (those `identified` by an identifier score 100),
        then the best titles."""
        out = {}
        for i in ids:
            score = 100.0 if i in identified else (self.title_score(i) or 0.0)
            out[i] = Candidate(i, round(score, 1))
        for scored in self.scored:
            if scored.record_id not in out and scored.score >= CANDIDATE_MIN_SCORE:
                out[scored.record_id] = Candidate(
                    scored.record_id, round(scored.score, 1)
                )
        ranked = sorted(out.values(), key=lambda c: -c.score)
        return tuple(ranked[:3])


def _where(source: Source) -> str:
    return (
        f"in the {source}"
        if source in (Source.FILE_NAME, Source.METADATA)
        else f"on {source}"
    )


def _score_titles(clues: PdfClues, index: RecordIndex) -> list[_Scored]:
    """The candidate records' title scores, best first."""
    guesses = [
        (_norm_title(clue.value), clue.source) for clue in clues.titles if clue.value
    ]
    guesses = [(g, source) for g, source in guesses if g]
    head = _norm_title(clues.text)
    candidates = _retrieve(guesses, head, clues, index)
    scored = []
    for record_id in candidates:
        title = index.titles.get(record_id, "")
        if not title:
            continue
        specific, source = 0.0, None
        for guess, guess_source in guesses:
            score = _whole_title_score(guess, title, guess_source)
            if score > specific:
                specific, source = score, guess_source
        best = specific
        short = len(title.split()) < MIN_TITLE_WORDS
        if head and not short and len(title) <= len(head):
            on_page = fuzz.partial_ratio(title, head, score_cutoff=CANDIDATE_MIN_SCORE)
            if on_page > best:
                best, source = on_page, Source.PAGE_1
        record = index.records[record_id]
        author_year = bool(
            clues.author
            and clues.year
            and index.authors.get(record_id) == clues.author
            and record.year is not None
            and abs(record.year - clues.year) <= 1  # online first vs print
        )
        scored.append(
            _Scored(record_id, best, specific, source, author_year, short, len(title))
        )
    scored.sort(key=_Scored.rank, reverse=True)
    return scored


def _whole_title_score(guess: str, title: str, source: Source) -> float:
    """A title guess against a record's title, both normalised: their edit
    similarity; a long file-name guess against the same length of the title
    (Zotero cuts titles at 100 characters); a title of 4+ words found inside a
    longer guess (metadata titles carry extras like the journal's name).

    Never a guess inside a longer title: "X" is inside "X: study protocol",
    and a results paper must not match its protocol."""
    score = fuzz.ratio(guess, title)
    if len(guess) < len(title):
        if source == Source.FILE_NAME and len(guess.split()) >= 8:
            score = max(score, fuzz.ratio(guess, title[: len(guess)]))
    elif len(title.split()) >= MIN_TITLE_WORDS:
        score = max(score, fuzz.partial_ratio(title, guess))
    return float(score)


def _retrieve(
    guesses: list[tuple[str, Source]], head: str, clues: PdfClues, index: RecordIndex
) -> list[int]:
    """Records worth scoring: for each title guess, those sharing most of its
    words (Dice on content words); for the page, those whose title words are
    most covered by the page's; and those with the file name's author and year."""
    found: dict[int, None] = {}
    sizes = index.title_sizes
    for guess, _ in guesses:
        words = _content_words(guess)
        hits = _count(words, index)
        top = heapq.nlargest(
            15, hits, key=lambda i: 2 * hits[i] / (sizes[i] + len(words))
        )
        found.update(dict.fromkeys(top))
    if head:
        hits = _count(_content_words(head), index)
        top = heapq.nlargest(20, hits, key=lambda i: (hits[i] / sizes[i], sizes[i]))
        found.update(dict.fromkeys(i for i in top if hits[i] >= min(2, sizes[i])))
    if clues.author and clues.year:
        for year in (clues.year - 1, clues.year, clues.year + 1):
            found.update(
                dict.fromkeys(index.author_year.get((clues.author, year), [])[:100])
            )
    return list(found)


def _count(words: Iterable[str], index: RecordIndex) -> Counter[int]:
    hits: Counter[int] = Counter()
    for word in words:
        postings = index.postings.get(word)
        if postings:
            hits.update(postings)
    return hits


def match_pdfs(
    files: Iterable[tuple[str, bytes]], records: Sequence[RecordKey]
) -> MatchReport:
    """Match each (name, bytes) to at most one record. Files are read one at a
    time (only their clues are kept). A record matched by two files keeps the
    first; the second is a DUPLICATE pointing at it, as is a byte-identical copy
    of an earlier file. Never raises on a bad file."""
    index = RecordIndex(records)
    kept: dict[int, str] = {}  # record id -> name of the file kept
    seen: dict[str, str] = {}  # sha256 -> name of the first file
    results = []
    for position, (name, data) in enumerate(files):
        clues = pdf_identifiers(name, data)
        results.append(_file_match(position, clues, index, kept, seen))
        seen.setdefault(clues.sha256, clues.name)
    return MatchReport(tuple(results))


def _file_match(
    position: int,
    clues: PdfClues,
    index: RecordIndex,
    kept: dict[int, str],
    seen: dict[str, str],
) -> FileMatch:
    def result(
        status: FileStatus, outcome: _Outcome, reason: str = "", duplicate_of: str = ""
    ) -> FileMatch:
        return FileMatch(
            index=position,
            name=clues.name,
            status=status,
            record_id=outcome.record_id,
            method=outcome.method,
            score=outcome.score,
            reason=reason or outcome.reason,
            candidates=outcome.candidates,
            duplicate_of=duplicate_of,
            clues=clues,
        )

    if not clues.is_pdf:
        return result(FileStatus.NOT_PDF, _Outcome(None, None, 0.0, clues.error))
    outcome = _Matcher(clues, index).match()
    if clues.error:
        # Still offer the record the file name points at: the person may know
        # the file opens elsewhere (or have its password).
        candidates = outcome.candidates
        if outcome.record_id is not None:
            candidates = (Candidate(outcome.record_id, outcome.score), *candidates)
        unreadable = _Outcome(None, None, 0.0, clues.error, candidates[:3])
        return result(FileStatus.UNREADABLE, unreadable)
    if outcome.record_id is None:
        first = seen.get(clues.sha256)
        if first is not None:
            reason = f"identical to {first}"
            return result(FileStatus.DUPLICATE, outcome, reason, first)
        return result(FileStatus.UNMATCHED, outcome)
    first = kept.get(outcome.record_id)
    if first is not None:
        reason = f"{outcome.reason}; the same record as {first}"
        return result(FileStatus.DUPLICATE, outcome, reason, first)
    kept[outcome.record_id] = clues.name
    return result(FileStatus.MATCHED, outcome)
