"""The preceptor's side of sign-off: signing off, returning with an action plan, reopening.

Rules (issue 4): only the programme's current preceptor decides; a decision stores the
exact evidence seen (a snapshot of the log entries, so later edits change nothing that was
signed); a signed-off milestone is locked until the signer or an education lead reopens it
with a reason, which adds to the history and deletes nothing.

Two preceptors or two tabs deciding at once: every decision changes the milestone, whose
version column turns the loser's UPDATE into a `StaleDataError`; forms also carry the
version and a fingerprint of the evidence they showed, so a decision on a page that has
since changed is refused before anything is written. Every decision (one at a time, in bulk,
or at a meeting) goes through `_decide`, which tells the preceptee in the same transaction.
Callers commit.
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import (
    Allocation,
    Category,
    LogEntry,
    Meeting,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    RequestStatus,
    Role,
    SignOffRequest,
    User,
    request_evidence,
)
from ..models._columns import utcnow
from . import audit, notifications
from .signoff_requests import SignOffRefused, evidence_ids, waiting_request

COMMENT_MAX = 2000
ACTION_PLAN_MAX = 2000
REASON_MAX = 1000
STALE = "This item changed since you opened the page. Check it below and try again."


def is_current_preceptor(programme_id: int, user_id: int) -> bool:
    """Holds the programme's current allocation, and is not its preceptee: nobody signs off
    their own work, even holding both roles."""
    return db.session.scalar(select(Allocation.id).join(Preceptorship).where(
        Allocation.preceptorship_id == programme_id, Allocation.preceptor_id == user_id,
        Allocation.ends_on.is_(None), Preceptorship.preceptee_id != user_id)) is not None


def snapshots(request_ids: list[int]) -> dict[int, list[dict]]:
    """The evidence attached to each request as it reads now (everything the preceptor sees),
    in one query for a whole review queue."""
    found: dict[int, list[dict]] = {i: [] for i in request_ids}
    rows = db.session.execute(
        select(request_evidence.c.request_id, LogEntry)
        .join(LogEntry, request_evidence.c.entry_id == LogEntry.id)
        .where(request_evidence.c.request_id.in_(request_ids)).order_by(LogEntry.occurred_on, LogEntry.id))
    for request_id, e in rows:
        found[request_id].append({
            "id": e.id, "kind": e.kind.value, "kind_label": e.kind.label, "title": e.title,
            "occurred_on": e.occurred_on.isoformat(), "hours": str(e.hours) if e.hours is not None else None,
            "what_happened": e.what_happened, "so_what": e.so_what, "now_what": e.now_what, "notes": e.notes,
        })
    return found


def snapshot(request: SignOffRequest) -> list[dict]:
    return snapshots([request.id])[request.id]


def fingerprint(evidence: list[dict]) -> str:
    """A short digest of evidence, carried by decision forms to notice edits since page load."""
    return hashlib.sha256(json.dumps(evidence, sort_keys=True).encode()).hexdigest()[:20]


def _waiting(milestone: Milestone, preceptor: User, version: int | None, seen: str | None) -> SignOffRequest:
    """The request a decision applies to, after every check that can refuse it."""
    if not is_current_preceptor(milestone.preceptorship_id, preceptor.id):
        raise SignOffRefused("Only the preceptee's current preceptor can sign off or return this milestone")
    if milestone.status is MilestoneStatus.SIGNED_OFF:
        raise SignOffRefused("This milestone has already been signed off")
    request = waiting_request(milestone)
    if request is None or milestone.status is not MilestoneStatus.WAITING:
        raise SignOffRefused("This request is no longer waiting: the preceptee may have withdrawn it")
    if version is not None and version != milestone.version:
        raise SignOffRefused(STALE)
    if seen is not None and seen != fingerprint(snapshot(request)):
        raise SignOffRefused("The evidence was edited since you opened the page. Read it again before deciding.")
    return request


def _decide(request: SignOffRequest, preceptor: User, status: RequestStatus, extra: list[dict] = ()) -> None:
    milestone = request.milestone
    request.status = status
    request.decided_by_id = preceptor.id
    request.decided_at = utcnow()
    request.evidence_snapshot = snapshot(request) + list(extra)
    milestone.status = MilestoneStatus(status.value)
    milestone.status_changed_at = request.decided_at
    action = "milestone.sign_off" if status is RequestStatus.SIGNED_OFF else "milestone.return"
    audit.record(action, request, actor_id=preceptor.id, preceptorship_id=milestone.preceptorship_id,
                 details={"milestone": milestone.id,
                          "entries": [item["id"] for item in request.evidence_snapshot if "id" in item]})
    told = (f"Your preceptor signed off “{milestone.title}”" if status is RequestStatus.SIGNED_OFF
            else f"Your preceptor returned “{milestone.title}” with an action plan")
    notifications.notify(milestone.preceptorship.preceptee, Category.SIGN_OFF, told,
                         notifications.link_to("preceptee.milestone", milestone_id=milestone.id))


def sign_off(milestone: Milestone, preceptor: User, comment: str = "", *, version: int | None = None,
             seen: str | None = None) -> SignOffRequest:
    """Sign the waiting request off, with an optional comment."""
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise SignOffRefused(f"Comment must be {COMMENT_MAX:,} characters or fewer")
    request = _waiting(milestone, preceptor, version, seen)
    request.comment = comment or None
    _decide(request, preceptor, RequestStatus.SIGNED_OFF)
    return request


def return_with_plan(milestone: Milestone, preceptor: User, action_plan: str, comment: str = "", *,
                     version: int | None = None, seen: str | None = None) -> SignOffRequest:
    """Send the request back with the action plan the preceptee must follow (and any comment)."""
    action_plan, comment = (action_plan or "").strip(), (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise SignOffRefused(f"Comment must be {COMMENT_MAX:,} characters or fewer")
    if not action_plan:
        raise SignOffRefused("Write an action plan: what the preceptee needs to do before asking again")
    if len(action_plan) > ACTION_PLAN_MAX:
        raise SignOffRefused(f"Action plan must be {ACTION_PLAN_MAX:,} characters or fewer")
    request = _waiting(milestone, preceptor, version, seen)
    request.action_plan, request.comment = action_plan, comment or None
    _decide(request, preceptor, RequestStatus.RETURNED)
    return request


def sign_off_at_meeting(milestone: Milestone, preceptor: User, meeting: Meeting) -> SignOffRequest:
    """Complete a milestone by the meeting that is its substance (initial, mid-point, final).

    A waiting request is signed off with the meeting added to its evidence; otherwise the
    preceptor's confirmation makes a request of its own, decided at once.
    """
    if not is_current_preceptor(milestone.preceptorship_id, preceptor.id):
        raise SignOffRefused("Only the preceptee's current preceptor can sign off this milestone")
    if milestone.status is MilestoneStatus.SIGNED_OFF:
        raise SignOffRefused(f"“{milestone.title}” is already signed off")
    if meeting.held_on is None:
        raise SignOffRefused("Record the meeting as held before it completes a milestone")
    record = {"meeting": meeting.id, "kind_label": meeting.meeting_type.label,
              "title": f"{meeting.meeting_type.label} held", "occurred_on": meeting.held_on.isoformat(),
              "notes": meeting.notes}
    request = waiting_request(milestone)
    if request is None:
        request = SignOffRequest(milestone=milestone, requested_by_id=preceptor.id,
                                 summary=f"Completed at the {meeting.meeting_type.label.lower()}.")
        db.session.add(request)
        db.session.flush()
    _decide(request, preceptor, RequestStatus.SIGNED_OFF, extra=[record])
    return request


def can_reopen(request: SignOffRequest, user: User) -> bool:
    """The signer, or an education lead whose scope covers the programme's department."""
    if request.status is not RequestStatus.SIGNED_OFF or request.reopened_at is not None:
        return False
    if request.decided_by_id == user.id:
        return True
    if not user.has_role(Role.EDUCATION_LEAD):
        return False
    department_id = request.milestone.preceptorship.department_id
    return user.trust_wide or any(d.id == department_id for d in user.lead_departments)


def reopen(milestone: Milestone, user: User, reason: str, *, version: int | None = None) -> SignOffRequest:
    """Unlock a signed-off milestone so the preceptee can work on it and ask again."""
    reason = (reason or "").strip()
    if not reason:
        raise SignOffRefused("Give a reason for reopening this milestone")
    if len(reason) > REASON_MAX:
        raise SignOffRefused(f"Reason must be {REASON_MAX:,} characters or fewer")
    if milestone.status is not MilestoneStatus.SIGNED_OFF:
        raise SignOffRefused("This milestone is not signed off, so there is nothing to reopen")
    if version is not None and version != milestone.version:
        raise SignOffRefused(STALE)
    request = signed_request(milestone)
    if request is None or not can_reopen(request, user):
        raise SignOffRefused("Only the preceptor who signed this off, or an education lead, can reopen it")
    request.reopened_at = utcnow()
    request.reopened_by_id = user.id
    request.reopen_reason = reason
    milestone.status = MilestoneStatus.IN_PROGRESS if evidence_ids(milestone) else MilestoneStatus.NOT_STARTED
    milestone.status_changed_at = request.reopened_at
    audit.record("milestone.reopen", request, actor_id=user.id, reason=reason,
                 preceptorship_id=milestone.preceptorship_id, details={"milestone": milestone.id})
    return request


def signed_request(milestone: Milestone) -> SignOffRequest | None:
    """The sign-off that currently locks the milestone."""
    return db.session.scalar(
        select(SignOffRequest).where(SignOffRequest.milestone_id == milestone.id,
                                     SignOffRequest.status == RequestStatus.SIGNED_OFF,
                                     SignOffRequest.reopened_at.is_(None))
        .order_by(SignOffRequest.decided_at.desc()).limit(1))


@dataclass(frozen=True)
class BulkItem:
    milestone_id: int
    version: int | None = None
    seen: str | None = None


@dataclass
class BulkResult:
    signed: list[Milestone]
    refused: list[tuple[int, str]]  # (milestone id, why)


def bulk_sign_off(items: list[BulkItem], preceptor: User, comment: str = "") -> BulkResult:
    """Sign several items off, each its own decision; one that fails leaves the others be."""
    result = BulkResult([], [])
    for item in items:
        milestone = db.session.get(Milestone, item.milestone_id)
        try:
            with db.session.begin_nested():
                if milestone is None:
                    raise SignOffRefused("This item no longer exists")
                sign_off(milestone, preceptor, comment, version=item.version, seen=item.seen)
        except SignOffRefused as refusal:
            result.refused.append((item.milestone_id, str(refusal)))
        except StaleDataError:
            result.refused.append((item.milestone_id, STALE))
        else:
            result.signed.append(milestone)
    return result
