"""Asking for sign-off from the timeline's dialog in Chromium: opens in place, shows errors in
place, and the timeline behind it updates without a page load."""

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
    expect(dialog.get_by_text("Sign-off requested")).to_be_visible()
    expect(dialog.get_by_role("button", name="Withdraw request")).to_be_visible()
    assert_accessible(page)

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    # The timeline (filtered to "not started") refreshed behind the dialog: the milestone left it.
    expect(page.locator("#timeline").get_by_role("link", name=title, exact=True)).to_have_count(0)
    assert page.evaluate("window.__noReload") is True
