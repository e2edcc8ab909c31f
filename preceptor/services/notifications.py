"""Telling people: a notification in the portal and, by their preference, an email in the
outbox, both added to the caller's transaction (the caller commits with the event).

A `key` makes a notification idempotent (reminders pass one): a person is told about the same
key once, however often the reminder job runs.
"""

from collections.abc import Iterable
from datetime import datetime

from flask import current_app, has_request_context, render_template, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import (
    Category,
    Delivery,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    User,
)
from ..models._columns import utcnow

MESSAGE_MAX = 300


def notify(user: User, category: Category, message: str, link: str | None = None, *,
           key: str | None = None) -> Notification | None:
    """Tell `user`; returns None when they were already told about `key` or cannot be told
    (deactivated or erased)."""
    if not user.is_active:
        return None
    message = " ".join(message.split())  # no line breaks: the message is also an email's subject
    if key is not None and db.session.scalar(select(Notification.id).where(
            Notification.user_id == user.id, Notification.key == key)) is not None:
        return None
    notification = Notification(user_id=user.id, category=category, message=message[:MESSAGE_MAX],
                                link=link, key=key)
    db.session.add(notification)
    delivery = delivery_for(user.id, category)
    if delivery is not Delivery.OFF:
        db.session.add(OutboxMessage(
            user_id=user.id, notification=notification, category=category, to_address=user.email,
            subject=message[:200], body=email_body(user, category, message, link),
            status=OutboxStatus.DIGEST if delivery is Delivery.DIGEST else OutboxStatus.PENDING))
    return notification


def notify_all(users: Iterable[User], category: Category, message: str, link: str | None = None, *,
               key: str | None = None) -> int:
    """Tell each of `users` once (a person listed twice, say as preceptor and lead, hears once)."""
    seen: set[int] = set()
    told = 0
    for user in users:
        if user is not None and user.id not in seen:
            seen.add(user.id)
            told += notify(user, category, message, link, key=key) is not None
    return told


def link_to(endpoint: str, **values) -> str:
    """The path of a page, in a request or not (events also happen in CLI jobs and seeding)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute(path: str | None) -> str:
    return current_app.config["PORTAL_URL"].rstrip("/") + (path or "/")


def email_body(user: User, category: Category, message: str, link: str | None) -> str:
    return render_template("email/notification.txt", user=user, message=message, link=absolute(link),
                           settings=absolute("/notifications/settings"),
                           unsubscribe=absolute(f"/unsubscribe/{unsubscribe_token(user.id, category)}"),
                           category=category)


# Preferences --------------------------------------------------------------------------------

def preferences(user_id: int) -> dict[Category, Delivery]:
    chosen = dict(db.session.execute(select(NotificationPreference.category, NotificationPreference.delivery)
                                     .where(NotificationPreference.user_id == user_id)).all())
    return {category: chosen.get(category, Delivery.IMMEDIATE) for category in Category}


def delivery_for(user_id: int, category: Category) -> Delivery:
    chosen = db.session.get(NotificationPreference, (user_id, category))
    return chosen.delivery if chosen else Delivery.IMMEDIATE


def set_delivery(user_id: int, category: Category, delivery: Delivery) -> bool:
    """Record a choice; True when it changed anything."""
    row = db.session.get(NotificationPreference, (user_id, category))
    if row is None:
        if delivery is Delivery.IMMEDIATE:
            return False
        db.session.add(NotificationPreference(user_id=user_id, category=category, delivery=delivery))
        return True
    if row.delivery is delivery:
        return False
    row.delivery = delivery
    return True


# Unsubscribe links: signed, so they need no sign-in and cannot be changed to another person
# or category; they never expire, because old emails are read late.

def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_token(user_id: int, category: Category) -> str:
    return _signer().dumps([user_id, category.value])


def read_unsubscribe_token(token: str) -> tuple[int, Category] | None:
    try:
        user_id, category = _signer().loads(token)
        return int(user_id), Category(category)
    except (BadSignature, ValueError, TypeError):
        return None


# The list in the portal ---------------------------------------------------------------------

def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))


def recent(user_id: int, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def mark_read(user_id: int, notification_id: int, when: datetime | None = None) -> bool:
    """Mark one of the user's own notifications read; False when it is not theirs."""
    result = db.session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=when or utcnow()))
    return result.rowcount == 1 or db.session.scalar(select(Notification.id).where(
        Notification.id == notification_id, Notification.user_id == user_id)) is not None


def mark_all_read(user_id: int, when: datetime | None = None) -> int:
    return db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=when or utcnow())).rowcount
