"""Shared fixtures: an app per test on a fresh database, a client with CSRF helpers, factories.

The schema is built once per run by the real migrations. Each test then gets a fresh
database: on SQLite a copy of the migrated file, on PostgreSQL (TEST_DATABASE_URL) the same
database emptied (TRUNCATE) apart from the fixed HCPC principles.
"""

import os
import re
import shutil
from itertools import count
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from preceptor import create_app
from preceptor.config import database_url as normalised_url
from preceptor.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
KEEP_TABLES = {"principle", "alembic_version"}  # fixed data the migrations insert


def config_for(url: str, **overrides) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": url,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; scrypt in real use
        **overrides,
    }


def migrate(url: str) -> None:
    import flask_migrate

    app = create_app(config_for(url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


class Databases:
    """Hands out a fresh, migrated database URL per test."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.serial = count()
        if TEST_DATABASE_URL:
            self.url = normalised_url(TEST_DATABASE_URL)
            name = make_url(self.url).database or ""
            if "test" not in name:
                raise RuntimeError(f"refusing to wipe database {name!r}: its name must contain 'test'")
            engine = create_engine(self.url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
            migrate(self.url)
            self.engine = create_engine(self.url)
            with self.engine.connect() as connection:
                tables = connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                ).scalars()
                self.tables = sorted(set(tables) - KEEP_TABLES)
        else:
            self.template = tmp / "template.sqlite3"
            migrate(f"sqlite:///{self.template}")

    @property
    def dialect(self) -> str:
        return "postgresql" if TEST_DATABASE_URL else "sqlite"

    def fresh(self) -> str:
        if TEST_DATABASE_URL:
            quoted = ", ".join(f'"{t}"' for t in self.tables)
            with self.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            return self.url
        path = self.tmp / f"test-{next(self.serial)}.sqlite3"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    databases = Databases(tmp_path_factory.mktemp("databases"))
    yield databases
    if TEST_DATABASE_URL:
        databases.engine.dispose()


@pytest.fixture
def database_url(databases) -> str:
    """A URL to a freshly migrated, empty database (principles only) for this test."""
    return databases.fresh()


@pytest.fixture
def app(database_url):
    app = create_app(config_for(database_url))
    app.test_client_class = Client
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app) -> "Client":
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Client(FlaskClient):
    """A test client that posts forms the way a browser does, with the page's CSRF token.

    Each request runs in its own app context (its own `g` and database session), as in a real
    server, rather than borrowing the test's long-lived context.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self, path: str = "/sign-in") -> str:
        html = self.get(path, follow_redirects=True).get_data(as_text=True)
        match = CSRF_META.search(html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def submit(self, path: str, data: dict | None = None, *, token_from: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from or path))
        return self.post(path, data=data, **kwargs)

    def sign_in(self, email: str, password: str, **kwargs):
        return self.submit("/sign-in", {"email": email, "password": password, **kwargs})

    def sign_out(self):
        return self.submit("/sign-out", token_from="/")


from .factories import *  # noqa: E402,F401,F403  (factory fixtures)
