"""Column helpers shared by the models: enums stored as checked strings, UTC timestamps."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column(enum_cls: type[enum.Enum], name: str | None = None, **kw) -> sa.Enum:
    """A VARCHAR with a CHECK constraint holding the enum's values (not names).

    `name` names the constraint; give one when a table has two columns of the same enum.

    Native PostgreSQL enums make every new value a migration of its own; a checked
    string behaves the same on SQLite and PostgreSQL.
    """
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
        name=name or enum_cls.__name__.lower(),
        **kw,
    )


class Timestamp(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
