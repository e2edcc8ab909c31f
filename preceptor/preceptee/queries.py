"""Reads behind the preceptee's pages: a fixed handful of queries per page."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, or_, select

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    Principle,
    Role,
    User,
    UserRole,
    lead_department,
    template_principle,
)


def my_programme(user_id: int) -> Preceptorship | None:
    """The person's running programme, else their most recent one."""
    running_first = case((Preceptorship.status.in_(RUNNING_STATUSES), 0), else_=1)
    query = (
        select(Preceptorship)
        .where(Preceptorship.preceptee_id == user_id)
        .order_by(running_first, Preceptorship.start_date.desc())
        .limit(1)
    )
    return db.session.scalar(query)


@dataclass(frozen=True)
class MilestoneCounts:
    total: int
    signed_off: int
    overdue: int
    waiting: int


def milestone_counts(programme_id: int, today: date) -> MilestoneCounts:
    done = Milestone.status == MilestoneStatus.SIGNED_OFF
    row = db.session.execute(
        select(
            func.count(),
            func.count().filter(done),
            func.count().filter(~done, Milestone.due_date < today),
            func.count().filter(Milestone.status == MilestoneStatus.WAITING),
        ).where(Milestone.preceptorship_id == programme_id)
    ).one()
    return MilestoneCounts(*row)


def due_next(programme_id: int, limit: int = 5) -> list[Milestone]:
    """Milestones not yet signed off, earliest due first (overdue ones lead)."""
    query = (
        select(Milestone)
        .where(Milestone.preceptorship_id == programme_id, Milestone.status != MilestoneStatus.SIGNED_OFF)
        .order_by(Milestone.due_date, Milestone.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def principle_progress(programme_id: int) -> list[tuple[Principle, int, int]]:
    """(principle, signed off, total) for each of the five principles, in HCPC order."""
    signed = func.count(Milestone.id).filter(Milestone.status == MilestoneStatus.SIGNED_OFF)
    query = (
        select(Principle, signed, func.count(Milestone.id))
        .outerjoin(template_principle, template_principle.c.principle_id == Principle.id)
        .outerjoin(
            Milestone,
            (Milestone.template_id == template_principle.c.template_id)
            & (Milestone.preceptorship_id == programme_id),
        )
        .group_by(Principle.id)
        .order_by(Principle.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


def education_leads_for(department_id: int) -> list[User]:
    """Active leads whose scope covers the department (trust-wide leads included)."""
    covers = or_(
        User.trust_wide.is_(True),
        User.id.in_(select(lead_department.c.user_id).where(lead_department.c.department_id == department_id)),
    )
    query = (
        select(User)
        .join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == Role.EDUCATION_LEAD))
        .where(User.active.is_(True), covers)
        .order_by(User.trust_wide, User.name)
    )
    return list(db.session.scalars(query))
