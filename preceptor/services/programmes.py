"""A programme's life: starting it with its milestones; pausing, resuming and extending it (due
dates move with it); what is overdue. Ending one (completion, leaving) is in programme_admin.py.

Each change after the start is a `StatusChange` (reason, who) and an audit event with the dates
before and after; a change the rules refuse raises `ProgrammeRefused`. Nothing here commits.
A change takes effect on a day between the start (or the last change) and today, never later:
the status changes at once. Resuming moves every open milestone due on or after the day the
pause began, and the planned end, by the days paused. Extending moves the open milestones due
in the old plan's last six weeks or after it by as much as the end moved: in PRODUCT.md's
framework those are the end-of-programme ones (eight reflections at week 48, the final review
and the feedback on the preceptor at week 52); the week-30 activity and earlier keep their dates.
"""

import calendar
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import (
    Checklist,
    Department,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Preceptorship,
    ProgrammeStatus,
    StatusChange,
    TransitionType,
    User,
    department_checklist,
)
from . import audit

REASON_MAX = 500  # the status history's and the programme's reason columns
MAX_EXTENSION_MONTHS = 12  # one extension adds at most a year to the plan
END_WEEKS = 6  # an extension moves the open milestones due in the plan's last six weeks

_ACTIVE, _PAUSED, _EXTENDED = ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED, ProgrammeStatus.EXTENDED
# The statuses each change may start from. A paused programme is resumed before it is extended
# or completed; leaving can follow completion, so retention at 24 months counts it.
ALLOWED = {
    "pause": (_ACTIVE, _EXTENDED),
    "resume": (_PAUSED,),
    "extend": (_ACTIVE, _EXTENDED),
    "complete": (_ACTIVE, _EXTENDED),
    "leave": (_ACTIVE, _PAUSED, _EXTENDED, ProgrammeStatus.COMPLETED),
}
_DONE = {"pause": "paused", "resume": "resumed", "extend": "extended", "complete": "completed",
         "leave": "recorded as left"}
_IS = {_ACTIVE: "active", _PAUSED: "paused", _EXTENDED: "extended", ProgrammeStatus.COMPLETED: "completed",
       ProgrammeStatus.LEFT: "closed because the preceptee left"}


class ProgrammeRefused(Exception):
    """A programme change the rules refuse. The message is for the lead; `field` names the form
    field it belongs beside, or None for the page as a whole."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def open_checklists(department_id):
    """SQL: the ids of the modality checklists `department_id` (a value or a column) uses and
    that are not archived."""
    return (select(department_checklist.c.checklist_id)
            .join(Checklist, Checklist.id == department_checklist.c.checklist_id)
            .where(department_checklist.c.department_id == department_id, Checklist.archived_at.is_(None)))


def applicable_templates(department: Department) -> list[MilestoneTemplate]:
    """Current templates for a programme in `department`: the core milestones scoped to
    everyone, its profession or itself, plus the department's modality checklists."""
    in_scope = or_(
        (MilestoneTemplate.scope_profession.is_(None)) & (MilestoneTemplate.scope_department_id.is_(None)),
        MilestoneTemplate.scope_profession == department.profession,
        MilestoneTemplate.scope_department_id == department.id,
    )
    in_lists = or_(MilestoneTemplate.checklist_id.is_(None),
                   MilestoneTemplate.checklist_id.in_(open_checklists(department.id)))
    query = (
        select(MilestoneTemplate)
        .where(MilestoneTemplate.current.is_(True), in_scope, in_lists)
        .order_by(MilestoneTemplate.due_offset_days, MilestoneTemplate.position)
    )
    return list(db.session.scalars(query))


def start_preceptorship(
    preceptee: User,
    department: Department,
    start_date: date,
    transition: TransitionType = TransitionType.NEWLY_QUALIFIED,
    months: int = 12,
) -> Preceptorship:
    """A new active programme with one milestone per applicable template, due at
    start + offset. Audited; the caller commits."""
    programme = Preceptorship(
        preceptee=preceptee,
        department=department,
        transition=transition,
        start_date=start_date,
        planned_end_date=add_months(start_date, months),
        status=ProgrammeStatus.ACTIVE,
    )
    db.session.add(programme)
    for template in applicable_templates(department):
        db.session.add(
            Milestone(
                preceptorship=programme,
                template=template,
                title=template.title,
                due_date=date.fromordinal(start_date.toordinal() + template.due_offset_days),
            )
        )
    db.session.flush()
    audit.record("preceptorship.start", programme, preceptorship_id=programme.id, department_id=department.id,
                 details={"start_date": start_date.isoformat(), "months": months})
    return programme


def allowed_actions(programme: Preceptorship) -> list[str]:
    """The changes the programme's status allows now, in the order a page offers them."""
    return [action for action, statuses in ALLOWED.items() if programme.status in statuses]


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def check_allowed(programme: Preceptorship, action: str) -> None:
    """Refuse an action the programme's status does not allow (a stale page, a second tab)."""
    if programme.status not in ALLOWED[action]:
        raise ProgrammeRefused(f"This programme is {_IS[programme.status]}, so it cannot be {_DONE[action]}")


def checked_reason(reason: str | None) -> str:
    """Every change needs a reason for the history and the audit log, within the column's size."""
    reason = (reason or "").strip()
    if not reason:
        raise ProgrammeRefused("Enter the reason", "reason")
    if len(reason) > REASON_MAX:
        raise ProgrammeRefused(f"Reason must be {REASON_MAX} characters or fewer", "reason")
    return reason


def last_change(programme: Preceptorship, to: ProgrammeStatus | None = None) -> StatusChange | None:
    """The programme's latest status change (to `to`, if given), read from the database."""
    query = select(StatusChange).where(StatusChange.preceptorship_id == programme.id)
    if to is not None:
        query = query.where(StatusChange.to_status == to)
    return db.session.scalar(query.order_by(StatusChange.id.desc()).limit(1))


def earliest_day(programme: Preceptorship, today: date, *, before_start: bool = False) -> tuple[date, str]:
    """The first day a change can take effect, and why: the start, or the last change if later.
    With `before_start`, a programme that has not started yet may take today."""
    if before_start and programme.start_date > today:
        earliest, when = today, "as the programme has not started yet"
    else:
        earliest, when = programme.start_date, "when the programme started"
    last = last_change(programme)
    if last is not None and last.effective_on > earliest:
        earliest, when = last.effective_on, "the date of the programme's last change"
    return earliest, when


def check_day(programme: Preceptorship, on: date, today: date, *, before_start: bool = False) -> None:
    """Refuse a day after today or before `earliest_day`."""
    if on > today:
        raise ProgrammeRefused("Date must be today or in the past", "on")
    earliest, when = earliest_day(programme, today, before_start=before_start)
    if on < earliest:
        raise ProgrammeRefused(f"Date must be on or after {_day(earliest)}, {when}", "on")


def _pending(programme: Preceptorship):
    return select(Milestone).where(Milestone.preceptorship_id == programme.id,
                                   Milestone.status != MilestoneStatus.SIGNED_OFF)


def _move(programme: Preceptorship, due_from: date, by_days: timedelta) -> int:
    """Move the open milestones due on or after `due_from` later; returns how many moved. Each
    is updated through the ORM, so its version check refuses a concurrent sign-off's race."""
    moved = 0
    for milestone in db.session.scalars(_pending(programme).where(Milestone.due_date >= due_from)):
        milestone.due_date += by_days
        moved += 1
    return moved


def open_milestones(programme: Preceptorship) -> int:
    """How many of the programme's milestones are not signed off."""
    return db.session.scalar(select(func.count()).select_from(_pending(programme).subquery()))


def record_change(programme: Preceptorship, to: ProgrammeStatus, on: date, reason: str, by: User | None,
                  planned_end_after: date | None = None) -> StatusChange:
    """The status history's row for a change (the programme's status set with it)."""
    change = StatusChange(preceptorship=programme, from_status=programme.status, to_status=to, effective_on=on,
                          reason=reason, planned_end_before=programme.planned_end_date,
                          planned_end_after=planned_end_after or programme.planned_end_date,
                          changed_by_id=by.id if by is not None else None)
    db.session.add(change)
    programme.status = to
    return change


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def audit_change(action: str, change: StatusChange, **more) -> None:
    """Audit `preceptorship.<action>` with the change's reason, its day, the status and planned
    end before and after, and `more` (ids and values)."""
    programme = change.preceptorship
    audit.record(f"preceptorship.{action}", programme, preceptorship_id=programme.id,
                 department_id=programme.department_id, reason=change.reason, details={
                     "on": _plain(change.effective_on),
                     "before": {"status": change.from_status.value, "planned_end": _plain(change.planned_end_before)},
                     "after": {"status": change.to_status.value, "planned_end": _plain(change.planned_end_after)},
                     **{key: _plain(value) for key, value in more.items()}})


def pause(programme: Preceptorship, on: date, reason: str, *, by: User | None = None,
          today: date | None = None) -> None:
    """Pause a running programme from `on` (sickness, parental leave, a secondment). Nothing
    falls overdue while paused, and the preceptor keeps the place (capacity counts it)."""
    today = today or date.today()
    check_allowed(programme, "pause")
    reason = checked_reason(reason)
    check_day(programme, on, today)
    audit_change("pause", record_change(programme, _PAUSED, on, reason, by))


def resume(programme: Preceptorship, on: date, reason: str = "Resumed", *, by: User | None = None,
           today: date | None = None) -> int:
    """Resume a paused programme on `on`: every milestone not yet signed off and due on or
    after the day the pause began moves later by the days paused, and so does the planned
    end. It returns to what it was before the pause (active or extended). Returns the days."""
    today = today or date.today()
    check_allowed(programme, "resume")
    reason = checked_reason(reason)
    paused = last_change(programme, _PAUSED)
    if paused is None:
        raise ProgrammeRefused("This programme's history does not say when its pause began")
    if on < paused.effective_on:
        raise ProgrammeRefused(f"Date must be on or after {_day(paused.effective_on)}, when the pause began", "on")
    if on > today:
        raise ProgrammeRefused("Date must be today or in the past", "on")
    shift = on - paused.effective_on
    moved = _move(programme, paused.effective_on, shift)
    end_before = programme.planned_end_date
    change = record_change(programme, paused.from_status, on, reason, by, planned_end_after=end_before + shift)
    programme.planned_end_date = end_before + shift
    audit_change("resume", change, paused_on=paused.effective_on, days_paused=shift.days, milestones_moved=moved)
    return shift.days


def extend(programme: Preceptorship, new_end: date, reason: str, *, by: User | None = None,
           today: date | None = None) -> int:
    """Extend a running programme to `new_end`, at most `MAX_EXTENSION_MONTHS` after the current
    planned end. The open milestones due in the last `END_WEEKS` weeks of the old plan, or
    after it, move with the end (see the module's docstring). Returns how many moved."""
    today = today or date.today()
    check_allowed(programme, "extend")
    reason = checked_reason(reason)
    end_before = programme.planned_end_date
    if new_end <= end_before:
        raise ProgrammeRefused(f"The new planned end must be after the current one, {_day(end_before)}", "new_end")
    latest = add_months(end_before, MAX_EXTENSION_MONTHS)
    if new_end > latest:
        raise ProgrammeRefused(f"The new planned end must be no more than {MAX_EXTENSION_MONTHS} months after "
                               f"the current one: on or before {_day(latest)}", "new_end")
    moved = _move(programme, end_before - timedelta(weeks=END_WEEKS), new_end - end_before)
    change = record_change(programme, _EXTENDED, today, reason, by, planned_end_after=new_end)
    programme.planned_end_date = new_end
    audit_change("extend", change, days_added=(new_end - end_before).days, milestones_moved=moved)
    return moved


def is_overdue(milestone: Milestone, programme: Preceptorship, today: date) -> bool:
    """Overdue: not signed off, due before today, in a programme that is not paused."""
    return (milestone.status is not MilestoneStatus.SIGNED_OFF and milestone.due_date < today
            and programme.status is not ProgrammeStatus.PAUSED)
