from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent, User
from core.roles import Role
from reviews.models import Membership, Review
from tests.conftest import client_for
from tests.factories import PASSWORD, InvitationFactory, UserFactory


def test_login_with_email_and_password(lead: User) -> None:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "lead@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_with_wrong_password_says_so(lead: User) -> None:
    response = Client().post(
        "/accounts/login/", {"username": lead.email, "password": "nope"}
    )
    assert response.status_code == 200
    assert "correct e-mail address and password" in response.content.decode()


def test_profile_saves_the_name_at_once(reviewer_a: User) -> None:
    client = client_for(reviewer_a)
    response = client.post(
        "/accounts/profile/", {"name": "Ravi R.", "email": reviewer_a.email}
    )
    assert response.status_code == 302
    reviewer_a.refresh_from_db()
    assert reviewer_a.name == "Ravi R."
    assert not mail.outbox


def _confirmation_path(email: str) -> str:
    message = next(m for m in mail.outbox if m.to == [email])
    return re.search(
        r"http://127.0.0.1:8000(/accounts/email/\S+/)", message.body
    ).group(1)


def test_new_email_takes_effect_only_when_confirmed(reviewer_a: User) -> None:
    client = client_for(reviewer_a)
    client.post("/accounts/profile/", {"name": "Ravi", "email": "Ravi@New.example"})
    reviewer_a.refresh_from_db()
    assert reviewer_a.email == "reviewer.a@example.org", "not before confirmation"
    path = _confirmation_path("ravi@new.example")
    page = client.get(path).content.decode()
    assert "ravi@new.example" in page
    reviewer_a.refresh_from_db()
    assert reviewer_a.email == "reviewer.a@example.org", "GET changes nothing"
    assert client.post(path).status_code == 302
    reviewer_a.refresh_from_db()
    assert reviewer_a.email == "ravi@new.example"
    event = AuditEvent.objects.get(verb="user.email_changed")
    assert event.before == {"email": "reviewer.a@example.org"}


def test_confirmation_link_of_another_account_is_refused(
    reviewer_a: User, reviewer_b: User
) -> None:
    client_for(reviewer_a).post(
        "/accounts/profile/", {"name": "R", "email": "mine@example.org"}
    )
    path = _confirmation_path("mine@example.org")
    response = client_for(reviewer_b).post(path)
    assert "confirms the address of another account" in response.content.decode()
    reviewer_b.refresh_from_db()
    assert reviewer_b.email == "reviewer.b@example.org"


def test_expired_confirmation_link_is_refused(reviewer_a: User) -> None:
    client = client_for(reviewer_a)
    with time_machine.travel(timezone.now() - timedelta(days=4)):
        client.post("/accounts/profile/", {"name": "R", "email": "old@example.org"})
    response = client.post(_confirmation_path("old@example.org"))
    assert "has expired" in response.content.decode()
    reviewer_a.refresh_from_db()
    assert reviewer_a.email == "reviewer.a@example.org"


def test_tampered_confirmation_link_is_refused(reviewer_a: User) -> None:
    response = client_for(reviewer_a).post("/accounts/email/eyJ1c2VyIjoxfQ:forged/")
    assert "not valid" in response.content.decode()


def test_an_invitation_cannot_be_hijacked_by_claiming_its_address(
    review: Review, lead: User, outsider: User
) -> None:
    invitation = InvitationFactory(
        review=review, email="newlead@example.org", role=Role.LEAD
    )
    client = client_for(outsider)
    client.post("/accounts/profile/", {"name": "O", "email": "newlead@example.org"})
    outsider.refresh_from_db()
    assert outsider.email == "outsider@example.org"
    assert invitation.get_absolute_url() not in client.get("/").content.decode()
    client.post(invitation.get_absolute_url())
    assert not Membership.objects.filter(review=review, user=outsider).exists()


def test_profile_refuses_an_email_in_use(reviewer_a: User, reviewer_b: User) -> None:
    response = client_for(reviewer_a).post(
        "/accounts/profile/", {"name": "X", "email": reviewer_b.email.upper()}
    )
    assert "Another account uses this e-mail address" in response.content.decode()
    reviewer_a.refresh_from_db()
    assert reviewer_a.email == "reviewer.a@example.org"


def test_password_reset_by_email(db: None) -> None:
    user = UserFactory(email="forgetful@example.org")
    client = Client()
    client.post("/accounts/password_reset/", {"email": "forgetful@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body)
    assert link
    form_url = client.get(link.group(1), follow=True).redirect_chain[-1][0]
    new_password = "a-new-long-passphrase-42"
    done = client.post(
        form_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_change(reviewer_a: User) -> None:
    client = client_for(reviewer_a)
    new_password = "another-long-passphrase-7"
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.status_code == 302
    reviewer_a.refresh_from_db()
    assert reviewer_a.check_password(new_password)


def test_superuser_can_be_created_from_the_command_line(db: None) -> None:
    from django.core.management import call_command

    call_command(
        "createsuperuser",
        interactive=False,
        email="root@example.org",
        name="Root",
        verbosity=0,
    )
    admin = User.objects.get(email="root@example.org")
    assert admin.is_superuser and admin.is_staff


def test_create_user_command_prints_a_generated_password(db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_user", email="Ana@Example.org", name="Ana", stdout=out)
    password = re.search(r"Password: (\S+)", out.getvalue()).group(1)
    user = User.objects.get(email="ana@example.org")
    assert user.check_password(password) and not user.is_staff


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"email": "not-an-address"}, "Not a valid e-mail address"),
        ({"email": "taken@example.org"}, "exists already"),
        ({"email": "new@example.org", "password": "123"}, "Password refused"),
    ],
)
def test_create_user_command_refuses_bad_input(
    options: dict, message: str, db: None
) -> None:
    from django.core.management import CommandError, call_command

    UserFactory(email="taken@example.org")
    with pytest.raises(CommandError, match=message):
        call_command("create_user", name="X", **options)
    assert User.objects.count() == 1


def test_logout_ends_the_session(reviewer_a: User) -> None:
    client = client_for(reviewer_a)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
