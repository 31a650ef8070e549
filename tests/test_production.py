"""Production and scale-out: the processes the README documents, in production mode.

Two gunicorn web processes, a Celery worker and Celery beat run against the same
database and broker. A session made on one web process works on the other, and a
task enqueued by a web process runs on the worker: nothing lives in a process.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from core.models import Job, User
from core.roles import Role
from reviews.models import Invitation, Review
from tests.factories import PASSWORD, MembershipFactory, ReviewFactory, UserFactory
from tests.processes import celery_worker, free_port, process_env, running, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "p9#Lr2!vQ8zT4mX6wC1nB5yK3jH7gF0d-a-production-grade-test-secret"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _request(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    """One request as made through a TLS proxy; returns (status, headers, body)."""
    request = urllib.request.Request(
        url, data=data, headers={"X-Forwarded-Proto": "https", **(headers or {})}
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def _cookies(headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    jar = {}
    for header in headers.get_all("Set-Cookie") or []:
        name, value = header.split(";", 1)[0].split("=", 1)
        jar[name] = value
    return jar


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    env = process_env(
        DEBUG="false",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="127.0.0.1",
        USE_X_FORWARDED_PROTO="true",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        EMAIL_URL=f"filemail:///{tmp_path / 'mail'}",
        SITE_URL="https://reviews.example.org",
    )
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stderr
    return env


def test_two_web_processes_a_worker_and_beat_share_nothing_but_database_and_broker(
    production_env: dict[str, str], tmp_path: Path
) -> None:
    # The production processes do not know the tests' fast MD5 hasher.
    pbkdf2 = PBKDF2PasswordHasher()
    lead: User = UserFactory(email="prod.lead@example.org")
    lead.password = pbkdf2.encode(PASSWORD, pbkdf2.salt(), iterations=1000)
    lead.save(update_fields=["password"])
    review: Review = ReviewFactory(title="Production review")
    MembershipFactory(review=review, user=lead, role=Role.LEAD)
    port_a, port_b = free_port(), free_port()
    gunicorn = ["gunicorn", "config.wsgi", "--workers", "2", "--access-logfile", "-"]
    beat = [
        "celery",
        "-A",
        "config",
        "beat",
        "--loglevel=INFO",
        "--schedule",
        str(tmp_path / "beat-schedule"),
    ]
    with (
        running(
            [*gunicorn, "--bind", f"127.0.0.1:{port_a}"],
            production_env,
            "Booting worker",
        ),
        running(
            [*gunicorn, "--bind", f"127.0.0.1:{port_b}"],
            production_env,
            "Booting worker",
        ),
        celery_worker(
            EMAIL_URL=production_env["EMAIL_URL"], SITE_URL=production_env["SITE_URL"]
        ),
        running(beat, production_env, "beat: Starting"),
    ):
        a, b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
        wait_for(lambda: _request(f"{a}/healthz/")[0] == 200, what="web process A")
        wait_for(lambda: _request(f"{b}/healthz/")[0] == 200, what="web process B")

        # Plain HTTP (no proxy header) is redirected to HTTPS.
        status, headers, _ = _request(
            f"{a}/accounts/login/", headers={"X-Forwarded-Proto": "http"}
        )
        assert status == 301 and headers["Location"].startswith("https://")

        # Log in on A.
        status, headers, body = _request(f"{a}/accounts/login/")
        assert status == 200
        assert "max-age=31536000" in headers["Strict-Transport-Security"]
        assert "Secure" in headers["Set-Cookie"]
        csrf = _cookies(headers)["csrftoken"]
        form_token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', body
        ).group(1)
        login = (
            f"csrfmiddlewaretoken={form_token}"
            f"&username=prod.lead%40example.org&password={PASSWORD}"
        )
        status, headers, _ = _request(
            f"{a}/accounts/login/",
            data=login.encode(),
            headers={
                "Cookie": f"csrftoken={csrf}",
                "Origin": f"https://127.0.0.1:{port_a}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert status == 302, "login on web process A"
        session = _cookies(headers)["sessionid"]
        session_header = next(
            h for h in headers.get_all("Set-Cookie") if h.startswith("sessionid=")
        )
        assert "Secure" in session_header and "HttpOnly" in session_header

        # The session works on B: no state lives in a web process.
        cookie = f"sessionid={session}; csrftoken={csrf}"
        status, _, body = _request(f"{b}/", headers={"Cookie": cookie})
        assert status == 200 and "Production review" in body

        # Static files are served by WhiteNoise from the collected, hashed files.
        css = re.search(
            r'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]+\.css)"', body
        )
        assert css, "hashed static URL in the page"
        assert _request(f"{b}{css.group(1)}")[0] == 200

        # An invitation posted to B is sent by the worker.
        status, _, team = _request(
            f"{b}/reviews/{review.pk}/team/", headers={"Cookie": cookie}
        )
        form_token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', team
        ).group(1)
        status, _, _ = _request(
            f"{b}/reviews/{review.pk}/team/invite/",
            data=f"csrfmiddlewaretoken={form_token}&emails=new%40example.org&role=reviewer".encode(),
            headers={
                "Cookie": cookie,
                "Origin": f"https://127.0.0.1:{port_b}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert status == 302
        job = Job.objects.get(review=review)
        wait_for(
            lambda: Job.objects.get(pk=job.pk).is_finished, what="the invitation job"
        )
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.error
        invitation = Invitation.objects.get(review=review)
        mails = "".join(p.read_text() for p in (tmp_path / "mail").glob("*.log"))
        assert f"https://reviews.example.org{invitation.get_absolute_url()}" in mails
