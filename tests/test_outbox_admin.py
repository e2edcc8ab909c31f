"""The email outbox page for administrators: failed emails with their reasons, sent again to the
person's corrected address, refusals shown, and the home page's count."""

import pytest
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import AuditEvent, Category, OutboxMessage, OutboxStatus, Role
from preceptor.services import notifications
from tests.factories import PASSWORD


def failed_email(make, **person):
    someone = make.user(Role.PRECEPTEE, **person)
    notifications.notify(someone, Category.SURVEY, "A survey is open <b>now</b>")
    message = db.session.scalar(select(OutboxMessage))
    message.status, message.attempts = OutboxStatus.FAILED, 8
    message.last_error = "the address 'asha@nhs' is not a valid email address"
    message.to_address = "asha@nhs"
    db.session.commit()
    return someone, message


def admin_client(client, make):
    admin = make.user(Role.ADMIN)
    db.session.commit()
    assert client.sign_in(admin.email, PASSWORD).status_code == 302
    return admin


def test_a_failed_email_is_listed_and_sent_again_to_the_corrected_address(client, make):
    someone, message = failed_email(make, name="Asha Patel")
    admin = admin_client(client, make)
    home = client.get("/admin/").get_data(as_text=True)
    assert "1\n      failed email</strong>" in home
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Asha Patel" in page and "is not a valid email address" in page
    assert "A survey is open &lt;b&gt;now&lt;/b&gt;" in page  # escaped

    someone.email = "asha.patel@nhs.net"  # an admin corrects the address
    db.session.commit()
    response = client.submit(f"/admin/outbox/{message.id}/retry", token_from="/admin/outbox")
    assert response.status_code == 302
    db.session.refresh(message)
    assert (message.status, message.attempts, message.to_address, message.last_error) == (
        OutboxStatus.PENDING, 0, "asha.patel@nhs.net", None)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.retry"))
    assert event.actor_id == admin.id and event.object_id == message.id
    assert "No email has failed" in client.get("/admin/outbox").get_data(as_text=True)


def test_sending_again_a_message_that_did_not_fail_is_refused_and_changes_nothing(client, make):
    _, message = failed_email(make)
    message.status = OutboxStatus.SENT
    db.session.commit()
    admin_client(client, make)
    response = client.submit(f"/admin/outbox/{message.id}/retry", token_from="/admin/outbox")
    assert response.status_code == 400
    assert "This email has not failed" in response.get_data(as_text=True)
    db.session.refresh(message)
    assert message.status is OutboxStatus.SENT and message.attempts == 8


def test_an_email_to_someone_deactivated_is_not_sent_again(client, make):
    someone, message = failed_email(make)
    someone.active = False
    db.session.commit()
    admin_client(client, make)
    response = client.submit(f"/admin/outbox/{message.id}/retry", token_from="/admin/outbox")
    assert response.status_code == 400 and "account is closed" in response.get_data(as_text=True)
    db.session.refresh(message)
    assert message.status is OutboxStatus.FAILED


def test_an_unknown_message_is_not_found_and_a_missing_token_changes_nothing(client, make):
    _, message = failed_email(make)
    admin_client(client, make)
    assert client.submit("/admin/outbox/999999/retry", token_from="/admin/outbox").status_code == 404
    assert client.post(f"/admin/outbox/{message.id}/retry").status_code == 400
    db.session.refresh(message)
    assert message.status is OutboxStatus.FAILED


def test_two_clicks_on_send_again_put_the_email_back_once(app, make):
    from preceptor.services import outbox_review

    _, message = failed_email(make)
    admin = make.user(Role.ADMIN)
    db.session.commit()
    seen = db.session.get(OutboxMessage, message.id)  # the page was drawn with it failed
    db.session.execute(OutboxMessage.__table__.update().values(status="sending"))  # a sender claimed it since
    with pytest.raises(outbox_review.RetryRefused, match="Someone else"):
        outbox_review.retry(seen, admin)
