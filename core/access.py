"""Fetch-with-permission helpers: every view looks objects up through these.

A user who is not a member of a review gets 404 (we do not confirm the review
exists); a member whose role is too low gets 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from core.models import Job
from core.roles import Role
from reviews.models import INVITATION_SALT, Invitation, Membership, Review

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from core.models import User


def get_membership_for_user(
    user: User | AnonymousUser, review_id: int, min_role: Role = Role.OBSERVER
) -> Membership:
    """The user's membership of the review, which must grant at least `min_role`."""
    if not user.is_authenticated:
        raise Http404("No such review.")
    membership = (
        Membership.objects.select_related("review")
        .filter(review_id=review_id, user_id=user.pk)
        .first()
    )
    if membership is None:
        raise Http404("No such review.")
    if not Role(membership.role).at_least(min_role):
        raise PermissionDenied(f"This needs the {min_role.label} role in this review.")
    return membership


def get_review_for_user(
    user: User | AnonymousUser, review_id: int, min_role: Role = Role.OBSERVER
) -> Review:
    """The review, if the user is a member with at least `min_role`.

    The returned review carries the user's role as `review.viewer_role`.
    """
    membership = get_membership_for_user(user, review_id, min_role)
    review = membership.review
    review.viewer_role = Role(membership.role)
    return review


def get_job_for_user(user: User | AnonymousUser, review_id: int, job_id: int) -> Job:
    """A background job of a review the user belongs to."""
    review = get_review_for_user(user, review_id)
    try:
        return Job.objects.get(pk=job_id, review=review)
    except Job.DoesNotExist:
        raise Http404("No such job.") from None


def get_invitation_for_token(token: str, *, lock: bool = False) -> Invitation:
    """The invitation behind a link, if the link can still be used.

    The link is the credential: whoever holds it may see the invitation. Raises
    ValidationError with a message for that person (code invalid, used, revoked
    or expired). With `lock`, the row is locked for the current transaction.
    """
    invitations = Invitation.objects.select_related("review", "invited_by")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    try:
        invitation_id = signing.Signer(salt=INVITATION_SALT).unsign_object(token)
        invitation = invitations.get(pk=invitation_id)
    except (signing.BadSignature, Invitation.DoesNotExist, TypeError, ValueError):
        raise ValidationError(
            "This invitation link is not valid. Check that you copied the whole link "
            "from the e-mail.",
            code="invalid",
        ) from None
    state = invitation.state
    if state == Invitation.State.ACCEPTED:
        raise ValidationError(
            "This invitation has already been used. Log in to reach the review.",
            code="used",
        )
    if state == Invitation.State.REVOKED:
        raise ValidationError(
            "This invitation was withdrawn by the review lead.", code="revoked"
        )
    if state == Invitation.State.EXPIRED:
        raise ValidationError(
            "This invitation expired on %(date)s. "
            "Ask the review lead to send a new one.",
            params={"date": f"{invitation.expires_at:%d %B %Y}"},
            code="expired",
        )
    return invitation
