"""Survey waves: when each programme is invited to the newly-qualified survey, and opening
what is due (`flask --app preceptor surveys open-due`, run hourly from cron on every server).

Time points (PRODUCT.md): a baseline in weeks 0-2, then 3, 6 and 12 months. Months count
programme time: days paused push the later waves back, as they push milestones. The 12-month
wave is the end of the programme, so it follows the planned end, which pauses and extensions
move; a 6-month programme has no separate 6-month wave (its end wave is that). A wave opens on
its date and closes after a window: `SURVEY_BASELINE_DAYS` for the baseline (2 weeks),
`SURVEY_WINDOW_DAYS` for the others. At the end of a programme that had a preceptor, the
feedback-on-your-preceptor form opens beside the end wave.

Opening is idempotent and safe from several servers at once: an invitation is unique per
programme and time point, and rows are inserted with ON CONFLICT DO NOTHING, so a second run,
or a concurrent one, adds nothing and fails on nothing. Each invitation a run adds tells its
preceptee in the same transaction (`announce`, keyed by the invitation, so once).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Allocation,
    Category,
    Preceptorship,
    ProgrammeStatus,
    StatusChange,
    SurveyInvitation,
    SurveyTemplate,
    TimePoint,
    User,
)
from ..templating import long_date
from . import notifications
from .programmes import add_months
from .survey_library import NEWLY_QUALIFIED, PRECEPTOR_FEEDBACK

MONTHS = ((TimePoint.BASELINE, 0), (TimePoint.MONTH_3, 3), (TimePoint.MONTH_6, 6))
# Programmes whose waves open: a paused programme's later waves wait for it to resume.
OPENING = (ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED)


@dataclass(frozen=True)
class Wave:
    time_point: TimePoint
    opens_on: date
    closes_on: date


def window(time_point: TimePoint) -> timedelta:
    key = "SURVEY_BASELINE_DAYS" if time_point is TimePoint.BASELINE else "SURVEY_WINDOW_DAYS"
    return timedelta(days=current_app.config[key])


def paused_spans(changes: list[StatusChange]) -> list[tuple[date, date | None]]:
    """(paused from, resumed on) for each pause in a programme's history; None: still paused."""
    spans: list[tuple[date, date | None]] = []
    began = None
    for change in changes:  # in the order they happened (the relationship is ordered by id)
        if change.to_status is ProgrammeStatus.PAUSED:
            began = change.effective_on
        elif began is not None and change.from_status is ProgrammeStatus.PAUSED:
            spans.append((began, change.effective_on))
            began = None
    if began is not None:
        spans.append((began, None))
    return spans


def in_programme_time(day: date, spans: list[tuple[date, date | None]]) -> date | None:
    """`day` moved later by every pause that began on or before it; None if a pause still
    running began before it (the date is not known until the programme resumes)."""
    for began, resumed in sorted(spans, key=lambda span: span[0]):
        if began <= day:
            if resumed is None:
                return None
            day += resumed - began
    return day


def waves(programme: Preceptorship, changes: list[StatusChange] | None = None) -> list[Wave]:
    """The programme's waves in date order, as far as they are known."""
    spans = paused_spans(programme.status_changes if changes is None else changes)
    end = programme.planned_end_date
    found = []
    for time_point, months in MONTHS:
        opens = in_programme_time(add_months(programme.start_date, months), spans)
        if opens is None:
            continue
        if time_point is not TimePoint.BASELINE and opens + window(time_point) > end:
            continue  # too near the end: the end wave asks then
        found.append(Wave(time_point, opens, opens + window(time_point)))
    found.append(Wave(TimePoint.MONTH_12, end, end + window(TimePoint.MONTH_12)))
    return found


def feedback_wave(programme: Preceptorship, changes: list[StatusChange] | None = None) -> Wave:
    """The end-of-programme feedback on the preceptor: with the end wave, same window."""
    end = next(wave for wave in waves(programme, changes) if wave.time_point is TimePoint.MONTH_12)
    return Wave(TimePoint.END_FEEDBACK, end.opens_on, end.closes_on)


def current_template(key: str = NEWLY_QUALIFIED.key) -> SurveyTemplate | None:
    """The version of a survey new invitations get."""
    return db.session.scalar(sa.select(SurveyTemplate).where(SurveyTemplate.key == key,
                                                              SurveyTemplate.current.is_(True)))


def due_invitations(today: date) -> list[dict]:
    """Rows for the invitations that should be open today and do not exist yet: a wave whose
    window has already closed is never opened late. Five queries, whatever the trust's size."""
    template, feedback = current_template(), current_template(PRECEPTOR_FEEDBACK.key)
    if template is None:
        return []
    precepted = set(db.session.scalars(
        sa.select(Allocation.preceptorship_id).distinct()
        .join(Preceptorship, Preceptorship.id == Allocation.preceptorship_id)
        .where(Preceptorship.status.in_(OPENING), Preceptorship.start_date <= today)))
    programmes = db.session.scalars(
        sa.select(Preceptorship).options(selectinload(Preceptorship.status_changes))
        .where(Preceptorship.status.in_(OPENING), Preceptorship.start_date <= today)).all()
    existing = set(db.session.execute(
        sa.select(SurveyInvitation.preceptorship_id, SurveyInvitation.time_point)
        .join(Preceptorship, Preceptorship.id == SurveyInvitation.preceptorship_id)
        .where(Preceptorship.status.in_(OPENING), Preceptorship.start_date <= today)).all())
    rows = []
    for programme in programmes:
        due = [(wave, template) for wave in waves(programme)]
        if feedback is not None and programme.id in precepted:
            due.append((feedback_wave(programme), feedback))
        for wave, asked in due:
            if wave.opens_on <= today < wave.closes_on and (programme.id, wave.time_point) not in existing:
                rows.append({"preceptorship_id": programme.id, "template_id": asked.id,
                             "time_point": wave.time_point, "opens_on": wave.opens_on, "closes_on": wave.closes_on})
    return rows


def open_due(today: date | None = None) -> int:
    """Open every wave due today; returns how many invitations this run added. Commits."""
    added = add_due(today or date.today())
    db.session.commit()
    return added


def add_due(today: date) -> int:
    """`open_due` without the commit, for callers with more to do in the same transaction."""
    rows = due_invitations(today)
    if not rows:
        return 0
    dialect = db.engine.dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SurveyInvitation)
    # RETURNING gives back only the rows this run inserted, not those another run got to first.
    added = db.session.execute(insert.on_conflict_do_nothing(
        index_elements=[SurveyInvitation.preceptorship_id, SurveyInvitation.time_point])
        .returning(SurveyInvitation.id, SurveyInvitation.preceptorship_id, SurveyInvitation.time_point,
                   SurveyInvitation.closes_on), rows).all()
    announce([Opened(*row) for row in added])
    return len(added)


@dataclass(frozen=True)
class Opened:
    """An invitation just opened, as much of it as telling its preceptee needs."""

    id: int
    preceptorship_id: int
    time_point: TimePoint
    closes_on: date


def announce(opened: list[Opened]) -> int:
    """Tell each invitation's preceptee that it is open (one query finds them all); returns how
    many were told. Keyed by the invitation, so a person hears about one invitation once."""
    if not opened:
        return 0
    preceptees = dict(db.session.execute(
        sa.select(Preceptorship.id, User).join(User, User.id == Preceptorship.preceptee_id)
        .where(Preceptorship.id.in_({o.preceptorship_id for o in opened}))).all())
    told = 0
    for invitation in sorted(opened, key=lambda o: o.id):
        last_day = long_date(invitation.closes_on - timedelta(days=1))
        told += notifications.notify(
            preceptees[invitation.preceptorship_id], Category.SURVEY,
            f"The survey “{invitation.time_point.label}” is open: please answer it by {last_day}",
            notifications.link_to("preceptee.survey", invitation_id=invitation.id),
            key=f"survey-open:{invitation.id}") is not None
    return told
