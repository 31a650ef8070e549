"""A real `celery -A config worker` process runs the tasks.

On the embedded default the broker is kombu's filesystem transport under var/;
with REDIS_URL set (CI's second pass) it is Redis. Either way the web process
only enqueues, and the page sees progress the worker writes to the Job row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.models import Job, User
from core.roles import Role
from reviews import services
from reviews.models import Invitation, Review
from tests.processes import celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Path]:
    """A worker against this test database; yields the folder its e-mails go to."""
    mail_dir = tmp_path / "mail"
    with celery_worker(EMAIL_URL=f"filemail:///{mail_dir}"):
        yield mail_dir


def _wait_until_finished(job: Job, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    seen_progress = set()
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen_progress.add(job.done)
        if job.is_finished:
            return job
        time.sleep(0.1)
    pytest.fail(
        f"Job still {job.status} after {timeout}s "
        f"(progress seen: {sorted(seen_progress)})"
    )


def test_worker_sends_invitations_and_reports_progress(
    worker: Path, review: Review, lead: User
) -> None:
    job = services.invitations_create(
        review=review,
        actor=lead,
        emails=["w1@example.org", "w2@example.org"],
        role=Role.REVIEWER,
    )
    job = _wait_until_finished(job)
    assert (job.status, job.done, job.total) == (Job.Status.SUCCEEDED, 2, 2), job.error
    assert job.message == "2 invitation e-mail(s) sent"
    assert Invitation.objects.filter(review=review, sent_at__isnull=False).count() == 2
    mails = "".join(path.read_text() for path in worker.glob("*.log"))
    for invitation in Invitation.objects.filter(review=review):
        assert invitation.get_absolute_url() in mails


def test_worker_imports_an_uploaded_file_with_progress(
    worker: Path, review: Review, lead: User
) -> None:
    from datetime import date

    from django.core.files.uploadedfile import SimpleUploadedFile

    from searches.models import Record, Search
    from searches.services import search_file_create
    from tests.searches.conftest import FIXTURES

    data = (FIXTURES / "ris/citesource_gambling-harms_scopus_255.ris").read_bytes()
    search = search_file_create(
        review=review,
        actor=lead,
        upload=SimpleUploadedFile("scopus.ris", data),
        file_name="scopus.ris",
        database="Scopus",
        run_on=date(2022, 12, 7),
    )
    job = _wait_until_finished(Job.objects.get(pk=search.job_id))
    assert job.status == Job.Status.SUCCEEDED, job.error
    search.refresh_from_db()
    assert (search.status, search.records_imported) == (Search.Status.IMPORTED, 255)
    assert Record.objects.visible(review.pk).count() == 255
