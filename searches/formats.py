"""Which parser reads a file: decided from its content, with its name as a hint."""

from __future__ import annotations

import re
from pathlib import PurePath

from searches.parsers.base import detect_encoding

# Extensions that are never bibliographic exports, with what the file probably is.
NOT_EXPORTS = {
    ".pdf": "a PDF document",
    ".doc": "a Word document",
    ".docx": "a Word document",
    ".zip": "a ZIP archive",
    ".gz": "a compressed archive",
    ".png": "an image",
    ".jpg": "an image",
    ".jpeg": "an image",
    ".xls": "an old-style Excel workbook (.xls)",
    ".enl": "an EndNote library (.enl)",
}
EXPORT_HINT = (
    "Export the results as RIS, MEDLINE, XML, BibTeX or CSV and upload that file."
)


class UnsupportedFile(Exception):
    """The file is not a bibliographic export we can read; the message says why."""


def detect_format(name: str, head: bytes) -> str:
    """The FORMATS key for a file, from its first bytes (content wins over the name)."""
    suffix = PurePath(name).suffix.lower()
    if not head.strip():
        raise UnsupportedFile(f"{name} is empty.")
    if head.startswith(b"PK\x03\x04"):
        if suffix in (".xlsx", ".xlsm"):
            return "excel"
        raise UnsupportedFile(
            f"{name} is a ZIP archive or Office file, not an export. {EXPORT_HINT}"
        )
    if head.startswith(b"%PDF"):
        raise UnsupportedFile(f"{name} is a PDF document, not an export. {EXPORT_HINT}")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFile(
            f"{name} is an old Office file (.xls/.doc). Save it as .xlsx or CSV, "
            "or export RIS from the database."
        )
    encoding = detect_encoding(head)
    if not encoding.startswith("utf-16") and b"\x00" in head[:8192]:
        kind = NOT_EXPORTS.get(suffix, "a binary file")
        raise UnsupportedFile(f"{name} is {kind}, not a text export. {EXPORT_HINT}")
    text = head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    if suffix in NOT_EXPORTS and not text[:1].isprintable():
        raise UnsupportedFile(f"{name} looks like {NOT_EXPORTS[suffix]}. {EXPORT_HINT}")
    return _format_of_text(name, text)


def _format_of_text(name: str, text: str) -> str:
    sample = text[:200_000]
    if sample.startswith("<"):
        if re.search(
            r"<(PubmedArticleSet|PubmedArticle|PubmedBookArticle|eFetchResult)\b",
            sample,
        ):
            return "pubmed_xml"
        if re.search(r"<records?\b", sample) and "<xml" in sample[:500]:
            return "endnote_xml"
        if re.search(r"<record\b", sample):
            return "endnote_xml"
        raise UnsupportedFile(
            f"{name} is XML, but neither PubMed XML nor EndNote XML. {EXPORT_HINT}"
        )
    if re.search(r"^TY {1,2}- ", sample, flags=re.MULTILINE):
        return "ris"
    if re.match(r"(FN |VR |PT [A-Z]\s*$)", sample, flags=re.MULTILINE) and re.search(
        r"^ER\s*$", sample, flags=re.MULTILINE
    ):
        return "wos_tagged"
    if re.search(r"^PMID- ", sample, flags=re.MULTILINE):
        return "medline"
    if re.search(r"^\s*@[A-Za-z]+\s*[{(]", sample, flags=re.MULTILINE):
        return "bibtex"
    first_line = sample.split("\n", 1)[0]
    if any(delimiter in first_line for delimiter in (",", "\t", ";")):
        return "csv"
    raise UnsupportedFile(
        f"{name} is not in a format we recognise (RIS, MEDLINE/.nbib, PubMed XML, "
        f"EndNote XML, BibTeX, Web of Science, CSV/TSV or Excel)."
    )
