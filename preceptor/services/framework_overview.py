"""Reading the milestone framework: the current framework grouped as people think of it
(core milestones, per profession, per department, per modality checklist), retired
milestones, and one milestone's versions with what changed in each and who saved it.

Set-based: a handful of queries whatever the size of the framework.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    AuditEvent,
    Checklist,
    Department,
    MeetingType,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Preceptorship,
    Principle,
    Profession,
    User,
)
from .framework_editor import MilestoneDraft, changed_fields, draft_of
from .framework_outdated import older_version_counts
from .scope import in_scope


def due_words(days: int) -> str:
    """A due offset as people say it: "At the start", "2 weeks after the start", "10 days after the start"."""
    if days == 0:
        return "At the start"
    if days % 7 == 0:
        weeks = days // 7
        return f"{weeks} week{'' if weeks == 1 else 's'} after the start"
    return f"{days} day{'' if days == 1 else 's'} after the start"


def departments_by_id() -> dict[int, Department]:
    return {d.id: d for d in db.session.scalars(sa.select(Department))}  # sites are joined


def scope_words(profession: Profession | None, department_id: int | None, departments: dict[int, Department]) -> str:
    if department_id is not None:
        department = departments.get(department_id)
        if department is None:
            return "A department that no longer exists"
        return f"{department.full_name}{' (archived)' if department.archived_at else ''}"
    if profession is not None:
        return profession.label
    return "Everyone"


@dataclass(frozen=True)
class FrameworkRow:
    key: str
    title: str
    due: str
    due_offset_days: int
    principles: list[Principle]
    version: int
    since: datetime
    applies_to: str
    meeting: MeetingType | None
    on_older_version: int  # running programmes with a milestone still on an older version


@dataclass(frozen=True)
class Group:
    heading: str
    rows: list[FrameworkRow]
    checklist: Checklist | None = None


@dataclass(frozen=True)
class Framework:
    groups: list[Group]
    retired: list[MilestoneTemplate]  # each retired milestone's last version
    principles: list[Principle]


def framework(scope: list[int] | None) -> Framework:
    """The current framework in groups; counts of programmes on older versions are within `scope`."""
    templates = list(db.session.scalars(
        sa.select(MilestoneTemplate).where(MilestoneTemplate.current.is_(True))
        .order_by(MilestoneTemplate.due_offset_days, MilestoneTemplate.position, MilestoneTemplate.id)))
    departments = departments_by_id()
    checklists = list(db.session.scalars(sa.select(Checklist).order_by(Checklist.name)))
    older = older_version_counts(scope)

    def row(t: MilestoneTemplate) -> FrameworkRow:
        return FrameworkRow(t.key, t.title, due_words(t.due_offset_days), t.due_offset_days, t.principles, t.version,
                            t.created_at, scope_words(t.scope_profession, t.scope_department_id, departments),
                            t.completed_by_meeting, older.get(t.key, 0))

    core = [t for t in templates if t.checklist_id is None]
    groups = [Group("Core milestones: everyone",
                    [row(t) for t in core if t.scope_profession is None and t.scope_department_id is None])]
    for profession in Profession:
        rows = [row(t) for t in core if t.scope_profession is profession and t.scope_department_id is None]
        if rows:
            groups.append(Group(profession.label, rows))
    scoped = sorted({t.scope_department_id for t in core if t.scope_department_id is not None},
                    key=lambda i: departments[i].full_name if i in departments else "")
    for department_id in scoped:
        groups.append(Group(scope_words(None, department_id, departments),
                            [row(t) for t in core if t.scope_department_id == department_id]))
    for checklist in checklists:
        rows = [row(t) for t in templates if t.checklist_id == checklist.id]
        if rows or checklist.archived_at is None:
            groups.append(Group(f"Checklist: {checklist.name}", rows, checklist))
    principles = list(db.session.scalars(sa.select(Principle).order_by(Principle.id)))
    return Framework(groups, retired_milestones(), principles)


def retired_milestones() -> list[MilestoneTemplate]:
    """The last version of each milestone that has no current version. The current version is
    always a key's highest, so a key whose highest version is not current is retired."""
    highest = (sa.select(MilestoneTemplate.key, sa.func.max(MilestoneTemplate.version).label("version"))
               .group_by(MilestoneTemplate.key).subquery())
    return list(db.session.scalars(
        sa.select(MilestoneTemplate)
        .join(highest, sa.and_(highest.c.key == MilestoneTemplate.key, highest.c.version == MilestoneTemplate.version))
        .where(MilestoneTemplate.current.is_(False)).order_by(MilestoneTemplate.title)))


# --- one milestone's history ----------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    what: str
    details: list[str]
    version: int | None = None
    in_use: int | None = None  # running programmes with a milestone still open on this version


@dataclass(frozen=True)
class MilestoneHistory:
    latest: MilestoneTemplate
    current: MilestoneTemplate | None
    entries: list[HistoryEntry]  # newest first


FIELD_WORDS = {"title": "Title", "guidance": "Guidance", "due_offset_days": "Due", "principle_ids": "HCPC principles",
               "scope_profession": "Applies to", "scope_department_id": "Applies to", "checklist_id": "Checklist"}


def _describe(before: MilestoneDraft, after: MilestoneDraft, departments: dict[int, Department],
              checklists: dict[int, str]) -> list[str]:
    """What changed between two versions, in words."""
    words: list[str] = []
    for name in changed_fields(before, after):
        label = FIELD_WORDS[name]
        if name == "guidance":
            words.append("Guidance changed")
        elif name == "title":
            words.append(f"Title: “{before.title}” to “{after.title}”")
        elif name == "due_offset_days":
            words.append(f"Due: {due_words(before.due_offset_days).lower()} to "
                         f"{due_words(after.due_offset_days).lower()}")
        elif name == "principle_ids":
            words.append(f"{label}: {', '.join(map(str, before.principle_ids))} to "
                         f"{', '.join(map(str, after.principle_ids))}")
        elif name == "checklist_id":
            words.append(f"{label}: {checklists.get(before.checklist_id, 'none')} to "
                         f"{checklists.get(after.checklist_id, 'none')}")
        elif not any(w.startswith("Applies to") for w in words):
            words.append(f"Applies to: {scope_words(before.scope_profession, before.scope_department_id, departments)}"
                         f" to {scope_words(after.scope_profession, after.scope_department_id, departments)}")
    return words


def milestone_history(key: str, scope: list[int] | None = None) -> MilestoneHistory | None:
    """Every version of milestone `key`, with its author, what changed from the one before and
    how many running programmes (in `scope`'s departments) still use it, plus its retirements
    and restorations."""
    rows = db.session.execute(sa.select(MilestoneTemplate, User.name)
                              .outerjoin(User, User.id == MilestoneTemplate.created_by_id)
                              .where(MilestoneTemplate.key == key).order_by(MilestoneTemplate.version)).all()
    if not rows:
        return None
    ids = [template.id for template, _ in rows]
    in_use = dict(db.session.execute(
        sa.select(Milestone.template_id, sa.func.count(sa.distinct(Milestone.preceptorship_id)))
        .join(Preceptorship, Preceptorship.id == Milestone.preceptorship_id)
        .where(Milestone.template_id.in_(ids), Milestone.status != MilestoneStatus.SIGNED_OFF,
               Preceptorship.status.in_(RUNNING_STATUSES), in_scope(Preceptorship.department_id, scope))
        .group_by(Milestone.template_id)).all())
    departments = departments_by_id()
    checklists = dict(db.session.execute(sa.select(Checklist.id, Checklist.name)).all())
    entries: list[HistoryEntry] = []
    previous: MilestoneDraft | None = None
    for template, author in rows:
        draft = draft_of(template)
        if previous is None:
            what = "Version 1 added" if template.created_by_id else "Version 1 installed with the default framework"
            details = []
        else:
            what, details = f"Version {template.version} saved", _describe(previous, draft, departments, checklists)
        entries.append(HistoryEntry(template.created_at, author or "System", what, details, template.version,
                                    in_use.get(template.id, 0)))
        previous = draft
    events = db.session.execute(
        sa.select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.object_type == MilestoneTemplate.__tablename__, AuditEvent.object_id.in_(ids),
               AuditEvent.action.in_(("milestone_template.retire", "milestone_template.restore"))))
    for event, name in events:
        if event.action == "milestone_template.retire":
            what = f"Retired (version {(event.details or {}).get('version')})"
        else:
            what = f"Restored as version {(event.details or {}).get('to_version')}"
        entries.append(HistoryEntry(event.at, name or "System", what, [event.reason] if event.reason else []))
    entries.sort(key=lambda e: e.at, reverse=True)
    latest = rows[-1][0]
    return MilestoneHistory(latest, latest if latest.current else None, entries)
