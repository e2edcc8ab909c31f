"""The append-only audit log, and the redactions erasure makes to it.

Rows hold ids, not names, but a reason is typed by a person and may name someone. The ORM
refuses updates and deletes here, and database triggers (created by the migrations) refuse
them from any other client, with one exception: erasing a person may rewrite an event's reason
and details to exactly the redacted values recorded first in `audit_redaction`, and nothing else.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._columns import Timestamp, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_object", "object_type", "object_id"),
        sa.Index("ix_audit_event_programme", "preceptorship_id", "at"),
        sa.Index("ix_audit_event_department", "department_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(60), index=True)  # e.g. "milestone.sign_off"
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int | None]
    preceptorship_id: Mapped[int | None] = mapped_column(sa.ForeignKey("preceptorship.id"))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict | None] = mapped_column(sa.JSON)


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise AuditLogIsAppendOnly("audit events are never updated or deleted")


class AuditRedaction(db.Model):
    """Erasure's permit to rewrite one event's reason and details, and the record that it did.
    The database triggers allow an update of `audit_event` only to these exact values."""

    __tablename__ = "audit_redaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("audit_event.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))  # whose details were taken out
    redacted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    redacted_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict | None] = mapped_column(sa.JSON)
