"""Whether a preceptor counts towards capacity, and their cap (PRODUCT.md, "Capacity").

Eligible on a day: trained, registered at least N months (default 12), active, and not
unavailable (on leave) that day. The cap is the preceptor's own, else the department's,
else the trust default.

The rules live here twice over, on purpose: `eligibility()` explains one profile in words,
and `eligible_clause()` / `cap_expression()` put the same rules into SQL for reports over a
whole trust. Both use `registered_cutoff()`, and a test holds them to the same answers.
"""

import calendar
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from .models import Department, PreceptorProfile, User
from .services.programmes import add_months


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: tuple[str, ...]


def min_months() -> int:
    return current_app.config["PRECEPTOR_MIN_MONTHS_REGISTERED"]


def registered_cutoff(on: date, months: int | None = None) -> date:
    """The latest registration date that is at least `months` before `on` (months clamp to a
    month's end, as `add_months` does: registered 29 Feb counts a year later on 28 Feb)."""
    months = min_months() if months is None else months
    cutoff = add_months(on, -months)
    if on.day == calendar.monthrange(on.year, on.month)[1]:
        cutoff = cutoff.replace(day=calendar.monthrange(cutoff.year, cutoff.month)[1])
    return cutoff


def eligibility(profile: PreceptorProfile, on: date) -> Eligibility:
    months = min_months()
    reasons = []
    if not profile.user.is_active:
        reasons.append("inactive")
    if profile.trained_on is None or profile.trained_on > on:
        reasons.append("untrained")
    if profile.registered_on > registered_cutoff(on, months):
        reasons.append(f"registered under {months} months")
    if profile.unavailable_until is not None and profile.unavailable_until >= on:
        reasons.append("on leave")
    return Eligibility(not reasons, tuple(reasons))


def eligible_clause(on: date) -> sa.ColumnElement[bool]:
    """`eligibility(profile, on).eligible` as SQL over PreceptorProfile joined to User."""
    return sa.and_(
        User.active.is_(True),
        User.erased_at.is_(None),
        PreceptorProfile.trained_on <= on,
        PreceptorProfile.registered_on <= registered_cutoff(on),
        sa.or_(PreceptorProfile.unavailable_until.is_(None), PreceptorProfile.unavailable_until < on),
    )


def effective_cap(profile: PreceptorProfile, department: Department | None = None) -> int:
    if profile.cap is not None:
        return profile.cap
    return department_cap(department or profile.department)


def department_cap(department: Department) -> int:
    """The cap of a preceptor without their own: the department's, else the trust default."""
    if department.preceptor_cap is not None:
        return department.preceptor_cap
    return current_app.config["DEFAULT_PRECEPTOR_CAP"]


def cap_expression() -> sa.ColumnElement[int]:
    """`effective_cap` as SQL over PreceptorProfile joined to its Department."""
    return sa.func.coalesce(PreceptorProfile.cap, Department.preceptor_cap,
                            sa.literal(current_app.config["DEFAULT_PRECEPTOR_CAP"], sa.Integer))
