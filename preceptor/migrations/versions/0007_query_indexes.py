"""Indexes for the key queries on a large trust (issue 9, "Indexes and plans").

- Open milestones by due date (partial: not signed off), covering the programme and template:
  overdue counts and the longest overdue on the lead's oversight report, and the overdue
  reminders, read the few open milestones instead of every milestone ever signed off.
- Milestones by programme now carry status and template, so per-programme counts (the
  preceptor's caseload, principle coverage of running programmes) are index-only scans.
- Free-text survey answers (partial: text given), for the survey report's free text at one wave.
- Survey invitations by wave and opening date, covering what the response rates count, so the
  survey report's rates are an index-only scan.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OPEN = sa.text("status <> 'signed_off'")
TEXT_GIVEN = sa.text("value_text IS NOT NULL")


def upgrade():
    op.create_index("ix_milestone_open_due", "milestone", ["due_date"],
                    postgresql_include=["preceptorship_id", "template_id"],
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.drop_index("ix_milestone_programme_due", table_name="milestone")
    op.create_index("ix_milestone_programme_due", "milestone", ["preceptorship_id", "due_date"],
                    postgresql_include=["status", "template_id"])
    op.create_index("ix_survey_answer_text", "survey_answer", ["question_id"],
                    postgresql_include=["response_id"],
                    postgresql_where=TEXT_GIVEN, sqlite_where=TEXT_GIVEN)
    op.create_index("ix_survey_invitation_wave", "survey_invitation", ["time_point", "opens_on"],
                    postgresql_include=["preceptorship_id", "answered_on", "closes_on"])


def downgrade():
    op.drop_index("ix_survey_invitation_wave", table_name="survey_invitation")
    op.drop_index("ix_survey_answer_text", table_name="survey_answer")
    op.drop_index("ix_milestone_programme_due", table_name="milestone")
    op.create_index("ix_milestone_programme_due", "milestone", ["preceptorship_id", "due_date"])
    op.drop_index("ix_milestone_open_due", table_name="milestone")
