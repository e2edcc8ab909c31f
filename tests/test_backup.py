"""`flask --app preceptor backup PATH`: a consistent copy of SQLite taken while the portal serves
requests and another process writes, restored and used; refused clearly where it cannot work."""

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from preceptor import create_app
from preceptor.extensions import db
from preceptor.models import Role, Site, User

from .conftest import Client, config_for
from .factories import PASSWORD


@pytest.fixture
def sqlite_only(databases):
    if databases.dialect != "sqlite":
        pytest.skip("the online backup is SQLite's; PostgreSQL is backed up with pg_dump")


def test_backup_while_serving_and_writing_restores_to_a_working_portal(app, make, runner, tmp_path, sqlite_only):
    make.user(Role.ADMIN, email="admin@test.nhs.uk")
    db.session.commit()
    source = db.engine.url.database
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    stop, written = threading.Event(), []

    def keep_writing():  # another process's writes, committed one by one throughout the backup
        connection = sqlite3.connect(source, timeout=30)
        while not stop.is_set():
            with connection:
                connection.execute("INSERT INTO site (name) VALUES (?)", (f"Written {len(written)}",))
            written.append(1)
        connection.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 50:
            time.sleep(0.01)
        result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
        before_stop = len(written)
    finally:
        stop.set()
        writer.join()
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert "Backed up to" in result.output and not (tmp_path / "copy.sqlite3.partial").exists()
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, nothing beside it
    copy.close()

    restored = create_app(config_for(f"sqlite:///{tmp_path / 'copy.sqlite3'}"))
    restored.test_client_class = Client
    with restored.app_context():
        sites = db.session.scalar(select(func.count()).select_from(Site))
        names = set(db.session.scalars(select(Site.name)))
        assert 50 <= sites <= before_stop + 1  # a moment during the writes, not before or after them
        assert names == {f"Written {n}" for n in range(sites)}  # whole commits, none missing in between
        assert db.session.scalar(select(User.email)) == "admin@test.nhs.uk"
        client = restored.test_client()
        assert client.sign_in("admin@test.nhs.uk", PASSWORD).status_code == 302
        assert client.get("/admin/").status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_backup_refuses_to_overwrite_the_database_or_write_to_a_missing_folder(app, runner, tmp_path, sqlite_only):
    itself = runner.invoke(args=["backup", db.engine.url.database])
    assert itself.exit_code == 1 and "must not overwrite the database itself" in itself.output
    nowhere = runner.invoke(args=["backup", str(tmp_path / "missing" / "copy.sqlite3")])
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.output


def test_on_postgresql_the_command_points_to_pg_dump(app, runner, tmp_path, databases):
    if databases.dialect != "postgresql":
        pytest.skip("checks the PostgreSQL refusal")
    result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code == 1 and "pg_dump" in result.output
