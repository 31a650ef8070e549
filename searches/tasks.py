from __future__ import annotations

from celery import shared_task

from core.tasks import JobTask
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
