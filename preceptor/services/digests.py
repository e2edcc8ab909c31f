"""The daily digest: one email per person listing what they chose to hear about once a day.

Run daily (`flask --app preceptor notifications digest`); the digest goes into the outbox like
any other message, and the messages it lists are marked `digested` with a link to it, in the
same transaction, so each is listed in exactly one digest.
"""

from itertools import groupby

from flask import render_template
from sqlalchemy import select

from ..extensions import db
from ..models import OutboxMessage, OutboxStatus, User
from .notifications import absolute


def compose_digests() -> int:
    """Fold each person's waiting digest messages into one outbox message; returns how many
    digests were written. The caller commits."""
    waiting = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DIGEST)
        .order_by(OutboxMessage.user_id, OutboxMessage.id).with_for_update(skip_locked=True)).all()
    written = 0
    for user_id, group in groupby(waiting, key=lambda m: m.user_id):
        items = list(group)
        user = db.session.get(User, user_id) if user_id else None
        if user is None or not user.is_active:
            for item in items:
                item.status, item.last_error = OutboxStatus.FAILED, "the person's account is closed"
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
            item.status, item.digest_id = OutboxStatus.DIGESTED, digest.id
        written += 1
    return written
