from __future__ import annotations

import re

from django.core import mail
from django.test import Client

from core.models import User
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory


def test_login_with_email_and_password(lead: User) -> None:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "lead@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_with_wrong_password_says_so(lead: User) -> None:
    response = Client().post("/accounts/login/", {"username": lead.email, "password": "nope"})
    assert response.status_code == 200
    assert "correct e-mail address and password" in response.content.decode()


def test_profile_changes_name_and_email(reviewer_a: User) -> None:
    client = client_for(reviewer_a)
    response = client.post("/accounts/profile/", {"name": "Ravi R.", "email": "Ravi@Example.org"})
    assert response.status_code == 302
    reviewer_a.refresh_from_db()
    assert (reviewer_a.name, reviewer_a.email) == ("Ravi R.", "ravi@example.org")


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
    done = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_change(reviewer_a: User) -> None:
    client = client_for(reviewer_a)
    new_password = "another-long-passphrase-7"
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    reviewer_a.refresh_from_db()
    assert reviewer_a.check_password(new_password)


def test_superuser_can_be_created_from_the_command_line(db: None) -> None:
    from django.core.management import call_command

    call_command(
        "createsuperuser", interactive=False, email="root@example.org", name="Root", verbosity=0
    )
    admin = User.objects.get(email="root@example.org")
    assert admin.is_superuser and admin.is_staff
