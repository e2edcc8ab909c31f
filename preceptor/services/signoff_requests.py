"""The preceptee's side of sign-off: linking evidence, asking for sign-off, withdrawing.

Each function checks the rule it enforces and raises `SignOffRefused` with a message fit to
show the user; nothing is changed when it refuses. The caller commits. Two tabs acting on
the same milestone are kept apart by the milestone's version column (optimistic locking)
and by the database allowing one waiting request per milestone.
"""

from sqlalchemy import delete, insert, select

from ..extensions import db
from ..models import (
    Category,
    LogEntry,
    Milestone,
    MilestoneStatus,
    ProgrammeStatus,
    RequestStatus,
    SignOffRequest,
    User,
    milestone_evidence,
    request_evidence,
)
from . import audit, notifications

SUMMARY_MAX = 2000


class SignOffRefused(Exception):
    """A rule stopped the action; the message says why in the user's words."""


def evidence_ids(milestone: Milestone) -> set[int]:
    return set(db.session.scalars(
        select(milestone_evidence.c.entry_id).where(milestone_evidence.c.milestone_id == milestone.id)))


def _own_entries(milestone: Milestone, entry_ids: set[int]) -> list[LogEntry]:
    entries = list(db.session.scalars(select(LogEntry).where(
        LogEntry.id.in_(entry_ids), LogEntry.preceptorship_id == milestone.preceptorship_id)))
    if len(entries) != len(entry_ids):
        raise SignOffRefused("Choose evidence from your own progress log")
    return entries


def _editable(milestone: Milestone) -> None:
    if milestone.status is MilestoneStatus.SIGNED_OFF:
        raise SignOffRefused("This milestone has been signed off and can no longer be changed")
    if milestone.status is MilestoneStatus.WAITING:
        raise SignOffRefused("This milestone is waiting for your preceptor: withdraw the request to change it")


def set_evidence(milestone: Milestone, entry_ids: set[int]) -> None:
    """Make exactly these log entries the milestone's evidence."""
    _editable(milestone)
    _own_entries(milestone, entry_ids)
    current = evidence_ids(milestone)
    if entry_ids == current:
        return
    if current - entry_ids:
        db.session.execute(delete(milestone_evidence).where(
            milestone_evidence.c.milestone_id == milestone.id,
            milestone_evidence.c.entry_id.in_(current - entry_ids)))
    if entry_ids - current:
        db.session.execute(insert(milestone_evidence),
                           [{"milestone_id": milestone.id, "entry_id": i} for i in sorted(entry_ids - current)])
    if milestone.status is MilestoneStatus.NOT_STARTED and entry_ids:
        milestone.status = MilestoneStatus.IN_PROGRESS
    elif milestone.status is MilestoneStatus.IN_PROGRESS and not entry_ids:
        milestone.status = MilestoneStatus.NOT_STARTED
    audit.record("milestone.set_evidence", milestone, preceptorship_id=milestone.preceptorship_id,
                 details={"entries": sorted(entry_ids)})


def request_sign_off(milestone: Milestone, preceptee: User, summary: str, entry_ids: set[int]) -> SignOffRequest:
    """Ask the preceptor to sign the milestone off, with a summary and the chosen evidence."""
    _editable(milestone)
    if milestone.preceptorship.status not in (ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED):
        raise SignOffRefused("Your programme is not running, so sign-off cannot be requested")
    summary = (summary or "").strip()
    if not summary:
        raise SignOffRefused("Write a short summary for your preceptor")
    if len(summary) > SUMMARY_MAX:
        raise SignOffRefused(f"Summary must be {SUMMARY_MAX} characters or fewer")
    _own_entries(milestone, entry_ids)
    if entry_ids != evidence_ids(milestone):
        set_evidence(milestone, entry_ids)
    request = SignOffRequest(milestone=milestone, requested_by_id=preceptee.id, summary=summary)
    db.session.add(request)
    milestone.status = MilestoneStatus.WAITING
    db.session.flush()
    if entry_ids:
        db.session.execute(insert(request_evidence),
                           [{"request_id": request.id, "entry_id": i} for i in sorted(entry_ids)])
    audit.record("milestone.request_sign_off", request, preceptorship_id=milestone.preceptorship_id,
                 details={"milestone": milestone.id, "entries": sorted(entry_ids)})
    current = milestone.preceptorship.current_allocation
    if current is not None:
        notifications.notify(current.preceptor, Category.SIGN_OFF,
                             f"{preceptee.name} asked you to sign off “{milestone.title}”",
                             notifications.link_to("caseload.milestone", milestone_id=milestone.id))
    return request


def waiting_request(milestone: Milestone) -> SignOffRequest | None:
    return db.session.scalar(select(SignOffRequest).where(
        SignOffRequest.milestone_id == milestone.id, SignOffRequest.status == RequestStatus.WAITING))


def withdraw(milestone: Milestone) -> SignOffRequest:
    """Take back a request the preceptor has not acted on yet."""
    request = waiting_request(milestone)
    if request is None or milestone.status is not MilestoneStatus.WAITING:
        if milestone.status is MilestoneStatus.SIGNED_OFF:
            raise SignOffRefused("Your preceptor has already signed this milestone off")
        raise SignOffRefused("There is no request waiting to withdraw: your preceptor may have acted on it")
    request.status = RequestStatus.WITHDRAWN
    milestone.status = MilestoneStatus.IN_PROGRESS if evidence_ids(milestone) else MilestoneStatus.NOT_STARTED
    audit.record("milestone.withdraw_request", request, preceptorship_id=milestone.preceptorship_id,
                 details={"milestone": milestone.id})
    return request


def last_decision(milestone: Milestone) -> SignOffRequest | None:
    """The most recent request the preceptor decided (signed off or returned)."""
    return db.session.scalar(
        select(SignOffRequest)
        .where(SignOffRequest.milestone_id == milestone.id,
               SignOffRequest.status.in_((RequestStatus.SIGNED_OFF, RequestStatus.RETURNED)))
        .order_by(SignOffRequest.decided_at.desc(), SignOffRequest.id.desc())
        .limit(1))
