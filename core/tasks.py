from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.core.management import call_command

from core.services import job_fail


class JobTask(Task):  # type: ignore[type-arg]
    """Base for tasks that take `job_id`: when the task finally fails (retries
    exhausted or an unexpected error) its Job row is marked failed, so the page
    polling it stops and shows the error."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        job_id = kwargs.get("job_id") or (args[0] if args else None)
        if job_id is not None:
            job_fail(job_id=int(job_id), error=f"{type(exc).__name__}: {exc}")


@shared_task
def sessions_clear() -> None:
    """Delete expired sessions (scheduled daily by celery beat)."""
    call_command("clearsessions")
