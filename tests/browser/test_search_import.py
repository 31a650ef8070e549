"""In a browser: a lead imports a database export and finds its records."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from core.models import User
from reviews.models import Review
from searches.models import Search
from tests.factories import PASSWORD
from tests.searches.conftest import FIXTURES

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_lead_imports_an_export_and_searches_its_records(
    page: Page, live_server: LiveServer, review: Review, lead: User
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", lead.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/reviews/{review.pk}/searches/")
    page.get_by_role("link", name="Import a file").click()
    page.get_by_label("Database or register").fill("Scopus")
    page.get_by_label("Interface or platform").fill("Elsevier")
    page.get_by_label("Search string").fill("TITLE-ABS-KEY(gambling AND harm*)")
    page.get_by_label("Hits reported by the source").fill("255")
    page.set_input_files(
        "input[type=file]",
        str(FIXTURES / "ris/citesource_gambling-harms_scopus_255.ris"),
    )
    page.get_by_role("button", name="Import").click()

    # Tasks run eagerly here, so the import has finished when the page loads.
    expect(page.get_by_test_id("search-status")).to_have_text("Imported")
    search = Search.objects.get(review=review)
    assert (search.records_imported, search.file_format) == (255, "ris")

    page.get_by_role("link", name="Records", exact=True).first.click()
    expect(page.get_by_test_id("record-count")).to_contain_text("255 records")
    page.fill("input[name=q]", "gambling")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("records").locator("a").first).to_be_visible()
    page.get_by_test_id("records").locator("a").first.click()
    expect(page.get_by_test_id("record-sources")).to_contain_text("Scopus")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "record_detail.png"), full_page=True)
