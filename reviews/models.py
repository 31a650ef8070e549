from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.models import BaseModel
from core.roles import Role

INVITATION_SALT = "reviews.invitation"
# The fields a lead edits on the review form; audited by reviews.services.
REVIEW_FIELDS = (
    "title",
    "question",
    "population",
    "intervention",
    "comparator",
    "outcomes",
    "study_design",
    "protocol_registration",
    "status",
)


class Review(BaseModel):
    class Status(models.TextChoices):
        PROTOCOL = "protocol", "Protocol"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=300)
    question = models.TextField("review question", blank=True)
    population = models.TextField(blank=True)
    intervention = models.TextField(blank=True)
    comparator = models.TextField(blank=True)
    outcomes = models.TextField(blank=True)
    study_design = models.CharField("study designs", max_length=300, blank=True)
    protocol_registration = models.CharField(
        max_length=100,
        blank=True,
        help_text=(
            "Registry and identifier, e.g. PROSPERO CRD42023412345 "
            "or OSF 10.17605/OSF.IO/ABCDE."
        ),
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROTOCOL
    )
    is_demo = models.BooleanField(
        default=False, help_text="Created by `manage.py demo_review`."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Set by core.access.get_review_for_user: the requesting user's role.
    viewer_role: Role | None = None

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("reviews:dashboard", args=[self.pk])

    @property
    def viewer_is_lead(self) -> bool:
        return self.viewer_role == Role.LEAD

    def inclusion_criteria(self) -> list[str]:
        return [
            c.text for c in self.criteria.all() if c.kind == Criterion.Kind.INCLUSION
        ]

    def exclusion_criteria(self) -> list[str]:
        return [
            c.text for c in self.criteria.all() if c.kind == Criterion.Kind.EXCLUSION
        ]


class Criterion(BaseModel):
    """One eligibility criterion; each review keeps two ordered lists."""

    class Kind(models.TextChoices):
        INCLUSION = "inclusion", "Inclusion"
        EXCLUSION = "exclusion", "Exclusion"

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="criteria"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    position = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["kind", "position"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(
                fields=["review", "kind", "position"], name="criterion_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.position}: {self.text[:60]}"


class Membership(BaseModel):
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["review", "user__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "user"], name="membership_unique_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.review}"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )


class Invitation(BaseModel):
    """An e-mailed, single-use link that makes its holder a member of a review.

    The link's token is the invitation id signed with SECRET_KEY, so no secret is
    stored in the database; expiry, use and revocation are checked on the row.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REVIEWER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.review}"

    @property
    def token(self) -> str:
        # No timestamp in the signature: the link is the same whenever it is
        # built, and expiry is the row's expires_at.
        return signing.Signer(salt=INVITATION_SALT).sign_object(self.pk)

    def get_absolute_url(self) -> str:
        return reverse("reviews:invitation_accept", args=[self.token])

    @property
    def state(self) -> Invitation.State:
        if self.accepted_at:
            return self.State.ACCEPTED
        if self.revoked_at:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.PENDING

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING
