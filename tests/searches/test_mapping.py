"""CSV/Excel files of unknown layout: a person maps the columns, once per layout."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import User
from reviews.models import Review
from searches.models import ColumnMappingMemory, Record, Search
from tests.conftest import client_for

CSV = (
    b"Heading;Who;When;Identifier\n"
    b"Swimming and pain;Smith, J;2019;10.1000/a1\nRunning;Lee, K;2020;\n"
)
SAME_LAYOUT = b"Heading;Who;When;Identifier\nCycling after injury;Park, S;2021;\n"
FORM = {"database": "Local register", "source_type": "register", "run_on": "2024-02-01"}


def _upload(client, review: Review, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"/reviews/{review.pk}/searches/upload/",
        {**FORM, "file": SimpleUploadedFile(name, data)},
    )


def test_unknown_columns_are_mapped_by_hand_and_remembered(
    review: Review, lead: User, django_capture_on_commit_callbacks: Callable
) -> None:
    client = client_for(lead)
    response = _upload(client, review, "register.csv", CSV)
    search = Search.objects.get(review=review)
    assert search.status == Search.Status.MAPPING
    assert response["Location"] == f"/reviews/{review.pk}/searches/{search.pk}/columns/"
    page = client.get(response["Location"]).content.decode()
    assert '<code class="me-1">Heading</code>' in page
    mapping = {
        "title": "Heading",
        "authors": "Who",
        "year": "When",
        "doi": "Identifier",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], mapping)
    search.refresh_from_db()
    assert (search.status, search.records_imported) == (Search.Status.IMPORTED, 2)
    record = Record.objects.get(title="Swimming and pain")
    assert (record.authors, record.year, record.doi) == (
        [["Smith", "J"]],
        2019,
        "10.1000/a1",
    )
    assert ColumnMappingMemory.objects.filter(review=review).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, review, "register-2.csv", SAME_LAYOUT)
    second = Search.objects.get(file_name="register-2.csv")
    assert response["Location"] == second.get_absolute_url(), "no second mapping step"
    assert (second.status, second.records_imported) == (Search.Status.IMPORTED, 1)


def test_mapping_without_a_title_column_is_refused(review: Review, lead: User) -> None:
    client = client_for(lead)
    location = _upload(client, review, "register.csv", CSV)["Location"]
    response = client.post(location, {"title": "", "authors": "Who"})
    assert "This field is required" in response.content.decode()
    assert Search.objects.get().status == Search.Status.MAPPING
    assert not ColumnMappingMemory.objects.exists()


def test_mapping_to_a_column_that_does_not_exist_is_refused(
    review: Review, lead: User
) -> None:
    client = client_for(lead)
    location = _upload(client, review, "register.csv", CSV)["Location"]
    response = client.post(location, {"title": "Nope"})
    assert "Select a valid choice" in response.content.decode()
    assert not Record.objects.exists()


def test_excel_file_with_unknown_columns(
    review: Review, lead: User, django_capture_on_commit_callbacks: Callable
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Naam", "Jaar"])
    sheet.append(["Oefentherapie bij neuropathische pijn", 2022])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = client_for(lead)
    location = _upload(client, review, "lijst.xlsx", buffer.getvalue())["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(location, {"title": "Naam", "year": "Jaar"})
    record = Record.objects.get()
    assert (record.title, record.year) == (
        "Oefentherapie bij neuropathische pijn",
        2022,
    )
