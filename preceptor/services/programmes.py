"""A programme's life: starting it with its milestones, pausing, resuming and extending it
(due dates move with it), and what counts as overdue."""

import calendar
from datetime import date, timedelta

from sqlalchemy import or_, select

from ..extensions import db
from ..models import (
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


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def applicable_templates(department: Department) -> list[MilestoneTemplate]:
    """Current templates for a programme in `department`: the core milestones scoped to
    everyone, its profession or itself, plus the department's modality checklists."""
    in_scope = or_(
        (MilestoneTemplate.scope_profession.is_(None)) & (MilestoneTemplate.scope_department_id.is_(None)),
        MilestoneTemplate.scope_profession == department.profession,
        MilestoneTemplate.scope_department_id == department.id,
    )
    department_lists = select(department_checklist.c.checklist_id).where(
        department_checklist.c.department_id == department.id
    )
    in_lists = or_(MilestoneTemplate.checklist_id.is_(None), MilestoneTemplate.checklist_id.in_(department_lists))
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


def _pending(programme: Preceptorship):
    return select(Milestone).where(Milestone.preceptorship_id == programme.id,
                                   Milestone.status != MilestoneStatus.SIGNED_OFF)


def _change(programme: Preceptorship, to: ProgrammeStatus, on: date, reason: str,
            planned_end_after: date | None = None) -> StatusChange:
    change = StatusChange(preceptorship=programme, from_status=programme.status, to_status=to, effective_on=on,
                          reason=reason, planned_end_before=programme.planned_end_date,
                          planned_end_after=planned_end_after or programme.planned_end_date)
    db.session.add(change)
    programme.status = to
    return change


def pause(programme: Preceptorship, on: date, reason: str) -> None:
    """Pause a running programme from `on` (sickness, leave...). Nothing falls overdue while paused."""
    if programme.status not in (ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED):
        raise ValueError("only an active or extended programme can be paused")
    _change(programme, ProgrammeStatus.PAUSED, on, reason)
    audit.record("preceptorship.pause", programme, preceptorship_id=programme.id,
                 department_id=programme.department_id, reason=reason, details={"on": on.isoformat()})


def resume(programme: Preceptorship, on: date, reason: str = "Resumed") -> int:
    """Resume a paused programme: every milestone not yet signed off and due on or after the
    pause moves later by the days paused, and so does the planned end. Returns the days."""
    if programme.status is not ProgrammeStatus.PAUSED:
        raise ValueError("only a paused programme can be resumed")
    paused = next(c for c in reversed(programme.status_changes) if c.to_status is ProgrammeStatus.PAUSED)
    days = max(0, (on - paused.effective_on).days)
    shift = timedelta(days=days)
    for milestone in db.session.scalars(_pending(programme).where(Milestone.due_date >= paused.effective_on)):
        milestone.due_date += shift
    resumed_to = ProgrammeStatus.EXTENDED if paused.from_status is ProgrammeStatus.EXTENDED else ProgrammeStatus.ACTIVE
    _change(programme, resumed_to, on, reason, planned_end_after=programme.planned_end_date + shift)
    programme.planned_end_date += shift
    audit.record("preceptorship.resume", programme, preceptorship_id=programme.id,
                 department_id=programme.department_id, reason=reason, details={"days_paused": days})
    return days


def extend(programme: Preceptorship, new_end: date, reason: str) -> None:
    """Extend a running programme to `new_end`. Milestones still open that fall in the last
    six weeks of the old plan (the year's reflections, final review, feedback) move with the end."""
    if programme.status not in (ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED):
        raise ValueError("only an active or extended programme can be extended")
    if new_end <= programme.planned_end_date:
        raise ValueError("the new planned end must be after the current one")
    shift = new_end - programme.planned_end_date
    for milestone in db.session.scalars(
            _pending(programme).where(Milestone.due_date >= programme.planned_end_date - timedelta(weeks=6))):
        milestone.due_date += shift
    _change(programme, ProgrammeStatus.EXTENDED, date.today(), reason, planned_end_after=new_end)
    programme.planned_end_date = new_end
    audit.record("preceptorship.extend", programme, preceptorship_id=programme.id,
                 department_id=programme.department_id, reason=reason, details={"new_end": new_end.isoformat()})


def is_overdue(milestone: Milestone, programme: Preceptorship, today: date) -> bool:
    """Overdue: not signed off, due before today, in a programme that is not paused."""
    return (milestone.status is not MilestoneStatus.SIGNED_OFF and milestone.due_date < today
            and programme.status is not ProgrammeStatus.PAUSED)
