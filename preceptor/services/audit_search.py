"""Searching the audit log, for the audit page and its downloads.

Who sees what: an administrator sees every event. An education lead sees the events of
their departments: those recorded against one of them, or about a programme in one of them,
including departments that were merged into one of theirs (a merge may follow another).
Events with neither a department nor a programme (accounts, people, surveys) are for
administrators only. A lead who asks for anything outside that simply finds nothing.

Every page of results is a fixed number of queries whatever it holds: the count, the events
with their actor, subject and department joined in, and one lookup of the people named in
their details. Filters use the log's indexes (time, action, object, programme, department,
actor).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..exports import Table
from ..extensions import db
from ..models import AuditEvent, Department, Preceptorship, Site, User
from ..templating import local_zone
from .audit_labels import action_label, object_label, person_ids, readable
from .people import _like as like_pattern

PER_PAGE = 50
EXPORT_LIMIT = 50_000  # the newest this many of a filtered set: a download stays a file people can open
_CHUNK = 500  # ids per IN (...), well inside every database's limit on parameters


@dataclass(frozen=True)
class Viewer:
    """Whose view of the log: an administrator's (everything), or an education lead's with
    their scope (department ids; None for the whole trust)."""

    admin: bool
    scope: list[int] | None = None


@dataclass(frozen=True)
class Filters:
    person: str = ""  # part of a name or email address
    person_id: int | None = None  # a person chosen from a link
    object_type: str = ""
    object_id: int | None = None
    action: str = ""
    since: date | None = None  # local days, both included
    until: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as the page's query string (the date boxes as the date input names them)."""
        args = {"person": self.person, "person_id": self.person_id, "object_type": self.object_type,
                "object_id": self.object_id, "action": self.action}
        for name, day in (("since", self.since), ("until", self.until)):
            if day is not None:
                args.update({f"{name}[day]": day.day, f"{name}[month]": day.month, f"{name}[year]": day.year})
        return {key: str(value) for key, value in args.items() if value not in (None, "")}


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    actor: str | None  # the actor's name as it reads now (an erased person's placeholder)
    subject: str | None  # the person the object is, or whose programme it belongs to
    department: str | None  # "CT, Royal Preston": the event's own, else its programme's
    details: list[str]

    @property
    def action_label(self) -> str:
        return action_label(self.event.action)

    @property
    def object_label(self) -> str:
        return object_label(self.event.object_type)

    @property
    def milestone_id(self) -> int | None:
        """The milestone an event is about (a milestone, or a request for its sign-off)."""
        if self.event.object_type == "milestone":
            return self.event.object_id
        details = self.event.details
        if self.event.object_type == "sign_off_request" and isinstance(details, dict):
            milestone = details.get("milestone")
            return milestone if isinstance(milestone, int) else None
        return None


@dataclass(frozen=True)
class EventPage:
    rows: list[EventRow]
    total: int
    page: int
    pages: int


def visible_departments(scope: Iterable[int]) -> set[int]:
    """`scope` and every department merged into one of them, following chains of merges."""
    merged = db.session.execute(sa.select(Department.id, Department.merged_into_id)
                                .where(Department.merged_into_id.is_not(None))).all()
    seen, grew = set(scope), True
    while grew:
        grew = False
        for department_id, into in merged:
            if into in seen and department_id not in seen:
                seen.add(department_id)
                grew = True
    return seen


def _day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the trust's time zone."""
    return datetime.combine(day, time.min, tzinfo=local_zone())


def _conditions(filters: Filters, viewer: Viewer) -> list[sa.ColumnElement[bool]]:
    """What an event must meet, over AuditEvent outer-joined to its Preceptorship."""
    found: list[sa.ColumnElement[bool]] = []
    if not viewer.admin:
        if viewer.scope is None:
            found.append(AuditEvent.department_id.is_not(None) | AuditEvent.preceptorship_id.is_not(None))
        else:
            ids = sorted(visible_departments(viewer.scope))
            found.append(AuditEvent.department_id.in_(ids) | Preceptorship.department_id.in_(ids))
    people = []
    if filters.person_id is not None:
        people.append([filters.person_id])
    if filters.person:
        pattern = like_pattern(filters.person)
        people.append(sa.select(User.id).where(sa.func.lower(User.name).like(pattern, escape="\\")
                                               | sa.func.lower(User.email).like(pattern, escape="\\")))
    for ids in people:  # they acted, the event is about them, or about their programme
        found.append(AuditEvent.actor_id.in_(ids)
                     | ((AuditEvent.object_type == "user") & AuditEvent.object_id.in_(ids))
                     | Preceptorship.preceptee_id.in_(ids))
    is_object = sa.and_(sa.true(), *([AuditEvent.object_type == filters.object_type] if filters.object_type else []),
                        *([AuditEvent.object_id == filters.object_id] if filters.object_id is not None else []))
    if filters.object_type == "preceptorship" and filters.object_id is not None:
        is_object = is_object | (AuditEvent.preceptorship_id == filters.object_id)  # all about a programme
    if filters.object_type or filters.object_id is not None:
        found.append(is_object)
    if filters.action:
        found.append(AuditEvent.action == filters.action)
    if filters.since is not None:
        found.append(AuditEvent.at >= _day_start(filters.since))
    if filters.until is not None:
        found.append(AuditEvent.at < _day_start(filters.until + timedelta(days=1)))
    return found


def _events(*columns) -> sa.Select:
    return sa.select(*columns).select_from(AuditEvent).outerjoin(
        Preceptorship, Preceptorship.id == AuditEvent.preceptorship_id)


def _names(ids: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        found.update(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(chunk))).all())
    return found


def _rows(filters: Filters, viewer: Viewer, limit: int, offset: int = 0) -> list[EventRow]:
    actor, subject, preceptee = aliased(User), aliased(User), aliased(User)
    department, site = aliased(Department), aliased(Site)
    query = (
        _events(AuditEvent, actor.name, subject.name, preceptee.name, department.name, site.name)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(subject, (AuditEvent.object_type == "user") & (subject.id == AuditEvent.object_id))
        .outerjoin(preceptee, preceptee.id == Preceptorship.preceptee_id)
        .outerjoin(department, department.id == sa.func.coalesce(AuditEvent.department_id,
                                                                 Preceptorship.department_id))
        .outerjoin(site, site.id == department.site_id)
        .where(*_conditions(filters, viewer))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset))
    found = db.session.execute(query).all()
    names = _names(set().union(*(person_ids(row[0].details) for row in found)))
    return [EventRow(event, actor_name, subject_name or preceptee_name,
                     f"{department_name}, {site_name}" if department_name else None,
                     readable(event.details, names))
            for event, actor_name, subject_name, preceptee_name, department_name, site_name in found]


def search(filters: Filters, viewer: Viewer, page: int = 1) -> EventPage:
    """One page of matching events, newest first; a page past the end is the last page."""
    total = db.session.scalar(_events(sa.func.count()).where(*_conditions(filters, viewer))) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    return EventPage(_rows(filters, viewer, PER_PAGE, (page - 1) * PER_PAGE), total, page, pages)


def choices(column, viewer: Viewer) -> list[str]:
    """The distinct values of `column` (action or object type) among the events the viewer sees."""
    return list(db.session.scalars(_events(column).distinct().where(*_conditions(Filters(), viewer))
                                   .order_by(column)))


def export_table(filters: Filters, viewer: Viewer) -> Table:
    """The matching events (the newest `EXPORT_LIMIT`) as one table, times in local time."""
    zone = local_zone()
    return Table("Audit log", ["When", "Who", "Person id", "Action", "Action code", "Object", "Object id",
                               "About", "Programme", "Department", "Reason", "Details"],
                 [[row.event.at.astimezone(zone).replace(tzinfo=None, microsecond=0),
                   row.actor or ("System" if row.event.actor_id is None else f"person {row.event.actor_id}"),
                   row.event.actor_id, row.action_label, row.event.action, row.object_label, row.event.object_id,
                   row.subject, row.event.preceptorship_id, row.department, row.event.reason,
                   "\n".join(row.details)]
                  for row in _rows(filters, viewer, EXPORT_LIMIT)])


def person_name(user_id: int | None) -> str | None:
    return db.session.scalar(sa.select(User.name).where(User.id == user_id)) if user_id is not None else None
