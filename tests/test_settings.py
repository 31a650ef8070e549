"""Settings by environment, each checked in a fresh interpreter and environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

PROD_KEY = "x7!k2#pQ9zL0vR4mN8wB1cT6yH3jF5gD-production-grade-secret-key"
SHOW = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'db': str(s.DATABASES['default']['NAME']), 'broker': s.CELERY_BROKER_URL, "
    "'email': s.EMAIL_BACKEND, 'cache': s.CACHES['default']['BACKEND'], "
    "'storage': s.STORAGES['default']['BACKEND'], "
    "'secure_cookie': s.SESSION_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'ssl_redirect': s.SECURE_SSL_REDIRECT, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
    "'secret': s.SECRET_KEY}))"
)


def _python(
    code_or_args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }
    return subprocess.run(
        [sys.executable, *code_or_args],
        env=clean,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(env: dict[str, str], tmp_path: Path) -> dict:
    result = _python(["-c", SHOW], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": PROD_KEY,
    "ALLOWED_HOSTS": "reviews.example.org",
    "DATABASE_URL": "postgres://app:pw@db.internal:5432/reviews",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "SITE_URL": "https://reviews.example.org",
}


def test_no_environment_gives_the_embedded_default(tmp_path: Path) -> None:
    got = _settings({}, tmp_path)
    assert got["debug"] is True
    assert got["engine"] == "django.db.backends.sqlite3"
    assert got["db"] == str(tmp_path / "var" / "db.sqlite3")
    assert got["broker"] == "filesystem://"
    assert got["email"] == "django.core.mail.backends.console.EmailBackend"
    assert got["secret"].startswith("django-insecure-dev-only")
    assert (tmp_path / "var" / "celery" / "queue").is_dir()


def test_database_and_redis_urls_switch_to_postgresql_and_redis(tmp_path: Path) -> None:
    got = _settings(PRODUCTION, tmp_path)
    assert got["engine"] == "django.db.backends.postgresql"
    assert got["db"] == "reviews"
    assert got["broker"] == "redis://cache.internal:6379/0"
    assert got["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_debug_off_switches_security_on(tmp_path: Path) -> None:
    got = _settings(PRODUCTION, tmp_path)
    assert got["debug"] is False
    assert got["secure_cookie"] and got["csrf_secure"] and got["ssl_redirect"]
    assert got["hsts"] >= 31536000


def test_secret_key_may_come_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(PROD_KEY + "\n")
    env = {**PRODUCTION, "SECRET_KEY": "", "SECRET_KEY_FILE": str(key_file)}
    assert _settings(env, tmp_path)["secret"] == PROD_KEY


def test_s3_storage_when_a_bucket_is_set(tmp_path: Path) -> None:
    got = _settings(
        {**PRODUCTION, "AWS_STORAGE_BUCKET_NAME": "reviews-media"}, tmp_path
    )
    assert got["storage"] == "storages.backends.s3.S3Storage"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY must be set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set"),
        ("SITE_URL", "SITE_URL must be set"),
    ],
)
def test_debug_off_refuses_to_start_without(
    missing: str, message: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _python(["manage.py", "check"], env, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_passes_with_a_production_environment(tmp_path: Path) -> None:
    result = _python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        PRODUCTION,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_secret_key_alone_means_production(tmp_path: Path) -> None:
    """A one-box SQLite deployment sets its key but may forget DEBUG: it stays off."""
    env = {
        "SECRET_KEY": PROD_KEY,
        "ALLOWED_HOSTS": "x.org",
        "SITE_URL": "https://x.org",
    }
    got = _settings(env, tmp_path)
    assert got["debug"] is False
    assert got["engine"] == "django.db.backends.sqlite3"


def test_the_embedded_broker_keeps_its_files_under_var(tmp_path: Path) -> None:
    result = _python(["-c", SHOW], {}, tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "var" / "celery" / "queue" / "control").is_dir()
