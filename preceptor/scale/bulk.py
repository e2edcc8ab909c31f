"""Bulk writing for the scale generator: ids handed out in Python, rows buffered per table and
inserted with Core `executemany` in chunks.

Ids are chosen here rather than returned by the database, so rows that refer to each other
(a sign-off request and its evidence) are planned in one pass without a round trip. Buffers are
flushed all together in the metadata's dependency order, so a child row never reaches the
database before its parent (SQLite and PostgreSQL both check foreign keys).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db

CHUNK = 5000  # rows per executemany; also the buffer size that triggers a flush


def at(day: date, minutes: int = 9 * 60) -> datetime:
    """An aware UTC timestamp on `day`, `minutes` after midnight: deterministic, unlike utcnow()."""
    return datetime.combine(day, time(), UTC) + timedelta(minutes=minutes)


class Writer:
    """Hands out ids, buffers rows and counts what was inserted, per table name."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self._next: dict[str, int] = {}
        self._buffers: dict[str, list[dict]] = defaultdict(list)
        self._tables = {table.name: table for table in db.metadata.sorted_tables}
        self._order = [table.name for table in db.metadata.sorted_tables]

    def table(self, target) -> sa.Table:
        """A table from a model, a Table or a table name."""
        if isinstance(target, str):
            return self._tables[target]
        return target if isinstance(target, sa.Table) else target.__table__

    def new_id(self, target) -> int:
        """The next id for a table with an integer key, starting after what is already there."""
        name = self.table(target).name
        if name not in self._next:
            table = self._tables[name]
            self._next[name] = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
        value = self._next[name]
        self._next[name] = value + 1
        return value

    def add(self, target, row: dict) -> dict:
        name = self.table(target).name
        buffer = self._buffers[name]
        buffer.append(row)
        if len(buffer) >= CHUNK:
            self.flush()
        return row

    def add_all(self, target, rows: Iterable[dict]) -> None:
        for row in rows:
            self.add(target, row)

    def audit(self, action: str, object_type: str, object_id: int | None, when: datetime, *,
              actor_id: int | None = None, preceptorship_id: int | None = None, department_id: int | None = None,
              reason: str | None = None, details: dict | None = None) -> None:
        """An audit event as `services.audit.record` writes it, dated in the past."""
        self.add("audit_event", {
            "id": self.new_id("audit_event"), "at": when, "actor_id": actor_id, "action": action,
            "object_type": object_type, "object_id": object_id, "preceptorship_id": preceptorship_id,
            "department_id": department_id, "reason": reason, "details": details})

    def flush(self) -> None:
        """Insert every buffered row, parents before children."""
        for name in self._order:
            rows = self._buffers.pop(name, None)
            if not rows:
                continue
            # executemany needs one set of keys per statement; most tables have just one.
            groups: dict[tuple[str, ...], list[dict]] = defaultdict(list)
            for row in rows:
                groups[tuple(sorted(row))].append(row)
            for group in groups.values():
                for start in range(0, len(group), CHUNK):
                    db.session.execute(sa.insert(self._tables[name]), group[start:start + CHUNK])
            self.counts[name] += len(rows)

    def finish(self) -> None:
        """Flush what is left and, on PostgreSQL, move each id sequence past the ids used here."""
        self.flush()
        if db.engine.dialect.name != "postgresql":
            return
        for name in self._next:
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "  # names come from the metadata
                f"(SELECT COALESCE(MAX(id), 1) FROM \"{name}\"))"))
