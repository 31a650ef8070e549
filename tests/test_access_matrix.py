"""Who may open what: every URL of the project, for every persona, GET and POST.

The URL list comes from the resolver, so a new URL fails `test_every_url_is_classified`
until it is given an access class below. Pages must also never show the title of
a review the viewer does not belong to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from core.models import AuditEvent, Job, User
from core.roles import Role
from reviews.models import Invitation, Review
from screening.models import (
    ExclusionReason,
    FullText,
    HighlightTerm,
    PilotRound,
    RecordStage,
)
from searches.models import DuplicatePair, Merge, Search
from searches.services import search_file_create
from tests.conftest import client_for
from tests.factories import (
    InvitationFactory,
    MembershipFactory,
    RecordFactory,
    SearchFactory,
    UserFactory,
)

PUBLIC = "public"  # anyone, logged in or not
LOGIN = "login"  # any logged-in user
MEMBER = "member"  # members of the review in the URL (any role)
REVIEWER = "reviewer"  # reviewers and leads of the review in the URL
LEAD = "lead"  # leads of the review in the URL
ADMIN = "admin"  # Django admin: staff only (none of the personas is staff)

GET, POST = "GET", "POST"

ACCESS: dict[str, tuple[str, set[str]]] = {
    "login": (PUBLIC, {GET, POST}),
    "logout": (PUBLIC, {POST}),
    "password_change": (LOGIN, {GET, POST}),
    "password_change_done": (LOGIN, {GET}),
    "password_reset": (PUBLIC, {GET, POST}),
    "password_reset_done": (PUBLIC, {GET}),
    "password_reset_confirm": (PUBLIC, {GET, POST}),
    "password_reset_complete": (PUBLIC, {GET}),
    "core:profile": (LOGIN, {GET, POST}),
    "core:email_confirm": (LOGIN, {GET, POST}),
    "core:health": (PUBLIC, {GET}),
    "reviews:home": (LOGIN, {GET}),
    "reviews:create": (LOGIN, {GET, POST}),
    "reviews:dashboard": (MEMBER, {GET}),
    "reviews:edit": (LEAD, {GET, POST}),
    "reviews:team": (MEMBER, {GET}),
    "reviews:invite": (LEAD, {POST}),
    "reviews:member_role": (LEAD, {POST}),
    "reviews:member_remove": (LEAD, {POST}),
    "reviews:invitation_revoke": (LEAD, {POST}),
    "reviews:invitation_resend": (LEAD, {POST}),
    "reviews:activity": (LEAD, {GET}),
    "reviews:job_status": (MEMBER, {GET}),
    "reviews:invitation_accept": (PUBLIC, {GET, POST}),
    "searches:log": (MEMBER, {GET}),
    "searches:log_csv": (LEAD, {GET}),
    "searches:upload": (LEAD, {GET, POST}),
    "searches:detail": (MEMBER, {GET}),
    "searches:records": (MEMBER, {GET}),
    "searches:record": (MEMBER, {GET}),
    "searches:pubmed": (LEAD, {GET, POST}),
    "searches:pubmed_count": (LEAD, {GET}),
    "searches:rerun": (LEAD, {POST}),
    "searches:mapping": (LEAD, {GET, POST}),
    "searches:discard": (LEAD, {POST}),
    "searches:dedup": (MEMBER, {GET}),
    "searches:dedup_run": (LEAD, {POST}),
    "searches:dedup_settings": (LEAD, {GET, POST}),
    "searches:dedup_queue": (LEAD, {GET}),
    "searches:dedup_decide": (LEAD, {POST}),
    "searches:dedup_merges": (LEAD, {GET}),
    "searches:dedup_undo": (LEAD, {POST}),
    "searches:dedup_report": (LEAD, {GET}),
    "screening:dashboard": (MEMBER, {GET}),
    "screening:reasons": (MEMBER, {GET, POST}),  # POST: leads (checked below)
    "screening:reason_change": (LEAD, {POST}),
    "screening:highlights": (REVIEWER, {GET, POST}),
    "screening:highlight_delete": (REVIEWER, {POST}),
    "screening:shortcuts": (REVIEWER, {GET, POST}),
    "screening:screen": (REVIEWER, {GET}),
    "screening:settings": (LEAD, {GET, POST}),
    "screening:undo": (REVIEWER, {POST}),
    "screening:unblind": (LEAD, {POST}),
    "screening:vote": (REVIEWER, {POST}),
    "screening:resolve": (REVIEWER, {POST}),  # and only resolvers: see below
    "screening:full_text": (MEMBER, {GET}),
    "screening:full_text_upload": (REVIEWER, {POST}),
    "screening:full_texts": (LEAD, {GET, POST}),
    "screening:full_text_assign": (LEAD, {POST}),
    "screening:pilot": (MEMBER, {GET}),
    "screening:pilot_start": (LEAD, {POST}),
    "screening:pilot_close": (LEAD, {POST}),
    "screening:pilot_vote": (REVIEWER, {POST}),
    "screening:decision_import": (LEAD, {GET, POST}),
}
# POSTs that need more than the URL's access class: (name) -> who gets what.
STRICTER_POST: dict[str, dict[str, set[int]]] = {
    "screening:reasons": {"observer": {403}, "reviewer": {403}},
    # The scene's term is review-wide: only leads remove it.
    "screening:highlight_delete": {"reviewer": {403}},
    # A reviewer who is not a designated third reviewer is told nothing exists.
    "screening:resolve": {"reviewer": {404}},
}
# Admin views that are not behind admin_view's staff check.
ADMIN_EXCEPTIONS: dict[str, dict[str, int]] = {
    "admin:login": {GET: 200, POST: 200},
    "admin:logout": {GET: 302, POST: 302},
}
# Pages that show a review's title to people outside it by design.
SHOWS_REVIEW_TO_NON_MEMBERS = {"reviews:invitation_accept"}

PERSONAS = ["anonymous", "outsider", "observer", "reviewer", "lead"]


@dataclass(frozen=True)
class Url:
    name: str
    route: str

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str = "", ns: str = ""
) -> Iterator[Url]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{ns}{pattern.namespace}:" if pattern.namespace else ns
            yield from _walk(
                pattern.url_patterns, prefix + str(pattern.pattern), namespace
            )
        else:
            yield Url(f"{ns}{pattern.name or ''}", prefix + str(pattern.pattern))


ALL_URLS = list(_walk(get_resolver().url_patterns))


def _expected(url: Url, persona: str, method: str) -> set[int]:
    """The status codes `persona` may get for `method` on `url`."""
    if url.is_admin:
        if url.name in ADMIN_EXCEPTIONS:
            return {ADMIN_EXCEPTIONS[url.name][method]}
        return {302}  # to the admin login: no persona is staff
    access, methods = ACCESS[url.name]
    if access != PUBLIC and persona == "anonymous":
        return {302}
    if method not in methods:
        return {405}
    if access == MEMBER and persona == "outsider":
        return {404}
    if access in (LEAD, REVIEWER) and persona == "outsider":
        return {404}
    if access == LEAD and persona in ("observer", "reviewer"):
        return {403}
    if access == REVIEWER and persona == "observer":
        return {403}
    if method == POST and persona in STRICTER_POST.get(url.name, {}):
        return STRICTER_POST[url.name][persona]
    return {200} if method == GET else {200, 302}


@pytest.fixture
def scene(
    review: Review, other_review: Review, team: dict[str, User], outsider: User
) -> dict:
    target = MembershipFactory(review=review, role=Role.REVIEWER).pk
    invitation = InvitationFactory(review=review, invited_by=team["lead"])
    job = Job.objects.create(review=review, kind="test", label="Test job")
    search = SearchFactory(review=review, method=Search.Method.ENTREZ)
    unmapped = search_file_create(
        review=review,
        actor=team["lead"],
        upload=SimpleUploadedFile("odd.csv", b"heading,shape\nred,round\n"),
        file_name="odd.csv",
        database="Other",
        run_on=date(2024, 1, 1),
    )
    record = RecordFactory(review=review, search=search)
    other = RecordFactory(review=review, search=search)
    pair = DuplicatePair.objects.create(
        review=review, record_a=record, record_b=other, score=0.5
    )
    third = RecordFactory(review=review, search=search, duplicate_of=other)
    merge = Merge.objects.create(
        review=review, primary=other, duplicate=third, method="auto", score=1.0
    )
    reason = ExclusionReason.objects.create(review=review, position=1, label="Wrong")
    at_full_text = RecordFactory(review=review, search=search)
    RecordStage.objects.create(
        review=review, record=at_full_text, stage="title_abstract", status="included"
    )
    term = HighlightTerm.objects.create(review=review, kind="include", term="rat*")
    FullText.objects.create(
        review=review,
        record=record,
        file=SimpleUploadedFile("a.pdf", b"%PDF-1.4 test"),
        file_name="a.pdf",
        sha256="0" * 64,
        size=13,
    )
    pilot = PilotRound.objects.create(
        review=review,
        stage="title_abstract",
        number=1,
        kappa_needed=0.6,
        agreement_needed=0.8,
    )
    pilot.records.add(record)
    values = {
        "review_id": review.pk,
        "membership_id": target,
        "invitation_id": invitation.pk,
        "job_id": job.pk,
        "search_id": search.pk,
        "record_id": record.pk,
        "pair_id": pair.pk,
        "merge_id": merge.pk,
        "token": invitation.token,
        "stage": "title_abstract",
        "reason_id": reason.pk,
        "term_id": term.pk,
        "full_text_id": FullText.objects.get(record=record).pk,
        "pilot_id": pilot.pk,
        "uidb64": "MQ",
        "object_id": "1",
        "id": "1",
        "content_type_id": "1",
        "app_label": "core",
        "url": "no-such-page/",
    }
    users = {
        "anonymous": None,
        "outsider": outsider,
        "observer": team["observer"],
        "reviewer": team["reviewer_a"],
        "lead": team["lead"],
    }
    failed = SearchFactory(review=review, status=Search.Status.FAILED)
    overrides = {
        "searches:mapping": {"search_id": unmapped.pk},
        "searches:discard": {"search_id": failed.pk},
        "screening:full_text_upload": {"record_id": at_full_text.pk},
    }
    return {
        "values": values,
        "overrides": overrides,
        "users": users,
        "review": review,
        "other": other_review,
    }


def _path(route: str, values: dict) -> str:
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
    return "/" + route.lstrip("^").rstrip("$")


def test_every_url_is_classified() -> None:
    names = {url.name for url in ALL_URLS if not url.is_admin}
    unclassified = names - ACCESS.keys()
    assert not unclassified, (
        f"Give these URLs an access class in ACCESS: {sorted(unclassified)}"
    )
    assert not ACCESS.keys() - names, "ACCESS lists URLs that no longer exist"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url", ALL_URLS, ids=lambda url: url.name or url.route)
def test_access(url: Url, persona: str, scene: dict) -> None:
    user = scene["users"][persona]
    path = _path(url.route, {**scene["values"], **scene["overrides"].get(url.name, {})})
    for method in (GET, POST):
        client = client_for(user)
        response = client.get(path) if method == GET else client.post(path, {})
        expected = _expected(url, persona, method)
        assert response.status_code in expected, (
            f"{persona} {method} {path}: "
            f"got {response.status_code}, expected {expected}"
        )
        redirected_anonymous = response.status_code == 302 and persona == "anonymous"
        if redirected_anonymous and not url.is_admin and ACCESS[url.name][0] != PUBLIC:
            assert response["Location"].startswith("/accounts/login/?next=")
        if response.status_code == 200 and url.name not in SHOWS_REVIEW_TO_NON_MEMBERS:
            if response.streaming:
                body = b"".join(response.streaming_content).decode(errors="replace")
            else:
                body = response.content.decode()
            hidden = scene["review"] if persona == "outsider" else scene["other"]
            assert hidden.title not in body, (
                f"{persona} {method} {path} leaks {hidden.title}"
            )


@pytest.mark.parametrize("name", ["reviews:member_role", "reviews:member_remove"])
def test_lead_cannot_reach_a_membership_of_another_review(
    name: str, review: Review, lead: User, other_review: Review, outsider: User
) -> None:
    foreign = other_review.memberships.get(user=outsider)
    path = _path(
        ACCESS_ROUTES[name], {"review_id": review.pk, "membership_id": foreign.pk}
    )
    response = client_for(lead).post(path, {"role": Role.OBSERVER})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.LEAD


@pytest.mark.parametrize(
    "name", ["reviews:invitation_revoke", "reviews:invitation_resend"]
)
def test_lead_cannot_reach_an_invitation_of_another_review(
    name: str, review: Review, lead: User, other_review: Review
) -> None:
    foreign = InvitationFactory(review=other_review)
    path = _path(
        ACCESS_ROUTES[name], {"review_id": review.pk, "invitation_id": foreign.pk}
    )
    assert client_for(lead).post(path).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_member_cannot_poll_a_job_of_another_review(
    review: Review, reviewer_a: User, other_review: Review
) -> None:
    job = Job.objects.create(review=other_review, kind="test", label="Their job")
    path = _path(
        ACCESS_ROUTES["reviews:job_status"], {"review_id": review.pk, "job_id": job.pk}
    )
    assert client_for(reviewer_a).get(path).status_code == 404


def test_staff_sees_every_admin_list_with_search(
    db: None, review: Review, lead: User
) -> None:
    admin = UserFactory(email="admin@example.org", is_staff=True, is_superuser=True)
    InvitationFactory(review=review, expires_at=timezone.now() - timedelta(days=1))
    client = client_for(admin)
    changelists = [url for url in ALL_URLS if url.name.endswith("_changelist")]
    assert len(changelists) >= 7
    for url in changelists:
        response = client.get(_path(url.route, {}), {"q": "exercise"})
        assert response.status_code == 200, url.name
        assert b"search" in response.content.lower()
    assert Invitation.objects.count() == 1


ACCESS_ROUTES = {url.name: url.route for url in ALL_URLS}


def test_staff_adds_a_member_through_the_admin_with_an_audit_row(
    review: Review, lead: User
) -> None:
    staff = UserFactory(email="staff@example.org", is_staff=True, is_superuser=True)
    newcomer = UserFactory(email="newcomer@example.org")
    response = client_for(staff).post(
        "/admin/reviews/membership/add/",
        {"review": review.pk, "user": newcomer.pk, "role": Role.LEAD},
    )
    assert response.status_code == 302
    membership = review.memberships.get(user=newcomer)
    assert membership.role == Role.LEAD
    assert AuditEvent.objects.filter(
        verb="membership.created", target_id=membership.pk, actor=staff
    ).exists()


def test_admin_cannot_demote_the_last_lead(review: Review, lead: User) -> None:
    staff = UserFactory(email="staff@example.org", is_staff=True, is_superuser=True)
    membership = review.memberships.get(user=lead)
    client_for(staff).post(
        f"/admin/reviews/membership/{membership.pk}/change/", {"role": Role.OBSERVER}
    )
    membership.refresh_from_db()
    assert membership.role == Role.LEAD
    assert not AuditEvent.objects.filter(verb="membership.role_changed").exists()
