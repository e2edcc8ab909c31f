"""The preceptor register: every preceptor in a lead's scope with cap, load and standing, the
staff who could be trained next, and the lead's changes to a preceptor's record.

One query loads the register whatever its size; eligibility is worked out per row in Python
by `eligibility()` so each row can say why someone does not count.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from ..eligibility import (
    Eligibility,
    cap_expression,
    department_cap,
    effective_cap,
    eligibility,
    registered_cutoff,
)
from ..extensions import db
from ..models import Department, PreceptorProfile, Profession, User
from . import audit
from .capacity import current_load, load_of, protected_hours
from .scope import in_scope

MAX_CAP = 6
REASON_MAX = 200


@dataclass
class RegisterRow:
    profile: PreceptorProfile
    cap: int
    load: int
    hours: Decimal
    standing: Eligibility

    @property
    def user(self) -> User:
        return self.profile.user

    @property
    def department(self) -> Department:
        return self.profile.department

    @property
    def free(self) -> int:
        """Places this preceptor could take now: none unless they count towards capacity."""
        return max(0, self.cap - self.load) if self.standing.eligible else 0

    @property
    def over_cap(self) -> bool:
        return self.load > self.cap


def register_rows(scope: list[int] | None, today: date, *, department_id: int | None = None,
                  profession: Profession | None = None, trained_only: bool = False,
                  on: date | None = None, user_id: int | None = None) -> list[RegisterRow]:
    """Register rows by department then name. `on` is the day eligibility is judged (default
    today), for starters who begin later."""
    load, hours = current_load(), protected_hours(today)
    query = (
        sa.select(PreceptorProfile, cap_expression(), sa.func.coalesce(load.c.load, 0),
                  sa.func.coalesce(hours.c.hours, 0))
        .join(PreceptorProfile.department)
        .join(User, User.id == PreceptorProfile.user_id)
        .options(contains_eager(PreceptorProfile.department), contains_eager(PreceptorProfile.user))
        .outerjoin(load, load.c.preceptor_id == PreceptorProfile.user_id)
        .outerjoin(hours, hours.c.preceptor_id == PreceptorProfile.user_id)
        .where(Department.archived_at.is_(None), User.erased_at.is_(None),
               in_scope(PreceptorProfile.department_id, scope))
        .order_by(Department.name, User.name, User.id)
    )
    if user_id is not None:
        query = query.where(PreceptorProfile.user_id == user_id)
    if department_id is not None:
        query = query.where(PreceptorProfile.department_id == department_id)
    if profession is not None:
        query = query.where(Department.profession == profession)
    if trained_only:
        query = query.where(PreceptorProfile.trained_on.is_not(None))
    day = on or today
    return [RegisterRow(profile, cap, load, Decimal(hours), eligibility(profile, day))
            for profile, cap, load, hours in db.session.execute(query)]


def could_train_next(rows: list[RegisterRow], today: date) -> list[RegisterRow]:
    """Active staff registered long enough who have not done preceptor training."""
    cutoff = registered_cutoff(today)
    return [row for row in rows if row.profile.trained_on is None and row.profile.registered_on <= cutoff
            and row.user.is_active]


def profile_in_scope(user_id: int, scope: list[int] | None) -> PreceptorProfile | None:
    return db.session.scalar(sa.select(PreceptorProfile).where(PreceptorProfile.user_id == user_id,
                                                               in_scope(PreceptorProfile.department_id, scope)))


class RegisterError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def change_problems(cap: int | None, trained_on: date | None, unavailable_until: date | None,
                    unavailable_reason: str, registered_on: date, today: date, *, load: int = 0,
                    cap_after: int | None = None) -> dict[str, str]:
    """Every rule a change to the register breaks, keyed by field; the form shows these.
    `cap_after` is the cap the change leaves (the department's when `cap` is blank): it may
    not fall below the preceptees they have, since going over a cap needs a recorded reason."""
    found = {}
    if cap is not None and not 0 <= cap <= MAX_CAP:
        found["cap"] = f"Cap must be a whole number from 0 to {MAX_CAP}, or blank for the department's default"
    elif cap_after is not None and cap_after < load:
        found["cap"] = (f"They have {load} preceptee{'s' if load != 1 else ''} now, so the cap must be at least "
                        f"{load}. Reallocate preceptees first to lower it")
    if trained_on is not None and trained_on > today:
        found["trained_on"] = "Training date must be today or in the past"
    elif trained_on is not None and trained_on < registered_on:
        found["trained_on"] = "Training date must be on or after the date they registered with the HCPC"
    if unavailable_until is not None and unavailable_until < today:
        found["unavailable_until"] = "Unavailable until must be today or in the future, or blank if available"
    if unavailable_until is not None and not unavailable_reason:
        found["unavailable_reason"] = "Enter why they are unavailable, like annual leave or secondment"
    elif len(unavailable_reason) > REASON_MAX:
        found["unavailable_reason"] = f"Reason must be {REASON_MAX} characters or fewer"
    return found


def change(profile: PreceptorProfile, *, cap: int | None, trained_on: date | None, unavailable_until: date | None,
           unavailable_reason: str, by: User, today: date) -> None:
    """Apply a lead's change to a preceptor's cap, training date and availability, audited with
    the values before and after. The caller commits."""
    unavailable_reason = (unavailable_reason or "").strip() if unavailable_until else ""
    cap_after = cap if cap is not None else department_cap(profile.department)
    load = load_of(profile.user_id) if cap_after < effective_cap(profile) else 0  # only a lower cap can clash
    found = change_problems(cap, trained_on, unavailable_until, unavailable_reason, profile.registered_on, today,
                            load=load, cap_after=cap_after)
    if found:
        field, message = next(iter(found.items()))
        raise RegisterError(message, field)
    before = _values(profile)
    profile.cap, profile.trained_on = cap, trained_on
    profile.unavailable_until, profile.unavailable_reason = unavailable_until, unavailable_reason or None
    after = _values(profile)
    if before != after:
        audit.record("register.change", profile.user, actor_id=by.id, department_id=profile.department_id,
                     details={"before": before, "after": after})


def _values(profile: PreceptorProfile) -> dict:
    iso = lambda day: day.isoformat() if day else None  # noqa: E731
    return {"cap": profile.cap, "trained_on": iso(profile.trained_on),
            "unavailable_until": iso(profile.unavailable_until),
            # Whether a reason was given, never the reason: it is often about health, and the
            # append-only log outlives the person's erasure. The profile holds the words.
            "unavailable_reason_given": bool(profile.unavailable_reason)}
