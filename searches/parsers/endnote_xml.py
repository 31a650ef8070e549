"""EndNote XML (EndNote's "XML" export, and the EndNote-style XML Mendeley writes).

Streamed like PubMed XML (see `pubmed_xml.stream_elements`): each <record> is read,
turned into a ParsedRecord and dropped. EndNote wraps every value in <style> runs
(a title in italics and roman is several runs); the text of all runs is joined, so
files with and without <style> read alike. Values holding several items separate
them with carriage returns ('&#xD;'), which split them here (ISSNs, keywords).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from searches.parsers.base import (
    Author,
    ParsedRecord,
    clean_text,
    normalise_doi,
    normalise_pmcid,
    parse_year,
    split_author,
)
from searches.parsers.pubmed_xml import (
    PUBMED_ROOTS,
    Element,
    serialise,
    stream_elements,
)

_CUSTOM_FIELDS = [f"custom{n}" for n in range(1, 8)]
_PMID_LABELLED = re.compile(r"\bPMID\s*[:=]?\s*(\d{1,9})\b", re.IGNORECASE)
_PMID_ONLY = re.compile(r"\d{1,8}")
_ISSN = re.compile(r"\b\d{4}-?\d{3}[\dXx]\b")
# Accession numbers that are not PubMed ids even when they are all digits.
_OTHER_DATABASES = re.compile(
    r"\b(embase|cinahl|ebsco\w*|psyc\w*|scopus|web of science|wos|isi|clarivate)\b",
    re.IGNORECASE,
)


def _raw_text(element: Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext())


def _text(record: Element, path: str) -> str:
    return clean_text(_raw_text(record.find(path)))


def _first(record: Element, *paths: str) -> str:
    for path in paths:
        value = _text(record, path)
        if value:
            return value
    return ""


def _items(value: str) -> list[str]:
    """One value per line: EndNote separates items of one field with CR."""
    return [clean_text(line) for line in re.split(r"[\r\n]+", value) if line.strip()]


def _author(name: str) -> Author:
    name = clean_text(name)
    if name.endswith(",") and "," not in name[:-1]:
        return Author(name[:-1].strip())  # EndNote's mark for a corporate author
    return split_author(name)


def _issn(value: str) -> str:
    """'2277-9175 (Print)\\r2277-9175' -> '2277-9175'. ISBNs are kept as they are."""
    for item in _items(value):
        match = _ISSN.search(item)
        if match and len(re.sub(r"\D", "", item.split("(")[0])) <= 8:
            issn = match.group(0).upper()
            return issn if "-" in issn else f"{issn[:4]}-{issn[4:]}"
    items = _items(value)
    return items[0] if items else ""


def _pmid(record: Element, accession: str) -> str:
    for field in [*_CUSTOM_FIELDS, "notes"]:
        match = _PMID_LABELLED.search(_raw_text(record.find(field)))
        if match:
            return match.group(1)
    provider = " ".join(
        _text(record, path)
        for path in ("remote-database-provider", "remote-database-name", "database")
    )
    if _PMID_ONLY.fullmatch(accession) and not _OTHER_DATABASES.search(provider):
        return accession
    return ""


def _pmcid(record: Element) -> str:
    for field in _CUSTOM_FIELDS:
        pmcid = normalise_pmcid(_raw_text(record.find(field)))
        if pmcid:
            return pmcid
    return ""


def _url(record: Element) -> str:
    for path in ("urls/related-urls/url", "urls/web-urls/url", "urls/url"):
        for url in record.iterfind(path):
            for item in _items(_raw_text(url)):
                if not item.startswith("internal-pdf:"):
                    return item
    return ""


def _record(record: Element) -> ParsedRecord:
    accession = _text(record, "accession-num")
    doi = normalise_doi(_text(record, "electronic-resource-num"))
    url = _url(record)
    if not doi and "doi.org/" in url:
        doi = normalise_doi(url)
    keywords: list[str] = []
    for keyword in record.iterfind("keywords/keyword"):
        keywords.extend(k for k in _items(_raw_text(keyword)) if k not in keywords)
    ref_type = record.find("ref-type")
    publication_type = (
        clean_text(ref_type.get("name", "")) if ref_type is not None else ""
    )
    return ParsedRecord(
        title=_first(record, "titles/title", "titles/translated-title"),
        abstract=_text(record, "abstract"),
        authors=[
            author
            for author in (
                _author(_raw_text(a))
                for a in record.iterfind("contributors/authors/author")
            )
            if author.family
        ],
        year=parse_year(_text(record, "dates/year"))
        or parse_year(_text(record, "dates/pub-dates/date")),
        journal=_first(
            record,
            "periodical/full-title",
            "titles/secondary-title",
            "periodical/abbr-1",
            "titles/alt-title",
        ),
        volume=_text(record, "volume"),
        issue=_first(record, "number", "issue"),
        pages=_text(record, "pages"),
        doi=doi,
        pmid=_pmid(record, accession),
        pmcid=_pmcid(record),
        issn=_issn(_raw_text(record.find("isbn"))),
        keywords=keywords,
        publication_types=[publication_type] if publication_type else [],
        language=_text(record, "language"),
        url=url,
        source_id=accession,
        raw=serialise(record),
    )


_PUBMED_HINT = "It looks like a PubMed XML file: choose the PubMed XML format."


def parse(stream: BinaryIO) -> Iterator[ParsedRecord]:
    """Records of an EndNote XML file, one at a time."""
    for element in stream_elements(
        stream,
        tags=("record",),
        record_tags=("record",),
        roots=frozenset({"xml", "records"}),
        format_label="EndNote XML",
        wrong_root_hint=dict.fromkeys(PUBMED_ROOTS, _PUBMED_HINT),
    ):
        yield _record(element)
