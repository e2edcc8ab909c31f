"""An education lead's scope in queries: the departments they lead, or every department when
trust-wide (`access.lead_scope()` gives the ids, or None)."""

import sqlalchemy as sa

from ..extensions import db
from ..models import Department, Site


def in_scope(column, scope: list[int] | None) -> sa.ColumnElement[bool]:
    """`column` (a department id) is one of the lead's; always true for a trust-wide lead."""
    return sa.true() if scope is None else column.in_(scope)


def open_departments(scope: list[int] | None) -> list[Department]:
    """The lead's departments that are not archived, by site then name (with their sites)."""
    return list(db.session.scalars(
        sa.select(Department).join(Site, Site.id == Department.site_id)
        .where(Department.archived_at.is_(None), in_scope(Department.id, scope))
        .order_by(Site.name, Department.name)))
