"""Failed sign-ins are limited per account and per address, in memory or shared through Redis."""

import secrets

import pytest
import redis

from preceptor import create_app
from preceptor.extensions import db
from preceptor.models import Role

from .conftest import Client, config_for
from .factories import PASSWORD

WRONG = "not-the-password-at-all"


def attempt(client, email: str, password: str, **request):
    """A sign-in form posted with `request` options (headers, environ) for the request itself."""
    data = {"email": email, "password": password, "csrf_token": client.csrf_token()}
    return client.post("/sign-in", data=data, **request)


def refused(response) -> bool:
    return response.status_code == 429 and "Too many sign-in attempts" in response.get_data(as_text=True)


def test_an_account_is_paused_after_five_failures_even_for_the_right_password(client, make):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    make.user(Role.PRECEPTEE, email="other@test.nhs.uk")
    db.session.commit()
    for _ in range(5):
        assert client.sign_in("nq@test.nhs.uk", WRONG).status_code == 200
    response = client.sign_in("NQ@test.nhs.uk", PASSWORD)  # the same account, however it is typed
    assert refused(response)
    html = response.get_data(as_text=True)
    assert "Try again in 15 minutes" in html
    assert 14 * 60 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert client.get("/preceptee/").status_code == 302  # not signed in
    # Someone else at the same address is not held up by it.
    assert client.sign_in("other@test.nhs.uk", PASSWORD).status_code == 302


def test_sign_ins_that_work_do_not_count(client, make):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    for _ in range(4):
        assert client.sign_in("nq@test.nhs.uk", WRONG).status_code == 200
    for _ in range(3):
        assert client.sign_in("nq@test.nhs.uk", PASSWORD).status_code == 302
        client.sign_out()
    assert client.sign_in("nq@test.nhs.uk", WRONG).status_code == 200  # the fifth failure
    assert refused(client.sign_in("nq@test.nhs.uk", PASSWORD))


@pytest.fixture
def new_app(database_url):
    """Apps with their own settings on this test's database; their connections closed after."""
    made = []

    def make_app(**settings):
        app = create_app(config_for(database_url, **settings))
        app.test_client_class = Client
        made.append(app)
        return app

    yield make_app
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_an_address_is_paused_after_its_own_limit_across_accounts(new_app, make):
    app = new_app(SIGN_IN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    with app.app_context():
        make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
        db.session.commit()
        client = app.test_client()
        for n in range(3):
            assert client.sign_in(f"guess{n}@test.nhs.uk", WRONG).status_code == 200
        assert refused(client.sign_in("nq@test.nhs.uk", PASSWORD))
        # Another address is not affected.
        elsewhere = attempt(client, "nq@test.nhs.uk", PASSWORD, environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert elsewhere.status_code == 302
        db.session.remove()


def test_behind_a_trusted_proxy_the_limit_is_per_forwarded_address(new_app):
    app = new_app(SIGN_IN_LIMIT_PER_ADDRESS="2 per 15 minutes", TRUSTED_PROXIES=1)
    client = app.test_client()
    one, two = {"X-Forwarded-For": "198.51.100.7"}, {"X-Forwarded-For": "198.51.100.8"}
    for n in range(2):
        assert attempt(client, f"guess{n}@test.nhs.uk", WRONG, headers=one).status_code == 200
    assert refused(attempt(client, "guess9@test.nhs.uk", WRONG, headers=one))
    assert attempt(client, "guess9@test.nhs.uk", WRONG, headers=two).status_code == 200


def redis_url() -> str:
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return url


def test_two_servers_sharing_redis_share_the_count(new_app, make):
    """Failures on one server count on the other: what several servers behind a proxy need."""
    shared = {"RATELIMIT_STORAGE_URI": redis_url(), "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(6)}"}
    first, second = new_app(**shared), new_app(**shared)
    with first.app_context():
        make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
        db.session.commit()
        db.session.remove()
    for n in range(5):
        server = (first, second)[n % 2]
        assert server.test_client().sign_in("nq@test.nhs.uk", WRONG).status_code == 200
    assert refused(first.test_client().sign_in("nq@test.nhs.uk", PASSWORD))
    assert refused(second.test_client().sign_in("nq@test.nhs.uk", PASSWORD))


def test_guesses_from_one_address_do_not_lock_the_person_out_elsewhere(new_app, make):
    """Five wrong passwords from one address pause the account there only; the person signs in
    from their own address. Only many failures from anywhere pause the account for everyone."""
    app = new_app(SIGN_IN_LIMIT_PER_ACCOUNT_ANYWHERE="8 per 15 minutes")
    with app.app_context():
        make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
        db.session.commit()
        client = app.test_client()
        stranger, own, third = ({"REMOTE_ADDR": address} for address in ("203.0.113.9", "10.0.0.5", "10.9.9.9"))
        for _ in range(5):
            assert attempt(client, "nq@test.nhs.uk", WRONG, environ_base=stranger).status_code == 200
        assert refused(attempt(client, "nq@test.nhs.uk", PASSWORD, environ_base=stranger))
        assert attempt(client, "nq@test.nhs.uk", PASSWORD, environ_base=own).status_code == 302
        client.sign_out()
        for _ in range(3):  # 8 failures for the account in all
            assert attempt(client, "nq@test.nhs.uk", WRONG, environ_base=third).status_code == 200
        assert refused(attempt(client, "nq@test.nhs.uk", PASSWORD, environ_base=own))
        db.session.remove()
