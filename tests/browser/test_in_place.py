"""htmx in place, in Chromium: asking for sign-off from the timeline's dialog, and adding a log
entry from the log page, each without a page load and with axe-core clean."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible
from .test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_ask_for_sign_off_in_the_timeline_dialog(page):
    sign_in(page, "preceptee@demo.nhs.uk", demo_password())
    page.goto("/preceptee/timeline?status=not_started")
    page.evaluate("window.__noReload = true")
    link = page.locator("#timeline a", has_text="Ask for sign-off").first
    title = link.locator("span.nhsuk-u-visually-hidden").inner_text().removeprefix(": ")
    link.click()
    dialog = page.locator("#signoff-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", level=2, name=title)).to_be_visible()
    assert_accessible(page)

    dialog.get_by_role("button", name="Ask for sign-off").click()
    expect(dialog.get_by_text("Write a short summary for your preceptor").first).to_be_visible()
    dialog.get_by_label("Summary for your preceptor").fill("Done, with my reflection attached.")
    dialog.get_by_role("button", name="Ask for sign-off").click()
    expect(dialog.get_by_text("Sign-off requested: your preceptor")).to_be_visible()
    expect(dialog.get_by_role("button", name="Withdraw request")).to_be_visible()
    assert_accessible(page)

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    # The timeline (filtered to "not started") refreshed behind the dialog: the milestone left it.
    expect(page.locator("#timeline").get_by_role("link", name=title, exact=True)).to_have_count(0)
    assert page.evaluate("window.__noReload") is True


def test_add_a_log_entry_inline(page):
    sign_in(page, "preceptee@demo.nhs.uk", demo_password())
    page.goto("/preceptee/log")
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Add an entry").click()
    panel = page.locator("#entry_panel")
    panel.get_by_role("link", name="CPD activity").click()
    expect(panel.get_by_role("heading", name="Add a cpd activity")).to_be_visible()
    panel.get_by_role("button", name="Save entry").click()
    expect(panel.get_by_text("Enter a title").first).to_be_visible()
    assert_accessible(page)
    day = date.today() - timedelta(days=1)
    panel.get_by_label("Title").fill("Contrast safety e-learning")
    panel.get_by_label("Day", exact=True).fill(str(day.day))
    panel.get_by_label("Month", exact=True).fill(str(day.month))
    panel.get_by_label("Year", exact=True).fill(str(day.year))
    panel.get_by_label("Hours").fill("1.5")
    panel.get_by_label("Notes").fill("Completed the module and the quiz.")
    panel.get_by_role("button", name="Save entry").click()
    expect(panel.get_by_text("Entry saved:")).to_be_visible()
    expect(page.locator("#entries").get_by_role("link", name="Contrast safety e-learning", exact=True)).to_be_visible()
    assert page.evaluate("window.__noReload") is True
    assert_accessible(page)


def test_text_typed_when_the_session_ends_comes_back_after_signing_in(page):
    sign_in(page, "preceptee@demo.nhs.uk", demo_password())
    page.goto("/preceptee/development-plan/new")
    page.get_by_label("Goal", exact=True).fill("Run a CT head list on my own")
    # An autosave in flight would answer with a fresh session cookie after the clear: let it land.
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()  # the session ends while the form is open
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_text("it has been kept")).to_be_visible()
    page.locator("#email").fill("preceptee@demo.nhs.uk")
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a goal")
    expect(page.get_by_label("Goal", exact=True)).to_have_value("Run a CT head list on my own")
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_text("Goal added to your development plan")).to_be_visible()
    page.goto("/preceptee/development-plan/new")  # saved: the tab's copy is gone
    expect(page.get_by_label("Goal", exact=True)).to_have_value("")
