"""The app factory, configuration, start-up checks, the render helper and the command line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2 import DictLoader
from sqlalchemy import select

from preceptor import create_app
from preceptor.config import database_url
from preceptor.extensions import db
from preceptor.models import Role, User
from preceptor.rendering import render_page

from .conftest import config_for

ROOT = Path(__file__).resolve().parent.parent


def test_factory_uses_the_test_config(app, database_url):
    assert app.testing and app.config["SQLALCHEMY_DATABASE_URI"] == database_url


def test_postgres_urls_use_psycopg3():
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "preceptor", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_secret_key_is_written_to_the_instance_on_first_run(tmp_path):
    env = {"PRECEPTOR_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    env.pop("SECRET_KEY", None)
    first = _run(["routes"], {**env, "SECRET_KEY": ""})
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    key = key_file.read_text()
    assert len(key) == 64 and oct(key_file.stat().st_mode & 0o777) == "0o600"
    _run(["routes"], {**env, "SECRET_KEY": ""})
    assert key_file.read_text() == key  # kept, not rotated on every start


def test_unreachable_database_fails_with_one_clear_line(tmp_path):
    url = "postgresql+psycopg://portal:hunter2-secret@127.0.0.1:1/nowhere"
    result = _run(["routes"], {"DATABASE_URL": url, "PRECEPTOR_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot reach the database at postgresql+psycopg://portal:***@127.0.0.1:1/nowhere")
    assert "hunter2" not in result.stderr


def test_sqlite_runs_in_wal_mode(app, databases):
    if databases.dialect != "sqlite":
        pytest.skip("WAL is a SQLite setting; this run is on PostgreSQL")
    assert db.session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(db.text("PRAGMA busy_timeout")).scalar() == 10000


@pytest.fixture
def region_app(database_url):
    """An app with a page that has one swappable region, to test the render helper alone."""
    app = create_app(config_for(database_url))
    app.jinja_env.loader.loaders.insert(0, DictLoader({
        "region_test.html": "<main>whole page {% block count %}<p id='count'>{{ n }}</p>{% endblock %}</main>",
    }))
    app.add_url_rule("/region-test", "region_test", lambda: render_page("region_test.html", regions=("count",), n=3))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("headers, whole", [
    ({}, True),
    ({"HX-Request": "true", "HX-Target": "count"}, False),
    ({"HX-Request": "true", "HX-Target": "count", "HX-Boosted": "true"}, True),  # boosted navigation
    ({"HX-Request": "true", "HX-Target": "elsewhere"}, True),
    ({"HX-Request": "true"}, True),
])
def test_render_helper_returns_page_or_region(region_app, headers, whole):
    response = region_app.test_client().get("/region-test", headers=headers)
    html = response.get_data(as_text=True)
    assert ("whole page" in html) is whole
    assert "<p id='count'>3</p>" in html
    assert {"HX-Request", "HX-Target"} <= set(response.vary)


def test_every_page_sends_security_headers(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_hsts_only_over_https_and_behind_a_proxy_only_when_trusted(app, client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
    secure = client.get("/sign-in", base_url="https://portal.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    assert "Strict-Transport-Security" not in client.get("/sign-in", headers=forwarded).headers  # anyone can send it
    proxied = create_app(config_for(app.config["DATABASE_URL"], TRUSTED_PROXIES=1))
    try:
        assert "Strict-Transport-Security" in proxied.test_client().get("/sign-in", headers=forwarded).headers
    finally:
        with proxied.app_context():
            db.engine.dispose()


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_create_user_asks_for_the_password_without_echoing_it(runner):
    result = runner.invoke(args=["create-user", "--email", "New.Lead@NHS.net", "--name", "New Lead",
                                 "--role", "education_lead", "--role", "preceptor", "--hcpc", "ra100200"],
                           input="a-long-enough-password\na-long-enough-password\n")
    assert result.exit_code == 0, result.output
    assert "a-long-enough-password" not in result.output
    user = db.session.scalar(select(User).where(User.email == "new.lead@nhs.net"))
    assert user.roles == {Role.EDUCATION_LEAD, Role.PRECEPTOR} and user.hcpc_number == "RA100200"


@pytest.mark.parametrize("args, message", [
    (["--hcpc", "XX1"], "RA followed by numbers"),
    (["--role", "superuser"], "Invalid value for '--role'"),
])
def test_create_user_refuses_bad_input(runner, args, message):
    base = {"--email": "x@nhs.net", "--name": "X", "--role": "admin", "--password": "a-long-enough-password"}
    flat = [part for key, value in base.items() if key not in args for part in (key, value)]
    result = runner.invoke(args=["create-user", *flat, *args])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(User)) is None


def test_create_user_refuses_a_duplicate_email_whatever_its_case(runner, make):
    make.user(Role.ADMIN, email="taken@nhs.net")
    db.session.commit()
    result = runner.invoke(args=["create-user", "--email", "TAKEN@nhs.net", "--name", "Other", "--role", "admin",
                                 "--password", "a-long-enough-password"])
    assert result.exit_code != 0 and "already exists" in result.output


@pytest.mark.parametrize("value, shown", [(0, "0"), (10, "10"), ("12.50", "12.5"), ("7.25", "7.25"),
                                          ("20.00", "20"), (None, "")])
def test_hours_are_shown_without_trailing_zeros(value, shown):
    from decimal import Decimal

    from preceptor.templating import hours

    assert hours(Decimal(value) if isinstance(value, str) else value) == shown
