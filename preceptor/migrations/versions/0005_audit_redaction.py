"""Audit redactions: erasing a person may rewrite an audit event's reason and details to the
redacted values recorded first in `audit_redaction`, and to nothing else; every other update
and every delete of `audit_event` is still refused by the database.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MESSAGE = "audit_event is append-only"
KEPT = ("id", "at", "actor_id", "action", "object_type", "object_id", "preceptorship_id", "department_id")


def _postgresql_guard(allow_redaction: bool) -> str:
    permitted = f"""
        IF TG_OP = 'UPDATE'
           AND ({", ".join(f"NEW.{c}" for c in KEPT)}) IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in KEPT)})
           AND EXISTS (SELECT 1 FROM audit_redaction r WHERE r.event_id = OLD.id
                       AND r.reason IS NOT DISTINCT FROM NEW.reason
                       AND r.details::jsonb IS NOT DISTINCT FROM NEW.details::jsonb) THEN
            RETURN NEW;
        END IF;""" if allow_redaction else ""
    return f"""CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {permitted}
        RAISE EXCEPTION '{MESSAGE}'; END $$"""


def _sqlite_update_guard(allow_redaction: bool) -> str:
    when = f"""WHEN NOT ({" AND ".join(f"NEW.{c} IS OLD.{c}" for c in KEPT)}
        AND EXISTS (SELECT 1 FROM audit_redaction r WHERE r.event_id = OLD.id
                    AND r.reason IS NEW.reason AND r.details IS NEW.details))""" if allow_redaction else ""
    return f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event {when}
               BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""


def _guard(allow_redaction: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgresql_guard(allow_redaction))
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute(_sqlite_update_guard(allow_redaction))


def upgrade():
    op.create_table(
        "audit_redaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("redacted_by_id", sa.Integer(), nullable=True),
        sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["audit_event.id"], name=op.f("fk_audit_redaction_event_id_audit_event")),
        sa.ForeignKeyConstraint(["person_id"], ["user.id"], name=op.f("fk_audit_redaction_person_id_user")),
        sa.ForeignKeyConstraint(["redacted_by_id"], ["user.id"], name=op.f("fk_audit_redaction_redacted_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_redaction")),
    )
    op.create_index(op.f("ix_audit_redaction_event_id"), "audit_redaction", ["event_id"], unique=False)
    _guard(allow_redaction=True)


def downgrade():
    _guard(allow_redaction=False)
    op.drop_index(op.f("ix_audit_redaction_event_id"), table_name="audit_redaction")
    op.drop_table("audit_redaction")
