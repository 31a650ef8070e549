"""Progress of background jobs.

Each function writes in its own short transaction (autocommit), so a page
polling the job sees progress while the task is still working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from core.models import Job

if TYPE_CHECKING:
    from core.models import User


def job_create(
    *,
    kind: str,
    label: str,
    review_id: int | None = None,
    params: dict[str, Any] | None = None,
    total: int = 0,
    created_by: User | None = None,
) -> Job:
    """A queued job; the caller enqueues its task with transaction.on_commit."""
    return Job.objects.create(
        kind=kind,
        label=label,
        review_id=review_id,
        params=params or {},
        total=total,
        created_by=created_by,
    )


def job_start(*, job_id: int) -> bool:
    """Mark a job running. False when it is gone or already finished, so a task
    delivered again after the job ended does nothing."""
    started = Job.objects.filter(
        pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).update(status=Job.Status.RUNNING, started_at=timezone.now(), updated_at=timezone.now())
    return started == 1


def job_progress(*, job_id: int, done: int, total: int | None = None, message: str = "") -> None:
    fields: dict[str, Any] = {"done": done, "message": message[:300], "updated_at": timezone.now()}
    if total is not None:
        fields["total"] = total
    Job.objects.filter(pk=job_id).update(**fields)


def job_succeed(*, job_id: int, message: str = "") -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED,
        message=message[:300],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def job_fail(*, job_id: int, error: str) -> None:
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(
        status=Job.Status.FAILED,
        error=error,
        message="Failed",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
