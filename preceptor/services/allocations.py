"""Who precepts whom: starting and ending allocations, each written to the audit log.

An allocation is ended, never deleted, so the history of a programme's preceptors is kept.
The database allows one current allocation per programme; ending the old one and starting
the new one happen in one transaction (the caller commits). Eligibility, caps and ranking
belong to the education lead's pairing screens, which call this (one at a time or a whole
cohort's proposal).

Starting an allocation tells, in the same transaction, the preceptee, the new preceptor, the
previous one when it changes, and the education leads whose scope covers the programme's
department; each person once, whatever parts they hold, and never the person who made the
change (they know).
"""

from datetime import date

from ..extensions import db
from ..models import Allocation, AllocationEndReason, Category, Preceptorship, User
from . import audit, notifications
from .scope import leads_covering


def end(allocation: Allocation, reason: AllocationEndReason, on: date, note: str | None = None,
        by: User | None = None) -> None:
    allocation.ends_on, allocation.end_reason, allocation.end_note = on, reason, note
    audit.record("allocation.end", allocation, actor_id=by.id if by else None,
                 preceptorship_id=allocation.preceptorship_id, reason=note,
                 details={"preceptor": allocation.preceptor_id, "reason": reason.value, "on": on.isoformat()})


def allocate(programme: Preceptorship, preceptor: User, on: date, *, by: User | None = None,
             over_cap_reason: str | None = None, end_reason: AllocationEndReason | None = None,
             end_note: str | None = None) -> Allocation:
    """Make `preceptor` the programme's preceptor from `on`, ending any current allocation
    with `end_reason` (required when there is one)."""
    if preceptor.id == programme.preceptee_id:
        raise ValueError("nobody can precept their own programme")
    current = programme.current_allocation
    if current is not None:
        if end_reason is None:
            raise ValueError("ending the current allocation needs a reason")
        end(current, end_reason, on, end_note, by)
        db.session.flush()  # the one-current-allocation index sees the old one end first
    allocation = Allocation(preceptorship=programme, preceptor=preceptor, starts_on=on,
                            over_cap_reason=over_cap_reason, allocated_by_id=by.id if by else None)
    db.session.add(allocation)
    audit.record("allocation.start", allocation, actor_id=by.id if by else None, preceptorship_id=programme.id,
                 reason=over_cap_reason, details={"preceptor": preceptor.id, "on": on.isoformat(),
                                                  "over_cap": over_cap_reason is not None})
    _tell(programme, preceptor, current.preceptor if current is not None else None, by)
    return allocation


def _tell(programme: Preceptorship, preceptor: User, previous: User | None, by: User | None) -> None:
    """Tell everyone the allocation concerns, each once, in the order of how closely."""
    preceptee = programme.preceptee
    told = {by.id} if by is not None else set()
    portfolio = notifications.link_to("caseload.portfolio", programme_id=programme.id)
    parts: list[tuple[User, str, str]] = [
        (preceptee, f"{preceptor.name} is now your preceptor", notifications.link_to("preceptee.home")),
        (preceptor, f"You are now {preceptee.name}'s preceptor", portfolio),
    ]
    if previous is not None and previous.id != preceptor.id:
        parts.append((previous, f"{preceptor.name} is now {preceptee.name}'s preceptor in your place",
                      notifications.link_to("caseload.home")))
    for user, message, link in parts:
        if user.id not in told:
            told.add(user.id)
            notifications.notify(user, Category.ALLOCATION, message, link)
    leads = leads_covering({programme.department_id})[programme.department_id]
    notifications.notify_all(
        [lead for lead in leads if lead.id not in told], Category.ALLOCATION,
        f"{preceptor.name} is now {preceptee.name}'s preceptor"
        + (f", in place of {previous.name}" if previous is not None else ""),
        notifications.link_to("lead.programme", programme_id=programme.id))
