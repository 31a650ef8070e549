"""factory-boy factories. Services create real rows; factories set up the scene."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from core.models import User
from core.roles import Role
from reviews.models import Criterion, Invitation, Membership, Review
from searches.models import Record, RecordSource, Search

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


class SearchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Search

    review = factory.SubFactory(ReviewFactory)
    database = "PubMed"
    run_on = factory.LazyFunction(lambda: timezone.localdate())
    query = '"spinal cord injuries"[MeSH] AND exercise'
    status = Search.Status.IMPORTED


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Record
        skip_postgeneration_save = True

    review = factory.SelfAttribute("search.review")
    search = factory.SubFactory(SearchFactory)
    title = factory.Sequence(lambda n: f"Treadmill training and allodynia, study {n}")
    abstract = "Rats with contusion injury ran on a treadmill."
    authors = [["Smith", "Jane"], ["Lee", "K"]]
    year = 2020

    @factory.post_generation
    def source(obj, create, extracted, **kwargs):
        if create:
            RecordSource.objects.create(
                record=obj, search=obj.search, position=obj.pk, raw="TY  - JOUR"
            )
