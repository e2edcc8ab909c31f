"""A new person follows their invitation in Chromium: a too-short password is refused by the
field, a good one signs them in to their home page, and it works at the sign-in page after
signing out. axe-core checks the set-password page with and without the error, the
change-password page, and the page for a link already used.

The shared `live_server` serves an app the test cannot reach, so this module serves its own
(with no demo data: only the people each test makes) and keeps hold of the app to make them.
"""

import re
from itertools import count

import pytest
from playwright.sync_api import expect

from preceptor import create_app
from preceptor.extensions import db
from preceptor.models import LinkPurpose, Role
from preceptor.services import account_links, accounts
from tests.conftest import config_for

from .conftest import CONSOLES, assert_accessible, serving
from .test_sign_in import sign_in, url_is

pytestmark = pytest.mark.browser

NEW_PASSWORD = "kettle-orbit-marsh-velvet"
serial = count(1)


@pytest.fixture(scope="module")
def live_app(databases):
    app = create_app(config_for(databases.fresh()))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(live_app):
    """This module's own server, on an empty trust (overrides the shared fixture, which `page` uses)."""
    with serving(live_app) as url:
        yield url


@pytest.fixture
def invitation(live_app):
    """(email, path of the invitation link) for a new preceptee with no password yet."""
    email = f"new.starter{next(serial)}@test.nhs.uk"
    with live_app.app_context():
        user = accounts.create_user(email, "New Starter", [Role.PRECEPTEE])
        token = account_links.issue(user, LinkPurpose.INVITE)
        db.session.commit()
        db.session.remove()
    return email, f"/account/{token}"


def answered_with(request, status: int, method: str, url: str) -> None:
    """The browser guard fails a test on any 4xx; this one response is what the test wants to see.
    Take out exactly its reports (the response, and Chromium's console line about it), so
    anything else the page did still fails the test."""
    for console in request.node.stash.get(CONSOLES, []):
        response = [e for e in console.errors if e.endswith(f"HTTP {status} for {method} {url}")]
        assert len(response) == 1, console.errors
        console.errors[:] = [e for e in console.errors if e not in response and not (
            e.startswith(f"{url}: console error:") and f"status of {status}" in e)]


def fill_passwords(page, password: str, confirm: str | None = None) -> None:
    page.locator("#password").fill(password)
    page.locator("#confirm").fill(password if confirm is None else confirm)
    page.get_by_role("button", name="Create a password").click()


@pytest.mark.usefixtures("patient_expect")
def test_a_new_person_sets_their_password_and_signs_in_with_it(request, page, live_server, invitation, caplog):
    email, path = invitation
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a password")
    expect(page.get_by_text(email)).to_be_visible()
    assert_accessible(page)

    fill_passwords(page, "too-short")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Password must be at least 12 characters")
    expect(page.locator("#password-error")).to_contain_text("Password must be at least 12 characters")
    expect(page).to_have_title(re.compile(r"^Error: Create a password"))
    expect(page.locator("#password")).to_have_value("")  # not sent back
    answered_with(request, 400, "POST", live_server + path)
    assert_accessible(page)

    fill_passwords(page, NEW_PASSWORD)
    expect(page).to_have_url(url_is(live_server, "/preceptee/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My preceptorship")
    expect(page.get_by_text("Your password is set.")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(url_is(live_server, "/sign-in"))
    sign_in(page, email, NEW_PASSWORD)
    expect(page).to_have_url(url_is(live_server, "/preceptee/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My preceptorship")

    # Their details page leads to changing the password; the used link now says why it cannot work.
    page.goto("/your-details")
    page.get_by_role("link", name="Change your password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    assert_accessible(page)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    answered_with(request, 410, "GET", live_server + path)
    assert_accessible(page)

    # The server's access log shows each request, but not the link's token.
    assert "/account/[hidden]" in caplog.text and path not in caplog.text


def test_the_link_works_without_javascript_and_only_once(request, new_page, live_server, invitation):
    email, path = invitation
    page = new_page(java_script_enabled=False)
    page.goto(path)
    fill_passwords(page, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    expect(page.locator("#confirm-error")).to_contain_text("The passwords do not match")
    answered_with(request, 400, "POST", live_server + path)

    fill_passwords(page, NEW_PASSWORD)
    expect(page).to_have_url(url_is(live_server, "/preceptee/"))

    response = page.goto(path)
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(page.get_by_text("This link has already been used")).to_be_visible()
    answered_with(request, 410, "GET", live_server + path)
