"""Importing people from a file in Chromium: a file with a bad row is refused line by line
with nothing added, the corrected file is previewed and imported, each new person's link is
shown once, and a new preceptor's details page works. axe-core checks every page."""

from datetime import datetime

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible
from .test_admin_people import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

HEADER = "Full Name,Email,Roles,HCPC Number,Site,Department,HCPC Registration Date,Preceptor Training Date"


def people_file(tmp_path, *lines: str):
    path = tmp_path / "people.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_an_admin_imports_people_and_gets_their_links(page, live_server, tmp_path):
    stamp = f"{datetime.now():%H%M%S%f}"
    good = [f"Imogen Import,imogen.{stamp}@test.nhs.uk,Preceptor,,Royal Preston Hospital,CT,2018-05-01,2020-02-01",
            f"Leo Import,leo.{stamp}@test.nhs.uk,Education lead,,Royal Preston Hospital,CT,,"]
    sign_in(page, "/admin/people")
    page.get_by_role("button", name="Import people from a file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import people")
    page.wait_for_load_state("load")
    assert_accessible(page)

    page.locator("input[type=file]").set_input_files(
        people_file(tmp_path, *good, f"Bad Row,bad.{stamp}@test.nhs.uk,Surgeon,,,,,"))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the people to import")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Line 4: Roles must be preceptee, preceptor, education lead or administrator")
    expect(page.get_by_role("button", name="Add 2 people")).to_have_count(0)
    page.wait_for_load_state("load")
    assert_accessible(page)

    page.locator("input[type=file]").set_input_files(people_file(tmp_path, *good))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)
    page.get_by_role("button", name="Add 2 people").click()
    expect(page.locator(".nhsuk-panel")).to_contain_text("2 people added")
    links = page.locator("code.app-link-text")
    expect(links).to_have_count(2)
    expect(links.first).to_contain_text("/account/")
    page.wait_for_load_state("load")
    assert_accessible(page)

    page.get_by_role("link", name="Imogen Import").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Imogen Import")
    expect(page.locator("main")).to_contain_text("CT, Royal Preston Hospital")
    page.get_by_role("link", name="Change details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change Imogen Import’s details")
    page.wait_for_load_state("load")
    assert_accessible(page)
    page.get_by_label("Full name").fill("Imogen Imported")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Imogen Imported")
    expect(page.locator(".nhsuk-notification-banner, .nhsuk-inset-text").first).to_contain_text("details are saved")
