"""End to end in a browser: a lead starts a review, invites a reviewer, who joins.

Runs against pytest-django's live server in this process, so Celery tasks run eagerly
(config.settings_test) and the invitation e-mail lands in django.core.mail.outbox.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import Browser, Page, Response, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from core.models import User
from core.roles import Role
from reviews.models import Invitation, Membership, Review
from tests.factories import PASSWORD, UserFactory

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PHONE: ViewportSize = {"width": 360, "height": 740}

TITLE = "Exercise for neuropathic pain after spinal cord injury in rodents"
QUESTION = (
    "Does exercise reduce neuropathic pain in rodent models of spinal cord injury?"
)
PICO = {
    "Population (P)": "Rats and mice with experimental spinal cord injury",
    "Intervention (I)": "Treadmill, swimming or wheel running",
    "Comparator (C)": "No exercise or sham exercise",
    "Outcomes (O)": "Mechanical allodynia; thermal hyperalgesia",
}
INCLUSION = [
    "Rodent model of spinal cord injury",
    "Exercise started after the injury",
    "Reports a pain-related behavioural outcome",
]
EXCLUSION = ["No control group", "Review articles and conference abstracts"]
INVITEE = "new.member@example.org"
INVITEE_NAME = "Nina Newmember"
INVITEE_PASSWORD = "a-long-and-unusual-passphrase-42"


def _invitation_path(body: str) -> str:
    """The invitation link's path in an e-mail body, for the live server to serve."""
    match = re.search(re.escape(settings.SITE_URL) + r"(/invitations/\S+/)", body)
    assert match, f"No invitation link built from SITE_URL in the e-mail:\n{body}"
    return urlsplit(match.group(0)).path


def _watch_for_errors(page: Page, errors: list[str]) -> None:
    """Record failed responses (e.g. missing CSS) and JavaScript errors of the page."""

    def on_response(response: Response) -> None:
        # Browsers ask for /favicon.ico on their own, whatever the page links.
        if response.status >= 400 and urlsplit(response.url).path != "/favicon.ico":
            errors.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    page.on("pageerror", lambda error: errors.append(f"JavaScript error: {error}"))


def _assert_styled(page: Page) -> None:
    """Bootstrap's CSS is applied: the navbar is dark, not the browser's default."""
    background = page.locator("nav.navbar").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), (
        "the page looks unstyled"
    )


@pytest.mark.browser
def test_lead_creates_review_and_invited_reviewer_joins(
    live_server: LiveServer, browser: Browser, page: Page
) -> None:
    lead: User = UserFactory.create(email="lena.lead@example.org", name="Lena Lead")
    errors: list[str] = []
    _watch_for_errors(page, errors)

    # 1. The lead logs in.
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    _assert_styled(page)
    page.locator("input[name=username]").fill(lead.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()

    # 2. "My reviews", then a new review.
    expect(page.get_by_role("heading", name="My reviews")).to_be_visible()
    expect(page.get_by_text("You are not in any review yet")).to_be_visible()
    page.get_by_role("link", name="New review").click()
    expect(page.get_by_role("heading", name="New review")).to_be_visible()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Review question").fill(QUESTION)
    for label, value in PICO.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Inclusion criteria").fill("\n".join(INCLUSION))
    page.get_by_label("Exclusion criteria").fill("\n".join(EXCLUSION))
    page.get_by_role("button", name="Create review").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("alert")).to_contain_text("You are its lead.")
    expect(page.get_by_test_id("current-role")).to_have_text("Lead")
    expect(page.get_by_text(QUESTION)).to_be_visible()
    for value in PICO.values():
        expect(page.get_by_text(value)).to_be_visible()
    expect(page.get_by_test_id("inclusion-criteria").locator("li")).to_have_text(
        INCLUSION
    )
    expect(page.get_by_test_id("exclusion-criteria").locator("li")).to_have_text(
        EXCLUSION
    )
    expect(page.get_by_test_id("member-count")).to_have_text("1")
    review_url = page.url

    # 3. The Team page: invite a reviewer.
    page.get_by_role("navigation").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    expect(page.get_by_test_id("members")).to_contain_text("Lena Lead")
    invite_form = page.locator("section").filter(
        has=page.get_by_role("heading", name="Invite people")
    )
    invite_form.get_by_label("E-mail addresses").fill(INVITEE)
    invite_form.get_by_label("Role").select_option(label="Reviewer")
    invite_form.get_by_role("button", name="Send invitations").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "1 invitation(s) created; the e-mails are on their way."
    )
    invitations = page.get_by_test_id("invitations").locator("li")
    expect(invitations).to_have_count(1)
    expect(invitations.first).to_contain_text(f"{INVITEE} · reviewer")
    expect(invitations.first).to_contain_text("Pending")
    expect(page.get_by_test_id("job-status")).to_have_text("Finished")

    # 4. The e-mail went out (eager task, in-memory outbox), its link from SITE_URL.
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [INVITEE]
    assert TITLE in email.subject
    invitation_url = live_server.url + _invitation_path(str(email.body))

    # 5. The lead logs out; the invited person opens the link and creates an account.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(invitation_url)
    expect(page.get_by_role("heading", name=f"Join “{TITLE}”")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"Lena Lead invited {INVITEE}")
    expect(page.get_by_label("E-mail address")).to_have_value(INVITEE)
    page.get_by_label("Your full name").fill(INVITEE_NAME)
    # Not "Password again"; crispy appends "*" to required fields' labels.
    page.get_by_label(re.compile(r"^\s*Password\W*$")).fill(INVITEE_PASSWORD)
    page.get_by_label("Password again").fill(INVITEE_PASSWORD)
    page.get_by_role("button", name="Create account and join").click()

    expect(page).to_have_url(review_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("alert")).to_contain_text(f"Welcome to “{TITLE}”.")
    expect(page.get_by_test_id("current-role")).to_have_text("Reviewer")
    expect(page.get_by_test_id("inclusion-criteria").locator("li")).to_have_text(
        INCLUSION
    )
    expect(page.get_by_test_id("member-count")).to_have_text("2")
    expect(page.get_by_role("link", name="Edit details")).to_have_count(0)
    expect(page.get_by_role("navigation")).to_contain_text(INVITEE_NAME.split()[0])

    # 6. Screenshots: the full page on a desktop, then the same dashboard on a phone.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "review_flow_dashboard.png", full_page=True)
    phone_context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        storage_state=page.context.storage_state(),
    )
    try:
        phone = phone_context.new_page()
        _watch_for_errors(phone, errors)
        phone.goto(review_url)
        expect(phone.get_by_test_id("current-role")).to_have_text("Reviewer")
        expect(phone.get_by_role("heading", level=1)).to_have_text(TITLE)
        _assert_styled(phone)
        phone.screenshot(path=SCREENSHOTS / "review_flow_phone.png", full_page=True)
        scroll_width = phone.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= PHONE["width"], (
            f"horizontal overflow on a {PHONE['width']} px phone: "
            f"scrollWidth={scroll_width}"
        )
    finally:
        phone_context.close()

    assert errors == []

    # The database agrees with what the pages showed.
    review = Review.objects.get(title=TITLE)
    assert review.created_by == lead
    assert review.inclusion_criteria() == INCLUSION
    assert review.exclusion_criteria() == EXCLUSION
    member = User.objects.get(email=INVITEE)
    assert member.name == INVITEE_NAME
    assert member.check_password(INVITEE_PASSWORD)
    assert Membership.objects.get(review=review, user=member).role == Role.REVIEWER
    assert Membership.objects.get(review=review, user=lead).role == Role.LEAD
    invitation = Invitation.objects.get(review=review, email=INVITEE)
    assert invitation.state == Invitation.State.ACCEPTED
    assert invitation.accepted_by == member
    assert invitation.accepted_at is not None
