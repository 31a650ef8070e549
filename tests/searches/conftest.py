"""Where the shared real-world fixture files live, and their manifest."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

# ../shared/fixtures beside the repository (CI clones with shared/ beside it).
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def manifest_counts() -> dict[str, str]:
    """file (relative to FIXTURES) -> the 'records' column of MANIFEST.tsv."""
    with (FIXTURES / "MANIFEST.tsv").open(newline="", encoding="utf-8") as handle:
        return {
            row["file"]: row["records"]
            for row in csv.DictReader(handle, delimiter="\t")
        }


@pytest.fixture(scope="session")
def fixtures() -> Path:
    assert FIXTURES.is_dir(), (
        f"missing {FIXTURES}: clone with ../shared beside the repo"
    )
    return FIXTURES
