"""An education lead's scope in queries: the departments they lead, or every department when
trust-wide (`access.lead_scope()` gives the ids, or None)."""

import sqlalchemy as sa

from ..extensions import db
from ..models import Department, Role, Site, User, UserRole, lead_department


def in_scope(column, scope: list[int] | None) -> sa.ColumnElement[bool]:
    """`column` (a department id) is one of the lead's; always true for a trust-wide lead."""
    return sa.true() if scope is None else column.in_(scope)


def open_departments(scope: list[int] | None) -> list[Department]:
    """The lead's departments that are not archived, by site then name (with their sites)."""
    return list(db.session.scalars(
        sa.select(Department).join(Site, Site.id == Department.site_id)
        .where(Department.archived_at.is_(None), in_scope(Department.id, scope))
        .order_by(Site.name, Department.name)))


def leads_covering(department_ids: set[int]) -> dict[int, list[User]]:
    """The active education leads whose scope covers each department (trust-wide leads cover
    all), in one query: for telling them about events in their departments."""
    if not department_ids:
        return {}
    rows = db.session.execute(
        sa.select(User, lead_department.c.department_id)
        .join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == Role.EDUCATION_LEAD))
        .outerjoin(lead_department, (lead_department.c.user_id == User.id)
                   & lead_department.c.department_id.in_(department_ids))
        .where(User.active.is_(True), User.erased_at.is_(None),
               sa.or_(User.trust_wide.is_(True), lead_department.c.department_id.is_not(None)))
        .order_by(User.name, User.id)).all()
    found: dict[int, list[User]] = {department_id: [] for department_id in department_ids}
    for user, department_id in rows:
        for covered in (department_ids if user.trust_wide else (department_id,)):
            if user not in found[covered]:
                found[covered].append(user)
    return found
