"""Create (or bring up to date) the demo review that `make run` shows.

Idempotent: running it again keeps existing data, resets the demo passwords to
the ones printed, and adds whatever a newer version of the command adds.
Every later stage of the workflow extends this command.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.models import User
from core.roles import Role
from reviews import services
from reviews.models import Membership, Review

DEMO_TITLE = "Exercise for neuropathic pain after spinal cord injury"
DEMO_USERS = [
    # (e-mail, name, password, role)
    ("lead@demo.example", "Lena Lead", "demo-lead-pass", Role.LEAD),
    ("reviewer.a@demo.example", "Ravi Reviewer", "demo-reviewer-a-pass", Role.REVIEWER),
    ("reviewer.b@demo.example", "Rosa Reviewer", "demo-reviewer-b-pass", Role.REVIEWER),
]
DEMO_PROTOCOL = {
    "question": (
        "In rodents with traumatic spinal cord injury, does exercise training reduce "
        "neuropathic pain behaviours compared with no exercise?"
    ),
    "population": "Rats or mice with experimental traumatic spinal cord injury "
    "(contusion, compression, transection or hemisection).",
    "intervention": "Exercise training: treadmill, swimming, wheel running, cycling or "
    "other active or passive training, any start day, frequency and duration.",
    "comparator": "Injured animals without exercise (sedentary or sham training).",
    "outcomes": "Mechanical allodynia (von Frey), thermal hyperalgesia (Hargreaves, "
    "tail flick, hot plate), cold allodynia; pain-related molecular markers.",
    "study_design": "Controlled preclinical (animal) studies",
    "protocol_registration": "PROSPERO CRD42022312345 (illustrative)",
    "status": Review.Status.IN_PROGRESS,
}
DEMO_INCLUSION = [
    "Rodent model of traumatic spinal cord injury",
    "Exercise or training intervention after the injury",
    "Control group of injured animals without exercise",
    "Reports at least one neuropathic pain behavioural outcome",
]
DEMO_EXCLUSION = [
    "Non-traumatic injury models (e.g. ischaemia, tumour)",
    "Exercise combined with another therapy without an exercise-only arm",
    "Reviews, abstracts without data, or in vitro studies",
]


class Command(BaseCommand):
    help = "Create the demo review with a lead and two reviewers (idempotent)."

    def _extend(self, review: Review, lead: User) -> None:
        """Each later stage adds its demo data here (idempotently)."""
        from screening.demo import demo_screening_load
        from searches.demo import demo_searches_load

        for line in demo_searches_load(review=review, lead=lead):
            self.stdout.write(line)
        reviewer_a = User.objects.get(email="reviewer.a@demo.example")
        reviewer_b = User.objects.get(email="reviewer.b@demo.example")
        for line in demo_screening_load(
            review=review, lead=lead, reviewer_a=reviewer_a, reviewer_b=reviewer_b
        ):
            self.stdout.write(line)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo passwords are published).",
        )

    @transaction.atomic
    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like a production site. The demo "
                "accounts have published passwords; pass --force if you really "
                "want them here."
            )
        users = {}
        for email, name, password, role in DEMO_USERS:
            user, _ = User.objects.get_or_create(email=email, defaults={"name": name})
            user.set_password(password)
            user.save(update_fields=["password"])
            users[email] = (user, role)

        lead = users["lead@demo.example"][0]
        review = Review.objects.filter(is_demo=True, title=DEMO_TITLE).first()
        if review is None:
            review = services.review_create(
                creator=lead,
                title=DEMO_TITLE,
                inclusion_criteria=DEMO_INCLUSION,
                exclusion_criteria=DEMO_EXCLUSION,
                is_demo=True,
                **DEMO_PROTOCOL,
            )
            self.stdout.write(f"Created the demo review #{review.pk}.")
        else:
            self.stdout.write(
                f"The demo review #{review.pk} exists; bringing it up to date."
            )
        for user, role in users.values():
            if not Membership.objects.filter(review=review, user=user).exists():
                services.membership_create(
                    review_id=review.pk, user=user, role=role, actor=lead
                )

        self._extend(review, lead)
        self.stdout.write(self.style.SUCCESS(f"Demo review: {review.title}"))
        self.stdout.write("Log in with one of these demo accounts:")
        for email, _name, password, role in DEMO_USERS:
            self.stdout.write(f"  {role.label:<9} {email:<26} password: {password}")
