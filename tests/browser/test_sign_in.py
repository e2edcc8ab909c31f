"""Signing in and out through the real form in Chromium, with axe-core on every page."""

import re

import pytest
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible

pytestmark = pytest.mark.browser

ROLE_HOMES = [
    ("preceptee@demo.nhs.uk", "/preceptee/", "My preceptorship"),
    ("preceptor@demo.nhs.uk", "/preceptor/", "My preceptees"),
    ("lead@demo.nhs.uk", "/lead/", "Preceptor capacity"),
    ("admin@demo.nhs.uk", "/admin/", "Administration"),
]


def url_is(live_server: str, path: str) -> re.Pattern:
    return re.compile("^" + re.escape(live_server + path) + r"(\?.*)?$")


def sign_in(page, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def expect_sign_in_page(page, live_server: str) -> None:
    expect(page).to_have_url(url_is(live_server, "/sign-in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


@pytest.mark.parametrize(("email", "path", "heading"), ROLE_HOMES, ids=[e.split("@")[0] for e, *_ in ROLE_HOMES])
def test_each_role_signs_in_to_its_home_and_out_again(page, live_server, email, path, heading):
    page.goto("/sign-in")
    expect_sign_in_page(page, live_server)
    assert_accessible(page)

    sign_in(page, email, demo_password())
    expect(page).to_have_url(url_is(live_server, path))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    expect_sign_in_page(page, live_server)
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)


def test_wrong_password_shows_the_error_summary_and_keeps_the_email(page, live_server):
    sign_in(page, "preceptor@demo.nhs.uk", "not-the-password")

    expect_sign_in_page(page, live_server)
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_contain_text("The email address or password is not correct")
    expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    expect(page.locator("#email")).to_have_value("preceptor@demo.nhs.uk")
    expect(page.locator("#password")).to_have_value("")
    assert_accessible(page)


@pytest.mark.parametrize(("email", "path", "heading"), ROLE_HOMES, ids=[e.split("@")[0] for e, *_ in ROLE_HOMES])
def test_sign_in_and_out_work_without_javascript(new_page, live_server, email, path, heading):
    page = new_page(java_script_enabled=False)

    sign_in(page, email, demo_password())
    expect(page).to_have_url(url_is(live_server, path))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)

    page.get_by_role("button", name="Sign out").click()
    expect_sign_in_page(page, live_server)
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def test_a_person_with_two_roles_switches_role(page, live_server):
    sign_in(page, "chorley.lead@demo.nhs.uk", demo_password())
    expect(page).to_have_url(url_is(live_server, "/lead/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Preceptor capacity")

    page.get_by_role("navigation").get_by_role("link", name="Switch role").click()
    expect(page).to_have_url(url_is(live_server, "/switch-role"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Switch role")
    assert_accessible(page)

    page.get_by_role("button", name="Work as preceptor").click()
    expect(page).to_have_url(url_is(live_server, "/preceptor/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My preceptees")
    expect(page.get_by_text("You are now viewing the portal as: Preceptor.")).to_be_visible()
    assert_accessible(page)
