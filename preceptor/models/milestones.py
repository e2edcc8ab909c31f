"""Milestones of one programme, the evidence linked to them, and sign-off requests."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column, utcnow
from .framework import MilestoneTemplate


class MilestoneStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RETURNED = "returned"
    SIGNED_OFF = "signed_off"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "in_progress": "In progress",
            "waiting": "Waiting for sign-off",
            "returned": "Returned with an action plan",
            "signed_off": "Signed off",
        }[self.value]


milestone_evidence = sa.Table(
    "milestone_evidence",
    db.metadata,
    sa.Column("milestone_id", sa.ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("entry_id", sa.ForeignKey("log_entry.id", ondelete="CASCADE"), primary_key=True, index=True),
)


OPEN = "status <> 'signed_off'"  # the open-milestones index's condition


class Milestone(db.Model):
    """A milestone in one programme, copied from a template version at the start.

    `due_date` is stored (start + offset, moved by pauses and extensions) so overdue work is
    an indexed query. `version` makes concurrent changes fail instead of overwriting.
    """

    __table_args__ = (
        # Index-only counts per programme (caseload, principle coverage) on PostgreSQL.
        sa.Index("ix_milestone_programme_due", "preceptorship_id", "due_date",
                 postgresql_include=["status", "template_id"]),
        sa.Index("ix_milestone_status_due", "status", "due_date"),
        # Open milestones only: overdue reports and reminders skip the signed-off history.
        sa.Index("ix_milestone_open_due", "due_date", postgresql_include=["preceptorship_id", "template_id"],
                 postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN)),
    )

    @classmethod
    def is_open(cls):
        """Not signed off, written exactly as the open-milestones index says it: with a bound
        value instead, SQLite and PostgreSQL's prepared (generic) plans could not use the index."""
        return cls.status != sa.literal_column("'signed_off'")

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptorship_id: Mapped[int] = mapped_column(sa.ForeignKey("preceptorship.id"))
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("milestone_template.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    due_date: Mapped[date]
    status: Mapped[MilestoneStatus] = mapped_column(
        enum_column(MilestoneStatus), default=MilestoneStatus.NOT_STARTED
    )
    status_changed_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    template: Mapped[MilestoneTemplate] = relationship(lazy="joined")
    preceptorship: Mapped["Preceptorship"] = relationship()  # noqa: F821
    requests: Mapped[list["SignOffRequest"]] = relationship(
        back_populates="milestone", order_by="SignOffRequest.id"
    )


class RequestStatus(enum.StrEnum):
    WAITING = "waiting"
    WITHDRAWN = "withdrawn"
    SIGNED_OFF = "signed_off"
    RETURNED = "returned"


request_evidence = sa.Table(
    "request_evidence",
    db.metadata,
    sa.Column("request_id", sa.ForeignKey("sign_off_request.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("entry_id", sa.ForeignKey("log_entry.id"), primary_key=True, index=True),
)


class SignOffRequest(db.Model):
    """A preceptee's request for sign-off and the preceptor's decision on it.

    A decision stores a snapshot of the evidence seen, so later edits of a log entry do not
    change what was signed. Reopening adds to the row; nothing is ever deleted.
    """

    __tablename__ = "sign_off_request"
    __table_args__ = (
        sa.Index(
            "uq_sign_off_request_waiting",
            "milestone_id",
            unique=True,
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        ),
        sa.Index("ix_sign_off_request_status_requested", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(sa.ForeignKey("milestone.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    summary: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus), default=RequestStatus.WAITING)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    action_plan: Mapped[str | None] = mapped_column(sa.Text)
    evidence_snapshot: Mapped[list | None] = mapped_column(sa.JSON)
    reopened_at: Mapped[datetime | None] = mapped_column(Timestamp)
    reopened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reopen_reason: Mapped[str | None] = mapped_column(sa.Text)

    milestone: Mapped[Milestone] = relationship(back_populates="requests")
    decided_by: Mapped["User | None"] = relationship(foreign_keys=[decided_by_id], lazy="joined")  # noqa: F821
