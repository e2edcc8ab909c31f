"""Notifications: what a person is told in the portal, how they want it by email, and the
outbox of emails waiting to go.

An event writes its notification and its outbox row in the event's own transaction, so one
cannot exist without the other. A sender claims outbox rows, sends them and records the
result; each row is sent at most once.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column, utcnow


class Category(enum.StrEnum):
    """What a notification is about; email preferences and unsubscribe links are per category."""

    SIGN_OFF = "sign_off"  # sign-off requested, signed off, returned
    ALLOCATION = "allocation"  # allocation made or changed
    MILESTONE = "milestone"  # milestone due soon or overdue
    MEETING = "meeting"  # meeting due
    REVIEW = "review"  # a review waiting too long
    SURVEY = "survey"  # survey open, survey reminder

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.SIGN_OFF: "Sign-off requests and decisions",
    Category.ALLOCATION: "Allocations to a preceptor",
    Category.MILESTONE: "Milestones due soon or overdue",
    Category.MEETING: "Meetings due",
    Category.REVIEW: "Reviews waiting more than 5 working days",
    Category.SURVEY: "Surveys open and reminders",
}


class Delivery(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"  # one email a day listing them
    OFF = "off"  # in the portal only


class Notification(db.Model):
    """One thing a person is told. `key` makes a reminder idempotent: a person is told about
    the same key once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    category: Mapped[Category] = mapped_column(enum_column(Category))
    message: Mapped[str] = mapped_column(sa.String(300))
    link: Mapped[str | None] = mapped_column(sa.String(300))
    key: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(Timestamp)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", name="uq_notification_user_key"),
        sa.Index("ix_notification_user_unread", "user_id", "read_at"),
    )


class NotificationPreference(db.Model):
    """How a person wants one category by email; no row means immediately."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[Category] = mapped_column(enum_column(Category), primary_key=True)
    delivery: Mapped[Delivery] = mapped_column(enum_column(Delivery))


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # to send at next_attempt_at
    DIGEST = "digest"  # waiting for the person's daily digest
    SENDING = "sending"  # claimed by a sender; never claimed again (at most once)
    SENT = "sent"
    FAILED = "failed"  # will not be tried again; kept with its error
    DIGESTED = "digested"  # went out inside the digest message `digest_id`


class OutboxMessage(db.Model):
    """An email to send. Kept after sending, as the record of what was sent and when."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    notification_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notification.id", ondelete="SET NULL"), index=True)
    digest_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_message.id"), index=True)
    category: Mapped[Category | None] = mapped_column(enum_column(Category))
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    notification: Mapped[Notification | None] = relationship()

    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)
