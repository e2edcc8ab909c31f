"""Signing in and out: good and bad passwords, inactive users, CSRF, and safe redirects."""

import pytest
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import AuditEvent, Role

from .factories import PASSWORD

GENERIC = "The email address or password is not correct"


def test_good_password_lands_on_the_main_role_home(client, make):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    response = client.sign_in("NQ@test.nhs.uk ", PASSWORD)  # email is case- and space-insensitive
    assert response.status_code == 302
    assert response.headers["Location"] == "/preceptee/"
    page = client.get("/preceptee/")
    assert page.status_code == 200 and "My preceptorship" in page.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "user.sign_in" in actions


@pytest.mark.parametrize("email, password", [
    ("nq@test.nhs.uk", "wrong-password-entirely"),
    ("nobody@test.nhs.uk", PASSWORD),
])
def test_bad_credentials_get_one_generic_message(client, make, email, password):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    response = client.sign_in(email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert GENERIC in html and "There is a problem" in html
    assert f'value="{email}"' in html  # what was typed is kept
    assert client.get("/preceptee/").status_code == 302  # still signed out


def test_inactive_user_cannot_sign_in(client, make):
    make.user(Role.PRECEPTOR, email="gone@test.nhs.uk", active=False)
    db.session.commit()
    response = client.sign_in("gone@test.nhs.uk", PASSWORD)
    assert GENERIC in response.get_data(as_text=True)
    assert client.get("/preceptor/").status_code == 302


def test_deactivation_ends_an_existing_session(client, make):
    user = make.user(Role.PRECEPTOR, email="leaving@test.nhs.uk")
    db.session.commit()
    client.sign_in("leaving@test.nhs.uk", PASSWORD)
    assert client.get("/preceptor/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/preceptor/").status_code == 302


def test_password_change_signs_out_other_sessions(client, make):
    user = make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    client.sign_in("nq@test.nhs.uk", PASSWORD)
    user.auth_version += 1  # what a password change does
    db.session.commit()
    assert client.get("/preceptee/").status_code == 302


def test_empty_and_overlong_fields_get_errors_next_to_them(client):
    response = client.submit("/sign-in", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert "Enter your email address" in html and "Enter your password" in html
    assert 'href="#email"' in html  # the summary links to the field
    response = client.submit("/sign-in", {"email": "a" * 250 + "@x.nhs.uk", "password": "x"})
    assert "254 characters or fewer" in response.get_data(as_text=True)


def test_sign_out(client, make):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    client.sign_in("nq@test.nhs.uk", PASSWORD)
    response = client.sign_out()
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert client.get("/preceptee/").status_code == 302


def test_post_without_csrf_token_is_refused(client, make):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    response = client.post("/sign-in", data={"email": "nq@test.nhs.uk", "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/preceptee/").status_code == 302


def test_csrf_header_works_for_htmx_requests(client, make):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    token = client.csrf_token()
    response = client.post("/sign-in", data={"email": "nq@test.nhs.uk", "password": PASSWORD},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302


@pytest.mark.parametrize("next_url, lands_on", [
    ("/preceptee/", "/preceptee/"),
    ("https://evil.example.com/", "/preceptee/"),
    ("//evil.example.com/path", "/preceptee/"),
    ("/\\evil.example.com", "/preceptee/"),
    ("javascript:alert(1)", "/preceptee/"),
])
def test_next_url_cannot_leave_the_site(client, make, next_url, lands_on):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    response = client.sign_in("nq@test.nhs.uk", PASSWORD, next=next_url)
    assert response.headers["Location"] == lands_on


def test_anonymous_user_is_sent_to_sign_in_and_back(client, make):
    make.user(Role.PRECEPTOR, email="p@test.nhs.uk")
    db.session.commit()
    response = client.get("/preceptor/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=")
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/preceptor/"' in form
    response = client.sign_in("p@test.nhs.uk", PASSWORD, next="/preceptor/")
    assert response.headers["Location"] == "/preceptor/"


def test_person_with_two_roles_can_switch(client, make):
    make.user(Role.EDUCATION_LEAD, Role.PRECEPTOR, email="both@test.nhs.uk")
    db.session.commit()
    assert client.sign_in("both@test.nhs.uk", PASSWORD).headers["Location"] == "/lead/"
    page = client.get("/switch-role").get_data(as_text=True)
    assert "Work as preceptor" in page
    response = client.submit("/switch-role", {"role": "preceptor"})
    assert response.headers["Location"] == "/preceptor/"
    assert client.get("/").headers["Location"] == "/preceptor/"
    # A role they do not hold is refused.
    assert client.submit("/switch-role", {"role": "admin"}).status_code == 400


def test_an_idle_session_ends_on_the_server_even_if_the_browser_keeps_the_cookie(app, client, make):
    """The session cookie is signed with its time; one older than the idle limit is refused by
    the server, whatever the browser does with its expiry. Each request starts the limit again."""
    import time
    from datetime import timedelta

    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=60)  # the default
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=3)
    client.sign_in("nq@test.nhs.uk", PASSWORD)
    cookie = client.get_cookie("session").value
    time.sleep(1.7)
    assert client.get("/preceptee/").status_code == 200  # active: the limit starts again
    time.sleep(1.7)
    assert client.get("/preceptee/").status_code == 200
    time.sleep(1)  # the first cookie is now well past the limit (its time is in whole seconds)
    client.set_cookie("session", cookie)  # the first cookie, kept past the limit
    response = client.get("/preceptee/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_sign_in_starts_a_fresh_session(client, make):
    """Nothing from before sign-in survives it (no session fixation): a value planted in the
    anonymous session and the anonymous CSRF token are both gone."""
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    client.get("/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        before = session.get("csrf_token")
    assert before
    client.sign_in("nq@test.nhs.uk", PASSWORD)
    client.get("/preceptee/")
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("csrf_token") != before
        assert session.get("_user_id")


def test_session_cookie_is_secure_when_configured_for_https(app, client, make):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    assert "Secure" not in client.sign_in("nq@test.nhs.uk", PASSWORD).headers["Set-Cookie"]  # plain HTTP default
    app.config["SESSION_COOKIE_SECURE"] = True
    client.sign_out()
    cookie = client.sign_in("nq@test.nhs.uk", PASSWORD).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
