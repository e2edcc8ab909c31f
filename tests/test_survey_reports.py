"""The lead's survey report: suppression at the threshold edges and through subtraction, answers
from every version counted together, free text only for big enough groups, retention arithmetic,
scope, access, and exports that suppress exactly as the page does."""

import csv
import io
import secrets
from datetime import date, timedelta

import pytest

from preceptor.extensions import db
from preceptor.models import (
    ProgrammeStatus,
    Role,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
    TimePoint,
)
from preceptor.services.programmes import add_months
from preceptor.services.survey_library import install_default_surveys
from preceptor.services.survey_reports import survey_report
from preceptor.services.survey_waves import current_template

from .factories import PASSWORD

TODAY = date.today()


@pytest.fixture
def template(app):
    install_default_surveys()
    db.session.flush()
    return current_template()


def respond(template, department, values: list[int], *, wave=TimePoint.BASELINE, cohort="2025-09",
            code="confidence", text: str | None = None) -> None:
    """One response per value: `value` to the question `code` (and `text` to the first free-text one)."""
    question = next(q for q in template.questions if q.code == code)
    free = next(q for q in template.questions if q.code == "helped_most")
    for value in values:
        response = SurveyResponse(id=secrets.token_hex(16), template_id=template.id, time_point=wave,
                                  department_id=department.id, cohort=cohort)
        db.session.add(response)
        db.session.flush()
        db.session.add(SurveyAnswer(response_id=response.id, question_id=question.id, value_int=value))
        if text:
            db.session.add(SurveyAnswer(response_id=response.id, question_id=free.id, value_text=f"{text} {value}"))
    db.session.flush()


def confidence(report):
    return next(q for q in report.questions if q.code == "confidence")


def shown(report) -> dict[str, int | None]:
    """Department name → responses shown (None: suppressed)."""
    return {group.label.split(",")[0]: (None if cell.hidden else cell.n) for group, cell in confidence(report).rows}


@pytest.mark.parametrize(("responses", "hidden"), [(4, True), (5, False), (6, False)])
def test_a_group_is_shown_from_the_threshold(template, make, responses, hidden):
    only = make.department("CT")
    respond(template, only, [4] * responses)
    question = confidence(survey_report(None, TODAY))
    assert question.rows[0][1].hidden is hidden
    assert question.total.hidden is hidden  # the total is that one group
    assert question.total.n == responses


def test_a_small_group_cannot_be_worked_out_from_the_total(template, make):
    small, big = make.department("CT"), make.department("MRI")
    respond(template, small, [1, 1, 1, 1])
    respond(template, big, [5] * 10)
    report = survey_report(None, TODAY)
    assert shown(report) == {"CT": None, "MRI": None}  # MRI's 10 would give CT's 4 away: total 14 is shown
    assert confidence(report).total.n == 14 and not confidence(report).total.hidden


def test_hidden_siblings_together_reach_the_threshold(template, make):
    four, five, six = make.department("CT"), make.department("MRI"), make.department("X-ray")
    respond(template, four, [2] * 4)
    respond(template, five, [3] * 5)
    respond(template, six, [4] * 6)
    assert shown(survey_report(None, TODAY)) == {"CT": None, "MRI": None, "X-ray": 6}


def test_a_total_below_the_threshold_is_hidden_with_every_group(template, make):
    respond(template, make.department("CT"), [2, 3])
    respond(template, make.department("MRI"), [4])
    question = confidence(survey_report(None, TODAY))
    assert question.total.hidden and all(cell.hidden for _, cell in question.rows)


def test_distribution_mean_and_change_from_baseline(template, make):
    department = make.department("CT")
    respond(template, department, [1, 2, 3, 4, 5, 5])
    respond(template, department, [4, 4, 5, 5, 5], wave=TimePoint.MONTH_12)
    question = confidence(survey_report(None, TODAY))
    total = question.total
    assert total.counts == {1: 1, 2: 1, 3: 1, 4: 1, 5: 2}
    assert total.share(5) == pytest.approx(2 / 6) and total.mean == pytest.approx(20 / 6)
    assert question.change == pytest.approx(23 / 5 - 20 / 6)


def test_answers_to_every_version_count_together(template, make):
    department = make.department("CT")
    respond(template, department, [2, 2, 2])
    newer = SurveyTemplate(key=template.key, version=2, current=True, name=template.name, purpose=template.purpose,
                           questions=[SurveyQuestion(position=0, code="confidence", text="I am confident at work.",
                                                     qtype=template.questions[0].qtype),
                                      SurveyQuestion(position=1, code="helped_most", text="What helped?",
                                                     qtype=template.questions[-1].qtype, required=False)])
    template.current = False
    db.session.add(newer)
    db.session.flush()
    respond(newer, department, [4, 4, 4])
    question = confidence(survey_report(None, TODAY))
    assert question.total.n == 6 and question.total.mean == pytest.approx(3)
    assert question.text == "I am confident at work."  # as the newest version asks it


def test_free_text_only_when_the_wave_has_enough_responses_and_in_no_order_of_arrival(template, make):
    department = make.department("CT")
    respond(template, department, [5, 1, 3, 2], text="Answer")
    report = survey_report(None, TODAY)
    assert report.free_text_hidden and report.free_text == []
    respond(template, department, [4], text="Answer")
    report = survey_report(None, TODAY)
    assert not report.free_text_hidden
    assert report.free_text == [("What has helped you most so far?",
                                 ["Answer 1", "Answer 2", "Answer 3", "Answer 4", "Answer 5"])]


def test_cohorts_by_year_and_by_month(template, make):
    department = make.department("CT")
    respond(template, department, [3] * 5, cohort="2024-09")
    respond(template, department, [4] * 5, cohort="2024-03")
    by_year = confidence(survey_report(None, TODAY, breakdown="cohort"))
    assert [(group.label, cell.n) for group, cell in by_year.rows] == [("2024", 10)]
    by_month = confidence(survey_report(None, TODAY, breakdown="cohort", cohort_span="month"))
    assert [(group.label, cell.n) for group, cell in by_month.rows] == [("2024-03", 5), ("2024-09", 5)]


def leave(programme, after_months: int) -> None:
    programme.status = ProgrammeStatus.LEFT
    programme.ended_on = add_months(programme.start_date, after_months)


def test_retention_at_12_and_24_months(template, make):
    department = make.department("CT")
    long_ago = [make.programme(department=department, start=add_months(TODAY, -30)) for _ in range(6)]
    leave(long_ago[0], 6)    # gone before 12 months
    leave(long_ago[1], 18)   # stayed 12, gone before 24
    long_ago[2].status = ProgrammeStatus.COMPLETED
    year_ago = [make.programme(department=department, start=add_months(TODAY, -13)) for _ in range(5)]
    leave(year_ago[0], 11)
    leave(year_ago[1], 12)   # on the anniversary: stayed the 12 months
    make.programme(department=department, start=add_months(TODAY, -2))  # too recent for either
    db.session.flush()
    row = survey_report(None, TODAY).retention[0]
    assert (row.at[12].started, row.at[12].stayed) == (11, 9)
    assert (row.at[24].started, row.at[24].stayed) == (6, 4)
    total = survey_report(None, TODAY).retention[-1]
    assert total.group.label == "All in your departments" and total.at[12].stayed == 9


def test_retention_of_a_small_department_is_suppressed_with_its_sibling(template, make):
    small, big = make.department("CT"), make.department("MRI")
    for department, count in ((small, 3), (big, 8)):
        for _ in range(count):
            make.programme(department=department, start=add_months(TODAY, -13))
    db.session.flush()
    rows = {row.group.label.split(",")[0]: row.at[12] for row in survey_report(None, TODAY).retention}
    assert rows["CT"].hidden and rows["MRI"].hidden and not rows["All in your departments"].hidden


def test_response_rates_per_wave(template, make):
    department = make.department("CT")
    for n in range(6):
        programme = make.programme(department=department, start=TODAY - timedelta(days=5))
        db.session.add(SurveyInvitation(preceptorship_id=programme.id, template_id=template.id,
                                        time_point=TimePoint.BASELINE, opens_on=TODAY - timedelta(days=5),
                                        closes_on=TODAY + timedelta(days=9),
                                        answered_on=TODAY if n < 5 else None))
    db.session.flush()
    rate = survey_report(None, TODAY).rates[0]
    assert (rate.time_point, rate.invited, rate.answered, rate.still_open, rate.hidden) == (
        TimePoint.BASELINE, 6, 5, 1, False)
    assert rate.rate == pytest.approx(5 / 6)


def test_a_lead_sees_only_their_departments(template, make):
    mine, theirs = make.department("CT"), make.department("MRI")
    respond(template, mine, [4] * 5)
    respond(template, theirs, [1] * 7)
    question = confidence(survey_report([mine.id], TODAY))
    assert question.total.n == 5 and [group.label.split(",")[0] for group, _ in question.rows] == ["CT"]


@pytest.fixture
def lead_client(client, make, template):
    mine, theirs = make.department("CT"), make.department("Elsewhere MRI")
    lead = make.user(Role.EDUCATION_LEAD, email="lead@test.nhs.uk")
    lead.lead_departments.append(mine)
    respond(template, mine, [4] * 4)
    respond(template, theirs, [1] * 9, text="Secret")
    db.session.commit()
    client.sign_in("lead@test.nhs.uk", PASSWORD)
    return client


def test_the_page_shows_notices_not_figures_and_nothing_outside_scope(lead_client):
    page = lead_client.get("/lead/surveys")
    assert page.status_code == 200
    assert "Fewer than 5 responses" in page.text
    assert "Elsewhere MRI" not in page.text and "Secret" not in page.text
    fragment = lead_client.get("/lead/surveys?breakdown=cohort", headers={"HX-Request": "true",
                                                                         "HX-Target": "survey_report"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="survey_report"' in fragment.text
    tampered = lead_client.get("/lead/surveys?breakdown=%3Cscript%3E&time_point=never&cohort=1")
    assert tampered.status_code == 200 and "<script>" not in tampered.text


def test_the_csv_suppresses_as_the_page_does(lead_client):
    body = lead_client.get("/lead/surveys.csv").data.decode("utf-8-sig")
    rows = [row for row in csv.reader(io.StringIO(body)) if row and row[0] == "I feel confident in my role."]
    assert len(rows) >= 8  # results, by survey, and change
    # The 4 answers in scope give no figure anywhere: only notices, blanks and waves with none.
    assert {cell for row in rows for cell in row[2:]} <= {"Fewer than 5 responses", "", "0"}
    assert any(row[2] == "Fewer than 5 responses" for row in rows)
    assert "Elsewhere" not in body and "Secret" not in body


@pytest.mark.parametrize("role", [Role.PRECEPTOR, Role.PRECEPTEE, Role.ADMIN])
def test_only_leads_see_the_report(client, make, role, template):
    make.user(role, email="someone@test.nhs.uk")
    db.session.commit()
    client.sign_in("someone@test.nhs.uk", PASSWORD)
    for path in ("/lead/surveys", "/lead/surveys.csv", "/lead/surveys.xlsx"):
        assert client.get(path).status_code == 403


def test_signed_out_goes_to_sign_in(client):
    assert client.get("/lead/surveys").status_code == 302


def test_answers_cannot_be_joined_to_a_person():
    """Structural: nothing in a response or answer refers to a user, programme or invitation,
    except `about_preceptor_id`, which only the preceptor-feedback form sets."""
    for table in (SurveyResponse.__table__, SurveyAnswer.__table__):
        targets = {key.column.table.name for column in table.columns for key in column.foreign_keys}
        assert targets <= {"survey_template", "survey_question", "survey_response", "department", "user"}
    assert {c.name for c in SurveyResponse.__table__.columns if c.foreign_keys and
            next(iter(c.foreign_keys)).column.table.name == "user"} == {"about_preceptor_id"}
    assert not any(isinstance(c.type, type(SurveyInvitation.__table__.c.created_at.type))
                   for c in SurveyResponse.__table__.columns)  # no timestamp to match to an invitation
