"""Meetings between preceptee and preceptor, and the actions agreed at them."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column, utcnow


class MeetingType(enum.StrEnum):
    INITIAL = "initial"
    TWO_MONTHLY = "two_monthly"
    MID_POINT = "mid_point"
    FINAL = "final"
    AD_HOC = "ad_hoc"

    @property
    def label(self) -> str:
        return {
            "initial": "Initial meeting",
            "two_monthly": "Two-monthly review",
            "mid_point": "Mid-point review",
            "final": "Final review",
            "ad_hoc": "Ad hoc meeting",
        }[self.value]


class Meeting(db.Model):
    __table_args__ = (sa.Index("ix_meeting_programme_date", "preceptorship_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptorship_id: Mapped[int] = mapped_column(sa.ForeignKey("preceptorship.id"))
    meeting_type: Mapped[MeetingType] = mapped_column(enum_column(MeetingType))
    scheduled_for: Mapped[date]
    held_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}  # two tabs correcting one record: one wins

    preceptorship: Mapped["Preceptorship"] = relationship()  # noqa: F821
    actions: Mapped[list["MeetingAction"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingAction.due_on"
    )


class MeetingAction(db.Model):
    __tablename__ = "meeting_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(sa.String(500))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    due_on: Mapped[date | None]
    done_on: Mapped[date | None]

    meeting: Mapped[Meeting] = relationship(back_populates="actions")
