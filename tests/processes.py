"""Start the project's real processes (gunicorn, celery worker and beat) for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app


def database_url_for_tests() -> str:
    """A URL for the database this test run uses (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = f"{db['HOST']}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}{password}@{host}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """Environment for a project process sharing this run's database and broker."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["DATABASE_URL"] = database_url_for_tests()
    if not settings.REDIS_URL:
        env["CELERY_QUEUE_DIR"] = settings.CELERY_BROKER_TRANSPORT_OPTIONS[
            "data_folder_in"
        ]
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    args: list[str], env: dict[str, str], ready: str, timeout: float = 60
) -> Iterator[list[str]]:
    """Run `python -m <args>` until the block ends; wait for `ready` in its output.

    Yields the output lines collected so far (the list keeps growing)."""
    process = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, ""))
    )
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while not any(ready in line for line in lines):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{args[0]} did not start:\n" + "".join(lines[-40:]))
            time.sleep(0.2)
        yield lines
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        reader.join(timeout=5)
        print(f"--- {args[0]} output ---\n" + "".join(lines[-60:]))  # shown on failure


@contextmanager
def celery_worker(**extra_env: str) -> Iterator[list[str]]:
    """A real `celery -A config worker`; meanwhile this process only sends tasks."""
    args = [
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with running(
        args, process_env(DEBUG="true", **extra_env), ready=" ready."
    ) as lines:
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = False
        try:
            yield lines
        finally:
            celery_app.conf.task_always_eager = eager


def wait_for(predicate, timeout: float = 60, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"Timed out after {timeout}s waiting for {what}")
