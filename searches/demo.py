"""Demo searches for `manage.py demo_review`: real exports from the shared fixtures.

The 'restoration' search was run in PubMed, Web of Science and Scopus (revtools'
example data), so the three files overlap, as real multi-database searches do.
The topic differs from the demo review's; the workflow is what they show.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from django.conf import settings

from core.models import User
from reviews.models import Review
from searches import services
from searches.entrez import EntrezClient, EntrezConfig, ReplayTransport
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


DEMO_PUBMED_TERM = "cancer AND 2025/09/27:2025/11/26[edat]"


def recorded_pubmed_client() -> EntrezClient:
    """A PubMed client that replays recorded real E-utilities answers (no network):
    the esearch answer (with its history WebEnv) narrowed to the PMIDs of a
    recorded efetch answer, so counts and records agree."""
    efetch = (FIXTURES / "pubmed-xml/biomedquery_efetch_sample.xml").read_bytes()
    pmids = re.findall(rb"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)</PMID>", efetch)
    esearch = (FIXTURES / "eutils-xml/biopython_esearch2.xml").read_bytes()
    esearch = re.sub(
        rb"<Count>\d+</Count>", b"<Count>%d</Count>" % len(pmids), esearch, count=1
    )
    id_list = b"<IdList>" + b"".join(b"<Id>%s</Id>" % p for p in pmids) + b"</IdList>"
    esearch = re.sub(rb"<IdList>.*?</IdList>", id_list, esearch, count=1, flags=re.S)
    transport = (
        ReplayTransport().add("esearch.fcgi", esearch).add("efetch.fcgi", efetch)
    )
    config = EntrezConfig(email="demo@example.org", tool="sr-manager-demo")
    return EntrezClient(config, transport=transport)


def demo_searches_load(*, review: Review, lead: User) -> Iterator[str]:
    """Import the demo files and the recorded PubMed search not yet in the review;
    yields one line per search."""
    if not FIXTURES.is_dir():
        yield f"Demo searches skipped: {FIXTURES} is not here."
        return
    yield from _demo_pubmed(review, lead)
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
    from searches import dedup_services  # dedup imports the services too

    counts = dedup_services.dedup_run(review_id=review.pk)
    if counts["merged"] or counts["queued"]:
        yield (
            f"Deduplicated: {counts['merged']} duplicates merged, "
            f"{counts['queued']} pairs to check."
        )


def _demo_pubmed(review: Review, lead: User) -> Iterator[str]:
    already = Search.objects.filter(
        review=review, method=Search.Method.ENTREZ, query=DEMO_PUBMED_TERM
    ).exclude(status=Search.Status.FAILED)
    if already.exists():
        return
    search = services.pubmed_search_create(
        review=review,
        actor=lead,
        term=DEMO_PUBMED_TERM,
        notes="Demo: replayed from recorded E-utilities answers.",
        enqueue=False,
    )
    services.pubmed_import_run(
        search_id=search.pk, job_id=search.job_id, client=recorded_pubmed_client()
    )
    search.refresh_from_db()
    yield f"Ran the recorded PubMed search: {search.records_imported} records imported."
