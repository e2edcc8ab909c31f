"""What an administrator sees of the outbox: how many emails are in each state, the ones that
failed or are stuck, and sending a failed one again (to the person's current address, so a
corrected email address fixes it)."""

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import OutboxMessage, OutboxStatus, User
from ..models._columns import utcnow
from . import audit
from .outbox import STUCK_AFTER

NEEDS_A_LOOK = 50  # messages listed on the page at most


class RetryRefused(Exception):
    """The message cannot be sent again; the message says why."""


def counts() -> dict[OutboxStatus, int]:
    found = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return {status: found.get(status, 0) for status in OutboxStatus}


def needing_a_look() -> list[tuple[OutboxMessage, User | None]]:
    """Failed messages, and messages claimed long ago and never recorded, newest first."""
    stuck = (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_at < utcnow() - STUCK_AFTER)
    return list(db.session.execute(
        select(OutboxMessage, User).outerjoin(User, User.id == OutboxMessage.user_id)
        .where((OutboxMessage.status == OutboxStatus.FAILED) | stuck)
        .order_by(OutboxMessage.id.desc()).limit(NEEDS_A_LOOK)).all())


def retry(message: OutboxMessage, by: User) -> None:
    """Put a failed (or stuck) message back in the queue, to the person's current address."""
    stuck = message.status is OutboxStatus.SENDING and message.claimed_at < utcnow() - STUCK_AFTER
    if message.status is not OutboxStatus.FAILED and not stuck:
        raise RetryRefused("This email has not failed, so there is nothing to send again")
    person = db.session.get(User, message.user_id) if message.user_id else None
    if person is None or not person.is_active:
        raise RetryRefused("The person's account is closed, so the email cannot be sent again")
    before = message.status
    # Only from the state this page saw: two clicks at once put it back once, and a message a
    # sender has claimed since is left alone.
    changed = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id, OutboxMessage.status == before)
        .values(to_address=person.email, status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
                last_error=None)
        .execution_options(synchronize_session="fetch")).rowcount
    if changed != 1:
        raise RetryRefused("Someone else has just sent this email again")
    audit.record("outbox.retry", message, actor_id=by.id, details={"was": before.value, "user": person.id})
