"""Bibliographic file parsers, one module per format family. Pure Python (no Django).

Each module exposes `parse(stream) -> Iterator[ParsedRecord]` (see base.py for the
contract). FORMATS maps a format key (stored on a Search) to its module and the
kind of stream it takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from searches.parsers.base import Author, ParsedRecord, ParseError


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    module: str  # searches.parsers.<module>
    binary: bool  # parse() takes a binary stream (XML, Excel) instead of text


FORMATS: dict[str, Format] = {
    f.key: f
    for f in [
        Format("ris", "RIS", "ris", binary=False),
        Format("medline", "MEDLINE / PubMed .nbib", "medline", binary=False),
        Format("pubmed_xml", "PubMed XML", "pubmed_xml", binary=True),
        Format("endnote_xml", "EndNote XML", "endnote_xml", binary=True),
        Format("bibtex", "BibTeX", "bibtex", binary=False),
        Format("wos_tagged", "Web of Science plain text", "wos_tagged", binary=False),
        Format(
            "csv",
            "CSV / TSV (incl. Scopus, WoS tab-delimited)",
            "tabular",
            binary=False,
        ),
        Format("excel", "Excel", "tabular_excel", binary=True),
    ]
}

__all__ = ["FORMATS", "Author", "Format", "ParseError", "ParsedRecord"]
