"""The education lead's journey in Chromium (issue "Education lead"): the capacity report and its
htmx filters, exports, pairing a waiting demo preceptee, a cohort proposal accepted, a register
change made in place, and axe-core on each lead page.

"Done when": the demo lead can see the capacity report, pair a waiting preceptee, run a cohort
allocation and export, in the browser. The module's tests share one seeded database, so each
reads what is there before acting rather than assuming it.
"""

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

LEAD = "lead@demo.nhs.uk"


def sign_in(page, then: str) -> None:
    page.goto(f"/sign-in?next={then}")
    page.locator("#email").fill(LEAD)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(then.split("?")[0]) + r"(\?.*)?$"))
    page.wait_for_load_state("load")


def figure(page, text: str) -> int:
    """The number in the summary figure that mentions `text`."""
    item = page.locator(".app-summary-figures li", has_text=text)
    return int(item.locator("strong").inner_text())


def test_capacity_report_filters_in_place_and_exports(new_page):
    page = new_page(accept_downloads=True)
    sign_in(page, "/lead/")
    expect(page.get_by_role("heading", name="Preceptor capacity", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Capacity against load by department")).to_be_visible()
    assert_accessible(page)
    departments = page.locator("#capacity-table tbody").first.locator("tr").count()
    assert departments > 1
    # htmx: choosing a profession swaps the report in place and puts the filter in the address.
    page.get_by_label("Profession").select_option("therapeutic")
    expect(page).to_have_url(re.compile(r"profession=therapeutic"))
    expect(page.locator("#capacity-table tbody").first.locator("tr")).not_to_have_count(departments)
    for row in page.locator("#capacity-table tbody").first.locator("th").all():
        expect(row).to_contain_text("Therapeutic radiography")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel workbook").click()
    with open(download.value.path(), "rb") as file:
        workbook = load_workbook(io.BytesIO(file.read()))
    names = [row[0] for row in workbook["Capacity"].iter_rows(min_row=2, values_only=True)]
    shown = page.locator("#capacity-table tbody").first.locator("th a").all_inner_texts()
    assert [name.split(",")[0] for name in shown] == names[:len(shown)]
    # Drill into a department.
    page.locator("#capacity-table tbody").first.locator("th a").first.click()
    expect(page.get_by_role("heading", name="Preceptors", exact=True)).to_be_visible()
    assert_accessible(page)


def test_capacity_report_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    sign_in(page, "/lead/")
    page.get_by_label("Sort by").select_option("waiting")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"sort=waiting"))
    rows = page.locator("#capacity-table tbody").first.locator("tr")
    waits = [int(rows.nth(n).locator("td").nth(5).inner_text()) for n in range(rows.count())]
    assert waits == sorted(waits, reverse=True)


def test_pairing_a_waiting_demo_preceptee(page):
    sign_in(page, "/lead/")
    waiting_before = figure(page, "waiting for a preceptor")
    assert waiting_before > 0
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=re.compile(r"^Waiting")).click()
    assert_accessible(page)
    first = page.locator("table").first.locator("tbody tr").first
    name = first.locator("th").inner_text().split("\n")[0].strip()
    first.get_by_role("link", name=re.compile("Find a preceptor")).click()
    expect(page.get_by_role("heading", name=f"Find a preceptor for {name}")).to_be_visible()
    assert_accessible(page)
    # Allocating without choosing: the error is by the field and in the summary.
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose a preceptor")
    assert_accessible(page)
    choice = page.locator(".nhsuk-radios__item").first
    preceptor = choice.locator("label").inner_text().strip()
    choice.locator("input").check()
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"{preceptor} is now {name}'s preceptor")
    page.goto("/lead/")
    assert figure(page, "waiting for a preceptor") == waiting_before - 1


def test_cohort_allocation(page):
    sign_in(page, "/lead/cohort")
    page.get_by_role("button", name="Make a proposal").click()
    expect(page.get_by_role("heading", name="Proposal")).to_be_visible()
    assert_accessible(page)
    boxes = page.locator("input[name=pairs]")
    proposed = boxes.count()
    assert proposed >= 2
    boxes.first.uncheck()
    page.get_by_role("button", name="Accept ticked pairings").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        f"{proposed - 1} preceptees are now paired" if proposed - 1 != 1 else "1 preceptee is now paired")
    page.goto("/lead/cohort?propose=1")
    expect(page.locator("input[name=pairs]")).to_have_count(1)


def test_register_change_in_place(page):
    sign_in(page, "/lead/register")
    assert_accessible(page)
    row = page.locator("tbody tr", has_text="Not trained").first
    row_id = row.get_attribute("id")
    row.get_by_role("link", name=re.compile("Change")).click()
    form_row = page.locator(f"#{row_id}")
    expect(form_row.get_by_role("button", name="Save")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/lead/register$"))  # still the register: the row became the form
    form_row.get_by_label("Cap (optional)").fill("9")
    form_row.get_by_role("button", name="Save").click()
    expect(form_row.locator(".nhsuk-error-message")).to_contain_text("Cap must be a whole number from 0 to 6")
    assert_accessible(page)
    form_row.get_by_label("Cap (optional)").fill("3")
    form_row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#{row_id}")).to_contain_text("Saved")
    expect(page.locator(f"#{row_id}")).to_contain_text("/ 3")


SAMPLE = Path(__file__).resolve().parent.parent / "data" / "esr_starters_sample.csv"


def test_new_starters_from_the_esr_extract(page, tmp_path):
    sign_in(page, "/lead/starters")
    assert_accessible(page)
    # A file with a bad row: every problem is listed and nothing can be imported.
    bad = tmp_path / "bad.csv"
    bad_row = "1,Dee Late,dee@nhs.net,,Royal Preston Hospital,CT,31/02/2026,,\n"
    bad.write_text(SAMPLE.read_text(encoding="utf-8") + bad_row, encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="Rows with problems")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Import \d+ starter"))).to_have_count(0)
    assert_accessible(page)
    # The clean extract: preview, then import.
    page.goto("/lead/starters")
    page.locator("input[type=file]").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="Check the new starters")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=re.compile(r"^Import \d+ starter")).click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("imported, 0 already there")


def test_oversight_page(page):
    sign_in(page, "/lead/oversight")
    expect(page.get_by_role("heading", name="Programmes without a preceptor")).to_be_visible()
    assert_accessible(page)
