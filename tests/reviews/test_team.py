from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from core.access import get_invitation_for_token
from core.models import AuditEvent, Job, User
from core.roles import Role
from reviews import services
from reviews.models import Invitation, Membership, Review
from tests.conftest import client_for
from tests.factories import MembershipFactory


def _messages(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(str(m) for m in response.context["messages"])


def _invite(lead: User, review: Review, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client_for(lead).post(
        f"/reviews/{review.pk}/team/invite/", data, follow=True
    )


def test_invite_sends_emails_in_the_background_with_progress(
    lead: User, review: Review, django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(lead).post(
            f"/reviews/{review.pk}/team/invite/",
            {
                "emails": "Ana@Example.org, li@example.org\nana@example.org",
                "role": "observer",
            },
            follow=True,
        )
    assert len(callbacks) == 1, "the e-mails are sent by one task, after the commit"
    assert "2 invitation(s) created" in _messages(response)
    invitations = Invitation.objects.filter(review=review).order_by("email")
    assert [(i.email, i.role) for i in invitations] == [
        ("ana@example.org", "observer"),
        ("li@example.org", "observer"),
    ]
    job = Job.objects.get(review=review, kind="invitations.send")
    assert (job.status, job.done, job.total) == (Job.Status.SUCCEEDED, 2, 2)
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "li@example.org"]
    body = mail.outbox[0].body
    assert review.title in body
    token = re.search(r"/invitations/([^/\s]+)/", body).group(1)
    assert get_invitation_for_token(token).review == review
    assert (
        AuditEvent.objects.filter(review=review, verb="invitation.created").count() == 2
    )


def test_invite_refuses_malformed_addresses_and_stores_nothing(
    lead: User, review: Review
) -> None:
    response = _invite(
        lead, review, {"emails": "ok@example.org, not-an-address", "role": "reviewer"}
    )
    assert "Not valid e-mail addresses: not-an-address" in _messages(response)
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_invite_refuses_an_unknown_role(lead: User, review: Review) -> None:
    response = _invite(lead, review, {"emails": "a@example.org", "role": "admin"})
    assert "Select a valid choice" in _messages(response)
    assert not Invitation.objects.exists()


def test_invite_refuses_existing_members_and_stores_nothing(
    lead: User, reviewer_a: User, review: Review
) -> None:
    response = _invite(
        lead,
        review,
        {"emails": f"new@example.org, {reviewer_a.email}", "role": "reviewer"},
    )
    assert f"Already members of this review: {reviewer_a.email}" in _messages(response)
    assert not Invitation.objects.exists()


def test_inviting_again_replaces_the_pending_invitation(
    lead: User, review: Review
) -> None:
    services.invitations_create(
        review=review, actor=lead, emails=["a@example.org"], role=Role.REVIEWER
    )
    first = Invitation.objects.get()
    services.invitations_create(
        review=review, actor=lead, emails=["a@example.org"], role=Role.LEAD
    )
    first.refresh_from_db()
    assert first.state == Invitation.State.REVOKED
    assert Invitation.objects.pending().get().role == Role.LEAD
    replaced = AuditEvent.objects.get(verb="invitation.revoked", target_id=first.pk)
    assert replaced.after["reason"] == "replaced by a new invitation"


def test_lead_changes_a_role(lead: User, reviewer_a: User, review: Review) -> None:
    membership = Membership.objects.get(review=review, user=reviewer_a)
    client_for(lead).post(
        f"/reviews/{review.pk}/team/{membership.pk}/role/", {"role": "observer"}
    )
    membership.refresh_from_db()
    assert membership.role == Role.OBSERVER
    event = AuditEvent.objects.get(verb="membership.role_changed")
    assert (event.before["role"], event.after["role"]) == ("reviewer", "observer")


def test_bad_role_value_changes_nothing(
    lead: User, reviewer_a: User, review: Review
) -> None:
    membership = Membership.objects.get(review=review, user=reviewer_a)
    response = client_for(lead).post(
        f"/reviews/{review.pk}/team/{membership.pk}/role/",
        {"role": "owner"},
        follow=True,
    )
    assert "Choose one of the roles" in _messages(response)
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER


def test_last_lead_cannot_be_demoted(lead: User, review: Review) -> None:
    membership = Membership.objects.get(review=review, user=lead)
    response = client_for(lead).post(
        f"/reviews/{review.pk}/team/{membership.pk}/role/",
        {"role": "reviewer"},
        follow=True,
    )
    assert "only lead" in _messages(response)
    membership.refresh_from_db()
    assert membership.role == Role.LEAD
    assert not AuditEvent.objects.filter(verb="membership.role_changed").exists()


def test_last_lead_cannot_be_removed(lead: User, review: Review) -> None:
    membership = Membership.objects.get(review=review, user=lead)
    response = client_for(lead).post(
        f"/reviews/{review.pk}/team/{membership.pk}/remove/", follow=True
    )
    assert "only lead and cannot be removed" in _messages(response)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_lead_may_step_down_when_another_lead_exists(
    lead: User, review: Review
) -> None:
    co_lead = MembershipFactory(review=review, role=Role.LEAD)
    mine = Membership.objects.get(review=review, user=lead)
    services.membership_change_role(membership=mine, actor=lead, role=Role.REVIEWER)
    with pytest.raises(ValidationError, match="only lead"):
        services.membership_remove(membership=co_lead, actor=lead)


def test_lead_removes_a_member(lead: User, reviewer_b: User, review: Review) -> None:
    membership = Membership.objects.get(review=review, user=reviewer_b)
    client_for(lead).post(f"/reviews/{review.pk}/team/{membership.pk}/remove/")
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert (
        AuditEvent.objects.get(verb="membership.removed").before["user"]
        == reviewer_b.email
    )


def test_revoke_and_resend(
    lead: User, review: Review, django_capture_on_commit_callbacks: Callable
) -> None:
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        services.invitations_create(
            review=review, actor=lead, emails=["a@example.org"], role=Role.REVIEWER
        )
    invitation = Invitation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/reviews/{review.pk}/invitations/{invitation.pk}/resend/")
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(
        verb="invitation.resent", target_id=invitation.pk
    ).exists()
    client.post(f"/reviews/{review.pk}/invitations/{invitation.pk}/revoke/")
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.REVOKED
    revoked = AuditEvent.objects.get(verb="invitation.revoked", target_id=invitation.pk)
    assert (revoked.actor, revoked.before["state"]) == (lead, "pending")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/reviews/{review.pk}/invitations/{invitation.pk}/resend/", follow=True
        )
    assert "was revoked and cannot be sent again" in _messages(response)
    assert len(mail.outbox) == 2


def test_team_page_hides_invitations_from_non_leads(
    lead: User, reviewer_a: User, review: Review
) -> None:
    services.invitations_create(
        review=review, actor=lead, emails=["secret@example.org"], role=Role.REVIEWER
    )
    assert (
        "secret@example.org"
        in client_for(lead).get(f"/reviews/{review.pk}/team/").content.decode()
    )
    page = client_for(reviewer_a).get(f"/reviews/{review.pk}/team/").content.decode()
    assert "secret@example.org" not in page
    assert "Invite people" not in page


def test_invite_refuses_an_address_longer_than_smtp_allows(
    lead: User, review: Review
) -> None:
    too_long = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".org"  # 312 characters
    response = _invite(lead, review, {"emails": too_long, "role": "reviewer"})
    assert "Not valid e-mail addresses" in _messages(response)
    assert not Invitation.objects.exists()


def test_members_are_recognised_whatever_the_case_of_their_address(
    lead: User, reviewer_a: User, review: Review
) -> None:
    with pytest.raises(ValidationError, match="Already members"):
        services.invitations_create(
            review=review,
            actor=lead,
            emails=["Reviewer.A@Example.ORG"],
            role=Role.REVIEWER,
        )


def test_job_progress_shown_to_members_names_no_invitee(
    lead: User,
    observer: User,
    review: Review,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = services.invitations_create(
            review=review, actor=lead, emails=["hidden@example.org"], role=Role.REVIEWER
        )
    page = (
        client_for(observer)
        .get(f"/reviews/{review.pk}/jobs/{job.pk}/")
        .content.decode()
    )
    assert "1 / 1" in page
    assert "hidden@example.org" not in page
