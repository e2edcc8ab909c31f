"""Engine set-up: SQLite pragmas, planner statistics, and a clear failure when the database
cannot be reached."""

import sqlite3
import sys

from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from .extensions import db


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # WAL lets readers work while one writer commits; the busy timeout makes writers queue
    # instead of failing at once; SQLite leaves foreign keys off unless asked.
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def masked_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def check_reachable(app: Flask) -> None:
    """Connect once at start-up; on failure print one line naming the URL and exit non-zero.

    The pool is emptied afterwards, so no connection crosses a fork (gunicorn --preload).
    """
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else "no reason given"
            url = masked_url(app.config["SQLALCHEMY_DATABASE_URI"])
            print(f"error: cannot reach the database at {url}: {reason}", file=sys.stderr)
            raise SystemExit(1) from None
        finally:
            db.engine.dispose()


def refresh_statistics() -> None:
    """Planner statistics for what the tables hold now. PostgreSQL's autovacuum keeps its own;
    SQLite has none until ANALYZE runs, and without them it can choose the wrong index (a
    programme's dozen milestones found through their templates' index, thousands of rows). On
    SQLite a sampled ANALYZE (a thousand rows an index) takes milliseconds."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
        else:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def refresh_sqlite_statistics(app: Flask) -> None:
    """Before serving (wsgi.py): fresh statistics for SQLite. Best effort: a read-only file or a
    long write elsewhere only costs the better plans, never the start."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        try:
            refresh_statistics()
        except OperationalError as error:
            app.logger.warning("planner statistics not refreshed: %s", error.orig or error)
        finally:
            db.engine.dispose()  # no connection crosses gunicorn's fork
