from __future__ import annotations

from celery import shared_task

from core.tasks import JobTask
from reviews.models import Review


@shared_task(base=JobTask, acks_late=True, soft_time_limit=3600, time_limit=3900)
def full_text_zip(*, job_id: int, review_id: int) -> None:
    """Match a ZIP of PDFs to records (see full_text_services.full_text_zip_run).
    Safe to deliver again: a job that finished is left as it is."""
    from screening import full_text_services

    if not Review.objects.filter(pk=review_id).exists():
        return  # deleted meanwhile
    full_text_services.full_text_zip_run(review_id=review_id, job_id=job_id)


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def priority_retrain(*, review_id: int) -> None:
    """Retrain the prioritisation model (see priority_services.priority_retrain_run)."""
    from screening import priority_services  # scikit-learn loads in the worker only

    priority_services.priority_retrain_run(review_id=review_id)


@shared_task(acks_late=True)
def priority_sweep() -> None:
    """Retrain the prioritised queues that are behind (see priority_services)."""
    from screening import priority_services

    for review_id in priority_services.reviews_behind():
        priority_retrain.delay(review_id=review_id)


@shared_task(base=JobTask, acks_late=True, soft_time_limit=3600, time_limit=3900)
def decision_import(*, job_id: int, review_id: int) -> None:
    """Import a CSV of prior decisions (see import_services.decision_import_run)."""
    from screening import import_services

    if not Review.objects.filter(pk=review_id).exists():
        return  # deleted meanwhile
    import_services.decision_import_run(job_id=job_id)
