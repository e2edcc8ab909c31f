"""The preceptor journey: a version column on meetings (two tabs correcting one record cannot
overwrite each other) and released feedback figures (see models/surveys.py FeedbackRelease).

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
    op.create_table(
        "feedback_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preceptor_id", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["preceptor_id"], ["user.id"], name=op.f("fk_feedback_release_preceptor_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_release")),
        sa.UniqueConstraint("preceptor_id", "responses", name=op.f("uq_feedback_release_preceptor_id")),
    )
    op.create_index(op.f("ix_feedback_release_preceptor_id"), "feedback_release", ["preceptor_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_feedback_release_preceptor_id"), table_name="feedback_release")
    op.drop_table("feedback_release")
    with op.batch_alter_table("meeting") as batch_op:
        batch_op.drop_column("version")
