"""Writing the append-only audit log, in the same transaction as the change it records."""

from typing import Any

from flask_login import current_user

from ..extensions import db
from ..models import AuditEvent


def record(action: str, obj: Any = None, *, actor_id: int | None = None, reason: str | None = None,
           preceptorship_id: int | None = None, department_id: int | None = None,
           details: dict | None = None) -> AuditEvent:
    """Add an audit event for `obj` (flushed so it gets the object's id). Never commits.

    `details` must hold ids and values, not names: the log outlives people's erasure.
    """
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()
    if actor_id is None and current_user and current_user.is_authenticated:
        actor_id = current_user.id
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        object_type=type(obj).__tablename__ if obj is not None else "system",
        object_id=getattr(obj, "id", None) if obj is not None else None,
        preceptorship_id=preceptorship_id,
        department_id=department_id,
        reason=reason,
        details=details,
    )
    db.session.add(event)
    return event
