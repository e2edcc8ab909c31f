"""Programme administration for education leads (their departments) and admins (every
programme): finding programmes, what one programme's page shows, and ending a programme, by
completing it or recording that the preceptee left.

Ending follows the rules in programmes.py (a reason, a day between the start or last change and
today, the statuses that allow it) and is audited the same way. It ends the preceptor's
allocation, so the place is free in capacity and the programme is on nobody's caseload or
waiting list; a completion also opens the end-of-programme surveys. Nothing here commits.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Allocation,
    AllocationEndReason,
    Department,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    ProgrammeStatus,
    Site,
    StatusChange,
    SurveyInvitation,
    TimePoint,
    User,
)
from . import allocations, survey_waves
from .people import _like as like_pattern
from .programmes import (
    ProgrammeRefused,
    audit_change,
    check_allowed,
    check_day,
    checked_reason,
    open_milestones,
    record_change,
)
from .scope import in_scope
from .survey_library import PRECEPTOR_FEEDBACK

PER_PAGE = 50
RUNNING = "running"  # the status filter's value for active, paused or extended
# Statuses in which open milestones can be overdue (a paused programme's are not).
DUE_STATUSES = (ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED)
LEFT_NOTE = "The preceptee left the programme"  # on the allocation it ends, beside the reason "left"


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    preceptee: str
    email: str
    department: str  # "CT, Royal Preston Hospital"
    start_date: date
    planned_end_date: date
    status: ProgrammeStatus
    preceptor: str | None


@dataclass(frozen=True)
class ProgrammeList:
    rows: list[ProgrammeRow]
    total: int
    page: int
    pages: int


def find(scope: list[int] | None, search: str = "", department_id: int | None = None,
         status: str = "", page: int = 1) -> ProgrammeList:
    """A page of programmes in `scope` (None: all), by preceptee name: two queries whatever the
    page holds. `search` matches the preceptee's name or email, ignoring case; `status` is a
    ProgrammeStatus value or `RUNNING`; a page past the end is the last page."""
    preceptee, preceptor, current = aliased(User), aliased(User), aliased(Allocation)
    query = (sa.select(Preceptorship.id).join(preceptee, preceptee.id == Preceptorship.preceptee_id)
             .where(in_scope(Preceptorship.department_id, scope)))
    if search:
        pattern = like_pattern(search)
        query = query.where(sa.func.lower(preceptee.name).like(pattern, escape="\\")
                            | sa.func.lower(preceptee.email).like(pattern, escape="\\"))
    if department_id is not None:
        query = query.where(Preceptorship.department_id == department_id)
    if status == RUNNING:
        query = query.where(Preceptorship.status.in_(RUNNING_STATUSES))
    elif status:
        query = query.where(Preceptorship.status == ProgrammeStatus(status))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        query.with_only_columns(Preceptorship.id, preceptee.name, preceptee.email, Department.name, Site.name,
                                Preceptorship.start_date, Preceptorship.planned_end_date, Preceptorship.status,
                                preceptor.name)
        .join(Department, Department.id == Preceptorship.department_id).join(Site, Site.id == Department.site_id)
        .outerjoin(current, sa.and_(current.preceptorship_id == Preceptorship.id, current.ends_on.is_(None)))
        .outerjoin(preceptor, preceptor.id == current.preceptor_id)
        .order_by(preceptee.name, Preceptorship.start_date.desc(), Preceptorship.id)
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    return ProgrammeList([ProgrammeRow(row[0], row[1], row[2], f"{row[3]}, {row[4]}", *row[5:]) for row in rows],
                         total, page, pages)


def programme_in_scope(programme_id: int, scope: list[int] | None, *, lock: bool = False) -> Preceptorship | None:
    """The programme if it is in `scope`; with `lock`, its row is locked (FOR UPDATE on
    PostgreSQL) so two people changing it at once are served one after the other."""
    query = sa.select(Preceptorship).where(Preceptorship.id == programme_id,
                                           in_scope(Preceptorship.department_id, scope))
    if lock:  # and read afresh: the page may have loaded it before the lock
        query = query.with_for_update(of=Preceptorship).execution_options(populate_existing=True)
    return db.session.scalar(query)


@dataclass(frozen=True)
class MilestoneCounts:
    signed_off: int
    open: int
    overdue: int


def milestone_counts(programme: Preceptorship, today: date) -> MilestoneCounts:
    """Signed off, open, and overdue (open, due before today, in a programme that is running
    and not paused), in one query."""
    done = Milestone.status == MilestoneStatus.SIGNED_OFF
    late = sa.and_(~done, Milestone.due_date < today) if programme.status in DUE_STATUSES else sa.false()
    row = db.session.execute(sa.select(sa.func.count(sa.case((done, 1))), sa.func.count(sa.case((~done, 1))),
                                       sa.func.count(sa.case((late, 1))))
                             .where(Milestone.preceptorship_id == programme.id)).one()
    return MilestoneCounts(*row)


def open_milestone_list(programme: Preceptorship) -> list[tuple[str, date, MilestoneStatus]]:
    """(title, due date, status) of the milestones not signed off, soonest first."""
    return [tuple(row) for row in db.session.execute(
        sa.select(Milestone.title, Milestone.due_date, Milestone.status)
        .where(Milestone.preceptorship_id == programme.id, Milestone.status != MilestoneStatus.SIGNED_OFF)
        .order_by(Milestone.due_date, Milestone.id))]


def status_history(programme: Preceptorship) -> list[tuple[StatusChange, str | None]]:
    """Each status change, newest first, with the name of who made it (None: not recorded)."""
    return [tuple(row) for row in db.session.execute(
        sa.select(StatusChange, User.name).outerjoin(User, User.id == StatusChange.changed_by_id)
        .where(StatusChange.preceptorship_id == programme.id).order_by(StatusChange.id.desc()))]


def _end_allocation(programme: Preceptorship, reason: AllocationEndReason, on: date, by: User | None,
                    note: str | None = None) -> int | None:
    """End the current allocation, if any, on `on` (or the day it began, if later); its id."""
    current = db.session.scalar(sa.select(Allocation).where(Allocation.preceptorship_id == programme.id,
                                                            Allocation.ends_on.is_(None)))
    if current is None:
        return None
    allocations.end(current, reason, max(on, current.starts_on), note, by)
    return current.id


def _open_end_surveys(programme: Preceptorship, on: date, today: date) -> list[str]:
    """Open the end-of-programme survey, and the feedback on the preceptor if there was one,
    from the completion day: a completed programme is not running, so `surveys open-due` would
    never open them. Skipped if already there, or if their window has already closed. The
    preceptee is told about each one opened."""
    asked = [(TimePoint.MONTH_12, survey_waves.current_template())]
    if db.session.scalar(sa.select(Allocation.id).where(Allocation.preceptorship_id == programme.id).limit(1)):
        asked.append((TimePoint.END_FEEDBACK, survey_waves.current_template(PRECEPTOR_FEEDBACK.key)))
    existing = set(db.session.scalars(sa.select(SurveyInvitation.time_point)
                                      .where(SurveyInvitation.preceptorship_id == programme.id)))
    opened = []
    for time_point, template in asked:
        closes = on + survey_waves.window(time_point)
        if template is not None and time_point not in existing and closes > today:
            invitation = SurveyInvitation(preceptorship_id=programme.id, template_id=template.id,
                                          time_point=time_point, opens_on=on, closes_on=closes)
            db.session.add(invitation)
            opened.append(invitation)
    db.session.flush()
    survey_waves.announce([survey_waves.Opened(i.id, programme.id, i.time_point, i.closes_on) for i in opened])
    return [invitation.time_point.value for invitation in opened]


def complete(programme: Preceptorship, on: date, reason: str, *, by: User | None = None,
             today: date | None = None, open_confirmed: int = 0) -> None:
    """Complete a running programme on `on`: the preceptor's allocation ends and the
    end-of-programme surveys open. Milestones still open stay as they are, but only if the
    lead confirmed exactly how many (`open_confirmed`): a count that changed since the page
    was shown is asked about again."""
    today = today or date.today()
    check_allowed(programme, "complete")
    reason = checked_reason(reason)
    check_day(programme, on, today)
    still_open = open_milestones(programme)
    if still_open and open_confirmed != still_open:
        many = still_open != 1
        raise ProgrammeRefused(f"{still_open} milestone{'s are' if many else ' is'} not signed off. Confirm that "
                               f"you are completing the programme with {'them' if many else 'it'} open",
                               "confirm_open")
    allocation = _end_allocation(programme, AllocationEndReason.PROGRAMME_ENDED, on, by)
    change = record_change(programme, ProgrammeStatus.COMPLETED, on, reason, by)
    programme.ended_on, programme.end_reason = on, reason
    audit_change("complete", change, open_milestones=still_open, allocation_ended=allocation,
                 surveys_opened=_open_end_surveys(programme, on, today))


def record_leaving(programme: Preceptorship, on: date, reason: str, *, by: User | None = None,
                   today: date | None = None) -> None:
    """Record that the preceptee left on `on`, and why: the programme closes (retention at 12
    and 24 months counts it) and the preceptor's allocation ends. Allowed after completion
    too, for someone who leaves within the two years retention follows."""
    today = today or date.today()
    check_allowed(programme, "leave")
    reason = checked_reason(reason)
    check_day(programme, on, today, before_start=True)
    allocation = _end_allocation(programme, AllocationEndReason.LEFT, on, by, LEFT_NOTE)
    change = record_change(programme, ProgrammeStatus.LEFT, on, reason, by)
    programme.ended_on, programme.end_reason = on, reason
    audit_change("leave", change, allocation_ended=allocation)
