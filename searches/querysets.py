"""Reusable record filters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection, models
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL

from searches.parsers.base import normalise_doi

if TYPE_CHECKING:
    from searches.models import Record  # noqa: F401 (named in QuerySet['Record'])

# PostgreSQL full-text search over title, abstract and authors reads the stored,
# GIN-indexed tsvector column that migration 0004 adds (PostgreSQL only).
FTS_MATCH = (
    "searches_record.search_document @@ websearch_to_tsquery('english'::regconfig, %s)"
)


class RecordQuerySet(models.QuerySet["Record"]):
    def visible(self, review_id: int) -> RecordQuerySet:
        """The review's records whose search finished importing."""
        return self.filter(review_id=review_id, search__status="imported")

    def unique(self, review_id: int) -> RecordQuerySet:
        """The review's imported records, each duplicate group once (its primary)."""
        return self.visible(review_id).filter(duplicate_of__isnull=True)

    def matching(self, text: str) -> RecordQuerySet:
        """Records matching what a person typed: a DOI, a PMID, or words found in
        the title, abstract or authors (full-text search on PostgreSQL)."""
        text = text.strip()
        if not text:
            return self
        doi = normalise_doi(text)
        if doi:
            return self.filter(doi=doi)
        if text.isdigit() and len(text) <= 9:
            return self.filter(pmid=text)
        if connection.vendor == "postgresql":
            sql = FTS_MATCH
            # The typed text is a bound parameter, never spliced into the SQL.
            match = RawSQL(sql, [text], output_field=models.BooleanField())  # noqa: S611
            return self.filter(match)
        query = Q()
        for word in text.split()[:8]:
            query &= (
                Q(title__icontains=word)
                | Q(abstract__icontains=word)
                | Q(authors__icontains=word)
            )
        return self.filter(query)

    def from_search(self, search_id: int) -> RecordQuerySet:
        from searches.models import RecordSource

        found = RecordSource.objects.filter(record=OuterRef("pk"), search_id=search_id)
        return self.filter(Exists(found))

    def between_years(self, first: int | None, last: int | None) -> RecordQuerySet:
        records = self
        if first:
            records = records.filter(year__gte=first)
        if last:
            records = records.filter(year__lte=last)
        return records
