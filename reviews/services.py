"""Writes to reviews, teams and invitations, each audited in its own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import timezone

from core.access import get_invitation_for_token
from core.audit import audit_event_create
from core.models import Job, User
from core.roles import Role
from core.services import job_create, job_progress, job_start, job_succeed
from reviews.models import REVIEW_FIELDS, Criterion, Invitation, Membership, Review


def _review_snapshot(review: Review) -> dict[str, Any]:
    snapshot: dict[str, Any] = {name: getattr(review, name) for name in REVIEW_FIELDS}
    snapshot["inclusion_criteria"] = review.inclusion_criteria()
    snapshot["exclusion_criteria"] = review.exclusion_criteria()
    return snapshot


def _criteria_replace(review: Review, kind: str, texts: Sequence[str]) -> None:
    review.criteria.filter(kind=kind).delete()
    Criterion.objects.bulk_create(
        Criterion(review=review, kind=kind, position=position, text=text)
        for position, text in enumerate(texts, start=1)
    )


@transaction.atomic
def review_create(
    *,
    creator: User,
    title: str,
    inclusion_criteria: Sequence[str] = (),
    exclusion_criteria: Sequence[str] = (),
    is_demo: bool = False,
    **fields: str,
) -> Review:
    """A new review whose creator is its first lead."""
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise TypeError(f"Unknown review fields: {sorted(unknown)}")
    review = Review.objects.create(
        title=title, created_by=creator, is_demo=is_demo, **fields
    )
    _criteria_replace(review, Criterion.Kind.INCLUSION, inclusion_criteria)
    _criteria_replace(review, Criterion.Kind.EXCLUSION, exclusion_criteria)
    audit_event_create(
        actor=creator,
        verb="review.created",
        target=review,
        review_id=review.pk,
        after=_review_snapshot(review),
    )
    membership_create(review_id=review.pk, user=creator, role=Role.LEAD, actor=creator)
    return review


@transaction.atomic
def review_update(
    *,
    review: Review,
    actor: User,
    inclusion_criteria: Sequence[str],
    exclusion_criteria: Sequence[str],
    **fields: str,
) -> Review:
    """Change a review's protocol fields and criteria; audited with before and after."""
    review = Review.objects.select_for_update().get(pk=review.pk)
    before = _review_snapshot(review)
    for name, value in fields.items():
        if name not in REVIEW_FIELDS:
            raise TypeError(f"Unknown review field: {name}")
        setattr(review, name, value)
    review.save()
    _criteria_replace(review, Criterion.Kind.INCLUSION, inclusion_criteria)
    _criteria_replace(review, Criterion.Kind.EXCLUSION, exclusion_criteria)
    after = _review_snapshot(review)
    if after != before:
        changed = [key for key in after if after[key] != before[key]]
        audit_event_create(
            actor=actor,
            verb="review.updated",
            target=review,
            review_id=review.pk,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    return review


# --- Team -------------------------------------------------------------------


@transaction.atomic
def membership_create(
    *, review_id: int, user: User, role: Role, actor: User | None
) -> Membership:
    """Add a user to a review with a role."""
    if Membership.objects.filter(review_id=review_id, user=user).exists():
        raise ValidationError(
            "%(user)s is already a member of this review.", params={"user": user}
        )
    membership = Membership.objects.create(review_id=review_id, user=user, role=role)
    audit_event_create(
        actor=actor,
        verb="membership.created",
        target=membership,
        review_id=review_id,
        after={"user": user.email, "role": Role(role).value},
    )
    return membership


def _leads_locked(review_id: int) -> list[Membership]:
    # Locking every lead row serialises concurrent demotions, so two leads
    # cannot demote each other at the same moment and leave the review leaderless.
    return list(
        Membership.objects.select_for_update().filter(
            review_id=review_id, role=Role.LEAD
        )
    )


@transaction.atomic
def membership_change_role(
    *, membership: Membership, actor: User, role: Role
) -> Membership:
    """Give a member another role; the last lead cannot be demoted."""
    leads = _leads_locked(membership.review_id)
    membership.refresh_from_db()
    old_role = membership.role
    if old_role == role:
        return membership
    if old_role == Role.LEAD and len(leads) <= 1:
        raise ValidationError(
            "%(name)s is the review's only lead. Make another member a lead first.",
            params={"name": membership.user},
        )
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_event_create(
        actor=actor,
        verb="membership.role_changed",
        target=membership,
        review_id=membership.review_id,
        before={"user": membership.user.email, "role": old_role},
        after={"user": membership.user.email, "role": role.value},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    """Remove a member from the review; the last lead cannot be removed."""
    leads = _leads_locked(membership.review_id)
    membership.refresh_from_db()
    if membership.role == Role.LEAD and len(leads) <= 1:
        raise ValidationError(
            "%(name)s is the review's only lead and cannot be removed. "
            "Make another member a lead first.",
            params={"name": membership.user},
        )
    audit_event_create(
        actor=actor,
        verb="membership.removed",
        target=membership,
        review_id=membership.review_id,
        before={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


# --- Invitations ------------------------------------------------------------


def _enqueue_sending(
    review: Review, actor: User, invitations: Sequence[Invitation]
) -> Job:
    from reviews.tasks import (
        invitations_send as invitations_send_task,
    )  # tasks import us

    job = job_create(
        kind="invitations.send",
        label=f"Sending {len(invitations)} invitation e-mail(s)",
        review_id=review.pk,
        params={"invitation_ids": [invitation.pk for invitation in invitations]},
        total=len(invitations),
        created_by=actor,
    )
    transaction.on_commit(partial(invitations_send_task.delay, job_id=job.pk))
    return job


@transaction.atomic
def invitations_create(
    *, review: Review, actor: User, emails: Sequence[str], role: Role
) -> Job:
    """Invite people by e-mail; the e-mails go out in the background.

    An address that already has a pending invitation gets a fresh one (new
    expiry, the role asked now). Fails, creating nothing, if any address
    belongs to a member already.
    """
    emails = list(
        dict.fromkeys(email.strip().lower() for email in emails if email.strip())
    )
    if not emails:
        raise ValidationError("Give at least one e-mail address.")
    members = set(
        Membership.objects.filter(review=review)
        .annotate(email=Lower("user__email"))
        .filter(email__in=emails)
        .values_list("email", flat=True)
    )
    if members:
        raise ValidationError(
            "Already members of this review: %(emails)s.",
            params={"emails": ", ".join(sorted(members))},
        )
    expires_at = timezone.now() + timedelta(days=settings.INVITATION_EXPIRY_DAYS)
    invitations = []
    for email in emails:
        previous = review.invitations.pending().filter(email=email).first()
        if previous:
            _invitation_revoke(previous, actor, reason="replaced by a new invitation")
        invitation = Invitation.objects.create(
            review=review,
            email=email,
            role=role,
            invited_by=actor,
            expires_at=expires_at,
        )
        audit_event_create(
            actor=actor,
            verb="invitation.created",
            target=invitation,
            review_id=review.pk,
            after={
                "email": email,
                "role": role.value,
                "expires_at": expires_at.isoformat(),
            },
        )
        invitations.append(invitation)
    return _enqueue_sending(review, actor, invitations)


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor: User) -> Job:
    """Send an unused invitation again with a new expiry date."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state in (Invitation.State.ACCEPTED, Invitation.State.REVOKED):
        raise ValidationError(
            "This invitation was %(state)s and cannot be sent again.",
            params={"state": invitation.state.label.lower()},
        )
    before = {"expires_at": invitation.expires_at.isoformat()}
    invitation.expires_at = timezone.now() + timedelta(
        days=settings.INVITATION_EXPIRY_DAYS
    )
    invitation.save(update_fields=["expires_at", "updated_at"])
    audit_event_create(
        actor=actor,
        verb="invitation.resent",
        target=invitation,
        review_id=invitation.review_id,
        before=before,
        after={"expires_at": invitation.expires_at.isoformat()},
    )
    return _enqueue_sending(invitation.review, actor, [invitation])


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    """Withdraw an unused invitation so its link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.state == Invitation.State.ACCEPTED:
        raise ValidationError("This invitation has already been accepted.")
    if invitation.revoked_at:
        return
    _invitation_revoke(invitation, actor, reason="withdrawn by a lead")


def _invitation_revoke(invitation: Invitation, actor: User, *, reason: str) -> None:
    before = invitation.state.value
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    audit_event_create(
        actor=actor,
        verb="invitation.revoked",
        target=invitation,
        review_id=invitation.review_id,
        before={"email": invitation.email, "state": before},
        after={"email": invitation.email, "state": "revoked", "reason": reason},
    )


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """Use an invitation link: `user` joins the review with the invited role.

    Only the invited address may accept, and only once: the row is locked, so
    two clicks cannot both succeed.
    """
    invitation = get_invitation_for_token(token, lock=True)
    if invitation.email.casefold() != user.email.casefold():
        raise ValidationError(
            "This invitation is for %(invited)s, but you are logged in as %(current)s. "
            "Log out and open the link again, "
            "or ask the review lead to invite %(current)s.",
            params={"invited": invitation.email, "current": user.email},
            code="wrong_user",
        )
    if Membership.objects.filter(review_id=invitation.review_id, user=user).exists():
        raise ValidationError("You are already a member of this review.", code="member")
    membership = membership_create(
        review_id=invitation.review_id,
        user=user,
        role=Role(invitation.role),
        actor=user,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    audit_event_create(
        actor=user,
        verb="invitation.accepted",
        target=invitation,
        review_id=invitation.review_id,
        after={"email": invitation.email, "user": user.email, "role": invitation.role},
    )
    return membership


@transaction.atomic
def user_signup_with_invitation(*, token: str, name: str, password: str) -> User:
    """Create the account of an invited person and accept their invitation.

    The invitation row is locked first, so a second sign-up through the same
    link waits and then finds it used."""
    invitation = get_invitation_for_token(token, lock=True)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(
            "An account with %(email)s exists already: "
            "log in to accept the invitation.",
            params={"email": invitation.email},
            code="exists",
        )
    user = User.objects.create_user(
        email=invitation.email, password=password, name=name
    )
    invitation_accept(token=token, user=user)
    return user


def invitations_send(*, job_id: int) -> None:
    """Send the e-mails of a job's invitations, reporting progress on the job.

    Idempotent: an invitation already sent for this job is not sent again.
    """
    if not job_start(job_id=job_id):
        return
    job = Job.objects.get(pk=job_id)
    invitations = list(
        Invitation.objects.filter(pk__in=job.params.get("invitation_ids", []))
        .select_related("review", "invited_by")
        .order_by("pk")
    )
    sent = 0
    for done, invitation in enumerate(invitations, start=1):
        already_sent = (
            invitation.sent_at is not None and invitation.sent_at >= job.created_at
        )
        if invitation.is_pending and not already_sent:
            _invitation_email_send(invitation)
            invitation.sent_at = timezone.now()
            invitation.save(update_fields=["sent_at", "updated_at"])
            sent += 1
        # The job is visible to every member: no addresses in its message.
        job_progress(
            job_id=job_id, done=done, message=f"{done} of {len(invitations)} processed"
        )
    job_succeed(job_id=job_id, message=f"{sent} invitation e-mail(s) sent")


def _invitation_email_send(invitation: Invitation) -> None:
    context = {
        "invitation": invitation,
        "review": invitation.review,
        "url": settings.SITE_URL + invitation.get_absolute_url(),
        "expiry_days": settings.INVITATION_EXPIRY_DAYS,
    }
    subject = render_to_string("reviews/email/invitation_subject.txt", context).strip()
    body = render_to_string("reviews/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])
