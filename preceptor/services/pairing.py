"""Pairing a preceptee with a preceptor: who is waiting, who is suggested and why, and the
checked allocation that the pairing and cohort screens both use.

Suggestions follow one ranking (the cohort allocator uses the same `tier`): same department
first, then the same site and profession, then the same profession elsewhere; then more free
places; then fewer current preceptees. Only preceptors eligible on the day the preceptee
needs them (today, or their start date if later: so not on leave in their first weeks) are
suggested, and only of the preceptee's profession.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from ..eligibility import effective_cap, eligibility
from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Allocation,
    AllocationEndReason,
    Department,
    PreceptorProfile,
    Preceptorship,
    Role,
    User,
)
from . import allocations, audit
from .capacity import NEEDING_PRECEPTOR, has_preceptor, load_of, waiting_since
from .register import RegisterRow, register_rows
from .scope import in_scope

TIER_WORDS = ("Same department", "Same site and profession", "Same profession, another site")
REASON_MAX = 500


@dataclass
class Unallocated:
    """A programme that needs a preceptor: waiting now, or starting later without one."""

    programme: Preceptorship
    since: date

    def days_waiting(self, today: date) -> int:
        return max(0, (today - self.since).days)

    def needed_from(self, today: date) -> date:
        return max(today, self.programme.start_date)


def unallocated(scope: list[int] | None, *, department_id: int | None = None,
                programme_ids: list[int] | None = None) -> list[Unallocated]:
    """Active programmes in scope with no current preceptor, longest waiting first."""
    since = waiting_since()
    query = (
        sa.select(Preceptorship, since)
        .join(Preceptorship.department)
        .join(Preceptorship.preceptee)
        .options(contains_eager(Preceptorship.department), contains_eager(Preceptorship.preceptee))
        .where(Preceptorship.status.in_(NEEDING_PRECEPTOR), ~has_preceptor(), Department.archived_at.is_(None))
        .where(in_scope(Preceptorship.department_id, scope))
        .order_by(since, User.name, Preceptorship.id)
    )
    if department_id is not None:
        query = query.where(Preceptorship.department_id == department_id)
    if programme_ids is not None:
        query = query.where(Preceptorship.id.in_(programme_ids))
    return [Unallocated(programme, since) for programme, since in db.session.execute(query)]


def allocated(department_id: int) -> list[tuple[Preceptorship, Allocation]]:
    """Running programmes in a department with their current allocation, by preceptee."""
    return list(db.session.execute(
        sa.select(Preceptorship, Allocation)
        .join(Allocation, sa.and_(Allocation.preceptorship_id == Preceptorship.id, Allocation.ends_on.is_(None)))
        .join(Preceptorship.preceptee)
        .options(contains_eager(Preceptorship.preceptee))
        .where(Preceptorship.department_id == department_id, Preceptorship.status.in_(RUNNING_STATUSES))
        .order_by(User.name, Preceptorship.id)
    ).all())


def tier(programme: Preceptorship, department: Department) -> int | None:
    """0 same department, 1 same site and profession, 2 same profession elsewhere; None: a
    different profession, never suggested."""
    if department.id == programme.department_id:
        return 0
    if department.profession != programme.department.profession:
        return None
    return 1 if department.site_id == programme.department.site_id else 2


@dataclass
class Suggestion:
    row: RegisterRow
    tier: int

    @property
    def reasons(self) -> list[str]:
        load = self.row.load
        return [TIER_WORDS[self.tier],
                f"{self.row.free} free place{'s' if self.row.free != 1 else ''}" if self.row.free
                else f"Full: {load} of {self.row.cap} places taken",
                f"{load} current preceptee{'s' if load != 1 else ''}"]

    def key(self):
        return (self.tier, self.row.free == 0, -self.row.free, self.row.load, self.row.user.name, self.row.user.id)


@dataclass
class Suggestions:
    ranked: list[Suggestion]
    # Preceptors in the preceptee's own department who cannot take them, and why.
    unable: list[RegisterRow]


def suggest(programme: Preceptorship, scope: list[int] | None, today: date) -> Suggestions:
    """Ranked preceptors for one programme (its current preceptor left out)."""
    current = programme.current_allocation
    ranked, unable = [], []
    for row in register_rows(scope, today, profession=programme.department.profession,
                             on=max(today, programme.start_date)):
        if row.user.id == programme.preceptee_id or (current and current.preceptor_id == row.user.id):
            continue
        row_tier = tier(programme, row.department)
        if row.standing.eligible and row_tier is not None:
            ranked.append(Suggestion(row, row_tier))
        elif row_tier == 0:
            unable.append(row)
    ranked.sort(key=Suggestion.key)
    return Suggestions(ranked, unable)


class PairingRefused(ValueError):
    """An allocation refused; the message is for the lead. `field` names the form field it
    belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def programme_in_scope(programme_id: int, scope: list[int] | None, *, lock: bool = False) -> Preceptorship | None:
    query = sa.select(Preceptorship).where(Preceptorship.id == programme_id,
                                           in_scope(Preceptorship.department_id, scope))
    if lock:
        query = query.with_for_update(of=Preceptorship)
    return db.session.scalar(query)


def lock_rows(programme_ids: list[int], preceptor_ids: list[int]) -> None:
    """Lock programmes, then preceptors' profiles, each in id order (FOR UPDATE on PostgreSQL;
    SQLite has one writer anyway). Every allocation takes its locks in this order, so two
    leads at once wait for each other instead of deadlocking."""
    for model, column, ids in ((Preceptorship, Preceptorship.id, programme_ids),
                               (PreceptorProfile, PreceptorProfile.user_id, preceptor_ids)):
        if ids:
            db.session.execute(sa.select(column).where(column.in_(sorted(set(ids)))).order_by(column)
                               .with_for_update(of=model))


def place(programme_id: int, preceptor_id: int, *, by: User, scope: list[int] | None, today: date,
          over_cap_reason: str = "", end_reason: AllocationEndReason | None = None,
          end_note: str = "") -> Allocation:
    """Allocate a preceptor to a programme after every check, or raise `PairingRefused`.

    The programme's and the preceptor's rows are locked first (FOR UPDATE on PostgreSQL), so
    two leads giving away a preceptor's last place at once are served one after the other and
    the second sees the place taken. Allocating past the cap needs `over_cap_reason`; a
    programme that has a preceptor is reallocated only with `end_reason`. The caller commits.
    """
    over_cap_reason, end_note = over_cap_reason.strip(), end_note.strip()
    programme = programme_in_scope(programme_id, scope, lock=True)
    if programme is None:
        raise PairingRefused("That preceptee is not in one of your departments")
    if programme.status not in RUNNING_STATUSES:
        raise PairingRefused(f"{programme.preceptee.name}'s programme has {programme.status.label.lower()}: "
                             "it needs no preceptor")
    profile = db.session.scalar(sa.select(PreceptorProfile).where(PreceptorProfile.user_id == preceptor_id)
                                .with_for_update(of=PreceptorProfile))
    if profile is None or (scope is not None and profile.department_id not in scope):
        raise PairingRefused("That preceptor is not on the register of your departments", "preceptor")
    name = profile.user.name
    if preceptor_id == programme.preceptee_id:
        raise PairingRefused("Nobody can be their own preceptor", "preceptor")
    current = programme.current_allocation
    if current is not None and current.preceptor_id == preceptor_id:
        raise PairingRefused(f"{name} is already {programme.preceptee.name}'s preceptor", "preceptor")
    if current is not None and end_reason is None:
        raise PairingRefused(f"{programme.preceptee.name} already has a preceptor. Choose why the current "
                             "allocation ends to reallocate", "end_reason")
    if end_reason is AllocationEndReason.OTHER and not end_note:
        raise PairingRefused("Enter why the current allocation ends", "end_note")
    if tier(programme, profile.department) is None:
        raise PairingRefused(f"{name} works in {profile.department.profession.label.lower()}, "
                             f"not {programme.department.profession.label.lower()}", "preceptor")
    standing = eligibility(profile, max(today, programme.start_date))
    if not standing.eligible:
        raise PairingRefused(f"{name} cannot take a preceptee: {', '.join(standing.reasons)}", "preceptor")
    cap, load = effective_cap(profile), load_of(preceptor_id)
    if load >= cap and not over_cap_reason:
        raise PairingRefused(f"{name} has {load} of {cap} places taken. Give a reason to allocate over their cap",
                             "over_cap_reason")
    for text in (over_cap_reason, end_note):
        if len(text) > REASON_MAX:
            raise PairingRefused(f"Reasons must be {REASON_MAX} characters or fewer",
                                 "over_cap_reason" if text is over_cap_reason else "end_note")
    if not profile.user.has_role(Role.PRECEPTOR):  # on the register, trained, but not yet given the role
        profile.user.grant(Role.PRECEPTOR)
        audit.record("user.grant_role", profile.user, actor_id=by.id, details={"role": Role.PRECEPTOR.value})
    return allocations.allocate(programme, profile.user, today, by=by,
                                over_cap_reason=over_cap_reason if load >= cap else None,
                                end_reason=end_reason, end_note=end_note or None)
