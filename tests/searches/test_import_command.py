from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.models import User
from reviews.models import Review
from searches.models import Search
from tests.searches.conftest import FIXTURES


def test_command_prints_one_json_line_per_file(review: Review, lead: User) -> None:
    out = StringIO()
    call_command(
        "import_records",
        str(FIXTURES / "ris/cff_baseline_embase.ris"),
        str(FIXTURES / "medline-nbib/biopython_pubmed_result2.txt"),
        review=review.pk, database="Embase", query="dinosaur*", date="2024-05-01",
        user=lead.email, stdout=out,
    )  # fmt: skip
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["format"], line["records"], line["errors"]) for line in lines] == [
        ("ris", 10, []),
        ("medline", 4, []),
    ]
    search = Search.objects.get(file_name="cff_baseline_embase.ris")
    assert (search.query, str(search.run_on), search.created_by) == (
        "dinosaur*",
        "2024-05-01",
        lead,
    )


def test_command_reports_a_bad_file_and_fails(review: Review, tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.ris"
    empty.write_bytes(b"")
    out = StringIO()
    with pytest.raises(CommandError, match="not imported"):
        call_command(
            "import_records", str(empty), review=review.pk, database="X", stdout=out
        )
    line = json.loads(out.getvalue())
    assert line["records"] == 0 and "empty.ris is empty." in line["errors"]
    assert not Search.objects.exists()


def test_command_refuses_an_unknown_review(db: None) -> None:
    with pytest.raises(CommandError, match="No review with id 999"):
        call_command("import_records", "x.ris", review=999, database="X")
