"""A programme's whole record in a fixed handful of queries: milestones with their sign-offs,
log entries, learning needs, development plan and meetings. "My record" shows all of it;
the preceptor's portfolio view shows only the entries the preceptee shared as evidence."""

from dataclasses import dataclass

from sqlalchemy import or_, select

from ..extensions import db
from ..models import (
    LearningNeedRating,
    LearningNeedsAssessment,
    LogEntry,
    Meeting,
    Milestone,
    Preceptorship,
    RequestStatus,
    SignOffRequest,
    milestone_evidence,
    request_evidence,
)
from . import learning_needs, meetings


@dataclass
class ProgrammeRecord:
    programme: Preceptorship
    milestones: list[tuple[Milestone, SignOffRequest | None]]
    entries: list[LogEntry]
    meetings: list[Meeting]
    changes: list
    notes: dict[tuple[str, int], str]
    goals: list


def shared_entry_ids(programme_id: int):
    """Entries linked as evidence to a milestone or sent with a request: what the preceptee shared."""
    linked = select(milestone_evidence.c.entry_id).join(Milestone, Milestone.id == milestone_evidence.c.milestone_id)
    sent = (select(request_evidence.c.entry_id)
            .join(SignOffRequest, SignOffRequest.id == request_evidence.c.request_id)
            .join(Milestone, Milestone.id == SignOffRequest.milestone_id))
    return or_(LogEntry.id.in_(linked.where(Milestone.preceptorship_id == programme_id)),
               LogEntry.id.in_(sent.where(Milestone.preceptorship_id == programme_id)))


def programme_record(programme: Preceptorship, shared_only: bool = False) -> ProgrammeRecord:
    signed = {r.milestone_id: r for r in db.session.scalars(
        select(SignOffRequest).join(Milestone)
        .where(Milestone.preceptorship_id == programme.id, SignOffRequest.status == RequestStatus.SIGNED_OFF,
               SignOffRequest.reopened_at.is_(None))
        .order_by(SignOffRequest.decided_at))}
    milestones = db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                                    .order_by(Milestone.due_date, Milestone.id)).all()
    entries = select(LogEntry).where(LogEntry.preceptorship_id == programme.id)
    if shared_only:
        entries = entries.where(shared_entry_ids(programme.id))
    entries = db.session.scalars(entries.order_by(LogEntry.occurred_on, LogEntry.id)).all()
    notes = {(stage.value, area_id): note for stage, area_id, note in db.session.execute(
        select(LearningNeedsAssessment.stage, LearningNeedRating.area_id, LearningNeedRating.note)
        .join(LearningNeedRating).where(LearningNeedsAssessment.preceptorship_id == programme.id,
                                        LearningNeedRating.note != ""))}
    return ProgrammeRecord(programme, [(m, signed.get(m.id)) for m in milestones], list(entries),
                           meetings.meetings_of(programme.id), learning_needs.changes(programme), notes,
                           learning_needs.goals(programme.id))
