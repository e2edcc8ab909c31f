"""Answering a survey: the preceptee's open invitations, answers saved step by step as a draft
on the invitation, and submitting, which moves them to an anonymous response.

The response carries no person, programme or time: only the template, time point, department
and cohort (start month) that reports group by, under a random key. The invitation keeps only
the day it was answered. Nothing here commits.
"""

import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Allocation,
    Preceptorship,
    QuestionType,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
    TimePoint,
)
from . import audit
from .survey_library import AGREEMENT_SCALE

TEXT_MAX = 2000
YES_NO = {"yes": 1, "no": 0}


class SurveyRefused(ValueError):
    """An answer or submission refused; the message is for the preceptee."""


@dataclass
class Survey:
    invitation: SurveyInvitation
    template: SurveyTemplate

    @property
    def steps(self) -> list[int]:
        return sorted({q.step for q in self.template.questions})

    def questions(self, step: int | None = None) -> list[SurveyQuestion]:
        return [q for q in self.template.questions if step is None or q.step == step]

    @property
    def draft(self) -> dict[str, str]:
        return dict(self.invitation.draft_answers or {})

    def first_unanswered_step(self) -> int:
        draft = self.draft
        for step in self.steps:
            if any(q.required and str(q.id) not in draft for q in self.questions(step)):
                return step
        return self.steps[-1]


def open_invitations(user_id: int, today: date) -> list[SurveyInvitation]:
    """The preceptee's invitations open today and not yet answered, soonest closing first."""
    return list(db.session.scalars(
        sa.select(SurveyInvitation).join(Preceptorship, Preceptorship.id == SurveyInvitation.preceptorship_id)
        .where(Preceptorship.preceptee_id == user_id, SurveyInvitation.answered_on.is_(None),
               SurveyInvitation.opens_on <= today, SurveyInvitation.closes_on > today)
        .order_by(SurveyInvitation.closes_on, SurveyInvitation.id)))


def survey_for(user_id: int, invitation_id: int) -> Survey | None:
    """The preceptee's own invitation with its template; None for anyone else's."""
    found = db.session.execute(
        sa.select(SurveyInvitation, SurveyTemplate)
        .join(Preceptorship, Preceptorship.id == SurveyInvitation.preceptorship_id)
        .join(SurveyTemplate, SurveyTemplate.id == SurveyInvitation.template_id)
        .where(SurveyInvitation.id == invitation_id, Preceptorship.preceptee_id == user_id)).first()
    return Survey(*found) if found else None


def refusal(survey: Survey, today: date) -> str | None:
    """Why this invitation cannot take answers today, if it cannot."""
    invitation = survey.invitation
    if invitation.answered_on is not None:
        return "You have already sent your answers to this survey. Thank you"
    if today >= invitation.closes_on:
        return f"This survey closed on {invitation.closes_on.day} {invitation.closes_on:%B %Y}. Answers can no " \
               "longer be sent"
    if today < invitation.opens_on:
        return "This survey is not open yet"
    return None


def parse(question: SurveyQuestion, raw: str | None) -> tuple[str | None, str | None]:
    """(the stored form of an answer, or None if blank; a problem, or None)."""
    raw = (raw or "").strip()
    if not raw:
        return None, None
    if question.qtype is QuestionType.AGREEMENT:
        ok = raw in {str(n) for n in AGREEMENT_SCALE}
        return (raw, None) if ok else (None, "Choose one of the 5 answers")
    if question.qtype is QuestionType.YES_NO:
        return (raw, None) if raw in YES_NO else (None, "Choose yes or no")
    if question.qtype is QuestionType.SINGLE_CHOICE:
        return (raw, None) if raw in (question.options or []) else (None, "Choose one of the answers")
    if len(raw) > TEXT_MAX:
        return None, f"Answer must be {TEXT_MAX:,} characters or fewer"
    return raw, None


def save(survey: Survey, answers: dict[int, str | None], today: date, *, steps: list[int] | None = None,
         require: bool = False) -> dict[int, str]:
    """Keep the valid answers to the questions of `steps` (all when None) in the draft, and
    return the problems by question id: bad values always, missing required answers when
    `require`. Answers already saved stay unless replaced; a blank clears an optional one."""
    if problem := refusal(survey, today):
        raise SurveyRefused(problem)
    draft, problems = survey.draft, {}
    for question in survey.questions():
        if steps is not None and question.step not in steps:
            continue
        value, problem = parse(question, answers.get(question.id))
        if problem:
            problems[question.id] = problem
        elif value is not None:
            draft[str(question.id)] = value
        else:
            draft.pop(str(question.id), None)
            if require and question.required:
                problems[question.id] = missing_message(question)
    survey.invitation.draft_answers = draft
    return problems


def missing_message(question: SurveyQuestion) -> str:
    return "Write an answer" if question.qtype is QuestionType.FREE_TEXT else "Choose an answer"


def last_preceptor(programme_id: int, today: date) -> int | None:
    """Whom end-of-programme feedback is about: the latest preceptor to have started."""
    return db.session.scalar(
        sa.select(Allocation.preceptor_id).where(Allocation.preceptorship_id == programme_id,
                                                 Allocation.starts_on <= today)
        .order_by(Allocation.starts_on.desc(), Allocation.id.desc()).limit(1))


def submit(survey: Survey, today: date) -> None:
    """Send the saved answers as an anonymous response. Refused if any required answer is
    missing or the survey has closed, or if it was already sent (two tabs)."""
    if problem := refusal(survey, today):
        raise SurveyRefused(problem)
    draft = survey.draft
    missing = [q for q in survey.questions() if q.required and str(q.id) not in draft]
    if missing:
        raise SurveyRefused(f"Answer every question marked as needed: {len(missing)} still to answer")
    invitation = survey.invitation
    # Only one submission wins, even from two tabs at once.
    claimed = db.session.execute(
        sa.update(SurveyInvitation).where(SurveyInvitation.id == invitation.id, SurveyInvitation.answered_on.is_(None))
        .values(answered_on=today, draft_answers=None).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise SurveyRefused("You have already sent your answers to this survey. Thank you")
    programme = db.session.get(Preceptorship, invitation.preceptorship_id)
    response = SurveyResponse(id=secrets.token_hex(16), template_id=survey.template.id,
                              time_point=invitation.time_point, department_id=programme.department_id,
                              cohort=programme.start_date.strftime("%Y-%m"),
                              about_preceptor_id=last_preceptor(programme.id, today)
                              if invitation.time_point is TimePoint.END_FEEDBACK else None)
    db.session.add(response)
    db.session.flush()  # the response before its answers (no relationship orders them)
    for question in survey.questions():
        value = draft.get(str(question.id))
        if value is None:
            continue
        number = YES_NO[value] if question.qtype is QuestionType.YES_NO else (
            int(value) if question.qtype is QuestionType.AGREEMENT else None)
        db.session.add(SurveyAnswer(response_id=response.id, question_id=question.id, value_int=number,
                                    value_text=None if number is not None else value))
    # The log says an invitation was answered, never which response is whose.
    audit.record("survey.answer", invitation, preceptorship_id=invitation.preceptorship_id,
                 details={"time_point": invitation.time_point.value})
    db.session.refresh(invitation)
