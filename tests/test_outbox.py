"""The outbox: notifications and their emails in one transaction, preferences, digests,
unsubscribe tokens, sending through a real SMTP server, retries, and at most once."""

import logging
import socket
import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.mail import FileTransport, SmtpTransport
from preceptor.models import Category, Delivery, Notification, OutboxMessage, OutboxStatus, Role
from preceptor.models._columns import utcnow
from preceptor.services import notifications
from preceptor.services.digests import compose_digests
from preceptor.services.outbox import as_email, backoff, send_due


def outbox(status: OutboxStatus | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.scalars(query))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.received: list = []
        self.refuse_with: str | None = None
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        if self.refuse_with:
            return self.refuse_with
        self.received.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()



def smtp_config(app, port: int) -> SmtpTransport:
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=5)
    return SmtpTransport(app.config)


def test_a_notification_and_its_email_are_written_together_and_roll_back_together(app, make):
    person = make.user(Role.PRECEPTEE, name="Asha Patel")
    db.session.commit()
    notifications.notify(person, Category.SIGN_OFF, "Your milestone was signed off", "/preceptee/")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert outbox() == []

    notifications.notify(person, Category.SIGN_OFF, "Your milestone was signed off", "/preceptee/")
    db.session.commit()
    [message] = outbox(OutboxStatus.PENDING)
    assert message.to_address == person.email and message.subject == "Your milestone was signed off"
    assert "Dear Asha Patel" in message.body and "http://127.0.0.1:5000/preceptee/" in message.body
    assert notifications.unread_count(person.id) == 1


def test_preferences_choose_immediate_digest_or_off(app, make):
    person = make.user(Role.PRECEPTOR)
    assert notifications.set_delivery(person.id, Category.SIGN_OFF, Delivery.OFF)
    assert notifications.set_delivery(person.id, Category.SURVEY, Delivery.DIGEST)
    assert not notifications.set_delivery(person.id, Category.MEETING, Delivery.IMMEDIATE)  # the default
    for category in (Category.SIGN_OFF, Category.SURVEY, Category.MEETING):
        notifications.notify(person, category, f"About {category.value}")
    db.session.commit()
    assert [(m.category, m.status) for m in outbox()] == [
        (Category.SURVEY, OutboxStatus.DIGEST), (Category.MEETING, OutboxStatus.PENDING)]
    assert notifications.unread_count(person.id) == 3  # the portal shows every one


def test_the_daily_digest_lists_each_waiting_message_once(app, make, tmp_path):
    person = make.user(Role.PRECEPTEE, name="Digest Reader")
    notifications.set_delivery(person.id, Category.MILESTONE, Delivery.DIGEST)
    for n in (1, 2):
        notifications.notify(person, Category.MILESTONE, f"Milestone {n} is due in 7 days")
    db.session.commit()
    assert compose_digests() == 1
    db.session.commit()
    assert compose_digests() == 0  # nothing left waiting
    [digest] = outbox(OutboxStatus.PENDING)
    assert digest.subject == "Your preceptorship digest: 2 updates"
    assert "Milestone 1 is due" in digest.body and "Milestone 2 is due" in digest.body
    assert {m.digest_id for m in outbox(OutboxStatus.DIGESTED)} == {digest.id}
    assert str(send_due(FileTransport(tmp_path))) == "1 sent, 0 to retry, 0 failed"
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_an_unsubscribe_token_names_one_person_and_category_and_cannot_be_altered(app, make):
    token = notifications.unsubscribe_token(7, Category.SURVEY)
    assert notifications.read_unsubscribe_token(token) == (7, Category.SURVEY)
    for tampered in (token[:-2] + "xx", token.replace(token[0], "A" if token[0] != "A" else "B", 1), "", "a.b",
                     "%00" * 10):
        assert notifications.read_unsubscribe_token(tampered) is None


def test_sending_through_smtp_delivers_each_message_once(app, make):
    person = make.user(Role.PRECEPTEE)
    notifications.notify(person, Category.ALLOCATION, "You have a preceptor", "/preceptee/")
    db.session.commit()
    with Sink() as sink:
        transport = smtp_config(app, sink.port)
        assert str(send_due(transport)) == "1 sent, 0 to retry, 0 failed"
        assert str(send_due(transport)) == "0 sent, 0 to retry, 0 failed"
    assert as_email(outbox()[0])["Message-ID"] == as_email(outbox()[0])["Message-ID"]  # the same on a retry
    [received] = sink.received
    assert received["To"] == person.email and received["Subject"] == "You have a preceptor"
    assert "/unsubscribe/" in received.get_content()
    assert received["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/unsubscribe/")  # readable, not encoded
    token = received["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert notifications.read_unsubscribe_token(token) == (person.id, Category.ALLOCATION)
    assert outbox()[0].status is OutboxStatus.SENT and outbox()[0].sent_at is not None


def test_smtp_down_is_retried_with_backoff_and_kept(app, make, caplog):
    person = make.user(Role.PRECEPTEE)
    notifications.notify(person, Category.ALLOCATION, "You have a preceptor")
    db.session.commit()
    with Sink() as sink:
        port = sink.port
    transport = smtp_config(app, port)  # nothing listens there now
    start = utcnow()
    with caplog.at_level(logging.WARNING, logger="preceptor.outbox"):
        assert str(send_due(transport, now=start)) == "0 sent, 1 to retry, 0 failed"
    [message] = outbox()
    assert message.status is OutboxStatus.PENDING and message.attempts == 1
    assert message.next_attempt_at == start + backoff(1) and "ConnectionRefusedError" in message.last_error
    assert f"outbox message {message.id}" in caplog.text and "will be retried" in caplog.text
    assert str(send_due(transport, now=start)) == "0 sent, 0 to retry, 0 failed"  # not due yet
    assert backoff(2) == 2 * backoff(1) and backoff(30) == timedelta(hours=6)

    app.config["MAIL_MAX_ATTEMPTS"] = 2
    assert str(send_due(transport, now=start + timedelta(hours=1))) == "0 sent, 0 to retry, 1 failed"
    db.session.refresh(message)
    assert message.status is OutboxStatus.FAILED and message.attempts == 2  # kept, not deleted


@pytest.mark.parametrize(("email", "body", "error"), [
    ("not-an-address", "Hello", "is not a valid email address"),
    (None, "x" * 2_000_000, "over the limit"),
])
def test_a_bad_address_or_a_huge_message_fails_with_a_reason_and_is_kept(app, make, tmp_path, caplog, email, body,
                                                                         error):
    person = make.user(Role.PRECEPTEE)
    notifications.notify(person, Category.SURVEY, "A survey is open")
    [message] = outbox()
    message.body = body
    if email:
        message.to_address = email
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="preceptor.outbox"):
        assert str(send_due(FileTransport(tmp_path))) == "0 sent, 0 to retry, 1 failed"
    db.session.refresh(message)
    assert message.status is OutboxStatus.FAILED and error in message.last_error
    assert "failed and is kept" in caplog.text
    assert list(tmp_path.glob("*.eml")) == []


def test_a_server_that_refuses_the_message_permanently_is_not_retried(app, make):
    person = make.user(Role.PRECEPTEE)
    notifications.notify(person, Category.SURVEY, "A survey is open")
    db.session.commit()
    with Sink() as sink:
        sink.refuse_with = "552 Message size exceeds fixed maximum message size"
        assert str(send_due(smtp_config(app, sink.port))) == "0 sent, 0 to retry, 1 failed"
    assert "refused the message (552)" in outbox()[0].last_error


def test_two_senders_at_once_send_each_message_exactly_once(app, make):
    """PostgreSQL: row locks, skipping rows the other sender holds. SQLite: one writer at a
    time, and a claim that re-checks the status."""
    people = [make.user(Role.PRECEPTEE) for _ in range(4)]
    for n in range(60):
        notifications.notify(people[n % 4], Category.SURVEY, f"Message {n}")
    db.session.commit()
    barrier = threading.Barrier(2)
    reports, errors = [], []

    with Sink() as sink:
        transport = smtp_config(app, sink.port)

        def sender():
            with app.app_context():
                try:
                    barrier.wait()
                    reports.append(send_due(transport))
                except Exception as error:  # noqa: BLE001  reported below, not lost in the thread
                    errors.append(error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads) and errors == []
    subjects = sorted(str(m["Subject"]) for m in sink.received)
    assert subjects == sorted(f"Message {n}" for n in range(60))  # each once: no gaps, no copies
    assert len(reports) == 2 and all(report.sent > 0 for report in reports), reports  # both took part
    assert {m.status for m in outbox()} == {OutboxStatus.SENT}


def test_the_send_and_digest_commands_write_eml_files_in_the_instance_outbox(app, make, runner, tmp_path):
    app.instance_path = str(tmp_path)
    person = make.user(Role.PRECEPTEE)
    notifications.set_delivery(person.id, Category.SURVEY, Delivery.DIGEST)
    notifications.notify(person, Category.SURVEY, "A survey is open")
    notifications.notify(person, Category.ALLOCATION, "You have a preceptor")
    db.session.commit()
    assert runner.invoke(args=["notifications", "send"]).output == "Outbox: 1 sent, 0 to retry, 0 failed.\n"
    assert runner.invoke(args=["notifications", "digest"]).output == "1 digests written to the outbox.\n"
    assert runner.invoke(args=["notifications", "send"]).output == "Outbox: 1 sent, 0 to retry, 0 failed.\n"
    sent = sorted((tmp_path / "outbox").glob("*.eml"))
    subjects = [message_from_bytes(path.read_bytes(), policy=default_policy)["Subject"] for path in sent]
    assert subjects == ["You have a preceptor", "Your preceptorship digest: 1 update"]


def test_a_message_whose_sender_died_mid_send_is_reported_and_not_sent_again(app, make, tmp_path, caplog):
    person = make.user(Role.PRECEPTEE)
    notifications.notify(person, Category.SURVEY, "A survey is open")
    [message] = outbox()
    message.status, message.claimed_at = OutboxStatus.SENDING, utcnow() - timedelta(hours=2)
    db.session.commit()
    with caplog.at_level(logging.WARNING, logger="preceptor.outbox"):
        assert str(send_due(FileTransport(tmp_path))) == "0 sent, 0 to retry, 0 failed"
    assert f"outbox messages [{message.id}] were claimed over an hour ago" in caplog.text
    assert list(tmp_path.glob("*.eml")) == []


def test_a_digest_leaves_out_what_the_person_turned_off_and_two_runs_write_one(app, make):
    person = make.user(Role.PRECEPTEE)
    for category in (Category.SURVEY, Category.MILESTONE):
        notifications.set_delivery(person.id, category, Delivery.DIGEST)
        notifications.notify(person, category, f"About {category.value}")
    notifications.set_delivery(person.id, Category.SURVEY, Delivery.OFF)  # unsubscribed since
    db.session.commit()
    barrier, written, errors = threading.Barrier(2), [], []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                written.append(compose_digests())
                db.session.commit()
            except Exception as error:  # noqa: BLE001  reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and sorted(written) == [0, 1]
    [digest] = outbox(OutboxStatus.PENDING)
    assert "About milestone" in digest.body and "About survey" not in digest.body
    left_out = next(m for m in outbox(OutboxStatus.DIGESTED) if m.category is Category.SURVEY)
    assert left_out.digest_id is None and "turned these emails off" in left_out.last_error


def test_a_line_break_never_reaches_a_header(app, make, tmp_path):
    person = make.user(Role.PRECEPTEE)
    notifications.notify(person, Category.SIGN_OFF, "Sam\nBcc: everyone@nhs.net asked you to sign off")
    [message] = outbox()
    assert message.subject == "Sam Bcc: everyone@nhs.net asked you to sign off"
    message.subject = "Written\r\nBcc: everyone@nhs.net"  # however one got in, it is refused, not retried
    db.session.commit()
    assert str(send_due(FileTransport(tmp_path))) == "0 sent, 0 to retry, 1 failed"
    assert "cannot be written as an email" in outbox()[0].last_error
