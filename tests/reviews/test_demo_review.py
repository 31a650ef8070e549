from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from core.roles import Role
from reviews.models import Membership, Review
from screening.models import Decision, ExclusionReason, RecordStage
from searches.models import Record, Search


def _run(**options: object) -> str:
    out = StringIO()
    call_command("demo_review", stdout=out, **options)
    return out.getvalue()


@override_settings(DEBUG=True)
def test_demo_review_is_idempotent_and_its_logins_work(db: None) -> None:
    first = _run()
    second = _run()
    assert Review.objects.filter(is_demo=True).count() == 1
    review = Review.objects.get(is_demo=True)
    assert review.title == "Exercise for neuropathic pain after spinal cord injury"
    roles = sorted(
        Membership.objects.filter(review=review).values_list("role", flat=True)
    )
    assert roles == [Role.LEAD, Role.REVIEWER, Role.REVIEWER]
    assert len(review.inclusion_criteria()) >= 3
    # Searches: the three 'restoration' exports and a recorded PubMed search, once each.
    logged = sorted(
        Search.objects.filter(review=review).values_list("database", "method")
    )
    assert logged == [
        ("PubMed", "entrez"),
        ("PubMed", "file"),
        ("Scopus", "file"),
        ("Web of Science Core Collection", "file"),
    ]
    imported = Search.objects.filter(review=review, status=Search.Status.IMPORTED)
    assert imported.count() == 4
    assert sorted(imported.values_list("records_imported", flat=True)) == [
        10,
        104,
        247,
        286,
    ]
    assert Record.objects.visible(review.pk).count() == 647
    assert "password: demo-lead-pass" in first and "password: demo-lead-pass" in second
    # Screening: both stages voted by the two reviewers, conflicts, one resolved.
    states = RecordStage.objects.filter(review=review)
    assert states.filter(stage="title_abstract").count() == 40
    assert states.filter(stage="full_text").count() == 8
    assert states.filter(stage="title_abstract", status="conflict").count() >= 3
    assert states.filter(stage="full_text", status="conflict").count() == 1
    assert states.filter(method="lead").count() == 1
    assert Decision.objects.filter(review=review).count() == 96  # not doubled
    assert ExclusionReason.objects.filter(review=review).count() == 7
    assert "Screened 40 records" in first and "Screened" not in second
    client = Client()
    assert client.login(username="lead@demo.example", password="demo-lead-pass")
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert "Demo review" in page and review.title in page


@override_settings(DEBUG=False)
def test_demo_review_refuses_a_production_site(db: None) -> None:
    with pytest.raises(CommandError, match="DEBUG is off"):
        _run()
    assert not Review.objects.exists()
