"""Pair scoring: the hard "not the same" rules and the decisions."""

from __future__ import annotations

from searches.dedup import Decision, DedupRecord, compare_records
from tests.searches.dedup.helpers import record


def test_identical_copies_are_merged_automatically() -> None:
    pair = compare_records(record("a"), record("b"))
    assert pair.decision is Decision.AUTO
    assert pair.score >= 0.99
    assert {"doi", "pmid", "title", "authors", "year", "pages"} <= set(pair.matched)


def test_copies_from_two_databases_are_merged() -> None:
    other = record(
        "b",
        title="ECULIZUMAB IN ATYPICAL HAEMOLYTIC URAEMIC SYNDROME - PROSPECTIVE TRIAL",
        authors=(("Legendre", "Christophe"), ("Licht", "Christoph")),
        journal="N Engl J Med",
        pages="2169-81",
        doi="https://doi.org/10.1056/NEJMOA1208981",
        pmid="",
    )
    assert compare_records(record("a"), other).decision is Decision.AUTO


def test_scoring_is_symmetric() -> None:
    a, b = record("a", doi="", pmid=""), record("b", pages="2169", volume="", doi="")
    assert compare_records(a, b).score == compare_records(b, a).score


def test_different_dois_are_distinct() -> None:
    pair = compare_records(record("a", pmid=""), record("b", pmid="", doi="10.1000/x"))
    assert pair.decision is Decision.DISTINCT
    assert pair.rule == "different DOIs"


def test_component_doi_is_not_a_different_doi() -> None:
    pair = compare_records(
        record("a"), record("b", doi="10.1056/NEJMoa1208981.supp1", pmid="")
    )
    assert pair.decision is Decision.AUTO


def test_different_pmids_are_distinct() -> None:
    pair = compare_records(record("a", doi=""), record("b", doi="", pmid="1"))
    assert pair.rule == "different PMIDs"


def test_an_erratum_of_the_same_title_goes_to_a_person_never_merged() -> None:
    # Labelled sets disagree on whether an erratum is its article's duplicate
    # (the haematology set groups them): a person decides, nothing is automatic.
    erratum = record("b", title="Erratum: " + str(record("a").title), doi="", pmid="")
    pair = compare_records(record("a", doi="", pmid=""), erratum)
    assert pair.decision is Decision.POSSIBLE
    assert pair.rule == "erratum vs the article"


def test_an_erratum_of_another_title_is_distinct() -> None:
    erratum = record("b", title="Erratum: Complement genes in dense deposit disease")
    pair = compare_records(record("a", doi="", pmid=""), erratum)
    assert pair.decision is Decision.DISTINCT
    assert pair.rule == "erratum vs the article"


def test_a_reply_of_the_same_title_goes_to_a_person() -> None:
    title = str(record("a").title) + " - Reply"
    reply = record("b", title=title, pages="2182", doi="", pmid="")
    pair = compare_records(record("a", doi="", pmid=""), reply)
    assert pair.decision is Decision.POSSIBLE
    assert pair.rule == "reply vs the article"


def test_years_far_apart_are_distinct() -> None:
    pair = compare_records(
        record("a", doi="", pmid=""), record("b", doi="", pmid="", year=2019)
    )
    assert pair.rule == "years far apart"


def test_same_doi_with_far_years_goes_to_a_person() -> None:
    pair = compare_records(record("a"), record("b", year=2019))
    assert pair.decision is Decision.POSSIBLE


def test_different_numbers_in_titles_are_distinct() -> None:
    a = record("a", title="Phase 2 trial of eculizumab in aHUS", doi="", pmid="")
    b = record("b", title="Phase 3 trial of eculizumab in aHUS", doi="", pmid="")
    assert compare_records(a, b).rule == "different numbers in titles"


def test_two_articles_of_one_volume_are_distinct() -> None:
    a = record("a", doi="", pmid="")
    b = record(
        "b", title="Outcomes of plasma exchange in adults", doi="", pmid="",
        issue="25", pages="2647",
    )  # fmt: skip
    assert compare_records(a, b).rule == "different pages in one volume"
    assert compare_records(a, b).decision is Decision.DISTINCT


def test_one_title_on_other_pages_of_one_volume_goes_to_a_person() -> None:
    a = record("a", doi="", pmid="")
    b = record("b", doi="", pmid="", issue="25", pages="2647")
    pair = compare_records(a, b)
    assert pair.decision is Decision.POSSIBLE
    assert pair.rule == "same title, different pages in one volume"


def _conference_abstract(**changes: object) -> DedupRecord:
    values: dict[str, object] = {
        "doi": "", "pmid": "", "volume": "120", "issue": "Suppl 1", "pages": "S45",
        "year": 2012, "journal": "Blood",
    }  # fmt: skip
    values.update(changes)
    return record("b", **values)


def test_conference_abstract_of_the_same_title_goes_to_a_person() -> None:
    pair = compare_records(record("a", doi="", pmid=""), _conference_abstract())
    assert pair.decision is Decision.POSSIBLE
    assert pair.rule == "conference abstract vs article"


def test_conference_abstract_of_another_title_is_distinct() -> None:
    abstract = _conference_abstract(title="Eculizumab in Shiga-toxin associated HUS")
    pair = compare_records(record("a", doi="", pmid=""), abstract)
    assert pair.decision is Decision.DISTINCT


def test_a_record_without_title_is_never_merged_automatically() -> None:
    pair = compare_records(record("a", doi="", pmid=""), record("b", title="", doi=""))
    assert pair.decision is Decision.POSSIBLE
    assert pair.rule == "a title is missing"


def test_same_title_other_authors_is_not_auto() -> None:
    other = record(
        "b",
        authors=(("Smith", "J"), ("Jones", "K")),
        journal="Kidney International",
        volume="",
        issue="",
        pages="",
        doi="",
        pmid="",
    )
    assert compare_records(record("a", doi="", pmid=""), other).decision is not (
        Decision.AUTO
    )


def test_same_title_authors_and_year_with_garbled_details_goes_to_a_person() -> None:
    # One abstract printed in two journals' supplements: only the paper agrees.
    a = record("a", doi="", pmid="", volume="26", issue="9", pages="1746")
    b = record(
        "b", doi="", pmid="", journal="Haematologica", volume="94", issue="2",
        pages="239",
    )  # fmt: skip
    pair = compare_records(a, b)
    assert pair.score < 0.3
    assert pair.decision is Decision.POSSIBLE
    assert pair.rule == "same title, authors and year; other details differ"


def test_same_title_and_year_by_other_authors_stays_distinct() -> None:
    a = record("a", doi="", pmid="", volume="26", issue="9", pages="1746")
    b = record(
        "b", doi="", pmid="", journal="Haematologica", volume="94", issue="2",
        pages="239", authors=(("Okafor", "N"), ("Lindqvist", "P")),
    )  # fmt: skip
    assert compare_records(a, b).decision is Decision.DISTINCT


def test_generic_short_titles_in_one_volume_stay_distinct() -> None:
    a = record("a", title="Editorial", doi="", pmid="", pages="1")
    b = record(
        "b", title="Editorial", doi="", pmid="", pages="9", authors=(("Roe", "J"),)
    )
    assert compare_records(a, b).decision is Decision.DISTINCT
