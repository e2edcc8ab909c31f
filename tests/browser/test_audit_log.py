"""The audit log and erasure in Chromium: an administrator searches the log by person and
action (swapped in place with htmx), sees a bad date refused beside its boxes, and downloads
what was found; a lead of the Chorley departments sees only events of theirs; an
administrator erases a person who has left, through the confirmation page. axe-core checks
each page.

The module serves its own demo trust with a retention period of 0 days, so a person
deactivated during the test may be erased at once.
"""

import csv
import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from preceptor import create_app
from preceptor.demo import demo_password, seed_demo
from preceptor.extensions import db
from tests.conftest import config_for

from .conftest import assert_accessible, serving

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


@pytest.fixture(scope="module")
def live_server(databases):
    """The demo trust, where a departed person's details may be erased as soon as they leave."""
    app = create_app(config_for(databases.fresh(), ERASURE_RETENTION_DAYS=0))
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
    try:
        with serving(app) as url:
            yield url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def sign_in(page, email: str, then: str = "/admin/audit") -> None:
    page.goto(f"/sign-in?next={then}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(then) + r"(\?.*)?$"))
    page.wait_for_load_state("load")


def rows(page):
    return page.locator("#audit-table tbody tr")


def column(page, number: int) -> list[str]:
    return [text.strip() for text in page.locator(f"#audit-table tbody tr td:nth-child({number})").all_inner_texts()]


def test_an_admin_searches_the_log_and_downloads_it(page):
    sign_in(page, "admin@demo.nhs.uk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(rows(page)).to_have_count(50)  # the demo's history: a full first page
    assert_accessible(page)

    page.evaluate("window.__marker = 'still here'")
    page.get_by_label("Person").fill("preceptor@demo")
    page.get_by_label("Action").select_option(label="Milestone signed off")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/admin/audit\?(.*&)?person=preceptor%40demo(&|$)"))
    expect(page).to_have_url(re.compile(r"action=milestone\.sign_off"))
    expect(page.locator("#audit_results")).to_contain_text("11 events.")
    expect(rows(page)).to_have_count(11)
    assert set(column(page, 2)) == {"Priya Preceptor"} and set(column(page, 3)) == {"Milestone signed off"}
    assert page.evaluate("window.__marker") == "still here"  # swapped in place, not reloaded
    expect(page.get_by_label("Person")).to_have_value("preceptor@demo")
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these events as CSV").click()
    assert download.value.suggested_filename.startswith("audit-log-")
    with open(download.value.path(), encoding="utf-8-sig") as file:
        table = list(csv.DictReader(file))
    assert len(table) == 11 and {row["Action code"] for row in table} == {"milestone.sign_off"}
    assert {row["Who"] for row in table} == {"Priya Preceptor"}

    # A date that does not exist is refused beside its boxes, and what was typed stays.
    since = page.get_by_role("group", name="From date")
    since.get_by_label("Day").fill("31")
    since.get_by_label("Month").fill("2")
    since.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("From date must be a real date")
    expect(page.locator("#since-error")).to_contain_text("From date must be a real date")
    expect(since.get_by_label("Day")).to_have_value("31")
    expect(page.locator("#audit_results")).to_contain_text("Correct the dates above to see events.")
    assert page.evaluate("window.__marker") == "still here"
    assert_accessible(page)


def test_a_lead_sees_only_the_events_of_their_departments(page):
    sign_in(page, "chorley.lead@demo.nhs.uk")
    expect(page.locator("main")).to_contain_text("for the departments you lead")
    expect(rows(page).first).to_be_visible()
    departments = set(column(page, 5))
    assert departments and all(d.endswith("Chorley and South Ribble Hospital") for d in departments), departments
    expect(page.get_by_label("Action").locator("option", has_text="Person added")).to_have_count(0)
    # Searching for someone at Royal Preston finds nothing of theirs.
    page.get_by_label("Person").fill("preceptee@demo")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#audit_results")).to_contain_text("0 events.")
    assert_accessible(page)


def test_an_admin_erases_someone_who_has_left(page):
    sign_in(page, "admin@demo.nhs.uk", "/admin/people/new")
    email = f"eric.erasable.{datetime.now():%H%M%S%f}@test.nhs.uk"
    page.get_by_label("Full name").fill("Eric Erasable")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Preceptee", exact=True).check()
    page.get_by_role("button", name="Add person").click()
    page.get_by_role("link", name="Go to Eric Erasable’s page").click()
    person = page.url
    user_id = int(person.rstrip("/").rsplit("/", 1)[1])

    # While they are active, the page says why not and offers no button.
    page.goto(f"/admin/people/{user_id}/erase")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Erase Eric Erasable’s personal details")
    expect(page.locator("#not-yet")).to_contain_text("deactivate the account first")
    expect(page.get_by_role("button", name=re.compile("^Erase"))).to_have_count(0)
    assert_accessible(page)

    page.goto(person)
    page.get_by_role("button", name="Deactivate account").click()
    page.get_by_role("button", name="Yes, deactivate Eric Erasable").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Eric Erasable Deactivated")

    page.goto(f"/admin/people/{user_id}/erase")
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("This cannot be undone.")
    expect(page.locator("main")).to_contain_text(f"Their name becomes “Erased person {user_id}” everywhere")
    assert_accessible(page)
    confirm.get_by_role("button", name="Erase Eric Erasable’s personal details").click()

    expect(page).to_have_url(person)
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        f"they now appear as “Erased person {user_id}”")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Erased person {user_id} Erased")
    expect(page.locator("main")).not_to_contain_text(email)
    expect(page.locator("main")).not_to_contain_text("Eric Erasable")

    # The audit log has the erasure, by the admin, about the person now shown by their placeholder.
    page.goto(f"/admin/audit?person_id={user_id}&action=person.erase")
    expect(rows(page)).to_have_count(1)
    assert column(page, 3) == ["Personal details erased"]
    expect(rows(page).first.locator("td").nth(3)).to_contain_text(f"Erased person {user_id}")
