from __future__ import annotations

from celery import shared_task

from core.tasks import JobTask
from reviews.models import Review
from searches import services
from searches.models import Search


@shared_task(base=JobTask, acks_late=True)
def search_import(*, job_id: int, search_id: int) -> None:
    """Import a search's file (see services.search_import_run)."""
    if not Search.objects.filter(pk=search_id).exists():
        return  # deleted meanwhile
    services.search_import_run(search_id=search_id, job_id=job_id)


@shared_task(base=JobTask, acks_late=True)
def pubmed_import(*, job_id: int, search_id: int) -> None:
    """Run a PubMed search and import its records (see services.pubmed_import_run)."""
    if not Search.objects.filter(pk=search_id).exists():
        return
    services.pubmed_import_run(search_id=search_id, job_id=job_id)


@shared_task(base=JobTask, acks_late=True, soft_time_limit=3600, time_limit=3900)
def dedup(*, job_id: int, review_id: int) -> None:
    """Find and merge duplicate records (see dedup_services.dedup_run)."""
    from searches import dedup_services

    if not Review.objects.filter(pk=review_id).exists():
        return
    dedup_services.dedup_run(review_id=review_id, job_id=job_id)
