"""Reusable record filters."""

from __future__ import annotations

import re
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


# SQLite: the FTS5 index of migration 0008, when this SQLite has FTS5.
SQLITE_FTS_MATCH = (
    "SELECT rowid FROM searches_record_fts WHERE searches_record_fts MATCH %s"
)
_WORD = re.compile(r"\w+")


def sqlite_fts_query(text: str) -> str:
    """What a person typed as an FTS5 query: each word quoted (so nothing in
    it is FTS syntax) and matched as a prefix ("allodyn" finds "allodynia"),
    all words required. Empty when the text has no word."""
    words = _WORD.findall(text)[:8]
    return " ".join(f'"{word}"*' for word in words)


SQLITE_FTS_OBJECTS = (
    "searches_record_fts",
    "searches_record_fts_insert",
    "searches_record_fts_delete",
    "searches_record_fts_update",
)


def sqlite_fts_ready() -> bool:
    """The FTS5 index and the triggers that keep it in step all exist (a table
    rebuild by a later migration would drop the triggers: the index would go
    stale, so LIKE is used instead)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN (%s, %s, %s, %s)",
            SQLITE_FTS_OBJECTS,
        )
        return bool(cursor.fetchone()[0] == len(SQLITE_FTS_OBJECTS))


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
        if sqlite_fts_ready():
            fts_query = sqlite_fts_query(text)
            if not fts_query:
                return self.none()
            # The typed text is a bound parameter, never spliced into the SQL.
            found = RawSQL(SQLITE_FTS_MATCH, [fts_query])  # noqa: S611
            return self.filter(id__in=found)
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
