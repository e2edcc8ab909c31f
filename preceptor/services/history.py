"""A milestone's history, read from the append-only audit log (never from mutable rows alone)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import AuditEvent, SignOffRequest, User

WORDS = {
    "milestone.set_evidence": "Evidence changed",
    "milestone.request_sign_off": "Sign-off requested",
    "milestone.withdraw_request": "Request withdrawn",
    "milestone.sign_off": "Signed off",
    "milestone.return": "Returned with an action plan",
    "milestone.reopen": "Reopened",
    "milestone.framework_update": "Moved to a newer framework version",
    "milestone.framework_add": "Added by a framework change",
}


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    who: str
    what: str
    text: str  # the words that went with it: summary, comment, action plan or reason


def milestone_history(milestone_id: int) -> list[HistoryItem]:
    """Every recorded event on the milestone and its requests, oldest first, in one query."""
    request = aliased(SignOffRequest)
    rows = db.session.execute(
        select(AuditEvent, User.name, request)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(request, and_(AuditEvent.object_type == "sign_off_request", request.id == AuditEvent.object_id))
        .where(or_(and_(AuditEvent.object_type == "milestone", AuditEvent.object_id == milestone_id),
                   request.milestone_id == milestone_id))
        .order_by(AuditEvent.at, AuditEvent.id))
    return [HistoryItem(event.at, name or "System", WORDS.get(event.action, event.action), _text(event, req))
            for event, name, req in rows]


def _text(event: AuditEvent, request: SignOffRequest | None) -> str:
    if event.reason:
        return event.reason
    if request is None:
        return ""
    return {"milestone.request_sign_off": request.summary, "milestone.sign_off": request.comment,
            "milestone.return": request.action_plan}.get(event.action) or ""
