"""Shared fixtures: one review and its named personas.

`lead`, `reviewer_a`, `reviewer_b` and `observer` are members of `review` with
those roles; `outsider` is a logged-in user who belongs to `other_review` only.
"""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import User
from core.roles import Role
from reviews.models import Review
from tests.factories import MembershipFactory, ReviewFactory, UserFactory


@pytest.fixture
def review(db: None) -> Review:
    return ReviewFactory(title="Exercise for neuropathic pain after spinal cord injury")


@pytest.fixture
def other_review(db: None) -> Review:
    return ReviewFactory(title="Secret other review about acupuncture")


def _member(review: Review, role: Role, email: str, name: str) -> User:
    user = UserFactory(email=email, name=name)
    MembershipFactory(review=review, user=user, role=role)
    return user


@pytest.fixture
def lead(review: Review) -> User:
    return _member(review, Role.LEAD, "lead@example.org", "Lena Lead")


@pytest.fixture
def reviewer_a(review: Review) -> User:
    return _member(review, Role.REVIEWER, "reviewer.a@example.org", "Ravi Reviewer")


@pytest.fixture
def reviewer_b(review: Review) -> User:
    return _member(review, Role.REVIEWER, "reviewer.b@example.org", "Rosa Reviewer")


@pytest.fixture
def observer(review: Review) -> User:
    return _member(review, Role.OBSERVER, "observer@example.org", "Otto Observer")


@pytest.fixture
def outsider(other_review: Review) -> User:
    return _member(other_review, Role.LEAD, "outsider@example.org", "Oscar Outsider")


@pytest.fixture
def team(
    lead: User, reviewer_a: User, reviewer_b: User, observer: User
) -> dict[str, User]:
    return {
        "lead": lead,
        "reviewer_a": reviewer_a,
        "reviewer_b": reviewer_b,
        "observer": observer,
    }


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
