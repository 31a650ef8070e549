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

import functools
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


def _drop_control_refs(data: bytes) -> bytes:
    """`data` without character references to control characters. Most text has
    none, and only a few '&#'s, so each '#' is checked before anything is copied."""
    at = data.find(b"#")
    while at >= 0:
        if at and data[at - 1] == 0x26 and _CONTROL_REFS.match(data, at - 1):
            return _CONTROL_REFS.sub(b"", data)
        at = data.find(b"#", at + 1)
    return data


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
            if b"#" in data:  # a one-byte search: far faster than one for "&#"
                data = _drop_control_refs(data)
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


_ASCII_CONTROL = bytes(range(0x20))


def collapse(text: str) -> str:
    """`" ".join(text.split())`: white space collapsed. Long text (an abstract) is
    usually collapsed already, which is quicker to check than to redo."""
    if (
        len(text) > 64
        and text[0] != " "
        and text[-1] != " "
        and "  " not in text
        and (
            # White space other than ' ' is, in ASCII, all below 0x20 and, in the
            # rest of Unicode, never printable (a test checks this holds).
            len(text.encode().translate(None, _ASCII_CONTROL)) == len(text)
            if text.isascii()
            else text.isprintable()
        )
    ):
        return text
    return " ".join(text.split())


def text_of(element: Element | None) -> str:
    """All the text inside an element (inline markup such as <i> kept as text),
    white space collapsed."""
    if element is None:
        return ""
    if len(element) == 0:  # no child elements: the common case, kept fast
        text = element.text
        if not text:
            return ""
        return " ".join(text.split()) if len(text) <= 64 else collapse(text)
    if next(element.iter(etree.Entity), None) is None:
        # The text itertext() gives (comments and processing instructions are
        # dropped while parsing), joined by libxml2 rather than in Python. It
        # would give an entity reference's replacement text, not '&name;'.
        return collapse(
            etree.tostring(element, method="text", encoding="unicode", with_tail=False)
        )
    return collapse("".join(element.itertext()))


# --- PubMed records ------------------------------------------------------------
#
# Records are read by walking child elements directly: `find("A/B")` and
# `iterfind` go through lxml's ElementPath (Python) on every call, several times
# the cost of reaching the element itself. The helpers below give the elements
# those calls gave (a plain tag matches un-namespaced elements only; "first" is
# first in document order).


def _kids(parent: Element | None) -> dict[Any, list[Element]]:
    """A parent's child elements by tag, each list in document order."""
    kids: dict[Any, list[Element]] = {}
    if parent is None:
        return kids
    for child in parent:
        tag = child.tag
        found = kids.get(tag)
        if found is None:
            kids[tag] = [child]
        else:
            found.append(child)
    return kids


def _one(kids: dict[Any, list[Element]], tag: str) -> Element | None:
    """The first child of this tag (`parent.find(tag)`)."""
    found = kids.get(tag)
    return found[0] if found else None


def _child(parent: Element | None, tag: str) -> Element | None:
    """`parent.find(tag)`, for a parent with few children."""
    if parent is not None:
        for child in parent:
            if child.tag == tag:
                return child
    return None


def _in(parents: list[Element], tag: str) -> Element | None:
    """The first `tag` child of any of `parents` (`find("Parent/tag")`)."""
    for parent in parents:
        for child in parent:
            if child.tag == tag:
                return child
    return None


def _first(kids: dict[Any, list[Element]], *tags: str) -> str:
    """The text of the first child of the first tag that has text."""
    for tag in tags:
        found = kids.get(tag)
        if found:
            value = text_of(found[0])
            if value:
                return value
    return ""


def _texts(parents: list[Element], tag: str) -> list[str]:
    """The non-empty texts of every `tag` child of `parents`
    (`iterfind("Parent/tag")`)."""
    texts = []
    for parent in parents:
        for child in parent:
            if child.tag == tag:
                text = text_of(child)
                if text:
                    texts.append(text)
    return texts


def _authors(author_list: Element | None) -> list[Author]:
    authors: list[Author] = []
    if author_list is None:
        return authors
    for author in author_list:
        if author.tag != "Author" or author.get("ValidYN") == "N":
            continue  # a name PubMed flags as wrong (kept only for the record)
        if len(author) > 1:
            # Nearly always <LastName> then <ForeName>, both plain text.
            last, fore = author[0], author[1]
            if (
                last.tag == "LastName"
                and fore.tag == "ForeName"
                and len(last) == 0
                and len(fore) == 0
            ):
                family, given = last.text, fore.text
                if family and given:
                    family = " ".join(family.split())
                    given = " ".join(given.split())
                    if family and given:
                        authors.append(Author(family, given))
                        continue
        kids = _kids(author)
        family = text_of(_one(kids, "LastName"))
        if family:
            given = text_of(_one(kids, "ForeName")) or text_of(_one(kids, "Initials"))
            authors.append(Author(family, given))
        else:
            collective = text_of(_one(kids, "CollectiveName"))
            if collective:
                authors.append(Author(collective))
    return authors


def _author_list(lists: list[Element]) -> Element | None:
    """The AuthorList of authors (book records also carry one of editors)."""
    for author_list in lists:
        if author_list.get("Type", "authors") == "authors":
            return author_list
    return None


def _abstract(abstract: Element | None) -> tuple[str, list[tuple[str, str]]]:
    """(text, sections). Structured abstracts keep their sections and give the text
    MEDLINE's way: 'BACKGROUND: ... METHODS: ...'."""
    if abstract is None:
        return "", []
    parts: list[tuple[str, str]] = []
    for part in abstract:
        if part.tag != "AbstractText":
            continue
        label = clean_text(part.get("Label") or part.get("NlmCategory") or "")
        text = text_of(part)
        if text or label:
            parts.append((label, text))
    if not any(label for label, _ in parts):
        return " ".join(text for _, text in parts), []
    joined = " ".join(f"{label}: {text}" if label else text for label, text in parts)
    return joined, parts


def _abstract_of(kids: dict[Any, list[Element]]) -> tuple[str, list[tuple[str, str]]]:
    text, sections = _abstract(_one(kids, "Abstract"))
    if not text:  # some records carry only a publisher's (English) OtherAbstract
        for other in kids.get("OtherAbstract", ()):
            if other.get("Language", "eng") == "eng":
                text, sections = _abstract(other)
                if text:
                    break
    return text, sections


def _marked(element: Element) -> str:
    """A MeSH name, '*'-prefixed when it is a major topic (MajorTopicYN="Y")."""
    name = text_of(element)
    return f"*{name}" if name and element.get("MajorTopicYN") == "Y" else name


def _mesh_terms(mesh_lists: list[Element]) -> list[str]:
    """One term per heading exactly as MEDLINE's MH line writes it (so the .nbib
    and XML of one article agree): 'Descriptor/Qualifier/Qualifier', with '*'
    before major topics: 'Spermatozoa/physiology/*ultrastructure', '*Sea Bream'."""
    terms = []
    for mesh_list in mesh_lists:
        for heading in mesh_list:
            if heading.tag != "MeshHeading":
                continue
            count = len(heading)
            if count == 1:  # the usual heading: a descriptor alone, as plain text
                descriptor = heading[0]
                if descriptor.tag == "DescriptorName" and not len(descriptor):
                    name = descriptor.text
                    if name:
                        name = " ".join(name.split())
                        if name:
                            if descriptor.get("MajorTopicYN") == "Y":
                                name = f"*{name}"
                            terms.append(name)
                    continue
            elif count == 0:
                continue
            kids = _kids(heading)
            descriptor = _one(kids, "DescriptorName")
            if descriptor is None:
                continue
            name = _marked(descriptor)
            if name:
                qualifiers = map(_marked, kids.get("QualifierName", []))
                terms.append("/".join([name, *filter(None, qualifiers)]))
    return terms


def _article_ids(*lists: Element | None) -> dict[str, str]:
    """IdType -> first value, from the record's own ArticleIdLists (never those of
    the references it cites)."""
    ids: dict[str, str] = {}
    for id_list in lists:
        if id_list is None:
            continue
        for article_id in id_list:
            if article_id.tag != "ArticleId":
                continue
            id_type = (article_id.get("IdType") or "").lower()
            value = text_of(article_id)
            if value and id_type not in ids:
                ids[id_type] = value
    return ids


# Dates repeat from record to record ('2017', '2015 Oct-Dec').
_parse_year = functools.lru_cache(maxsize=4096)(parse_year)


def _year(date: Element | None) -> int | None:
    if date is None:
        return None
    return _parse_year(
        text_of(_child(date, "Year")) or text_of(_child(date, "MedlineDate"))
    )


def _pubmed_date(history: Element | None) -> Element | None:
    """`History/PubMedPubDate[@PubStatus='pubmed']`."""
    if history is not None:
        for date in history:
            if date.tag == "PubMedPubDate" and date.get("PubStatus") == "pubmed":
                return date
    return None


def _pages(pagination: Element | None) -> str:
    if pagination is None:
        return ""
    pages = text_of(_child(pagination, "MedlinePgn"))
    if pages:
        return pages
    start = text_of(_child(pagination, "StartPage"))
    end = text_of(_child(pagination, "EndPage"))
    return f"{start}-{end}" if start and end else start


def _pmid(value: str) -> str:
    # A plain PMID is its own normal form; anything else goes the long way.
    if value.isdigit() and value.isascii() and len(value) <= 9:
        return value
    return normalise_pmid(value)


def serialise(element: Element) -> str:
    return str(etree.tostring(element, encoding="unicode", with_tail=False))


def _journal_article(element: Element) -> ParsedRecord:
    kids = _kids(element)
    citation = _kids(_one(kids, "MedlineCitation"))
    article = _kids(_one(citation, "Article"))
    journal = _kids(_one(article, "Journal"))
    issue = _kids(_one(journal, "JournalIssue"))
    pubmed_data = kids.get("PubmedData", [])
    ids = _article_ids(_in(pubmed_data, "ArticleIdList"))

    doi = ""
    for location in article.get("ELocationID", ()):
        if location.get("EIdType") == "doi" and location.get("ValidYN") != "N":
            doi = normalise_doi(text_of(location))
            if doi:
                break
    if not doi and "doi" in ids:
        doi = normalise_doi(ids["doi"])
    year = _year(_one(issue, "PubDate"))
    if year is None:
        year = _year(_one(article, "ArticleDate"))
    if year is None:
        year = _year(_pubmed_date(_in(pubmed_data, "History")))
    abstract, sections = _abstract_of(article)
    pmid = _pmid(text_of(_one(citation, "PMID")) or ids.get("pubmed", ""))
    journal_info = citation.get("MedlineJournalInfo", [])
    return ParsedRecord(
        title=_first(article, "ArticleTitle", "VernacularTitle"),
        abstract=abstract,
        abstract_sections=sections,
        authors=_authors(_author_list(article.get("AuthorList", []))),
        year=year,
        journal=_first(journal, "Title", "ISOAbbreviation")
        or text_of(_in(journal_info, "MedlineTA")),
        volume=_first(issue, "Volume"),
        issue=_first(issue, "Issue"),
        pages=_pages(_one(article, "Pagination")),
        doi=doi,
        pmid=pmid,
        pmcid=normalise_pmcid(ids["pmc"]) if "pmc" in ids else "",
        issn=_first(journal, "ISSN") or text_of(_in(journal_info, "ISSNLinking")),
        keywords=_texts(citation.get("KeywordList", []), "Keyword"),
        mesh_terms=_mesh_terms(citation.get("MeshHeadingList", [])),
        publication_types=_texts(
            article.get("PublicationTypeList", []), "PublicationType"
        ),
        language=_first(article, "Language"),
        source_id=pmid,
        raw=serialise(element),
    )


def _book_article(element: Element) -> ParsedRecord:
    kids = _kids(element)
    document = _kids(_one(kids, "BookDocument"))
    book = _kids(_one(document, "Book"))
    ids = _article_ids(
        _one(document, "ArticleIdList"),
        _in(kids.get("PubmedBookData", []), "ArticleIdList"),
    )
    book_title = _first(book, "BookTitle")
    chapter = _first(document, "ArticleTitle", "VernacularTitle")
    abstract, sections = _abstract_of(document)
    pmid = _pmid(text_of(_one(document, "PMID")) or ids.get("pubmed", ""))
    year = _year(_one(book, "PubDate"))
    if year is None:
        year = _year(_one(document, "ContributionDate"))
    if year is None:
        year = _year(_one(document, "DateRevised"))
    return ParsedRecord(
        title=chapter or book_title,
        abstract=abstract,
        abstract_sections=sections,
        authors=_authors(_author_list(document.get("AuthorList", [])))
        or _authors(_author_list(book.get("AuthorList", []))),
        year=year,
        journal=book_title if chapter else "",
        volume=_first(book, "Volume"),
        pages=_pages(_one(document, "Pagination")),
        doi=normalise_doi(ids["doi"]) if "doi" in ids else "",
        pmid=pmid,
        pmcid=normalise_pmcid(ids["pmc"]) if "pmc" in ids else "",
        issn=_first(book, "Isbn"),  # a book's standard number
        keywords=_texts(document.get("KeywordList", []), "Keyword"),
        publication_types=[
            text for text in map(text_of, document.get("PublicationType", [])) if text
        ],
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
