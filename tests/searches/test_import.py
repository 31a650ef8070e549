"""Importing files through the real service (and the Celery task, run eagerly)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from core.models import AuditEvent, Job, User
from reviews.models import Review
from searches import services
from searches.models import Record, RecordSource, Search
from tests.searches.conftest import FIXTURES, manifest_counts

RECORD_FOLDERS = (
    "pubmed-xml", "medline-nbib", "ris", "endnote-xml", "bibtex", "wos-tagged",
    "wos-tab", "scopus-csv", "other-csv", "dedup-labelled", "screening-labelled",
)  # fmt: skip
# Label files, not record files: duplicate groups, and ids without any text.
NOT_RECORD_FILES = (
    "merged_record_ids.csv",
    "synergy_Cohen_2006_ProtonPumpInhibitors_ids.csv",
)
# The Cohen (2006) screening file has no year column at all.
NO_YEAR_COLUMN = {"screening-labelled/Cohen_2006_ProtonPumpInhibitors.csv"}
# A DOI in the entry's own DOI field (not in its cited references), per format.
DOI_IN_RAW = re.compile(
    r"(?m)^(DO|DI)  - (https?://(dx\.)?doi\.org/)?10\.\d{4,9}/"  # RIS
    r"|^DI 10\.\d{4,9}/"  # Web of Science tagged
    r"|^AID - 10\.\d{4,9}/\S+ \[doi\]"  # MEDLINE
    r"|IdType=\"doi\">10\.\d{4,9}/"  # PubMed XML
    r"|<electronic-resource-num>(<style[^>]*>)?10\.\d{4,9}/"  # EndNote XML
    r"|\bdoi\s*=\s*[{\"]10\.\d{4,9}/"  # BibTeX
    r"|\"(DOI|doi|DI)\": \"(https?://(dx\.)?doi\.org/)?10\.\d{4,9}/",  # CSV as JSON
    re.IGNORECASE,
)
PMID_IN_RAW = re.compile(r"(PMID- |<PMID[^>]*>)\d{1,9}")


def _record_files() -> list[tuple[str, int]]:
    files = []
    for name, count in manifest_counts().items():
        if name.startswith(RECORD_FOLDERS) and not name.endswith(NOT_RECORD_FILES):
            files.append((name, int(count.split()[0])))
    return files


def _import(review: Review, lead: User, path: Path, **details: object) -> Search:
    with path.open("rb") as binary:
        return services.search_import_now(
            review=review, actor=lead, binary=binary, file_name=path.name,
            database=details.pop("database", "Test"), **details,
        )  # fmt: skip


@pytest.mark.parametrize(("name", "expected"), _record_files(), ids=lambda v: str(v))
def test_every_fixture_file_imports_with_its_manifest_count(
    name: str, expected: int, review: Review, lead: User
) -> None:
    search = _import(review, lead, FIXTURES / name)
    assert search.status == Search.Status.IMPORTED, search.error
    assert search.records_imported == expected
    records = Record.objects.filter(search=search)
    assert records.count() == expected
    with_title = records.exclude(title="").count()
    with_year = records.filter(year__isnull=False).count()
    if name.endswith("records_pre_merged.csv"):
        assert with_title >= expected - 20  # the source says some titles are empty
    else:
        assert with_title >= 0.99 * expected, f"{with_title}/{expected} titles"
    if name not in NO_YEAR_COLUMN:
        assert with_year >= 0.99 * expected, f"{with_year}/{expected} years"
    # Where an entry as exported carries a DOI or a PMID, the record must have it.
    sources = RecordSource.objects.filter(search=search).select_related("record")
    assert sources.count() == expected
    with_doi = [s.record for s in sources if DOI_IN_RAW.search(s.raw)]
    if with_doi:
        kept = sum(1 for record in with_doi if record.doi)
        assert kept >= 0.99 * len(with_doi), f"{kept}/{len(with_doi)} DOIs kept"
    with_pmid = [s.record for s in sources if PMID_IN_RAW.search(s.raw)]
    if with_pmid:
        kept = sum(1 for record in with_pmid if record.pmid)
        assert kept >= 0.99 * len(with_pmid), f"{kept}/{len(with_pmid)} PMIDs kept"


def test_identifiers_are_kept(review: Review, lead: User) -> None:
    pubmed = _import(review, lead, FIXTURES / "medline-nbib/pybibx_mcda_pubmed.txt")
    records = Record.objects.filter(search=pubmed)
    assert records.exclude(pmid="").count() == 10
    assert records.exclude(doi="").count() >= 9
    assert all(
        d == d.lower() and not d.startswith("http")
        for d in records.values_list("doi", flat=True)
    )


def test_import_is_audited_and_reports_progress(review: Review, lead: User) -> None:
    search = _import(
        review, lead, FIXTURES / "ris/citesource_gambling-harms_scopus_255.ris"
    )
    job = Job.objects.get(pk=search.job_id)
    assert (job.status, job.percent) == (Job.Status.SUCCEEDED, 100)
    assert job.message == "255 records imported"
    verbs = set(
        AuditEvent.objects.filter(target_id=search.pk).values_list("verb", flat=True)
    )
    assert {"search.created", "search.imported"} <= verbs


def test_upload_runs_the_task_after_commit(
    review: Review, lead: User, django_capture_on_commit_callbacks: Callable
) -> None:
    data = (FIXTURES / "ris/cff_baseline_embase.ris").read_bytes()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        search = services.search_file_create(
            review=review, actor=lead, file_name="embase.ris", database="Embase",
            upload=SimpleUploadedFile("embase.ris", data), run_on=date(2024, 5, 1),
        )  # fmt: skip
    assert len(callbacks) == 1
    search.refresh_from_db()
    assert (search.status, search.records_imported) == (Search.Status.IMPORTED, 10)


# --- Bad input: a clear message naming the file, and nothing stored -----------


def _refused(review: Review, lead: User, name: str, data: bytes) -> str:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.search_import_now(
            review=review,
            actor=lead,
            binary=io.BytesIO(data),
            file_name=name,
            database="X",
        )
    assert not Search.objects.exists() and not Record.objects.exists()
    message = " ".join(error.value.messages)
    assert name in message
    return message


def _failed(review: Review, lead: User, name: str, data: bytes) -> str:
    search = services.search_import_now(
        review=review, actor=lead, binary=io.BytesIO(data), file_name=name, database="X"
    )
    assert search.status == Search.Status.FAILED
    assert not Record.objects.exists() and not RecordSource.objects.exists()
    assert search.error.startswith(name)
    assert Job.objects.get(pk=search.job_id).status == Job.Status.FAILED
    return search.error


def test_empty_file(review: Review, lead: User) -> None:
    assert "is empty" in _refused(review, lead, "empty.ris", b"")


def test_binary_file(review: Review, lead: User) -> None:
    assert "not a text export" in _refused(
        review, lead, "data.ris", bytes(range(256)) * 40
    )


def test_wrong_extension_pdf(review: Review, lead: User) -> None:
    assert "is a PDF" in _refused(
        review, lead, "results.ris", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj"
    )


def test_unrecognised_text(review: Review, lead: User) -> None:
    message = _refused(
        review, lead, "notes.txt", b"Dear colleague\nhere are my notes\n"
    )
    assert "not in a format we recognise" in message


def test_truncated_xml(review: Review, lead: User) -> None:
    data = (FIXTURES / "pubmed-xml/biomedquery_efetch_sample.xml").read_bytes()
    message = _failed(review, lead, "cut.xml", data[: len(data) // 2])
    assert "line" in message


def test_ris_with_a_broken_record_in_the_middle(review: Review, lead: User) -> None:
    data = (FIXTURES / "ris/cff_baseline_embase.ris").read_bytes()
    # An unfinished record (no ER) and a stray line between two records.
    broken = data.replace(
        b"ER  -",
        b"ER  -\nTY  - JOUR\nTI  - Unfinished record\nthis line has no tag\nER  -",
        1,
    )
    search = services.search_import_now(
        review=review,
        actor=lead,
        binary=io.BytesIO(broken),
        file_name="b.ris",
        database="X",
    )
    # Every real record is kept, or the file is refused whole: never a partial import.
    if search.status == Search.Status.IMPORTED:
        assert search.records_imported in (10, 11)
    else:
        assert not Record.objects.exists()
        assert "record" in search.error


def test_unknown_csv_layout(review: Review, lead: User) -> None:
    message = _failed(
        review, lead, "odd.csv", b"colour,shape\nred,round\nblue,square\n"
    )
    assert "colour" in message and "shape" in message


@override_settings(IMPORT_MAX_BYTES=1000)
def test_file_over_the_size_limit(review: Review, lead: User) -> None:
    data = (FIXTURES / "ris/cff_baseline_embase.ris").read_bytes()
    assert "the limit is" in _refused(review, lead, "big.ris", data)


def test_same_file_twice(review: Review, lead: User) -> None:
    path = FIXTURES / "ris/cff_baseline_embase.ris"
    first = _import(review, lead, path)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="was already imported into this review"):
        _import(review, lead, path)
    assert Search.objects.count() == 1
    assert Record.objects.count() == first.records_imported == 10


def test_a_failed_file_can_be_fixed_and_imported_again(
    review: Review, lead: User
) -> None:
    data = (FIXTURES / "pubmed-xml/biomedquery_efetch_sample.xml").read_bytes()
    _failed(review, lead, "sample.xml", data[:5000])
    search = services.search_import_now(
        review=review,
        actor=lead,
        binary=io.BytesIO(data),
        file_name="sample.xml",
        database="X",
    )
    assert search.records_imported == 10


def test_failure_after_stored_batches_removes_them(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "IMPORT_BATCH", 3)
    data = (FIXTURES / "pubmed-xml/biomedquery_efetch_sample.xml").read_bytes()
    cut = data[: data.rfind(b"</PubmedArticle>") - 10]  # the last record is cut off
    _failed(review, lead, "cut.xml", cut)


def test_interrupted_import_reruns_cleanly(review: Review, lead: User) -> None:
    search = _import(review, lead, FIXTURES / "ris/cff_baseline_embase.ris")
    Search.objects.filter(pk=search.pk).update(status=Search.Status.IMPORTING)
    Job.objects.filter(pk=search.job_id).update(status=Job.Status.QUEUED)
    services.search_import_run(search_id=search.pk, job_id=search.job_id)
    assert Record.objects.filter(search=search).count() == 10


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: text.encode("utf-8-sig"),
        lambda text: text.encode("utf-16"),  # with BOM
        lambda text: text.encode("utf-16-le"),  # without BOM
        lambda text: text.encode("cp1252", errors="replace"),
        lambda text: text.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "utf-16-le", "windows-1252", "crlf"],
)
def test_every_encoding_imports_the_same_records(
    encode: Callable[[str], bytes], review: Review, lead: User
) -> None:
    text = (FIXTURES / "ris/reflib_blue-light.ris").read_text(encoding="utf-8-sig")
    text = text.replace("\r\n", "\n")
    search = services.search_import_now(
        review=review, actor=lead, binary=io.BytesIO(encode(text)), file_name="x.ris",
        database="X",
    )  # fmt: skip
    assert (search.status, search.records_imported) == (Search.Status.IMPORTED, 102)
    titles = set(Record.objects.filter(search=search).values_list("title", flat=True))
    assert "" not in titles and not any("\ufffd" in t or "\r" in t for t in titles)
    authors = str(
        list(Record.objects.filter(search=search).values_list("authors", flat=True))
    )
    assert "Widerøe" in authors, "accented names survive every encoding"
