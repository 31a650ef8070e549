"""The searches card on the review dashboard: live counts per source."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from reviews.models import Review
from searches.models import Search


def searches_card(review: Review) -> dict[str, Any]:
    # Each search keeps the count of records it imported, so the card reads a few
    # search rows instead of counting 100,000 records on every dashboard view.
    searches = Search.objects.filter(review=review)
    per_database = (
        searches.filter(status=Search.Status.IMPORTED)
        .values("database")
        .annotate(n=Sum("records_imported"))
        .order_by("-n")
    )
    rows = [(row["database"], row["n"]) for row in per_database]
    return {
        "review": review,
        "search_count": searches.count(),
        "importing": searches.filter(
            status__in=[Search.Status.PENDING, Search.Status.IMPORTING]
        ).count(),
        "record_count": sum(n for _, n in rows),
        "per_database": rows,
    }
