from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import TestCase, override_settings

from core.models import AuditEvent, User
from reviews.models import Review
from searches.models import Record, Search
from tests.conftest import client_for
from tests.factories import RecordFactory, SearchFactory
from tests.searches.conftest import FIXTURES

FORM = {
    "source_type": "database",
    "database": "Embase",
    "platform": "Elsevier",
    "run_on": "2024-05-01",
    "query": "'dinosaur'/exp",
    "filters": "English only",
    "hits_reported": "10",
    "notes": "",
}


def test_lead_uploads_an_export_and_sees_it_imported(
    review: Review, lead: User, django_capture_on_commit_callbacks: Callable
) -> None:
    data = (FIXTURES / "ris/cff_baseline_embase.ris").read_bytes()
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/reviews/{review.pk}/searches/upload/",
            {**FORM, "file": SimpleUploadedFile("embase.ris", data)},
        )
    search = Search.objects.get(review=review)
    assert (
        response.status_code == 302
        and response["Location"] == search.get_absolute_url()
    )
    page = client.get(search.get_absolute_url()).content.decode()
    assert 'data-testid="search-status">\n      Imported' in page or "Imported" in page
    assert (search.status, search.records_imported, search.hits_reported) == (
        "imported",
        10,
        10,
    )
    log = client.get(f"/reviews/{review.pk}/searches/").content.decode()
    assert "Embase" in log and "&#x27;dinosaur&#x27;/exp" in log


def test_upload_of_a_bad_file_shows_the_message_and_stores_nothing(
    review: Review, lead: User
) -> None:
    response = client_for(lead).post(
        f"/reviews/{review.pk}/searches/upload/",
        {**FORM, "file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4 binary")},
    )
    assert response.status_code == 200
    assert "scan.pdf is a PDF document" in response.content.decode()
    assert not Search.objects.exists()


@override_settings(IMPORT_MAX_BYTES=100_000)
def test_an_oversized_upload_is_cut_off_while_it_arrives(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = []
    real_receive = TemporaryFileUploadHandler.receive_data_chunk

    def counting_receive(
        self: TemporaryFileUploadHandler, raw_data: bytes, start: int
    ) -> bytes | None:
        written.append(len(raw_data))  # what reaches the temporary file
        return real_receive(self, raw_data, start)

    monkeypatch.setattr(
        TemporaryFileUploadHandler, "receive_data_chunk", counting_receive
    )
    data = (FIXTURES / "ris/cff_baseline_embase.ris").read_bytes() * 20  # ~1 MB
    response = client_for(lead).post(
        f"/reviews/{review.pk}/searches/upload/",
        {**FORM, "file": SimpleUploadedFile("huge.ris", data)},
    )
    assert response.status_code == 200
    assert "huge.ris is over the limit of 0 MB" in response.content.decode()
    assert sum(written) <= 100_000, "the file was not spooled past the limit"
    assert not Search.objects.exists()


def test_upload_refuses_a_future_date(review: Review, lead: User) -> None:
    data = (FIXTURES / "ris/cff_baseline_embase.ris").read_bytes()
    response = client_for(lead).post(
        f"/reviews/{review.pk}/searches/upload/",
        {**FORM, "run_on": "2999-01-01", "file": SimpleUploadedFile("e.ris", data)},
    )
    assert "cannot be in the future" in response.content.decode()
    assert not Search.objects.exists()


def test_search_log_csv_is_the_prisma_s_appendix(review: Review, lead: User) -> None:
    SearchFactory(
        review=review, database="PubMed", query="pain AND exercise", hits_reported=42
    )
    response = client_for(lead).get(f"/reviews/{review.pk}/searches.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == [
        "Source type", "Database or register", "Interface or platform", "Date run",
        "Search string",
    ]  # fmt: skip
    assert (
        rows[1][1] == "PubMed"
        and rows[1][4] == "pain AND exercise"
        and rows[1][6] == "42"
    )


def test_records_page_searches_and_filters(review: Review, reviewer_a: User) -> None:
    pubmed = SearchFactory(review=review, database="PubMed")
    embase = SearchFactory(review=review, database="Embase")
    RecordFactory(
        search=pubmed, title="Swimming reduces allodynia", year=2015, doi="10.1000/swim"
    )
    RecordFactory(
        search=embase, title="Treadmill and hyperalgesia", year=2021, pmid="31234567"
    )
    RecordFactory(
        search=embase, title="Wheel running", year=2010, authors=[["Zhang", "Wei"]]
    )
    hidden = SearchFactory(review=review, status=Search.Status.IMPORTING)
    RecordFactory(search=hidden, title="Half-imported swimming record")
    client = client_for(reviewer_a)

    def titles(**query: object) -> list[str]:
        page = client.get(f"/reviews/{review.pk}/records/", query).content.decode()
        return [
            t for t in ("Swimming", "Treadmill", "Wheel", "Half-imported") if t in page
        ]

    assert titles() == ["Swimming", "Treadmill", "Wheel"]
    assert titles(q="swimming") == ["Swimming"]
    assert titles(q="https://doi.org/10.1000/SWIM") == ["Swimming"]
    assert titles(q="31234567") == ["Treadmill"]
    assert titles(q="zhang") == ["Wheel"]
    assert titles(search=embase.pk) == ["Treadmill", "Wheel"]
    assert titles(year_from=2012, year_to=2020) == ["Swimming"]
    assert titles(year_from="abc") == ["Swimming", "Treadmill", "Wheel"]


def test_record_page_shows_fields_and_sources(review: Review, observer: User) -> None:
    record = RecordFactory(
        search=SearchFactory(review=review, database="Scopus"),
        abstract_sections=[["BACKGROUND", "Pain is common."], ["METHODS", "Rats ran."]],
        url="javascript:alert(1)",
        mesh_terms=["Spinal Cord Injuries/rehabilitation"],
    )
    page = client_for(observer).get(record.get_absolute_url()).content.decode()
    assert "BACKGROUND:" in page and "Rats ran." in page
    assert "Scopus" in page and "Spinal Cord Injuries/rehabilitation" in page
    assert "javascript:alert" not in page


def test_records_of_another_review_are_not_found(
    review: Review, other_review: Review, reviewer_a: User
) -> None:
    foreign = RecordFactory(search=SearchFactory(review=other_review))
    client = client_for(reviewer_a)
    assert client.get(f"/reviews/{review.pk}/records/{foreign.pk}/").status_code == 404
    search_url = f"/reviews/{review.pk}/searches/{foreign.search_id}/"
    assert client.get(search_url).status_code == 404


def test_records_page_query_count_is_flat(
    review: Review, reviewer_a: User, django_assert_max_num_queries: Callable
) -> None:
    search = SearchFactory(review=review)
    Record.objects.bulk_create(
        Record(review=review, search=search, title=f"Record {n}", year=2000 + n % 20)
        for n in range(500)
    )
    client = client_for(reviewer_a)
    with django_assert_max_num_queries(8):
        response = client.get(
            f"/reviews/{review.pk}/records/", {"q": "Record", "page": 3}
        )
    assert response.content.decode().count("list-group-item-action") == 50


def test_dashboard_shows_record_counts_per_database(review: Review, lead: User) -> None:
    pubmed = SearchFactory(review=review, database="PubMed", records_imported=3)
    RecordFactory.create_batch(3, search=pubmed)
    embase = SearchFactory(review=review, database="Embase", records_imported=2)
    RecordFactory.create_batch(2, search=embase)
    SearchFactory(review=review, database="Scopus", status=Search.Status.FAILED)
    page = client_for(lead).get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="searches-card"' in page
    assert "PubMed: 3" in page and "Embase: 2" in page and "Scopus" not in page
    assert '<p class="display-6 mb-1">5</p>' in page


def test_records_pages_keep_the_filters(review: Review, reviewer_a: User) -> None:
    search = SearchFactory(review=review)
    Record.objects.bulk_create(
        Record(review=review, search=search, title=f"Swim {n}") for n in range(120)
    )
    page = (
        client_for(reviewer_a)
        .get(f"/reviews/{review.pk}/records/", {"q": "swim", "page": 2})
        .content.decode()
    )
    assert "Page 2 of 3" in page
    assert "?q=swim&amp;page=1" in page and "?q=swim&amp;page=3" in page


def test_lead_discards_a_failed_search_and_its_file(review: Review, lead: User) -> None:
    client = client_for(lead)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            f"/reviews/{review.pk}/searches/upload/",
            {**FORM, "file": SimpleUploadedFile("bad.xml", b"<PubmedArticleSet><Pub")},
        )
    search = Search.objects.get(review=review)
    assert search.status == Search.Status.FAILED
    page = client.get(search.get_absolute_url()).content.decode()
    assert 'data-testid="discard-search"' in page
    storage, name = search.file.storage, search.file.name
    assert storage.exists(name)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/reviews/{review.pk}/searches/{search.pk}/discard/")
    assert response.status_code == 302
    assert not Search.objects.exists()
    assert not storage.exists(name)
    event = AuditEvent.objects.get(verb="search.discarded")
    assert event.before["file_name"] == "bad.xml" and event.actor == lead
    # The same file can now be uploaded again, once fixed or not.
    client.post(
        f"/reviews/{review.pk}/searches/upload/",
        {**FORM, "file": SimpleUploadedFile("bad.xml", b"<PubmedArticleSet><Pub")},
    )
    assert Search.objects.count() == 1


def test_an_imported_search_cannot_be_discarded(review: Review, lead: User) -> None:
    search = SearchFactory(review=review, status=Search.Status.IMPORTED)
    RecordFactory(review=review, search=search)
    response = client_for(lead).post(
        f"/reviews/{review.pk}/searches/{search.pk}/discard/", follow=True
    )
    assert "only a failed or unmapped search can be discarded" in (
        response.content.decode()
    )
    assert Search.objects.filter(pk=search.pk).exists()
    assert Record.objects.filter(search=search).count() == 1
    assert not AuditEvent.objects.filter(verb="search.discarded").exists()
