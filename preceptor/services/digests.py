"""The daily digest: one email per person listing what they chose to hear about once a day.

Run daily (`flask --app preceptor notifications digest`); the digest goes into the outbox like
any other message, and the messages it lists are marked `digested` with a link to it, in the
same transaction, so each is listed in exactly one digest.
"""

from itertools import groupby

from flask import render_template
from sqlalchemy import select, update

from ..extensions import db
from ..models import Delivery, NotificationPreference, OutboxMessage, OutboxStatus, User
from .notifications import absolute


def compose_digests() -> int:
    """Fold each person's waiting digest messages into one outbox message; returns how many
    digests were written. The caller commits."""
    waiting = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DIGEST)
        .order_by(OutboxMessage.user_id, OutboxMessage.id).with_for_update(skip_locked=True)).all()
    turned_off = set(db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.category)
        .where(NotificationPreference.delivery == Delivery.OFF,
               NotificationPreference.user_id.in_({m.user_id for m in waiting if m.user_id}))).all())
    written = 0
    for user_id, group in groupby(waiting, key=lambda m: m.user_id):
        items = list(group)
        if not _take(items):
            continue  # another run took them first
        user = db.session.get(User, user_id) if user_id else None
        if user is None or not user.is_active:
            _leave_out(items, "the person's account is closed")
            continue
        off = [item for item in items if (user_id, item.category) in turned_off]
        _leave_out(off, "the person turned these emails off before their digest")
        items = [item for item in items if item not in off]
        if not items:
            continue
        digest = OutboxMessage(
            user_id=user.id, category=None, to_address=user.email,
            subject=f"Your preceptorship digest: {len(items)} update{'s' if len(items) != 1 else ''}",
            body=render_template("email/digest.txt", user=user, items=items,
                                 notifications=absolute("/notifications"),
                                 settings=absolute("/notifications/settings")),
            status=OutboxStatus.PENDING)
        db.session.add(digest)
        db.session.flush()
        for item in items:
            item.digest_id = digest.id
        written += 1
    return written


def _take(items: list[OutboxMessage]) -> bool:
    """Mark these messages digested, if no other run has: on SQLite the select above locked
    nothing, so the check is in the UPDATE (SQLite runs one writer at a time)."""
    ids = [item.id for item in items]
    taken = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.DIGEST)
        .values(status=OutboxStatus.DIGESTED).execution_options(synchronize_session=False)).rowcount
    for item in items:
        db.session.refresh(item, ["status"])
    return taken == len(ids)


def _leave_out(items: list[OutboxMessage], why: str) -> None:
    for item in items:
        item.last_error = why  # digested into nothing: kept, with the reason
