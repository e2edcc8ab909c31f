"""A department's own defaults, for administrators: the preceptor cap, the preceptee protected
time allowance, its modality checklists and its learning needs areas.

- **Preceptor cap**: how many preceptees at once a preceptor of this department may have when
  the register sets no cap of their own (eligibility.department_cap). Blank means the trust
  default (`DEFAULT_PRECEPTOR_CAP`, 2: PRODUCT.md). The bounds are the register's (0 is not a
  department default: it would stop every preceptor there). A cap may not drop below the load
  of a preceptor who follows it: going over a cap needs a recorded reason, so the admin gives
  that preceptor their own cap on the register first, as a lead would.
- **Preceptee protected time allowance**: hours a year of protected learning time for each
  preceptee (PRODUCT.md: "preceptee allowance set per department"); blank means none set.
- **Modality checklists**: the optional checklists whose milestones new programmes here get
  (services/programmes.applicable_templates); running programmes keep the ones they have.
  Archived checklists are not offered, but one already ticked stays ticked until unticked.
- **Learning needs areas**: what preceptees here rate their confidence in. A department with
  none of its own uses the trust-wide areas (services/learning_needs.areas_for), so adding the
  first replaces them and archiving the last brings them back. Areas are archived, never
  deleted: ratings already given point at them.

Every change is audited with its before and after. Nothing here commits.
"""

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Checklist, Department, LearningNeedArea, PreceptorProfile, User, department_checklist
from ..models._columns import utcnow
from . import audit
from .capacity import current_load
from .departments import DepartmentsRefused, _archived_change, plural, tidy
from .register import MAX_CAP

MIN_CAP = 1
MAX_PROTECTED_HOURS = Decimal(300)  # eight weeks of full-time hours: anything above is a typing slip
AREA_TITLE_MAX = 160


def trust_cap() -> int:
    return current_app.config["DEFAULT_PRECEPTOR_CAP"]


# --- reading what the form typed ----------------------------------------------------------

def parse_cap(text: str) -> int | None:
    """The typed cap: None for blank; anything that is not a whole number in bounds is refused."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not MIN_CAP <= int(text) <= MAX_CAP:
        raise DepartmentsRefused(f"Preceptor cap must be a whole number from {MIN_CAP} to {MAX_CAP}, "
                                 f"or blank for the trust default ({trust_cap()})", "preceptor_cap")
    return int(text)


def parse_hours(text: str) -> Decimal | None:
    """The typed allowance in hours a year: None for blank; 0 to 300, at most 2 decimal places."""
    text = (text or "").strip()
    if not text:
        return None
    bounds = (f"Protected time allowance must be a number of hours a year from 0 to {MAX_PROTECTED_HOURS}, "
              "like 37.5, or blank for none")
    try:
        hours = Decimal(text)
    except InvalidOperation:
        raise DepartmentsRefused(bounds, "preceptee_protected_hours") from None
    if not hours.is_finite() or not Decimal(0) <= hours <= MAX_PROTECTED_HOURS:
        raise DepartmentsRefused(bounds, "preceptee_protected_hours")
    if hours != hours.quantize(Decimal("0.01")):
        raise DepartmentsRefused("Protected time allowance must have no more than 2 decimal places, like 37.25",
                                 "preceptee_protected_hours")
    return hours


# --- cap, allowance and checklists ---------------------------------------------------------

def offered_checklists(department: Department) -> list[Checklist]:
    """Checklists an admin may tick here: every open one, and any archived one already ticked."""
    ticked = sa.select(department_checklist.c.checklist_id).where(department_checklist.c.department_id == department.id)
    return list(db.session.scalars(sa.select(Checklist).where(
        sa.or_(Checklist.archived_at.is_(None), Checklist.id.in_(ticked))).order_by(Checklist.name)))


def ticked_checklists(department: Department) -> list[int]:
    return sorted(db.session.scalars(sa.select(department_checklist.c.checklist_id).where(
        department_checklist.c.department_id == department.id)))


def _busiest_following(department: Department) -> tuple[int, int]:
    """(highest load, how many have it) among active preceptors here who follow the department's cap."""
    load = current_load()
    rows = db.session.execute(
        sa.select(load.c.load, sa.func.count()).select_from(PreceptorProfile)
        .join(User, User.id == PreceptorProfile.user_id)
        .join(load, load.c.preceptor_id == PreceptorProfile.user_id)
        .where(PreceptorProfile.department_id == department.id, PreceptorProfile.cap.is_(None),
               User.active.is_(True), User.erased_at.is_(None))
        .group_by(load.c.load).order_by(load.c.load.desc()).limit(1)).first()
    return (rows[0], rows[1]) if rows else (0, 0)


def _values(department: Department, checklists: list[int]) -> dict:
    hours = department.preceptee_protected_hours
    return {"preceptor_cap": department.preceptor_cap,
            "preceptee_protected_hours": f"{Decimal(hours):.2f}" if hours is not None else None,
            "checklist_ids": checklists}


def change_defaults(department: Department, cap: int | None, hours: Decimal | None, checklist_ids: list[int],
                    by: User) -> bool:
    """Set the department's cap, allowance and checklists (values already parsed); False when
    nothing changed. Refused: an archived department, a cap below a following preceptor's load,
    a checklist that is not offered."""
    if department.archived_at is not None:
        raise DepartmentsRefused(f"{department.full_name} is archived: unarchive it before changing it")
    if cap is not None and not MIN_CAP <= cap <= MAX_CAP:
        raise DepartmentsRefused(f"Preceptor cap must be a whole number from {MIN_CAP} to {MAX_CAP}", "preceptor_cap")
    if hours is not None and not Decimal(0) <= hours <= MAX_PROTECTED_HOURS:
        raise DepartmentsRefused("Protected time allowance is out of bounds", "preceptee_protected_hours")
    offered = {checklist.id for checklist in offered_checklists(department)}
    chosen = sorted(set(checklist_ids))
    if not set(chosen) <= offered:
        raise DepartmentsRefused("Choose checklists from the list", "checklists")
    cap_after = cap if cap is not None else trust_cap()
    load, how_many = _busiest_following(department)
    if cap_after < load:
        raise DepartmentsRefused(
            f"{plural(how_many, 'preceptor')} here {'has' if how_many == 1 else 'have'} {load} preceptees now and "
            f"{'follows' if how_many == 1 else 'follow'} the department’s cap, so it must be at least {load}. "
            "Give them their own cap on the register first, or reallocate preceptees.", "preceptor_cap")

    before_lists = ticked_checklists(department)
    before = _values(department, before_lists)
    department.preceptor_cap, department.preceptee_protected_hours = cap, hours
    if chosen != before_lists:
        db.session.execute(sa.delete(department_checklist).where(department_checklist.c.department_id == department.id))
        if chosen:
            db.session.execute(sa.insert(department_checklist),
                               [{"department_id": department.id, "checklist_id": c} for c in chosen])
    after = _values(department, chosen)
    if before == after:
        return False
    audit.record("department.defaults", department, actor_id=by.id, department_id=department.id,
                 details={"before": before, "after": after})
    return True


# --- learning needs areas ---------------------------------------------------------------------

def areas(department_id: int | None) -> list[LearningNeedArea]:
    """A department's own areas (or the trust-wide ones for None), open first, then by position."""
    owner = (LearningNeedArea.department_id.is_(None) if department_id is None
             else LearningNeedArea.department_id == department_id)
    return list(db.session.scalars(sa.select(LearningNeedArea).where(owner).order_by(
        LearningNeedArea.archived_at.is_not(None), LearningNeedArea.position, LearningNeedArea.id)))


def area_of(department: Department, area_id: int) -> LearningNeedArea | None:
    """The department's own area with this id; a trust-wide or another department's finds nothing."""
    return db.session.scalar(sa.select(LearningNeedArea).where(
        LearningNeedArea.id == area_id, LearningNeedArea.department_id == department.id))


def _check_title(department: Department, title: str, exclude: LearningNeedArea | None = None) -> None:
    if department.archived_at is not None:
        raise DepartmentsRefused(f"{department.full_name} is archived: unarchive it before changing it")
    if not title:
        raise DepartmentsRefused("Enter the learning needs area", "title")
    if len(title) > AREA_TITLE_MAX:
        raise DepartmentsRefused(f"Learning needs area must be {AREA_TITLE_MAX} characters or fewer", "title")
    for other in areas(department.id):
        if other is not exclude and other.archived_at is None and other.title.casefold() == title.casefold():
            raise DepartmentsRefused(f"This department already has the area “{other.title}”", "title")


def add_area(department: Department, title: str, by: User) -> LearningNeedArea:
    title = tidy(title)
    _check_title(department, title)
    last = db.session.scalar(sa.select(sa.func.max(LearningNeedArea.position)).where(
        LearningNeedArea.department_id == department.id))
    area = LearningNeedArea(department_id=department.id, title=title, position=(last or 0) + 1)
    db.session.add(area)
    audit.record("learning_need_area.add", area, actor_id=by.id, department_id=department.id,
                 details={"title": title})
    return area


def rename_area(area: LearningNeedArea, department: Department, title: str, by: User) -> bool:
    """Rename an open area; False when unchanged. Ratings already given keep pointing at it."""
    title = tidy(title)
    if area.archived_at is not None:
        raise DepartmentsRefused("This area is archived: restore it before renaming it", "title")
    _check_title(department, title, exclude=area)
    if title == area.title:
        return False
    audit.record("learning_need_area.rename", area, actor_id=by.id, department_id=department.id,
                 details={"before": {"title": area.title}, "after": {"title": title}})
    area.title = title
    return True


def archive_area(area: LearningNeedArea, department: Department, by: User) -> None:
    if department.archived_at is not None:
        raise DepartmentsRefused(f"{department.full_name} is archived: unarchive it before changing it")
    if area.archived_at is not None:
        raise DepartmentsRefused(f"“{area.title}” is already archived")
    area.archived_at = utcnow()
    audit.record("learning_need_area.archive", area, actor_id=by.id, department_id=department.id,
                 details=_archived_change(None, area.archived_at))


def restore_area(area: LearningNeedArea, department: Department, by: User) -> None:
    if area.archived_at is None:
        raise DepartmentsRefused(f"“{area.title}” is not archived")
    _check_title(department, area.title, exclude=area)  # an open area may have taken its title since
    audit.record("learning_need_area.restore", area, actor_id=by.id, department_id=department.id,
                 details=_archived_change(area.archived_at, None))
    area.archived_at = None
