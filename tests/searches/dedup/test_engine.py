"""The pipeline: groups, the chaining guard, incremental mode, purity."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from searches.dedup import (
    Decision,
    DedupRecord,
    Thresholds,
    find_duplicates,
    find_duplicates_incremental,
)
from tests.searches.dedup.helpers import record

OTHER = {
    "title": "Complement factor H mutations in dense deposit disease",
    "authors": (("Servais", "A"), ("Noel", "L")),
    "year": 2012,
    "journal": "Kidney International",
    "volume": "82",
    "issue": "4",
    "pages": "454-464",
    "doi": "10.1038/ki.2012.63",
    "pmid": "22456601",
}


def test_duplicates_form_one_group_with_reasons() -> None:
    records = [
        record("a"),
        record("x", **OTHER),
        record("b", doi="", journal="N Engl J Med"),
        record("c", pmid="", pages="2169-81"),
    ]
    result = find_duplicates(records)
    assert result.groups == (("a", "b", "c"),)
    auto = result.by_decision(Decision.AUTO)
    assert {(p.a, p.b) for p in auto} == {("a", "b"), ("a", "c"), ("b", "c")}
    assert all("title" in p.matched for p in auto)
    assert result.stats["duplicates_removed"] == 2


def test_repeated_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="twice"):
        find_duplicates([record("a"), record("a")])


def test_chaining_guard_keeps_unrelated_records_apart() -> None:
    # b (no DOI, no PMID) matches a and c; a and c carry different DOIs, so
    # plain transitive closure would wrongly merge a with c.
    a = record("a", pmid="")
    b = record("b", doi="", pmid="")
    c = record("c", pmid="", doi="10.9999/other")
    result = find_duplicates([a, b, c])
    assert all(not {"a", "c"} <= set(g) for g in result.groups)
    assert len(result.groups) == 1
    assert len(result.demoted) == 1
    demoted = result.demoted[0]
    assert demoted.decision is Decision.POSSIBLE
    assert "chain" in demoted.rule


def test_group_size_is_capped() -> None:
    copies = [record(str(i)) for i in range(8)]
    result = find_duplicates(copies, max_group=5)
    assert max(len(g) for g in result.groups) <= 5


def test_thresholds_move_pairs_between_auto_and_possible() -> None:
    a, b = record("a", doi="", pmid=""), record("b", doi="", pmid="", pages="")
    strict = find_duplicates([a, b], thresholds=Thresholds(auto=1.0, possible=0.3))
    assert strict.groups == ()
    assert [p.decision for p in strict.pairs] == [Decision.POSSIBLE]
    with pytest.raises(ValueError, match="thresholds"):
        Thresholds(auto=0.2, possible=0.5)


def test_incremental_checks_new_against_old_and_new() -> None:
    old = [record("a"), record("x", **OTHER)]
    new = [
        record("n1", doi="", journal="N Engl J Med"),
        record("y", **{**OTHER, "doi": "", "pmid": ""}),
        record("z", title="Unrelated title about other things", doi="", pmid=""),
    ]
    result = find_duplicates_incremental(old, new)
    assert {frozenset(g) for g in result.groups} == {
        frozenset({"a", "n1"}),
        frozenset({"x", "y"}),
    }


def test_incremental_never_reports_old_pairs() -> None:
    # Two old records that are duplicates were decided before (kept apart by a
    # person): a later import must not reopen them.
    old = [record("a"), record("b")]
    result = find_duplicates_incremental(old, [record("x", **OTHER)])
    assert result.pairs == ()
    assert result.groups == ()


def test_incremental_does_not_join_two_old_records_through_a_new_one() -> None:
    old = [record("a", pmid=""), record("b", pmid="", doi="10.9999/other")]
    result = find_duplicates_incremental(old, [record("n", doi="", pmid="")])
    assert all(not {"a", "b"} <= set(g) for g in result.groups)


def test_from_values_takes_record_values_dicts() -> None:
    values = {
        "title": "A title",
        "authors": [["Smith", "J"], ["Jones", ""]],
        "year": 2020,
        "doi": "10.1/x",
        "keywords": ["ignored"],
    }
    rec = DedupRecord.from_values(7, values)
    assert rec.id == 7
    assert rec.authors == (("Smith", "J"), ("Jones", ""))
    assert rec.year == 2020
    assert rec.journal == ""


def test_engine_imports_no_django() -> None:
    package = Path(__file__).resolve().parents[3] / "searches" / "dedup"
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith("django"), path
                assert not name.startswith("searches.") or name.startswith(
                    "searches.dedup"
                ), path


def test_a_pair_a_hard_rule_parts_is_never_merged_through_a_third_record() -> None:
    """Same title, other pages of one volume: queued for a person, and no chain
    of automatic merges (through a record without pages) may join them."""
    common = {"doi": "", "pmid": "", "volume": "12", "issue": ""}
    first = record("c", pages="100-110", **common)
    second = record("p", pages="400-410", **common)
    bridge = record("r", pages="", **common)
    result = find_duplicates([first, second, bridge])
    assert not any({"c", "p"} <= set(group) for group in result.groups)
    parted = [p for p in result.pairs if {p.a, p.b} == {"c", "p"}]
    assert [p.decision for p in parted] == [Decision.POSSIBLE]
