"""The education lead's survey report in Chromium (issue "Survey reporting"): response rates,
answers by department or cohort with small groups suppressed, retention beside them, the
htmx choices swapping the report in place, the same form without JavaScript, the Excel
workbook, and a lead who sees only their own departments; axe-core on each state.

The demo trust is seeded with survey history (preceptor/demo_surveys.py). The module's tests
share one seeded database and only read it.
"""

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from preceptor.demo import demo_password

from .conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

LEAD = "lead@demo.nhs.uk"  # leads every department in the trust
CHORLEY_LEAD = "chorley.lead@demo.nhs.uk"  # leads only the Chorley departments
ALL = "All in your departments"
NOTICE = "Fewer than 5 responses"
WAVES = ["Starting survey", "3-month survey", "6-month survey", "End of programme survey"]


def sign_in(page, then: str, email: str = LEAD) -> None:
    page.goto(f"/sign-in?next={then}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(demo_password())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(then.split("?")[0]) + r"(\?.*)?$"))
    page.wait_for_load_state("load")


def answer_tables(page):
    """The tables of answers at the chosen survey, one per question (captioned by the question)."""
    return page.locator("#survey_report table", has=page.locator("caption.nhsuk-table__caption--s"))


def row_headers(table) -> list[str]:
    return [text.strip() for text in table.locator("tbody th[scope=row]").all_inner_texts()]


def test_report_shows_rates_charts_and_suppressed_groups(page):
    sign_in(page, "/lead/")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Surveys", exact=True).click()
    expect(page).to_have_url(re.compile(r"/lead/surveys$"))
    expect(page.get_by_role("heading", name="Survey results", level=1)).to_be_visible()

    # Response rates: the four surveys in order, each with numbers.
    rates = page.get_by_role("table", name="Response rates by survey")
    expect(rates.locator("tbody tr")).to_have_count(4)
    assert row_headers(rates) == WAVES
    for row in rates.locator("tbody tr").all():
        invited, answered, still_open, rate = (cell.strip() for cell in row.locator("td").all_inner_texts())
        assert re.fullmatch(r"\d+", invited) and int(invited) > 0, row.inner_text()
        assert re.fullmatch(r"\d+", answered) and 0 < int(answered) <= int(invited), row.inner_text()
        assert re.fullmatch(r"\d+", still_open), row.inner_text()
        assert re.fullmatch(r"\d+%", rate), row.inner_text()
        assert abs(int(rate[:-1]) - 100 * int(answered) / int(invited)) <= 0.5 + 1e-9, row.inner_text()

    # The charts are images named by their titles.
    expect(page.get_by_role("img", name="Average answer to each question at each survey")).to_be_visible()
    expect(page.get_by_role("img", name="Retention at 12 and 24 months by department")).to_be_visible()

    # Answers by department: a small department shows the notice in place of every figure;
    # the total row of each question shows its number of responses.
    expect(page.get_by_role("heading", name="Starting survey: answers by department", level=2)).to_be_visible()
    tables = answer_tables(page)
    assert tables.count() >= 5
    suppressed = tables.locator("tbody tr", has=page.locator("td.app-table__suppressed"))
    assert suppressed.count() > 0
    for row in suppressed.all():
        header = row.locator("th").inner_text().strip()
        assert header != ALL and "Hospital" in header, header  # a department, not the total
        expect(row.locator("td")).to_have_count(1)  # one cell spanning every figure column
        expect(row.locator("td")).to_have_text(NOTICE)
    shown_departments = tables.locator("tbody tr", has_not=page.locator("td.app-table__suppressed")).filter(
        has_not_text=ALL)
    assert shown_departments.count() > 0  # suppression hides small groups only
    for table in tables.all():
        total = table.locator("tbody tr", has_text=ALL)
        expect(total).to_have_count(1)
        assert re.fullmatch(r"\d+", total.locator("td").first.inner_text().strip()), total.inner_text()
        assert int(total.locator("td").first.inner_text()) >= 5

    # Retention: the total row has numbers; small departments say so in words.
    retention = page.locator("#retention-table")
    expect(retention.locator("caption")).to_have_text("Retention by department")
    total = retention.locator("tbody tr", has_text=ALL)
    expect(total.locator("td").first).to_have_text(re.compile(r"^\d+$"))
    expect(total.locator("td").nth(1)).to_have_text(re.compile(r"^\d+ \(\d+%\)$"))
    expect(retention.locator("td.app-table__suppressed", has_text="Fewer than 5 people").first).to_be_visible()
    assert_accessible(page)


def test_choices_swap_the_report_in_place(page):
    sign_in(page, "/lead/surveys")
    expect(page.get_by_role("heading", name="Starting survey: answers by department")).to_be_visible()
    page.evaluate("window.__marker = 1")  # lost if the page reloads
    report = page.locator("#survey_report")
    old_report = report.element_handle()

    page.get_by_label("Split by").select_option(label="Cohort")
    expect(page).to_have_url(re.compile(r"[?&]breakdown=cohort(&|$)"))
    expect(page.get_by_role("heading", name="Starting survey: answers by cohort", level=2)).to_be_visible()
    assert page.evaluate("window.__marker") == 1  # no full reload
    assert not old_report.evaluate("node => node.isConnected")  # the region itself was replaced
    expect(page.get_by_role("heading", name="Survey results", level=1)).to_have_count(1)  # not a page in a page
    expect(page.locator("#survey_report")).to_have_count(1)
    retention = page.locator("#retention-table")
    expect(retention.locator("caption")).to_have_text("Retention by cohort")
    expect(page.get_by_role("img", name="Retention at 12 and 24 months by cohort")).to_be_visible()
    cohorts = [header for header in row_headers(retention) if header != ALL]
    assert cohorts, "no cohort rows in the retention table"
    assert all(re.fullmatch(r"\d{4}", cohort) for cohort in cohorts), cohorts
    assert cohorts == sorted(cohorts)
    assert row_headers(retention)[-1] == ALL
    # The downloads follow the choices.
    expect(page.get_by_role("link", name="Excel workbook")).to_have_attribute("href", re.compile(r"breakdown=cohort"))
    assert_accessible(page)

    page.get_by_label("Survey", exact=True).select_option(label="End of programme survey")
    expect(page).to_have_url(re.compile(r"[?&]time_point=month_12(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]breakdown=cohort(&|$)"))
    expect(page.get_by_role("heading", name="End of programme survey: answers by cohort", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="End of programme survey: in their own words")).to_be_visible()
    assert page.evaluate("window.__marker") == 1
    expect(page.get_by_label("Split by")).to_have_value("cohort")
    assert_accessible(page)


def test_choices_without_javascript(new_page):
    page = new_page(java_script_enabled=False)
    sign_in(page, "/lead/surveys")
    expect(page.get_by_role("heading", name="Starting survey: answers by department")).to_be_visible()
    page.get_by_label("Split by").select_option(label="Cohort")
    page.get_by_label("Survey", exact=True).select_option(label="6-month survey")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/lead/surveys\?.*breakdown=cohort"))
    expect(page).to_have_url(re.compile(r"[?&]time_point=month_6(&|$)"))
    expect(page.get_by_role("heading", name="6-month survey: answers by cohort", level=2)).to_be_visible()
    expect(page.locator("#retention-table caption")).to_have_text("Retention by cohort")
    expect(page.get_by_label("Split by")).to_have_value("cohort")  # the form shows the choice it made
    expect(page.get_by_label("Survey", exact=True)).to_have_value("month_6")
    cohorts = [header for header in row_headers(page.locator("#retention-table")) if header != ALL]
    assert cohorts and all(re.fullmatch(r"\d{4}", cohort) for cohort in cohorts), cohorts


def test_excel_workbook_keeps_suppression(new_page):
    page = new_page(accept_downloads=True)
    sign_in(page, "/lead/surveys")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel workbook").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as file:
        workbook = load_workbook(io.BytesIO(file.read()))
    assert {"Response rates", "Retention", "Results, Starting survey"} <= set(workbook.sheetnames)

    rates = list(workbook["Response rates"].iter_rows(values_only=True))
    assert [row[0] for row in rates[1:]] == WAVES
    retention = list(workbook["Retention"].iter_rows(values_only=True))
    assert retention[0][0] == "Department"
    assert retention[-1][0] == ALL and isinstance(retention[-1][1], int)

    header, *rows = list(workbook["Results, Starting survey"].iter_rows(values_only=True))
    assert header[:3] == ("Question", "Department", "Responses")
    hidden = [row for row in rows if row[2] == NOTICE]
    shown = [row for row in rows if isinstance(row[2], int)]
    assert hidden, "no suppressed group in the workbook, though the page has some"
    assert shown, "no group with figures in the workbook"
    for row in hidden:
        numbers = [cell for cell in row if isinstance(cell, int | float)]
        assert not numbers, f"a suppressed row holds numbers: {row}"
    # The workbook hides the same departments as the page.
    page_hidden = set()
    for table in answer_tables(page).all():
        question = table.locator("caption").inner_text().strip()
        for row in table.locator("tbody tr", has=page.locator("td.app-table__suppressed")).all():
            page_hidden.add((question, row.locator("th").inner_text().strip()))
    assert {(row[0], row[1]) for row in hidden} == page_hidden


def test_a_lead_of_some_departments_sees_only_theirs(page):
    sign_in(page, "/lead/surveys", CHORLEY_LEAD)
    expect(page.get_by_role("heading", name="Survey results", level=1)).to_be_visible()
    report = page.locator("#survey_report")
    headers = row_headers(page.locator("#retention-table"))
    assert headers[-1] == ALL
    assert len(headers) >= 2, headers
    for header in headers:
        assert "Chorley" in header or header == ALL, header
    for table in answer_tables(page).all():
        for header in row_headers(table):
            assert "Chorley" in header or header == ALL, header
    expect(report.locator("table", has_text="Royal Preston")).to_have_count(0)
    expect(report).not_to_contain_text("Royal Preston")
    assert_accessible(page)
