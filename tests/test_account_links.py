"""Invitation and reset links, and changing one's own password.

The service (issue, find, use) and the pages: a link works once, then is refused as used;
an expired, unknown or garbled link, or one for an inactive account, is refused and changes
nothing; the password policy shows its messages by the field; a reset ends the old password
and every session; changing a password ends the other sessions but keeps this one.
"""

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from preceptor.extensions import db
from preceptor.models import AccountLink, AuditEvent, LinkPurpose, Role, User
from preceptor.models._columns import utcnow
from preceptor.services import account_links, accounts
from preceptor.services.account_links import LinkRefused
from preceptor.services.passwords import PASSWORD_MAX_LENGTH, TOO_COMMON, TOO_PERSONAL

from .factories import PASSWORD

NEW_PASSWORD = "kettle-orbit-marsh-velvet"
EMAIL = "new.starter@test.nhs.uk"


@pytest.fixture
def invited(make):
    """A new preceptee with no password yet, and the token of their invitation."""
    admin = make.user(Role.ADMIN, email="admin@test.nhs.uk")
    user = make.user(Role.PRECEPTEE, email=EMAIL, name="New Starter", password=None)
    token = account_links.issue(user, LinkPurpose.INVITE, created_by=admin)
    db.session.commit()
    return user, token


def path(token: str) -> str:
    return f"/account/{token}"


def set_password(client, token: str, password: str = NEW_PASSWORD, confirm: str | None = None, **kwargs):
    return client.submit(path(token), {"password": password, "confirm": password if confirm is None else confirm},
                         **kwargs)


def fresh(user: User) -> User:
    """The user as the database holds them now (the requests ran in their own sessions)."""
    db.session.expire_all()
    return db.session.get(User, user.id)


def link_of(token: str) -> AccountLink:
    db.session.expire_all()
    return db.session.scalar(select(AccountLink).where(AccountLink.token_hash == account_links.token_hash(token)))


def actions() -> list[str]:
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


# The service

def test_only_a_hash_of_the_token_is_stored_and_the_url_carries_it(app, invited):
    user, token = invited
    link = link_of(token)
    assert link.token_hash != token and token not in link.token_hash
    assert abs(link.expires_at - link.created_at - timedelta(days=7)) < timedelta(seconds=5)
    with app.test_request_context():
        assert account_links.link_url(token) == f"http://localhost/account/{token}"
    assert account_links.find(token).user_id == user.id


def test_a_link_can_be_used_once(app, invited):
    user, token = invited
    account_links.use(token, NEW_PASSWORD)
    db.session.commit()
    assert accounts.authenticate(EMAIL, NEW_PASSWORD) is not None
    with pytest.raises(LinkRefused, match="already been used"):
        account_links.use(token, "another-password-entirely")
    assert accounts.authenticate(EMAIL, NEW_PASSWORD) is not None


def test_issuing_a_new_link_ends_the_old_one(app, invited):
    user, old = invited
    new = account_links.issue(user, LinkPurpose.INVITE)
    db.session.commit()
    with pytest.raises(LinkRefused, match="already been used"):
        account_links.find(old)
    assert account_links.find(new).user_id == user.id


# Following an invitation

def test_invitation_sets_the_password_signs_in_and_then_is_used_up(client, invited):
    user, token = invited
    page = client.get(path(token))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Create a password" in html and EMAIL in html
    assert 'autocomplete="new-password"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"

    response = set_password(client, token)
    assert response.status_code == 302 and response.headers["Location"] == "/preceptee/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    home = client.get("/preceptee/")
    assert home.status_code == 200 and "Your password is set." in home.get_data(as_text=True)
    assert fresh(user).password_hash and link_of(token).used_at is not None
    assert actions()[-2:] == ["account.password_set", "user.sign_in"]

    again = client.get(path(token))
    assert again.status_code == 410
    assert "This link has already been used" in again.get_data(as_text=True)
    assert again.headers["Referrer-Policy"] == "no-referrer"
    assert set_password(client, token, "yet-another-good-password").status_code == 410
    assert accounts.authenticate(EMAIL, NEW_PASSWORD) is not None


def test_the_new_password_signs_in_through_the_sign_in_page(client, invited):
    _, token = invited
    set_password(client, token)
    client.sign_out()
    assert client.sign_in(EMAIL, "not-the-password-at-all").status_code == 200
    response = client.sign_in(EMAIL, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/preceptee/"


def test_an_expired_link_is_refused_and_changes_nothing(client, invited):
    user, token = invited
    link = link_of(token)
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(path(token))
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)
    assert set_password(client, token, token_from="/sign-in").status_code == 410
    assert fresh(user).password_hash is None and link_of(token).used_at is None
    assert client.get("/preceptee/").status_code == 302  # not signed in


@pytest.mark.parametrize("token", ["not-a-real-token", "x", "A" * 43, "%20", "a" * 100, "%E2%80%8B"])
def test_an_unknown_or_garbled_link_is_not_found(client, invited, token):
    response = client.get(path(token))
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_truncated_or_overlong_link_is_not_found(client, invited):
    _, token = invited
    assert client.get(path(token[:-1])).status_code == 404
    assert client.get(path(token + "x")).status_code == 404
    assert client.get(path("a" * 101)).status_code == 404  # longer than any token: not even looked up
    assert client.get(path("..%2F..")).status_code == 404


def test_a_link_for_a_deactivated_person_is_refused(client, invited):
    user, token = invited
    user.active = False
    db.session.commit()
    response = client.get(path(token))
    assert response.status_code == 410 and "This account is not active" in response.get_data(as_text=True)
    assert set_password(client, token, token_from="/sign-in").status_code == 410
    assert fresh(user).password_hash is None


def test_the_older_of_two_links_is_refused(client, invited):
    user, old = invited
    new = account_links.issue(user, LinkPurpose.INVITE)
    db.session.commit()
    assert client.get(path(old)).status_code == 410
    assert client.get(path(new)).status_code == 200


@pytest.mark.parametrize("password, confirm, field, message", [
    ("", "", "password", "Enter a new password"),
    ("tqzvbnwrplm", "tqzvbnwrplm", "password", "Password must be at least 12 characters"),
    ("x" * (PASSWORD_MAX_LENGTH + 1), "x" * (PASSWORD_MAX_LENGTH + 1), "password",
     f"Password must be {PASSWORD_MAX_LENGTH} characters or fewer"),
    ("qwertyuiop123", "qwertyuiop123", "password", TOO_COMMON),
    ("Password123456!", "Password123456!", "password", TOO_COMMON),
    (EMAIL, EMAIL, "password", TOO_PERSONAL),
    ("New Starter 2026", "New Starter 2026", "password", TOO_PERSONAL),
    (NEW_PASSWORD, NEW_PASSWORD + "!", "confirm", "The passwords do not match"),
    (NEW_PASSWORD, "", "confirm", "Enter your new password again"),
])
def test_a_password_against_the_policy_is_refused_by_the_field(client, invited, password, confirm, field, message):
    user, token = invited
    response = set_password(client, token, password, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and f'href="#{field}"' in html
    assert f'id="{field}-error"' in html and message in html
    assert html.count(message) == 2  # in the summary and by the field
    assert "<title>Error: Create a password" in html
    for name in ("password", "confirm"):  # passwords are not sent back
        assert re.search(f'<input[^>]*name="{name}"[^>]*value=', html) is None
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert fresh(user).password_hash is None and link_of(token).used_at is None
    assert client.get("/preceptee/").status_code == 302


def test_twelve_characters_are_enough(client, invited):
    user, token = invited
    assert set_password(client, token, "tqzvbnwrplmk").status_code == 302
    assert accounts.authenticate(EMAIL, "tqzvbnwrplmk") is not None


def test_the_longest_allowed_password_can_sign_in(client, invited):
    """The policy allows PASSWORD_MAX_LENGTH characters: the sign-in form must accept as many."""
    _, token = invited
    longest = "mq" * (PASSWORD_MAX_LENGTH // 2)
    assert set_password(client, token, longest).status_code == 302
    client.sign_out()
    assert client.sign_in(EMAIL, longest).status_code == 302


def test_a_post_without_its_csrf_token_is_refused(client, invited):
    user, token = invited
    client.get(path(token))
    response = client.post(path(token), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert fresh(user).password_hash is None and link_of(token).used_at is None


def test_someone_else_signed_in_is_told_and_then_signed_out(client, make, invited):
    _, token = invited
    make.user(Role.PRECEPTOR, email="colleague@test.nhs.uk", name="A Colleague")
    db.session.commit()
    client.sign_in("colleague@test.nhs.uk", PASSWORD)
    page = client.get(path(token)).get_data(as_text=True)
    assert "You are signed in as A Colleague" in page and "Create a password" in page
    response = set_password(client, token)
    assert response.headers["Location"] == "/preceptee/"
    details = client.get("/your-details").get_data(as_text=True)
    assert EMAIL in details and "colleague@test.nhs.uk" not in details
    assert client.get("/preceptor/").status_code == 403  # no longer the colleague


def test_a_link_spent_by_another_tab_meanwhile_is_refused(client, invited, monkeypatch):
    user, token = invited
    use = account_links.use

    def spent_first(token, password):
        use(token, "the-other-tabs-password")  # the other tab wins the race
        db.session.commit()
        return use(token, password)

    monkeypatch.setattr(account_links, "use", spent_first)
    response = set_password(client, token)
    assert response.status_code == 410 and "already been used" in response.get_data(as_text=True)
    assert client.get("/preceptee/").status_code == 302  # not signed in by the losing tab
    assert accounts.authenticate(EMAIL, "the-other-tabs-password") is not None


# A reset forced by an administrator

def test_a_reset_ends_the_old_password_and_every_session(client, make):
    user = make.user(Role.PRECEPTOR, email="reset.me@test.nhs.uk")
    db.session.commit()
    client.sign_in("reset.me@test.nhs.uk", PASSWORD)
    assert client.get("/preceptor/").status_code == 200

    token = account_links.issue(user, LinkPurpose.RESET)
    db.session.commit()
    assert accounts.authenticate("reset.me@test.nhs.uk", PASSWORD) is None
    response = client.get("/preceptor/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")

    page = client.get(path(token)).get_data(as_text=True)
    assert "Choose a new password" in page and "has been reset" in page
    assert set_password(client, token).headers["Location"] == "/preceptor/"
    db.session.expire_all()
    assert accounts.authenticate("reset.me@test.nhs.uk", NEW_PASSWORD) is not None
    assert accounts.authenticate("reset.me@test.nhs.uk", PASSWORD) is None


# Changing one's own password

@pytest.fixture
def signed_in(client, make):
    user = make.user(Role.PRECEPTOR, email="changer@test.nhs.uk", name="Chris Changer")
    db.session.commit()
    client.sign_in("changer@test.nhs.uk", PASSWORD)
    return user


def change(client, current: str = PASSWORD, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.submit("/your-details/password", {
        "current_password": current, "password": password, "confirm": password if confirm is None else confirm})


def test_your_details_links_to_changing_your_password(client, signed_in):
    assert 'href="/your-details/password"' in client.get("/your-details").get_data(as_text=True)
    page = client.get("/your-details/password")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Change your password" in html
    assert html.index('id="current_password"') < html.index('id="password"') < html.index('id="confirm"')


def test_changing_your_password_ends_other_sessions_but_keeps_this_one(app, client, signed_in):
    other = app.test_client()
    other.sign_in("changer@test.nhs.uk", PASSWORD)
    assert other.get("/preceptor/").status_code == 200

    response = change(client)
    assert response.status_code == 302 and response.headers["Location"] == "/your-details"
    page = client.get("/your-details")
    assert page.status_code == 200 and "Your password has been changed." in page.get_data(as_text=True)
    assert client.get("/preceptor/").status_code == 200
    assert other.get("/preceptor/").headers["Location"].startswith("/sign-in")
    assert accounts.authenticate("changer@test.nhs.uk", NEW_PASSWORD) is not None
    assert accounts.authenticate("changer@test.nhs.uk", PASSWORD) is None
    assert "account.password_changed" in actions()


@pytest.mark.parametrize("current, password, confirm, field, message", [
    ("not-my-password", NEW_PASSWORD, None, "current_password", "Your current password is not correct"),
    ("", NEW_PASSWORD, None, "current_password", "Enter your current password"),
    (PASSWORD, "tqzvbnwrplm", None, "password", "Password must be at least 12 characters"),
    (PASSWORD, "Password123456!", None, "password", TOO_COMMON),
    (PASSWORD, "changer@test.nhs.uk", None, "password", TOO_PERSONAL),
    (PASSWORD, PASSWORD, None, "password", "Your new password must be different from your current password"),
    (PASSWORD, NEW_PASSWORD, "something-else-entirely", "confirm", "The passwords do not match"),
])
def test_a_bad_change_is_refused_by_the_field(client, signed_in, current, password, confirm, field, message):
    response = change(client, current, password, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'href="#{field}"' in html and f'id="{field}-error"' in html and message in html
    assert "<title>Error: Change your password" in html
    assert accounts.authenticate("changer@test.nhs.uk", PASSWORD) is not None
    assert client.get("/preceptor/").status_code == 200  # still signed in
    assert "account.password_changed" not in actions()


def test_changing_your_password_needs_the_csrf_token(client, signed_in):
    response = client.post("/your-details/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert accounts.authenticate("changer@test.nhs.uk", PASSWORD) is not None


def test_changing_a_password_needs_signing_in(client):
    response = client.get("/your-details/password")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=")


def test_access_logs_hide_the_token(app, caplog):
    """The web servers' request lines (werkzeug's, gunicorn's) show the link without its token."""
    caplog.set_level(logging.INFO)
    logging.getLogger("werkzeug").info('127.0.0.1 - - [x] "%s" %s -', "POST /account/s3cret-T0ken_x HTTP/1.1", 302)
    logging.getLogger("gunicorn.access").info('%(r)s %(s)s', {"r": "GET /account/s3cret-T0ken_x HTTP/1.1", "s": 200})
    logging.getLogger("werkzeug").info('"%s" %s -', "GET /preceptee/ HTTP/1.1", 200)
    assert "s3cret" not in caplog.text
    assert caplog.text.count("/account/[hidden] HTTP/1.1") == 2 and "GET /preceptee/ HTTP/1.1" in caplog.text


def test_guessing_the_current_password_is_limited_like_signing_in(client, signed_in):
    """Someone at an unlocked desk cannot guess the owner's password on this form either; a weak
    new password is not a guess and does not count."""
    for _ in range(3):
        assert change(client, password="short").status_code == 400  # the new one is refused, not counted
    for _ in range(5):
        response = change(client, current="not-my-password-at-all")
        assert response.status_code == 400 and "Your current password is not correct" in response.get_data(as_text=True)
    refused = change(client)
    assert refused.status_code == 429 and "Too many wrong passwords" in refused.get_data(as_text=True)
    assert check_password_hash(db.session.get(User, signed_in.id).password_hash, PASSWORD)  # unchanged
