"""Modality checklists (CT, MRI, fluoroscopy...): optional milestones kept apart from the core
confidence milestones. Creating, renaming, archiving (which retires the checklist's milestones,
so new programmes stop getting them) and restoring; the list with its counts. Which milestones
are in a checklist is set on each milestone (framework_editor); which departments use one, on
the department. Nothing here commits.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Checklist, Department, MilestoneTemplate, User, department_checklist
from . import audit
from .framework_editor import FrameworkRefused

CHECKLIST_NAME_MAX = 120


def checklist_name_problem(name: str, checklist: Checklist | None = None) -> str | None:
    """What is wrong with a checklist name, or None; names are unique ignoring case."""
    if not name:
        return "Enter the checklist’s name"
    if len(name) > CHECKLIST_NAME_MAX:
        return f"Name must be {CHECKLIST_NAME_MAX} characters or fewer"
    same = db.session.scalar(sa.select(Checklist).where(sa.func.lower(Checklist.name) == name.lower()))
    if same is not None and same is not checklist:
        if same.archived_at is not None:
            return f"An archived checklist is called “{same.name}”: restore it, or choose another name"
        return f"There is already a checklist called “{same.name}”"
    return None


def create_checklist(name: str, actor: User) -> Checklist:
    problem = checklist_name_problem(name)
    if problem:
        raise FrameworkRefused(problem, "name")
    checklist = Checklist(name=name)
    db.session.add(checklist)
    db.session.flush()
    audit.record("checklist.create", checklist, actor_id=actor.id, details={"name": name})
    return checklist


def rename_checklist(checklist: Checklist, name: str, actor: User) -> bool:
    """Rename; False when the name is unchanged."""
    if name == checklist.name:
        return False
    problem = checklist_name_problem(name, checklist)
    if problem:
        raise FrameworkRefused(problem, "name")
    audit.record("checklist.rename", checklist, actor_id=actor.id, details={"before": checklist.name, "after": name})
    checklist.name = name
    return True


def archive_checklist(checklist: Checklist, actor: User) -> list[MilestoneTemplate]:
    """Archive a checklist and retire its milestones, so new programmes stop getting them
    (departments' links to it stay, for history). Returns the milestones retired."""
    if checklist.archived_at is not None:
        return []
    retired = list(db.session.scalars(
        sa.select(MilestoneTemplate).where(MilestoneTemplate.checklist_id == checklist.id,
                                           MilestoneTemplate.current.is_(True))
        .with_for_update().execution_options(populate_existing=True)))
    for template in retired:
        template.current = False
        audit.record("milestone_template.retire", template, actor_id=actor.id, reason="Its checklist was archived",
                     details={"key": template.key, "version": template.version, "checklist_id": checklist.id})
    checklist.archived_at = datetime.now(UTC)
    audit.record("checklist.archive", checklist, actor_id=actor.id,
                 details={"retired_template_ids": [t.id for t in retired]})
    return retired


def restore_checklist(checklist: Checklist, actor: User) -> bool:
    """Bring an archived checklist back into use; its milestones are restored one by one."""
    if checklist.archived_at is None:
        return False
    checklist.archived_at = None
    audit.record("checklist.restore", checklist, actor_id=actor.id)
    return True


@dataclass(frozen=True)
class ChecklistSummary:
    checklist: Checklist
    milestones: int  # current milestones in it
    departments: int  # departments that use it


def checklist_summaries() -> list[ChecklistSummary]:
    """Every checklist, those in use first, with its milestone and department counts: one query."""
    milestones = (sa.select(MilestoneTemplate.checklist_id.label("checklist_id"), sa.func.count().label("n"))
                  .where(MilestoneTemplate.current.is_(True)).group_by(MilestoneTemplate.checklist_id).subquery())
    departments = (sa.select(department_checklist.c.checklist_id, sa.func.count().label("n"))
                   .group_by(department_checklist.c.checklist_id).subquery())
    rows = db.session.execute(
        sa.select(Checklist, sa.func.coalesce(milestones.c.n, 0), sa.func.coalesce(departments.c.n, 0))
        .outerjoin(milestones, milestones.c.checklist_id == Checklist.id)
        .outerjoin(departments, departments.c.checklist_id == Checklist.id)
        .order_by(Checklist.archived_at.is_not(None), Checklist.name))
    return [ChecklistSummary(*row) for row in rows]


def checklist_milestones(checklist: Checklist) -> list[MilestoneTemplate]:
    return list(db.session.scalars(
        sa.select(MilestoneTemplate).where(MilestoneTemplate.checklist_id == checklist.id,
                                           MilestoneTemplate.current.is_(True))
        .order_by(MilestoneTemplate.due_offset_days, MilestoneTemplate.position)))


def checklist_departments(checklist: Checklist) -> list[Department]:
    """The departments that use a checklist (linked on the department's page)."""
    return list(db.session.scalars(
        sa.select(Department).join(department_checklist, department_checklist.c.department_id == Department.id)
        .where(department_checklist.c.checklist_id == checklist.id).order_by(Department.name)))
