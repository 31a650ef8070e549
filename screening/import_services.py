"""Import of earlier screening decisions from a CSV file: a pilot screened in
Rayyan or Covidence, or a spreadsheet of a team's votes.

Each row names a record (this app's record id, its DOI or its PMID) and a
decision. Two modes:

- votes: each row is one reviewer's vote, stored as if cast on the screening
  page, so the stage's rules (screening.rules.outcome) make agreements and
  conflicts exactly as for votes cast here;
- final: each row is the final decision on a record, stored as a lead's
  resolution (RecordStage.Method.LEAD, noted "Imported from <file>"); votes
  stay as they are (SCR-5).

The whole file is checked before anything is written: one bad row refuses the
file, naming up to MAX_PROBLEMS problems by line. Rows for a vote the reviewer
has cast already, or a record whose outcome is settled, are skipped and
counted: votes are never overwritten (GEN-4), so importing a file twice
changes nothing. Writes are bulk inserts and grouped updates in one
transaction, with an audit row per vote and per resolution and one for the
import; the work runs as a Celery task that reports progress on a Job.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import IO, Any, BinaryIO, TextIO, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from core.audit import audit_event_create
from core.bulk import db_datetime, insert_rows
from core.models import AuditEvent, Job, User
from core.roles import Role
from core.services import job_create, job_fail, job_progress, job_start, job_succeed
from reviews.models import Membership, Review
from screening import services
from screening.models import Decision, ExclusionReason, RecordStage, StageSettings
from screening.rules import (
    Ballot,
    BallotError,
    Outcome,
    Stage,
    Vote,
)
from searches.models import Record
from searches.parsers.base import normalise_doi, normalise_pmid, open_text
from searches.services import file_sha256

KIND = "screening.decision_import"
SUMMARY_VERB = "screening.decisions_imported"
MAX_PROBLEMS = 20
CHUNK = 5000  # ids per IN (...) list: far below SQLite's 32,766 parameters
PROGRESS_EVERY = 10_000  # rows
SAMPLE_CHARS = 1 << 16
FIELD_SIZE_LIMIT = 1 << 24  # a long note is fine; csv's default is 128 KiB
DELIMITERS = (",", ";", "\t")


class Mode(StrEnum):
    VOTES = "votes"  # each row is a reviewer's vote
    FINAL = "final"  # each row is the record's final decision


MODE_LABELS = {
    Mode.VOTES: "Votes of a reviewer: agreements and conflicts follow the rules",
    Mode.FINAL: "Final decisions: each record is resolved as the file says",
}

# Header names, compared without case, spaces or punctuation ("Record ID"), in
# order of preference: a file with both keeps record_id over a bare "id" (which
# may be another tool's own number).
COLUMNS = {
    "record_id": ("recordid", "id"),
    "doi": ("doi",),
    "pmid": ("pmid", "pubmedid"),
    "decision": ("decision", "vote"),
    "reason": ("reason", "exclusionreason"),
    "note": ("note", "notes"),
    "reviewer": ("reviewer", "revieweremail"),
}
KEY_COLUMNS = ("record_id", "doi", "pmid")
DECISIONS: dict[str, Vote] = {
    **dict.fromkeys(("include", "included", "yes", "y", "1", "i"), Vote.INCLUDE),
    # Covidence lists title/abstract exclusions as "irrelevant".
    **dict.fromkeys(
        ("exclude", "excluded", "irrelevant", "no", "n", "0", "e"), Vote.EXCLUDE
    ),
    **dict.fromkeys(("maybe", "unsure", "?", "m"), Vote.MAYBE),
}
# What people upload instead of a CSV, by its first bytes.
NOT_CSV = {
    b"PK\x03\x04": "an Excel workbook (or a ZIP)",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook",
    b"%PDF": "a PDF",
}


# --- Reading the file (no database) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One non-blank data row, with the line of the file it starts on."""

    line: int
    record_id: str = ""
    doi: str = ""
    pmid: str = ""
    decision: str = ""
    reason: str = ""
    note: str = ""
    reviewer: str = ""


def header_columns(header: Sequence[str]) -> dict[str, int]:
    """Recognised column -> its position: 'Record ID' names record_id."""
    keys = [re.sub(r"[\W_]+", "", name.casefold()) for name in header]
    found: dict[str, int] = {}
    for column, names in COLUMNS.items():
        position = next((keys.index(name) for name in names if name in keys), None)
        if position is not None:
            found[column] = position
    return found


def _delimiter(sample: str) -> str:
    """The delimiter under which the header names the most known columns
    (then: has the most cells); ',' on a tie."""
    first = next((line for line in io.StringIO(sample) if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        header = next(csv.reader([first], delimiter=delimiter), [])
        return len(header_columns(header)), len(header)

    return max(DELIMITERS, key=score)


def read_decisions(text: TextIO) -> tuple[dict[str, int], Iterator[Row]]:
    """The recognised columns of a decisions CSV (a text stream, see
    searches.parsers.base.open_text) and its non-blank data rows. Raises
    ValidationError for a file without a header, without a column naming the
    records or without a decision column, or for a row csv cannot read."""
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    sample = text.read(SAMPLE_CHARS)
    if sample and not sample.endswith(("\n", "\r")):
        sample += text.readline()
    sample = sample.lstrip("\ufeff")
    if not sample.strip():
        raise ValidationError("The file is empty: there is no header row.")
    lines = itertools.chain(io.StringIO(sample), text)
    reader = csv.reader(lines, delimiter=_delimiter(sample), strict=True)
    header: list[str] = []
    try:
        while not any(cell.strip() for cell in header):
            header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise ValidationError(f"Cannot read the header row ({error}).") from None
    columns = header_columns(header)
    _columns_check(columns, header)
    return columns, _rows(reader, columns)


def _columns_check(columns: dict[str, int], header: Sequence[str]) -> None:
    found = ", ".join(name.strip() for name in header if name.strip())
    if not any(key in columns for key in KEY_COLUMNS):
        raise ValidationError(
            "No column names the records: add one called record_id, doi or pmid "
            f"(the file's columns are: {found})."
        )
    if "decision" not in columns:
        raise ValidationError(
            f"No column called decision (the file's columns are: {found})."
        )


def _rows(reader: Any, columns: dict[str, int]) -> Iterator[Row]:
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValidationError(
                f"Line {line}: cannot read this row ({error}); a cell is probably "
                "not quoted properly."
            ) from None
        if any(cell.strip() for cell in cells):
            values = {
                name: cells[position].strip() if position < len(cells) else ""
                for name, position in columns.items()
            }
            yield Row(line, **values)
        line = reader.line_num + 1


def vote_of(value: str) -> Vote | None:
    """'Included', 'y', '1', '?' ... as a vote; None when it is none of them."""
    return DECISIONS.get(value.strip().casefold())


def _refuse_binary(binary: IO[bytes], name: str) -> None:
    head = binary.read(8)
    binary.seek(0)
    for magic, kind in NOT_CSV.items():
        if head.startswith(magic):
            raise ValidationError(
                f"{name} looks like {kind}, not a CSV file: save it as CSV "
                "(UTF-8) and upload that."
            )


def _header_check(upload: IO[bytes], name: str) -> dict[str, int]:
    """The recognised columns of an upload, which stays open and rewound."""
    _refuse_binary(upload, name)
    text = open_text(cast(BinaryIO, upload))
    try:
        columns, _ = read_decisions(text)
    finally:
        cast(io.TextIOWrapper, text).detach()  # leave the upload open
        upload.seek(0)
    return columns


def _reviewer_check(columns: dict[str, int], mode: Mode, reviewer: int | None) -> None:
    if mode is Mode.VOTES and "reviewer" not in columns and reviewer is None:
        raise ValidationError(
            "The file has no reviewer column: choose whose votes these are."
        )


# --- Checking the rows against the review (reads only) -----------------------------


@dataclass(frozen=True, slots=True)
class Planned:
    """A checked row: a vote by `reviewer_id` (votes mode) or the final
    decision of `reviewer_id`, the importing lead (final mode)."""

    line: int
    record_id: int
    reviewer_id: int
    vote: Vote
    reason_id: int | None
    note: str


@dataclass
class _Records:
    """The review's imported records: every id (a merged duplicate too) leads to
    the primary record that is screened; DOIs and PMIDs to their primaries."""

    primary: dict[int, int] = field(default_factory=dict)
    by_doi: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_pmid: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


def _records(review: Review) -> _Records:
    rows = list(
        Record.objects.visible(review.pk).values_list(
            "pk", "duplicate_of_id", "doi", "pmid"
        )
    )
    parent = {pk: duplicate_of for pk, duplicate_of, _, _ in rows}
    index = _Records()
    for pk, _, doi, pmid in rows:
        root, steps = pk, 0
        while parent.get(root) is not None and steps < 50:  # 50: a cycle guard
            root, steps = parent[root], steps + 1
        if root not in parent or parent[root] is not None:
            continue  # merged into a record that is not (yet) imported
        index.primary[pk] = root
        if doi:
            index.by_doi[doi.lower()].add(root)
        if pmid:
            index.by_pmid[pmid].add(root)
    return index


class RowProblem(Exception):
    """What is wrong with one row, for the person who uploaded the file."""


@dataclass
class _Reasons:
    active: dict[str, tuple[int, int]]  # label, compared loosely -> (position, id)
    archived: set[str]
    labels: list[str]

    def find(self, value: str) -> int:
        """The reason's id. 'A; B' names several reasons: the first in the
        review's order is the primary one (SCR-6)."""
        key = _loose(value)
        if key in self.active:
            return self.active[key][1]
        parts = [_loose(part) for part in re.split(r"[;|]", value) if part.strip()]
        if len(parts) > 1 and all(part in self.active for part in parts):
            return min(self.active[part] for part in parts)[1]
        if key in self.archived:
            raise RowProblem(f"the reason {value!r} is archived")
        raise RowProblem(f"unknown reason {value!r}")


def _loose(label: str) -> str:
    return " ".join(label.split()).casefold()


def _reasons(review: Review) -> _Reasons:
    reasons = _Reasons({}, set(), [])
    for pk, position, label, archived in ExclusionReason.objects.filter(
        review=review
    ).values_list("pk", "position", "label", "archived"):
        if archived:
            reasons.archived.add(_loose(label))
        else:
            reasons.active[_loose(label)] = (position, pk)
            reasons.labels.append(label)
    return reasons


def _screeners(review: Review) -> dict[str, int | None]:
    """E-mail (lower case) -> user id of the reviewers and leads; None for observers."""
    return {
        email: user_id if Role(role).at_least(Role.REVIEWER) else None
        for email, user_id, role in Membership.objects.filter(
            review=review
        ).values_list(Lower("user__email"), "user_id", "role")
    }


def _included_at_title_abstract(review: Review) -> set[int]:
    return set(
        RecordStage.objects.filter(
            review=review, stage=Stage.TITLE_ABSTRACT, status=Outcome.INCLUDED
        ).values_list("record_id", flat=True)
    )


@dataclass
class _Checker:
    """Checks one row at a time against what the review holds."""

    stage: Stage
    config: StageSettings
    mode: Mode
    default_reviewer: int | None
    records: _Records
    reasons: _Reasons
    screeners: dict[str, int | None]
    included: set[int] | None  # full text: the records included at title/abstract

    def check(self, row: Row) -> Planned:
        """The row as a vote or decision to store; raises RowProblem."""
        record = self.record(row)
        if self.included is not None and record not in self.included:
            raise RowProblem(f"record #{record} was not included at title and abstract")
        vote = self.vote(row)
        reason = self.reason(row, vote)
        return Planned(row.line, record, self.reviewer(row), vote, reason, row.note)

    def record(self, row: Row) -> int:
        found: list[tuple[str, set[int]]] = []
        if row.record_id:
            number = re.fullmatch(r"#?(\d{1,18})(?:\.0+)?", row.record_id)
            pk = int(number.group(1)) if number else None
            if pk is None or pk not in self.records.primary:
                raise RowProblem(f"no record {row.record_id!r} in this review")
            found.append((f"record {row.record_id}", {self.records.primary[pk]}))
        for name, value, clean, index in (
            ("DOI", row.doi, normalise_doi, self.records.by_doi),
            ("PMID", row.pmid, normalise_pmid, self.records.by_pmid),
        ):
            if not value:
                continue
            key = clean(value)
            if not key:
                raise RowProblem(f"{value!r} is not a {name}")
            if key in index:
                found.append((f"{name} {key}", index[key]))
        return _one_record(row, found)

    def vote(self, row: Row) -> Vote:
        if not row.decision:
            raise RowProblem("no decision")
        vote = vote_of(row.decision)
        if vote is None:
            choices = "include, exclude or maybe"
            if not self.config.allows_maybe or self.mode is Mode.FINAL:
                choices = "include or exclude"
            raise RowProblem(f"{row.decision!r} is not a decision (use {choices})")
        if vote is Vote.MAYBE and self.mode is Mode.FINAL:
            raise RowProblem("a final decision is include or exclude, not maybe")
        if vote is Vote.MAYBE and not self.config.allows_maybe:
            raise RowProblem("maybe is not allowed at this stage")
        return vote

    def reason(self, row: Row, vote: Vote) -> int | None:
        if vote is not Vote.EXCLUDE:
            return None  # a reason only ever explains an exclusion
        if not row.reason:
            if self.config.needs_reasons:
                raise RowProblem("an exclusion needs a reason at this stage")
            return None
        return self.reasons.find(row.reason)

    def reviewer(self, row: Row) -> int:
        if self.mode is Mode.FINAL or not row.reviewer:
            if self.default_reviewer is None:
                raise RowProblem(
                    "no reviewer: fill the reviewer column or choose one on the form"
                )
            return self.default_reviewer
        email = row.reviewer.lower()
        if "@" not in email:
            raise RowProblem(
                f"reviewer {row.reviewer!r} is not an e-mail address (name reviewers "
                "by the address they log in with)"
            )
        if email not in self.screeners:
            raise RowProblem(f"reviewer {row.reviewer} is not on this review's team")
        user_id = self.screeners[email]
        if user_id is None:
            raise RowProblem(
                f"{row.reviewer} is an observer: only reviewers and leads screen"
            )
        return user_id


def _one_record(row: Row, found: list[tuple[str, set[int]]]) -> int:
    """The one record every key of the row that matched names."""
    if not found:
        if not (row.record_id or row.doi or row.pmid):
            raise RowProblem("no record_id, DOI or PMID")
        keys = [v for v in (row.doi, row.pmid) if v]
        raise RowProblem(f"no record in this review has {' or '.join(keys)}")
    common = set.intersection(*(ids for _, ids in found))
    named = " and ".join(name for name, _ in found)
    if not common:
        raise RowProblem(f"{named} name different records")
    if len(common) > 1:
        ids = ", ".join(f"#{pk}" for pk in sorted(common)[:5])
        verb = "matches" if len(found) == 1 else "match"
        raise RowProblem(
            f"{named} {verb} {len(common)} records ({ids}): give the record_id"
        )
    return common.pop()


class _Problems:
    """The problems found, counted; the first MAX_PROBLEMS kept to show."""

    def __init__(self) -> None:
        self.count = 0
        self.listed: list[str] = []
        self.unknown_reason = False

    def add(self, line: int, text: str) -> None:
        self.count += 1
        self.unknown_reason = self.unknown_reason or text.startswith("unknown reason")
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append(f"Line {line}: {text}.")

    def error(self, file_name: str, reasons: _Reasons) -> ValidationError:
        count = self.count
        lines = [
            f"{file_name} was not imported: {count} row{'s' if count != 1 else ''} "
            f"{'have' if count != 1 else 'has'} a problem, and nothing was stored.",
            *self.listed,
        ]
        if count > len(self.listed):
            lines.append(f"… and {count - len(self.listed)} more.")
        if self.unknown_reason:
            labels = "; ".join(reasons.labels) or "none yet"
            lines.append(f"The review's exclusion reasons: {labels}.")
        return ValidationError(lines)


def decisions_plan(
    *,
    review: Review,
    stage: Stage,
    config: StageSettings,
    mode: Mode,
    rows: Sequence[Row],
    default_reviewer: int | None,
    file_name: str,
) -> list[Planned]:
    """Every row checked against the review, as the votes or decisions to store.
    Raises ValidationError naming up to MAX_PROBLEMS problems by line when any
    row is wrong (or when there are no rows)."""
    if not rows:
        raise ValidationError(f"{file_name} has a header but no rows of decisions.")
    checker = _Checker(
        stage=stage,
        config=config,
        mode=mode,
        default_reviewer=default_reviewer,
        records=_records(review),
        reasons=_reasons(review),
        screeners=_screeners(review) if mode is Mode.VOTES else {},
        included=_included_at_title_abstract(review)
        if stage is Stage.FULL_TEXT
        else None,
    )
    problems, planned = _Problems(), []
    seen: dict[tuple[int, int], int] = {}
    whose = " for the same reviewer" if mode is Mode.VOTES else ""
    for row in rows:
        try:
            item = checker.check(row)
        except RowProblem as problem:
            problems.add(row.line, str(problem))
            continue
        first = seen.setdefault((item.record_id, item.reviewer_id), row.line)
        if first != row.line:
            text = f"record #{item.record_id} is on line {first} already{whose}"
            problems.add(row.line, text)
        else:
            planned.append(item)
    if problems.count:
        raise problems.error(file_name, checker.reasons)
    return planned


# --- Writing (one transaction) ------------------------------------------------------


@dataclass
class Counts:
    votes: int = 0  # votes stored (votes mode)
    resolved: int = 0  # records resolved: by agreement, or by the file (final)
    conflicts: int = 0  # conflicts the imported votes made
    were_conflicts: int = 0  # final mode: resolved records that were conflicts
    skipped_voted: int = 0  # the reviewer had voted on the record already
    skipped_closed: int = 0  # the record was resolved (or had all its votes)

    def message(self, mode: Mode) -> str:
        if mode is Mode.VOTES:
            text = (
                f"{self.votes:,} vote{_s(self.votes)} imported: {self.resolved:,} "
                f"record{_s(self.resolved)} resolved by agreement, "
                f"{self.conflicts:,} conflict{_s(self.conflicts)}"
            )
        else:
            text = f"{self.resolved:,} record{_s(self.resolved)} resolved"
            if self.were_conflicts:
                text += f" ({self.were_conflicts:,} of them conflicts)"
        skipped = self.skipped_voted + self.skipped_closed
        if skipped:
            reasons = []
            if self.skipped_voted:
                reasons.append(
                    f"{self.skipped_voted:,} already decided by that reviewer"
                )
            if self.skipped_closed:
                reasons.append(
                    f"{self.skipped_closed:,} on records already resolved"
                    + (" or with all their votes" if mode is Mode.VOTES else "")
                )
            text += f"; {skipped:,} row{_s(skipped)} skipped ({', '.join(reasons)})"
        return text + "."


def _s(count: int) -> str:
    return "" if count == 1 else "s"


@dataclass(frozen=True)
class _Import:
    """What one import writes with: the job's review, stage, lead and file."""

    job: Job
    review: Review
    stage: Stage
    config: StageSettings
    actor: User
    file_name: str
    now: datetime


def _chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


STATE_COLUMNS = (
    "created_at",
    "updated_at",
    "review_id",
    "stage",
    "record_id",
    "status",
    "all_maybe",
    "conflict",
    "final_vote",
    "final_reason_id",
    "method",
    "resolved_at",
    "resolved_by_id",
    "resolution_note",
)
DECISION_COLUMNS = (
    "created_at",
    "updated_at",
    "review_id",
    "stage",
    "record_id",
    "reviewer_id",
    "vote",
    "reason_id",
    "note",
)
AUDIT_COLUMNS = (
    "review_id",
    "actor_id",
    "verb",
    "target_type",
    "target_id",
    "before",
    "after",
    "created_at",
)


@dataclass(slots=True)
class _State:
    """A record's row at the stage, as the import reads and changes it (plain
    values: building 100,000 model instances would double the transaction)."""

    pk: int
    record_id: int
    status: str
    conflict: str = ""
    all_maybe: bool = False
    final_vote: str = ""
    final_reason_id: int | None = None
    method: str = ""
    resolved_at: datetime | None = None
    resolved_by_id: int | None = None
    resolution_note: str = ""

    @property
    def is_resolved(self) -> bool:
        return self.status in (Outcome.INCLUDED, Outcome.EXCLUDED)


def _states_locked(run: _Import, record_ids: Sequence[int]) -> dict[int, _State]:
    """The records' rows at this stage, locked (a reviewer voting meanwhile
    waits, as decision_record's lock makes two votes on one record wait for
    each other), and created, pending, where missing."""
    states: dict[int, _State] = {}
    for chunk in _chunks(record_ids):
        locked = RecordStage.objects.select_for_update().filter(
            stage=run.stage.value, record_id__in=chunk
        )
        for row in locked.order_by("pk").values_list(
            "pk", "record_id", "status", "conflict"
        ):
            states[row[1]] = _State(*row)
    missing = [pk for pk in record_ids if pk not in states]
    now, pending = db_datetime(run.now), Outcome.PENDING.value
    head = (now, now, run.review.pk, run.stage.value)
    blank = (False, "", "", None, "", None, None, "")
    ids = insert_rows(
        RecordStage,
        STATE_COLUMNS,
        [(*head, record_id, pending, *blank) for record_id in missing],
    )
    for pk, record_id in zip(ids, missing, strict=True):
        states[record_id] = _State(pk, record_id, pending)
    return states


def _ballots(stage: Stage, record_ids: Sequence[int]) -> dict[int, list[Ballot]]:
    ballots: dict[int, list[Ballot]] = defaultdict(list)
    for chunk in _chunks(record_ids):
        for record_id, reviewer_id, vote, reason_id in Decision.objects.filter(
            stage=stage.value, record_id__in=chunk
        ).values_list("record_id", "reviewer_id", "vote", "reason_id"):
            ballots[record_id].append(Ballot(reviewer_id, Vote(vote), reason_id))
    return ballots


def _outcome_set(state: _State, ballots: list[Ballot], run: _Import) -> None:
    """The record's outcome from its votes, as a vote through services sets it."""
    try:
        fields = services.outcome_fields(ballots, run.config, now=run.now)
    except BallotError as error:
        raise ValidationError(f"Record #{state.record_id}: {error}.") from error
    for name, value in fields.items():
        setattr(state, name, value)


def _states_save(
    states: Sequence[_State], fields: Sequence[str], now: datetime, **same: Any
) -> None:
    """One UPDATE per distinct set of values (few: an outcome, a reason)
    rather than one per record; `same` holds values every row takes."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for state in states:
        groups[tuple(getattr(state, name) for name in fields)].append(state.pk)
    for values, pks in groups.items():
        changes = dict(zip(fields, values, strict=True))
        for chunk in _chunks(pks):
            RecordStage.objects.filter(pk__in=chunk).update(
                **changes, **same, updated_at=now
            )


NOTES_PER_STATEMENT = 1000


def _notes_save(states: Sequence[_State]) -> None:
    """Resolution notes that differ row by row, 1,000 rows per UPDATE (one
    UPDATE per row, or Django's bulk_update, takes a minute for 100,000)."""
    table = connection.ops.quote_name(RecordStage._meta.db_table)
    for start in range(0, len(states), NOTES_PER_STATEMENT):
        chunk = states[start : start + NOTES_PER_STATEMENT]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        # Only the quoted table name and placeholders: values are bound.
        sql = (
            f"WITH v(id, note) AS (VALUES {values}) "  # noqa: S608
            f"UPDATE {table} SET resolution_note = v.note FROM v "
            f"WHERE {table}.id = v.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [x for s in chunk for x in (s.pk, s.resolution_note)])


def _audit_rows(
    run: _Import, verb: str, model: type[models.Model], rows: list[tuple[Any, ...]]
) -> None:
    """Audit rows in bulk: (target id, before, after) each."""
    label, now = model._meta.label_lower, db_datetime(run.now)
    insert_rows(
        AuditEvent,
        AUDIT_COLUMNS,
        [
            (
                run.review.pk,
                run.actor.pk,
                verb,
                label,
                str(pk),
                None if before is None else json.dumps(before),
                json.dumps(after),
                now,
            )
            for pk, before, after in rows
        ],
        json_encoded=True,
    )


def _votes_write(run: _Import, planned: list[Planned]) -> Counts:
    counts = Counts()
    record_ids = list(dict.fromkeys(item.record_id for item in planned))
    states = _states_locked(run, record_ids)
    ballots = _ballots(run.stage, record_ids)
    stored: list[Planned] = []
    changed: list[_State] = []
    for item in planned:
        state, votes = states[item.record_id], ballots[item.record_id]
        if any(ballot.reviewer == item.reviewer_id for ballot in votes):
            counts.skipped_voted += 1
            continue
        if state.status != Outcome.PENDING:
            counts.skipped_closed += 1  # as decision_record refuses it
            continue
        votes.append(Ballot(item.reviewer_id, item.vote, item.reason_id))
        stored.append(item)
        _outcome_set(state, votes, run)
        if state.status != Outcome.PENDING:
            changed.append(state)
    counts.votes = len(stored)
    counts.resolved = sum(state.is_resolved for state in changed)
    counts.conflicts = len(changed) - counts.resolved
    _votes_store(run, stored, changed)
    return counts


def _votes_store(run: _Import, stored: list[Planned], changed: list[_State]) -> None:
    now = db_datetime(run.now)
    head = (now, now, run.review.pk, run.stage.value)
    ids = insert_rows(
        Decision,
        DECISION_COLUMNS,
        [
            (
                *head,
                item.record_id,
                item.reviewer_id,
                item.vote.value,
                item.reason_id,
                item.note,
            )
            for item in stored
        ],
    )
    fields = ("status", "all_maybe", "conflict", "final_vote", "final_reason_id")
    _states_save(changed, (*fields, "method", "resolved_at"), run.now)
    votes = [
        (pk, None, _vote_after(item, run.file_name))
        for pk, item in zip(ids, stored, strict=True)
    ]
    _audit_rows(run, "screening.vote_imported", Decision, votes)
    agreed = {"method": RecordStage.Method.AGREEMENT.value, "by": "agreement"}
    resolved = [
        (state.pk, None, {"status": state.status, **agreed, "file": run.file_name})
        for state in changed
        if state.is_resolved
    ]
    _audit_rows(run, "screening.resolved", RecordStage, resolved)


def _vote_after(item: Planned, file_name: str) -> dict[str, Any]:
    return {
        "reviewer": item.reviewer_id,
        "vote": item.vote.value,
        "reason": item.reason_id,
        "note": item.note,
        "file": file_name,
        "line": item.line,
    }


def _final_write(run: _Import, planned: list[Planned]) -> Counts:
    counts = Counts()
    states = _states_locked(run, [item.record_id for item in planned])
    imported = f"Imported from {run.file_name}"
    changed: list[tuple[_State, dict[str, Any], Planned]] = []
    for item in planned:
        state = states[item.record_id]
        if state.is_resolved:
            counts.skipped_closed += 1
            continue
        before = {"status": state.status, "conflict": state.conflict}
        if state.status == Outcome.CONFLICT:
            counts.were_conflicts += 1
        included = item.vote is Vote.INCLUDE
        state.status = (Outcome.INCLUDED if included else Outcome.EXCLUDED).value
        state.final_vote, state.final_reason_id = item.vote.value, item.reason_id
        state.method = RecordStage.Method.LEAD.value
        state.resolved_by_id, state.resolved_at = run.actor.pk, run.now
        state.resolution_note = f"{imported}: {item.note}" if item.note else imported
        changed.append((state, before, item))
    counts.resolved = len(changed)
    fields = ("status", "final_vote", "final_reason_id", "method", "resolved_at")
    _states_save(
        [state for state, _, _ in changed],
        (*fields, "resolved_by_id"),
        run.now,
        resolution_note=imported,
    )
    _notes_save([state for state, _, item in changed if item.note])
    events = [
        (state.pk, before, _resolution_after(state, run.file_name, item.line))
        for state, before, item in changed
    ]
    _audit_rows(run, "screening.resolved", RecordStage, events)
    return counts


def _resolution_after(state: _State, file_name: str, line: int) -> dict[str, Any]:
    """As conflict_resolve audits a resolution, with where it came from."""
    return {
        "status": state.status,
        "reason": state.final_reason_id,
        "method": state.method,
        "note": state.resolution_note,
        "file": file_name,
        "line": line,
    }


# --- Starting and running an import -------------------------------------------------


def _open_checked(
    review: Review, stage: Stage, config: StageSettings | None = None
) -> None:
    """Imported decisions wait, as votes do, for a calibration round to pass
    (its votes would otherwise meet decisions already there)."""
    config = config or services.stage_settings(review, stage)
    if not services.screening_open(review, stage, config):
        raise ValidationError(
            "Screening at this stage opens once a calibration round passes: "
            "import decisions after it."
        )


def decision_import_start(
    *,
    review: Review,
    stage: Stage,
    actor: User,
    upload: File[bytes],
    file_name: str,
    mode: Mode,
    reviewer: User | None = None,
) -> Job:
    """Keep the uploaded CSV and queue its import (a lead's action). Refuses at
    once, storing nothing, a file that is too large, is not a CSV, or lacks the
    columns the mode needs, and a chosen reviewer who does not screen."""
    if services.member_role(review, actor) != Role.LEAD:
        raise ValidationError("Only a lead of the review imports decisions.")
    _open_checked(review, stage)
    size, limit = upload.size or 0, settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            f"{file_name} is {size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB."
        )
    columns = _header_check(upload, file_name)
    reviewer_id = reviewer.pk if reviewer is not None and mode is Mode.VOTES else None
    _reviewer_check(columns, mode, reviewer_id)
    if reviewer is not None and reviewer_id is not None:
        role = services.member_role(review, reviewer)
        if role is None or not role.at_least(Role.REVIEWER):
            raise ValidationError(f"{reviewer} is not a reviewer of this review.")
    sha256 = file_sha256(upload)
    path = default_storage.save(f"decision-imports/{uuid.uuid4().hex}.csv", upload)
    with transaction.atomic():
        job = job_create(
            kind=KIND,
            label=f"Importing decisions from {file_name}"[:200],
            review_id=review.pk,
            params={
                "path": path,
                "name": file_name,
                "size": size,
                "sha256": sha256,
                "stage": stage.value,
                "mode": mode.value,
                "reviewer": reviewer_id,
            },
            total=100,
            created_by=actor,
        )
        transaction.on_commit(partial(_enqueue, job_id=job.pk, review_id=review.pk))
    return job


def _enqueue(*, job_id: int, review_id: int) -> None:
    from screening.tasks import decision_import  # tasks import this module

    decision_import.delay(job_id=job_id, review_id=review_id)


def decision_import_run(*, job_id: int) -> Counts | None:
    """Run a queued import: check the whole file, then store it all in one
    transaction, or nothing (the job then lists the problems). Idempotent: a
    finished job does nothing, and a rerun after a crash past the commit finds
    its summary audit row and reports it instead of importing again."""
    job = Job.objects.filter(pk=job_id, kind=KIND).first()
    if job is None or not job_start(job_id=job_id):
        return None
    mode = Mode(job.params["mode"])
    try:
        counts = _import(job, mode)
    except ValidationError as error:
        job_fail(job_id=job_id, error="\n".join(error.messages))
        return None
    finally:
        default_storage.delete(job.params["path"])
    job_progress(job_id=job_id, done=100)
    job_succeed(job_id=job_id, message=counts.message(mode))
    return counts


def _import(job: Job, mode: Mode) -> Counts:
    done = AuditEvent.objects.filter(
        verb=SUMMARY_VERB, target_type="core.job", target_id=str(job.pk)
    ).first()
    if done is not None and done.after is not None:
        return Counts(**done.after["counts"])
    review, actor = job.review, job.created_by
    if (
        review is None
        or actor is None
        or services.member_role(review, actor) != Role.LEAD
    ):
        raise ValidationError("Only a lead of the review imports decisions.")
    stage, name = Stage(job.params["stage"]), job.params["name"]
    config = services.stage_settings(review, stage)
    _open_checked(review, stage, config)
    # Final decisions are the importing lead's; votes are the chosen reviewer's.
    reviewer = actor.pk if mode is Mode.FINAL else _screener(review, job.params)
    columns, rows = _stored_rows(job)
    _reviewer_check(columns, mode, reviewer)
    job_progress(job_id=job.pk, done=50, message=f"Checking {len(rows):,} rows")
    planned = decisions_plan(
        review=review,
        stage=stage,
        config=config,
        mode=mode,
        rows=rows,
        default_reviewer=reviewer,
        file_name=name,
    )
    job_progress(job_id=job.pk, done=70, message=f"Storing {len(planned):,} rows")
    run = _Import(job, review, stage, config, actor, name, timezone.now())
    return _store_retrying(run, mode, planned)


def _screener(review: Review, params: dict[str, Any]) -> int | None:
    """The reviewer chosen on the form, if still a reviewer or lead of the review."""
    user_id: int | None = params["reviewer"]
    if user_id is None:
        return None
    role = (
        Membership.objects.filter(review=review, user_id=user_id)
        .values_list("role", flat=True)
        .first()
    )
    if role is None or not Role(role).at_least(Role.REVIEWER):
        raise ValidationError("The reviewer chosen for these votes no longer screens.")
    return user_id


def _stored_rows(job: Job) -> tuple[dict[str, int], list[Row]]:
    """The stored file's rows, reporting progress (reading is half the work)."""
    size = max(1, int(job.params["size"]))
    rows: list[Row] = []
    with default_storage.open(job.params["path"], "rb") as binary:
        _refuse_binary(binary, job.params["name"])
        columns, found = read_decisions(open_text(cast(BinaryIO, binary)))
        for row in found:
            rows.append(row)
            if len(rows) % PROGRESS_EVERY == 0:
                done = min(49, 50 * binary.tell() // size)
                message = f"{len(rows):,} rows read"
                job_progress(job_id=job.pk, done=done, message=message)
    return columns, rows


def _store_retrying(run: _Import, mode: Mode, planned: list[Planned]) -> Counts:
    """Store, retrying when a reviewer's first vote on a record created its
    state row between our read and our insert (PostgreSQL reports the clash)."""
    attempts = 0
    while True:
        try:
            return _store(run, mode, planned)
        except IntegrityError:
            attempts += 1
            if attempts == 3:
                raise


@transaction.atomic
def _store(run: _Import, mode: Mode, planned: list[Planned]) -> Counts:
    if mode is Mode.VOTES:
        counts = _votes_write(run, planned)
    else:
        counts = _final_write(run, planned)
    params = run.job.params
    audit_event_create(
        actor=run.actor,
        verb=SUMMARY_VERB,
        target=run.job,
        review_id=run.review.pk,
        after={
            "file": run.file_name,
            "sha256": params["sha256"],
            "stage": run.stage.value,
            "mode": mode.value,
            "reviewer": params["reviewer"],
            "rows": len(planned),
            "counts": asdict(counts),
        },
    )
    if counts.resolved and run.stage is Stage.TITLE_ABSTRACT and run.config.prioritised:
        # New title/abstract outcomes: the prioritisation model may learn.
        services.priority_retrain_request(review_id=run.review.pk)
    return counts
