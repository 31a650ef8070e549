"""Test settings: speed-ups only; everything else comes from config.settings."""

import os

# Tests run with development settings whatever the database (the production
# security settings are checked in tests/test_settings.py in a subprocess).
os.environ.setdefault("DEBUG", "true")

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
if not REDIS_URL:
    # Not the folder of a `make run` worker, which would take the tests' tasks.
    _test_queue = VAR_DIR / "celery" / "test-queue"  # noqa: F405
    (_test_queue / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_test_queue),
        "data_folder_out": str(_test_queue),
        "control_folder": str(_test_queue / "control"),
        "store_processed": False,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}
__all__ = ["DATABASES", "REDIS_URL", "env"]
