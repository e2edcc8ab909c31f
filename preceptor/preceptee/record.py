"""My record: everything a preceptee has written and every sign-off, as one printable page.

Their portfolio travels with them when they change employer: the page prints cleanly (or
saves as PDF from the browser's print dialogue) through the print stylesheet.
"""

from dataclasses import dataclass
from datetime import date

from flask import request
from flask_login import current_user
from sqlalchemy import select

from ..access import role_required
from ..extensions import db
from ..models import (
    LearningNeedRating,
    LearningNeedsAssessment,
    LogEntry,
    Milestone,
    Preceptorship,
    RequestStatus,
    Role,
    SignOffRequest,
)
from ..rendering import render_page
from ..services import learning_needs, meetings
from . import bp


@dataclass
class ProgrammeRecord:
    programme: Preceptorship
    milestones: list[tuple[Milestone, SignOffRequest | None]]
    entries: list[LogEntry]
    meetings: list
    changes: list
    notes: dict[tuple[str, int], str]
    goals: list


def _record(programme: Preceptorship) -> ProgrammeRecord:
    signed = {r.milestone_id: r for r in db.session.scalars(
        select(SignOffRequest).join(Milestone)
        .where(Milestone.preceptorship_id == programme.id, SignOffRequest.status == RequestStatus.SIGNED_OFF)
        .order_by(SignOffRequest.decided_at))}
    milestones = db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                                    .order_by(Milestone.due_date, Milestone.id)).all()
    entries = db.session.scalars(select(LogEntry).where(LogEntry.preceptorship_id == programme.id)
                                 .order_by(LogEntry.occurred_on, LogEntry.id)).all()
    notes = {(stage.value, area_id): note for stage, area_id, note in db.session.execute(
        select(LearningNeedsAssessment.stage, LearningNeedRating.area_id, LearningNeedRating.note)
        .join(LearningNeedRating).where(LearningNeedsAssessment.preceptorship_id == programme.id,
                                        LearningNeedRating.note != ""))}
    return ProgrammeRecord(programme, [(m, signed.get(m.id)) for m in milestones], list(entries),
                           meetings.meetings_of(programme.id), learning_needs.changes(programme), notes,
                           learning_needs.goals(programme.id))


@bp.get("/record")
@role_required(Role.PRECEPTEE)
def record():
    """Every programme the person has had, newest first, in full."""
    programmes = db.session.scalars(select(Preceptorship).where(Preceptorship.preceptee_id == current_user.id)
                                    .order_by(Preceptorship.start_date.desc())).all()
    response = render_page("preceptee/record.html", records=[_record(p) for p in programmes], today=date.today())
    if request.args.get("download"):  # the same page, saved as a file the person keeps
        response.headers["Content-Disposition"] = f'attachment; filename="preceptorship-record-{date.today()}.html"'
    return response
