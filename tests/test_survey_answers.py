"""Answering a survey: saved per step and resumed, refused when closed, out of range, incomplete
or someone else's, and sent as a response that cannot be joined to the person."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from preceptor.extensions import db
from preceptor.models import Allocation, Role, SurveyAnswer, SurveyInvitation, SurveyResponse, TimePoint
from preceptor.services import survey_answers as service
from preceptor.services.programmes import add_months
from preceptor.services.survey_answers import SurveyRefused
from preceptor.services.survey_library import install_default_surveys
from preceptor.services.survey_waves import open_due

TODAY = date.today()
PASSWORD = "correct-horse-battery"


@pytest.fixture
def invited(make):
    install_default_surveys()
    sam = make.user(Role.PRECEPTEE, email="sam@test.nhs.uk", name="Sam")
    programme = make.programme(preceptee=sam, start=TODAY - timedelta(days=2))
    db.session.commit()
    assert open_due(TODAY) == 1
    invitation = db.session.scalar(select(SurveyInvitation))
    return sam, programme, invitation


def answers_for(survey, step=None, value="4"):
    return {q.id: (value if q.qtype.value == "agreement" else "It helped") for q in survey.questions(step)}


def test_answers_are_saved_step_by_step_and_resumed(invited):
    sam, _, invitation = invited
    survey = service.survey_for(sam.id, invitation.id)
    first, last = survey.steps[0], survey.steps[-1]
    assert service.save(survey, answers_for(survey, first), TODAY, steps=[first], require=True) == {}
    db.session.commit()
    again = service.survey_for(sam.id, invitation.id)
    assert again.first_unanswered_step() == last and len(again.draft) == len(again.questions(first))


def test_bad_and_missing_answers_are_refused_and_good_ones_kept(invited):
    sam, _, invitation = invited
    survey = service.survey_for(sam.id, invitation.id)
    agreement = [q for q in survey.questions() if q.qtype.value == "agreement"]
    problems = service.save(survey, {agreement[0].id: "9", agreement[1].id: "5"}, TODAY, steps=[1], require=True)
    assert problems[agreement[0].id] == "Choose one of the 5 answers"
    assert problems[agreement[2].id] == "Choose an answer"
    assert survey.draft == {str(agreement[1].id): "5"}
    with pytest.raises(SurveyRefused, match="still to answer"):
        service.submit(survey, TODAY)


def test_sending_makes_an_anonymous_response(invited):
    sam, programme, invitation = invited
    survey = service.survey_for(sam.id, invitation.id)
    service.save(survey, answers_for(survey), TODAY)
    service.submit(survey, TODAY)
    db.session.commit()
    response = db.session.scalar(select(SurveyResponse))
    cohort = programme.start_date.strftime("%Y-%m")
    assert (response.department_id, response.cohort) == (programme.department_id, cohort)
    assert len(response.id) == 32 and not hasattr(response, "preceptorship_id")
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == len(survey.questions())
    db.session.refresh(invitation)
    assert (invitation.answered_on, invitation.draft_answers) == (TODAY, None)
    with pytest.raises(SurveyRefused, match="already sent"):
        service.submit(service.survey_for(sam.id, invitation.id), TODAY)


def test_a_closed_survey_takes_no_answers_and_keeps_the_draft(invited):
    sam, _, invitation = invited
    survey = service.survey_for(sam.id, invitation.id)
    service.save(survey, answers_for(survey, 1), TODAY, steps=[1])
    db.session.commit()
    with pytest.raises(SurveyRefused, match="This survey closed on"):
        service.save(survey, answers_for(survey), invitation.closes_on)
    assert len(service.survey_for(sam.id, invitation.id).draft) == len(survey.questions(1))


def test_someone_elses_invitation_is_not_found(invited, make):
    other = make.user(Role.PRECEPTEE)
    assert service.survey_for(other.id, invited[2].id) is None


# --- the pages ------------------------------------------------------------------------------------

@pytest.fixture
def sam_client(client, invited):
    client.sign_in("sam@test.nhs.uk", PASSWORD)
    return client


def test_home_page_offers_the_open_survey(sam_client, invited):
    html = sam_client.get("/preceptee/").get_data(as_text=True)
    assert "Answer the starting survey" in html and f"/preceptee/surveys/{invited[2].id}" in html


def test_without_javascript_one_long_form(sam_client, invited):
    sam, _, invitation = invited
    page = f"/preceptee/surveys/{invitation.id}"
    html = sam_client.get(page).get_data(as_text=True)
    survey = service.survey_for(sam.id, invitation.id)
    assert all(f'name="q{q.id}"' in html for q in survey.questions()) and 'hx-trigger="load"' in html
    # A missing answer: the error by the question, what was chosen kept, the valid answers saved.
    first = survey.questions()[0]
    response = sam_client.submit(page, {f"q{first.id}": "2", "action": "send"}, token_from=page)
    html = response.get_data(as_text=True)
    assert "Error:" in html and "Choose an answer" in html
    assert re.search(rf'<input[^>]*name="q{first.id}"[^>]*value="2"[^>]*checked', html)
    data = {f"q{q.id}": v for q, v in zip(survey.questions(), answers_for(survey).values(), strict=True)}
    response = sam_client.submit(page, {**data, "action": "send"}, token_from=page)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1


def test_with_htmx_one_step_at_a_time(sam_client, invited):
    sam, _, invitation = invited
    survey = service.survey_for(sam.id, invitation.id)
    page = f"/preceptee/surveys/{invitation.id}"
    headers = {"HX-Request": "true", "HX-Target": "survey_step"}
    first = sam_client.get(f"{page}?step={survey.steps[0]}", headers=headers).get_data(as_text=True)
    assert first.lstrip().startswith('<div id="survey_step">') and "Step 1 of 2" in first
    data = {f"q{q.id}": "5" for q in survey.questions(survey.steps[0])}
    second = sam_client.submit(f"{page}/steps/{survey.steps[0]}", data, token_from=page, headers=headers)
    assert "Step 2 of 2" in second.get_data(as_text=True)
    sent = sam_client.submit(f"{page}/steps/{survey.steps[-1]}", {"action": "send"}, token_from=page,
                             headers=headers)
    assert sent.headers["HX-Redirect"] == "/preceptee/"
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1


def test_other_people_cannot_open_or_answer_it(client, invited, make):
    make.user(Role.PRECEPTEE, email="other@test.nhs.uk")
    db.session.commit()
    client.sign_in("other@test.nhs.uk", PASSWORD)
    page = f"/preceptee/surveys/{invited[2].id}"
    assert client.get(page).status_code == 404
    assert client.submit(page, {"action": "send"}, token_from="/preceptee/").status_code == 404


def test_end_of_programme_feedback_is_about_the_last_preceptor_and_nobody_else(make):
    install_default_surveys()
    first, last = make.preceptor(name="First"), make.preceptor(name="Last")
    sam = make.user(Role.PRECEPTEE)
    programme = make.programme(preceptee=sam, start=add_months(TODAY, -12), preceptor=first)
    db.session.execute(update(Allocation).values(ends_on=TODAY - timedelta(days=100)))
    db.session.add(Allocation(preceptorship=programme, preceptor=last, starts_on=TODAY - timedelta(days=100)))
    db.session.commit()
    open_due(TODAY)
    feedback = db.session.scalar(select(SurveyInvitation).where(SurveyInvitation.time_point == TimePoint.END_FEEDBACK))
    survey = service.survey_for(sam.id, feedback.id)
    service.save(survey, answers_for(survey), TODAY)
    service.submit(survey, TODAY)
    db.session.commit()
    newly_qualified = db.session.scalar(
        select(SurveyInvitation).where(SurveyInvitation.time_point == TimePoint.MONTH_12))
    survey = service.survey_for(sam.id, newly_qualified.id)
    service.save(survey, answers_for(survey), TODAY)
    service.submit(survey, TODAY)
    db.session.commit()
    about = dict(db.session.execute(select(SurveyResponse.time_point, SurveyResponse.about_preceptor_id)).all())
    assert about == {TimePoint.END_FEEDBACK: last.id, TimePoint.MONTH_12: None}
