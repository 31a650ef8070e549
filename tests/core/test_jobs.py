from __future__ import annotations

from celery import shared_task

from core.models import Job, User
from core.services import job_create, job_progress, job_start, job_succeed
from core.tasks import JobTask
from reviews.models import Review
from tests.conftest import client_for


@shared_task(base=JobTask)
def _always_fails(*, job_id: int) -> None:
    job_start(job_id=job_id)
    raise ValueError("the input file is not RIS")


def test_job_lifecycle_reports_progress(review: Review) -> None:
    job = job_create(kind="test", label="Counting", review_id=review.pk, total=4)
    assert job.status == Job.Status.QUEUED
    assert job_start(job_id=job.pk)
    job_progress(job_id=job.pk, done=2, message="Halfway")
    job.refresh_from_db()
    assert (job.status, job.percent, job.message) == (Job.Status.RUNNING, 50, "Halfway")
    job_succeed(job_id=job.pk, message="Done")
    job.refresh_from_db()
    assert job.is_finished and job.percent == 100 and job.finished_at
    assert not job_start(job_id=job.pk), "a finished job must not start again"


def test_failing_task_marks_its_job_failed(review: Review) -> None:
    job = job_create(kind="test", label="Import", review_id=review.pk)
    # throw=False runs the task as a worker does: the error is caught, on_failure runs.
    result = _always_fails.apply(kwargs={"job_id": job.pk}, throw=False)
    assert isinstance(result.result, ValueError)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "the input file is not RIS" in job.error


def test_progress_fragment_polls_until_the_job_finishes(
    review: Review, reviewer_a: User
) -> None:
    job = job_create(kind="test", label="Import", review_id=review.pk, total=10)
    url = f"/reviews/{review.pk}/jobs/{job.pk}/"
    client = client_for(reviewer_a)
    job_start(job_id=job.pk)
    job_progress(job_id=job.pk, done=3)
    running = client.get(url, headers={"hx-request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert "3 / 10" in running
    job_succeed(job_id=job.pk, message="10 records imported")
    finished = client.get(url, headers={"hx-request": "true"}).content.decode()
    assert "hx-trigger" not in finished
    assert "10 records imported" in finished
