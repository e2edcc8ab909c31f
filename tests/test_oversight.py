"""The lead's oversight report: each figure against a hand-worked fixture, the scope (a lead
never sees another department, on screen or in a download), the downloads matching the page,
access, the htmx region, and a query count that does not grow with the data."""

import csv
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import event, select

from preceptor.extensions import db
from preceptor.models import (
    Allocation,
    AllocationEndReason,
    Meeting,
    MeetingType,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    ProgrammeStatus,
    Role,
)
from preceptor.services.framework import install_default_framework
from preceptor.services.oversight import export_tables, oversight
from preceptor.services.programmes import add_months

from .factories import PASSWORD

TODAY = date.today()
PAGES = ("/lead/oversight", "/lead/oversight.csv", "/lead/oversight.xlsx")


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def sign_off(programme, *keys: str) -> None:
    for milestone in db.session.scalars(select(Milestone).join(MilestoneTemplate).where(
            Milestone.preceptorship_id == programme.id, MilestoneTemplate.key.in_(keys))):
        milestone.status = MilestoneStatus.SIGNED_OFF


def lead_of(make, *departments, email: str = "lead@test.nhs.uk"):
    lead = make.user(Role.EDUCATION_LEAD, email=email)
    lead.lead_departments.extend(departments)
    return lead


@pytest.fixture
def radiology(make):
    """Department A ("CT"): X started 30 days ago with its first milestone signed off; Y paused,
    100 days in, with two signed off; Z completed. Department B ("MRI"): W, waiting, 60 days in.

    Default framework offsets in days: allocated 0 (P1, P3), initial meeting 14 (P3, P5),
    induction 28 (P2), development plan 28 (P3, P5), first review 56 (P2, P4), two reflections
    84 (P1, P3), wellbeing 112 (P1); the rest fall after day 100.
    """
    install_default_framework()
    a, b = make.department("CT"), make.department("MRI")
    preceptor = make.preceptor(a)
    x = make.programme(make.user(Role.PRECEPTEE, name="Xena Ash"), a, days_ago(30), preceptor)
    y = make.programme(make.user(Role.PRECEPTEE, name="Yusuf Birch"), a, days_ago(100), preceptor)
    z = make.programme(make.user(Role.PRECEPTEE, name="Zara Cole"), a, days_ago(200), preceptor)
    w = make.programme(make.user(Role.PRECEPTEE, name="Wendy Dale"), b, days_ago(60))
    sign_off(x, "preceptor-allocated")
    sign_off(y, "preceptor-allocated", "initial-meeting")
    y.status, z.status = ProgrammeStatus.PAUSED, ProgrammeStatus.COMPLETED
    db.session.commit()
    return a, b, x, w


# X's overdue milestones: initial meeting (P3, P5; due 16 days ago), induction (P2) and
# development plan (P3, P5), both due 2 days ago. Y is paused and Z completed: not counted.
A_OVERDUE = ((0, 1, 2, 0, 2), 3)
# Coverage in A over X and Y (Z is not running): per principle (signed off, due so far, all).
# All: 3, 5, 5, 2, 5 milestones per programme under P1..P5, doubled. Due: X has its first
# four, Y its first six. Signed off: X allocated (P1, P3); Y allocated and initial (P1, P3, P3, P5).
A_COVERAGE = ((2, 3, 6), (0, 3, 10), (3, 7, 10), (0, 1, 4), (1, 4, 10))
A_PERCENT = (33, 0, 30, 0, 10)


def test_overdue_by_department_and_principle(radiology):
    a, b, x, w = radiology
    report = oversight(None, TODAY)
    rows = {row.department.name: row for row in report.overdue}
    assert (rows["CT, " + a.site.name].by_principle, rows["CT, " + a.site.name].milestones) == A_OVERDUE
    # W (60 days, nothing signed off): allocated, initial, induction, plan and first review.
    assert (rows["MRI, " + b.site.name].by_principle, rows["MRI, " + b.site.name].milestones) == ((1, 2, 3, 1, 2), 5)
    assert (report.overdue_totals.by_principle, report.overdue_totals.milestones) == ((1, 3, 5, 1, 4), 8)
    longest = [(m.preceptee, m.title, m.days_overdue) for m in oversight([a.id], TODAY).longest_overdue]
    assert longest == [("Xena Ash", "Initial meeting and learning needs analysis", 16),
                       ("Xena Ash", "Local induction completed", 2),
                       ("Xena Ash", "Personal development plan agreed", 2)]


def test_a_milestone_due_today_is_not_yet_overdue(radiology):
    a, *_ = radiology
    two_days_back = oversight([a.id], days_ago(2)).overdue[0]  # induction and plan due that day
    assert (two_days_back.by_principle, two_days_back.milestones) == ((0, 0, 1, 0, 1), 1)


def test_coverage_of_the_principles(radiology):
    a, *_ = radiology
    (row,) = oversight([a.id], TODAY).coverage
    assert tuple((c.signed_off, c.due, c.total) for c in row.cells) == A_COVERAGE
    assert tuple(c.percent for c in row.cells) == A_PERCENT


def test_programmes_without_a_preceptor_longest_waiting_first(make):
    install_default_framework()
    department, preceptor = make.department("General"), make.preceptor()
    one = make.programme(make.user(Role.PRECEPTEE, name="Started 20 days ago"), department, days_ago(20))
    two = make.programme(make.user(Role.PRECEPTEE, name="Preceptor left"), department, days_ago(50))
    db.session.add(Allocation(preceptorship=two, preceptor=preceptor, starts_on=days_ago(50), ends_on=days_ago(5),
                              end_reason=AllocationEndReason.LEFT))
    make.programme(make.user(Role.PRECEPTEE, name="Has a preceptor"), department, days_ago(10), preceptor)
    done = make.programme(make.user(Role.PRECEPTEE, name="Completed"), department, days_ago(400))
    make.programme(make.user(Role.PRECEPTEE, name="Starts next week"), department, TODAY + timedelta(days=7))
    paused = make.programme(make.user(Role.PRECEPTEE, name="Paused"), department, days_ago(30))
    done.status, paused.status = ProgrammeStatus.COMPLETED, ProgrammeStatus.PAUSED
    db.session.commit()
    rows = [(w.preceptee, w.start_date, w.waiting_since, w.days_waiting)
            for w in oversight([department.id], TODAY).without_preceptor]
    assert rows == [("Paused", days_ago(30), days_ago(30), 30),
                    ("Started 20 days ago", days_ago(20), days_ago(20), 20),
                    ("Preceptor left", days_ago(50), days_ago(5), 5),
                    ("Starts next week", TODAY + timedelta(days=7), TODAY + timedelta(days=7), 0)]
    assert one.id in {w.programme_id for w in oversight(None, TODAY).without_preceptor}


def test_meetings_not_held_on_time(make):
    install_default_framework()
    department = make.department("Fluoroscopy")

    def programme(name: str, started: int, *meetings: tuple[MeetingType, int, int | None]):
        p = make.programme(make.user(Role.PRECEPTEE, name=name), department, days_ago(started))
        for kind, booked, held in meetings:
            db.session.add(Meeting(preceptorship=p, meeting_type=kind, scheduled_for=days_ago(booked),
                                   held_on=None if held is None else days_ago(held)))
        return p

    programme("No initial meeting", 30)
    programme("Initial held", 30, (MeetingType.INITIAL, 20, 20))
    programme("Initial booked, missed", 30, (MeetingType.INITIAL, 18, None))
    programme("Ten days in", 10)
    programme("Exactly two weeks in", 14)  # the initial meeting is due today: not late yet
    programme("Review missed", 100, (MeetingType.INITIAL, 90, 90), (MeetingType.TWO_MONTHLY, 3, None),
              (MeetingType.TWO_MONTHLY, -5, None))  # the second is booked for next week
    programme("Paused", 30).status = ProgrammeStatus.PAUSED
    programme("Left", 30).status = ProgrammeStatus.LEFT
    db.session.commit()
    rows = [(m.preceptee, m.meeting, m.due, m.days_late, m.reason.split(" ")[0])
            for m in oversight(None, TODAY).late_meetings]
    # Due dates come from the schedule the preceptor sees: the initial meeting 2 weeks in, the
    # first review 2 months in; a booking only says why it is late.
    review_due = add_months(days_ago(100), 2)
    assert rows == [("Review missed", "Two-monthly review", review_due, (TODAY - review_due).days, "Booked"),
                    ("Initial booked, missed", "Initial meeting", days_ago(16), 16, "Booked"),
                    ("No initial meeting", "Initial meeting", days_ago(16), 16, "Not")]


# --- the pages ----------------------------------------------------------------------------------

def numeric_cells(html: str, department: str) -> list[str]:
    """The numeric cells of each table row naming `department`, table by table, as text."""
    rows = [row for row in html.split('<tr class="nhsuk-table__row">') if department in row.split("</td>")[0]]
    return [re.sub(r"\s+", " ", re.sub(r"<span class=\"nhsuk-table-responsive__heading\">[^<]*</span>|<[^>]+>",
                                       " ", cell)).strip()
            for row in rows for cell in re.findall(r'cell--numeric">(.*?)</td>', row, re.S)]


def csv_tables(body: bytes) -> dict[str, list[list[str]]]:
    text = body.decode("utf-8-sig")
    tables = {}
    for block in text.split("\r\n\r\n"):
        title, *rows = list(csv.reader(io.StringIO(block)))
        tables[title[0]] = rows
    return tables


def test_page_and_downloads_show_the_same_figures(client, make, radiology):
    a, b, *_ = radiology
    lead = lead_of(make, a, b)
    db.session.commit()
    client.sign_in(lead.email, PASSWORD)
    name = f"CT, {a.site.name}"
    html = client.get("/lead/oversight").get_data(as_text=True)
    cells = numeric_cells(html, name)
    overdue, coverage = cells[:6], cells[-5:]
    assert overdue == [str(n) for n in (*A_OVERDUE[0], A_OVERDUE[1])]
    assert coverage == [f"{s} / {d} signed off of due so far, {p}% of {t} signed off"
                        for (s, d, t), p in zip(A_COVERAGE, A_PERCENT, strict=True)]
    assert "How these figures are worked out" in html and "Wendy Dale" in html

    tables = csv_tables(client.get("/lead/oversight.csv").data)
    assert [name, *overdue] in tables["Overdue by principle"][1:]
    assert [row[2:] for row in tables["Principle coverage"] if row[0] == name] == [
        [str(s), str(d), str(t), str(p)] for (s, d, t), p in zip(A_COVERAGE, A_PERCENT, strict=True)]
    assert [row[0] for row in tables["Without a preceptor"][1:]] == ["Wendy Dale"]

    response = client.get("/lead/oversight.xlsx")
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Overdue by principle", "Longest overdue milestones", "Without a preceptor",
                               "Meetings not held on time", "Principle coverage"]
    sheet = [list(row) for row in book["Overdue by principle"].iter_rows(values_only=True)]
    assert [name, *A_OVERDUE[0], A_OVERDUE[1]] in sheet
    assert sheet[-1][0] == "All departments shown" and sheet[-1][-1] == 8
    coverage_sheet = [row[2:] for row in book["Principle coverage"].iter_rows(values_only=True) if row[0] == name]
    assert coverage_sheet == [(s, d, t, p) for (s, d, t), p in zip(A_COVERAGE, A_PERCENT, strict=True)]


def test_a_lead_sees_nothing_of_a_department_outside_their_scope(client, make, radiology):
    a, b, *_ = radiology
    lead = lead_of(make, a)
    db.session.commit()
    client.sign_in(lead.email, PASSWORD)
    for page in PAGES:
        response = client.get(page)
        body = response.data if page.endswith("xlsx") else response.get_data(as_text=True)
        if page.endswith("xlsx"):
            book = openpyxl.load_workbook(io.BytesIO(body))
            body = " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
        assert response.status_code == 200
        assert "MRI" not in body and "Wendy Dale" not in body
        assert "CT" in body and "Xena Ash" in body
        assert client.get(f"{page}?department={b.id}").status_code == 404
    assert client.get("/lead/oversight?department=CT").status_code == 404
    assert 'name="department"' not in client.get("/lead/oversight").get_data(as_text=True)  # one department: no filter


def test_the_department_filter_page_fragment_and_downloads(client, make, radiology):
    a, b, *_ = radiology
    lead = make.user(Role.EDUCATION_LEAD, email="trust@test.nhs.uk", trust_wide=True)
    db.session.commit()
    client.sign_in(lead.email, PASSWORD)
    html = client.get("/lead/oversight").get_data(as_text=True)
    assert 'name="department"' in html and "Xena Ash" in html and "Wendy Dale" in html
    page = client.get(f"/lead/oversight?department={b.id}").get_data(as_text=True)
    assert "<h1>Oversight</h1>" in page and f'value="{b.id}" selected' in page
    assert "Wendy Dale" in page and "Xena Ash" not in page
    assert f"/lead/oversight.csv?department={b.id}" in page
    fragment = client.get(f"/lead/oversight?department={b.id}",
                          headers={"HX-Request": "true", "HX-Target": "oversight"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="oversight">') and "<h1>" not in text and "Wendy Dale" in text
    assert "HX-Target" in fragment.headers["Vary"]
    download = client.get(f"/lead/oversight.csv?department={b.id}")
    assert f"department-{b.id}" in download.headers["Content-Disposition"]
    assert b"Wendy Dale" in download.data and b"Xena Ash" not in download.data


@pytest.mark.parametrize("page", PAGES)
def test_only_education_leads_may_see_oversight(client, make, page):
    preceptor = make.preceptor()
    db.session.commit()
    anonymous = client.get(page)
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    client.sign_in(preceptor.email, PASSWORD)
    assert client.get(page).status_code == 403


# --- speed ------------------------------------------------------------------------------------

def add_department_with_everything(make, preceptor) -> None:
    """A department with an overdue, a paused, a waiting and a late-meeting programme."""
    department = make.department()
    make.programme(department=department, start=days_ago(90), preceptor=preceptor)
    make.programme(department=department, start=days_ago(60)).status = ProgrammeStatus.PAUSED
    late = make.programme(department=department, start=days_ago(40))
    db.session.add(Meeting(preceptorship=late, meeting_type=MeetingType.INITIAL, scheduled_for=days_ago(20)))
    sign_off(late, "preceptor-allocated")


def statements(action) -> int:
    seen = []
    listener = lambda *_: seen.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_report_takes_the_same_queries_for_one_department_or_many(client, make):
    install_default_framework()
    preceptor = make.preceptor()  # in a department of its own, with no programmes
    lead = make.user(Role.EDUCATION_LEAD, email="trust@test.nhs.uk", trust_wide=True)
    add_department_with_everything(make, preceptor)
    db.session.commit()
    client.sign_in(lead.email, PASSWORD)

    def report():
        export_tables(oversight(None, TODAY))

    def pages():
        for page in PAGES:
            assert client.get(page).status_code == 200

    small, small_pages = statements(report), statements(pages)
    for _ in range(5):
        add_department_with_everything(make, preceptor)
    db.session.commit()
    assert statements(report) == small == 9
    assert statements(pages) == small_pages
    figures = oversight(None, TODAY)
    assert (len(figures.overdue), len(figures.without_preceptor), len(figures.late_meetings)) == (7, 12, 18)
