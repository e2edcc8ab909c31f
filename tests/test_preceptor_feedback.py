"""Feedback to the preceptor: the default surveys, small-number suppression, figures joined
across survey versions by question code, a constant number of queries, and the page."""

import re
import secrets
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from preceptor.extensions import db
from preceptor.models import (
    FeedbackRelease,
    PreceptorProfile,
    QuestionType,
    SurveyAnswer,
    SurveyPurpose,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
    TimePoint,
    User,
)
from preceptor.services.preceptor_feedback import feedback_summary
from preceptor.services.survey_library import DEFAULT_SURVEYS, NEWLY_QUALIFIED, install_default_surveys

from .factories import PASSWORD

PAGE = "/preceptor/feedback"
SECRET = "Too busy to meet most weeks"  # free text: never shown to the preceptor


def template(key: str = "preceptor-feedback") -> SurveyTemplate:
    return db.session.scalar(select(SurveyTemplate).where(SurveyTemplate.key == key, SurveyTemplate.current))


def respond(about: User, department_id: int, answers: dict[str, int | str], survey: SurveyTemplate | None = None):
    """One anonymous response: agreement answers by question code, free text as a string."""
    survey = survey or template()
    response = SurveyResponse(id=secrets.token_hex(16), template_id=survey.id, time_point=TimePoint.END_FEEDBACK,
                              department_id=department_id, cohort="2025-09", about_preceptor_id=about.id)
    db.session.add(response)
    db.session.flush()
    questions = {q.code: q for q in survey.questions}
    for code, value in answers.items():
        text = isinstance(value, str)
        db.session.add(SurveyAnswer(response_id=response.id, question_id=questions[code].id,
                                    value_int=None if text else value, value_text=value if text else None))
    db.session.flush()
    return response


def main(html: str) -> str:
    """The page's main content (the header's logo is full of numbers)."""
    return re.search(r"<main.*?</main>", html, re.S).group(0)


def cells(html: str, question: str) -> list[str]:
    """The visible text of each cell in the table row for `question` (not the headings the
    responsive table repeats inside each cell for small screens)."""
    row = next(r for r in re.findall(r"<tr.*?</tr>", html, re.S) if question in r)
    row = re.sub(r'<span class="nhsuk-table__heading" aria-hidden="true">.*?</span>', "", row, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<t[dh]\b.*?</t[dh]>", row, re.S)]


@pytest.fixture
def me(make, client):
    """A signed-in preceptor, with the default surveys installed."""
    install_default_surveys()
    user = make.preceptor()
    db.session.commit()
    assert client.sign_in(user.email, PASSWORD).status_code == 302
    return user


def _department_of(user: User) -> int:
    return db.session.get(PreceptorProfile, user.id).department_id


# --- the default surveys ---------------------------------------------------------------------

def test_install_default_surveys_is_idempotent(app):
    assert install_default_surveys() == len(DEFAULT_SURVEYS) == 2
    db.session.flush()
    assert install_default_surveys() == 0
    db.session.delete(template("newly-qualified"))
    db.session.flush()
    assert install_default_surveys() == 1
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(SurveyTemplate)) == 2
    feedback, newly_qualified = template(), template("newly-qualified")
    assert feedback.purpose is SurveyPurpose.PRECEPTOR_FEEDBACK
    assert newly_qualified.purpose is SurveyPurpose.NEWLY_QUALIFIED
    for survey in (feedback, newly_qualified):
        codes = [q.code for q in survey.questions]
        assert len(codes) == len(set(codes)) and [q.position for q in survey.questions] == list(range(len(codes)))
    assert [q.code for q in feedback.questions if q.qtype is QuestionType.FREE_TEXT] == ["do_differently"]
    assert sum(q.qtype is QuestionType.AGREEMENT for q in feedback.questions) == 6
    assert [q.code for q in newly_qualified.questions] == [q.code for q in NEWLY_QUALIFIED.questions] == [
        "confidence", "preceptor_support", "team_support", "workload", "wellbeing", "valued", "intention_to_stay",
        "helped_most", "improve_programme"]


# --- the summary ----------------------------------------------------------------------------

def test_below_the_minimum_only_the_count_is_returned_and_shown(client, me, make):
    department = _department_of(me)
    respond(me, department, {"made_time": 5, "recommend": 5})
    respond(me, department, {"made_time": 2, "recommend": 2})  # mean 3.5 were it shown
    other = make.preceptor()
    for _ in range(4):  # about someone else: not counted
        respond(other, department, {"made_time": 1})
    respond(me, department, {"confidence": 1}, survey=template("newly-qualified"))  # not a feedback survey
    db.session.commit()

    summary = feedback_summary(me.id)
    assert (summary.responses, summary.shown, summary.questions, summary.withheld) == (2, False, (), ())
    html = main(client.get(PAGE).get_data(as_text=True))
    assert "You have 2 responses. Feedback is shown once at least 3 preceptees have answered" in html
    assert "3.5" not in html and "<table" not in html and "My preceptor made time for me" not in html


def test_from_the_minimum_the_mean_and_distribution_are_shown(client, me):
    department = _department_of(me)
    for value in (5, 4, 3):
        respond(me, department, {"made_time": value, "recommend": 4, "do_differently": SECRET})
    db.session.commit()

    summary = feedback_summary(me.id)
    assert summary.shown and summary.responses == 3
    made_time = next(q for q in summary.questions if q.code == "made_time")
    assert made_time.mean == Decimal("4.0") and made_time.answered == 3
    assert made_time.counts == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert [q.code for q in summary.questions] == ["made_time", "recommend"]  # in survey order
    assert SECRET not in repr(summary)

    html = main(client.get(PAGE).get_data(as_text=True))
    assert cells(html, "My preceptor made time for me.") == ["My preceptor made time for me.", "4.0", "0", "0", "1",
                                                             "1", "1"]
    assert cells(html, "recommend my preceptor")[1:] == ["4.0", "0", "0", "0", "3", "0"]
    assert html.count('scope="row" role="rowheader"') == 2  # each question heads its row
    assert "nhsuk-u-visually-hidden" in re.search(r"<caption.*?</caption>", html, re.S).group(0)
    assert "These figures are from 3 responses." in html and "Answers are anonymous" in html
    assert SECRET not in html and "What could your preceptor do differently" not in html


def test_a_mean_is_rounded_to_one_decimal_place(me):
    department = _department_of(me)
    for value in (5, 5, 4):
        respond(me, department, {"made_time": value})
    assert feedback_summary(me.id).questions[0].mean == Decimal("4.7")


def test_a_question_answered_by_too_few_is_withheld(client, me):
    department = _department_of(me)
    respond(me, department, {"made_time": 5, "reflection": 1})
    respond(me, department, {"made_time": 4, "reflection": 2})
    respond(me, department, {"made_time": 4})
    db.session.commit()
    summary = feedback_summary(me.id)
    assert [q.code for q in summary.questions] == ["made_time"]
    assert summary.withheld == ("My preceptor helped me reflect on my practice.",)
    html = main(client.get(PAGE).get_data(as_text=True))
    assert "Not shown, because fewer than 3 people answered: My preceptor helped me reflect" in html
    assert "1.5" not in html


def test_answers_to_every_version_count_together_by_code(me):
    department = _department_of(me)
    first = template()
    respond(me, department, {"made_time": 2})
    respond(me, department, {"made_time": 3})
    first.current = False
    second = SurveyTemplate(key=first.key, version=2, current=True, name=first.name, purpose=first.purpose,
                            questions=[SurveyQuestion(position=0, code="made_time", qtype=QuestionType.AGREEMENT,
                                                      text="My preceptor found time for me.")])
    db.session.add(second)
    db.session.flush()
    respond(me, department, {"made_time": 4}, survey=second)
    (made_time,) = feedback_summary(me.id).questions
    assert made_time.text == "My preceptor found time for me."  # the newest wording
    assert made_time.answered == 3 and made_time.mean == Decimal("3.0")


def count_statements(call) -> int:
    statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", before_cursor_execute)
    return len(statements)


def test_the_summary_takes_the_same_few_queries_however_many_responses(me):
    department, preceptor_id = _department_of(me), me.id  # read now: after a commit `me` reloads itself
    codes = [q.code for q in template().questions if q.qtype is QuestionType.AGREEMENT]
    for n in range(3):
        respond(me, department, dict.fromkeys(codes, 1 + n % 5))
    db.session.commit()
    with_three = count_statements(lambda: feedback_summary(preceptor_id))
    for n in range(7):
        respond(me, department, dict.fromkeys(codes, 1 + n % 5))
    db.session.commit()
    with_ten = count_statements(lambda: feedback_summary(preceptor_id))
    assert feedback_summary(preceptor_id).responses == 10
    assert with_three == with_ten <= 2


def test_the_demo_preceptor_has_feedback_to_show_and_seeding_again_adds_none(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    priya = db.session.scalar(select(User).where(User.email == "preceptor@demo.nhs.uk"))
    summary = feedback_summary(priya.id)
    assert summary.shown and summary.responses >= 4 and len(summary.questions) == 6
    answers = db.session.scalar(select(func.count()).select_from(SurveyAnswer))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert feedback_summary(priya.id).responses == summary.responses
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == answers
    assert db.session.scalar(select(func.count()).select_from(SurveyTemplate)) == len(DEFAULT_SURVEYS)


def test_figures_move_only_when_the_minimum_more_have_answered(client, me):
    """Comparing two visits must never isolate one person's answers."""
    department = _department_of(me)
    for value in (5, 4, 3):
        respond(me, department, {"made_time": value, "recommend": 4})
    db.session.commit()
    first = cells(main(client.get(PAGE).get_data(as_text=True)), "My preceptor made time for me.")
    assert first[1] == "4.0"

    respond(me, department, {"made_time": 1, "recommend": 1})
    db.session.commit()
    html = main(client.get(PAGE).get_data(as_text=True))
    assert cells(html, "My preceptor made time for me.") == first  # the 4th answer is not visible
    assert "These figures are from 3 responses." in html and "1 newer response is waiting" in html

    for value in (1, 1):
        respond(me, department, {"made_time": value, "recommend": 1})
    db.session.commit()
    html = main(client.get(PAGE).get_data(as_text=True))
    assert "These figures are from 6 responses." in html and "newer response" not in html
    assert cells(html, "My preceptor made time for me.")[1] == "2.5"  # (5+4+3+1+1+1) / 6
    assert db.session.scalar(select(func.count()).select_from(FeedbackRelease)) == 2
