"""Surveys: versioned templates, per-programme invitations, and anonymous responses.

Anonymity is structural. `SurveyInvitation` records who was asked and whether they have
answered; `SurveyResponse` records what was answered, with no user, programme or timestamp
and a random key, so no query can join an answer to a person. Answers in progress live on
the invitation as a draft and move to an anonymous response only when submitted.
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column, utcnow


class SurveyPurpose(enum.StrEnum):
    NEWLY_QUALIFIED = "newly_qualified"
    PRECEPTOR_FEEDBACK = "preceptor_feedback"


class QuestionType(enum.StrEnum):
    AGREEMENT = "agreement"  # 5-point, 1 strongly disagree .. 5 strongly agree
    YES_NO = "yes_no"
    SINGLE_CHOICE = "single_choice"
    FREE_TEXT = "free_text"


class TimePoint(enum.StrEnum):
    BASELINE = "baseline"
    MONTH_3 = "month_3"
    MONTH_6 = "month_6"
    MONTH_12 = "month_12"
    END_FEEDBACK = "end_feedback"

    @property
    def label(self) -> str:
        return {"baseline": "Starting survey", "month_3": "3-month survey", "month_6": "6-month survey",
                "month_12": "End of programme survey", "end_feedback": "Feedback on your preceptor"}[self.value]


class SurveyTemplate(db.Model):
    """One version of a survey. A change once answers exist makes a new version."""

    __tablename__ = "survey_template"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(60))
    version: Mapped[int] = mapped_column(default=1)
    current: Mapped[bool] = mapped_column(default=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    purpose: Mapped[SurveyPurpose] = mapped_column(enum_column(SurveyPurpose))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    questions: Mapped[list["SurveyQuestion"]] = relationship(
        back_populates="template", order_by="SurveyQuestion.position", cascade="all, delete-orphan"
    )


class SurveyQuestion(db.Model):
    __tablename__ = "survey_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_template.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    step: Mapped[int] = mapped_column(default=1)  # questions answered together on one screen
    code: Mapped[str] = mapped_column(sa.String(60))  # stable across versions, for reports
    text: Mapped[str] = mapped_column(sa.String(500))
    help_text: Mapped[str] = mapped_column(sa.String(500), default="")
    qtype: Mapped[QuestionType] = mapped_column(enum_column(QuestionType))
    required: Mapped[bool] = mapped_column(default=True)
    options: Mapped[list | None] = mapped_column(sa.JSON)

    template: Mapped[SurveyTemplate] = relationship(back_populates="questions")


class SurveyInvitation(db.Model):
    """A programme's invitation at one time point: the wave as one person sees it."""

    __tablename__ = "survey_invitation"
    __table_args__ = (
        sa.UniqueConstraint("preceptorship_id", "time_point"),
        sa.Index("ix_survey_invitation_open", "closes_on", "answered_on"),
        # The survey report's response rates per wave, read from the index alone.
        sa.Index("ix_survey_invitation_wave", "time_point", "opens_on",
                 postgresql_include=["preceptorship_id", "answered_on", "closes_on"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptorship_id: Mapped[int] = mapped_column(sa.ForeignKey("preceptorship.id"))
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_template.id"), index=True)
    time_point: Mapped[TimePoint] = mapped_column(enum_column(TimePoint))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    answered_on: Mapped[date | None]  # a date only: a timestamp could be matched to a response
    draft_answers: Mapped[dict | None] = mapped_column(sa.JSON)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class SurveyResponse(db.Model):
    """A submitted response, grouped only by what reports need."""

    __tablename__ = "survey_response"
    __table_args__ = (sa.Index("ix_survey_response_group", "template_id", "time_point", "department_id"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # random, not sequential
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_template.id"))
    time_point: Mapped[TimePoint] = mapped_column(enum_column(TimePoint))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    cohort: Mapped[str] = mapped_column(sa.String(7))  # programme start month, "2025-09"
    # Only for feedback on a preceptor: whom it is about (shown only in aggregate of 3+).
    about_preceptor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)


class SurveyAnswer(db.Model):
    __tablename__ = "survey_answer"
    __table_args__ = (  # free text is a tenth of the answers: the report reads only those
        sa.Index("ix_survey_answer_text", "question_id", postgresql_include=["response_id"],
                 postgresql_where=sa.text("value_text IS NOT NULL"), sqlite_where=sa.text("value_text IS NOT NULL")),
    )

    response_id: Mapped[str] = mapped_column(
        sa.ForeignKey("survey_response.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_question.id"), primary_key=True, index=True)
    value_int: Mapped[int | None]
    value_text: Mapped[str | None] = mapped_column(sa.Text)


class FeedbackRelease(db.Model):
    """A preceptor's feedback figures as released: a new release only once `minimum` more
    responses have come in since the last, so comparing two releases never isolates one
    person's answers (the figures otherwise move with every single response)."""

    __tablename__ = "feedback_release"
    __table_args__ = (sa.UniqueConstraint("preceptor_id", "responses"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    responses: Mapped[int]
    released_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    summary: Mapped[dict] = mapped_column(sa.JSON)
