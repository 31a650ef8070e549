"""List pages run a fixed number of queries however many rows they show."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.models import User
from core.roles import Role
from reviews import services
from reviews.models import Review
from tests.conftest import client_for
from tests.factories import MembershipFactory, ReviewFactory, UserFactory


def test_home_page(db: None, django_assert_max_num_queries: Callable) -> None:
    user = UserFactory()
    for _ in range(30):
        review = ReviewFactory()
        MembershipFactory(review=review, user=user, role=Role.REVIEWER)
        MembershipFactory.create_batch(3, review=review)
    client = client_for(user)
    with django_assert_max_num_queries(6):
        response = client.get("/")
    assert response.content.decode().count("list-group-item-action") == 30


def test_team_page(
    review: Review, lead: User, django_assert_max_num_queries: Callable
) -> None:
    MembershipFactory.create_batch(40, review=review)
    services.invitations_create(
        review=review,
        actor=lead,
        emails=[f"p{n}@example.org" for n in range(20)],
        role=Role.REVIEWER,
    )
    client = client_for(lead)
    with django_assert_max_num_queries(9):
        response = client.get(f"/reviews/{review.pk}/team/")
    page = response.content.decode()
    assert page.count("/remove/") == 41, "every member has a row"
    assert page.count("/revoke/") == 20, "every pending invitation is listed"


def test_profile_page(lead: User, django_assert_max_num_queries: Callable) -> None:
    for _ in range(30):
        MembershipFactory(user=lead, role=Role.OBSERVER)
    client = client_for(lead)
    with django_assert_max_num_queries(6):
        response = client.get("/accounts/profile/")
    assert response.content.decode().count("list-group-item") == 31


@pytest.mark.parametrize("path", ["/reviews/{pk}/", "/reviews/{pk}/activity/"])
def test_review_pages(
    path: str, review: Review, lead: User, django_assert_max_num_queries: Callable
) -> None:
    for _ in range(30):
        member = MembershipFactory(review=review)
        services.membership_change_role(
            membership=member, actor=lead, role=Role.OBSERVER
        )
    client = client_for(lead)
    # The dashboard adds a fixed few per stage card (searches: 4).
    with django_assert_max_num_queries(12 if path == "/reviews/{pk}/" else 8):
        response = client.get(path.format(pk=review.pk))
    assert response.status_code == 200
    assert "membership role changed" in response.content.decode()
