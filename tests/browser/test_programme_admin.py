"""Programme administration in Chromium: the demo lead opens a programme from a department's
capacity page, pauses it, resumes it and extends it (a refused date first, shown beside the
field); then finds it in the programme list, searched in place with htmx. axe-core checks the
list, the programme page and its forms."""

import re
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible
from .test_invitation import answered_with

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

LEAD = "lead@demo.nhs.uk"


def sign_in(page, then: str) -> None:
    page.goto(f"/sign-in?next={then}")
    page.locator("#email").fill(LEAD)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(then) + r"(\?.*)?$"))
    page.wait_for_load_state("load")


def summary(page, key: str):
    return page.locator(".nhsuk-summary-list__row", has_text=key).locator(".nhsuk-summary-list__value")


def fill_date(page, legend: str, day: date) -> None:
    group = page.locator("fieldset", has_text=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_a_lead_pauses_resumes_and_extends_a_programme(page, request):
    today = date.today()
    sign_in(page, "/lead/")
    page.locator("#capacity-table tbody").first.get_by_role("link", name=re.compile(r"^CT, Royal Preston")).click()
    expect(page.get_by_role("heading", name="Preceptees and their preceptors")).to_be_visible()
    row = page.locator("table", has=page.locator("caption", has_text="with a preceptor")).locator(
        "tbody tr", has_text=re.compile(r"Active, from")).first
    name = row.locator("th").inner_text().strip()
    row.get_by_role("link", name=name, exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(summary(page, "Status")).to_have_text("Active")
    assert_accessible(page)

    # Pause from today.
    page.get_by_role("link", name="Pause the programme").click()
    expect(page.get_by_role("heading", name="Pause the programme")).to_be_visible()
    assert_accessible(page)
    fill_date(page, "Paused from", today)
    page.get_by_label("Reason").fill("Sickness absence")
    page.get_by_role("button", name="Pause the programme").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"{name}'s programme is paused from")
    expect(summary(page, "Status")).to_have_text("Paused")
    history = page.locator("#status-history tbody tr").first
    expect(history).to_contain_text("Active to paused")
    expect(history).to_contain_text("Sickness absence")
    expect(history).to_contain_text("Rachel Lead")
    planned_end = datetime.strptime(summary(page, "Planned end").inner_text().strip(), "%d %B %Y").date()

    # Resume today: no days paused, so nothing moves.
    page.get_by_role("link", name="Resume the programme").click()
    fill_date(page, "Resumed on", today)
    page.get_by_label("Reason").fill("Back at work")
    page.get_by_role("button", name="Resume the programme").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("moved 0 days later")
    expect(summary(page, "Status")).to_have_text("Active")

    # Extend: a new end before the current one is refused beside the field, the reason kept.
    page.get_by_role("link", name="Extend the programme").click()
    fill_date(page, "New planned end", planned_end - timedelta(days=1))
    page.get_by_label("Reason").fill("More supported practice")
    page.get_by_role("button", name="Extend the programme").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("must be after the current one")
    expect(page.locator(".nhsuk-date-input").locator("..").locator(".nhsuk-error-message")).to_contain_text(
        "must be after the current one")
    expect(page.get_by_label("Reason")).to_have_value("More supported practice")
    answered_with(request, 400, "POST", page.url.split("?")[0].split("#")[0])
    assert_accessible(page)
    new_end = planned_end + timedelta(days=61)
    fill_date(page, "New planned end", new_end)
    page.get_by_role("button", name="Extend the programme").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"extended to {new_end.day} {new_end:%B %Y}")
    expect(summary(page, "Status")).to_have_text("Extended")
    expect(summary(page, "Planned end")).to_have_text(f"{new_end.day} {new_end:%B %Y}")
    expect(page.locator("#status-history tbody tr").first).to_contain_text("Active to extended")
    assert_accessible(page)

    # The list finds it, swapped in place.
    page.goto("/lead/programmes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Programmes")
    page.wait_for_load_state("load")  # htmx has taken the form over
    assert_accessible(page)
    page.evaluate("window.__marker = 'still here'")
    page.get_by_label("Preceptee’s name or email").fill(name)
    page.get_by_label("Preceptee’s name or email").press("Enter")
    rows = page.locator("#programme_results #programmes-table tbody tr")
    expect(rows.filter(has_text=name)).to_have_count(1)
    expect(rows.filter(has_text=name).locator("td").last).to_have_text("Extended")
    assert page.evaluate("window.__marker") == "still here"
    page.get_by_label("Status").select_option("paused")
    expect(page).to_have_url(re.compile(r"status=paused"))
    expect(page.locator("#programme_results")).to_contain_text("0 programmes matching")
    assert_accessible(page)
