"""Demo searches for `manage.py demo_review`: real exports from the shared fixtures.

The 'restoration' search was run in PubMed, Web of Science and Scopus (revtools'
example data), so the three files overlap, as real multi-database searches do.
The topic differs from the demo review's; the workflow is what they show.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from django.conf import settings

from core.models import User
from reviews.models import Review
from searches import services
from searches.models import Search

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "fixtures"
DEMO_FILES = [
    # (file, database, platform, query, hits reported)
    (
        "medline-nbib/revtools_restoration_pubmed.nbib",
        "PubMed",
        "NCBI PubMed web interface",
        "restoration AND (ecology OR ecosystem)",
        104,
    ),
    (
        "wos-tagged/revtools_restoration_WoS.ciw",
        "Web of Science Core Collection",
        "Clarivate",
        "TS=(restoration AND ecosystem)",
        247,
    ),
    (
        "ris/revtools_restoration_scopus.ris",
        "Scopus",
        "Elsevier",
        "TITLE-ABS-KEY(restoration AND ecosystem)",
        286,
    ),
]


def demo_searches_load(*, review: Review, lead: User) -> Iterator[str]:
    """Import the demo files not yet in the review; yields one line per file."""
    if not FIXTURES.is_dir():
        yield f"Demo searches skipped: {FIXTURES} is not here."
        return
    for name, database, platform, query, hits in DEMO_FILES:
        path = FIXTURES / name
        if (
            Search.objects.filter(review=review)
            .filter(file_name=path.name)
            .exclude(status="failed")
            .exists()
        ):
            continue
        with path.open("rb") as binary:
            search = services.search_import_now(
                review=review,
                actor=lead,
                binary=binary,
                file_name=path.name,
                database=database,
                platform=platform,
                query=query,
                hits_reported=hits,
                run_on=date(2018, 3, 12),
            )
        if search.status == Search.Status.IMPORTED:
            count = search.records_imported
            yield f"Imported {count} records from {database} ({path.name})."
        else:
            yield f"Could not import {path.name}: {search.error}"
