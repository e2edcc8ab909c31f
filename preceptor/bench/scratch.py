"""The benchmark's throwaway database: created, migrated and filled here, removed afterwards.

SQLite (the default) is a file in the run's temporary folder. For PostgreSQL the benchmark
never touches the database `DATABASE_URL` names: it creates a scratch database
`preceptor_bench_<pid>` on the same server (so it needs CREATEDB) and drops it at the end, so
existing data is safe and a run left behind by a crash is easy to spot by name.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from ..config import database_url
from ..database import refresh_statistics


@dataclass
class Trust:
    """What the benchmark signs in with, and what it ran on."""

    accounts: dict[str, str]  # role ("preceptee", "preceptor", "education_lead", "admin"): email
    password: str
    description: str
    database: str  # e.g. "SQLite 3.40.1"


@contextmanager
def scratch_database(configured: str | None, folder: Path) -> Iterator[str]:
    """A URL to an empty database that is removed when the block ends, however it ends."""
    if not configured or configured.startswith("sqlite"):
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return  # the file goes with the folder
    url = make_url(database_url(configured))
    if url.get_backend_name() != "postgresql":
        raise SystemExit(f"error: the benchmark runs on SQLite or PostgreSQL, not {url.get_backend_name()}")
    name = f"preceptor_bench_{os.getpid()}"
    # CREATE and DROP DATABASE cannot run in a transaction; any database on the server will do
    # to issue them from, and the configured one is known to exist.
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def fill(url: str, secret_key: str, trust: str, seed: int, scale: float) -> Trust:
    """Migrate the empty database at `url` and build the trust in it: "scale" (the large
    generated trust) or "demo" (the small demo trust, for a quick run)."""
    import flask_migrate

    from .. import create_app
    from ..extensions import db

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret_key})
    with app.app_context():
        flask_migrate.upgrade()
        if trust == "demo":
            from ..demo import DEMO_ACCOUNTS, demo_password, seed_demo

            seed_demo()
            db.session.commit()
            accounts = {role.value: email for email, role in DEMO_ACCOUNTS}
            password, description = demo_password(), "demo trust"
        else:
            try:
                from ..scale import SCALE_PASSWORD, generate
            except ImportError as missing:
                raise SystemExit(f"error: the large trust's generator is missing ({missing}); "
                                 "try --trust demo") from None
            accounts = dict(generate(seed=seed, scale=scale).accounts)
            db.session.commit()
            password, description = SCALE_PASSWORD, f"large generated trust (seed {seed}, scale {scale:g})"
        refresh_statistics()  # as autovacuum (PostgreSQL) or the server's start (SQLite) would
        version = ".".join(str(part) for part in db.engine.dialect.server_version_info or ())
        database = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(db.engine.dialect.name,
                                                                       db.engine.dialect.name)
        db.session.remove()
        db.engine.dispose()
    return Trust(accounts=accounts, password=password, description=description, database=f"{database} {version}")
