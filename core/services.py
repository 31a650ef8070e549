"""Writes owned by core: background job progress and account e-mail changes.

The job functions write in their own short transactions (autocommit), so a page
polling a job sees progress while the task is still working.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core.audit import audit_event_create
from core.models import Job, User


def job_create(
    *,
    kind: str,
    label: str,
    review_id: int | None = None,
    params: dict[str, Any] | None = None,
    total: int = 0,
    created_by: User | None = None,
) -> Job:
    """A queued job; the caller enqueues its task with transaction.on_commit."""
    return Job.objects.create(
        kind=kind,
        label=label,
        review_id=review_id,
        params=params or {},
        total=total,
        created_by=created_by,
    )


def job_start(*, job_id: int) -> bool:
    """Mark a job running. False when it is gone or already finished, so a task
    delivered again after the job ended does nothing."""
    started = Job.objects.filter(
        pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    return started == 1


def job_progress(
    *, job_id: int, done: int, total: int | None = None, message: str = ""
) -> None:
    fields: dict[str, Any] = {
        "done": done,
        "message": message[:300],
        "updated_at": timezone.now(),
    }
    if total is not None:
        fields["total"] = total
    # Never over a finished job: a task delivered twice must not rewrite the
    # message of the job its first delivery finished.
    unfinished = [Job.Status.QUEUED, Job.Status.RUNNING]
    Job.objects.filter(pk=job_id, status__in=unfinished).update(**fields)


def job_succeed(*, job_id: int, message: str = "") -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED,
        message=message[:300],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def job_fail(*, job_id: int, error: str) -> None:
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(
        status=Job.Status.FAILED,
        error=error,
        message="Failed",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


# --- E-mail address changes -------------------------------------------------
# An address is a credential here (invitations are bound to it), so a change
# takes effect only when the new address confirms it.

EMAIL_CHANGE_SALT = "core.email-change"
EMAIL_CHANGE_MAX_AGE = timedelta(days=3)


def email_change_request(*, user: User, new_email: str) -> None:
    """E-mail a confirmation link to `new_email`; nothing changes until it is opened."""
    token = signing.dumps({"user": user.pk, "email": new_email}, salt=EMAIL_CHANGE_SALT)
    context = {
        "user": user,
        "new_email": new_email,
        "url": settings.SITE_URL + reverse("core:email_confirm", args=[token]),
        "days": EMAIL_CHANGE_MAX_AGE.days,
    }
    body = render_to_string("core/email/email_change_body.txt", context)
    send_mail("Confirm your new e-mail address", body, None, [new_email])


def email_change_token_read(*, user: User, token: str) -> str:
    """The new address a confirmation link carries, if the link is valid for `user`."""
    try:
        data = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE
        )
    except signing.SignatureExpired:
        raise ValidationError(
            "This confirmation link has expired. "
            "Change your e-mail again from your profile."
        ) from None
    except signing.BadSignature:
        raise ValidationError("This confirmation link is not valid.") from None
    if data.get("user") != user.pk:
        raise ValidationError("This link confirms the address of another account.")
    return str(data["email"])


@transaction.atomic
def email_change_confirm(*, user: User, token: str) -> str:
    """Apply a confirmed address change; audited. Returns the new address."""
    email = email_change_token_read(user=user, token=token)
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationError(
            "Another account uses %(email)s now.", params={"email": email}
        )
    before = user.email
    user.email = email
    user.save(update_fields=["email"])
    audit_event_create(
        actor=user,
        verb="user.email_changed",
        target=user,
        before={"email": before},
        after={"email": email},
    )
    return email
