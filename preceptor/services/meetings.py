"""The meetings a programme should have (PRODUCT.md: initial within 2 weeks, a review every
2 months, mid-point, final), how the recorded meetings meet them, and the preceptor booking
and recording them. Recording the meeting that is a milestone's substance lets the preceptor
sign that milestone off in the same transaction (`decisions.sign_off_at_meeting`)."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Meeting,
    MeetingAction,
    MeetingType,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Preceptorship,
    ProgrammeStatus,
    User,
)
from . import audit
from .decisions import is_current_preceptor
from .programmes import add_months


@dataclass(frozen=True)
class ExpectedMeeting:
    meeting_type: MeetingType
    due: date
    meeting: Meeting | None  # the recorded meeting that meets it, held or scheduled

    @property
    def held(self) -> bool:
        return self.meeting is not None and self.meeting.held_on is not None

    def overdue(self, today: date, programme: Preceptorship) -> bool:
        return not self.held and self.due < today and programme.status is not ProgrammeStatus.PAUSED


def expected_dates(programme: Preceptorship) -> list[tuple[MeetingType, date]]:
    """Initial at 2 weeks; then every 2 months a review, the one at half-way being the
    mid-point; the final review at the planned end (which pauses and extensions move)."""
    start, end = programme.start_date, programme.planned_end_date
    months = max(2, round((end - start).days / 30.44))
    schedule = [(MeetingType.INITIAL, start + timedelta(weeks=2))]
    midpoint = months // 2
    for month in range(2, months, 2):
        schedule.append((MeetingType.MID_POINT if month == midpoint else MeetingType.TWO_MONTHLY,
                         add_months(start, month)))
    if midpoint % 2:  # an odd half-way month (e.g. 3 of 6) is not on the two-monthly grid
        schedule.append((MeetingType.MID_POINT, add_months(start, midpoint)))
    schedule.append((MeetingType.FINAL, end))
    return sorted(schedule, key=lambda item: item[1])


def meetings_of(programme_id: int) -> list[Meeting]:
    return list(db.session.scalars(select(Meeting).where(Meeting.preceptorship_id == programme_id)
                                   .options(selectinload(Meeting.actions))
                                   .order_by(Meeting.scheduled_for, Meeting.id)))


def schedule(programme: Preceptorship, meetings: list[Meeting] | None = None) -> list[ExpectedMeeting]:
    """Each expected meeting with the recorded meeting of the same type that meets it, in order."""
    meetings = meetings_of(programme.id) if meetings is None else meetings
    pools = {t: [m for m in meetings if m.meeting_type is t] for t in MeetingType}
    return [ExpectedMeeting(kind, due, pools[kind].pop(0) if pools[kind] else None)
            for kind, due in expected_dates(programme)]


# --- booking and recording (the preceptor's side) ---------------------------------------------

NOTES_MAX = 5000
ACTION_MAX = 500
MAX_ACTIONS = 3  # what the form offers: enough for a focused meeting, few enough to follow up

Problem = tuple[str | None, str]  # (form field at fault, or None for the whole form; message)
ActionRow = tuple[str, int | None, date | None]  # (description, owner's user id, due on)


class MeetingRefused(Exception):
    """Input that breaks a meeting rule. `problems` holds every one found, each with the meeting
    form's name for the field at fault, so a form can show them all beside their fields."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(problems[0][1])


def _refuse_unless_current(programme: Preceptorship, preceptor: User, meeting: Meeting | None) -> None:
    if not is_current_preceptor(programme.id, preceptor.id):
        raise MeetingRefused([(None, "Only the preceptee's current preceptor can book or record their meetings")])
    if meeting is not None and meeting.preceptorship_id != programme.id:
        raise MeetingRefused([(None, "This meeting belongs to another programme")])


def _date_problems(programme: Preceptorship, on: date | None, *, held: bool, today: date) -> list[Problem]:
    if on is None:
        return [("on", "Enter the date of the meeting")]
    if on < programme.start_date:
        return [("on", f"The date of the meeting must be on or after the programme start, "
                       f"{programme.start_date.day} {programme.start_date:%B %Y}")]
    if held and on > today:
        return [("on", "The date of a meeting that has happened must be today or in the past")]
    if not held and on < today:
        return [("on", "The date of a meeting you book must be today or in the future. "
                       "If it has happened, record it instead")]
    return []


def _action_problems(actions: list[ActionRow], owners: set[int], held_on: date | None) -> list[Problem]:
    """Rows are numbered as the form shows them; wholly blank rows are unused and pass."""
    problems = []
    for index, (description, owner_id, due_on) in enumerate(actions):
        if not description and owner_id is None and due_on is None:
            continue
        n, field = index + 1, f"actions-{index}-"
        if not description:
            problems.append((field + "description", f"Enter what was agreed for action {n}"))
        elif len(description) > ACTION_MAX:
            problems.append((field + "description", f"Action {n} must be {ACTION_MAX} characters or fewer"))
        if owner_id not in owners:
            problems.append((field + "owner", f"Select who will do action {n}: the preceptee or the preceptor"))
        if due_on is None:
            problems.append((field + "due_on", f"Enter the due date for action {n}"))
        elif held_on is not None and due_on < held_on:
            problems.append((field + "due_on", f"The due date for action {n} must be on or after the meeting date"))
    return problems


def _already(programme: Preceptorship, meeting_type: MeetingType, **on) -> bool:
    """A meeting of this type on this day exists: a second identical post (a double click, a
    second tab) must not make a second meeting."""
    return db.session.scalar(select(Meeting.id).where(
        Meeting.preceptorship_id == programme.id, Meeting.meeting_type == meeting_type,
        *(getattr(Meeting, column) == day for column, day in on.items())).limit(1)) is not None


def book(programme: Preceptorship, preceptor: User, meeting_type: MeetingType, scheduled_for: date | None, *,
         meeting: Meeting | None = None, today: date | None = None) -> Meeting:
    """Book a meeting for later (or move a booked `meeting` to another date or type), so the
    schedule shows it as booked. Only while the programme runs. The caller commits."""
    today = today or date.today()
    _refuse_unless_current(programme, preceptor, meeting)
    if meeting is not None and meeting.held_on is not None:
        raise MeetingRefused([(None, "This meeting has already been recorded as held")])
    problems = _date_problems(programme, scheduled_for, held=False, today=today)
    if not programme.status.is_running:
        problems.insert(0, (None, f"Meetings can only be booked while the programme is running: "
                                  f"it is {programme.status.label.lower()}"))
    if meeting is None and not problems and _already(programme, meeting_type, scheduled_for=scheduled_for):
        problems.append((None, f"A {meeting_type.label.lower()} is already booked for that day"))
    if problems:
        raise MeetingRefused(problems)
    if meeting is None:
        meeting = Meeting(preceptorship_id=programme.id)
        db.session.add(meeting)
    meeting.meeting_type, meeting.scheduled_for, meeting.recorded_by_id = meeting_type, scheduled_for, preceptor.id
    db.session.flush()
    audit.record("meeting.book", meeting, actor_id=preceptor.id, preceptorship_id=programme.id,
                 details={"meeting": meeting.id, "type": meeting_type.value,
                          "scheduled_for": scheduled_for.isoformat(), "actions": 0})
    return meeting


def record(meeting: Meeting | None, programme: Preceptorship, preceptor: User, *, meeting_type: MeetingType,
           held_on: date | None, notes: str, actions: list[ActionRow], today: date | None = None) -> Meeting:
    """Record a meeting as held: a new one, a booked one, or a correction of one already held.

    Action owners are the preceptee and the preceptor (plus whoever already owns one of this
    meeting's actions, so a correction after a reallocation still saves). An action kept with
    the same wording keeps its done date. Checks everything before changing anything; the
    caller commits, and signs off a milestone in the same transaction if the preceptor says so.
    """
    today = today or date.today()
    _refuse_unless_current(programme, preceptor, meeting)
    notes = (notes or "").strip()
    actions = [((description or "").strip(), owner_id, due_on) for description, owner_id, due_on in actions]
    owners = {programme.preceptee_id, preceptor.id} | {a.owner_id for a in (meeting.actions if meeting else [])}
    problems = _date_problems(programme, held_on, held=True, today=today)
    meeting_date = None if problems else held_on  # due dates are checked against a valid date only
    if len(notes) > NOTES_MAX:
        problems.append(("notes", f"Notes must be {NOTES_MAX:,} characters or fewer"))
    if sum(1 for row in actions if any(row)) > MAX_ACTIONS:
        problems.append((None, f"Record at most {MAX_ACTIONS} agreed actions"))
    problems += _action_problems(actions, owners, meeting_date)
    if meeting is None and meeting_date and _already(programme, meeting_type, held_on=meeting_date):
        problems.append((None, f"A {meeting_type.label.lower()} held that day is already recorded: "
                               "change that record instead"))
    if problems:
        raise MeetingRefused(problems)

    if meeting is None:
        meeting = Meeting(preceptorship_id=programme.id, scheduled_for=held_on)
        db.session.add(meeting)
    meeting.meeting_type, meeting.held_on, meeting.notes = meeting_type, held_on, notes
    meeting.recorded_by_id = preceptor.id
    existing = {action.description: action for action in meeting.actions}
    kept = []
    for description, owner_id, due_on in actions:
        if description:
            action = existing.pop(description, None) or MeetingAction(description=description)
            action.owner_id, action.due_on = owner_id, due_on
            kept.append(action)
    meeting.actions = kept  # rows left out are deleted (delete-orphan)
    db.session.flush()
    audit.record("meeting.record", meeting, actor_id=preceptor.id, preceptorship_id=programme.id,
                 details={"meeting": meeting.id, "type": meeting_type.value, "held_on": held_on.isoformat(),
                          "actions": len(kept)})
    return meeting


def completable_milestones(programme: Preceptorship) -> dict[MeetingType, Milestone]:
    """For each meeting type, the programme's earliest milestone that such a meeting completes
    and that is not signed off yet (the first two-monthly review completes only the first)."""
    rows = db.session.execute(
        select(MilestoneTemplate.completed_by_meeting, Milestone).select_from(Milestone).join(Milestone.template)
        .where(Milestone.preceptorship_id == programme.id, MilestoneTemplate.completed_by_meeting.is_not(None),
               Milestone.status != MilestoneStatus.SIGNED_OFF)
        .order_by(Milestone.due_date.desc(), Milestone.id.desc()))
    return {kind: milestone for kind, milestone in rows}  # the earliest of each type is written last and wins


def completable_milestone(programme: Preceptorship, meeting_type: MeetingType) -> Milestone | None:
    """The milestone recording this type of meeting completes, once the preceptor confirms."""
    return completable_milestones(programme).get(meeting_type)
