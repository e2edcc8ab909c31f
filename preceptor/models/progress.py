"""What a preceptee writes: progress log entries, autosaved drafts, the learning needs
analysis and the personal development plan."""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column, utcnow


class EntryKind(enum.StrEnum):
    REFLECTION = "reflection"
    CPD = "cpd"
    SUPERVISED_PRACTICE = "supervised_practice"
    PROTECTED_TIME = "protected_time"
    MEETING_NOTE = "meeting_note"

    @property
    def label(self) -> str:
        return {
            "reflection": "Reflection",
            "cpd": "CPD activity",
            "supervised_practice": "Supervised practice",
            "protected_time": "Protected time",
            "meeting_note": "Meeting note",
        }[self.value]


class LogEntry(db.Model):
    """One entry in a preceptee's progress log. Reflections use the three structured
    fields (what happened, so what, now what); other kinds use `notes`."""

    __tablename__ = "log_entry"
    __table_args__ = (sa.Index("ix_log_entry_programme_date", "preceptorship_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptorship_id: Mapped[int] = mapped_column(sa.ForeignKey("preceptorship.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    title: Mapped[str] = mapped_column(sa.String(160))
    occurred_on: Mapped[date]
    hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    what_happened: Mapped[str] = mapped_column(sa.Text, default="")
    so_what: Mapped[str] = mapped_column(sa.Text, default="")
    now_what: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    preceptorship: Mapped["Preceptorship"] = relationship()  # noqa: F821


class Draft(db.Model):
    """Autosaved form text, one per user and form, restored after a timeout or closed tab."""

    __table_args__ = (sa.UniqueConstraint("user_id", "form_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(sa.String(80))
    data: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class AssessmentStage(enum.StrEnum):
    INITIAL = "initial"
    MID_POINT = "mid_point"


class LearningNeedsAssessment(db.Model):
    __tablename__ = "learning_needs_assessment"
    __table_args__ = (sa.UniqueConstraint("preceptorship_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptorship_id: Mapped[int] = mapped_column(sa.ForeignKey("preceptorship.id"))
    stage: Mapped[AssessmentStage] = mapped_column(enum_column(AssessmentStage))
    completed_on: Mapped[date | None]


class LearningNeedRating(db.Model):
    __tablename__ = "learning_need_rating"
    __table_args__ = (sa.CheckConstraint("confidence BETWEEN 1 AND 5", name="confidence_1_to_5"),)

    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("learning_needs_assessment.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("learning_need_area.id"), primary_key=True)
    confidence: Mapped[int] = mapped_column(sa.SmallInteger)
    note: Mapped[str] = mapped_column(sa.String(1000), default="")


class GoalStatus(enum.StrEnum):
    OPEN = "open"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class DevelopmentGoal(db.Model):
    """A goal in the personal development plan, often seeded from a learning need."""

    __tablename__ = "development_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptorship_id: Mapped[int] = mapped_column(sa.ForeignKey("preceptorship.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("learning_need_area.id"))
    goal: Mapped[str] = mapped_column(sa.String(500))
    actions: Mapped[str] = mapped_column(sa.Text, default="")
    target_date: Mapped[date | None]
    status: Mapped[GoalStatus] = mapped_column(enum_column(GoalStatus), default=GoalStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
