"""Five years of survey waves over the real templates: every closed wave's invitation, most of
them answered, each answer an anonymous response as the portal stores it (no person, no
programme, a random key; written in shuffled order so insertion order links nothing)."""

import random
from datetime import date, timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from ..demo import FEEDBACK_COMMENTS
from ..demo_surveys import FREE_TEXT, WAVE_MEAN
from ..extensions import db
from ..models import QuestionType, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse, TimePoint
from ..services import survey_waves
from ..services.survey_library import PRECEPTOR_FEEDBACK
from .bulk import Writer, at
from .programmes import Plan

ANSWERED = 0.92  # the share of closed invitations answered, unless the target is reached first


def _questions(template_id: int) -> list[SurveyQuestion]:
    return list(db.session.scalars(sa.select(SurveyQuestion).where(SurveyQuestion.template_id == template_id)
                                   .order_by(SurveyQuestion.position)))


def closed_invitations(plans: list[Plan], today: date) -> list[tuple[Plan, survey_waves.Wave, bool]]:
    """(programme, wave, is feedback) for every wave that has closed while the programme ran."""
    found = []
    for plan in plans:
        if plan.start > today:
            continue
        programme = SimpleNamespace(start_date=plan.start, planned_end_date=plan.planned_end)
        for wave in survey_waves.waves(programme, plan.changes):
            if wave.closes_on <= today and (plan.ended_on is None or wave.opens_on <= plan.ended_on):
                found.append((plan, wave, False))
        if plan.kind == "completed":
            wave = survey_waves.feedback_wave(programme, plan.changes)
            if wave.closes_on <= today:
                found.append((plan, wave, True))
    return found


def surveys(writer: Writer, rng: random.Random, plans: list[Plan], today: date, target: int) -> None:
    newly_qualified, feedback = survey_waves.current_template(), survey_waves.current_template(PRECEPTOR_FEEDBACK.key)
    questions = {newly_qualified.id: _questions(newly_qualified.id), feedback.id: _questions(feedback.id)}
    invitations = closed_invitations(plans, today)
    answered = set(rng.sample(range(len(invitations)), min(target, round(len(invitations) * ANSWERED))))
    lean = {plan.id: rng.uniform(-0.4, 0.4) for plan in plans}  # some people are happier than others
    responses = []
    for n, (plan, wave, is_feedback) in enumerate(invitations):
        template = feedback if is_feedback else newly_qualified
        window = (wave.closes_on - wave.opens_on).days
        answered_on = wave.opens_on + timedelta(days=rng.randint(0, max(0, window - 1))) if n in answered else None
        reminders = rng.randint(0, 2) if answered_on else 3
        invitation_id = writer.new_id(SurveyInvitation)
        writer.add(SurveyInvitation, {
            "id": invitation_id, "preceptorship_id": plan.id, "template_id": template.id,
            "time_point": wave.time_point, "opens_on": wave.opens_on, "closes_on": wave.closes_on,
            "answered_on": answered_on, "draft_answers": None, "reminders_sent": reminders,
            "last_reminded_on": wave.opens_on + timedelta(days=7 * reminders) if reminders else None,
            "created_at": at(wave.opens_on, 6 * 60)})
        if answered_on is not None:  # the log says an invitation was answered, never which response is whose
            writer.audit("survey.answer", "survey_invitation", invitation_id, at(answered_on, rng.randint(420, 1320)),
                         actor_id=plan.preceptee_id, preceptorship_id=plan.id,
                         details={"time_point": wave.time_point.value})
            responses.append((plan, wave.time_point, template.id, plan.preceptor_on(plan.ended_on or today)
                              if is_feedback else None))
    rng.shuffle(responses)
    for plan, time_point, template_id, about in responses:
        response_id = f"{rng.getrandbits(128):032x}"
        writer.add(SurveyResponse, {"id": response_id, "template_id": template_id, "time_point": time_point,
                                    "department_id": plan.department_id, "cohort": plan.start.strftime("%Y-%m"),
                                    "about_preceptor_id": about})
        mean = (4.0 if time_point is TimePoint.END_FEEDBACK else WAVE_MEAN[time_point]) + lean[plan.id]
        for question in questions[template_id]:
            value_int = value_text = None
            if question.qtype is QuestionType.AGREEMENT:
                value_int = min(5, max(1, round(rng.gauss(mean, 0.9))))
            elif question.qtype is QuestionType.YES_NO:
                value_int = int(rng.random() < 0.8)
            elif question.qtype is QuestionType.SINGLE_CHOICE and question.options:
                value_text = rng.choice(question.options)
            elif question.qtype is QuestionType.FREE_TEXT and rng.random() < 0.4:
                value_text = rng.choice(FREE_TEXT.get(question.code, FEEDBACK_COMMENTS))
            if value_int is not None or value_text is not None:
                writer.add(SurveyAnswer, {"response_id": response_id, "question_id": question.id,
                                          "value_int": value_int, "value_text": value_text})
