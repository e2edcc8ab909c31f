"""When a person was deactivated: the retention period before their details may be erased
runs from this day.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("deactivated_at")
