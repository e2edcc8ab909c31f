"""A version column on meetings, so two tabs correcting one record cannot overwrite each other.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 18:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (both databases support it with a default): no table rebuild, so
    # SQLite's foreign keys never see the meeting table dropped and recreated.
    op.add_column("meeting", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    with op.batch_alter_table("meeting") as batch_op:
        batch_op.drop_column("version")
