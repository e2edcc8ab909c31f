"""Sending the outbox: claim due messages, send each, record what happened.

At most once: a message is claimed (status `sending`) in a committed transaction before it is
sent, and a claimed message is never claimed again. Two senders at once cannot both claim a
row: on PostgreSQL the claim locks rows and skips those another sender holds; on SQLite the
claim is a single UPDATE, and SQLite runs one writer at a time. If a sender dies between
sending and recording, its message stays `sending` and is reported, not sent twice.

A failure worth retrying puts the message back with a delay that doubles each attempt
(1, 2, 4 ... minutes, at most 6 hours); after MAIL_MAX_ATTEMPTS, or on a permanent failure,
the message is kept as `failed` with its error.
"""

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db
from ..mail import PermanentFailure
from ..models import OutboxMessage, OutboxStatus
from ..models._columns import utcnow
from .notifications import absolute, unsubscribe_token

log = logging.getLogger("preceptor.outbox")

EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
MAX_DELAY = timedelta(hours=6)
# Long headers (the unsubscribe link) stay on one line: folded, Python would encode the link
# and mail programs could not read it. 998 is SMTP's own limit.
ONE_LINE_HEADERS = default_policy.clone(max_line_length=998)
STUCK_AFTER = timedelta(hours=1)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_DELAY)


def claim(limit: int, now: datetime, sender: str) -> tuple[list[int], bool]:
    """Claim up to `limit` due messages for `sender` and commit the claim. Returns the ids
    claimed and whether any were due (another sender may have claimed them all first)."""
    due = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)).all()
    if not due:
        db.session.commit()
        return [], False
    # The status check again: on SQLite the select above locked nothing, and another sender
    # may have claimed some of these since.
    claimed = db.session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, claimed_by=sender, claimed_at=now,
                attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)).all()
    db.session.commit()
    return sorted(claimed), True


def as_email(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    email = EmailMessage(policy=ONE_LINE_HEADERS)
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    # The same id on every attempt, so a mail server that did receive an attempt can drop a copy.
    host = urlsplit(config["PORTAL_URL"]).hostname or "localhost"
    email["Message-ID"] = f"<outbox-{message.id}.{message.created_at:%Y%m%d%H%M%S}@{host}>"
    if message.category is not None and message.user_id is not None:
        # Mail programs show their own "unsubscribe" button for this header.
        token = unsubscribe_token(message.user_id, message.category)
        email["List-Unsubscribe"] = f"<{absolute(f'/unsubscribe/{token}')}>"
    email.set_content(message.body)
    return email


def _record_failure(message: OutboxMessage, error: str, *, permanent: bool, now: datetime) -> bool:
    """Put the message back to retry, or keep it as failed; True when it will be retried."""
    message.last_error = error[:500]
    retry = not permanent and message.attempts < current_app.config["MAIL_MAX_ATTEMPTS"]
    if retry:
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now + backoff(message.attempts)
    else:
        message.status = OutboxStatus.FAILED
    log.warning("outbox message %s to user %s %s: %s", message.id, message.user_id,
                f"will be retried (attempt {message.attempts})" if retry else "failed and is kept", error)
    return retry


def send_one(message: OutboxMessage, transport, now: datetime) -> str:
    """Send one claimed message and record the outcome; returns 'sent', 'retrying' or 'failed'."""
    outcome = "sent"
    try:
        if not EMAIL.match(message.to_address or ""):
            raise PermanentFailure(f"the address {message.to_address!r} is not a valid email address")
        try:
            email = as_email(message)
        except ValueError as error:  # a header the email library refuses (a line break, say)
            raise PermanentFailure(f"the message cannot be written as an email: {error}") from error
        size = len(bytes(email))
        if size > current_app.config["MAIL_MAX_BYTES"]:
            raise PermanentFailure(f"the message is {size:,} bytes, over the limit of "
                                   f"{current_app.config['MAIL_MAX_BYTES']:,}")
        transport.send(email, f"{message.id:08d}")
        message.status, message.sent_at, message.last_error = OutboxStatus.SENT, utcnow(), None
    except PermanentFailure as error:
        _record_failure(message, str(error), permanent=True, now=now)
        outcome = "failed"
    except Exception as error:  # noqa: BLE001  any transport error is retried, never a crash
        outcome = "retrying" if _record_failure(message, f"{type(error).__name__}: {error}",
                                                permanent=False, now=now) else "failed"
    db.session.commit()
    return outcome


def send_due(transport, *, limit: int = 1000, now: datetime | None = None) -> SendReport:
    """Send the messages due now, up to `limit`. Each is claimed just before it is sent, so a
    sender that is stopped leaves at most one message unrecorded, never a batch."""
    sender = uuid.uuid4().hex
    report = SendReport()
    for _ in range(limit):
        now_ = now or utcnow()
        ids, any_due = claim(1, now_, sender)
        if not any_due:
            break
        for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                          .order_by(OutboxMessage.id)).all():
            outcome = send_one(message, transport, now_)
            setattr(report, outcome, getattr(report, outcome) + 1)
    warn_stuck(now or utcnow())
    return report


def warn_stuck(now: datetime) -> int:
    """Messages claimed long ago and never recorded: their sender died mid-send. They are not
    sent again automatically (it may have gone); the log says which to check."""
    stuck = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - STUCK_AFTER)).all()
    if stuck:
        log.warning("outbox messages %s were claimed over an hour ago and not recorded as sent: check the mail "
                    "server's log, then set them back to pending to send them again", stuck)
    return len(stuck)
