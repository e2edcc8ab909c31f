"""The administrator's departments and sites in Chromium: adding a site and a department, a
duplicate name refused beside its field, setting the new department's defaults, adding a
learning needs area in place with htmx, and merging a demo department into it through the
preview. axe-core checks every page on the way.

The demo trust has no modality checklists, so this module serves its own copy of the demo
with two added (the shared `live_server` is replaced here, for this module only).
"""

import re

import pytest
from playwright.sync_api import expect

from preceptor import create_app
from preceptor.demo import demo_password, seed_demo
from preceptor.extensions import db
from preceptor.models import Checklist
from tests.conftest import config_for

from .conftest import assert_accessible, serving
from .test_invitation import answered_with

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

ADMIN = "admin@demo.nhs.uk"
PRESTON = "Royal Preston Hospital"


@pytest.fixture(scope="module")
def live_server(databases):
    """The demo trust with two modality checklists, served on 127.0.0.1."""
    app = create_app(config_for(databases.fresh()))
    with app.app_context():
        seed_demo()
        db.session.add_all([Checklist(name="Interventional procedures"), Checklist(name="Fluoroscopy")])
        db.session.commit()
        db.session.remove()
    try:
        with serving(app) as url:
            yield url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def sign_in(page) -> None:
    page.goto("/sign-in?next=/admin/departments")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Departments and sites")


def banner(page):
    return page.locator(".nhsuk-notification-banner")


def summary_value(page, key: str):
    return page.locator(".nhsuk-summary-list__row", has_text=key).locator(".nhsuk-summary-list__value")


def test_an_admin_adds_a_department_sets_its_defaults_and_merges_another_into_it(request, page, live_server):
    sign_in(page)
    fluoroscopy = page.locator("tr", has=page.get_by_role("link", name="Fluoroscopy and theatres", exact=True)).first
    expect(fluoroscopy.locator("td").nth(3)).not_to_have_text("0")  # it has running programmes to move
    assert_accessible(page)

    # A site of its own, then back.
    page.get_by_role("button", name="Add a site").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a site")
    assert_accessible(page)
    page.get_by_label("Name").fill("Preston Community Diagnostic Centre")
    page.get_by_role("button", name="Add site").click()
    expect(banner(page)).to_contain_text("Preston Community Diagnostic Centre is added.")
    expect(page.get_by_role("heading", level=2, name="Preston Community Diagnostic Centre")).to_be_visible()
    page.get_by_role("link", name="Rename or archive Preston Community Diagnostic Centre").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Preston Community Diagnostic Centre")
    expect(page.get_by_text("All its departments are archived, so the site can be archived too.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Back to departments and sites").click()

    # A department whose name Royal Preston already has, in another case, is refused by its field.
    page.get_by_role("button", name="Add a department").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a department")
    assert_accessible(page)
    page.get_by_label("Site").select_option(label=PRESTON)
    page.get_by_label("Name").fill("ct")
    page.get_by_label("Diagnostic radiography").check()
    page.get_by_role("button", name="Add department").click()
    expect(page).to_have_title(re.compile(r"^Error: Add a department"))
    expect(page.locator("#name-error")).to_contain_text(f"{PRESTON} already has a department called CT")
    expect(page.get_by_label("Name")).to_have_value("ct")
    expect(page.get_by_label("Site")).to_have_value(re.compile(r"\d+"))
    answered_with(request, 400, "POST", live_server + "/admin/departments/new")
    assert_accessible(page)

    page.get_by_label("Name").fill("Interventional radiology")
    page.get_by_role("button", name="Add department").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Interventional radiology")
    expect(banner(page)).to_contain_text("Interventional radiology, Royal Preston Hospital is added.")
    expect(summary_value(page, "Preceptor cap")).to_have_text("Trust default (2)")
    department = page.url
    assert_accessible(page)

    # Its defaults.
    page.get_by_label("Preceptor cap (optional)").fill("3")
    page.get_by_label("Preceptee protected time, hours a year (optional)").fill("37.5")
    page.get_by_label("Interventional procedures").check()
    page.get_by_role("button", name="Save defaults").click()
    expect(banner(page)).to_contain_text("Interventional radiology, Royal Preston Hospital’s defaults are saved.")
    expect(summary_value(page, "Preceptor cap")).to_have_text("3")
    expect(summary_value(page, "Preceptee protected time")).to_have_text("37.5 hours a year")
    expect(page.get_by_label("Interventional procedures")).to_be_checked()
    expect(page.get_by_label("Fluoroscopy", exact=True)).not_to_be_checked()

    # A learning needs area, added in place.
    page.evaluate("window.__marker = 'still here'")
    page.get_by_label("Learning needs area").fill("Vascular access and closure")
    page.get_by_role("button", name="Add area").click()
    areas = page.locator("#learning_need_areas")
    expect(areas).to_contain_text("“Vascular access and closure” is added to Interventional radiology’s")
    expect(areas.locator("#own-areas")).to_contain_text("Vascular access and closure")
    expect(page.get_by_label("Learning needs area")).to_have_value("")
    assert page.evaluate("window.__marker") == "still here"
    assert_accessible(page)
    areas.get_by_role("link", name="Rename Vascular access and closure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rename a learning needs area")
    assert_accessible(page)
    page.get_by_label("Learning needs area").fill("Vascular access")
    page.get_by_role("button", name="Save area").click()
    expect(page.locator("#own-areas")).to_contain_text("Vascular access")
    expect(page.locator("#own-areas")).not_to_contain_text("closure")

    # Merge Fluoroscopy and theatres into it, through the preview.
    page.goto("/admin/departments")
    page.get_by_role("link", name="Fluoroscopy and theatres", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fluoroscopy and theatres")
    running = summary_value(page, "Running programmes").inner_text().strip()
    assert int(running) > 0
    page.get_by_role("button", name="Merge Fluoroscopy and theatres into another department").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge into another department")
    assert_accessible(page)
    page.get_by_label("Merge it into").select_option(label=f"Interventional radiology, {PRESTON}")
    page.get_by_role("button", name="Preview the merge").click()
    preview = page.locator("#merge-preview")
    expect(preview).to_be_visible()
    programmes = preview.locator("tr", has_text="Programmes, running and finished").locator("td").first
    assert int(programmes.inner_text()) >= int(running)
    expect(preview.locator("tr", has_text="Preceptors and other staff on its register").locator("td").first
           ).not_to_have_text("0")
    assert_accessible(page)
    page.get_by_role("button", name=f"Merge Fluoroscopy and theatres into Interventional radiology, {PRESTON}").click()

    expect(page).to_have_url(department)
    expect(banner(page)).to_contain_text(
        f"Fluoroscopy and theatres, {PRESTON} is merged into Interventional radiology, {PRESTON}")
    expect(summary_value(page, "Running programmes")).to_have_text(running)
    assert_accessible(page)

    # The merged department is archived, listed apart, and names its successor.
    page.goto("/admin/departments")
    archived = page.locator("#archived-departments-table")
    expect(archived).to_contain_text("Fluoroscopy and theatres")
    expect(archived).to_contain_text(f"Merged into Interventional radiology, {PRESTON}")
    assert_accessible(page)
