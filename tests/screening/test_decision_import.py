"""A lead imports earlier screening decisions from a CSV file: as a reviewer's
votes (the stage's rules then make agreements and conflicts) or as final
decisions; a file with any bad row is refused whole and nothing is stored."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from core.models import AuditEvent, Job, User
from reviews.models import Review
from screening import import_services, services
from screening.import_services import Mode, Row, read_decisions, vote_of
from screening.models import Decision, ExclusionReason, RecordStage
from screening.rules import Outcome, Stage, Vote
from searches.models import Record
from searches.parsers.base import open_text
from tests.conftest import client_for
from tests.factories import RecordFactory, SearchFactory
from tests.processes import celery_worker, wait_for

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
VOTES, FINAL = Mode.VOTES, Mode.FINAL
Run = Callable[..., Job]


@pytest.fixture
def records(review: Review) -> list[Record]:
    search = SearchFactory(review=review)
    return [
        RecordFactory(search=search, doi=f"10.1000/study.{n}", pmid=str(3000000 + n))
        for n in range(5)
    ]


@pytest.fixture
def reasons(review: Review) -> dict[str, ExclusionReason]:
    make = ExclusionReason.objects.create
    return {
        "population": make(review=review, position=1, label="Wrong population"),
        "design": make(review=review, position=2, label="Wrong design"),
        "old": make(review=review, position=3, label="Old reason", archived=True),
    }


@pytest.fixture
def run_import(lead: User, django_capture_on_commit_callbacks: Any) -> Run:
    """Upload a file as the lead; the task runs as the upload's commit would."""

    def run(
        review: Review,
        text: str,
        *,
        stage: Stage = TA,
        mode: Mode = VOTES,
        reviewer: User | None = None,
        encoding: str = "utf-8",
        name: str = "pilot.csv",
    ) -> Job:
        upload = SimpleUploadedFile(name, text.encode(encoding))
        with django_capture_on_commit_callbacks(execute=True):
            job = import_services.decision_import_start(
                review=review, stage=stage, actor=lead, upload=upload,
                file_name=name, mode=mode, reviewer=reviewer,
            )  # fmt: skip
        job.refresh_from_db()
        return job

    return run


def _vote(review: Review, record: Record, user: User, vote: Vote, **kw: Any) -> None:
    services.decision_record(
        review=review, record=record, stage=kw.pop("stage", TA), reviewer=user,
        vote=vote, **kw,
    )  # fmt: skip


def _state(record: Record, stage: Stage = TA) -> RecordStage:
    return RecordStage.objects.get(record=record, stage=stage)


def _read(data: bytes) -> tuple[dict[str, int], list[Row]]:
    columns, rows = read_decisions(open_text(io.BytesIO(data)))
    return columns, list(rows)


# --- Reading the file ---------------------------------------------------------------


def test_headers_are_recognised_whatever_their_case_and_spacing() -> None:
    columns, rows = _read(
        b"Title,Record ID,DOI,PMID,Decision,Exclusion reason,Notes,Reviewer e-mail\n"
        b"Rats ran,7,10.1/x,123, Included ,Wrong,ok,a@b.org\n"
    )
    assert columns == {
        "record_id": 1, "doi": 2, "pmid": 3, "decision": 4, "reason": 5,
        "note": 6, "reviewer": 7,
    }  # fmt: skip
    assert rows == [Row(2, "7", "10.1/x", "123", "Included", "Wrong", "ok", "a@b.org")]


def test_our_record_id_is_preferred_to_another_tools_id() -> None:
    columns, _ = _read(b"id,Record_ID,decision\n77,7,include\n")
    assert columns["record_id"] == 1


@pytest.mark.parametrize(
    ("word", "vote"),
    [
        *[(w, Vote.INCLUDE) for w in ("include", "Included", "YES", "y", "1", "i")],
        *[(w, Vote.EXCLUDE) for w in ("exclude", "Excluded", "Irrelevant", "no")],
        *[(w, Vote.EXCLUDE) for w in ("N", "0", "e")],
        *[(w, Vote.MAYBE) for w in ("maybe", "Unsure", "?", "m")],
        ("perhaps", None),
        ("", None),
    ],
)
def test_decision_words(word: str, vote: Vote | None) -> None:
    assert vote_of(word) == vote


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"]
)
def test_every_usual_encoding_reads_the_same(encoding: str) -> None:
    note = "Rats – not mice; “contusion” model, café"
    text = "doi,decision,note\r\n" + "".join(
        f'10.1000/study.{n},exclude,"{note}"\r\n' for n in range(3)
    )
    columns, rows = _read(text.encode(encoding))
    assert set(columns) == {"doi", "decision", "note"}
    assert [row.note for row in rows] == [note] * 3
    assert rows[0].doi == "10.1000/study.0"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed_from_the_header(delimiter: str) -> None:
    text = delimiter.join(["pmid", "decision", "note"]) + "\n"
    text += delimiter.join(["123", "include", '"a, b; c"']) + "\n"
    columns, rows = _read(text.encode())
    assert len(columns) == 3
    assert rows == [Row(2, pmid="123", decision="include", note="a, b; c")]


def test_rows_carry_the_line_they_start_on() -> None:
    _, rows = _read(
        b'\nrecord_id,decision,note\n1,include,"first line\nsecond line"\n\n2,maybe,x\n'
    )
    assert [(row.line, row.record_id, row.note) for row in rows] == [
        (3, "1", "first line\nsecond line"),
        (6, "2", "x"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title,decision\nA,include\n", "No column names the records"),
        ("doi,status\n10.1/x,include\n", "No column called decision"),
        ("", "The file is empty"),
    ],
)
def test_a_file_without_the_needed_columns_is_refused_at_once(
    review: Review, lead: User, reviewer_a: User, run_import: Run, text: str,
    message: str,
) -> None:  # fmt: skip
    with pytest.raises(ValidationError, match=message):
        run_import(review, text, reviewer=reviewer_a)
    assert not Job.objects.exists()


def test_a_row_csv_cannot_read_fails_the_job(
    review: Review, reviewer_a: User, run_import: Run
) -> None:
    job = run_import(review, 'record_id,decision\n1,"include\n', reviewer=reviewer_a)
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Line 2: cannot read this row")


def test_a_workbook_is_refused_with_a_hint(review: Review, run_import: Run) -> None:
    with pytest.raises(ValidationError, match=r"Excel workbook.*save it as CSV"):
        run_import(review, "PK\x03\x04 binary", name="pilot.xlsx")


def test_votes_without_a_reviewer_column_need_a_reviewer_chosen(
    review: Review, lead: User, records: list[Record], run_import: Run
) -> None:
    with pytest.raises(ValidationError, match="choose whose votes these are"):
        run_import(review, f"record_id,decision\n{records[0].pk},include\n")
    assert not Job.objects.exists()


# --- Votes --------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [5000, 2])
def test_imported_votes_agree_or_conflict_with_another_reviewers_votes(
    review: Review,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    records: list[Record],
    run_import: Run,
    chunk: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(import_services, "CHUNK", chunk)
    r = records
    _vote(review, r[0], reviewer_b, Vote.INCLUDE)
    _vote(review, r[1], reviewer_b, Vote.INCLUDE)
    _vote(review, r[2], reviewer_b, Vote.EXCLUDE)
    text = (
        "record_id,decision,note\n"
        f"{r[0].pk},include,\n{r[1].pk},exclude,too small\n{r[2].pk},Excluded,\n"
        f"{r[3].pk},?,\n"
    )
    job = run_import(review, text, reviewer=reviewer_a)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.message == (
        "4 votes imported: 2 records resolved by agreement, 1 conflict."
    )
    assert [_state(record).status for record in r[:4]] == [
        "included", "conflict", "excluded", "pending",
    ]  # fmt: skip
    assert (_state(r[0]).method, _state(r[1]).conflict) == (
        "agreement", "include and exclude",
    )  # fmt: skip
    mine = Decision.objects.filter(reviewer=reviewer_a).order_by("record_id")
    assert [(d.record_id, d.vote, d.note) for d in mine] == [
        (r[0].pk, "include", ""), (r[1].pk, "exclude", "too small"),
        (r[2].pk, "exclude", ""), (r[3].pk, "maybe", ""),
    ]  # fmt: skip
    imported = AuditEvent.objects.filter(verb="screening.vote_imported")
    assert imported.count() == 4
    event = imported.get(target_id=str(mine[1].pk))
    assert event.actor == lead and event.before is None
    assert event.after == {
        "reviewer": reviewer_a.pk, "vote": "exclude", "reason": None,
        "note": "too small", "file": "pilot.csv", "line": 3,
    }  # fmt: skip
    resolved = AuditEvent.objects.filter(verb="screening.resolved", actor=lead)
    assert sorted(int(e.target_id) for e in resolved) == sorted(
        [_state(r[0]).pk, _state(r[2]).pk]
    )
    summary = AuditEvent.objects.get(verb="screening.decisions_imported")
    assert summary.after["counts"]["conflicts"] == 1
    assert summary.after["mode"] == "votes" and summary.after["rows"] == 4


def test_votes_of_several_reviewers_are_taken_in_row_order(
    review: Review,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    records: list[Record],
    run_import: Run,
) -> None:
    r, a, b = records, "REVIEWER.A@example.org", "reviewer.b@example.org"
    text = (
        "doi;pmid;decision;reviewer\n"
        f"https://doi.org/10.1000/STUDY.0;;include;{a}\n"
        f";PMID: 3000000;yes;{b}\n"
        f"10.1000/study.1;;include;{a}\n"
        f"10.1000/study.1;;no;{b}\n"
        f"10.1000/study.1;;include;lead@example.org\n"  # a third vote: not needed
        f"10.1000/study.2;;maybe;\n"  # no reviewer in the row: the one chosen
    )
    job = run_import(review, text, reviewer=reviewer_b)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.message == (
        "5 votes imported: 1 record resolved by agreement, 1 conflict; 1 row "
        "skipped (1 on records already resolved or with all their votes)."
    )
    assert (_state(r[0]).status, _state(r[1]).status) == ("included", "conflict")
    assert Decision.objects.get(record=r[2]).reviewer == reviewer_b
    assert not Decision.objects.filter(reviewer=lead).exists()


def test_votes_already_cast_and_records_already_resolved_are_skipped(
    review: Review,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    records: list[Record],
    run_import: Run,
) -> None:
    r = records
    _vote(review, r[0], reviewer_a, Vote.INCLUDE)
    _vote(review, r[1], reviewer_b, Vote.INCLUDE)
    _vote(review, r[1], lead, Vote.INCLUDE)  # resolved without reviewer_a
    text = f"record_id,decision\n{r[0].pk},exclude\n{r[1].pk},exclude\n{r[2].pk},y\n"
    job = run_import(review, text, reviewer=reviewer_a)
    assert job.message == (
        "1 vote imported: 0 records resolved by agreement, 0 conflicts; 2 rows "
        "skipped (1 already decided by that reviewer, 1 on records already "
        "resolved or with all their votes)."
    )
    assert Decision.objects.get(record=r[0], reviewer=reviewer_a).vote == "include"
    assert _state(r[1]).status == Outcome.INCLUDED
    again = run_import(review, text, reviewer=reviewer_a)
    assert again.message.startswith("0 votes imported") and "3 rows skipped" in (
        again.message
    )
    assert Decision.objects.filter(reviewer=reviewer_a).count() == 2


# --- Final decisions ----------------------------------------------------------------


def test_final_decisions_resolve_records_as_the_lead_and_keep_the_votes(
    review: Review,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    records: list[Record],
    reasons: dict[str, ExclusionReason],
    run_import: Run,
) -> None:
    r = records
    _vote(review, r[0], reviewer_a, Vote.INCLUDE)  # still pending
    _vote(review, r[1], reviewer_a, Vote.INCLUDE)
    _vote(review, r[1], reviewer_b, Vote.EXCLUDE)  # a conflict
    _vote(review, r[3], reviewer_a, Vote.EXCLUDE)
    _vote(review, r[3], reviewer_b, Vote.EXCLUDE)  # resolved already
    text = (
        "id\tdecision\treason\tnote\treviewer\n"
        f"{r[0].pk}\texclude\tWRONG  population\t\tnobody\n"
        f"{r[1].pk}\tinclude\t\tDiscussed at the meeting\t\n"
        f"#{r[2].pk}\tExcluded\tWrong design; wrong population\t\t\n"
        f"{r[3].pk}\tinclude\t\t\t\n"
    )
    job = run_import(review, text, mode=FINAL, name="final.csv")
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.message == (
        "3 records resolved (1 of them conflicts); 1 row skipped "
        "(1 on records already resolved)."
    )
    first, second, third = _state(r[0]), _state(r[1]), _state(r[2])
    assert (first.status, first.final_reason, first.method, first.resolved_by) == (
        "excluded", reasons["population"], "lead", lead,
    )  # fmt: skip
    assert first.resolution_note == "Imported from final.csv"
    assert (second.status, second.conflict) == ("included", "include and exclude")
    assert second.resolution_note == "Imported from final.csv: Discussed at the meeting"
    # Several reasons: the first in the review's order is the primary one (SCR-6).
    assert third.final_reason == reasons["population"]
    assert _state(r[3]).final_vote == "exclude"
    assert Decision.objects.count() == 5  # votes untouched
    events = AuditEvent.objects.filter(verb="screening.resolved", actor=lead)
    conflict = events.get(target_id=str(second.pk))
    assert conflict.before == {"status": "conflict", "conflict": "include and exclude"}
    assert conflict.after["method"] == "lead" and conflict.after["file"] == "final.csv"


def test_a_final_decision_is_never_maybe(
    review: Review, lead: User, records: list[Record], run_import: Run
) -> None:
    job = run_import(review, "pmid,decision\n3000000,maybe\n", mode=FINAL)
    assert job.status == Job.Status.FAILED
    assert "Line 2: a final decision is include or exclude, not maybe." in job.error


# --- Refusals -----------------------------------------------------------------------


def test_every_problem_is_named_by_line_and_nothing_is_stored(
    review: Review,
    team: dict[str, User],
    outsider: User,
    records: list[Record],
    reasons: dict[str, ExclusionReason],
    run_import: Run,
) -> None:
    r = records
    config = services.stage_settings(review, TA)
    config.maybe_allowed, config.reasons_required = False, True
    config.save()
    twin = RecordFactory(search=r[3].search, doi="10.1000/study.3")
    a = "reviewer.a@example.org"
    rows = [
        ("999999", "", "include", "", a),
        (r[0].pk, "", "include", "", a),  # fine
        ("", "10.1000/none", "include", "", a),
        ("", "10.1000/study.3", "include", "", a),
        (r[1].pk, "", "perhaps", "", a),
        (r[1].pk, "", "exclude", "Bananas", a),
        (r[1].pk, "", "exclude", "old reason", a),
        (r[1].pk, "", "include", "", "nobody@example.org"),
        (r[1].pk, "", "include", "", "observer@example.org"),
        (r[1].pk, "", "include", "", "Ravi"),
        (r[0].pk, "", "include", "", a),
        (r[2].pk, "", "maybe", "", a),
        (r[2].pk, "", "exclude", "", a),
        (r[2].pk, "10.1000/study.4", "include", "", a),
        (r[2].pk, "", "include", "", "outsider@example.org"),
        ("", "not a doi", "include", "", a),
        ("", "", "include", "", a),
    ]
    text = "record_id,doi,decision,reason,reviewer\n" + "".join(
        ",".join(str(cell) for cell in row) + "\n" for row in rows
    )
    job = run_import(review, text)
    assert job.status == Job.Status.FAILED
    assert job.error.splitlines() == [
        "pilot.csv was not imported: 16 rows have a problem, and nothing was stored.",
        "Line 2: no record '999999' in this review.",
        "Line 4: no record in this review has 10.1000/none.",
        f"Line 5: DOI 10.1000/study.3 matches 2 records (#{r[3].pk}, #{twin.pk}): "
        "give the record_id.",
        "Line 6: 'perhaps' is not a decision (use include or exclude).",
        "Line 7: unknown reason 'Bananas'.",
        "Line 8: the reason 'old reason' is archived.",
        "Line 9: reviewer nobody@example.org is not on this review's team.",
        "Line 10: observer@example.org is an observer: only reviewers and leads "
        "screen.",
        "Line 11: reviewer 'Ravi' is not an e-mail address (name reviewers by the "
        "address they log in with).",
        f"Line 12: record #{r[0].pk} is on line 3 already for the same reviewer.",
        "Line 13: maybe is not allowed at this stage.",
        "Line 14: an exclusion needs a reason at this stage.",
        f"Line 15: record {r[2].pk} and DOI 10.1000/study.4 name different records.",
        "Line 16: reviewer outsider@example.org is not on this review's team.",
        "Line 17: 'not a doi' is not a DOI.",
        "Line 18: no record_id, DOI or PMID.",
        "The review's exclusion reasons: Wrong population; Wrong design.",
    ]
    assert not Decision.objects.exists()
    assert not RecordStage.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="screening.").exists()


def test_only_the_first_twenty_problems_are_listed(
    review: Review, reviewer_a: User, records: list[Record], run_import: Run
) -> None:
    text = "record_id,decision\n" + "".join(f"{9000 + n},include\n" for n in range(30))
    job = run_import(review, text, reviewer=reviewer_a)
    lines = job.error.splitlines()
    assert lines[0].startswith("pilot.csv was not imported: 30 rows have a problem")
    assert len(lines) == 22 and lines[-1] == "… and 10 more."


def test_full_text_takes_records_included_at_title_and_abstract_with_reasons(
    review: Review,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    records: list[Record],
    reasons: dict[str, ExclusionReason],
    run_import: Run,
) -> None:
    r = records
    _vote(review, r[0], reviewer_a, Vote.INCLUDE)
    _vote(review, r[0], reviewer_b, Vote.MAYBE)  # on to full text
    bad = (
        f"record_id,decision,reason\n{r[1].pk},include,\n{r[0].pk},exclude,\n"
        f"{r[0].pk},maybe,\n"
    )
    job = run_import(review, bad, stage=FT, reviewer=reviewer_a)
    assert job.error.splitlines()[1:] == [
        f"Line 2: record #{r[1].pk} was not included at title and abstract.",
        "Line 3: an exclusion needs a reason at this stage.",
        "Line 4: maybe is not allowed at this stage.",
    ]
    good = f"record_id,decision,reason\n{r[0].pk},exclude,wrong design\n"
    assert run_import(review, good, stage=FT, reviewer=reviewer_a).message.startswith(
        "1 vote imported"
    )
    vote = Decision.objects.get(stage=FT)
    assert (vote.reviewer, vote.reason) == (reviewer_a, reasons["design"])
    assert _state(r[0], FT).status == Outcome.PENDING
    run_import(review, f"record_id,decision\n{r[0].pk},include\n", stage=FT, mode=FINAL)
    assert _state(r[0], FT).status == Outcome.INCLUDED
    assert _state(r[0]).status == Outcome.INCLUDED  # title/abstract untouched


def test_only_a_lead_imports(
    review: Review,
    team: dict[str, User],
    outsider: User,
    records: list[Record],
) -> None:
    url = reverse("screening:decision_import", args=[review.pk, TA.value])
    for persona, status in [
        ("reviewer_a", 403), ("observer", 403), ("lead", 200),
    ]:  # fmt: skip
        assert client_for(team[persona]).get(url).status_code == status
    assert client_for(outsider).get(url).status_code == 404
    with pytest.raises(ValidationError, match="Only a lead"):
        import_services.decision_import_start(
            review=review, stage=TA, actor=team["reviewer_a"],
            upload=SimpleUploadedFile("a.csv", b"pmid,decision\n3000000,include\n"),
            file_name="a.csv", mode=FINAL,
        )  # fmt: skip


# --- The page, the task, the job ----------------------------------------------------


def test_the_page_queues_the_import_and_shows_its_outcome_but_no_votes(
    review: Review,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    records: list[Record],
    django_capture_on_commit_callbacks: Any,
) -> None:
    _vote(review, records[0], reviewer_b, Vote.EXCLUDE, note="Secret note of Rosa")
    client = client_for(lead)
    url = reverse("screening:decision_import", args=[review.pk, TA.value])
    csv = f"record_id,decision\n{records[0].pk},include\n".encode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            url,
            {
                "file": SimpleUploadedFile("pilot.csv", csv),
                "mode": "votes",
                "reviewer": reviewer_a.pk,
            },
        )
    assert response.status_code == 302 and len(callbacks) == 1
    page = client.get(url).content.decode()
    assert 'data-testid="job-status">Finished' in page
    assert "1 vote imported: 0 records resolved by agreement, 1 conflict." in page
    assert "Secret note of Rosa" not in page and "exclude</" not in page
    bad = SimpleUploadedFile("bad.csv", b"record_id,decision\n424242,include\n")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"file": bad, "mode": "final"})
    page = client.get(url).content.decode()
    assert 'data-testid="import-problems"' in page
    assert "Line 2: no record &#x27;424242&#x27; in this review." in page


def test_the_form_names_what_is_wrong_before_anything_is_queued(
    review: Review, lead: User, records: list[Record]
) -> None:
    client = client_for(lead)
    url = reverse("screening:decision_import", args=[review.pk, TA.value])
    upload = SimpleUploadedFile("pilot.csv", b"pmid,decision\n3000000,include\n")
    response = client.post(url, {"file": upload, "mode": "votes"})
    assert response.status_code == 200
    assert "choose whose votes these are" in response.content.decode()
    with override_settings(IMPORT_MAX_BYTES=10):
        upload = SimpleUploadedFile("pilot.csv", b"pmid,decision\n3000000,include\n")
        response = client.post(url, {"file": upload, "mode": "final"})
    assert "over the limit" in response.content.decode()
    assert not Job.objects.exists()


def test_a_finished_import_does_not_run_again(
    review: Review,
    lead: User,
    reviewer_a: User,
    records: list[Record],
    run_import: Run,
) -> None:
    job = run_import(review, "pmid,decision\n3000000,include\n", reviewer=reviewer_a)
    assert import_services.decision_import_run(job_id=job.pk) is None
    # Redelivered after a crash past the commit: reports what was stored.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, message="")
    counts = import_services.decision_import_run(job_id=job.pk)
    assert counts is not None and counts.votes == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.message.startswith("1 vote")
    assert Decision.objects.count() == 1


def test_merged_duplicates_count_as_the_record_they_were_merged_into(
    review: Review, lead: User, records: list[Record], run_import: Run
) -> None:
    primary = records[0]
    duplicate = RecordFactory(
        search=primary.search, duplicate_of=primary, doi="10.1000/dup", pmid=""
    )
    text = (
        f"record_id,doi,decision\n{duplicate.pk}.0,,include\n"
        f",https://doi.org/10.1000/DUP,include\n"
    )
    job = run_import(review, text, mode=FINAL)
    assert f"Line 3: record #{primary.pk} is on line 2 already." in job.error
    job = run_import(review, "doi,decision\n10.1000/DUP,include\n", mode=FINAL)
    assert job.status == Job.Status.SUCCEEDED
    assert _state(primary).status == Outcome.INCLUDED
    assert not RecordStage.objects.filter(record=duplicate).exists()


@pytest.mark.parametrize("size", [10, 200])
def test_the_number_of_queries_does_not_grow_with_the_rows(
    review: Review,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    run_import: Run,
    django_assert_max_num_queries: Any,
    size: int,
) -> None:
    search = SearchFactory(review=review)
    records = [RecordFactory(search=search) for _ in range(size)]
    for record in records[:5]:
        _vote(review, record, reviewer_b, Vote.INCLUDE)
    text = "record_id,decision,note\n" + "".join(
        f"{record.pk},include,\n" for record in records
    )
    # The same bound for 10 and 200 rows (32 on SQLite; COPY adds a few on PostgreSQL).
    with django_assert_max_num_queries(36):
        job = run_import(review, text, reviewer=reviewer_a)
    assert job.message.startswith(f"{size} votes imported: 5 records resolved")
    assert AuditEvent.objects.filter(verb="screening.vote_imported").count() == size


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_import(
    review: Review, lead: User, reviewer_a: User, records: list[Record]
) -> None:
    """The worker process knows the task (it is registered when the worker
    imports the URLs for Django's checks) and reads the stored file."""
    text = f"pmid,decision\n3000000,include\n{records[1].pmid},exclude\n"
    with celery_worker():
        job = import_services.decision_import_start(
            review=review, stage=TA, actor=lead, mode=FINAL, file_name="w.csv",
            upload=SimpleUploadedFile("w.csv", text.encode()),
        )  # fmt: skip
        wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, what="the import")
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.message == "2 records resolved."
    assert _state(records[1]).status == Outcome.EXCLUDED


def test_imports_wait_for_a_calibration_round_to_pass(
    review: Review, lead: User, records: list[Record], run_import: Run
) -> None:
    settings = services.stage_settings(review, Stage.TITLE_ABSTRACT)
    settings.pilot_size = 10
    settings.save()
    with pytest.raises(ValidationError, match="calibration round passes"):
        run_import(review, "pmid,decision\n3000000,include\n", mode=FINAL)
    assert not Decision.objects.exists() and not RecordStage.objects.exists()


def test_the_dashboard_links_leads_to_the_import(review: Review, lead: User) -> None:
    body = client_for(lead).get(reverse("screening:dashboard", args=[review.pk])).text
    assert reverse("screening:decision_import", args=[review.pk, "full_text"]) in body
