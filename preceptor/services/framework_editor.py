"""Editing the milestone framework: a saved change is a new version of the milestone template
(same key, the next version number, the old row no longer current), so every programme keeps
pointing at the version it was started with and new programmes get the new one. Adding,
retiring and restoring milestones. Modality checklists are in framework_checklists.py.

The rules and their messages live here; nothing commits. Views commit through
`transactions.commit`, so a refusal (or a lost race, caught by the unique key and version
pair) rolls everything back.
"""

import re
import unicodedata
from dataclasses import dataclass, fields

import sqlalchemy as sa

from ..extensions import db
from ..models import Checklist, Department, MilestoneTemplate, Principle, Profession, User
from . import audit

TITLE_MAX = 160
GUIDANCE_MAX = 2000
OFFSET_MAX_DAYS = 3 * 365  # due at most three years after the start: longer than any programme
OFFSET_MAX_WEEKS = OFFSET_MAX_DAYS // 7
REASON_MAX = 500
KEY_MAX = 60

NO_PRINCIPLE = "Choose at least one HCPC principle"
STALE = ("Someone else saved version {version} of this milestone since you opened version {opened}. Your changes "
         "have not been saved: check version {version}, then save again if your changes should replace it.")
RETIRED_MEANWHILE = "Someone else retired this milestone since you opened it. Your changes have not been saved."
LOST_RACE = "Someone else changed this milestone while you were saving. Your changes have not been saved."


class FrameworkRefused(ValueError):
    """A change to the framework refused; the message is for the person making it and `field`
    names the form field it belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class MilestoneDraft:
    """What a milestone version says, as the edit form sets it. Two versions with equal drafts
    are the same milestone: saving one over the other changes nothing."""

    title: str
    guidance: str
    due_offset_days: int
    principle_ids: tuple[int, ...]  # sorted
    scope_profession: Profession | None = None
    scope_department_id: int | None = None
    checklist_id: int | None = None


def draft_of(template: MilestoneTemplate) -> MilestoneDraft:
    return MilestoneDraft(title=template.title, guidance=template.guidance or "",
                          due_offset_days=template.due_offset_days,
                          principle_ids=tuple(sorted(p.id for p in template.principles)),
                          scope_profession=template.scope_profession,
                          scope_department_id=template.scope_department_id, checklist_id=template.checklist_id)


def changed_fields(before: MilestoneDraft, after: MilestoneDraft) -> list[str]:
    """The names of the draft fields that differ, in the draft's order."""
    return [f.name for f in fields(MilestoneDraft) if getattr(before, f.name) != getattr(after, f.name)]


def _audit_changes(before: MilestoneDraft, after: MilestoneDraft) -> dict:
    """Before and after of each changed field for the audit log; guidance (long text) only as changed."""
    changes: dict = {}
    for name in changed_fields(before, after):
        if name == "guidance":
            changes[name] = "changed"
            continue
        old, new = getattr(before, name), getattr(after, name)
        changes[name] = [list(old) if isinstance(old, tuple) else old, list(new) if isinstance(new, tuple) else new]
    return changes


# --- the rules ------------------------------------------------------------------------------------

def problems(draft: MilestoneDraft) -> dict[str, str]:
    """Everything wrong with a draft, keyed by form field: title, guidance, due, principles,
    applies_to, checklist. The form checks formats; these are the framework's rules."""
    found: dict[str, str] = {}
    if not draft.title:
        found["title"] = "Enter the milestone’s title"
    elif len(draft.title) > TITLE_MAX:
        found["title"] = f"Title must be {TITLE_MAX} characters or fewer"
    if len(draft.guidance) > GUIDANCE_MAX:
        found["guidance"] = f"Guidance must be {GUIDANCE_MAX:,} characters or fewer"
    if not 0 <= draft.due_offset_days <= OFFSET_MAX_DAYS:
        found["due"] = f"Due must be from the start to {OFFSET_MAX_WEEKS} weeks ({OFFSET_MAX_DAYS:,} days) after it"
    known = set(db.session.scalars(sa.select(Principle.id)))
    if not draft.principle_ids or not set(draft.principle_ids) <= known:
        found["principles"] = NO_PRINCIPLE
    if draft.scope_profession is not None and draft.scope_department_id is not None:
        found["applies_to"] = "Choose everyone, one profession or one department"
    elif draft.scope_department_id is not None:
        department = db.session.get(Department, draft.scope_department_id)
        if department is None or department.archived_at is not None:
            found["applies_to"] = "Choose a department that is open, or another group"
    if draft.checklist_id is not None:
        checklist = db.session.get(Checklist, draft.checklist_id)
        if checklist is None or checklist.archived_at is not None:
            found["checklist"] = "Choose a checklist that is in use, or none"
    return found


def _refuse_problems(draft: MilestoneDraft) -> None:
    found = problems(draft)
    if found:
        field, message = next(iter(found.items()))
        raise FrameworkRefused(message, field)


def current_template(key: str, *, lock: bool = False) -> MilestoneTemplate | None:
    """The version of milestone `key` new programmes get; None once it is retired. `lock` holds
    the row until the transaction ends (PostgreSQL), so two saves of one milestone take turns."""
    query = sa.select(MilestoneTemplate).where(MilestoneTemplate.key == key, MilestoneTemplate.current.is_(True))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def latest_template(key: str) -> MilestoneTemplate | None:
    """The highest version of milestone `key`, current or retired; None for an unknown key."""
    return db.session.scalar(sa.select(MilestoneTemplate).where(MilestoneTemplate.key == key)
                             .order_by(MilestoneTemplate.version.desc()).limit(1))


def _stale(key: str, opened: int) -> FrameworkRefused:
    now = current_template(key)
    if now is None:
        return FrameworkRefused(RETIRED_MEANWHILE)
    return FrameworkRefused(STALE.format(version=now.version, opened=opened))


def _principles(ids: tuple[int, ...]) -> list[Principle]:
    return list(db.session.scalars(sa.select(Principle).where(Principle.id.in_(ids)).order_by(Principle.id)))


def _new_version(previous: MilestoneTemplate, draft: MilestoneDraft, actor: User) -> MilestoneTemplate:
    template = MilestoneTemplate(
        key=previous.key, version=previous.version + 1, current=True, title=draft.title, guidance=draft.guidance,
        due_offset_days=draft.due_offset_days, position=previous.position, scope_profession=draft.scope_profession,
        scope_department_id=draft.scope_department_id, checklist_id=draft.checklist_id,
        completed_by_meeting=previous.completed_by_meeting, created_by_id=actor.id,
        principles=_principles(draft.principle_ids))
    db.session.add(template)
    db.session.flush()
    return template


# --- saving ---------------------------------------------------------------------------------------

def save(key: str, opened_version: int, draft: MilestoneDraft, actor: User) -> MilestoneTemplate | None:
    """Save an edit of milestone `key` opened at `opened_version`: a new current version, the old
    one kept for the programmes that use it. None when the draft is what is already there.
    Refused if the draft breaks a rule or someone saved (or retired) it since it was opened."""
    _refuse_problems(draft)
    current = current_template(key, lock=True)
    if current is None or current.version != opened_version:
        raise _stale(key, opened_version)
    before = draft_of(current)
    if draft == before:
        return None
    current.current = False
    template = _new_version(current, draft, actor)
    audit.record("milestone_template.edit", template, actor_id=actor.id, details={
        "key": key, "from_template_id": current.id, "from_version": current.version,
        "to_version": template.version, "changes": _audit_changes(before, draft)})
    return template


def restore(key: str, opened_version: int, draft: MilestoneDraft, actor: User) -> MilestoneTemplate:
    """Bring a retired milestone back for new programmes: its last version as it was, or a new
    version when the draft changes it."""
    _refuse_problems(draft)
    latest = latest_template(key)
    if latest is None:
        raise LookupError(key)
    db.session.refresh(latest, with_for_update=True)  # PostgreSQL: restorers and editors take turns
    if latest.current or latest.version != opened_version:
        raise FrameworkRefused(STALE.format(version=latest.version, opened=opened_version))
    before = draft_of(latest)
    if draft == before:
        latest.current = True
        template = latest
    else:
        template = _new_version(latest, draft, actor)
    audit.record("milestone_template.restore", template, actor_id=actor.id, details={
        "key": key, "from_template_id": latest.id, "from_version": latest.version, "to_version": template.version,
        "changes": _audit_changes(before, draft)})
    return template


def reason_problem(reason: str) -> str | None:
    if not reason:
        return "Enter why this milestone is being retired"
    if len(reason) > REASON_MAX:
        return f"Reason must be {REASON_MAX} characters or fewer"
    return None


def retire(key: str, opened_version: int, reason: str, actor: User) -> MilestoneTemplate:
    """Retire milestone `key`: no version is current, so new programmes no longer get it.
    Running programmes keep theirs, and it can be restored."""
    problem = reason_problem(reason)
    if problem:
        raise FrameworkRefused(problem, "reason")
    current = current_template(key, lock=True)
    if current is None or current.version != opened_version:
        raise _stale(key, opened_version)
    current.current = False
    audit.record("milestone_template.retire", current, actor_id=actor.id, reason=reason,
                 details={"key": key, "version": current.version})
    return current


def slug(text: str, limit: int = KEY_MAX - 4) -> str:
    """Lower-case ASCII words joined by hyphens, cut at a word within `limit` characters."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    key = ""
    for word in re.findall(r"[a-z0-9]+", plain):
        if len(key) + len(word) + (1 if key else 0) > limit:
            break
        key = f"{key}-{word}" if key else word
    return key


def new_key(title: str) -> str:
    """A key for a new milestone, from its title, that no milestone (retired ones too) has."""
    base = slug(title) or "milestone"
    taken = set(db.session.scalars(sa.select(MilestoneTemplate.key).where(MilestoneTemplate.key.like(f"{base}%"))))
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return key


def add(draft: MilestoneDraft, actor: User) -> MilestoneTemplate:
    """A new milestone, version 1, listed after any others due the same day."""
    _refuse_problems(draft)
    position = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(MilestoneTemplate.position), -1))) + 1
    template = MilestoneTemplate(
        key=new_key(draft.title), version=1, current=True, title=draft.title, guidance=draft.guidance,
        due_offset_days=draft.due_offset_days, position=position, scope_profession=draft.scope_profession,
        scope_department_id=draft.scope_department_id, checklist_id=draft.checklist_id, created_by_id=actor.id,
        principles=_principles(draft.principle_ids))
    db.session.add(template)
    db.session.flush()
    audit.record("milestone_template.add", template, actor_id=actor.id, details={
        "key": template.key, "to_version": 1, "due_offset_days": draft.due_offset_days,
        "principle_ids": list(draft.principle_ids), "checklist_id": draft.checklist_id,
        "scope_department_id": draft.scope_department_id,
        "scope_profession": draft.scope_profession.value if draft.scope_profession else None})
    return template
