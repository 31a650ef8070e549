from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent, User
from core.roles import Role
from reviews.models import Invitation, Membership, Review
from tests.conftest import client_for
from tests.factories import InvitationFactory, UserFactory

NEW_PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def invitation(review: Review, lead: User) -> Invitation:
    return InvitationFactory(
        review=review, email="new@example.org", role=Role.REVIEWER, invited_by=lead
    )


def _signup(client: Client, token: str, **changes: str):  # type: ignore[no-untyped-def]
    data = {
        "name": "Nina New",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **changes,
    }
    return client.post(f"/invitations/{token}/", data)


def test_new_person_creates_an_account_and_joins(
    invitation: Invitation, review: Review
) -> None:
    client = Client()
    page = client.get(f"/invitations/{invitation.token}/").content.decode()
    assert review.title in page and "Create your account" in page
    response = _signup(client, invitation.token)
    assert (
        response.status_code == 302 and response["Location"] == f"/reviews/{review.pk}/"
    )
    user = User.objects.get(email="new@example.org")
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.get(review=review, user=user).role == Role.REVIEWER
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert AuditEvent.objects.filter(verb="invitation.accepted", actor=user).exists()
    assert client.get(f"/reviews/{review.pk}/").status_code == 200, (
        "signed in after joining"
    )


def test_logged_in_invitee_accepts(invitation: Invitation, review: Review) -> None:
    invitee = UserFactory(email="New@Example.org")
    response = client_for(invitee).post(f"/invitations/{invitation.token}/")
    assert response.status_code == 302
    assert Membership.objects.get(review=review, user=invitee).role == Role.REVIEWER


def test_someone_else_holding_the_link_cannot_accept(
    invitation: Invitation, review: Review, outsider: User
) -> None:
    invitation.role = Role.LEAD
    invitation.save()
    response = client_for(outsider).post(
        f"/invitations/{invitation.token}/", follow=True
    )
    assert "This invitation is for new@example.org, but you are logged in as" in (
        response.content.decode()
    )
    assert not Membership.objects.filter(review=review, user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_person_with_an_account_is_asked_to_log_in(invitation: Invitation) -> None:
    UserFactory(email="new@example.org")
    response = Client().post(f"/invitations/{invitation.token}/", {})
    assert "Log in to accept" in response.content.decode()
    assert not Membership.objects.filter(user__email="new@example.org").exists()


def test_mismatched_passwords_create_nothing(invitation: Invitation) -> None:
    response = _signup(Client(), invitation.token, password2="something-else-entirely")
    assert "The two passwords differ" in response.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_weak_password_is_refused(invitation: Invitation) -> None:
    response = _signup(
        Client(), invitation.token, password1="12345678", password2="12345678"
    )
    assert "too common" in response.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()


@pytest.mark.parametrize("token", ["garbage", "MQ:1tZx:abc", "Zm9v"])
def test_invalid_token_says_so(db: None, token: str) -> None:
    response = Client().get(f"/invitations/{token}/")
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()
    response = _signup(Client(), token)
    assert response.status_code == 404
    assert not User.objects.exists()


def test_expired_token_says_so_and_changes_nothing(invitation: Invitation) -> None:
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save()
    response = _signup(Client(), invitation.token)
    assert response.status_code == 410
    assert "This invitation expired on" in response.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()


def test_token_works_only_once(invitation: Invitation) -> None:
    _signup(Client(), invitation.token)
    user = User.objects.get(email="new@example.org")
    response = client_for(user).post(f"/invitations/{invitation.token}/")
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert Membership.objects.filter(user=user, review=invitation.review).count() == 1
    response = _signup(Client(), invitation.token, name="Second Try")
    assert response.status_code == 410
    assert User.objects.filter(email="new@example.org").count() == 1


def test_revoked_token_says_so(invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save()
    response = Client().get(f"/invitations/{invitation.token}/")
    assert response.status_code == 410
    assert "withdrawn by the review lead" in response.content.decode()


def test_existing_member_cannot_accept_twice(review: Review, reviewer_a: User) -> None:
    invitation = InvitationFactory(review=review, email=reviewer_a.email)
    response = client_for(reviewer_a).post(
        f"/invitations/{invitation.token}/", follow=True
    )
    assert "already a member" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_home_page_lists_my_pending_invitations(
    invitation: Invitation, db: None
) -> None:
    user = UserFactory(email="new@example.org")
    page = client_for(user).get("/").content.decode()
    assert invitation.get_absolute_url() in page
