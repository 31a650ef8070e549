"""The project's promises: pinned requirements, documented settings, two commands."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_runtime_requirements_are_pinned() -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), (
                    f"{name}: {line}"
                )


def test_every_environment_variable_is_documented() -> None:
    source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    read |= set(re.findall(r'env_secret\(\s*"([A-Z][A-Z0-9_]+)"', source))
    read |= {
        f"{name}_FILE" for name in re.findall(r'env_secret\(\s*"([A-Z_]+)"', source)
    } - {
        "AWS_ACCESS_KEY_ID_FILE",
        "AWS_SECRET_ACCESS_KEY_FILE",
    }
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"} <= read
    example = (ROOT / ".env.example").read_text()
    missing = sorted(name for name in read if not re.search(rf"\b{name}\b", example))
    assert not missing, f"add to .env.example: {missing}"


def test_readme_first_screen_has_exactly_the_two_commands() -> None:
    first_screen = (ROOT / "README.md").read_text().split("---")[0]
    commands = re.findall(r"^make \w+", first_screen, flags=re.MULTILINE)
    assert commands == ["make run", "make test"]
    assert len(first_screen.splitlines()) <= 40


def test_base_page_loads_bootstrap_and_htmx(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/accounts/login/").content.decode()
    assert "vendor/bootstrap/bootstrap.min.css" in page
    assert "django_htmx/htmx" in page
    assert 'name="viewport"' in page
    assert "x-csrftoken" in page
