"""`flask --app preceptor backup PATH`: a consistent copy of the SQLite database while the portal
keeps running.

SQLite's online backup API copies the database page by page inside read transactions, so
writers carry on and the copy is the database as it was at one moment (never half of a
commit). The copy is written beside PATH and renamed into place only once it is complete and
passes an integrity check, so a failed backup never leaves a damaged file under that name.
On PostgreSQL use `pg_dump` instead (see the README).
"""

import os
import sqlite3
from pathlib import Path

from .extensions import db


class BackupRefused(RuntimeError):
    """The backup could not be made; the message says why and what to do."""


def backup(target: str | os.PathLike) -> tuple[Path, int]:
    """Copy the database to `target`; returns the path and its size in bytes."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise BackupRefused(f"This database is {url.get_backend_name()}: back it up with pg_dump "
                            "(see the README, \"Backups\")")
    source_path = url.database
    if not source_path or source_path == ":memory:":
        raise BackupRefused("This database lives in memory: there is no file to back up")
    target = Path(target).resolve()
    if target == Path(source_path).resolve():
        raise BackupRefused("The backup must not overwrite the database itself: choose another path")
    if not target.parent.is_dir():
        raise BackupRefused(f"The folder {target.parent} does not exist")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy, pages=1024)  # in steps, so writers are never held up for long
        if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupRefused("The copy failed its integrity check; nothing was written")
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()
    os.replace(partial, target)
    return target, target.stat().st_size
