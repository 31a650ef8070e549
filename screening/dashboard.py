"""The screening card on the review dashboard: settled records per stage only
(conflict counts would hint at how others voted, so they stay on the leads'
screening dashboard)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from reviews.models import Review
from screening.models import RecordStage
from screening.rules import Outcome, Stage


def screening_card(review: Review) -> dict[str, Any]:
    rows = (
        RecordStage.objects.filter(review=review)
        .values("stage")
        .annotate(
            included=Count("id", filter=Q(status=Outcome.INCLUDED)),
            excluded=Count("id", filter=Q(status=Outcome.EXCLUDED)),
        )
    )
    by_stage = {row["stage"]: row for row in rows}
    empty = {"included": 0, "excluded": 0}
    return {
        "review": review,
        "title_abstract": by_stage.get(Stage.TITLE_ABSTRACT.value, empty),
        "full_text": by_stage.get(Stage.FULL_TEXT.value, empty),
    }
