"""factory-boy factories. Services create real rows; factories set up the scene."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from core.models import User
from core.roles import Role
from reviews.models import Criterion, Invitation, Membership, Review

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    title = factory.Sequence(lambda n: f"Review {n}: exercise and neuropathic pain")
    question = "Does exercise reduce neuropathic pain after spinal cord injury?"
    population = "Rodents with spinal cord injury"
    intervention = "Treadmill training"
    comparator = "No exercise"
    outcomes = "Mechanical allodynia"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    review = factory.SubFactory(ReviewFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.REVIEWER


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criterion

    review = factory.SubFactory(ReviewFactory)
    kind = Criterion.Kind.INCLUSION
    position = factory.Sequence(lambda n: n + 1)
    text = "Rodent model"


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    review = factory.SubFactory(ReviewFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    role = Role.REVIEWER
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
