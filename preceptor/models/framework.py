"""The milestone framework: HCPC principles (fixed data), versioned milestone templates,
optional modality checklists and the learning-needs areas departments assess against."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column, utcnow
from .meetings import MeetingType
from .organisation import Profession


class Principle(db.Model):
    """One of the five HCPC Principles for preceptorship (2023). Inserted by the first
    migration and never edited by the application."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # 1..5, the HCPC's order
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    summary: Mapped[str] = mapped_column(sa.Text)


template_principle = sa.Table(
    "template_principle",
    db.metadata,
    sa.Column("template_id", sa.ForeignKey("milestone_template.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("principle_id", sa.ForeignKey("principle.id"), primary_key=True, index=True),
)


class Checklist(db.Model):
    """An optional modality checklist (CT, MRI, ...), kept apart from the core milestones."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    archived_at: Mapped[datetime | None] = mapped_column(Timestamp)


department_checklist = sa.Table(
    "department_checklist",
    db.metadata,
    sa.Column("department_id", sa.ForeignKey("department.id"), primary_key=True),
    sa.Column("checklist_id", sa.ForeignKey("checklist.id"), primary_key=True, index=True),
)


class MilestoneTemplate(db.Model):
    """One version of a milestone in the framework.

    Editing a template adds a row with the same `key` and the next `version`; programmes
    keep pointing at the version they were started with, so history shows its origin.
    A template with no scope applies to everyone; otherwise to a profession or a department.
    """

    __tablename__ = "milestone_template"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(60), index=True)
    version: Mapped[int] = mapped_column(default=1)
    current: Mapped[bool] = mapped_column(default=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    guidance: Mapped[str] = mapped_column(sa.Text, default="")
    due_offset_days: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    scope_profession: Mapped[Profession | None] = mapped_column(enum_column(Profession))
    scope_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"), index=True)
    checklist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checklist.id"), index=True)
    # Recording a meeting of this type (confirmed by the preceptor) completes the milestone.
    completed_by_meeting: Mapped[MeetingType | None] = mapped_column(enum_column(MeetingType))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    principles: Mapped[list[Principle]] = relationship(
        secondary=template_principle, order_by=Principle.id, lazy="selectin"
    )
    checklist: Mapped[Checklist | None] = relationship()


class LearningNeedArea(db.Model):
    """An area a preceptee rates their confidence in; trust-wide when no department is set."""

    __tablename__ = "learning_need_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    position: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None] = mapped_column(Timestamp)
