"""The education lead's oversight report: overdue milestones by department and HCPC
principle, programmes without a preceptor, meetings not held on time, and how far each
department's programmes have got with each principle.

Every figure is one grouped query over the whole scope, so the report takes the same number
of queries for one department or a hundred. The page and the downloads are built from the
same `Oversight` object (`export_tables`), so a download always matches the screen.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from ..exports import Table
from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Meeting,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    Principle,
    ProgrammeStatus,
    User,
    template_principle,
)
from .capacity import has_preceptor, waiting_since
from .meetings import schedule
from .scope import open_departments

# Paused programmes hold a preceptor's place but nothing falls due while paused.
DUE_STATUSES = tuple(s for s in RUNNING_STATUSES if s is not ProgrammeStatus.PAUSED)
OVERDUE_LIST_LIMIT = 100  # the longest overdue; the table above has every count


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    name: str  # "CT, Royal Preston"


@dataclass(frozen=True)
class OverdueRow:
    department: DepartmentRow
    by_principle: tuple[int, ...]  # in principle order; a milestone under two principles counts under each
    milestones: int  # each overdue milestone once, mapped to a principle or not


@dataclass(frozen=True)
class OverdueMilestone:
    milestone_id: int
    title: str
    preceptee: str
    department: str
    due: date
    days_overdue: int


@dataclass(frozen=True)
class WaitingProgramme:
    programme_id: int
    preceptee: str
    department: str
    start_date: date
    waiting_since: date  # the start, or the day the last preceptor's allocation ended if later
    days_waiting: int  # 0 for a programme that has not started yet


@dataclass(frozen=True)
class LateMeeting:
    programme_id: int
    preceptee: str
    department: str
    meeting: str
    due: date
    days_late: int
    reason: str


@dataclass(frozen=True)
class CoverageCell:
    signed_off: int
    due: int  # due so far: due on or before today
    total: int  # every milestone mapped to the principle in running programmes

    @property
    def percent(self) -> int | None:
        """The share of all the principle's milestones signed off, rounded half up."""
        return None if not self.total else (200 * self.signed_off + self.total) // (2 * self.total)


@dataclass(frozen=True)
class CoverageRow:
    department: DepartmentRow
    cells: tuple[CoverageCell, ...]  # in principle order


@dataclass(frozen=True)
class Oversight:
    today: date
    departments: list[DepartmentRow]  # every department the lead may choose from
    department_id: int | None  # the filter, or None for the whole scope
    principles: list[Principle]
    overdue: list[OverdueRow]
    overdue_totals: OverdueRow
    longest_overdue: list[OverdueMilestone]
    without_preceptor: list[WaitingProgramme]
    late_meetings: list[LateMeeting]
    coverage: list[CoverageRow]


def departments_in_scope(scope: list[int] | None) -> list[DepartmentRow]:
    """Departments not archived that the lead leads (all of them when trust-wide), by site and name."""
    return [DepartmentRow(department.id, department.full_name) for department in open_departments(scope)]


def oversight(scope: list[int] | None, today: date, department_id: int | None = None) -> Oversight:
    """The whole report for the lead's `scope` (None: trust-wide), or one department of it.
    A `department_id` outside the scope raises LookupError: the view answers 404."""
    departments = departments_in_scope(scope)
    if department_id is not None and department_id not in {d.id for d in departments}:
        raise LookupError(department_id)
    shown = [d for d in departments if department_id in (None, d.id)]
    ids = [d.id for d in shown]
    names = {d.id: d.name for d in shown}
    principles = list(db.session.scalars(select(Principle).order_by(Principle.id)))
    overdue = _overdue(ids, principles, today)
    return Oversight(
        today=today, departments=departments, department_id=department_id, principles=principles,
        overdue=[OverdueRow(d, *overdue.get(d.id, ((0,) * len(principles), 0))) for d in shown],
        overdue_totals=OverdueRow(
            DepartmentRow(0, "All departments shown"),
            tuple(sum(row[0][n] for row in overdue.values()) for n in range(len(principles))),
            sum(row[1] for row in overdue.values())),
        longest_overdue=_longest_overdue(ids, names, today),
        without_preceptor=_without_preceptor(ids, names, today),
        late_meetings=_late_meetings(ids, names, today),
        coverage=_coverage(shown, principles, today),
    )


def _overdue_where(ids: list[int], today: date):
    return (Preceptorship.department_id.in_(ids), Preceptorship.status.in_(DUE_STATUSES),
            Milestone.is_open(), Milestone.due_date < today)


def _overdue(ids, principles, today) -> dict[int, tuple[tuple[int, ...], int]]:
    """Per department: overdue milestones under each principle, and overdue milestones once each."""
    by_principle = db.session.execute(
        select(Preceptorship.department_id, template_principle.c.principle_id, func.count())
        .select_from(Milestone).join(Preceptorship, Preceptorship.id == Milestone.preceptorship_id)
        .join(template_principle, template_principle.c.template_id == Milestone.template_id)
        .where(*_overdue_where(ids, today))
        .group_by(Preceptorship.department_id, template_principle.c.principle_id))
    totals = dict(db.session.execute(
        select(Preceptorship.department_id, func.count()).select_from(Milestone)
        .join(Preceptorship, Preceptorship.id == Milestone.preceptorship_id)
        .where(*_overdue_where(ids, today)).group_by(Preceptorship.department_id)).all())
    column = {p.id: n for n, p in enumerate(principles)}
    counts = {department: [0] * len(principles) for department in totals}
    for department, principle, count in by_principle:
        counts[department][column[principle]] = count
    return {department: (tuple(counts[department]), total) for department, total in totals.items()}


def _longest_overdue(ids, names, today) -> list[OverdueMilestone]:
    rows = db.session.execute(
        select(Milestone.id, Milestone.title, User.name, Preceptorship.department_id, Milestone.due_date)
        .join(Preceptorship, Preceptorship.id == Milestone.preceptorship_id)
        .join(User, User.id == Preceptorship.preceptee_id)
        .where(*_overdue_where(ids, today))
        .order_by(Milestone.due_date, Milestone.id).limit(OVERDUE_LIST_LIMIT))
    return [OverdueMilestone(id, title, preceptee, names[department], due, (today - due).days)
            for id, title, preceptee, department, due in rows]


def _without_preceptor(ids, names, today) -> list[WaitingProgramme]:
    """Running programmes with no current allocation, longest waiting first."""
    since = waiting_since()
    rows = db.session.execute(
        select(Preceptorship.id, User.name, Preceptorship.department_id, Preceptorship.start_date,
               since.label("since"))
        .join(User, User.id == Preceptorship.preceptee_id)
        .where(Preceptorship.department_id.in_(ids), Preceptorship.status.in_(RUNNING_STATUSES), ~has_preceptor())
        .order_by(since, Preceptorship.start_date, Preceptorship.id))
    return [WaitingProgramme(id, preceptee, names[department], start, waiting_from,
                             max(0, (today - waiting_from).days))
            for id, preceptee, department, start, waiting_from in rows]


def _late_meetings(ids, names, today) -> list[LateMeeting]:
    """Expected meetings (the same schedule the preceptor's pages use: initial at 2 weeks,
    reviews every 2 months, mid-point, final) that are due and not held, in active or extended
    programmes, most overdue first. Two queries: the programmes, then all their meetings."""
    running = (Preceptorship.department_id.in_(ids), Preceptorship.status.in_(DUE_STATUSES),
               Preceptorship.start_date < today)
    programmes = db.session.execute(
        select(Preceptorship, User.name).join(User, User.id == Preceptorship.preceptee_id).where(*running)).all()
    meetings: dict[int, list[Meeting]] = {}
    for meeting in db.session.scalars(
            select(Meeting).join(Preceptorship, Preceptorship.id == Meeting.preceptorship_id).where(*running)
            .order_by(Meeting.scheduled_for, Meeting.id)):
        meetings.setdefault(meeting.preceptorship_id, []).append(meeting)
    rows = []
    for programme, preceptee in programmes:
        for expected in schedule(programme, meetings.get(programme.id, [])):
            if not expected.overdue(today, programme):
                continue
            booked = expected.meeting
            if booked is None:
                reason = "Not booked"
            elif booked.scheduled_for < today:
                reason = f"Booked for {booked.scheduled_for.day} {booked.scheduled_for:%B %Y}, not recorded as held"
            else:
                reason = f"Booked for {booked.scheduled_for.day} {booked.scheduled_for:%B %Y}, after it was due"
            rows.append(LateMeeting(programme.id, preceptee, names[programme.department_id],
                                    expected.meeting_type.label, expected.due, (today - expected.due).days, reason))
    return sorted(rows, key=lambda row: (row.due, row.department, row.preceptee, row.programme_id))


def _coverage(shown, principles, today) -> list[CoverageRow]:
    """Per department and principle: milestones in running programmes, due so far, signed off."""
    rows = db.session.execute(
        select(Preceptorship.department_id, template_principle.c.principle_id, func.count(),
               func.count().filter(Milestone.due_date <= today),
               func.count().filter(Milestone.status == MilestoneStatus.SIGNED_OFF))
        .select_from(Milestone).join(Preceptorship, Preceptorship.id == Milestone.preceptorship_id)
        .join(template_principle, template_principle.c.template_id == Milestone.template_id)
        .where(Preceptorship.department_id.in_([d.id for d in shown]),
               Preceptorship.status.in_(RUNNING_STATUSES))
        .group_by(Preceptorship.department_id, template_principle.c.principle_id))
    cells = {(department, principle): CoverageCell(signed, due, total)
             for department, principle, total, due, signed in rows}
    empty = CoverageCell(0, 0, 0)
    return [CoverageRow(d, tuple(cells.get((d.id, p.id), empty) for p in principles)) for d in shown]


def export_tables(report: Oversight) -> list[Table]:
    """The report's tables for CSV and Excel, from the rows the page shows."""
    headings = [f"{p.id}. {p.name}" for p in report.principles]
    overdue = Table("Overdue by principle", ["Department", *headings, "Overdue milestones (each once)"],
                    [[row.department.name, *row.by_principle, row.milestones]
                     for row in [*report.overdue, report.overdue_totals]])
    longest = Table("Longest overdue milestones", ["Preceptee", "Department", "Milestone", "Due", "Days overdue"],
                    [[m.preceptee, m.department, m.title, m.due, m.days_overdue] for m in report.longest_overdue])
    waiting = Table("Without a preceptor", ["Preceptee", "Department", "Start date", "Waiting since", "Days waiting"],
                    [[w.preceptee, w.department, w.start_date, w.waiting_since, w.days_waiting]
                     for w in report.without_preceptor])
    meetings = Table("Meetings not held on time",
                     ["Preceptee", "Department", "Meeting", "Due", "Days late", "Why it is late"],
                     [[m.preceptee, m.department, m.meeting, m.due, m.days_late, m.reason]
                      for m in report.late_meetings])
    coverage = Table("Principle coverage",
                     ["Department", "Principle", "Signed off", "Due so far", "All milestones", "Signed off (%)"],
                     [[row.department.name, heading, cell.signed_off, cell.due, cell.total, cell.percent]
                      for row in report.coverage for heading, cell in zip(headings, row.cells, strict=True)])
    return [overdue, longest, waiting, meetings, coverage]
