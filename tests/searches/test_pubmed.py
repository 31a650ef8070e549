"""PubMed through Entrez, replaying recorded real E-utilities responses (no network)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import override_settings

from core.models import Job, User
from reviews.models import Review
from searches import services
from searches.entrez import (
    EntrezClient,
    EntrezConfig,
    RateLimiter,
    ReplayTransport,
    http_error,
)
from searches.models import Record, RecordSource, Search
from tests.conftest import client_for
from tests.factories import SearchFactory
from tests.searches.conftest import FIXTURES

ESEARCH_HISTORY = (FIXTURES / "eutils-xml/biopython_esearch2.xml").read_bytes()
EFETCH_10 = FIXTURES / "pubmed-xml/biomedquery_efetch_sample.xml"
EFETCH_2 = FIXTURES / "pubmed-xml/biopython_pubmed2.xml"
TERM = '"spinal cord injuries"[MeSH] AND exercise'


def _esearch_with(count: int, ids: list[str]) -> bytes:
    """The recorded esearch answer (with its WebEnv) holding another count and ids."""
    body = re.sub(
        rb"<Count>\d+</Count>",
        f"<Count>{count}</Count>".encode(),
        ESEARCH_HISTORY,
        count=1,
    )
    id_list = "".join(f"<Id>{pmid}</Id>" for pmid in ids).encode()
    new_list = b"<IdList>" + id_list + b"</IdList>"
    return re.sub(rb"<IdList>.*?</IdList>", new_list, body, count=1, flags=re.S)


def _pmids(path) -> list[str]:  # type: ignore[no-untyped-def]
    text = path.read_text()
    return re.findall(r"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)</PMID>", text)


def _use(monkeypatch: pytest.MonkeyPatch, transport: ReplayTransport) -> None:
    config = EntrezConfig(email="lead@example.org", tool="sr-manager-tests")
    no_wait = RateLimiter(3, sleep=lambda seconds: None)
    client = EntrezClient(
        config, transport=transport, limiter=no_wait, sleep=lambda s: None
    )
    monkeypatch.setattr(services, "entrez_client", lambda: client)


def _run(review: Review, lead: User, **options: object) -> Search:
    search = services.pubmed_search_create(
        review=review, actor=lead, term=TERM, enqueue=False, **options
    )
    services.pubmed_import_run(search_id=search.pk, job_id=search.job_id)
    search.refresh_from_db()
    return search


def test_pubmed_search_is_run_imported_and_logged(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = ReplayTransport().add(
        "esearch.fcgi", _esearch_with(10, _pmids(EFETCH_10))
    )
    transport.add("efetch.fcgi", EFETCH_10)
    _use(monkeypatch, transport)
    search = _run(review, lead, mindate="2010", maxdate="2016")
    assert (search.status, search.records_imported, search.hits_reported) == (
        "imported",
        10,
        10,
    )
    assert (search.database, search.query) == ("PubMed", TERM)
    assert search.filters == "Publication date 2010 to 2016"
    assert "PubMed ran it as:" in search.notes
    records = Record.objects.filter(search=search)
    assert sorted(records.values_list("pmid", flat=True)) == sorted(_pmids(EFETCH_10))
    assert (
        records.filter(abstract_sections__len__gt=0).exists()
        or records.exclude(abstract="").exists()
    )
    esearch = transport.params("esearch.fcgi")[0]
    assert (esearch["term"], esearch["mindate"], esearch["maxdate"]) == (
        TERM,
        "2010",
        "2016",
    )
    efetch = transport.params("efetch.fcgi")[0]
    assert efetch["WebEnv"] and efetch["query_key"] and efetch["db"] == "pubmed"
    assert (
        efetch["tool"] == "sr-manager-tests" and efetch["email"] == "lead@example.org"
    )
    job = Job.objects.get(pk=search.job_id)
    assert (job.status, job.done, job.total) == (Job.Status.SUCCEEDED, 10, 10)


def test_running_a_saved_search_again_imports_only_new_records(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_ids = _pmids(EFETCH_10)
    first = ReplayTransport().add("esearch.fcgi", _esearch_with(10, first_ids))
    first.add("efetch.fcgi", EFETCH_10)
    _use(monkeypatch, first)
    earlier = _run(review, lead)

    new_ids = _pmids(EFETCH_2)
    later = ReplayTransport().add(
        "esearch.fcgi", _esearch_with(12, first_ids + new_ids)
    )
    later.add("efetch.fcgi", EFETCH_2)
    _use(monkeypatch, later)
    rerun = _run(review, lead, rerun_of=earlier)
    assert (rerun.status, rerun.records_imported, rerun.hits_reported) == (
        "imported",
        2,
        12,
    )
    requested = later.params("efetch.fcgi")[0]["id"].split(",")
    assert sorted(requested) == sorted(new_ids)
    assert Record.objects.visible(review.pk).count() == 12


def test_pubmed_failure_is_reported_and_stores_nothing(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, ReplayTransport().add("esearch.fcgi", http_error(503)))
    search = _run(review, lead)
    assert search.status == Search.Status.FAILED
    assert search.error.startswith("PubMed: ")
    assert not Record.objects.exists() and not RecordSource.objects.exists()
    assert Job.objects.get(pk=search.job_id).status == Job.Status.FAILED


def test_fetch_cut_off_midway_leaves_nothing(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = ReplayTransport().add(
        "esearch.fcgi", _esearch_with(10, _pmids(EFETCH_10))
    )
    transport.add("efetch.fcgi", EFETCH_10.read_bytes()[:20000])
    _use(monkeypatch, transport)
    search = _run(review, lead)
    assert search.status == Search.Status.FAILED
    assert not Record.objects.exists()


@override_settings(NCBI_EMAIL="")
def test_pubmed_needs_a_contact_address(review: Review, lead: User) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="NCBI_EMAIL"):
        services.entrez_client()


def test_count_preview_fragment(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    esearch = (FIXTURES / "eutils-xml/biopython_esearch1.xml").read_bytes()
    _use(monkeypatch, ReplayTransport().add("esearch.fcgi", esearch))
    response = client_for(lead).get(
        f"/reviews/{review.pk}/searches/pubmed/count/",
        {"term": "biopython"},
        headers={"hx-request": "true"},
    )
    page = response.content.decode()
    assert "<html" not in page, "a fragment, not a page"
    assert 'data-testid="pubmed-count"' in page and "<strong>63</strong>" in page


def test_count_preview_says_what_went_wrong(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(
        monkeypatch,
        ReplayTransport().add("esearch.fcgi", http_error(400, b"Bad Request")),
    )
    page = (
        client_for(lead)
        .get(f"/reviews/{review.pk}/searches/pubmed/count/", {"term": "x"})
        .content.decode()
    )
    assert 'data-testid="pubmed-error"' in page


def test_pubmed_form_runs_the_search_in_the_background(
    review: Review,
    lead: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    transport = ReplayTransport().add(
        "esearch.fcgi", _esearch_with(2, _pmids(EFETCH_2))
    )
    transport.add("efetch.fcgi", EFETCH_2)
    _use(monkeypatch, transport)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(lead).post(
            f"/reviews/{review.pk}/searches/pubmed/",
            {"term": TERM, "mindate": "", "maxdate": ""},
        )
    assert len(callbacks) == 1
    search = Search.objects.get(review=review)
    assert response["Location"] == search.get_absolute_url()
    assert (search.status, search.records_imported) == ("imported", 2)


def test_pubmed_form_refuses_bad_dates(review: Review, lead: User) -> None:
    response = client_for(lead).post(
        f"/reviews/{review.pk}/searches/pubmed/", {"term": TERM, "mindate": "last year"}
    )
    assert "Use YYYY, YYYY/MM or YYYY/MM/DD." in response.content.decode()
    assert not Search.objects.exists()


def test_sibling_reruns_never_import_the_same_record_twice(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_ids = _pmids(EFETCH_10)
    first = ReplayTransport().add("esearch.fcgi", _esearch_with(10, first_ids))
    first.add("efetch.fcgi", EFETCH_10)
    _use(monkeypatch, first)
    earlier = _run(review, lead)
    new_ids = _pmids(EFETCH_2)
    later = ReplayTransport().add(
        "esearch.fcgi", _esearch_with(12, first_ids + new_ids)
    )
    later.add("efetch.fcgi", EFETCH_2)
    _use(monkeypatch, later)
    assert _run(review, lead, rerun_of=earlier).records_imported == 2
    # A second re-run of the *first* run (a sibling): the 2 new records are known.
    again = ReplayTransport().add(
        "esearch.fcgi", _esearch_with(12, first_ids + new_ids)
    )
    _use(monkeypatch, again)
    sibling = _run(review, lead, rerun_of=earlier)
    assert (sibling.status, sibling.records_imported) == (Search.Status.IMPORTED, 0)
    assert not again.params("efetch.fcgi"), "nothing new to fetch"
    pmids = list(Record.objects.visible(review.pk).values_list("pmid", flat=True))
    assert len(pmids) == len(set(pmids)) == 12


def test_a_search_cannot_run_again_while_a_run_is_under_way(
    review: Review, lead: User
) -> None:
    from django.core.exceptions import ValidationError

    earlier = SearchFactory(review=review, method=Search.Method.ENTREZ)
    SearchFactory(
        review=review, method=Search.Method.ENTREZ, rerun_of=earlier,
        status=Search.Status.IMPORTING,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="running already"):
        services.pubmed_search_create(
            review=review, actor=lead, term=TERM, rerun_of=earlier
        )
    failed = SearchFactory(review=review, method=Search.Method.ENTREZ, status="failed")
    with pytest.raises(ValidationError, match="imported its records"):
        services.pubmed_search_create(
            review=review, actor=lead, term=TERM, rerun_of=failed
        )


def test_rerun_button_refusal_is_a_message(review: Review, lead: User) -> None:
    failed = SearchFactory(review=review, method=Search.Method.ENTREZ, status="failed")
    response = client_for(lead).post(
        f"/reviews/{review.pk}/searches/{failed.pk}/rerun/", follow=True
    )
    assert "Only a search that imported its records can run again." in (
        response.content.decode()
    )
    assert Search.objects.count() == 1
