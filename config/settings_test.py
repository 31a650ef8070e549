"""Test settings: speed-ups only; everything else comes from config.settings."""

from .settings import *  # noqa: F403
from .settings import DATABASES, REDIS_URL, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Tasks run in-process unless a test starts a real worker (tests/core/test_worker.py).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}
__all__ = ["DATABASES", "REDIS_URL", "env"]
