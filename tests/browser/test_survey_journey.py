"""The demo preceptee answers their open starting (baseline) survey in Chromium: one step at a
time with htmx, and as one long form without JavaScript; axe-core on each page. The module's tests share one database,
so each reads what is open before acting."""

import re

import pytest
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

SAM = "preceptee@demo.nhs.uk"


def sign_in(page) -> None:
    page.goto("/sign-in")
    page.locator("#email").fill(SAM)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My preceptorship", level=1)).to_be_visible()


def agree_to_everything(scope) -> None:
    for group in scope.locator("fieldset").all():
        group.get_by_label("Agree", exact=True).check()


def test_answering_without_javascript_as_one_long_form(new_page):
    page = new_page(java_script_enabled=False)
    sign_in(page)
    page.get_by_role("link", name=re.compile(r"(Answer|Finish) the starting survey")).click()
    expect(page.get_by_role("button", name="Send my answers")).to_be_visible()
    assert page.locator("fieldset").count() >= 7  # every question on one page
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose an answer")
    page.locator("fieldset").first.get_by_label("Disagree", exact=True).check()
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Your answers are saved")
    expect(page.get_by_role("link", name="Finish the starting survey")).to_be_visible()


def test_answering_one_step_at_a_time(page):
    sign_in(page)
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"(Answer|Finish) the starting survey")).click()
    expect(page.get_by_text("Step 1 of 2")).to_be_visible()
    assert_accessible(page)
    # Answers missing: the errors show in the step, which stays.
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("#survey_step .nhsuk-error-summary")).to_contain_text("Choose an answer")
    expect(page.get_by_text("Step 1 of 2")).to_be_visible()
    assert_accessible(page)
    agree_to_everything(page.locator("#survey_step"))
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("Step 2 of 2")).to_be_visible()
    assert_accessible(page)
    page.get_by_label(re.compile("What has helped you most")).fill("Protected time every week")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("your answers have been sent")
    expect(page.get_by_role("link", name=re.compile("starting survey"))).to_have_count(0)
