"""Matching a ZIP of full-text PDFs to records, on PDFs made with fpdf2 the way
publishers lay them out: journal line, title in large type, authors, a DOI
line; metadata on some, not others. No database."""

from __future__ import annotations

import ast
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from screening import fulltext_matching
from screening.fulltext_matching import (
    Candidate,
    FileStatus,
    MatchMethod,
    MatchReport,
    RecordKey,
    Source,
    match_pdfs,
    pdf_identifiers,
    zip_pdf_entries,
)

LOREM = (
    "Chronic pain is common and costly. We randomised participants to the "
    "intervention or usual care and measured pain intensity at twelve weeks. "
) * 4


def article(
    title: str = "",
    *,
    authors: str = "A. Author, B. Author",
    journal: str = "Journal of Pain Research 12 (2019) 101-110",
    doi_line: str = "",
    meta_title: str = "",
    meta_subject: str = "",
    xmp: str = "",
    cover: str = "",
    pages: Sequence[str] = (),
    password: str = "",
) -> bytes:
    """A PDF like a journal article: an optional cover sheet, then the first
    page (journal line, title, authors, DOI line, body), then `pages`."""
    pdf = FPDF()
    if meta_title:
        pdf.set_title(meta_title)
    if meta_subject:
        pdf.set_subject(meta_subject)
    if xmp:
        pdf.set_xmp_metadata(xmp)
    if cover:
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(w=0, text=cover)
    pdf.add_page()
    pdf.set_font("Helvetica", size=8)
    pdf.cell(text=journal, new_x="LMARGIN", new_y="NEXT")
    if title:
        pdf.set_font("Helvetica", "B", size=17)
        pdf.multi_cell(w=0, text=title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(w=0, text=authors, new_x="LMARGIN", new_y="NEXT")
    if doi_line:
        pdf.multi_cell(w=0, text=doi_line, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(w=0, text=LOREM)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(w=0, text=text)
    if password:
        pdf.set_encryption(
            owner_password="owner",
            user_password=password,
            encryption_method=EncryptionMethod.RC4,
        )
    return bytes(pdf.output())


TITLE_1 = (
    "Exercise reduces pain in older adults with chronic low back pain: "
    "a randomised controlled trial"
)
TITLE_6 = "Mindfulness-based stress reduction for chronic pelvic pain in women"
TITLE_14 = "Pain neuroscience education before lumbar spine surgery: a pilot trial"
RECORDS = [
    RecordKey(1, "10.1016/j.pain.2019.01.002", "31000001", TITLE_1, "Smith", 2019),
    RecordKey(
        2,
        "",
        "31234567",
        "Acupuncture versus sham acupuncture for chronic neck pain: a trial",
        "Jones",
        2018,
    ),
    RecordKey(
        3,
        "",
        "29876543",
        "Yoga for chronic low back pain in veterans: a pragmatic trial",
        "Lee",
        2020,
    ),
    RecordKey(
        4,
        "https://doi.org/10.1038/S41598-019-12345-6",
        "",
        "Online cognitive behavioural therapy for fibromyalgia",
        "Garcia",
        2019,
    ),
    RecordKey(
        5,
        "10.1186/s12891-020-03456-7",
        "",
        "Manual therapy and exercise for knee osteoarthritis: a cohort study",
        "Brown",
        2020,
    ),
    RecordKey(6, "", "", TITLE_6, "Nguyen", 2021),
    RecordKey(7, "", "", "Back pain", "Müller", 2017),
    RecordKey(
        8, "", "", "Tai chi for fibromyalgia: a trial of two doses", "Wang", 2018
    ),
    RecordKey(9, "10.1002/never.uploaded", "", "A record without a file", "Ito", 2019),
    RecordKey(12, "", "", "Spinal manipulation for acute low back pain", "Diaz", 2016),
    RecordKey(13, "", "", "Spinal manipulation for acute low back pain", "Diaz", 2016),
    RecordKey(14, "10.1097/j.pain.0000000000001234", "", TITLE_14, "Patel", 2022),
    RecordKey(
        15,
        "10.1097/j.pain.0000000000009999",
        "",
        "A trial cited only at the end of a long PDF",
        "Kim",
        2015,
    ),
]


def build_zip(entries: Sequence[tuple[str, bytes]]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


@pytest.fixture(scope="module")
def upload() -> list[tuple[str, bytes]]:
    download = article(TITLE_6, authors="T. Nguyen, R. Okafor", journal="BJOG 2021")
    return [
        (
            "Smith 2019 - Exercise reduces pain.pdf",
            article(
                TITLE_1,
                authors="J. Smith, K. Doe",
                meta_title=TITLE_1,
                meta_subject="Pain 160 (2019) 123-130. doi:10.1016/j.pain.2019.01.002",
            ),
        ),
        (
            "10.1016_j.pain.2019.01.002.pdf",  # the same article, another copy
            article(TITLE_1, authors="J. Smith, K. Doe (accepted manuscript)"),
        ),
        ("PMID_31234567.pdf", article("Acupuncture for the neck")),
        ("29876543.pdf", article("Yoga for veterans")),
        ("s41598-019-12345-6.pdf", article("Online CBT", journal="Sci Rep 9")),
        (
            "fulltext (3).pdf",
            article(
                "Manual therapy and exercise for knee osteoarthritis",
                doi_line="https://doi.org/10.1186/s12891-020-03456-7",
            ),
        ),
        ("download.pdf", download),
        ("Included/2017/Müller 2017 - Back pain.pdf", article("Back pain")),
        ("__MACOSX/Included/2017/._Müller 2017 - Back pain.pdf", b"\x00\x05\x16\x07"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("Included/", b""),
        ("notes.docx", b"PK\x03\x04 a Word file"),
        ("Garcia 2019.pdf", b"<!DOCTYPE html><html><body>Sign in</body></html>"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\ngarbage"),
        (
            "document.pdf",
            article(
                "",  # a scan: no text but the journal line
                meta_title="Tai chi for fibromyalgia: a trial of two doses",
            ),
        ),
        ("download (1).pdf", download),  # the same bytes again
        ("Diaz 2016.pdf", article("Spinal manipulation for acute low back pain")),
        (
            "fulltext (4).pdf",
            article(
                cover="Downloaded from journals.lww.com. Terms of use apply.",
                pages=[
                    "Discussion. " + LOREM,
                    *[f"Page {n}. Results continue." for n in range(4, 40)],
                    "References. 1. Kim. doi:10.1097/j.pain.0000000000009999",
                ],
                title=TITLE_14,
                doi_line="DOI: 10.1097/j.pain.0000000000001234",
            ),
        ),
        ("secret.pdf", article(TITLE_6, password="letmein")),
    ]


@pytest.fixture(scope="module")
def report(upload: list[tuple[str, bytes]]) -> MatchReport:
    zf = build_zip(upload)
    files = zip_pdf_entries(
        zf, max_files=50, max_file_bytes=5_000_000, max_total_bytes=50_000_000
    )
    return match_pdfs(files, RECORDS)


def by_name(report: MatchReport) -> dict[str, tuple[object, ...]]:
    return {
        f.name: (f.status, f.record_id, f.method, f.duplicate_of) for f in report.files
    }


def test_every_file_is_matched_or_explained(report: MatchReport) -> None:
    matched, duplicate, unmatched = (
        FileStatus.MATCHED,
        FileStatus.DUPLICATE,
        FileStatus.UNMATCHED,
    )
    doi, pmid = MatchMethod.DOI, MatchMethod.PMID
    first = "Smith 2019 - Exercise reduces pain.pdf"
    assert by_name(report) == {
        first: (matched, 1, doi, ""),
        "10.1016_j.pain.2019.01.002.pdf": (duplicate, 1, doi, first),
        "PMID_31234567.pdf": (matched, 2, pmid, ""),
        "29876543.pdf": (matched, 3, pmid, ""),
        "s41598-019-12345-6.pdf": (matched, 4, doi, ""),
        "fulltext (3).pdf": (matched, 5, doi, ""),
        "download.pdf": (matched, 6, MatchMethod.TITLE, ""),
        "Müller 2017 - Back pain.pdf": (
            matched,
            7,
            MatchMethod.AUTHOR_YEAR_TITLE,
            "",
        ),
        "notes.docx": (FileStatus.NOT_PDF, None, None, ""),
        "Garcia 2019.pdf": (FileStatus.NOT_PDF, None, None, ""),
        "broken.pdf": (FileStatus.UNREADABLE, None, None, ""),
        "document.pdf": (matched, 8, MatchMethod.TITLE, ""),
        "download (1).pdf": (duplicate, 6, MatchMethod.TITLE, "download.pdf"),
        "Diaz 2016.pdf": (unmatched, None, None, ""),
        "fulltext (4).pdf": (matched, 14, doi, ""),
        "secret.pdf": (FileStatus.UNREADABLE, None, None, ""),
    }
    assert [f.index for f in report.files] == list(range(16))


def test_reasons_say_where_the_evidence_was(report: MatchReport) -> None:
    reasons = {f.name: f.reason for f in report.files}
    assert reasons["Smith 2019 - Exercise reduces pain.pdf"] == (
        "DOI 10.1016/j.pain.2019.01.002 in the PDF metadata"
    )
    assert reasons["PMID_31234567.pdf"] == "PMID 31234567 in the file name"
    assert reasons["s41598-019-12345-6.pdf"] == (
        "the file name is the end of DOI 10.1038/s41598-019-12345-6"
    )
    assert reasons["fulltext (3).pdf"] == "DOI 10.1186/s12891-020-03456-7 on page 1"
    assert reasons["download.pdf"].startswith("title on page 1")
    assert reasons["Müller 2017 - Back pain.pdf"].startswith(
        "first author and year in the file name"
    )
    assert reasons["Garcia 2019.pdf"] == (
        "not a PDF: a web page (a publisher's login or error page?)"
    )
    assert reasons["notes.docx"] == "not a PDF: a ZIP archive or Office document"
    assert reasons["broken.pdf"].startswith("the PDF could not be read")
    assert reasons["secret.pdf"] == "the PDF needs a password to open"
    assert reasons["10.1016_j.pain.2019.01.002.pdf"].endswith(
        "the same record as Smith 2019 - Exercise reduces pain.pdf"
    )
    assert reasons["download (1).pdf"].endswith("the same record as download.pdf")


def test_scores(report: MatchReport) -> None:
    scores = {f.name: f.score for f in report.files}
    assert scores["PMID_31234567.pdf"] == 100
    assert scores["fulltext (3).pdf"] == 98  # page text: could be a cited DOI
    assert scores["s41598-019-12345-6.pdf"] == 95
    assert scores["download.pdf"] >= 92
    assert scores["notes.docx"] == 0


def test_unmatched_files_offer_candidates(report: MatchReport) -> None:
    files = {f.name: f for f in report.files}
    twins = files["Diaz 2016.pdf"]
    assert twins.reason == "the title matches several records equally (12, 13)"
    assert twins.candidates[:2] == (Candidate(12, 100.0), Candidate(13, 100.0))
    assert [f.name for f in report.unmatched] == [
        "notes.docx",
        "Garcia 2019.pdf",
        "broken.pdf",
        "Diaz 2016.pdf",
        "secret.pdf",
    ]
    # The encrypted file's name says nothing; its title is unread.
    assert files["secret.pdf"].candidates == ()


def test_report_by_record(report: MatchReport) -> None:
    kept = report.by_record()
    assert sorted(kept) == [1, 2, 3, 4, 5, 6, 7, 8, 14]
    assert kept[6].name == "download.pdf"
    assert len(report.duplicates) == 2


def test_only_the_first_pages_are_read(report: MatchReport) -> None:
    clues = next(f.clues for f in report.files if f.name == "fulltext (4).pdf")
    assert clues.pages == 40
    assert [c.value for c in clues.dois] == ["10.1097/j.pain.0000000000001234"]
    assert clues.dois[0].source == Source.PAGE_2  # page 1 is a cover sheet
    assert clues.titles[0].value == TITLE_14
    assert clues.titles[0].source == Source.PAGE_2


def test_clues_of_a_publisher_pdf() -> None:
    xmp = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' prism:doi="10.1016/J.PAIN.2019.01.002">'
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Exercise &amp; pain'
        " in older adults</rdf:li></rdf:Alt></dc:title>"
        "</rdf:Description></rdf:RDF>"
    )
    data = article(
        TITLE_1,
        meta_title="Microsoft Word - manuscript_v3.docx",
        xmp=xmp,
        doi_line="PMID: 31000001  PMCID: PMC6543210",
    )
    clues = pdf_identifiers("Smith et al. - 2019 - Exercise reduces pain.pdf", data)
    assert clues.error == ""
    assert clues.is_pdf and clues.pages == 1
    assert [(c.value, c.source) for c in clues.dois] == [
        ("10.1016/j.pain.2019.01.002", Source.METADATA)
    ]
    assert [c.value for c in clues.pmids] == ["31000001"]
    assert [c.value for c in clues.pmcids] == ["PMC6543210"]
    # "manuscript v3" is not a title; XMP's is, then the largest type on page 1.
    assert [(c.value, c.source) for c in clues.titles] == [
        ("Exercise & pain in older adults", Source.METADATA),
        (TITLE_1, Source.PAGE_1),
        ("Exercise reduces pain", Source.FILE_NAME),
    ]
    assert (clues.author, clues.year) == ("smith", 2019)
    assert len(clues.sha256) == 64


@pytest.mark.parametrize(
    ("name", "dois", "pmids", "author", "year", "article_id"),
    [
        (
            "10.1016_j.pain.2019.01.002.pdf",
            ["10.1016/j.pain.2019.01.002"],
            [],
            "",
            None,
            "",
        ),
        (
            "10.1007_978-3-319-12345-6_7.pdf",  # "_" in the DOI itself, or a slash
            ["10.1007/978-3-319-12345-6_7", "10.1007/978-3-319-12345-6/7"],
            [],
            "",
            None,
            "",
        ),
        ("10.1136%2Fbmj.l1234.pdf", ["10.1136/bmj.l1234"], [], "", None, ""),
        ("PMID_31234567.pdf", [], ["31234567"], "", None, ""),
        ("pmid12345678 (2).pdf", [], ["12345678"], "", None, ""),
        ("31234567.pdf", [], ["31234567"], "", None, ""),
        ("2019.pdf", [], [], "", None, ""),
        ("journal.pone.0123456.pdf", [], [], "", None, "journal.pone.0123456"),
        ("van der Berg et al. 2020 - Title.pdf", [], [], "vanderberg", 2020, ""),
        ("Smith-2019-Exercise reduces pain.pdf", [], [], "smith", 2019, ""),
        ("Smith_2019_Exercise_reduces_pain.pdf", [], [], "smith", 2019, ""),
        ("Smith and Jones - 2019 - Exercise.pdf", [], [], "smith", 2019, ""),
        ("fulltext (3).pdf", [], [], "", None, ""),
    ],
)
def test_file_names(
    name: str,
    dois: list[str],
    pmids: list[str],
    author: str,
    year: int | None,
    article_id: str,
) -> None:
    clues = pdf_identifiers(name, b"%PDF-1.4 truncated")
    assert [c.value for c in clues.dois] == dois
    assert [c.value for c in clues.pmids] == pmids
    assert (clues.author, clues.year, clues.article_id) == (author, year, article_id)
    assert clues.error.startswith("the PDF could not be read")


def test_dois_broken_by_text_extraction() -> None:
    data = article(
        "A title",
        doi_line="See https://doi.org/10.1016/j.pain.\n2019.01.002 and "
        "doi:10.1186/s12891-020-03456-7.\ndoi:10.1371/journal.pone.0123456Received",
    )
    values = [c.value for c in pdf_identifiers("x.pdf", data).dois]
    assert values == [
        "10.1016/j.pain",  # cut at the line end, as printed ...
        "10.1016/j.pain.2019.01.002",  # ... and joined to the next line
        "10.1186/s12891-020-03456-7",  # the sentence's full stop dropped
        "10.1371/journal.pone.0123456received",  # glued to the next word ...
        "10.1371/journal.pone.0123456",  # ... and without it
    ]


def test_a_cited_doi_contradicted_by_the_title_is_not_trusted() -> None:
    records = [
        RecordKey(
            1, "10.1000/original", "", "Original trial of exercise for neck pain"
        ),
        RecordKey(2, "", "", "Five year follow-up of a trial of yoga for back pain"),
    ]
    data = article(
        "Five year follow-up of a trial of yoga for back pain",
        doi_line="Extends the trial reported in doi:10.1000/original",
    )
    [result] = match_pdfs([("followup.pdf", data)], records).files
    assert result.status == FileStatus.UNMATCHED
    assert result.reason == (
        "DOI 10.1000/original on page 1 names record 1, but the title is record 2's"
    )
    assert [c.record_id for c in result.candidates] == [1, 2]


def test_a_doi_shared_by_two_records_is_settled_by_the_title() -> None:
    records = [
        RecordKey(1, "10.1000/xyz", "", "Yoga for chronic low back pain in veterans"),
        RecordKey(2, "10.1000/xyz", "", "Erratum: correction to the results table"),
    ]
    data = article(
        "Yoga for chronic low back pain in veterans", doi_line="doi:10.1000/xyz"
    )
    [result] = match_pdfs([("a.pdf", data)], records).files
    assert (result.status, result.record_id) == (FileStatus.MATCHED, 1)
    [result] = match_pdfs(
        [("a.pdf", article("Other", doi_line="doi:10.1000/xyz"))], records
    ).files
    assert result.status == FileStatus.UNMATCHED
    assert [c.score for c in result.candidates] == [100.0, 100.0]


def test_a_protocol_and_its_results_are_told_apart() -> None:
    results = "High-intensity interval training for chronic low back pain"
    records = [
        RecordKey(1, "", "", results),
        RecordKey(2, "", "", f"{results}: protocol for a randomised trial"),
    ]
    for title, expected in [
        (results, 1),
        (f"{results}: protocol for a randomised trial", 2),
    ]:
        [result] = match_pdfs([("x.pdf", article(title))], records).files
        assert (result.record_id, result.method) == (expected, MatchMethod.TITLE)


def test_short_titles_need_author_and_year_in_the_file_name() -> None:
    records = [RecordKey(7, "", "", "Back pain", "Müller", 2017)]
    [result] = match_pdfs([("Back pain.pdf", article("Back pain"))], records).files
    assert result.status == FileStatus.UNMATCHED
    [result] = match_pdfs(
        [("Mueller 2017 - Back pain.pdf", article("Back pain"))], records
    ).files
    assert result.status == FileStatus.UNMATCHED  # another first author
    [result] = match_pdfs(
        [("Müller 2018 - Back pain.pdf", article("Back pain"))], records
    ).files
    assert result.record_id == 7  # a year apart: online first, then print


def test_many_records_are_matched_through_the_index() -> None:
    records = [
        RecordKey(
            i, f"10.5555/r{i}", "", f"Trial {i} of exercise for pain in group {i}"
        )
        for i in range(10_000)
    ]
    records.append(RecordKey(10_000, "", "", TITLE_6, "Nguyen", 2021))
    files = [("a.pdf", article(TITLE_6)), ("10.5555_r1234.pdf", b"%PDF-1.4 x")]
    first, second = match_pdfs(files, records).files
    assert (first.record_id, first.method) == (10_000, MatchMethod.TITLE)
    assert second.status == FileStatus.UNREADABLE
    assert second.candidates[0] == Candidate(1234, 100.0)


# --- The ZIP ------------------------------------------------------------------


def test_zip_skips_folders_and_junk_and_flattens_paths() -> None:
    zf = build_zip(
        [
            ("a/b/Smith 2019.pdf", b"%PDF-1"),
            ("a/", b""),
            ("__MACOSX/a/b/._Smith 2019.pdf", b"x"),
            ("a/.hidden.pdf", b"x"),
            (".git/config", b"x"),
            ("Thumbs.db", b"x"),
            ("~$draft.docx", b"x"),
            ("b\\c.pdf", b"%PDF-2"),
        ]
    )
    entries = list(
        zip_pdf_entries(zf, max_files=10, max_file_bytes=10, max_total_bytes=100)
    )
    assert entries == [("Smith 2019.pdf", b"%PDF-1"), ("c.pdf", b"%PDF-2")]


def test_zip_bomb_is_refused() -> None:
    zf = build_zip([("bomb.pdf", b"\0" * 2_000_000)])
    assert zf.infolist()[0].compress_size < 10_000
    with pytest.raises(ValueError, match=r"bomb\.pdf in the ZIP unpacks to more than"):
        list(
            zip_pdf_entries(
                zf, max_files=5, max_file_bytes=1_000_000, max_total_bytes=10**9
            )
        )


def test_zip_total_size_and_file_count_are_limited() -> None:
    zf = build_zip([(f"{n}.pdf", b"%PDF-" + b"x" * 600) for n in range(3)])
    with pytest.raises(ValueError, match=r"more than 1,000 bytes in all \(at 1\.pdf\)"):
        list(
            zip_pdf_entries(zf, max_files=5, max_file_bytes=1000, max_total_bytes=1000)
        )
    with pytest.raises(ValueError, match="more than 2 files"):
        list(
            zip_pdf_entries(zf, max_files=2, max_file_bytes=1000, max_total_bytes=10**6)
        )


def test_zip_header_that_understates_the_size_is_refused() -> None:
    data = bytearray(build_zip_bytes([("lie.pdf", b"%PDF-" + b"A" * 5000)]))
    # Central directory: uncompressed size at offset 24 of the entry.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    with pytest.raises(ValueError, match=r"lie\.pdf in the ZIP cannot be read"):
        list(
            zip_pdf_entries(zf, max_files=5, max_file_bytes=1000, max_total_bytes=10**6)
        )


def build_zip_bytes(entries: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"M\x81ller 2017.pdf", "Müller 2017.pdf"),  # cp437 (Windows), no UTF-8 flag
        (
            b"M\xc3\xbcller 2017.pdf",
            "Müller 2017.pdf",
        ),  # UTF-8 without the flag (macOS)
        (b"Mu\xcc\x88ller 2017.pdf", "Müller 2017.pdf"),  # decomposed (macOS)
    ],
)
def test_zip_names_without_the_utf8_flag(raw: bytes, expected: str) -> None:
    placeholder = b"N" * len(raw)
    data = build_zip_bytes([(placeholder.decode(), b"%PDF-1")])
    assert data.count(placeholder) == 2  # local header and central directory
    zf = zipfile.ZipFile(io.BytesIO(data.replace(placeholder, raw)))
    assert not zf.infolist()[0].flag_bits & 0x800
    entries = list(
        zip_pdf_entries(zf, max_files=5, max_file_bytes=10, max_total_bytes=10)
    )
    assert entries == [(expected, b"%PDF-1")]


def test_the_module_is_pure() -> None:
    """No Django: the Celery task and the tests call it without a database."""
    source = Path(fulltext_matching.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not {name for name in imported if name.split(".")[0] == "django"}
    assert not {name for name in imported if name.endswith((".models", ".services"))}
