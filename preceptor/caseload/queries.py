"""Reads behind the preceptor's pages, as grouped queries (never one per preceptee)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Allocation,
    Department,
    Meeting,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    ProtectedTime,
    RequestStatus,
    SignOffRequest,
    User,
)
from ..services.decisions import fingerprint, snapshots
from ..services.meetings import ExpectedMeeting, schedule

DUE_SOON_DAYS = 28


def _programmes_of(preceptor_id: int):
    """Every programme this person has had an allocation to: the grouped counts below read only
    these programmes' milestones (through the index), never every milestone in the trust."""
    return select(Allocation.preceptorship_id).where(Allocation.preceptor_id == preceptor_id)


def _milestone_counts(today: date, preceptor_id: int):
    done = Milestone.status == MilestoneStatus.SIGNED_OFF
    return (
        select(
            Milestone.preceptorship_id.label("programme_id"),
            func.count().label("total"),
            func.count().filter(done).label("signed_off"),
            func.count().filter(~done, Milestone.due_date >= today,
                                Milestone.due_date <= today + timedelta(days=DUE_SOON_DAYS)).label("due_soon"),
            func.count().filter(~done, Milestone.due_date < today).label("overdue"),
        )
        .where(Milestone.preceptorship_id.in_(_programmes_of(preceptor_id)))
        .group_by(Milestone.preceptorship_id)
        .subquery()
    )


def _waiting(preceptor_id: int):
    return (
        select(Milestone.preceptorship_id.label("programme_id"), func.count().label("waiting"),
               func.min(SignOffRequest.requested_at).label("since"))
        .join(SignOffRequest, SignOffRequest.milestone_id == Milestone.id)
        .where(SignOffRequest.status == RequestStatus.WAITING,
               Milestone.preceptorship_id.in_(_programmes_of(preceptor_id)))
        .group_by(Milestone.preceptorship_id)
        .subquery()
    )


@dataclass(frozen=True)
class CaseloadRow:
    programme: Preceptorship
    preceptee: User
    allocation: Allocation
    total: int
    signed_off: int
    due_soon: int
    overdue: int
    waiting: int
    waiting_since: datetime | None
    next_meeting: ExpectedMeeting | None


def caseload(preceptor_id: int, today: date, current: bool = True) -> list[CaseloadRow]:
    """The preceptor's current preceptees (running programmes, allocation not ended), or with
    current=False past ones, with milestone counts, the oldest waiting request and the next
    expected meeting: three queries whatever the caseload."""
    counts, waiting = _milestone_counts(today, preceptor_id), _waiting(preceptor_id)
    query = (
        select(Preceptorship, User, Allocation, counts.c.total, counts.c.signed_off, counts.c.due_soon,
               counts.c.overdue, waiting.c.waiting, waiting.c.since)
        .join(Allocation, Allocation.preceptorship_id == Preceptorship.id)
        .join(User, User.id == Preceptorship.preceptee_id)
        .outerjoin(counts, counts.c.programme_id == Preceptorship.id)
        .outerjoin(waiting, waiting.c.programme_id == Preceptorship.id)
        .options(joinedload(Preceptorship.department).joinedload(Department.site))
    )
    if current:
        query = query.where(*precepted_by(preceptor_id)).order_by(Preceptorship.start_date, User.name)
    else:  # each programme once, by its latest allocation to this preceptor, unless precepted now
        now = select(Preceptorship.id).join(Allocation).where(*precepted_by(preceptor_id))
        query = (query.where(Allocation.preceptor_id == preceptor_id, Preceptorship.id.not_in(now))
                 .order_by(Allocation.starts_on.desc(), Allocation.id.desc()))
    rows, seen = [], set()
    for row in db.session.execute(query):
        if row[0].id not in seen:
            seen.add(row[0].id)
            rows.append(row)
    held: dict[int, list[Meeting]] = defaultdict(list)
    if current and rows:
        for meeting in db.session.scalars(select(Meeting).where(
                Meeting.preceptorship_id.in_([row[0].id for row in rows]))
                .order_by(Meeting.scheduled_for, Meeting.id)):
            held[meeting.preceptorship_id].append(meeting)
    result = []
    for programme, preceptee, allocation, total, signed, soon, overdue, waiting_n, since in rows:
        upcoming = [m for m in schedule(programme, held[programme.id]) if not m.held] if current else []
        result.append(CaseloadRow(programme, preceptee, allocation, total or 0, signed or 0, soon or 0,
                                  overdue or 0, waiting_n or 0, since, upcoming[0] if upcoming else None))
    return result


def protected_hours(preceptor_id: int, today: date) -> Decimal:
    """Protected preceptor time logged over the last 12 months."""
    since = today - timedelta(days=365)
    total = db.session.scalar(
        select(func.coalesce(func.sum(ProtectedTime.hours), 0)).where(
            ProtectedTime.preceptor_id == preceptor_id, ProtectedTime.occurred_on > since
        )
    )
    return Decimal(total)


def precepted_by(preceptor_id: int) -> tuple:
    """Conditions (on Preceptorship joined to Allocation) for the programmes this person
    precepts now: the current allocation, a running programme, and never their own."""
    return (Allocation.preceptorship_id == Preceptorship.id, Allocation.preceptor_id == preceptor_id,
            Allocation.ends_on.is_(None), Preceptorship.status.in_(RUNNING_STATUSES),
            Preceptorship.preceptee_id != preceptor_id)


def current_programme_or_404(programme_id: int, preceptor_id: int) -> Preceptorship:
    """The programme if this preceptor precepts it now; otherwise 404 (a past preceptor,
    another preceptor or a made-up id all learn nothing)."""
    return db.first_or_404(select(Preceptorship).join(Allocation).where(
        Preceptorship.id == programme_id, *precepted_by(preceptor_id)))


def current_milestone_or_404(milestone_id: int, preceptor_id: int) -> Milestone:
    """A milestone of a programme this preceptor precepts now; otherwise 404."""
    return db.first_or_404(select(Milestone).join(Preceptorship).join(Allocation).where(
        Milestone.id == milestone_id, *precepted_by(preceptor_id)))


@dataclass(frozen=True)
class QueueItem:
    request: SignOffRequest
    milestone: Milestone
    preceptee: User
    evidence: list[dict]  # as the decision would snapshot it

    @property
    def seen(self) -> str:
        return fingerprint(self.evidence)


def review_queue(preceptor_id: int, milestone_ids: list[int] | None = None) -> list[QueueItem]:
    """Everything waiting for this preceptor across current preceptees, oldest first, with
    its evidence: two queries whatever the length of the queue."""
    query = (
        select(SignOffRequest, Milestone, User)
        .join(Milestone, Milestone.id == SignOffRequest.milestone_id)
        .join(Preceptorship, Preceptorship.id == Milestone.preceptorship_id)
        .join(User, User.id == Preceptorship.preceptee_id)
        .join(Allocation, Allocation.preceptorship_id == Preceptorship.id)
        .where(SignOffRequest.status == RequestStatus.WAITING, *precepted_by(preceptor_id))
        .order_by(SignOffRequest.requested_at, SignOffRequest.id)
    )
    if milestone_ids is not None:
        query = query.where(Milestone.id.in_(milestone_ids))
    rows = db.session.execute(query).all()
    evidence = snapshots([request.id for request, _, _ in rows])
    return [QueueItem(request, milestone, preceptee, evidence[request.id]) for request, milestone, preceptee in rows]


def queue_count(preceptor_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SignOffRequest)
        .join(Milestone, Milestone.id == SignOffRequest.milestone_id)
        .join(Preceptorship, Preceptorship.id == Milestone.preceptorship_id)
        .join(Allocation, Allocation.preceptorship_id == Preceptorship.id)
        .where(SignOffRequest.status == RequestStatus.WAITING, *precepted_by(preceptor_id)))
