"""Word search on the records page: full-text on both databases (SQLite FTS5,
PostgreSQL tsvector), kept in step with every write."""

from __future__ import annotations

import pytest
from django.db import connection

from core.models import User
from reviews.models import Review
from searches.models import Record
from searches.querysets import sqlite_fts_query
from tests.conftest import client_for
from tests.factories import RecordFactory, SearchFactory


def _found(review: Review, text: str) -> set[str]:
    return set(
        Record.objects.visible(review.pk).matching(text).values_list("title", flat=True)
    )


@pytest.fixture
def records(review: Review) -> dict[str, Record]:
    search = SearchFactory(review=review)
    return {
        "treadmill": RecordFactory(
            search=search, title="Treadmill exercise after nerve injury",
            abstract="Rats with mechanical allodynia ran daily.",
            authors=[["Widerøe", "Anna"]],
        ),
        "swimming": RecordFactory(
            search=search, title="Swimming and neuropathic pain",
            abstract="Mice swam; thermal hyperalgesia fell.", authors=[["Okafor", "N"]],
        ),
    }  # fmt: skip


def test_words_are_found_in_title_abstract_and_authors(
    review: Review, records: dict[str, Record]
) -> None:
    assert _found(review, "treadmill") == {records["treadmill"].title}
    assert _found(review, "hyperalgesia") == {records["swimming"].title}
    assert _found(review, "Okafor") == {records["swimming"].title}
    assert _found(review, "Widerøe") == {records["treadmill"].title}  # not ASCII
    assert _found(review, "exercises") == {records["treadmill"].title}  # stemmed
    assert _found(review, "rats allodynia") == {records["treadmill"].title}
    assert _found(review, "rats hyperalgesia") == set()  # every word required


def test_on_sqlite_a_word_start_is_enough(
    review: Review, records: dict[str, Record]
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("prefix matching is the SQLite search's")
    assert _found(review, "allodyn") == {records["treadmill"].title}
    assert _found(review, "neuropath") == {records["swimming"].title}


def test_an_edited_record_is_found_by_its_new_words_only(
    review: Review, records: dict[str, Record]
) -> None:
    record = records["swimming"]
    Record.objects.filter(pk=record.pk).update(abstract="Cycling lowered pain.")
    assert _found(review, "cycling") == {record.title}
    assert _found(review, "hyperalgesia") == set()
    Record.objects.filter(pk=record.pk).delete()
    assert _found(review, "cycling") == set()


@pytest.mark.parametrize(
    "text", ['"', "*", 'swim" OR "x', "NEAR(a b)", "-pain", "title:pain", "^a", "'"]
)
def test_search_syntax_in_what_was_typed_is_just_text(
    review: Review, reviewer_a: User, records: dict[str, Record], text: str
) -> None:
    response = client_for(reviewer_a).get(f"/reviews/{review.pk}/records/", {"q": text})
    assert response.status_code == 200


def test_typed_text_becomes_quoted_prefix_terms() -> None:
    assert sqlite_fts_query('pain" OR x*') == '"pain"* "OR"* "x"*'
    assert sqlite_fts_query("Widerøe's") == '"Widerøe"* "s"*'
    assert sqlite_fts_query("--- ***") == ""


def test_on_sqlite_the_index_and_its_triggers_exist_after_migrating(db: None) -> None:
    """A migration that rebuilds searches_record drops the triggers: this fails
    until that migration recreates them."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    from searches.querysets import sqlite_fts_ready

    assert sqlite_fts_ready()


def test_accents_are_folded_in_author_names(review: Review) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's english configuration keeps accents")
    RecordFactory(search=SearchFactory(review=review), authors=[["Müller", "Jörg"]])
    assert len(_found(review, "Muller")) == 1
    assert len(_found(review, "müller jorg")) == 1
