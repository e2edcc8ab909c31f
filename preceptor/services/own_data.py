"""Everything the portal holds about one person, for them to download (JSON) or read (HTML).

Found by walking the schema, not by a hand-kept list, so a table added later is included
without anyone remembering to: every row that refers to the person by any column, then
every row that belongs to their own programmes (their milestones, log, meetings, requests and
so on, to any depth). Secrets are left out (password and link hashes). Survey answers are not
included because nothing links them to anyone: that is the point of them.
"""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..models import User

SECRET_COLUMNS = {("user", "password_hash"), ("account_link", "token_hash")}
# Rows of these tables that belong to the person's own programmes lead on to their children.
OWNED_ROOT = "preceptorship"
MAX_DEPTH = 4


def own_data(user: User) -> dict[str, list[dict]]:
    """Table name → rows (column → plain value), for `user`. One query per table and column
    that refers to the person or to something of theirs."""
    tables = db.metadata.sorted_tables
    found: dict[str, dict[tuple, dict]] = {}
    _collect(found, db.metadata.tables["user"], [db.metadata.tables["user"].c.id], [user.id])
    for table in tables:
        for column in table.columns:
            if any(key.column.table.name == "user" for key in column.foreign_keys):
                _collect(found, table, [column], [user.id])
    # Then everything hanging off their own programmes, level by level.
    frontier = {OWNED_ROOT: [row["id"] for row in found.get(OWNED_ROOT, {}).values()
                             if row.get("preceptee_id") == user.id]}
    for _ in range(MAX_DEPTH):
        following: dict[str, list] = {}
        for table in tables:
            for column in table.columns:
                for key in column.foreign_keys:
                    parent = key.column.table.name
                    if frontier.get(parent) and key.column.name == "id":
                        rows = _collect(found, table, [column], frontier[parent])
                        if "id" in table.columns:
                            following.setdefault(table.name, []).extend(row["id"] for row in rows)
        frontier = {name: sorted(set(ids)) for name, ids in following.items() if ids}
        if not frontier:
            break
    return {name: sorted(rows.values(), key=_order) for name, rows in sorted(found.items()) if rows}


def _collect(found: dict, table: sa.Table, columns: list[sa.Column], ids: list) -> list[dict]:
    rows = []
    for column in columns:
        for chunk in range(0, len(ids), 500):
            result = db.session.execute(sa.select(table).where(column.in_(ids[chunk:chunk + 500])))
            for row in result.mappings():
                plain = {key: _plain(value) for key, value in row.items() if (table.name, key) not in SECRET_COLUMNS}
                key = tuple(row[c.name] for c in table.primary_key.columns) or tuple(sorted(plain.items()))
                found.setdefault(table.name, {})[key] = plain
                rows.append(plain)
    return rows


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _order(row: dict):
    key = row.get("id")
    return (key if isinstance(key, int) else 0, str(key or ""), str(row.get("created_at", "")))
