from __future__ import annotations

from celery import shared_task

from core.tasks import JobTask
from reviews.models import Review


@shared_task(base=JobTask, acks_late=True, soft_time_limit=3600, time_limit=3900)
def full_text_zip(*, job_id: int, review_id: int) -> None:
    """Match a ZIP of PDFs to records (see full_text_services.full_text_zip_run)."""
    from screening import full_text_services

    if not Review.objects.filter(pk=review_id).exists():
        return  # deleted meanwhile
    full_text_services.full_text_zip_run(review_id=review_id, job_id=job_id)
