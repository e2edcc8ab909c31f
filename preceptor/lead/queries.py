"""Reads behind the lead's overview: one grouped query per figure, whatever the scope."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import RUNNING_STATUSES, Allocation, Department, PreceptorProfile, Preceptorship, Site


def department_overview(scope: list[int] | None):
    """Rows of (department, running programmes, waiting for a preceptor, preceptor profiles)
    for the departments in scope (None: all), by site then name."""
    has_preceptor = (
        select(Allocation.id)
        .where(Allocation.preceptorship_id == Preceptorship.id, Allocation.ends_on.is_(None))
        .exists()
    )
    programmes = (
        select(
            Preceptorship.department_id,
            func.count().label("running"),
            func.count().filter(~has_preceptor).label("waiting"),
        )
        .where(Preceptorship.status.in_(RUNNING_STATUSES))
        .group_by(Preceptorship.department_id)
        .subquery()
    )
    preceptors = (
        select(PreceptorProfile.department_id, func.count().label("preceptors"))
        .group_by(PreceptorProfile.department_id)
        .subquery()
    )
    query = (
        select(
            Department,
            func.coalesce(programmes.c.running, 0),
            func.coalesce(programmes.c.waiting, 0),
            func.coalesce(preceptors.c.preceptors, 0),
        )
        .join(Site, Site.id == Department.site_id)
        .outerjoin(programmes, programmes.c.department_id == Department.id)
        .outerjoin(preceptors, preceptors.c.department_id == Department.id)
        .where(Department.archived_at.is_(None))
        .order_by(Site.name, Department.name)
    )
    if scope is not None:
        query = query.where(Department.id.in_(scope))
    return db.session.execute(query).all()
