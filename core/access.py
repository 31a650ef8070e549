"""Fetch-with-permission helpers: every view looks objects up through these.

A user who is not a member of a review gets 404 (we do not confirm the review
exists); a member whose role is too low gets 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from core.models import Job
from core.roles import Role
from reviews.models import Membership, Review

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
