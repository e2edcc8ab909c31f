"""Which running programmes the current framework would change, in set-based SQL: the
milestones still on an older version of a key whose current version applies to them, and the
keys that now apply but that they do not have. Feeds the framework page's counts and the list
of programmes to update; `framework_apply` then plans and applies one programme at a time with
`programmes.applicable_templates`, the same rule (`applies_to`) in Python's hands.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Department,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Preceptorship,
    ProgrammeStatus,
    Site,
    User,
)
from .programmes import open_checklists
from .scope import in_scope


def applies_to(template, department) -> sa.ColumnElement[bool]:
    """SQL: `template` is current and a new programme in `department` would get it (the rule of
    programmes.applicable_templates, for many departments at once)."""
    return sa.and_(
        template.current.is_(True),
        sa.or_(sa.and_(template.scope_profession.is_(None), template.scope_department_id.is_(None)),
               template.scope_profession == department.profession, template.scope_department_id == department.id),
        sa.or_(template.checklist_id.is_(None), template.checklist_id.in_(open_checklists(department.id))))


def _running(scope: list[int] | None):
    return sa.and_(Preceptorship.status.in_(RUNNING_STATUSES), in_scope(Preceptorship.department_id, scope))


def outdated_milestones(scope: list[int] | None):
    """SQL rows (programme id, key, milestone id): milestones of running programmes in `scope`,
    not signed off, on an older version of a key whose current version applies to them."""
    old, current = aliased(MilestoneTemplate), aliased(MilestoneTemplate)
    return (sa.select(Milestone.preceptorship_id.label("programme_id"), current.key.label("key"),
                      Milestone.id.label("milestone_id"))
            .join(old, old.id == Milestone.template_id)
            .join(Preceptorship, Preceptorship.id == Milestone.preceptorship_id)
            .join(Department, Department.id == Preceptorship.department_id)
            .join(current, sa.and_(current.key == old.key, current.id != old.id, applies_to(current, Department)))
            .where(Milestone.status != MilestoneStatus.SIGNED_OFF, _running(scope)))


def missing_milestones(scope: list[int] | None):
    """SQL rows (programme id, template id): current templates that apply to a running programme
    in `scope` whose key it has no milestone of."""
    current, had = aliased(MilestoneTemplate), aliased(MilestoneTemplate)
    has_key = (sa.select(Milestone.id).join(had, had.id == Milestone.template_id)
               .where(Milestone.preceptorship_id == Preceptorship.id, had.key == current.key).exists())
    return (sa.select(Preceptorship.id.label("programme_id"), current.id.label("template_id"))
            .join(Department, Department.id == Preceptorship.department_id)
            .join(current, applies_to(current, Department))
            .where(_running(scope), ~has_key))


@dataclass(frozen=True)
class OutdatedProgramme:
    programme_id: int
    preceptee: str
    department: str
    start_date: date
    status: ProgrammeStatus
    to_move: int
    to_add: int


def outdated_programmes(scope: list[int] | None, department_id: int | None = None) -> list[OutdatedProgramme]:
    """Running programmes in `scope` (and `department_id`, if given) that the current framework
    would change, with how many milestones would move and be added: one query."""
    moves = outdated_milestones(scope).subquery()
    move_counts = (sa.select(moves.c.programme_id, sa.func.count().label("n"))
                   .group_by(moves.c.programme_id).subquery())
    missing = missing_milestones(scope).subquery()
    add_counts = (sa.select(missing.c.programme_id, sa.func.count().label("n"))
                  .group_by(missing.c.programme_id).subquery())
    query = (sa.select(Preceptorship.id, User.name, Department.name, Site.name, Preceptorship.start_date,
                       Preceptorship.status, sa.func.coalesce(move_counts.c.n, 0), sa.func.coalesce(add_counts.c.n, 0))
             .join(User, User.id == Preceptorship.preceptee_id)
             .join(Department, Department.id == Preceptorship.department_id)
             .join(Site, Site.id == Department.site_id)
             .outerjoin(move_counts, move_counts.c.programme_id == Preceptorship.id)
             .outerjoin(add_counts, add_counts.c.programme_id == Preceptorship.id)
             .where(sa.or_(move_counts.c.n.is_not(None), add_counts.c.n.is_not(None)))
             .order_by(Site.name, Department.name, Preceptorship.start_date, User.name, Preceptorship.id))
    if department_id is not None:
        query = query.where(Preceptorship.department_id == department_id)
    return [OutdatedProgramme(pid, name, f"{department}, {site}", start, status, moved, added)
            for pid, name, department, site, start, status, moved, added in db.session.execute(query)]


def programmes_to_update(scope: list[int] | None) -> int:
    """How many running programmes in `scope` the current framework would change."""
    ids = sa.union(sa.select(outdated_milestones(scope).subquery().c.programme_id),
                   sa.select(missing_milestones(scope).subquery().c.programme_id)).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids)) or 0


def older_version_counts(scope: list[int] | None) -> dict[str, int]:
    """Per key: how many running programmes in `scope` have a milestone still to move to its
    current version."""
    moves = outdated_milestones(scope).subquery()
    rows = db.session.execute(sa.select(moves.c.key, sa.func.count(sa.distinct(moves.c.programme_id)))
                              .group_by(moves.c.key))
    return dict(rows.all())


def list_stamp(rows: list[OutdatedProgramme]) -> str:
    """A digest of a listing and the framework it was drawn from: applying to everything listed
    checks it, so a change saved meanwhile is seen before it is applied."""
    current = sorted(db.session.scalars(sa.select(MilestoneTemplate.id).where(MilestoneTemplate.current.is_(True))))
    content = [current, [[r.programme_id, r.to_move, r.to_add] for r in rows]]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]
