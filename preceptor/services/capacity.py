"""Preceptor capacity per department (PRODUCT.md, "Capacity: definitions").

Five set-based queries answer for any number of departments: the departments; preceptors
(eligibility, caps, load, protected time) grouped by department; programmes waiting for a
preceptor; and for the 6-month forecast, starters per department and month and preceptees
finishing per preceptor and month. Site and scope totals are sums of those rows.

- A preceptor counts when eligible today; their load is their current allocations to
  running (active, paused or extended) programmes, and belongs to their own department.
- Capacity is the sum of eligible preceptors' caps; free places the sum of max(0, cap - load)
  over them; utilisation their load over capacity.
- Waiting: active or extended programmes that have started and have no current preceptor,
  waiting since the start or since their last preceptor's allocation ended.
- Forecast, for this month (from tomorrow) and the next five: starters are programmes starting
  in the month with no preceptor yet; finishing are programmes whose planned end falls in the
  month, counted in their preceptor's department; the places they free are only those that
  take a counted preceptor below their cap. Balance = free places - waiting - starters so far
  + places freed so far; below zero is a shortfall.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from ..eligibility import cap_expression, eligible_clause
from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Allocation,
    Department,
    PreceptorProfile,
    Preceptorship,
    Profession,
    ProgrammeStatus,
    ProtectedTime,
    Site,
    User,
)
from .programmes import add_months
from .protected_time import earliest_date
from .scope import in_scope

FORECAST_MONTHS = 6
# Programmes that need a preceptor now: a paused programme does not wait.
NEEDING_PRECEPTOR = (ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED)


@dataclass
class MonthForecast:
    month: date  # the first day of the month
    starters: int = 0
    finishing: int = 0
    freed: int = 0
    balance: int = 0


@dataclass
class DepartmentCapacity:
    """One row of the capacity report; also used for site and scope totals."""

    name: str
    site: str = ""
    department_id: int | None = None
    profession: Profession | None = None
    preceptors: int = 0
    eligible: int = 0
    capacity: int = 0
    load: int = 0
    free: int = 0
    over_cap: int = 0
    # Preceptees whose preceptor does not count today (on leave, untrained, inactive).
    with_unavailable: int = 0
    waiting: int = 0
    waiting_since: date | None = None
    protected_hours: Decimal = Decimal(0)
    protected_allowance: Decimal = Decimal(0)
    forecast: list[MonthForecast] = field(default_factory=list)

    @property
    def utilisation(self) -> Decimal | None:
        """Load over capacity, as a fraction; None when there is no capacity to divide by."""
        return Decimal(self.load) / self.capacity if self.capacity else None

    def longest_wait(self, today: date) -> int | None:
        return (today - self.waiting_since).days if self.waiting_since else None

    @property
    def shortfall_months(self) -> int:
        return sum(1 for month in self.forecast if month.balance < 0)


@dataclass
class CapacityReport:
    today: date
    departments: list[DepartmentCapacity]
    sites: list[DepartmentCapacity]
    total: DepartmentCapacity

    @property
    def months(self) -> list[date]:
        return [month.month for month in self.total.forecast]


def month_windows(today: date) -> list[tuple[date, date, date]]:
    """(first of month, first day counted, last day) for this month and the next five; this
    month counts from tomorrow, since today's starters are already waiting."""
    first = today.replace(day=1)
    windows = []
    for n in range(FORECAST_MONTHS):
        start = add_months(first, n)
        end = add_months(first, n + 1) - timedelta(days=1)
        windows.append((start, max(start, today + timedelta(days=1)), end))
    return windows


def current_load():
    """Per preceptor: current allocations to running programmes."""
    return (
        sa.select(Allocation.preceptor_id, sa.func.count().label("load"))
        .join(Preceptorship, Preceptorship.id == Allocation.preceptorship_id)
        .where(Allocation.ends_on.is_(None), Preceptorship.status.in_(RUNNING_STATUSES))
        .group_by(Allocation.preceptor_id)
        .subquery("current_load")
    )


def protected_hours(today: date):
    """Per preceptor: protected time logged in the rolling 12 months."""
    return (
        sa.select(ProtectedTime.preceptor_id, sa.func.sum(ProtectedTime.hours).label("hours"))
        .where(ProtectedTime.occurred_on >= earliest_date(today), ProtectedTime.occurred_on <= today)
        .group_by(ProtectedTime.preceptor_id)
        .subquery("protected_hours")
    )


def load_of(preceptor_id: int) -> int:
    """One preceptor's load, as `current_load` counts it."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Allocation)
        .join(Preceptorship, Preceptorship.id == Allocation.preceptorship_id)
        .where(Allocation.preceptor_id == preceptor_id, Allocation.ends_on.is_(None),
               Preceptorship.status.in_(RUNNING_STATUSES)))


def has_preceptor():
    """The programme in the query has a current allocation."""
    return (sa.select(Allocation.id)
            .where(Allocation.preceptorship_id == Preceptorship.id, Allocation.ends_on.is_(None))
            .exists())


def _departments(scope: list[int] | None, site_id: int | None, profession: Profession | None):
    query = (sa.select(Department.id, Department.name, Site.name.label("site"), Department.profession)
             .join(Site, Site.id == Department.site_id)
             .where(Department.archived_at.is_(None)))
    query = query.where(in_scope(Department.id, scope))
    if site_id is not None:
        query = query.where(Department.site_id == site_id)
    if profession is not None:
        query = query.where(Department.profession == profession)
    return query.subquery("departments")


def _preceptor_figures(departments, today: date):
    load, hours = current_load(), protected_hours(today)
    eligible = eligible_clause(today)
    cap = cap_expression()
    preceptor_load = sa.func.coalesce(load.c.load, 0)
    counted = sa.case((eligible, 1), else_=0)
    allowance = sa.func.coalesce(PreceptorProfile.protected_hours_allowance,
                                 sa.literal(current_app.config["PRECEPTOR_PROTECTED_HOURS"], sa.Numeric(6, 2)))
    trained = sa.and_(PreceptorProfile.trained_on.is_not(None), User.active.is_(True), User.erased_at.is_(None))
    return db.session.execute(
        sa.select(
            PreceptorProfile.department_id,
            sa.func.count().label("preceptors"),
            sa.func.sum(counted).label("eligible"),
            sa.func.sum(sa.case((eligible, cap), else_=0)).label("capacity"),
            sa.func.sum(sa.case((eligible, preceptor_load), else_=0)).label("load"),
            sa.func.sum(sa.case((sa.and_(eligible, cap > preceptor_load), cap - preceptor_load), else_=0))
            .label("free"),
            sa.func.sum(sa.case((preceptor_load > cap, 1), else_=0)).label("over_cap"),
            sa.func.sum(sa.case((eligible, 0), else_=preceptor_load)).label("with_unavailable"),
            sa.func.sum(sa.case((trained, sa.func.coalesce(hours.c.hours, 0)), else_=0)).label("hours"),
            sa.func.sum(sa.case((trained, allowance), else_=0)).label("allowance"),
        )
        .join(User, User.id == PreceptorProfile.user_id)
        .join(Department, Department.id == PreceptorProfile.department_id)
        .join(departments, departments.c.id == PreceptorProfile.department_id)
        .outerjoin(load, load.c.preceptor_id == PreceptorProfile.user_id)
        .outerjoin(hours, hours.c.preceptor_id == PreceptorProfile.user_id)
        .group_by(PreceptorProfile.department_id)
    ).all()


def waiting_since():
    """When a programme began waiting: its start, or the end of its last allocation if later."""
    last_end = (sa.select(sa.func.max(Allocation.ends_on))
                .where(Allocation.preceptorship_id == Preceptorship.id)
                .scalar_subquery())
    return sa.case((last_end > Preceptorship.start_date, last_end), else_=Preceptorship.start_date)


def waiting_clause(today: date):
    """Programmes waiting for a preceptor today (see the module docstring)."""
    return sa.and_(Preceptorship.status.in_(NEEDING_PRECEPTOR), Preceptorship.start_date <= today,
                   ~has_preceptor())


def waiting_count(scope: list[int] | None, today: date) -> int:
    """How many programmes in scope wait for a preceptor today (the lead's navigation badge)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Preceptorship)
                             .where(waiting_clause(today), in_scope(Preceptorship.department_id, scope)))


def _waiting(departments, today: date):
    since = waiting_since()
    return db.session.execute(
        sa.select(Preceptorship.department_id, sa.func.count(), sa.func.min(since))
        .join(departments, departments.c.id == Preceptorship.department_id)
        .where(waiting_clause(today))
        .group_by(Preceptorship.department_id)
    ).all()


def _month_of(column, windows):
    """The forecast month (0-5) a date falls in, as SQL; NULL outside the six months."""
    return sa.case(*[(column.between(first, last), n) for n, (_, first, last) in enumerate(windows)], else_=None)


def _starters(departments, windows):
    """Per department and month: programmes starting with no preceptor yet."""
    month = _month_of(Preceptorship.start_date, windows)
    return db.session.execute(
        sa.select(Preceptorship.department_id, month, sa.func.count())
        .join(departments, departments.c.id == Preceptorship.department_id)
        .where(Preceptorship.status.in_(NEEDING_PRECEPTOR), month.is_not(None), ~has_preceptor())
        .group_by(Preceptorship.department_id, month)
    ).all()


def _finishing(departments, today: date, windows):
    """Per preceptor in scope and month: their preceptees' programmes planned to end, with the
    preceptor's department, cap, load and whether they count today, to work out the places
    each finish really frees."""
    load = current_load()
    month = _month_of(Preceptorship.planned_end_date, windows)
    return db.session.execute(
        sa.select(Allocation.preceptor_id, month, sa.func.count(),
                  sa.func.max(PreceptorProfile.department_id), sa.func.max(cap_expression()),
                  sa.func.max(sa.func.coalesce(load.c.load, 0)), sa.func.max(sa.case((eligible_clause(today), 1),
                                                                                     else_=0)))
        .join(Preceptorship, Preceptorship.id == Allocation.preceptorship_id)
        .join(PreceptorProfile, PreceptorProfile.user_id == Allocation.preceptor_id)
        .join(User, User.id == PreceptorProfile.user_id)
        .join(Department, Department.id == PreceptorProfile.department_id)
        .join(departments, departments.c.id == PreceptorProfile.department_id)
        .outerjoin(load, load.c.preceptor_id == Allocation.preceptor_id)
        .where(Allocation.ends_on.is_(None), Preceptorship.status.in_(RUNNING_STATUSES), month.is_not(None))
        .group_by(Allocation.preceptor_id, month)
    ).all()


def places_freed(cap: int, load: int, finishing: list[int]) -> list[int]:
    """Places a counted preceptor gains each month as preceptees finish: only what takes them
    below their cap (someone 2 over cap who loses one preceptee frees nothing)."""
    free_before, ended, freed = max(0, cap - load), 0, []
    for count in finishing:
        ended += count
        free_now = max(0, cap - (load - ended))
        freed.append(free_now - free_before)
        free_before = free_now
    return freed


def _events(departments, today: date, windows) -> dict[int, list[list[int]]]:
    """Per department, per month: [starting, finishing, places freed]."""
    events: dict[int, list[list[int]]] = {}

    def month_row(department_id: int, month: int) -> list[int]:
        return events.setdefault(department_id, [[0, 0, 0] for _ in windows])[month]

    for department_id, month, count in _starters(departments, windows):
        month_row(department_id, month)[0] += count
    preceptors: dict[int, tuple[int, int, int, bool, list[int]]] = {}
    for preceptor_id, month, count, department_id, cap, load, counts in _finishing(departments, today, windows):
        month_row(department_id, month)[1] += count
        found = preceptors.setdefault(preceptor_id, (department_id, cap, load, bool(counts), [0] * len(windows)))
        found[4][month] += count
    for department_id, cap, load, counts, finishing in preceptors.values():
        if counts:  # a preceptor on leave (say) frees no place that capacity counted
            for month, freed in enumerate(places_freed(cap, load, finishing)):
                month_row(department_id, month)[2] += freed
    return events


def _fill_forecast(row: DepartmentCapacity, windows, events: list[list[int]] | None) -> None:
    balance = row.free - row.waiting
    row.forecast = []
    for n, (month, _, _) in enumerate(windows):
        starting, finishing, freed = events[n] if events else (0, 0, 0)
        balance += freed - starting
        row.forecast.append(MonthForecast(month, starting, finishing, freed, balance))


def _add(total: DepartmentCapacity, row: DepartmentCapacity) -> None:
    for name in ("preceptors", "eligible", "capacity", "load", "free", "over_cap", "with_unavailable", "waiting",
                 "protected_hours", "protected_allowance"):
        setattr(total, name, getattr(total, name) + getattr(row, name))
    if row.waiting_since and (total.waiting_since is None or row.waiting_since < total.waiting_since):
        total.waiting_since = row.waiting_since
    if not total.forecast:
        total.forecast = [MonthForecast(m.month) for m in row.forecast]
    for sum_month, month in zip(total.forecast, row.forecast, strict=True):
        sum_month.starters += month.starters
        sum_month.finishing += month.finishing
        sum_month.freed += month.freed
        sum_month.balance += month.balance


def capacity_report(scope: list[int] | None, today: date, *, site_id: int | None = None,
                    profession: Profession | None = None) -> CapacityReport:
    """The capacity report for the departments in scope (None: every department), optionally
    narrowed to one site or profession. Departments come by site, then name."""
    departments = _departments(scope, site_id, profession)
    listed = db.session.execute(sa.select(departments).order_by(departments.c.site, departments.c.name)).all()
    figures = {row.department_id: row for row in _preceptor_figures(departments, today)}
    waiting = {department_id: (count, since) for department_id, count, since in _waiting(departments, today)}
    windows = month_windows(today)
    events = _events(departments, today, windows)
    rows = []
    for department in listed:
        row = DepartmentCapacity(name=department.name, site=department.site, department_id=department.id,
                                 profession=Profession(department.profession))
        if found := figures.get(department.id):
            for name in ("preceptors", "eligible", "capacity", "load", "free", "over_cap", "with_unavailable"):
                setattr(row, name, int(getattr(found, name) or 0))
            row.protected_hours = Decimal(found.hours or 0)
            row.protected_allowance = Decimal(found.allowance or 0)
        row.waiting, row.waiting_since = waiting.get(department.id, (0, None))
        _fill_forecast(row, windows, events.get(department.id))
        rows.append(row)

    sites: dict[str, DepartmentCapacity] = {}
    total = DepartmentCapacity(name="All departments in scope")
    total.forecast = [MonthForecast(month) for month, _, _ in windows]
    for row in rows:
        site_total = sites.setdefault(row.site, DepartmentCapacity(name=row.site, site=row.site))
        _add(site_total, row)
        _add(total, row)
    return CapacityReport(today, rows, list(sites.values()), total)
