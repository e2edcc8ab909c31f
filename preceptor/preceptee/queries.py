"""Reads behind the preceptee's pages: a fixed handful of queries per page."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, or_, select

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    LogEntry,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    Principle,
    ProgrammeStatus,
    Role,
    SignOffRequest,
    User,
    UserRole,
    lead_department,
    milestone_evidence,
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


def own_milestone_or_404(milestone_id: int, user_id: int) -> Milestone:
    """The milestone if it is in one of this person's programmes; otherwise 404 (never 403,
    so ids of other people's records reveal nothing)."""
    return db.first_or_404(select(Milestone).join(Preceptorship).where(
        Milestone.id == milestone_id, Preceptorship.preceptee_id == user_id))


def own_entry_or_404(entry_id: int, user_id: int) -> LogEntry:
    return db.first_or_404(select(LogEntry).join(Preceptorship).where(
        LogEntry.id == entry_id, Preceptorship.preceptee_id == user_id))


def timeline(programme_id: int, status: str | None = None, principle: int | None = None):
    """Rows of (milestone, evidence count) by due date, filtered by status and principle."""
    # Counted per milestone shown (an index-only probe each), not grouped over every milestone's
    # evidence in the trust and joined afterwards.
    evidence = (select(func.count()).where(milestone_evidence.c.milestone_id == Milestone.id)
                .correlate(Milestone).scalar_subquery())
    query = (select(Milestone, evidence)
             .where(Milestone.preceptorship_id == programme_id)
             .order_by(Milestone.due_date, Milestone.id))
    if status:
        query = query.where(Milestone.status == status)
    if principle:
        query = query.where(Milestone.template_id.in_(
            select(template_principle.c.template_id).where(template_principle.c.principle_id == principle)))
    return db.session.execute(query).all()


def principles() -> list[Principle]:
    return list(db.session.scalars(select(Principle).order_by(Principle.id)))


def evidence_entries(milestone_id: int) -> list[LogEntry]:
    return list(db.session.scalars(
        select(LogEntry).join(milestone_evidence, milestone_evidence.c.entry_id == LogEntry.id)
        .where(milestone_evidence.c.milestone_id == milestone_id).order_by(LogEntry.occurred_on.desc())))


def entry_choices(programme_id: int) -> list[LogEntry]:
    """Entries that can be chosen as evidence, newest first."""
    return list(db.session.scalars(select(LogEntry).where(LogEntry.preceptorship_id == programme_id)
                                   .order_by(LogEntry.occurred_on.desc(), LogEntry.id.desc())))


def linkable_milestones(programme_id: int) -> list[Milestone]:
    """Milestones a new entry can be linked to: neither signed off nor waiting for sign-off."""
    return list(db.session.scalars(select(Milestone).where(
        Milestone.preceptorship_id == programme_id,
        Milestone.status.not_in((MilestoneStatus.SIGNED_OFF, MilestoneStatus.WAITING)))
        .order_by(Milestone.due_date, Milestone.id)))


def milestones_of_entry(entry_id: int) -> list[Milestone]:
    return list(db.session.scalars(
        select(Milestone).join(milestone_evidence, milestone_evidence.c.milestone_id == Milestone.id)
        .where(milestone_evidence.c.entry_id == entry_id).order_by(Milestone.due_date)))


def entries(programme_id: int, search: str = "", kind: str | None = None, page: int = 1, per_page: int = 20):
    """A page of log entries, newest first, with the total matching."""
    query = select(LogEntry).where(LogEntry.preceptorship_id == programme_id)
    if kind:
        query = query.where(LogEntry.kind == kind)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(*(func.lower(column).like(pattern) for column in (
            LogEntry.title, LogEntry.what_happened, LogEntry.so_what, LogEntry.now_what, LogEntry.notes))))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(LogEntry.occurred_on.desc(), LogEntry.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total


def waiting_for_preceptor(programme_id: int) -> list[tuple[Milestone, SignOffRequest]]:
    """Milestones waiting for sign-off, with the request, oldest first."""
    return [tuple(row) for row in db.session.execute(
        select(Milestone, SignOffRequest).join(SignOffRequest, SignOffRequest.milestone_id == Milestone.id)
        .where(Milestone.preceptorship_id == programme_id, SignOffRequest.status == "waiting")
        .order_by(SignOffRequest.requested_at))]


def recent_decisions(programme_id: int, limit: int = 5) -> list[tuple[Milestone, SignOffRequest]]:
    """The preceptor's latest decisions (signed off or returned), newest first."""
    return [tuple(row) for row in db.session.execute(
        select(Milestone, SignOffRequest).join(SignOffRequest, SignOffRequest.milestone_id == Milestone.id)
        .where(Milestone.preceptorship_id == programme_id, SignOffRequest.decided_at.is_not(None))
        .order_by(SignOffRequest.decided_at.desc()).limit(limit))]


def due_soon_count(user_id: int, today: date, days: int = 14) -> int:
    """Milestones of the person's running, unpaused programme that are overdue or due within
    `days` and still need them to act (not waiting for the preceptor, not signed off)."""
    return db.session.scalar(
        select(func.count()).select_from(Milestone).join(Preceptorship)
        .where(Preceptorship.preceptee_id == user_id,
               Preceptorship.status.in_((ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED)),
               Milestone.status.in_((MilestoneStatus.NOT_STARTED, MilestoneStatus.IN_PROGRESS,
                                     MilestoneStatus.RETURNED)),
               Milestone.due_date <= today + timedelta(days=days)))
