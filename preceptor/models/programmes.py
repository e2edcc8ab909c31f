"""Preceptorship programmes, their status history, preceptor profiles and allocations."""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column, utcnow
from .organisation import Department
from .people import User


class TransitionType(enum.StrEnum):
    NEWLY_QUALIFIED = "newly_qualified"
    RETURN_TO_PRACTICE = "return_to_practice"
    INTERNATIONAL_RECRUIT = "international_recruit"
    NEW_ROLE = "new_role"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ProgrammeStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    EXTENDED = "extended"
    COMPLETED = "completed"
    LEFT = "left"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_running(self) -> bool:
        return self in RUNNING_STATUSES


# A running programme holds a preceptor's place: the load in capacity counts these.
RUNNING_STATUSES = (ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED, ProgrammeStatus.EXTENDED)


class Preceptorship(db.Model):
    """One preceptee's programme in one department."""

    __table_args__ = (sa.Index("ix_preceptorship_department_status", "department_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptee_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    transition: Mapped[TransitionType] = mapped_column(enum_column(TransitionType))
    start_date: Mapped[date] = mapped_column(index=True)
    planned_end_date: Mapped[date]
    status: Mapped[ProgrammeStatus] = mapped_column(enum_column(ProgrammeStatus), default=ProgrammeStatus.ACTIVE)
    # For completed and left programmes: the day it ended, and why (leaving reason).
    ended_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    preceptee: Mapped[User] = relationship(foreign_keys=[preceptee_id])
    department: Mapped[Department] = relationship()
    allocations: Mapped[list["Allocation"]] = relationship(
        back_populates="preceptorship", order_by="Allocation.starts_on"
    )
    status_changes: Mapped[list["StatusChange"]] = relationship(
        back_populates="preceptorship", order_by="StatusChange.id"
    )

    @property
    def current_allocation(self) -> "Allocation | None":
        return next((a for a in self.allocations if a.ends_on is None), None)


class StatusChange(db.Model):
    """A pause, resumption, extension, completion or leaving, with its reason."""

    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptorship_id: Mapped[int] = mapped_column(sa.ForeignKey("preceptorship.id"), index=True)
    from_status: Mapped[ProgrammeStatus] = mapped_column(enum_column(ProgrammeStatus, name="from_status"))
    to_status: Mapped[ProgrammeStatus] = mapped_column(enum_column(ProgrammeStatus, name="to_status"))
    effective_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(500))
    planned_end_before: Mapped[date | None]
    planned_end_after: Mapped[date | None]
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    preceptorship: Mapped[Preceptorship] = relationship(back_populates="status_changes")


class PreceptorProfile(db.Model):
    """A registered radiographer who is, or could become, a preceptor.

    Untrained staff have a profile without `trained_on`: they are the people who could be
    trained next. Cap falls back to the department's, then to the trust default.
    """

    __tablename__ = "preceptor_profile"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    band: Mapped[int] = mapped_column(sa.SmallInteger, default=6)
    cap: Mapped[int | None] = mapped_column(sa.SmallInteger)
    trained_on: Mapped[date | None]
    registered_on: Mapped[date]
    unavailable_until: Mapped[date | None]
    unavailable_reason: Mapped[str | None] = mapped_column(sa.String(200))
    protected_hours_allowance: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))

    user: Mapped[User] = relationship(lazy="joined")
    department: Mapped[Department] = relationship()


class AllocationEndReason(enum.StrEnum):
    LEFT = "left"
    LEAVE = "leave"
    MISMATCH = "mismatch"
    PROGRAMME_ENDED = "programme_ended"
    OTHER = "other"


class Allocation(db.Model):
    """Who preceptors whom, from when to when. Ended, never deleted: the history is kept."""

    __table_args__ = (
        # At most one current preceptor per programme, enforced by the database.
        sa.Index(
            "uq_allocation_current",
            "preceptorship_id",
            unique=True,
            sqlite_where=sa.text("ends_on IS NULL"),
            postgresql_where=sa.text("ends_on IS NULL"),
        ),
        sa.Index("ix_allocation_preceptor_current", "preceptor_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptorship_id: Mapped[int] = mapped_column(sa.ForeignKey("preceptorship.id"))
    preceptor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    end_reason: Mapped[AllocationEndReason | None] = mapped_column(enum_column(AllocationEndReason))
    end_note: Mapped[str | None] = mapped_column(sa.String(500))
    # Allocating past a preceptor's cap needs a recorded reason.
    over_cap_reason: Mapped[str | None] = mapped_column(sa.String(500))
    allocated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    preceptorship: Mapped[Preceptorship] = relationship(back_populates="allocations")
    preceptor: Mapped[User] = relationship(foreign_keys=[preceptor_id], lazy="joined")


class ProtectedTime(db.Model):
    """Protected preceptor time a preceptor logs for themselves."""

    __tablename__ = "protected_time"
    __table_args__ = (sa.Index("ix_protected_time_preceptor_date", "preceptor_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    preceptor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    occurred_on: Mapped[date]
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    preceptor: Mapped[User] = relationship()
