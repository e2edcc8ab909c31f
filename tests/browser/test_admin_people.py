"""The administrator's People pages in Chromium: the list searched in place with htmx (and as a
plain GET form without JavaScript), adding a person whose invitation link then works in another
browser, a duplicate email refused beside its field, and deactivating and reactivating someone
through the confirmation step. axe-core checks each page that has JavaScript.

The module's tests share one seeded demo trust (the shared `live_server`), so each adds its own
people with a unique email, and puts back anything of the demo's it changes.
"""

import re
from datetime import date, datetime
from itertools import count

import pytest
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible
from .test_invitation import answered_with
from .test_sign_in import url_is

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

ADMIN = "admin@demo.nhs.uk"
NEW_PASSWORD = "kettle-orbit-marsh-velvet"
serial = count(1)


def sign_in(page, then: str = "/admin/") -> None:
    page.goto(f"/sign-in?next={then}")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(then.split("?")[0]) + r"(\?.*)?$"))
    page.wait_for_load_state("load")


def unique_email() -> str:
    return f"new.person{next(serial)}.{datetime.now():%H%M%S%f}@test.nhs.uk"


def results(page):
    return page.locator("#people_results")


def test_search_swaps_the_results_in_place(page, live_server):
    sign_in(page)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="People", exact=True).click()
    expect(page).to_have_url(url_is(live_server, "/admin/people"))
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    page.wait_for_load_state("load")  # htmx has taken the form over: before that, Enter submits it natively
    everyone = results(page).locator("#people-table tbody tr").count()
    assert everyone > 5  # the demo trust: more than the one the search will find
    expect(results(page)).not_to_contain_text("matching")

    page.evaluate("window.__marker = 'still here'")
    page.get_by_label("Name, email or HCPC number").fill("preceptor@demo")
    page.get_by_label("Name, email or HCPC number").press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/people\?(.*&)?q=preceptor%40demo(&|$)"))
    expect(results(page)).to_contain_text("1 person matching “preceptor@demo”.")
    rows = results(page).locator("#people-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("th")).to_contain_text("Priya Preceptor")
    expect(rows.first.locator("th")).to_contain_text("preceptor@demo.nhs.uk, RA612345")
    expect(rows.first.locator("td").first).to_have_text("Preceptor")
    expect(rows.first.locator("td").last).to_have_text("Active")
    # Swapped in place: the page (and its script state) was not reloaded.
    assert page.evaluate("window.__marker") == "still here"
    expect(page.get_by_label("Name, email or HCPC number")).to_have_value("preceptor@demo")
    assert_accessible(page)

    # A filter change (no submit) swaps it again: nobody is a deactivated preceptor@demo.
    page.get_by_label("Status").select_option("deactivated")
    expect(page).to_have_url(re.compile(r"status=deactivated"))
    expect(results(page)).to_contain_text("0 people matching “preceptor@demo”.")
    expect(results(page)).to_contain_text("Nobody matches.")
    expect(results(page).locator("#people-table")).to_have_count(0)
    assert page.evaluate("window.__marker") == "still here"


def add_person(page, name: str, email: str, role: str = "Preceptee") -> None:
    """From the list, fill in the new-person form and submit it."""
    page.goto("/admin/people")
    page.get_by_role("button", name="Add a person").click()  # a link styled as a button (role="button")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a person")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label(role, exact=True).check()
    page.get_by_role("button", name="Add person").click()


def test_adding_a_person_gives_a_link_they_use_to_set_a_password(page, new_page, live_server):
    sign_in(page)
    email = unique_email()
    add_person(page, "Nia Newcomer", email)

    expect(page.get_by_role("heading", level=1)).to_have_text("Account created for Nia Newcomer")
    expect(page).to_have_title(re.compile(r"^Invitation link for Nia Newcomer"))
    link = page.get_by_label("Link for Nia Newcomer to set their password").input_value().strip()
    assert link.startswith(live_server + "/account/"), link
    assert len(link) > len(live_server + "/account/") + 20  # a real token, not an empty path
    expect(page.get_by_text(email, exact=True)).to_be_visible()
    inset = page.locator(".nhsuk-inset-text")
    expect(inset).to_contain_text("The link works once, until ")
    until = re.search(r"until (\d{1,2} [A-Z][a-z]+ \d{4}) at \d{2}:\d{2}", inset.inner_text())
    assert until, inset.inner_text()
    assert datetime.strptime(until.group(1), "%d %B %Y").date() > date.today()
    assert_accessible(page)

    # The list now has them, with their role, active (though no password yet).
    page.get_by_role("link", name="Back to people").click()
    page.get_by_label("Name, email or HCPC number").fill(email)
    page.get_by_role("button", name="Search").click()
    row = results(page).locator("#people-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("th")).to_contain_text("Nia Newcomer")
    expect(row.locator("td").first).to_have_text("Preceptee")

    # The new person, in a browser of their own, follows the link and is signed in.
    theirs = new_page()
    theirs.goto(link)
    expect(theirs.get_by_role("heading", level=1)).to_have_text("Create a password")
    expect(theirs.get_by_text(email)).to_be_visible()
    theirs.locator("#password").fill(NEW_PASSWORD)
    theirs.locator("#confirm").fill(NEW_PASSWORD)
    theirs.get_by_role("button", name="Create a password").click()
    expect(theirs).to_have_url(url_is(live_server, "/preceptee/"))
    expect(theirs.get_by_role("heading", level=1)).to_have_text("My preceptorship")
    expect(theirs.get_by_role("button", name="Sign out")).to_be_visible()

    # Their page, for the admin, now says the password is set and they have signed in.
    page.get_by_role("link", name="Nia Newcomer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nia Newcomer")
    password = page.locator(".nhsuk-summary-list__row", has_text="Password")
    expect(password.locator(".nhsuk-summary-list__value")).to_have_text("Set")
    activity = page.locator("table", has_text="Recent activity").locator("tbody")
    for action in ("person.create", "account.password_set", "user.sign_in"):
        expect(activity.get_by_role("cell", name=action, exact=True)).to_have_count(1)
    expect(page.locator(".nhsuk-summary-list__row", has_text="Last signed in")).not_to_contain_text("Never")


def test_a_duplicate_email_in_another_case_is_refused_by_its_field(request, page, live_server):
    sign_in(page)
    add_person(page, "Priya Again", "PRECEPTOR@demo.nhs.uk", role="Preceptor")

    expect(page).to_have_url(url_is(live_server, "/admin/people/new"))
    expect(page).to_have_title(re.compile(r"^Error: Add a person"))
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="An account with this email already exists")).to_have_attribute(
        "href", "#email")
    expect(page.locator("#email-error")).to_contain_text("An account with this email already exists")
    expect(page.get_by_label("Full name")).to_have_value("Priya Again")  # what they typed is kept
    expect(page.get_by_label("Email address")).to_have_value("PRECEPTOR@demo.nhs.uk")
    expect(page.get_by_label("Preceptor", exact=True)).to_be_checked()
    expect(page.get_by_label("Preceptee", exact=True)).not_to_be_checked()
    answered_with(request, 400, "POST", live_server + "/admin/people/new")
    assert_accessible(page)

    # Nothing was added: the search still finds only the demo preceptor.
    page.goto("/admin/people?q=preceptor%40demo")
    expect(results(page)).to_contain_text("1 person matching")


def test_deactivating_and_reactivating_someone(page, live_server):
    sign_in(page)
    email = unique_email()
    add_person(page, "Dana Departing", email)
    page.get_by_role("link", name="Go to Dana Departing’s page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dana Departing Active")
    expect(page.locator(".nhsuk-summary-list__row", has_text="Email address")).to_contain_text(email)
    expect(page.locator(".nhsuk-summary-list__row", has_text="Password")).to_contain_text(
        "Not set yet: their invitation link works until")
    expect(page.get_by_label("Preceptee", exact=True)).to_be_checked()
    expect(page.locator("table", has_text="person.create")).to_be_visible()  # the recent activity
    assert_accessible(page)
    person = page.url

    page.get_by_role("button", name="Deactivate account").click()
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("Deactivate Dana Departing’s account?")
    expect(page).to_have_url(re.compile(r"confirm=deactivate"))
    assert_accessible(page)
    # "No" leaves it as it was.
    confirm.get_by_role("link", name="No, keep the account active").click()
    expect(page.locator("#confirm")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Active")

    page.get_by_role("button", name="Deactivate account").click()
    page.get_by_role("button", name="Yes, deactivate Dana Departing").click()
    expect(page).to_have_url(person)
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Dana Departing's account is deactivated: they are signed out and cannot sign in.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dana Departing Deactivated")
    expect(page.get_by_text("This account is deactivated: Dana Departing cannot sign in.")).to_be_visible()
    # Deactivating ends the unused invitation, and a deactivated person cannot be reset.
    expect(page.locator(".nhsuk-summary-list__row", has_text="Password")).to_contain_text("Not set, and no link works")
    expect(page.get_by_role("button", name="Force a password reset")).to_have_count(0)
    assert_accessible(page)

    # The list, filtered to deactivated accounts, shows them so.
    page.goto(f"/admin/people?status=deactivated&q={email}")
    expect(results(page).locator("#people-table tbody tr")).to_have_count(1)
    expect(results(page).locator("#people-table tbody tr td").last).to_have_text("Deactivated")

    page.goto(person)
    page.get_by_role("button", name="Reactivate account").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Dana Departing's account is active again")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dana Departing Active")
    expect(page.get_by_role("button", name="Deactivate account")).to_be_visible()


def test_search_works_without_javascript(new_page, live_server):
    page = new_page(java_script_enabled=False)
    sign_in(page, "/admin/people")
    page.get_by_label("Name, email or HCPC number").fill("RA654321")
    page.get_by_label("Role").select_option("preceptee")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/admin/people\?q=RA654321&role=preceptee&department=&status=$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    expect(results(page)).to_contain_text("1 person matching “RA654321”.")
    rows = results(page).locator("#people-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("th")).to_contain_text("Sam Preceptee")
    expect(rows.first.locator("th")).to_contain_text("preceptee@demo.nhs.uk, RA654321")
    expect(page.get_by_label("Name, email or HCPC number")).to_have_value("RA654321")  # the form keeps it
    expect(page.get_by_label("Role")).to_have_value("preceptee")
