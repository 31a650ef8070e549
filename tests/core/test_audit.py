from __future__ import annotations

import pytest
from django.db import IntegrityError

from core.audit import audit_event_create
from core.models import AuditEvent, User
from core.roles import Role
from reviews import services
from reviews.models import Membership, Review
from tests.factories import MembershipFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_audit_row_is_written_with_the_change() -> None:
    lead = UserFactory()
    review = services.review_create(creator=lead, title="Audited review")
    verbs = list(
        AuditEvent.objects.filter(review=review).values_list("verb", flat=True)
    )
    assert sorted(verbs) == ["membership.created", "review.created"]
    created = AuditEvent.objects.get(review=review, verb="review.created")
    assert created.actor == lead
    assert created.after["title"] == "Audited review"


@pytest.mark.django_db(transaction=True)
def test_failing_audit_write_rolls_the_change_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    review = Review.objects.create(title="R")
    lead = UserFactory()
    MembershipFactory(review=review, user=lead, role=Role.LEAD)
    member = MembershipFactory(review=review, role=Role.REVIEWER)

    def broken_create(**kwargs: object) -> None:
        raise IntegrityError("audit table unavailable")

    monkeypatch.setattr(AuditEvent.objects, "create", broken_create)
    with pytest.raises(IntegrityError):
        services.membership_change_role(
            membership=member, actor=lead, role=Role.OBSERVER
        )
    member.refresh_from_db()
    assert member.role == Role.REVIEWER


@pytest.mark.django_db(transaction=True)
def test_failing_change_after_audit_leaves_no_audit_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creator = UserFactory()

    def broken_membership(**kwargs: object) -> None:
        raise IntegrityError("membership insert failed")

    monkeypatch.setattr(Membership.objects, "create", broken_membership)
    with pytest.raises(IntegrityError):
        services.review_create(creator=creator, title="Never stored")
    assert not Review.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_audit_outside_a_transaction_is_refused(review: Review) -> None:
    user: User = UserFactory()
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        audit_event_create(actor=user, verb="x", target=review, review_id=review.pk)
