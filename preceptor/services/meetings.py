"""The meetings a programme should have (PRODUCT.md: initial within 2 weeks, a review every
2 months, mid-point, final) and how the recorded meetings meet them."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Meeting, MeetingType, Preceptorship, ProgrammeStatus
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
