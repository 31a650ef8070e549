from __future__ import annotations

import smtplib

from celery import shared_task

from core.models import Job
from core.tasks import JobTask
from reviews import services


@shared_task(
    base=JobTask,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def invitations_send(*, job_id: int) -> None:
    """Send the invitation e-mails of one job (see services.invitations_send)."""
    if not Job.objects.filter(pk=job_id).exists():
        return  # the review was deleted meanwhile
    services.invitations_send(job_id=job_id)
