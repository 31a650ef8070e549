from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from core.access import get_review_for_user
from core.models import User
from core.roles import Role
from reviews.models import Review


def test_member_gets_the_review_with_their_role(
    review: Review, reviewer_a: User
) -> None:
    got = get_review_for_user(reviewer_a, review.pk, min_role=Role.REVIEWER)
    assert got == review
    assert got.viewer_role == Role.REVIEWER


def test_non_member_gets_404(review: Review, outsider: User) -> None:
    with pytest.raises(Http404):
        get_review_for_user(outsider, review.pk)


def test_anonymous_gets_404(review: Review) -> None:
    with pytest.raises(Http404):
        get_review_for_user(AnonymousUser(), review.pk)


def test_member_without_the_role_gets_403(review: Review, observer: User) -> None:
    with pytest.raises(PermissionDenied, match="Reviewer role"):
        get_review_for_user(observer, review.pk, min_role=Role.REVIEWER)


def test_same_user_holds_different_roles_in_different_reviews(
    review: Review, other_review: Review, reviewer_a: User
) -> None:
    from tests.factories import MembershipFactory

    MembershipFactory(review=other_review, user=reviewer_a, role=Role.LEAD)
    assert (
        get_review_for_user(reviewer_a, other_review.pk, Role.LEAD).viewer_role
        == Role.LEAD
    )
    with pytest.raises(PermissionDenied):
        get_review_for_user(reviewer_a, review.pk, Role.LEAD)


@pytest.mark.parametrize(
    ("role", "minimum", "allowed"),
    [
        (Role.LEAD, Role.REVIEWER, True),
        (Role.REVIEWER, Role.REVIEWER, True),
        (Role.OBSERVER, Role.REVIEWER, False),
        (Role.REVIEWER, Role.LEAD, False),
        (Role.OBSERVER, Role.OBSERVER, True),
    ],
)
def test_role_order(role: Role, minimum: Role, allowed: bool) -> None:
    assert role.at_least(minimum) is allowed
