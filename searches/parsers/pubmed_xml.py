"""PubMed XML (efetch `PubmedArticleSet`, and PubMed's "Save as XML").

Streamed: lxml's iterparse reports each `PubmedArticle` / `PubmedBookArticle` when
its end tag is read; the record is built, yielded, and the element is cleared and
detached (with any siblings before it), so memory stays flat however many records
the file holds. External DTDs are never fetched and entities are not expanded.
Control characters XML forbids (raw or as '&#x0B;') are dropped while reading.

Records: title (ArticleTitle, else VernacularTitle; a book's chapter or BookTitle),
structured abstracts as sections plus MEDLINE's flat 'LABEL: text LABEL: text',
inline markup (<i>, <sup>, <sub>) kept as its text, authors in order (collective
names as Author(name); names PubMed marks ValidYN="N" left out), year from PubDate
Year or MedlineDate ('2015 Oct-Dec'), else ArticleDate, else the PubMed date,
MeSH as MEDLINE's MH lines ('Spermatozoa/physiology/*ultrastructure'), DOI from
ELocationID else ArticleIdList (the record's own, never its references'), PMID
as source_id. An <ERROR> response from efetch raises ParseError with its text.

`stream_elements` is the XML streaming helper shared with `endnote_xml`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from lxml import etree  # type: ignore[import-untyped]

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

Element = Any  # lxml.etree._Element (lxml ships no type stubs)

# Bytes read ahead to check the root element before streaming.
_HEAD_BYTES = 16_384

PUBMED_ROOTS = frozenset(
    {
        "PubmedArticleSet",
        "PubmedBookArticleSet",
        "PubmedArticle",
        "PubmedBookArticle",
        "eFetchResult",
        "ERROR",
    }
)
_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle")


# --- Streaming helper (shared with endnote_xml) --------------------------------


# Control characters XML 1.0 forbids, raw or as character references. Exports
# (EndNote's especially) carry them over from pasted PDF text; they are dropped
# rather than failing a whole import. Newlines stay, so line numbers hold.
_CONTROL_BYTES = bytes(sorted(set(range(0x20)) - {0x09, 0x0A, 0x0D}))
_CONTROL_REFS = re.compile(
    rb"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));"
)


class _Replay:
    """A binary stream whose first bytes were already read: serves them again, and
    (unless the text is UTF-16/32) drops control characters XML does not allow."""

    def __init__(self, head: bytes, rest: BinaryIO, *, sanitise: bool):
        self._head = head
        self._rest = rest
        self._sanitise = sanitise
        self._pending = b""  # a character reference cut by a read boundary

    def _read(self, size: int) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data

    def read(self, size: int = -1) -> bytes:
        if size is None:
            size = -1
        if not self._sanitise:
            return self._read(size)
        while True:
            chunk = self._read(size)
            data, self._pending = self._pending + chunk, b""
            if chunk:
                cut = data.rfind(b"&", max(0, len(data) - 12))
                if cut >= 0 and b";" not in data[cut:]:
                    data, self._pending = data[:cut], data[cut:]
            data = data.translate(None, _CONTROL_BYTES)
            if b"&#" in data:
                data = _CONTROL_REFS.sub(b"", data)
            if data or not chunk:
                return data


def _root_tag(head: bytes) -> str | None:
    """The root element's name from the first bytes of a document, if it shows."""
    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False
    )
    try:
        parser.feed(head)
        for _event, element in parser.read_events():
            return str(etree.QName(element).localname)
    except etree.XMLSyntaxError:
        return None  # the main parse reports it, with its line
    return None


def _is_wide(head: bytes) -> bool:
    """UTF-16 or UTF-32 text (by BOM or NUL bytes), which lxml decodes itself."""
    return head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:4].count(0) >= 2


def _check_start(head: bytes, format_label: str) -> None:
    if _is_wide(head):
        return  # byte-level checks do not apply
    head = head.removeprefix(b"\xef\xbb\xbf")
    stripped = head.lstrip()
    if not stripped:
        raise ParseError("The file is empty.")
    if not stripped.startswith(b"<"):
        raise ParseError(
            f"This file is not XML, so it cannot be read as {format_label}. "
            "Check that you chose the right format for it.",
            line=1,
        )


def stream_elements(
    stream: BinaryIO,
    *,
    tags: tuple[str, ...],
    record_tags: tuple[str, ...],
    roots: frozenset[str],
    format_label: str,
    wrong_root_hint: dict[str, str] | None = None,
) -> Iterator[Element]:
    """Yield each element named in `tags` once its end tag has been read, then clear
    it and drop it (and earlier siblings) from the tree. Raises ParseError for an
    empty file, a file that is not XML, XML of another kind (root not in `roots`)
    and XML that is cut off or malformed (with the line, and the number of the
    record being read: 1 + records of `record_tags` yielded so far)."""
    head = stream.read(_HEAD_BYTES)
    _check_start(head, format_label)

    def wrong_root(root: str) -> ParseError:
        hint = (wrong_root_hint or {}).get(root, "")
        return ParseError(
            f"This XML file is not {format_label}: its main element is <{root}>."
            + (f" {hint}" if hint else ""),
            line=1,
        )

    root = _root_tag(head)
    if root is not None and root not in roots:
        raise wrong_root(root)

    context = etree.iterparse(
        _Replay(head, stream, sanitise=not _is_wide(head)),
        events=("end",),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    records = 0
    try:
        for _event, element in context:
            if element.tag in record_tags:
                records += 1
            yield element
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as error:
        line = error.lineno or None
        if records == 0 and root is None and line == 1 and "Start tag" in str(error):
            raise ParseError(
                f"This file is not XML, so it cannot be read as {format_label}.",
                line=1,
            ) from error
        if "encoding" in str(error):
            raise ParseError(
                "The file's characters do not match its declared encoding"
                + (f" at line {line}" if line else "")
                + ". Export it again, as UTF-8 if there is a choice.",
                record=records + 1,
                line=line,
            ) from error
        raise ParseError(
            "The XML is cut off or malformed"
            + (f" at line {line}" if line else "")
            + ". If the file was downloaded, download it again; if it was edited, "
            "check it is still well-formed XML.",
            record=records + 1,
            line=line,
        ) from error
    if root is None and context.root is not None:
        found = str(etree.QName(context.root).localname)
        if found not in roots:
            raise wrong_root(found)


def text_of(element: Element | None) -> str:
    """All the text inside an element (inline markup such as <i> kept as text),
    white space collapsed."""
    if element is None:
        return ""
    if len(element) == 0:  # no child elements: the common case, kept fast
        text = element.text
        return " ".join(text.split()) if text else ""
    return clean_text("".join(element.itertext()))


# --- PubMed records ------------------------------------------------------------


def _texts(parent: Element | None, path: str) -> list[str]:
    if parent is None:
        return []
    return [t for t in (text_of(e) for e in parent.iterfind(path)) if t]


def _first(parent: Element | None, *paths: str) -> str:
    if parent is None:
        return ""
    for path in paths:
        value = text_of(parent.find(path))
        if value:
            return value
    return ""


def _authors(author_list: Element | None) -> list[Author]:
    authors: list[Author] = []
    if author_list is None:
        return authors
    for author in author_list.iterfind("Author"):
        if author.get("ValidYN") == "N":
            continue  # a name PubMed flags as wrong (kept only for the record)
        collective = text_of(author.find("CollectiveName"))
        family = text_of(author.find("LastName"))
        if family:
            given = text_of(author.find("ForeName")) or text_of(author.find("Initials"))
            authors.append(Author(family, given))
        elif collective:
            authors.append(Author(collective))
    return authors


def _author_list(parent: Element | None) -> Element | None:
    """The AuthorList of authors (book records also carry one of editors)."""
    if parent is None:
        return None
    for author_list in parent.iterfind("AuthorList"):
        if author_list.get("Type", "authors") == "authors":
            return author_list
    return None


def _abstract(abstract: Element | None) -> tuple[str, list[tuple[str, str]]]:
    """(text, sections). Structured abstracts keep their sections and give the text
    MEDLINE's way: 'BACKGROUND: ... METHODS: ...'."""
    if abstract is None:
        return "", []
    parts: list[tuple[str, str]] = []
    for part in abstract.iterfind("AbstractText"):
        label = clean_text(part.get("Label") or part.get("NlmCategory") or "")
        text = text_of(part)
        if text or label:
            parts.append((label, text))
    if not any(label for label, _ in parts):
        return " ".join(text for _, text in parts), []
    joined = " ".join(f"{label}: {text}" if label else text for label, text in parts)
    return joined, parts


def _abstract_of(parent: Element) -> tuple[str, list[tuple[str, str]]]:
    text, sections = _abstract(parent.find("Abstract"))
    if not text:  # some records carry only a publisher's (English) OtherAbstract
        for other in parent.iterfind("OtherAbstract"):
            if other.get("Language", "eng") == "eng":
                text, sections = _abstract(other)
                if text:
                    break
    return text, sections


def _marked(element: Element) -> str:
    """A MeSH name, '*'-prefixed when it is a major topic (MajorTopicYN="Y")."""
    name = text_of(element)
    return f"*{name}" if name and element.get("MajorTopicYN") == "Y" else name


def _mesh_terms(citation: Element) -> list[str]:
    """One term per heading exactly as MEDLINE's MH line writes it (so the .nbib
    and XML of one article agree): 'Descriptor/Qualifier/Qualifier', with '*'
    before major topics: 'Spermatozoa/physiology/*ultrastructure', '*Sea Bream'."""
    terms = []
    for heading in citation.iterfind("MeshHeadingList/MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is None or not text_of(descriptor):
            continue
        qualifiers = [_marked(q) for q in heading.iterfind("QualifierName")]
        terms.append("/".join([_marked(descriptor), *filter(None, qualifiers)]))
    return terms


def _article_ids(*lists: Element | None) -> dict[str, str]:
    """IdType -> first value, from the record's own ArticleIdLists (never those of
    the references it cites)."""
    ids: dict[str, str] = {}
    for id_list in lists:
        if id_list is None:
            continue
        for article_id in id_list.iterfind("ArticleId"):
            id_type = (article_id.get("IdType") or "").lower()
            value = text_of(article_id)
            if value and id_type not in ids:
                ids[id_type] = value
    return ids


def _year(*dates: Element | None) -> int | None:
    for date in dates:
        if date is None:
            continue
        year = parse_year(
            text_of(date.find("Year")) or text_of(date.find("MedlineDate"))
        )
        if year is not None:
            return year
    return None


def _pages(pagination: Element | None) -> str:
    if pagination is None:
        return ""
    pages = text_of(pagination.find("MedlinePgn"))
    if pages:
        return pages
    start, end = (
        text_of(pagination.find("StartPage")),
        text_of(pagination.find("EndPage")),
    )
    return f"{start}-{end}" if start and end else start


def serialise(element: Element) -> str:
    return str(etree.tostring(element, encoding="unicode", with_tail=False))


def _journal_article(element: Element) -> ParsedRecord:
    citation = element.find("MedlineCitation")
    if citation is None:
        citation = etree.Element("MedlineCitation")
    article = citation.find("Article")
    if article is None:
        article = etree.Element("Article")
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    ids = _article_ids(element.find("PubmedData/ArticleIdList"))
    history = element.find("PubmedData/History")
    pubmed_date = None
    if history is not None:
        pubmed_date = history.find("PubMedPubDate[@PubStatus='pubmed']")

    doi = ""
    for location in article.iterfind("ELocationID"):
        if location.get("EIdType") == "doi" and location.get("ValidYN") != "N":
            doi = normalise_doi(text_of(location))
            if doi:
                break
    abstract, sections = _abstract_of(article)
    pmid = normalise_pmid(text_of(citation.find("PMID")) or ids.get("pubmed", ""))
    return ParsedRecord(
        title=_first(article, "ArticleTitle", "VernacularTitle"),
        abstract=abstract,
        abstract_sections=sections,
        authors=_authors(_author_list(article)),
        year=_year(
            issue.find("PubDate") if issue is not None else None,
            article.find("ArticleDate"),
            pubmed_date,
        ),
        journal=_first(journal, "Title", "ISOAbbreviation")
        or _first(citation, "MedlineJournalInfo/MedlineTA"),
        volume=_first(issue, "Volume"),
        issue=_first(issue, "Issue"),
        pages=_pages(article.find("Pagination")),
        doi=doi or normalise_doi(ids.get("doi", "")),
        pmid=pmid,
        pmcid=normalise_pmcid(ids.get("pmc", "")),
        issn=_first(journal, "ISSN")
        or _first(citation, "MedlineJournalInfo/ISSNLinking"),
        keywords=_texts(citation, "KeywordList/Keyword"),
        mesh_terms=_mesh_terms(citation),
        publication_types=_texts(article, "PublicationTypeList/PublicationType"),
        language=_first(article, "Language"),
        source_id=pmid,
        raw=serialise(element),
    )


def _book_article(element: Element) -> ParsedRecord:
    document = element.find("BookDocument")
    if document is None:
        document = etree.Element("BookDocument")
    book = document.find("Book")
    ids = _article_ids(
        document.find("ArticleIdList"), element.find("PubmedBookData/ArticleIdList")
    )
    book_title = _first(book, "BookTitle")
    chapter = _first(document, "ArticleTitle", "VernacularTitle")
    abstract, sections = _abstract_of(document)
    pmid = normalise_pmid(text_of(document.find("PMID")) or ids.get("pubmed", ""))
    return ParsedRecord(
        title=chapter or book_title,
        abstract=abstract,
        abstract_sections=sections,
        authors=_authors(_author_list(document)) or _authors(_author_list(book)),
        year=_year(
            book.find("PubDate") if book is not None else None,
            document.find("ContributionDate"),
            document.find("DateRevised"),
        ),
        journal=book_title if chapter else "",
        volume=_first(book, "Volume"),
        pages=_pages(document.find("Pagination")),
        doi=normalise_doi(ids.get("doi", "")),
        pmid=pmid,
        pmcid=normalise_pmcid(ids.get("pmc", "")),
        issn=_first(book, "Isbn"),  # a book's standard number
        keywords=_texts(document, "KeywordList/Keyword"),
        publication_types=_texts(document, "PublicationType"),
        language=_first(document, "Language"),
        source_id=pmid,
        raw=serialise(element),
    )


def parse(stream: BinaryIO) -> Iterator[ParsedRecord]:
    """Records of a PubMed XML file (or efetch response), one at a time."""
    record = 0
    for element in stream_elements(
        stream,
        tags=(*_RECORD_TAGS, "ERROR", "DeleteCitation"),
        record_tags=_RECORD_TAGS,
        roots=PUBMED_ROOTS,
        format_label="PubMed XML",
        wrong_root_hint={
            "xml": "It looks like an EndNote XML export: choose the EndNote XML format."
        },
    ):
        tag = element.tag
        if tag == "PubmedArticle":
            record += 1
            yield _journal_article(element)
        elif tag == "PubmedBookArticle":
            record += 1
            yield _book_article(element)
        elif tag == "ERROR":
            message = text_of(element) or "no details given"
            raise ParseError(
                f"PubMed sent an error message instead of records: {message}",
                record=record + 1,
                line=element.sourceline,
            )
        # DeleteCitation (PMIDs withdrawn in an update file) carries no record.


def parse_bytes(data: bytes) -> Iterator[ParsedRecord]:
    """Records of an efetch response already in memory (one batch)."""
    return parse(io.BytesIO(data))
