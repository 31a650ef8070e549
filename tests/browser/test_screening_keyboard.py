"""In a browser: two reviewers screen 20 records with the keyboard only, one
record ends in conflict, and the lead resolves it. Highlighting is checked
on the rendered page; screenshots go to var/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from core.models import User
from reviews.models import Review
from screening.models import Decision, HighlightTerm, RecordStage
from tests.factories import PASSWORD, RecordFactory, SearchFactory

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
RECORDS = 20
CONFLICT_AT = 3  # the record the two reviewers see differently


def _log_in(page: Page, live_server: LiveServer, user: User) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")


def _screen_all(page: Page, plan: list[str]) -> None:
    """Press one key per record, waiting each time for the next record's card."""
    card = page.locator("#record-card")
    for key in plan:
        current = card.get_attribute("data-record")
        assert current, "no record on the card"
        page.keyboard.press(key)
        expect(card).not_to_have_attribute("data-record", current)
        # The page ignores keys until the new card has settled (so a fast
        # typist's key never lands on the wrong record): wait as a person would.
        expect(card).not_to_have_class(re.compile("htmx-"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_screen_by_keyboard_and_the_lead_resolves_the_conflict(
    page: Page,
    live_server: LiveServer,
    review: Review,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    search = SearchFactory(review=review)
    records = [
        RecordFactory(
            search=search,
            title=f"Treadmill training after spinal cord injury, cohort {n}"
            if n < 10
            else f"A narrative review of pain mechanisms, part {n}",
            abstract="Rats ran on a treadmill; allodynia was measured weekly.",
        )
        for n in range(RECORDS)
    ]
    HighlightTerm.objects.create(review=review, kind="include", term="treadmill")
    HighlightTerm.objects.create(review=review, kind="exclude", term="review")
    screen = f"{live_server.url}/reviews/{review.pk}/screening/title_abstract/"
    plan_a = ["i"] * 10 + ["e"] * 10
    plan_b = list(plan_a)
    plan_b[CONFLICT_AT] = "e"

    # Reviewer A: highlighting is rendered, then 20 records by keyboard, with
    # one undo on the way (u brings back the last record, voted again).
    _log_in(page, live_server, reviewer_a)
    page.goto(screen)
    title = page.get_by_test_id("record-title")
    expect(title.locator("mark.hl-include")).to_have_text("Treadmill")
    highlight = title.locator("mark.hl-include").evaluate(
        "mark => getComputedStyle(mark).backgroundColor"
    )
    assert highlight not in ("rgba(0, 0, 0, 0)", "transparent")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "screening_card.png"), full_page=True)
    _screen_all(page, plan_a[:5])
    page.keyboard.press("u")
    card = page.locator("#record-card")
    expect(card).to_have_attribute("data-record", str(records[4].pk))
    expect(card).not_to_have_class(re.compile("htmx-"))
    _screen_all(page, plan_a[4:])
    expect(page.get_by_test_id("nothing-left")).to_be_visible()
    expect(page.get_by_test_id("screened")).to_have_text(str(RECORDS))

    # Reviewer B: the same records, one seen the other way; never A's votes.
    _log_in(page, live_server, reviewer_b)
    page.goto(screen)
    expect(
        page.get_by_test_id("record-title").locator("mark.hl-include")
    ).to_be_visible()
    _screen_all(page, plan_b)
    expect(page.get_by_test_id("nothing-left")).to_be_visible()
    assert page.get_by_test_id("other-votes").count() == 0
    assert Decision.objects.filter(review=review).count() == 2 * RECORDS
    conflict = RecordStage.objects.get(review=review, status="conflict")
    assert conflict.record_id == records[CONFLICT_AT].pk

    # The lead resolves it from the screening dashboard, seeing both votes.
    _log_in(page, live_server, lead)
    page.goto(f"{live_server.url}/reviews/{review.pk}/screening/")
    ta = page.get_by_test_id("stage-title_abstract")
    expect(ta.get_by_test_id("agreement")).to_contain_text("0.950")
    page.get_by_test_id("conflicts-title_abstract").click()
    expect(page.get_by_test_id("other-votes")).to_contain_text("Exclude")
    page.screenshot(path=str(SCREENSHOTS / "screening_conflict.png"), full_page=True)
    page.get_by_placeholder("Why (kept with the resolution)").fill(
        "Treadmill after injury: eligible."
    )
    page.get_by_test_id("resolve-include").click()
    expect(page.get_by_text("Conflict resolved.")).to_be_visible()
    conflict.refresh_from_db()
    assert (conflict.status, conflict.method, conflict.resolved_by) == (
        "included", "lead", lead,
    )  # fmt: skip
    assert not RecordStage.objects.filter(review=review, status="conflict").exists()
