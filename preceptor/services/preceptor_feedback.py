"""Feedback to a preceptor on their preceptoring (HCPC principle 4), in aggregate only.

Responses carry no name (see models/surveys.py), but a preceptor has few preceptees, so a
single answer can still say who gave it. Hence: no figure at all until at least
`PRECEPTOR_FEEDBACK_MINIMUM` preceptees have answered (PRODUCT.md, small-number suppression),
no question answered by fewer than that, never an individual answer, and never free text,
which is individual by nature. Answers to every version of the feedback survey count
together, joined by question `code`.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    FeedbackRelease,
    QuestionType,
    SurveyAnswer,
    SurveyPurpose,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)
from .survey_library import AGREEMENT_SCALE


@dataclass(frozen=True)
class QuestionSummary:
    """One agreement question: how many answered, the mean (1 decimal place) and how many
    gave each answer from 1 (strongly disagree) to 5 (strongly agree)."""

    code: str
    text: str
    answered: int
    mean: Decimal
    counts: dict[int, int]


@dataclass(frozen=True)
class FeedbackSummary:
    """`shown` is False below the minimum, and then nothing but the response count is here."""

    responses: int
    minimum: int
    shown: bool
    questions: tuple[QuestionSummary, ...] = ()
    withheld: tuple[str, ...] = ()  # questions with too few answers to show


def _about(preceptor_id: int):
    """Conditions for responses to the preceptor-feedback survey (any version) about this preceptor."""
    return (SurveyResponse.about_preceptor_id == preceptor_id,
            SurveyTemplate.purpose == SurveyPurpose.PRECEPTOR_FEEDBACK)


def _response_count(preceptor_id: int) -> int:
    return db.session.scalar(select(func.count(SurveyResponse.id))
                             .join(SurveyTemplate, SurveyTemplate.id == SurveyResponse.template_id)
                             .where(*_about(preceptor_id)))


def feedback_summary(preceptor_id: int) -> FeedbackSummary:
    """The preceptor's feedback, suppressed below the minimum: one query, two when shown."""
    minimum = current_app.config["PRECEPTOR_FEEDBACK_MINIMUM"]
    responses = _response_count(preceptor_id)
    if responses < minimum:
        return FeedbackSummary(responses=responses, minimum=minimum, shown=False)

    agreement = SurveyQuestion.qtype == QuestionType.AGREEMENT
    # How many gave each answer to each question, across versions (by code).
    counts = (
        select(SurveyQuestion.code, SurveyAnswer.value_int.label("value"), func.count().label("answers"))
        .select_from(SurveyAnswer)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .join(SurveyTemplate, SurveyTemplate.id == SurveyResponse.template_id)
        .where(*_about(preceptor_id), agreement, SurveyAnswer.value_int.between(1, len(AGREEMENT_SCALE)))
        .group_by(SurveyQuestion.code, SurveyAnswer.value_int)
        .subquery()
    )
    # Each code's wording and place from the newest version that asks it.
    wording = (
        select(SurveyQuestion.code, SurveyQuestion.text, SurveyQuestion.position, func.row_number().over(
            partition_by=SurveyQuestion.code,
            order_by=(SurveyTemplate.current.desc(), SurveyTemplate.version.desc(), SurveyQuestion.id.desc()),
        ).label("newest"))
        .join(SurveyTemplate, SurveyTemplate.id == SurveyQuestion.template_id)
        .where(SurveyTemplate.purpose == SurveyPurpose.PRECEPTOR_FEEDBACK, agreement)
        .subquery()
    )
    rows = db.session.execute(
        select(counts.c.code, wording.c.text, counts.c.value, counts.c.answers)
        .join(wording, (wording.c.code == counts.c.code) & (wording.c.newest == 1))
        .order_by(wording.c.position, counts.c.code, counts.c.value)
    ).all()

    by_code: dict[str, tuple[str, dict[int, int]]] = {}
    for code, text, value, answers in rows:
        by_code.setdefault(code, (text, dict.fromkeys(AGREEMENT_SCALE, 0)))[1][value] = answers
    questions, withheld = [], []
    for code, (text, distribution) in by_code.items():
        answered = sum(distribution.values())
        if answered < minimum:
            withheld.append(text)
            continue
        mean = Decimal(sum(value * n for value, n in distribution.items())) / answered
        questions.append(QuestionSummary(code, text, answered, mean.quantize(Decimal("0.1"), ROUND_HALF_UP),
                                         distribution))
    return FeedbackSummary(responses=responses, minimum=minimum, shown=True, questions=tuple(questions),
                           withheld=tuple(withheld))


@dataclass(frozen=True)
class Released:
    """What the preceptor is shown: the latest release, and how many responses have come in
    since (they join the figures once there are `minimum` of them)."""

    summary: FeedbackSummary
    pending: int


def released_summary(preceptor_id: int) -> Released:
    """The figures as last released, releasing new ones when `minimum` more responses exist.

    Figures that moved with every response would let a preceptor compare two visits and
    read off the newest person's answers; releases at least `minimum` apart never isolate one.
    """
    minimum = current_app.config["PRECEPTOR_FEEDBACK_MINIMUM"]
    responses = _response_count(preceptor_id)
    latest = db.session.scalar(select(FeedbackRelease).where(FeedbackRelease.preceptor_id == preceptor_id)
                               .order_by(FeedbackRelease.responses.desc()).limit(1))
    if responses >= (latest.responses if latest else 0) + minimum:
        summary = feedback_summary(preceptor_id)
        latest = FeedbackRelease(preceptor_id=preceptor_id, responses=summary.responses, summary=_stored(summary))
        db.session.add(latest)
        try:
            db.session.commit()
        except IntegrityError:  # another visit released the same figures a moment ago
            db.session.rollback()
            return released_summary(preceptor_id)
    if latest is None:
        return Released(FeedbackSummary(responses=responses, minimum=minimum, shown=False), 0)
    return Released(_loaded(latest.summary, minimum), responses - latest.responses)


def _stored(summary: FeedbackSummary) -> dict:
    return {"responses": summary.responses, "withheld": list(summary.withheld),
            "questions": [{"code": q.code, "text": q.text, "answered": q.answered, "mean": str(q.mean),
                           "counts": {str(value): n for value, n in q.counts.items()}} for q in summary.questions]}


def _loaded(stored: dict, minimum: int) -> FeedbackSummary:
    questions = tuple(QuestionSummary(q["code"], q["text"], q["answered"], Decimal(q["mean"]),
                                      {int(value): n for value, n in q["counts"].items()})
                      for q in stored["questions"])
    return FeedbackSummary(responses=stored["responses"], minimum=minimum, shown=True, questions=questions,
                           withheld=tuple(stored["withheld"]))
