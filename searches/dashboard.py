"""The searches card on the review dashboard: live counts per source."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from reviews.models import Review
from searches.models import Record, RecordSource, Search


def searches_card(review: Review) -> dict[str, Any]:
    per_database = (
        RecordSource.objects.filter(
            search__review=review, search__status=Search.Status.IMPORTED
        )
        .values("search__database")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return {
        "review": review,
        "search_count": Search.objects.filter(review=review).count(),
        "importing": Search.objects.filter(review=review)
        .filter(status__in=[Search.Status.PENDING, Search.Status.IMPORTING])
        .count(),
        "record_count": Record.objects.visible(review.pk).count(),
        "per_database": [(row["search__database"], row["n"]) for row in per_database],
    }
