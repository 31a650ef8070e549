"""The screening page and its fragments: next record, votes, refusals, undo,
lists, highlighting, shortcuts, and blinding on every screening URL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent, User
from reviews.models import Review
from screening import services
from screening.models import (
    Decision,
    ExclusionReason,
    FullText,
    HighlightTerm,
    PriorityScore,
    RecordStage,
    ScreeningPreferences,
    StageSettings,
)
from screening.rules import Outcome, Stage, Vote
from searches.models import Record
from tests.conftest import client_for
from tests.factories import RecordFactory, SearchFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
HTMX = {"hx-request": "true"}
SECRET_NOTE = "only-reviewer-a-wrote-this"


@pytest.fixture
def records(review: Review) -> list[Record]:
    search = SearchFactory(review=review)
    return [RecordFactory(search=search) for _ in range(4)]


@pytest.fixture
def reason(review: Review) -> ExclusionReason:
    return ExclusionReason.objects.create(
        review=review, position=1, label="Wrong population"
    )


def _screen_url(review: Review, stage: Stage = TA) -> str:
    return reverse("screening:screen", args=[review.pk, stage.value])


def _vote_url(review: Review, record: Record, stage: Stage = TA) -> str:
    return reverse("screening:vote", args=[review.pk, stage.value, record.pk])


def _vote(review: Review, record: Record, user: User, vote: Vote, **kw: object) -> None:
    services.decision_record(
        review=review, record=record, stage=kw.pop("stage", TA), reviewer=user,
        vote=vote, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_page_shows_the_first_waiting_record_with_criteria_and_keys(
    review: Review, records: list[Record], reviewer_a: User
) -> None:
    response = client_for(reviewer_a).get(_screen_url(review))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-record="{records[0].pk}"' in body
    assert 'data-testid="criteria"' in body and 'data-testid="keys"' in body
    assert "<kbd>i</kbd>" in body  # default keys shown
    assert "screening-shortcuts" in body


def test_a_vote_by_htmx_returns_the_next_record_as_a_fragment(
    review: Review, records: list[Record], reviewer_a: User
) -> None:
    response = client_for(reviewer_a).post(
        _vote_url(review, records[0]), {"vote": "include"}, headers=HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="record-card"' in body
    assert f'data-record="{records[1].pk}"' in body
    decision = Decision.objects.get(reviewer=reviewer_a)
    assert (decision.record_id, decision.vote) == (records[0].pk, "include")
    assert AuditEvent.objects.filter(verb="screening.voted").count() == 1


def test_without_htmx_a_vote_redirects_to_the_next_record(
    review: Review, records: list[Record], reviewer_a: User
) -> None:
    response = client_for(reviewer_a).post(
        _vote_url(review, records[0]), {"vote": "exclude"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?record={records[1].pk}")


def test_a_refused_vote_names_the_problem_and_stores_nothing(
    review: Review, records: list[Record], reviewer_a: User, reason: ExclusionReason
) -> None:
    StageSettings.objects.create(review=review, stage=TA, reasons_required=True)
    client = client_for(reviewer_a)
    response = client.post(
        _vote_url(review, records[0]), {"vote": "exclude"}, headers=HTMX
    )
    body = response.content.decode()
    assert "Choose the reason for excluding this record." in body
    assert f'data-record="{records[0].pk}"' in body  # the same record again
    response = client.post(
        _vote_url(review, records[0]), {"vote": "sideways"}, headers=HTMX
    )
    assert "Choose include, exclude or maybe" in response.content.decode()
    assert not Decision.objects.exists()


def test_full_text_refuses_an_exclusion_without_a_reason(
    review: Review, records: list[Record], reviewer_a: User, reviewer_b: User
) -> None:
    for user in (reviewer_a, reviewer_b):
        _vote(review, records[0], user, Vote.INCLUDE)
    response = client_for(reviewer_a).post(
        _vote_url(review, records[0], FT), {"vote": "exclude"}, headers=HTMX
    )
    assert "Choose the reason" in response.content.decode()
    assert not Decision.objects.filter(stage=FT).exists()


def test_the_full_text_page_lists_only_records_included_at_title_and_abstract(
    review: Review,
    records: list[Record],
    reviewer_a: User,
    reviewer_b: User,
    reason: ExclusionReason,
) -> None:
    for user in (reviewer_a, reviewer_b):
        _vote(review, records[2], user, Vote.INCLUDE)
    body = client_for(reviewer_a).get(_screen_url(review, FT)).content.decode()
    assert f'data-record="{records[2].pk}"' in body
    assert 'data-testid="no-pdf"' in body and 'name="reason"' in body


def test_skip_goes_to_the_next_record_and_wraps_round(
    review: Review, records: list[Record], reviewer_a: User
) -> None:
    client = client_for(reviewer_a)
    last = records[-1].pk
    body = client.get(_screen_url(review) + f"?after={last}", headers=HTMX)
    assert f'data-record="{records[0].pk}"' in body.content.decode()


def test_undo_withdraws_the_last_vote_and_shows_its_record_again(
    review: Review, records: list[Record], reviewer_a: User
) -> None:
    client = client_for(reviewer_a)
    client.post(_vote_url(review, records[0]), {"vote": "include"}, headers=HTMX)
    client.post(_vote_url(review, records[1]), {"vote": "exclude"}, headers=HTMX)
    response = client.post(
        reverse("screening:undo", args=[review.pk, TA.value]), headers=HTMX
    )
    assert f'data-record="{records[1].pk}"' in response.content.decode()
    assert list(Decision.objects.values_list("record_id", flat=True)) == [records[0].pk]
    event = AuditEvent.objects.get(verb="screening.vote_withdrawn")
    assert event.before["vote"] == "exclude"


def test_undo_is_refused_once_the_record_is_settled(
    review: Review, records: list[Record], reviewer_a: User, reviewer_b: User
) -> None:
    """A settled record shows every vote: reopening it would let B vote again
    knowing A's."""
    _vote(review, records[0], reviewer_a, Vote.EXCLUDE)
    _vote(review, records[0], reviewer_b, Vote.EXCLUDE)
    response = client_for(reviewer_b).post(
        reverse("screening:undo", args=[review.pk, TA.value]), headers=HTMX
    )
    assert "resolved at this stage" in response.content.decode()
    assert RecordStage.objects.get(record=records[0]).status == Outcome.EXCLUDED
    assert Decision.objects.count() == 2


def test_undo_and_change_work_the_same_on_a_conflict_as_on_a_waiting_record(
    review: Review, records: list[Record], reviewer_a: User, reviewer_b: User
) -> None:
    _vote(review, records[0], reviewer_a, Vote.INCLUDE)
    _vote(review, records[0], reviewer_b, Vote.EXCLUDE)  # a conflict B cannot see
    client = client_for(reviewer_b)
    again = client.post(
        _vote_url(review, records[0]), {"vote": "exclude"}, headers=HTMX
    )
    assert 'data-testid="card-error"' not in again.content.decode()
    client.post(reverse("screening:undo", args=[review.pk, TA.value]))
    assert RecordStage.objects.get(record=records[0]).status == Outcome.PENDING
    assert AuditEvent.objects.filter(verb="screening.vote_withdrawn").count() == 1


def test_undo_refused_once_a_person_resolved_the_record(
    review: Review,
    records: list[Record],
    reviewer_a: User,
    reviewer_b: User,
    lead: User,
) -> None:
    _vote(review, records[0], reviewer_a, Vote.INCLUDE)
    _vote(review, records[0], reviewer_b, Vote.EXCLUDE)
    services.conflict_resolve(
        review=review, record=records[0], stage=TA, actor=lead, vote=Vote.INCLUDE
    )
    response = client_for(reviewer_b).post(
        reverse("screening:undo", args=[review.pk, TA.value]), headers=HTMX
    )
    assert "resolved at this stage" in response.content.decode()
    assert Decision.objects.count() == 2


def test_lists_show_only_the_viewers_own_votes(
    review: Review, records: list[Record], reviewer_a: User, reviewer_b: User
) -> None:
    _vote(review, records[0], reviewer_a, Vote.EXCLUDE)
    _vote(review, records[1], reviewer_b, Vote.EXCLUDE)
    client = client_for(reviewer_a)
    body = client.get(_screen_url(review) + "?show=exclude").content.decode()
    assert f'data-record="{records[0].pk}"' in body
    body = client.get(
        _screen_url(review) + f"?show=exclude&after={records[0].pk}"
    ).content.decode()
    assert f'data-record="{records[1].pk}"' not in body


def test_highlight_terms_are_marked_and_the_text_stays_escaped(
    review: Review, reviewer_a: User, reviewer_b: User, lead: User
) -> None:
    record = RecordFactory(
        search=SearchFactory(review=review),
        title="Treadmill running in rats <script>alert(1)</script>",
        abstract="Neuropathic pain fell; the ratio of responders rose.",
    )
    client_for(lead).post(
        reverse("screening:highlights", args=[review.pk]),
        {"term": "treadmill", "kind": "include", "scope": "review"},
    )
    client_for(reviewer_a).post(
        reverse("screening:highlights", args=[review.pk]),
        {"term": "neuropath*", "kind": "exclude"},
    )
    client_for(reviewer_a).post(
        reverse("screening:highlights", args=[review.pk]),
        {"term": "rat", "kind": "exclude"},
    )
    body = client_for(reviewer_a).get(_screen_url(review)).content.decode()
    assert f'data-record="{record.pk}"' in body
    assert '<mark class="hl-include" data-hl="include">Treadmill</mark>' in body
    assert '<mark class="hl-exclude" data-hl="exclude">Neuropathic</mark>' in body
    assert "ratio" in body and ">ratio<" not in body  # whole words only
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    # Reviewer B has the review's terms, not A's own.
    body = client_for(reviewer_b).get(_screen_url(review)).content.decode()
    assert (
        'data-hl="include">Treadmill' in body
        and "hl-exclude" not in body.split('id="record-card"')[1].split("</article>")[0]
    )


def test_a_reviewer_cannot_add_review_wide_terms(
    review: Review, reviewer_a: User
) -> None:
    response = client_for(reviewer_a).post(
        reverse("screening:highlights", args=[review.pk]),
        {"term": "rat", "kind": "include", "scope": "review"},
    )
    assert response.status_code == 403
    assert not HighlightTerm.objects.exists()


def test_own_shortcuts_are_saved_checked_and_used(
    review: Review, records: list[Record], reviewer_a: User
) -> None:
    client = client_for(reviewer_a)
    url = reverse("screening:shortcuts", args=[review.pk])
    keys = {
        "include": "j",
        "maybe": "k",
        "exclude": "l",
        "undo": "z",
        "skip": "n",
        "note": "t",
    }
    response = client.post(url, {**keys, "exclude": "j"})
    assert "already the key for include" in response.content.decode()
    response = client.post(url, {**keys, "undo": "3"})
    assert "The digits 1-9 choose exclusion reasons" in response.content.decode()
    assert not ScreeningPreferences.objects.exists()
    client.post(url, keys)
    body = client.get(_screen_url(review)).content.decode()
    assert "Include <kbd>j</kbd>" in body
    assert '"include": "j"' in body  # the script reads the user's keys


def test_reasons_are_managed_by_leads_in_order(
    review: Review, lead: User, reviewer_a: User
) -> None:
    url = reverse("screening:reasons", args=[review.pk])
    client = client_for(lead)
    for label in ("Wrong population", "Wrong design", "wrong  population"):
        client.post(url, {"label": label})
    assert list(ExclusionReason.objects.values_list("label", "position")) == [
        ("Wrong population", 1), ("Wrong design", 2),
    ]  # fmt: skip
    design = ExclusionReason.objects.get(label="Wrong design")
    change = reverse("screening:reason_change", args=[review.pk, design.pk])
    client.post(change, {"action": "up"})
    client.post(change, {"action": "archive"})
    client.post(change, {"action": "rename", "label": "Wrong study design"})
    design.refresh_from_db()
    assert (design.label, design.position, design.archived) == (
        "Wrong study design", 1, True,
    )  # fmt: skip
    assert AuditEvent.objects.filter(verb__startswith="screening.reason").count() == 5
    assert client_for(reviewer_a).post(url, {"label": "Mine"}).status_code == 403


def test_stage_settings_are_saved_and_audited(
    review: Review, lead: User, reviewer_a: User
) -> None:
    url = reverse("screening:settings", args=[review.pk, TA.value])
    response = client_for(lead).post(
        url,
        {
            "reviewers_required": 3,
            "maybe_allowed": "on",
            "maybe_rule": "needs_person",
            "resolvers": [reviewer_a.pk],
            "pilot_kappa": 0.6,
            "pilot_agreement": 0.8,
        },
    )
    assert response.status_code == 302
    settings = StageSettings.objects.get(review=review, stage=TA)
    assert (settings.reviewers_required, settings.maybe_rule) == (3, "needs_person")
    assert list(settings.resolvers.all()) == [reviewer_a]
    event = AuditEvent.objects.get(verb="screening.settings_changed")
    assert event.after["reviewers_required"] == 3
    body = (
        client_for(lead)
        .get(reverse("screening:settings", args=[review.pk, FT.value]))
        .content.decode()
    )
    assert 'name="maybe_allowed"' not in body  # full text never takes maybe


def test_a_designated_third_reviewer_resolves_a_conflict_they_did_not_vote_on(
    review: Review,
    records: list[Record],
    reviewer_a: User,
    reviewer_b: User,
    lead: User,
) -> None:
    settings = services.stage_settings(review, TA)
    settings.resolvers.add(reviewer_b)
    _vote(review, records[0], reviewer_a, Vote.INCLUDE)
    _vote(review, records[0], lead, Vote.EXCLUDE)
    client = client_for(reviewer_b)
    body = client.get(_screen_url(review) + "?show=conflicts").content.decode()
    assert 'data-testid="resolve-form"' in body and 'data-testid="other-votes"' in body
    response = client.post(
        reverse("screening:resolve", args=[review.pk, TA.value, records[0].pk]),
        {"vote": "include", "method": "third_reviewer", "note": "Rodent model fits"},
    )
    assert response.status_code == 302
    state = RecordStage.objects.get(record=records[0])
    assert (state.status, state.method, state.resolved_by) == (
        "included", "third_reviewer", reviewer_b,
    )  # fmt: skip
    # A reviewer who was not designated is told nothing exists.
    other = client_for(reviewer_a).post(
        reverse("screening:resolve", args=[review.pk, TA.value, records[0].pk]),
        {"vote": "exclude", "method": "lead"},
    )
    assert other.status_code == 404


def test_blinding_holds_on_every_screening_page_and_fragment(
    review: Review,
    records: list[Record],
    reviewer_a: User,
    reviewer_b: User,
    lead: User,
    reason: ExclusionReason,
) -> None:
    """Reviewer B never receives A's vote, reason or note before resolution:
    not while B still has to vote, not in B's vote response, not in any list,
    fragment or page, not after B's vote makes a conflict."""
    record = records[0]
    _vote(review, record, reviewer_a, Vote.EXCLUDE, reason=reason, note=SECRET_NOTE)
    client = client_for(reviewer_b)
    stage_urls = [
        _screen_url(review),
        _screen_url(review) + f"?record={record.pk}",
        *(f"{_screen_url(review)}?show={s}" for s in ("include", "maybe", "exclude")),
        _screen_url(review) + "?show=conflicts",
        reverse("screening:dashboard", args=[review.pk]),
        reverse("reviews:dashboard", args=[review.pk]),
        reverse("screening:reasons", args=[review.pk]),
        reverse("searches:record", args=[review.pk, record.pk]),
        reverse("reviews:activity", args=[review.pk]),  # 403 for a reviewer
    ]

    def seen_by_b() -> str:
        bodies = []
        for url in stage_urls:
            for headers in ({}, HTMX):
                bodies.append(client.get(url, headers=headers).content.decode())
        return "\n".join(bodies)

    def assert_blind(body: str) -> None:
        assert SECRET_NOTE not in body
        assert 'data-testid="other-votes"' not in body
        assert 'data-testid="outcome"' not in body
        assert "Conflict" not in body and "agreement" not in body.lower()

    assert_blind(seen_by_b())
    # B's own vote makes a conflict: the response, and every page after, stay blind.
    response = client.post(_vote_url(review, record), {"vote": "include"}, headers=HTMX)
    assert_blind(response.content.decode())
    assert RecordStage.objects.get(record=record).status == Outcome.CONFLICT
    assert_blind(seen_by_b())
    # Sending the vote again is accepted as on a waiting record, and blind.
    again = client.post(_vote_url(review, record), {"vote": "include"}, headers=HTMX)
    assert 'data-testid="card-error"' not in again.content.decode()
    assert_blind(again.content.decode())
    # A plain reviewer cannot walk the conflicts through the vote form either.
    walk = client.post(
        _vote_url(review, records[1]),
        {"vote": "include", "show": "conflicts"},
        headers=HTMX,
    )
    assert_blind(walk.content.decode())
    assert f'data-record="{record.pk}"' not in walk.content.decode()
    # Once the lead resolves it, B may see A's vote and note.
    services.conflict_resolve(
        review=review, record=record, stage=TA, actor=lead, vote=Vote.EXCLUDE,
        reason=reason,
    )  # fmt: skip
    after = client.get(_screen_url(review) + f"?record={record.pk}").content.decode()
    assert SECRET_NOTE in after and 'data-testid="outcome"' in after


def test_an_unblinded_stage_shows_every_vote_and_the_unblinding_is_audited(
    review: Review,
    records: list[Record],
    reviewer_a: User,
    reviewer_b: User,
    lead: User,
) -> None:
    _vote(review, records[0], reviewer_a, Vote.INCLUDE, note=SECRET_NOTE)
    url = _screen_url(review) + f"?record={records[0].pk}"
    assert SECRET_NOTE not in client_for(reviewer_b).get(url).content.decode()
    response = client_for(lead).post(
        reverse("screening:unblind", args=[review.pk, TA.value])
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(verb="screening.unblinded").count() == 1
    assert SECRET_NOTE in client_for(reviewer_b).get(url).content.decode()
    dashboard = client_for(reviewer_b).get(
        reverse("screening:dashboard", args=[review.pk])
    )
    assert 'data-testid="agreement"' in dashboard.content.decode()


def test_the_lead_dashboard_shows_agreement_and_conflicts(
    review: Review,
    records: list[Record],
    reviewer_a: User,
    reviewer_b: User,
    lead: User,
) -> None:
    votes = {"I": Vote.INCLUDE, "E": Vote.EXCLUDE}
    for record, (a, b) in zip(records, ["II", "IE", "EE", "EE"], strict=True):
        _vote(review, record, reviewer_a, votes[a])
        _vote(review, record, reviewer_b, votes[b])
    body = (
        client_for(lead)
        .get(reverse("screening:dashboard", args=[review.pk]))
        .content.decode()
    )
    assert 'data-testid="agreement"' in body
    assert "0.750" in body  # 3 of 4 agreed
    assert "Resolve 1 conflict" in body
    reviewer_view = client_for(reviewer_a).get(
        reverse("screening:dashboard", args=[review.pk])
    )
    assert 'data-testid="agreement"' not in reviewer_view.content.decode()


def test_pdfs_are_checked_stored_and_served_to_members_only(
    review: Review,
    records: list[Record],
    reviewer_a: User,
    reviewer_b: User,
    outsider: User,
) -> None:
    for user in (reviewer_a, reviewer_b):
        _vote(review, records[0], user, Vote.INCLUDE)
    upload = reverse("screening:full_text_upload", args=[review.pk, records[0].pk])
    client = client_for(reviewer_a)
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(upload, {"file": SimpleUploadedFile("paper.pdf", b"<html>no</html>")})
    assert not FullText.objects.exists()
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    client.post(upload, {"file": SimpleUploadedFile("Smith 2020.pdf", pdf)})
    document = FullText.objects.get()
    assert (document.file_name, document.record_id) == ("Smith 2020.pdf", records[0].pk)
    url = reverse("screening:full_text", args=[review.pk, records[0].pk])
    response = client.get(url)
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == pdf
    assert client_for(outsider).get(url).status_code == 404
    assert AuditEvent.objects.filter(verb="screening.full_text_added").count() == 1


def _vote_queries(client: object, review: Review, record: Record) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(  # type: ignore[attr-defined]
            _vote_url(review, record), {"vote": "include"}, headers=HTMX
        )
    assert response.status_code == 200
    return len(queries)


def test_a_vote_and_the_next_record_cost_the_same_queries_at_any_size(
    review: Review, reviewer_a: User, reviewer_b: User
) -> None:
    search = SearchFactory(review=review)
    records = [RecordFactory(search=search) for _ in range(3)]
    client = client_for(reviewer_a)
    HighlightTerm.objects.create(review=review, kind="include", term="rats")
    client.get(_screen_url(review))
    small = _vote_queries(client, review, records[0])
    for _ in range(40):
        extra = RecordFactory(search=search)
        _vote(review, extra, reviewer_b, Vote.EXCLUDE)
    large = _vote_queries(client, review, records[1])
    assert small == large
    assert large <= 26  # 22 once the record's stage row exists


def test_a_prioritised_queue_serves_the_highest_score_first_then_the_unscored(
    review: Review, records: list[Record], reviewer_a: User, reviewer_b: User
) -> None:
    settings = services.stage_settings(review, TA)
    settings.prioritised = True
    settings.save()
    scores = {records[2]: 0.9, records[0]: 0.5, records[3]: 0.7}
    for record, score in scores.items():
        PriorityScore.objects.create(review=review, record=record, score=score)
    _vote(review, records[2], reviewer_b, Vote.EXCLUDE)  # B's vote: still A's to do
    client = client_for(reviewer_a)
    served = []
    body = client.get(_screen_url(review)).content.decode()
    for _ in range(4):
        record_id = int(body.split('data-record="')[1].split('"')[0])
        served.append(record_id)
        body = client.post(
            reverse("screening:vote", args=[review.pk, TA.value, record_id]),
            {"vote": "exclude"},
            headers=HTMX,
        ).content.decode()
    assert served == [records[2].pk, records[3].pk, records[0].pk, records[1].pk]
    assert 'data-testid="nothing-left"' in body


def test_a_third_reviewer_is_not_shown_conflicts_they_voted_on(
    review: Review,
    records: list[Record],
    reviewer_a: User,
    reviewer_b: User,
    lead: User,
) -> None:
    services.stage_settings(review, TA).resolvers.add(reviewer_b)
    _vote(review, records[0], reviewer_a, Vote.INCLUDE)
    _vote(review, records[0], reviewer_b, Vote.EXCLUDE)  # B's own conflict
    _vote(review, records[1], reviewer_a, Vote.INCLUDE)
    _vote(review, records[1], lead, Vote.EXCLUDE)  # one B may resolve
    client = client_for(reviewer_b)
    body = client.get(_screen_url(review) + "?show=conflicts").content.decode()
    assert f'data-record="{records[1].pk}"' in body
    after = client.get(
        _screen_url(review) + f"?show=conflicts&after={records[1].pk}"
    ).content.decode()
    assert f'data-record="{records[0].pk}"' not in after
    dashboard = client.get(reverse("screening:dashboard", args=[review.pk]))
    assert "Resolve 1 conflict" in dashboard.content.decode()


def test_skip_moves_down_a_prioritised_queue(
    review: Review, records: list[Record], reviewer_a: User
) -> None:
    settings = services.stage_settings(review, TA)
    settings.prioritised = True
    settings.save()
    for record, score in zip(records, (0.2, 0.9, 0.5, 0.7), strict=True):
        PriorityScore.objects.create(review=review, record=record, score=score)
    client = client_for(reviewer_a)
    seen = []
    after = ""
    for _ in range(5):
        body = client.get(_screen_url(review) + after, headers=HTMX).content.decode()
        record_id = body.split('data-record="')[1].split('"')[0]
        seen.append(int(record_id))
        after = f"?after={record_id}"
    order = [records[1].pk, records[3].pk, records[2].pk, records[0].pk]
    assert seen == [*order, records[1].pk]  # then round again


def test_keywords_are_escaped_once(review: Review, reviewer_a: User) -> None:
    RecordFactory(
        search=SearchFactory(review=review),
        keywords=["Parkinson's disease", "pain & mood"],
    )
    HighlightTerm.objects.create(review=review, kind="include", term="pain")
    body = client_for(reviewer_a).get(_screen_url(review)).content.decode()
    assert "Parkinson&#x27;s disease" in body and "&amp;#x27;" not in body
    assert '<mark class="hl-include" data-hl="include">pain</mark> &amp; mood' in body


def test_a_refused_vote_without_javascript_on_a_merged_record_lands_on_the_queue(
    review: Review, records: list[Record], reviewer_a: User
) -> None:
    merged = records[1]
    merged.duplicate_of = records[0]
    merged.save(update_fields=["duplicate_of"])
    client = client_for(reviewer_a)
    response = client.post(_vote_url(review, merged), {"vote": "include"})
    assert response.status_code == 302 and "record=" not in response.url
    page = client.get(response.url)
    assert page.status_code == 200
    assert "merged into another as a duplicate" in page.text
