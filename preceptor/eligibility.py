"""Whether a preceptor counts towards capacity, and their cap (PRODUCT.md, "Capacity").

Eligible on a day: trained, registered at least N months (default 12), active, and not
unavailable (on leave) that day. The cap is the preceptor's own, else the department's,
else the trust default.
"""

from dataclasses import dataclass
from datetime import date

from flask import current_app

from .models import Department, PreceptorProfile
from .services.programmes import add_months


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: tuple[str, ...]


def eligibility(profile: PreceptorProfile, on: date) -> Eligibility:
    months = current_app.config["PRECEPTOR_MIN_MONTHS_REGISTERED"]
    reasons = []
    if not profile.user.is_active:
        reasons.append("inactive")
    if profile.trained_on is None or profile.trained_on > on:
        reasons.append("untrained")
    if add_months(profile.registered_on, months) > on:
        reasons.append(f"registered under {months} months")
    if profile.unavailable_until is not None and profile.unavailable_until >= on:
        reasons.append("on leave")
    return Eligibility(not reasons, tuple(reasons))


def effective_cap(profile: PreceptorProfile, department: Department | None = None) -> int:
    department = department or profile.department
    if profile.cap is not None:
        return profile.cap
    if department.preceptor_cap is not None:
        return department.preceptor_cap
    return current_app.config["DEFAULT_PRECEPTOR_CAP"]
