"""Protected preceptor time (HCPC principle 4: preceptors are given time for the role).

A preceptor logs the time they were given for preceptoring, and sees it against their yearly
allowance: their own where the register sets one, else the trust default (PRODUCT.md: 12 hours
a year). Time counts over a rolling 12 months, so only dates inside that window can be logged:
anything older would never show in a total. Leads report these hours, so a mistaken entry can
be removed only by its author and only for a fortnight after logging it; later corrections go
through the education lead.

Nothing here commits: the caller does, with the audit event in the same transaction.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import PreceptorProfile, ProtectedTime, User
from ..models._columns import utcnow
from . import audit

# The window caseload.queries.protected_hours sums: `occurred_on > today - 365 days`.
COUNTED_DAYS = 365
MAX_HOURS = Decimal(24)
NOTE_MAX = 500
REMOVABLE_FOR = timedelta(days=14)


class ProtectedTimeError(ValueError):
    """A change the service refuses. The message is for the user; `field` names the form
    field it belongs to (None when it is about the entry as a whole)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def allowance(profile: PreceptorProfile | None) -> Decimal:
    """Hours a year the preceptor should be given: their own allowance, else the trust's."""
    if profile is not None and profile.protected_hours_allowance is not None:
        return Decimal(profile.protected_hours_allowance)
    return Decimal(str(current_app.config["PRECEPTOR_PROTECTED_HOURS"]))


def earliest_date(today: date) -> date:
    """The first day that still counts in the rolling 12 months."""
    return today - timedelta(days=COUNTED_DAYS - 1)


def date_problem(occurred_on: date | None, today: date) -> str | None:
    if occurred_on is None:
        return "Enter the date of the protected time"
    if occurred_on > today:
        return "Date must be today or in the past"
    earliest = earliest_date(today)
    if occurred_on < earliest:
        return f"Date must be in the last 12 months, on or after {earliest.day} {earliest:%B %Y}"
    return None


def hours_problem(hours: Decimal | None) -> str | None:
    if hours is None:
        return "Enter the hours of protected time"
    if not hours.is_finite():
        return "Hours must be a number, like 1.5"
    if not Decimal(0) < hours <= MAX_HOURS:
        return "Hours must be more than 0 and no more than 24"
    if hours != hours.quantize(Decimal("0.01")):
        return "Hours must have no more than 2 decimal places, like 1.25"
    return None


def note_problem(note: str) -> str | None:
    if len(note) > NOTE_MAX:
        return f"Note must be {NOTE_MAX} characters or fewer"
    return None


def problems(occurred_on: date | None, hours: Decimal | None, note: str, today: date) -> dict[str, str]:
    """Every rule an entry breaks, keyed by field name; empty when it may be logged. The form
    shows these next to its fields, and `log_time` refuses the same, so the rules live here once."""
    found = {"occurred_on": date_problem(occurred_on, today), "hours": hours_problem(hours), "note": note_problem(note)}
    return {field: message for field, message in found.items() if message}


def log_time(preceptor: User, occurred_on: date | None, hours: Decimal | None, note: str = "", *,
             today: date | None = None) -> ProtectedTime:
    """Record protected time the preceptor was given, with its audit event."""
    note = (note or "").strip()
    found = problems(occurred_on, hours, note, today or date.today())
    if found:
        field, message = next(iter(found.items()))
        raise ProtectedTimeError(message, field)
    entry = ProtectedTime(preceptor_id=preceptor.id, occurred_on=occurred_on, hours=hours, note=note)
    db.session.add(entry)
    audit.record("protected_time.log", entry, actor_id=preceptor.id, details=_details(entry))
    return entry


def _details(entry: ProtectedTime) -> dict:
    """What the audit log keeps of an entry: not the note, which is free text."""
    return {"occurred_on": entry.occurred_on.isoformat(), "hours": f"{Decimal(entry.hours):.2f}"}


def entries(preceptor_id: int, today: date) -> list[ProtectedTime]:
    """The preceptor's entries in the rolling 12 months (the ones in their total), newest first."""
    return list(db.session.scalars(
        select(ProtectedTime)
        .where(ProtectedTime.preceptor_id == preceptor_id, ProtectedTime.occurred_on >= earliest_date(today))
        .order_by(ProtectedTime.occurred_on.desc(), ProtectedTime.id.desc())
    ))


def own_entry(preceptor_id: int, entry_id: int) -> ProtectedTime | None:
    """The entry if this preceptor logged it; anyone else's id finds nothing."""
    return db.session.scalar(select(ProtectedTime).where(
        ProtectedTime.id == entry_id, ProtectedTime.preceptor_id == preceptor_id))


def removable(entry: ProtectedTime, now: datetime | None = None) -> bool:
    return entry.created_at >= (now or utcnow()) - REMOVABLE_FOR


def delete_entry(preceptor: User, entry: ProtectedTime, *, now: datetime | None = None) -> None:
    """Remove a mistaken entry: only the preceptor's own, and only within 14 days of logging it."""
    if entry.preceptor_id != preceptor.id:
        raise ProtectedTimeError("You can only remove protected time you logged yourself")
    if not removable(entry, now):
        raise ProtectedTimeError("Protected time can be removed only within 14 days of logging it. "
                                 "Ask your education lead to correct an older entry.")
    audit.record("protected_time.delete", entry, actor_id=preceptor.id, details=_details(entry))
    db.session.delete(entry)
