"""Changing a person's details (name, email, HCPC number) and where a preceptor works (their
department and HCPC registration date, which the register and capacity read).

The audit log says which details changed, never their values: it outlives the person's
erasure, so it must not hold their name or email. Nothing here commits.
"""

from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import Department, PreceptorProfile, Role, User
from . import account_links, audit
from .people import DUPLICATE_EMAIL, DUPLICATE_HCPC, UNKNOWN_DEPARTMENT, PeopleRefused, _not_erased


def change_details(user: User, name: str, email: str, hcpc: str | None, by: User) -> bool:
    """Give `user` this name, email and HCPC number; True if anything changed. The email
    and the number must not belong to anyone else (email ignoring case)."""
    _not_erased(user)
    email, hcpc = User.normalise_email(email), hcpc or None
    if email != user.email and db.session.scalar(
            sa.select(User.id).where(User.email == email, User.id != user.id)) is not None:
        raise PeopleRefused(DUPLICATE_EMAIL, "email")
    if hcpc and hcpc != user.hcpc_number and db.session.scalar(
            sa.select(User.id).where(User.hcpc_number == hcpc, User.id != user.id)) is not None:
        raise PeopleRefused(DUPLICATE_HCPC, "hcpc_number")
    wanted = {"name": " ".join(name.split()), "email": email, "hcpc_number": hcpc}
    changed = sorted(key for key, value in wanted.items() if getattr(user, key) != value)
    if not changed:
        return False
    for key in changed:
        setattr(user, key, wanted[key])
    if "email" in changed:
        account_links.end_unused(user)  # a link sent to the old (perhaps mistyped) address stops working
    audit.record("person.change_details", user, actor_id=by.id, details={"changed": changed})
    return True


def place_preceptor(user: User, department_id: int | None, registered_on: date | None, by: User) -> bool:
    """Where a preceptor works and since when they have been registered: creates their place
    in the register (cap, training and leave are the lead's, on the register) or moves it.
    True if anything changed."""
    _not_erased(user)
    if Role.PRECEPTOR not in user.roles:
        raise PeopleRefused("Give them the preceptor role first")
    department = db.session.get(Department, department_id) if department_id is not None else None
    profile = db.session.get(PreceptorProfile, user.id)
    if department is None or (department.archived_at is not None
                              and (profile is None or profile.department_id != department.id)):
        raise PeopleRefused(UNKNOWN_DEPARTMENT, "department")
    if registered_on is None:
        raise PeopleRefused("Enter the date they registered with the HCPC", "registered_on")
    before = {"department_id": profile.department_id, "registered_on": profile.registered_on.isoformat()} \
        if profile else None
    after = {"department_id": department.id, "registered_on": registered_on.isoformat()}
    if before == after:
        return False
    if profile is None:
        db.session.add(PreceptorProfile(user_id=user.id, department_id=department.id, registered_on=registered_on))
    else:
        profile.department_id, profile.registered_on = department.id, registered_on
    audit.record("preceptor.place", user, actor_id=by.id, department_id=department.id,
                 details={"before": before, "after": after})
    return True
