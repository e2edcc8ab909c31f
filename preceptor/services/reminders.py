"""Reminders about work that is due or waiting, made by `flask --app preceptor reminders run`
(daily, from cron). Each kind finds its candidates in one query and tells each person through
`notifications.notify` with a key naming the thing and the occasion, so a second run the same
day (or any later run about the same occasion) tells nobody again. The numbers are settings
(config.py), defaulting to issue 8's.

Only running programmes (active or extended) get milestone, meeting and review reminders: a
paused programme's dates wait for it to resume, and an ended programme has nothing left to do.

- Milestones due soon: not signed off and not waiting for the preceptor, due today or within
  `REMINDER_DUE_SOON_DAYS`; the preceptee, once per milestone and due date (a due date moved by
  a pause or an extension is a new occasion).
- Milestones overdue: as `programmes.is_overdue` (not signed off, due before today); the
  preceptee and the current preceptor, once per milestone and due date.
- Meetings due: a booked meeting not yet recorded as held, on a day from today to
  `REMINDER_MEETING_DAYS` ahead; the preceptee and the current preceptor, once per meeting and
  date (rebooked for another day: reminded again). Meetings the schedule expects but nobody
  booked are on the preceptor's meetings page and the lead's oversight report, not reminded.
- Reviews waiting: a sign-off request waiting more than `REVIEW_REMINDER_WORKING_DAYS` working
  days (Monday to Friday, counted from the day after it was asked, in the trust's time zone)
  reminds the current preceptor, once; more than `REVIEW_ESCALATION_WORKING_DAYS` also tells the
  education leads whose scope covers the department, once (not the preceptor again, if a lead).
- Surveys not answered: an open invitation, after its first `SURVEY_REMINDER_DAYS` (the
  opening told them), reminds the preceptee once in each such period until answered or closed,
  and counts the reminder on the invitation. Surveys of ended programmes stay open (the end of
  programme survey opens at completion), so only paused programmes are left out.

Nothing here commits: the command commits once. Runs take turns: a run first takes a lock
(an advisory lock on PostgreSQL, the write lock on SQLite), so a second run at the same moment
waits for the first to commit and then finds every reminder already made. UNIQUE(user_id, key)
backs this up.
"""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Allocation,
    Category,
    Meeting,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    ProgrammeStatus,
    RequestStatus,
    SignOffRequest,
    SurveyInvitation,
    User,
)
from ..templating import local_date, local_zone, long_date
from . import notifications
from .notifications import link_to
from .scope import leads_covering

RUNNING = (ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED)  # not paused, not ended

Preceptee = aliased(User, name="preceptee")
Preceptor = aliased(User, name="preceptor")


def run_reminders(today: date | None = None) -> dict[str, int]:
    """Make today's reminders; how many notifications each kind created."""
    today = today or datetime.now(local_zone()).date()  # the trust's day, not the server's
    _one_run_at_a_time()
    return {
        "milestones due soon": due_soon(today),
        "milestones overdue": overdue(today),
        "meetings due": meetings_due(today),
        "reviews waiting": reviews_waiting(today),
        "surveys not answered": surveys_open(today),
    }


RUN_LOCK = 80_080_001  # the advisory lock's number, unique to this job


def _one_run_at_a_time() -> None:
    """Wait for any other run to commit before reading what has been sent."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": RUN_LOCK})
    else:  # an UPDATE that matches nothing still takes SQLite's write lock, until the commit
        db.session.execute(sa.text("UPDATE notification SET key = key WHERE 0 = 1"))


def _setting(name: str) -> int:
    return int(current_app.config[name])


def _with_people(*entities):
    """A query of `entities` for running programmes, with each programme's preceptee and
    current preceptor (None when it has none)."""
    return (sa.select(*entities, Preceptee, Preceptor).select_from(Preceptorship)
            .join(Preceptee, Preceptee.id == Preceptorship.preceptee_id)
            .outerjoin(Allocation, (Allocation.preceptorship_id == Preceptorship.id) & Allocation.ends_on.is_(None))
            .outerjoin(Preceptor, Preceptor.id == Allocation.preceptor_id)
            .where(Preceptorship.status.in_(RUNNING)))


def _told(user: User | None, category: Category, message: str, link: str, key: str) -> int:
    return user is not None and notifications.notify(user, category, message, link, key=key) is not None


def due_soon(today: date) -> int:
    horizon = today + timedelta(days=_setting("REMINDER_DUE_SOON_DAYS"))
    rows = db.session.execute(
        _with_people(Milestone).join(Milestone, Milestone.preceptorship_id == Preceptorship.id)
        .where(Milestone.is_open(), Milestone.status != MilestoneStatus.WAITING,
               Milestone.due_date >= today, Milestone.due_date <= horizon)
        .order_by(Milestone.due_date, Milestone.id)).all()
    told = 0
    for milestone, preceptee, _ in rows:
        when = "today" if milestone.due_date == today else f"on {long_date(milestone.due_date)}"
        told += _told(preceptee, Category.MILESTONE, f"“{milestone.title}” is due {when}",
                      link_to("preceptee.milestone", milestone_id=milestone.id),
                      f"milestone-due:{milestone.id}:{milestone.due_date.isoformat()}")
    return told


def overdue(today: date) -> int:
    rows = db.session.execute(
        _with_people(Milestone).join(Milestone, Milestone.preceptorship_id == Preceptorship.id)
        .where(Milestone.is_open(), Milestone.due_date < today)
        .order_by(Milestone.due_date, Milestone.id)).all()
    told = 0
    for milestone, preceptee, preceptor in rows:
        due, key = long_date(milestone.due_date), f"milestone-overdue:{milestone.id}:{milestone.due_date.isoformat()}"
        told += _told(preceptee, Category.MILESTONE, f"“{milestone.title}” is overdue: it was due on {due}",
                      link_to("preceptee.milestone", milestone_id=milestone.id), key)
        told += _told(preceptor, Category.MILESTONE,
                      f"{preceptee.name}'s milestone “{milestone.title}” is overdue: it was due on {due}",
                      link_to("caseload.milestone", milestone_id=milestone.id), key)
    return told


def meetings_due(today: date) -> int:
    horizon = today + timedelta(days=_setting("REMINDER_MEETING_DAYS"))
    rows = db.session.execute(
        _with_people(Meeting).join(Meeting, Meeting.preceptorship_id == Preceptorship.id)
        .where(Meeting.held_on.is_(None), Meeting.scheduled_for >= today, Meeting.scheduled_for <= horizon)
        .order_by(Meeting.scheduled_for, Meeting.id)).all()
    told = 0
    for meeting, preceptee, preceptor in rows:
        kind = meeting.meeting_type.label
        when = "today" if meeting.scheduled_for == today else f"on {long_date(meeting.scheduled_for)}"
        key = f"meeting-due:{meeting.id}:{meeting.scheduled_for.isoformat()}"
        with_preceptor = f" with {preceptor.name}" if preceptor is not None else ""
        told += _told(preceptee, Category.MEETING, f"Your {kind[0].lower() + kind[1:]}{with_preceptor} is {when}",
                      link_to("preceptee.meetings_page"), key)
        told += _told(preceptor, Category.MEETING, f"{kind} with {preceptee.name} is {when}",
                      link_to("caseload.meetings", programme_id=meeting.preceptorship_id), key)
    return told


def working_days_after(day: date, today: date) -> int:
    """Working days (Monday to Friday) after `day`, up to and including `today`."""
    if today <= day:
        return 0
    whole_weeks, extra = divmod((today - day).days, 7)
    return whole_weeks * 5 + sum((day + timedelta(days=n)).weekday() < 5 for n in range(1, extra + 1))


def asked_before(today: date, working_days: int) -> datetime:
    """The moment (UTC) before which a request has waited more than `working_days` working
    days today: the start, in the trust's time zone, of the last day that has not."""
    day, counted = today, 0
    while True:
        counted += day.weekday() < 5
        if counted > working_days:
            return datetime.combine(day, time(), local_zone())
        day -= timedelta(days=1)


def reviews_waiting(today: date) -> int:
    remind, escalate = _setting("REVIEW_REMINDER_WORKING_DAYS"), _setting("REVIEW_ESCALATION_WORKING_DAYS")
    rows = db.session.execute(
        _with_people(SignOffRequest, Milestone, Preceptorship.department_id)
        .join(Milestone, Milestone.preceptorship_id == Preceptorship.id)
        .join(SignOffRequest, SignOffRequest.milestone_id == Milestone.id)
        # The milestone waits too (a decision needs both): its status leads PostgreSQL to the
        # few waiting milestones through an index instead of reading every milestone.
        .where(SignOffRequest.status == RequestStatus.WAITING, Milestone.status == MilestoneStatus.WAITING,
               SignOffRequest.requested_at < asked_before(today, remind))
        .order_by(SignOffRequest.requested_at, SignOffRequest.id)).all()
    late = [row for row in rows if working_days_after(local_date(row[0].requested_at), today) > escalate]
    leads = leads_covering({department_id for _, _, department_id, _, _ in late})
    told = 0
    for request, milestone, _, preceptee, preceptor in rows:
        told += _told(preceptor, Category.REVIEW,
                      f"{preceptee.name} has waited more than {remind} working days for you to sign off "
                      f"“{milestone.title}”", link_to("caseload.milestone", milestone_id=milestone.id),
                      f"review-waiting:{request.id}")
    for request, milestone, department_id, preceptee, preceptor in late:
        told += notifications.notify_all(
            [lead for lead in leads[department_id] if preceptor is None or lead.id != preceptor.id], Category.REVIEW,
            f"{preceptee.name} has waited more than {escalate} working days for "
            f"{preceptor.name if preceptor is not None else 'a preceptor'} to sign off “{milestone.title}”",
            link_to("lead.programme", programme_id=milestone.preceptorship_id), key=f"review-escalated:{request.id}")
    return told


def surveys_open(today: date) -> int:
    every = _setting("SURVEY_REMINDER_DAYS")
    rows = db.session.execute(
        sa.select(SurveyInvitation, User)
        .join(Preceptorship, Preceptorship.id == SurveyInvitation.preceptorship_id)
        .join(User, User.id == Preceptorship.preceptee_id)
        .where(SurveyInvitation.answered_on.is_(None), SurveyInvitation.opens_on <= today - timedelta(days=every),
               SurveyInvitation.closes_on > today, Preceptorship.status != ProgrammeStatus.PAUSED)
        .order_by(SurveyInvitation.closes_on, SurveyInvitation.id)).all()
    reminded = []
    for invitation, preceptee in rows:
        period = (today - invitation.opens_on).days // every
        last_day = long_date(invitation.closes_on - timedelta(days=1))
        if _told(preceptee, Category.SURVEY,
                 f"Reminder: the survey “{invitation.time_point.label}” is still open. Please answer it by {last_day}",
                 link_to("preceptee.survey", invitation_id=invitation.id),
                 f"survey-reminder:{invitation.id}:{period}"):
            reminded.append(invitation.id)
    if reminded:
        db.session.execute(sa.update(SurveyInvitation).where(SurveyInvitation.id.in_(reminded))
                           .values(reminders_sent=SurveyInvitation.reminders_sent + 1, last_reminded_on=today))
    return len(reminded)
