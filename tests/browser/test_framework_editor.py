"""The milestone framework editor in Chromium: an administrator reads the framework, is refused
a milestone without a principle, saves a new version and sees it in the history, looks at
retiring, and creates a modality checklist with a milestone in it; then an education lead
filters the programmes still on the old version in place with htmx and applies the change
to one of them. axe-core checks every page of the editor, including the refused form.

The module's tests share one seeded demo trust (`live_server`).
"""

import re

import pytest
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible
from .test_invitation import answered_with
from .test_sign_in import url_is

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]


def sign_in(page, email: str, then: str) -> None:
    page.goto(f"/sign-in?next={then}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(then) + r"(\?.*)?$"))
    page.wait_for_load_state("load")


def test_admin_edits_a_milestone_and_a_lead_applies_it(request, new_page, live_server):
    admin = new_page()
    sign_in(admin, "admin@demo.nhs.uk", "/admin/framework")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Milestone framework")
    wellbeing = admin.locator("#milestone-wellbeing")
    expect(wellbeing).to_contain_text("Wellbeing conversation")
    expect(wellbeing).to_contain_text("16 weeks after the start")
    expect(admin.get_by_role("heading", name="The HCPC principles for preceptorship")).to_be_visible()
    assert_accessible(admin)

    wellbeing.get_by_role("link", name="Wellbeing conversation").click()
    expect(admin).to_have_url(url_is(live_server, "/admin/framework/milestones/wellbeing"))
    expect(admin.locator("h1")).to_have_text("Wellbeing conversation")
    assert_accessible(admin)
    admin.get_by_role("button", name="Retire this milestone").click()
    expect(admin.get_by_role("heading", name="Retire “Wellbeing conversation”?")).to_be_visible()
    assert_accessible(admin)
    admin.get_by_role("link", name="No, keep it").click()

    admin.get_by_role("button", name="Change this milestone").click()
    expect(admin).to_have_url(url_is(live_server, "/admin/framework/milestones/wellbeing/edit"))
    assert_accessible(admin)
    admin.get_by_label("Title").fill("Wellbeing check-in")
    admin.get_by_label("1. Organisational culture and preceptorship").uncheck()
    admin.get_by_role("button", name="Save changes").click()
    summary = admin.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Choose at least one HCPC principle")
    expect(admin.get_by_label("Title")).to_have_value("Wellbeing check-in")  # what was typed is kept
    answered_with(request, 400, "POST", live_server + "/admin/framework/milestones/wellbeing/edit")
    assert_accessible(admin)
    summary.get_by_role("link", name="Choose at least one HCPC principle").click()
    expect(admin.get_by_label("1. Organisational culture and preceptorship")).to_be_focused()

    admin.get_by_label("1. Organisational culture and preceptorship").check()
    admin.get_by_label("4. Preceptor role").check()
    admin.get_by_label("Due", exact=True).fill("18")
    admin.get_by_role("button", name="Save changes").click()
    expect(admin).to_have_url(url_is(live_server, "/admin/framework/milestones/wellbeing"))
    expect(admin.locator(".nhsuk-notification-banner")).to_contain_text("Version 2 of “Wellbeing check-in” is saved")
    history = admin.locator("table").last
    expect(history).to_contain_text("Version 2 saved")
    expect(history).to_contain_text("Title: “Wellbeing conversation” to “Wellbeing check-in”")
    expect(history).to_contain_text("Due: 16 weeks after the start to 18 weeks after the start")
    expect(history).to_contain_text("HCPC principles: 1 to 1, 4")
    assert_accessible(admin)

    admin.goto("/admin/framework")
    admin.get_by_role("button", name="Modality checklists").click()
    expect(admin.locator("h1")).to_have_text("Modality checklists")
    assert_accessible(admin)
    admin.get_by_label("Name").fill("Fluoroscopy and theatres")
    admin.get_by_role("button", name="Create checklist").click()
    expect(admin.locator("h1")).to_contain_text("Fluoroscopy and theatres")
    assert_accessible(admin)
    admin.get_by_role("link", name="Add a milestone to this checklist").click()
    expect(admin.get_by_label("Modality checklist")).to_have_value(re.compile(r"^\d+$"))
    assert_accessible(admin)
    admin.get_by_label("Title").fill("Theatre radiation protection")
    admin.get_by_label("Due", exact=True).fill("10")
    admin.get_by_label("2. Quality and oversight of preceptorship").check()
    admin.get_by_role("button", name="Add milestone").click()
    expect(admin.locator(".nhsuk-notification-banner")).to_contain_text("“Theatre radiation protection” is added")
    admin.goto("/admin/framework")
    expect(admin.get_by_role("heading", name="Checklist: Fluoroscopy and theatres")).to_be_visible()

    lead = new_page()
    sign_in(lead, "lead@demo.nhs.uk", "/admin/framework")
    expect(lead.get_by_role("button", name="Add a milestone")).to_have_count(0)  # leads read, admins change
    lead.get_by_role("link", name="Review and apply the changes").click()
    expect(lead).to_have_url(url_is(live_server, "/admin/framework/apply"))
    results = lead.locator("#outdated_results")
    expect(results.locator("#outdated-table tbody tr").first).to_be_visible()
    assert_accessible(lead)

    department = results.locator("#outdated-table tbody tr").first.locator("td").first.inner_text()
    lead.evaluate("window.__marker = 'still here'")
    lead.get_by_label("Department").select_option(label=department)
    expect(lead).to_have_url(re.compile(r"/admin/framework/apply\?department=\d+$"))
    rows = results.locator("#outdated-table tbody tr")
    expect(rows.first.locator("td").first).to_have_text(department)
    assert lead.evaluate("window.__marker") == "still here"  # swapped in place, not reloaded
    before = rows.count()
    assert all(rows.nth(i).locator("td").first.inner_text() == department for i in range(before))
    assert_accessible(lead)

    preceptee = rows.first.locator("th a").inner_text().split(":")[0].strip()
    rows.first.locator("th a").click()
    expect(lead.locator("h1")).to_have_text("Apply framework changes")
    expect(lead.locator(".nhsuk-caption-l")).to_contain_text(preceptee)
    moves = lead.locator("#moves-table")
    expect(moves).to_contain_text("Wellbeing check-in")
    expect(moves).to_contain_text("was “Wellbeing conversation”")
    expect(moves).to_contain_text("1 to 2")
    assert_accessible(lead)
    lead.get_by_role("button", name="Apply these changes").click()
    expect(lead).to_have_url(url_is(live_server, "/admin/framework/apply"))
    expect(lead.locator(".nhsuk-notification-banner")).to_contain_text(
        f"{preceptee}’s programme now follows the current framework")
    lead.get_by_label("Department").select_option(label=department)
    expect(lead.locator("#outdated_results")).not_to_contain_text(preceptee)
    if before > 1:
        expect(lead.locator("#outdated-table tbody tr")).to_have_count(before - 1)
