"""Sites and departments, for administrators: the overview with its counts, creating and
renaming them, and archiving them.

Archiving hides a department from every picker (`scope.open_departments` reads
`archived_at`) but keeps it and everything that points at it: it is history, never deleted.
A department with running programmes or preceptors still placed in it cannot be archived,
since they would vanish from the lead's pickers and reports: they are merged into another
department first (services/department_merge.py), which moves them and archives it. A site
is archived only once all its departments are.

Names are unique per site (departments) and trust-wide (sites) ignoring case: "ct" beside
"CT" is a typing slip, not a second service. The database's unique constraints are exact;
a lost race there becomes the usual "someone else changed this" message (transactions.commit).

Every decision is audited with its before and after. Department and site names are the
trust's organisation, not personal details, so they may sit in the log. Nothing here commits.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from ..extensions import db
from ..models import RUNNING_STATUSES, Department, PreceptorProfile, Preceptorship, Profession, Site, User
from ..models._columns import utcnow
from . import audit

NAME_MAX = 120


class DepartmentsRefused(ValueError):
    """A change the rules refuse. The message is for the administrator; `field` names the form
    field it belongs beside, or None for the page as a whole."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DepartmentRow:
    """A department with what the overview counts for it."""

    department: Department
    staff: int  # everyone on its preceptor register (profiles), trained or not, active
    preceptors: int  # of them, trained preceptors
    running: int  # running programmes (active, paused or extended)
    merged_into: Department | None = None


@dataclass
class SiteGroup:
    site: Site
    open: list[DepartmentRow] = field(default_factory=list)
    archived: list[DepartmentRow] = field(default_factory=list)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def tidy(name: str | None) -> str:
    """A typed name with surrounding and repeated spaces removed."""
    return " ".join((name or "").split())


# --- the overview -------------------------------------------------------------------------

def _counts() -> sa.Select:
    """Per department: staff on the register, trained preceptors, running programmes. One
    statement (grouped subqueries joined to the departments), whatever the trust's size."""
    active = sa.and_(User.active.is_(True), User.erased_at.is_(None))
    register = (
        sa.select(PreceptorProfile.department_id, sa.func.count().label("staff"),
                  sa.func.count(PreceptorProfile.trained_on).label("trained"))
        .join(User, User.id == PreceptorProfile.user_id).where(active)
        .group_by(PreceptorProfile.department_id).subquery("register")
    )
    running = (
        sa.select(Preceptorship.department_id, sa.func.count().label("running"))
        .where(Preceptorship.status.in_(RUNNING_STATUSES))
        .group_by(Preceptorship.department_id).subquery("running")
    )
    return (
        sa.select(Department, sa.func.coalesce(register.c.staff, 0), sa.func.coalesce(register.c.trained, 0),
                  sa.func.coalesce(running.c.running, 0))
        .outerjoin(register, register.c.department_id == Department.id)
        .outerjoin(running, running.c.department_id == Department.id)
    )


def overview() -> list[SiteGroup]:
    """Every site (open ones first, then by name) with its open and archived departments and
    their counts: two statements, the sites and the departments with every count."""
    groups = {site.id: SiteGroup(site) for site in db.session.scalars(
        sa.select(Site).order_by(Site.archived_at.is_not(None), Site.name))}
    rows = db.session.execute(_counts().order_by(Department.name, Department.id)).all()
    by_id = {department.id: department for department, *_ in rows}
    for department, staff, trained, running in rows:
        row = DepartmentRow(department, staff, trained, running, by_id.get(department.merged_into_id))
        group = groups[department.site_id]
        (group.archived if department.archived_at else group.open).append(row)
    return list(groups.values())


def department_row(department: Department) -> DepartmentRow:
    """One department's counts, as the overview shows them."""
    _, staff, trained, running = db.session.execute(_counts().where(Department.id == department.id)).one()
    merged_into = db.session.get(Department, department.merged_into_id) if department.merged_into_id else None
    return DepartmentRow(department, staff, trained, running, merged_into)


def open_sites() -> list[Site]:
    return list(db.session.scalars(sa.select(Site).where(Site.archived_at.is_(None)).order_by(Site.name)))


# --- names ------------------------------------------------------------------------------

def _name_problem(name: str, what: str) -> str | None:
    if not name:
        return f"Enter the {what}’s name"
    if len(name) > NAME_MAX:
        return f"The {what}’s name must be {NAME_MAX} characters or fewer"
    return None


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _site_name_taken(name: str, exclude: Site | None = None) -> Site | None:
    """The site already called `name` in any case (compared in Python, so the rule is the same
    for every letter on SQLite and PostgreSQL; a trust has a handful of sites)."""
    return next((site for site in db.session.scalars(sa.select(Site))
                 if site is not exclude and _same(site.name, name)), None)


def _department_name_taken(site: Site, name: str, exclude: Department | None = None) -> Department | None:
    return next((department for department in db.session.scalars(
        sa.select(Department).where(Department.site_id == site.id))
        if department is not exclude and _same(department.name, name)), None)


def _check_site_name(name: str, exclude: Site | None = None) -> None:
    if problem := _name_problem(name, "site"):
        raise DepartmentsRefused(problem, "name")
    if taken := _site_name_taken(name, exclude):
        archived = " (archived: unarchive it rather than adding it again)" if taken.archived_at else ""
        raise DepartmentsRefused(f"There is already a site called {taken.name}{archived}", "name")


def _check_department_name(site: Site, name: str, exclude: Department | None = None) -> None:
    if problem := _name_problem(name, "department"):
        raise DepartmentsRefused(problem, "name")
    if taken := _department_name_taken(site, name, exclude):
        archived = " (archived: unarchive it or choose another name)" if taken.archived_at else ""
        raise DepartmentsRefused(f"{site.name} already has a department called {taken.name}{archived}", "name")


def _archived_change(before, after) -> dict:
    """An archive or unarchive, as the audit log keeps it."""
    iso = lambda moment: moment.isoformat() if moment else None  # noqa: E731
    return {"before": {"archived_at": iso(before)}, "after": {"archived_at": iso(after)}}


# --- sites ------------------------------------------------------------------------------

def create_site(name: str, by: User) -> Site:
    name = tidy(name)
    _check_site_name(name)
    site = Site(name=name)
    db.session.add(site)
    audit.record("site.create", site, actor_id=by.id, details={"name": name})
    return site


def rename_site(site: Site, name: str, by: User) -> bool:
    """Rename a site; False when the name is unchanged (nothing recorded)."""
    if site.archived_at is not None:
        raise DepartmentsRefused(f"{site.name} is archived: open it again before renaming it")
    name = tidy(name)
    if name == site.name:
        return False
    _check_site_name(name, exclude=site)
    audit.record("site.rename", site, actor_id=by.id, details={"before": {"name": site.name}, "after": {"name": name}})
    site.name = name
    return True


def archive_site(site: Site, by: User) -> None:
    """Archive a site whose departments are all archived already."""
    if site.archived_at is not None:
        raise DepartmentsRefused(f"{site.name} is already archived")
    still_open = db.session.scalar(sa.select(sa.func.count()).select_from(Department).where(
        Department.site_id == site.id, Department.archived_at.is_(None)))
    if still_open:
        raise DepartmentsRefused(
            f"{site.name} still has {plural(still_open, 'open department')}. Archive or merge "
            f"{'it' if still_open == 1 else 'them'} first, then archive the site.")
    site.archived_at = utcnow()
    audit.record("site.archive", site, actor_id=by.id, details=_archived_change(None, site.archived_at))


def unarchive_site(site: Site, by: User) -> None:
    """Open an archived site again; its departments stay archived until unarchived one by one."""
    if site.archived_at is None:
        raise DepartmentsRefused(f"{site.name} is not archived")
    audit.record("site.unarchive", site, actor_id=by.id, details=_archived_change(site.archived_at, None))
    site.archived_at = None


# --- departments ------------------------------------------------------------------------

def create_department(site: Site | None, name: str, profession: str | None, by: User) -> Department:
    if site is None:
        raise DepartmentsRefused("Choose the site the department is at", "site")
    if site.archived_at is not None:
        raise DepartmentsRefused(f"{site.name} is archived: unarchive it first, or choose another site", "site")
    if profession not in {p.value for p in Profession}:
        raise DepartmentsRefused("Choose the department’s profession", "profession")
    name = tidy(name)
    _check_department_name(site, name)
    department = Department(site=site, name=name, profession=Profession(profession))
    db.session.add(department)
    audit.record("department.create", department, actor_id=by.id,
                 details={"site_id": site.id, "name": name, "profession": profession})
    return department


def _open(department: Department) -> None:
    if department.archived_at is not None:
        raise DepartmentsRefused(f"{department.full_name} is archived: unarchive it before changing it")


def rename_department(department: Department, name: str, by: User) -> bool:
    """Rename a department; False when the name is unchanged."""
    _open(department)
    name = tidy(name)
    if name == department.name:
        return False
    _check_department_name(department.site, name, exclude=department)
    audit.record("department.rename", department, actor_id=by.id, department_id=department.id,
                 details={"before": {"name": department.name}, "after": {"name": name}})
    department.name = name
    return True


def still_there(department: Department) -> tuple[int, int]:
    """(running programmes, preceptors placed there with an active account): what stops an archive."""
    running = db.session.scalar(sa.select(sa.func.count()).select_from(Preceptorship).where(
        Preceptorship.department_id == department.id, Preceptorship.status.in_(RUNNING_STATUSES)))
    placed = db.session.scalar(
        sa.select(sa.func.count()).select_from(PreceptorProfile).join(User, User.id == PreceptorProfile.user_id)
        .where(PreceptorProfile.department_id == department.id, User.active.is_(True), User.erased_at.is_(None)))
    return running or 0, placed or 0


def archive_problem(department: Department) -> str | None:
    """Why the department cannot be archived now, or None. Shown before the admin tries."""
    running, placed = still_there(department)
    if not running and not placed:
        return None
    what = " and ".join(part for part in (plural(running, "running programme") if running else "",
                                          plural(placed, "preceptor") if placed else "") if part)
    return (f"{department.full_name} still has {what}. Merge it into another department, which moves "
            f"{'it' if running + placed == 1 else 'them'} there and archives this one, or move "
            f"{'it' if running + placed == 1 else 'them'} first.")


def archive_department(department: Department, by: User) -> None:
    if department.archived_at is not None:
        raise DepartmentsRefused(f"{department.full_name} is already archived")
    if problem := archive_problem(department):
        raise DepartmentsRefused(problem)
    department.archived_at = utcnow()
    audit.record("department.archive", department, actor_id=by.id, department_id=department.id,
                 details=_archived_change(None, department.archived_at))


def unarchive_department(department: Department, by: User) -> None:
    if department.archived_at is None:
        raise DepartmentsRefused(f"{department.full_name} is not archived")
    if department.merged_into_id is not None:
        successor = db.session.get(Department, department.merged_into_id)
        raise DepartmentsRefused(f"{department.full_name} was merged into {successor.full_name}, which holds its "
                                 "people and programmes now. Add a new department if the service opens again.")
    if department.site.archived_at is not None:
        raise DepartmentsRefused(f"{department.site.name} is archived: unarchive the site first")
    audit.record("department.unarchive", department, actor_id=by.id, department_id=department.id,
                 details=_archived_change(department.archived_at, None))
    department.archived_at = None
