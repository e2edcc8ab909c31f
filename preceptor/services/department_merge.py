"""Merging one department into another: everything that points at the old department moves
to the new one in one transaction, and the old one is archived with `merged_into_id` naming
its successor, so it stays as history.

What moves is found in the schema, not listed by hand: every foreign key to `department.id`
in the metadata (`references()`), so a table added later moves too. Two stay:

- `audit_event.department_id`: the log is append-only (the ORM and database triggers refuse
  any update), and it is the record of where things happened at the time.
- `department.merged_into_id`: a department merged earlier into this one still names it; the
  chain leads on to the new successor.

A table whose primary key includes the department (a link table: a lead's scope, a
department's checklists) may already link the same thing to the target; that row of the old
department is dropped rather than duplicated. Each reference has a label in the product's
words (`LABELS`); tests fail for a new reference without one, so someone decides about it.

The admin sees a preview with a count per table first. The confirm form carries the preview's
`fingerprint`; the merge locks both departments, counts again, and refuses (with the new
preview) if anything changed since, so the admin confirms exactly what happens.

Different professions: allowed, with a warning. Merging a diagnostic service into a
therapeutic one is rare but real (a reorganised department); programmes keep the milestones
they started with, and the moved people and programmes count under the target's profession
from then on. The preview also warns about what changes for the target: leads who gain it,
learning needs areas and milestone templates that start applying there, and preceptors who
would be over the target's cap. Nothing here commits.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Department, PreceptorProfile, User
from ..models._columns import utcnow
from . import audit
from .capacity import current_load
from .department_defaults import trust_cap
from .departments import DepartmentsRefused, plural

# (table, column) references to department.id that keep pointing at the old department.
HISTORY = {("audit_event", "department_id"): "Audit events (the log never changes)",
           ("department", "merged_into_id"): "Departments merged into it earlier (they name it as their successor)"}

# What each reference holds, for the preview. A reference that is neither here nor in HISTORY
# still moves, under its table's name, and fails test_departments until it is labelled.
LABELS = {
    ("preceptor_profile", "department_id"): "Preceptors and other staff on its register",
    ("preceptorship", "department_id"): "Programmes, running and finished",
    ("lead_department", "department_id"): "Education leads who look after it",
    ("department_checklist", "department_id"): "Modality checklists",
    ("learning_need_area", "department_id"): "Learning needs areas",
    ("milestone_template", "scope_department_id"): "Milestone template versions written for it",
    ("survey_response", "department_id"): "Survey responses (anonymous)",
}

STALE = ("Something changed in these departments since you saw the preview, so nothing was merged. "
         "Check the new counts below and confirm again.")


class MergeStale(DepartmentsRefused):
    """The counts differ from the preview the admin confirmed: `preview` holds the new ones."""

    def __init__(self, preview: "MergePreview"):
        super().__init__(STALE)
        self.preview = preview


@dataclass(frozen=True)
class Reference:
    table: sa.Table
    column: sa.Column
    link: bool  # the column is part of the primary key: a row may already exist for the target

    @property
    def key(self) -> tuple[str, str]:
        return self.table.name, self.column.name

    @property
    def label(self) -> str:
        return LABELS.get(self.key) or HISTORY.get(self.key) or f"{self.table.name} ({self.column.name})"


def references(*, history: bool = False) -> list[Reference]:
    """Every column pointing at department.id, by table and column: those that move, or with
    `history` those that stay."""
    department = Department.__table__
    found = []
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is not department.c.id:
                continue
            ref = Reference(table, key.parent, key.parent.primary_key)
            if (ref.key in HISTORY) == history:
                found.append(ref)
    return sorted(found, key=lambda ref: ref.key)


def _others(ref: Reference) -> list[sa.Column]:
    return [column for column in ref.table.primary_key.columns if column is not ref.column]


def _duplicates(ref: Reference, source_id: int, target_id: int) -> sa.ColumnElement[bool]:
    """Rows of the source in a link table whose twin already exists for the target."""
    twin = ref.table.alias("twin")
    same = [twin.c[column.name] == column for column in _others(ref)]
    return sa.and_(ref.column == source_id,
                   sa.exists().where(twin.c[ref.column.name] == target_id, *same))


@dataclass(frozen=True)
class Move:
    label: str
    table: str
    column: str
    rows: int  # rows pointing at the source
    duplicates: int = 0  # of them, links the target already has: dropped, not moved

    @property
    def moved(self) -> int:
        return self.rows - self.duplicates


@dataclass(frozen=True)
class MergePreview:
    source: Department
    target: Department
    moves: list[Move]
    stays: list[Move]
    warnings: list[str]

    @property
    def fingerprint(self) -> str:
        """What the admin saw, to compare at confirmation: the target and every count."""
        counts = ";".join(f"{m.table}.{m.column}={m.rows}/{m.duplicates}" for m in self.moves)
        return f"{self.source.id}-{self.target.id}:{counts}"

    @property
    def moved(self) -> int:
        """Rows that change department (links the target already had are dropped, not moved)."""
        return sum(move.moved for move in self.moves)


def _count(ref: Reference, where: sa.ColumnElement[bool], n: int) -> sa.Select:
    return sa.select(sa.literal(n).label("n"), sa.func.count().label("rows")).select_from(ref.table).where(where)


def _counts(moving: list[Reference], staying: list[Reference], source_id: int, target_id: int):
    """(rows, duplicates) per moving reference and rows per staying one, in one statement."""
    parts, n = [], 0
    for ref in moving:
        parts.append(_count(ref, ref.column == source_id, n))
        parts.append(_count(ref, _duplicates(ref, source_id, target_id), n + 1) if ref.link
                     else sa.select(sa.literal(n + 1), sa.literal(0)))
        n += 2
    for ref in staying:
        parts.append(_count(ref, ref.column == source_id, n))
        n += 1
    found = dict(db.session.execute(sa.union_all(*parts)).all())
    return [found[i] for i in range(n)]


def _refusal(source: Department, target: Department | None) -> DepartmentsRefused | None:
    if source.archived_at is not None:
        return DepartmentsRefused(f"{source.full_name} is archived, so there is nothing left to merge")
    if target is None:
        return DepartmentsRefused("Choose the department to merge it into", "into")
    if target.id == source.id:
        return DepartmentsRefused("Choose a different department: a department cannot be merged into itself", "into")
    if target.archived_at is not None:
        return DepartmentsRefused(f"{target.full_name} is archived: choose an open department", "into")
    return None


def preview(source: Department, target: Department | None) -> MergePreview:
    """What merging `source` into `target` would move, per table, with the warnings to read."""
    if refused := _refusal(source, target):
        raise refused
    moving, staying = references(), references(history=True)
    counts = _counts(moving, staying, source.id, target.id)
    moves = [Move(ref.label, ref.table.name, ref.column.name, counts[2 * i], counts[2 * i + 1])
             for i, ref in enumerate(moving)]
    stays = [Move(ref.label, ref.table.name, ref.column.name, counts[2 * len(moving) + i])
             for i, ref in enumerate(staying)]
    warnings = _warnings(source, target, {(m.table, m.column): m for m in moves})
    return MergePreview(source, target, moves, stays, warnings)


def _warnings(source: Department, target: Department, moves: dict[tuple[str, str], Move]) -> list[str]:
    found = []
    if source.profession != target.profession:
        found.append(f"{source.full_name} is {source.profession.label.lower()} and {target.full_name} is "
                     f"{target.profession.label.lower()}. Its programmes keep the milestones they started with, "
                     f"but its people and programmes will count as {target.profession.label.lower()} from now on.")
    leads = moves.get(("lead_department", "department_id"))
    if leads and leads.moved:
        found.append(f"{plural(leads.moved, 'education lead')} of {source.name} will also look after "
                     f"{target.full_name}, and see its preceptees and reports.")
    areas = moves.get(("learning_need_area", "department_id"))
    if areas and areas.rows:
        found.append(f"{source.name}’s {plural(areas.rows, 'learning needs area')} will apply to preceptees in "
                     f"{target.full_name} too (beside its own areas, or instead of the trust-wide ones if it has "
                     "none).")
    templates = moves.get(("milestone_template", "scope_department_id"))
    if templates and templates.rows:
        found.append(f"Milestones written for {source.name} will be added to new programmes in {target.full_name}.")
    if over := _over_target_cap(source, target):
        found.append(f"{plural(over, 'preceptor')} from {source.name} follow{'s' if over == 1 else ''} its cap and "
                     f"would be over {target.name}’s cap of {target.preceptor_cap or trust_cap()}. "
                     "A lead can give them their own cap on the register.")
    return found


def _over_target_cap(source: Department, target: Department) -> int:
    """Active preceptors of the source without their own cap whose load exceeds the target's cap."""
    load = current_load()
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(PreceptorProfile)
        .join(User, User.id == PreceptorProfile.user_id)
        .join(load, load.c.preceptor_id == PreceptorProfile.user_id)
        .where(PreceptorProfile.department_id == source.id, PreceptorProfile.cap.is_(None),
               User.active.is_(True), load.c.load > (target.preceptor_cap or trust_cap()))) or 0


def merge(source: Department, target: Department | None, fingerprint: str, by: User) -> MergePreview:
    """Move everything of `source` to `target` and archive `source`, if the counts are still
    those of the preview the admin confirmed (`fingerprint`); else MergeStale with the new
    preview. Both departments are locked first (in id order, so two merges cannot deadlock)."""
    if target is not None:
        ids = sorted({source.id, target.id})
        db.session.scalars(sa.select(Department).where(Department.id.in_(ids)).order_by(Department.id)
                           .with_for_update(of=Department).execution_options(populate_existing=True)).all()
    seen = preview(source, target)
    if seen.fingerprint != fingerprint:
        raise MergeStale(seen)
    db.session.flush()
    for ref in references():
        if ref.link:
            db.session.execute(sa.delete(ref.table).where(_duplicates(ref, source.id, target.id)))
        db.session.execute(sa.update(ref.table).where(ref.column == source.id).values({ref.column.name: target.id}))
    db.session.expire_all()  # the ORM's copies of the moved rows (a lead's departments...) still name the source
    source.archived_at = utcnow()
    source.merged_into_id = target.id
    audit.record("department.merge", source, actor_id=by.id, department_id=target.id,
                 details={"into": target.id, "professions": [source.profession.value, target.profession.value],
                          "moved": {f"{m.table}.{m.column}": m.moved for m in seen.moves},
                          "dropped_duplicate_links": {f"{m.table}.{m.column}": m.duplicates
                                                      for m in seen.moves if m.duplicates}})
    return seen
