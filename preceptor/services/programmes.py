"""Starting a preceptorship and laying out its milestones from the framework."""

import calendar
from datetime import date

from sqlalchemy import or_, select

from ..extensions import db
from ..models import (
    Department,
    Milestone,
    MilestoneTemplate,
    Preceptorship,
    ProgrammeStatus,
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
