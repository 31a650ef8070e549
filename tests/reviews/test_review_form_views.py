from __future__ import annotations

from core.models import AuditEvent, User
from core.roles import Role
from reviews.models import Membership, Review
from tests.conftest import client_for

VALID = {
    "title": "Exercise for neuropathic pain after spinal cord injury",
    "question": "Does exercise reduce neuropathic pain in rodents with SCI?",
    "population": "Rats and mice with traumatic SCI",
    "intervention": "Treadmill, swimming or wheel running",
    "comparator": "No exercise",
    "outcomes": "Mechanical allodynia; thermal hyperalgesia",
    "study_design": "Controlled animal studies",
    "protocol_registration": "PROSPERO CRD42023412345",
    "inclusion_criteria": "Rodent SCI model\n\n- Exercise after injury\nPain outcome\n",
    "exclusion_criteria": "Non-traumatic injury\nNo control group",
}


def test_create_review_makes_the_creator_lead_and_keeps_criteria_order(
    lead: User,
) -> None:
    response = client_for(lead).post("/reviews/new/", VALID)
    review = Review.objects.get(title=VALID["title"], created_by=lead)
    assert response.status_code == 302
    assert response["Location"] == f"/reviews/{review.pk}/"
    assert review.inclusion_criteria() == [
        "Rodent SCI model",
        "Exercise after injury",
        "Pain outcome",
    ]
    assert review.exclusion_criteria() == ["Non-traumatic injury", "No control group"]
    assert Membership.objects.get(review=review, user=lead).role == Role.LEAD
    event = AuditEvent.objects.get(review=review, verb="review.created")
    assert event.after["inclusion_criteria"][0] == "Rodent SCI model"


def test_dashboard_shows_pico_and_criteria(lead: User) -> None:
    client = client_for(lead)
    client.post("/reviews/new/", VALID)
    review = Review.objects.get(title=VALID["title"], created_by=lead)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    for text in (
        "Rats and mice with traumatic SCI",
        "No exercise",
        "Exercise after injury",
        "CRD42023412345",
        'data-testid="current-role">Lead',
    ):
        assert text in page


def _invalid(lead: User, **changes: str) -> str:
    before = Review.objects.count()
    response = client_for(lead).post("/reviews/new/", {**VALID, **changes})
    assert response.status_code == 200
    assert Review.objects.count() == before, "an invalid form must store nothing"
    return response.content.decode()


def test_blank_title_is_refused(lead: User) -> None:
    assert "This field is required" in _invalid(lead, title="   ")


def test_malformed_prospero_id_is_refused(lead: User) -> None:
    assert "CRD followed by 11 digits" in _invalid(
        lead, protocol_registration="CRD4202"
    )


def test_too_many_criteria_are_refused(lead: User) -> None:
    lines = "\n".join(f"criterion {n}" for n in range(101))
    assert "At most 100 criteria" in _invalid(lead, inclusion_criteria=lines)


def test_overlong_title_is_refused(lead: User) -> None:
    assert "at most 300 characters" in _invalid(lead, title="x" * 301)


def test_lead_edits_review_and_the_change_is_audited(
    lead: User, review: Review
) -> None:
    data = {
        **VALID,
        "title": review.title,
        "status": Review.Status.IN_PROGRESS,
        "exclusion_criteria": "No control group\nNon-traumatic injury",
    }
    response = client_for(lead).post(f"/reviews/{review.pk}/edit/", data)
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.IN_PROGRESS
    assert review.exclusion_criteria() == ["No control group", "Non-traumatic injury"]
    event = AuditEvent.objects.get(review=review, verb="review.updated")
    assert event.actor == lead
    assert (
        event.before["status"] == "protocol" and event.after["status"] == "in_progress"
    )
    assert event.before["exclusion_criteria"] == []


def test_edit_with_bad_status_changes_nothing(lead: User, review: Review) -> None:
    response = client_for(lead).post(
        f"/reviews/{review.pk}/edit/", {**VALID, "status": "finished-ish"}
    )
    assert "Select a valid choice" in response.content.decode()
    review.refresh_from_db()
    assert review.status == Review.Status.PROTOCOL
    assert not AuditEvent.objects.filter(verb="review.updated").exists()


def test_null_character_in_criteria_is_refused(lead: User) -> None:
    assert "null character" in _invalid(lead, inclusion_criteria="Rodent\x00 model")


def test_null_character_in_a_text_field_is_refused(lead: User) -> None:
    assert "Null characters are not allowed" in _invalid(lead, question="Why\x00?")


def test_an_absurd_review_id_is_a_404_not_a_crash(lead: User) -> None:
    assert client_for(lead).get("/reviews/99999999999999999999/").status_code == 404


def test_dashboard_counts_follow_the_team(
    lead: User, reviewer_a: User, observer: User, review: Review
) -> None:
    from reviews import services

    client = client_for(lead)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="member-count">3<' in page
    assert "1 lead" in page and "1 reviewer" in page and "1 observer" in page
    services.invitations_create(
        review=review, actor=lead, emails=["x@example.org"], role=Role.REVIEWER
    )
    membership = review.memberships.get(user=reviewer_a)
    services.membership_remove(membership=membership, actor=lead)
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="member-count">2<' in page
    assert "0 reviewers" in page and "1 pending invitation" in page
