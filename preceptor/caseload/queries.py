"""Reads behind the preceptor's pages, as grouped queries (never one per preceptee)."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Allocation,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    ProtectedTime,
    User,
)


def _milestone_counts(today: date):
    done = Milestone.status == MilestoneStatus.SIGNED_OFF
    return (
        select(
            Milestone.preceptorship_id.label("programme_id"),
            func.count().label("total"),
            func.count().filter(done).label("signed_off"),
            func.count().filter(~done, Milestone.due_date < today).label("overdue"),
            func.count().filter(Milestone.status == MilestoneStatus.WAITING).label("waiting"),
        )
        .group_by(Milestone.preceptorship_id)
        .subquery()
    )


def caseload(preceptor_id: int, today: date, current: bool = True):
    """Rows of (programme, preceptee, allocation, total, signed_off, overdue, waiting) for the
    preceptor's current allocations to running programmes, or (current=False) past ones."""
    counts = _milestone_counts(today)
    query = (
        select(
            Preceptorship,
            User,
            Allocation,
            func.coalesce(counts.c.total, 0),
            func.coalesce(counts.c.signed_off, 0),
            func.coalesce(counts.c.overdue, 0),
            func.coalesce(counts.c.waiting, 0),
        )
        .join(Allocation, Allocation.preceptorship_id == Preceptorship.id)
        .join(User, User.id == Preceptorship.preceptee_id)
        .outerjoin(counts, counts.c.programme_id == Preceptorship.id)
        .where(Allocation.preceptor_id == preceptor_id)
    )
    if current:
        query = query.where(Allocation.ends_on.is_(None), Preceptorship.status.in_(RUNNING_STATUSES))
        query = query.order_by(Preceptorship.start_date, User.name)
    else:
        query = query.where((Allocation.ends_on.is_not(None)) | Preceptorship.status.not_in(RUNNING_STATUSES))
        query = query.order_by(Allocation.starts_on.desc())
    return db.session.execute(query).all()


def protected_hours(preceptor_id: int, today: date) -> Decimal:
    """Protected preceptor time logged over the last 12 months."""
    since = today - timedelta(days=365)
    total = db.session.scalar(
        select(func.coalesce(func.sum(ProtectedTime.hours), 0)).where(
            ProtectedTime.preceptor_id == preceptor_id, ProtectedTime.occurred_on > since
        )
    )
    return Decimal(total)


def current_programme_or_404(programme_id: int, preceptor_id: int) -> Preceptorship:
    """The programme if this preceptor is its current preceptor; otherwise 404 (a past
    preceptor, another preceptor or a made-up id all learn nothing)."""
    return db.first_or_404(select(Preceptorship).join(Allocation).where(
        Preceptorship.id == programme_id, Allocation.preceptor_id == preceptor_id, Allocation.ends_on.is_(None)))
