"""Preceptee side of sign-off, as services: evidence, request, withdraw, resubmit, locks."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import (
    AuditEvent,
    EntryKind,
    LogEntry,
    MilestoneStatus,
    ProgrammeStatus,
    RequestStatus,
    Role,
)
from preceptor.services import programmes, signoff_requests
from preceptor.services.framework import install_default_framework
from preceptor.services.signoff_requests import SignOffRefused


@pytest.fixture
def programme(app, make):
    install_default_framework()
    preceptor = make.preceptor()
    return make.programme(start=date.today() - timedelta(days=60), preceptor=preceptor)


def entry(programme, title="Reflection") -> LogEntry:
    item = LogEntry(preceptorship=programme, author_id=programme.preceptee_id, kind=EntryKind.REFLECTION,
                    title=title, occurred_on=date.today(), what_happened="a", so_what="b", now_what="c")
    db.session.add(item)
    db.session.flush()
    return item


def first_milestone(programme):
    return sorted(programme_milestones(programme), key=lambda m: m.due_date)[1]


def programme_milestones(programme):
    from preceptor.models import Milestone
    return db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)).all()


def test_programme_gets_the_default_framework_with_due_dates_from_offsets(programme):
    milestones = sorted(programme_milestones(programme), key=lambda m: (m.due_date, m.id))
    assert len(milestones) == 12
    start = programme.start_date
    assert [(m.due_date - start).days for m in milestones][:3] == [0, 14, 28]
    assert (milestones[-1].due_date - start).days == 52 * 7


def test_linking_evidence_starts_the_milestone(programme):
    milestone = first_milestone(programme)
    item = entry(programme)
    signoff_requests.set_evidence(milestone, {item.id})
    assert milestone.status is MilestoneStatus.IN_PROGRESS
    assert signoff_requests.evidence_ids(milestone) == {item.id}
    signoff_requests.set_evidence(milestone, set())
    assert milestone.status is MilestoneStatus.NOT_STARTED


def test_evidence_must_be_the_preceptees_own(programme, make):
    other = make.programme()
    stranger_entry = entry(other, "Not mine")
    with pytest.raises(SignOffRefused, match="your own progress log"):
        signoff_requests.request_sign_off(first_milestone(programme), programme.preceptee, "Done", {stranger_entry.id})


def test_request_withdraw_and_ask_again(programme):
    milestone = first_milestone(programme)
    item = entry(programme)
    request = signoff_requests.request_sign_off(milestone, programme.preceptee, "I did it", {item.id})
    db.session.commit()
    assert milestone.status is MilestoneStatus.WAITING and request.status is RequestStatus.WAITING
    with pytest.raises(SignOffRefused, match="waiting for your preceptor"):
        signoff_requests.request_sign_off(milestone, programme.preceptee, "Again", {item.id})
    with pytest.raises(SignOffRefused, match="waiting for your preceptor"):
        signoff_requests.set_evidence(milestone, set())
    signoff_requests.withdraw(milestone)
    db.session.commit()
    assert request.status is RequestStatus.WITHDRAWN and milestone.status is MilestoneStatus.IN_PROGRESS
    with pytest.raises(SignOffRefused, match="no request waiting"):
        signoff_requests.withdraw(milestone)
    again = signoff_requests.request_sign_off(milestone, programme.preceptee, "Second go", {item.id})
    db.session.commit()
    assert again.id != request.id and milestone.status is MilestoneStatus.WAITING
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("milestone.request_sign_off") == 2 and "milestone.withdraw_request" in actions


def test_a_returned_milestone_can_be_resubmitted(programme):
    milestone = first_milestone(programme)
    request = signoff_requests.request_sign_off(milestone, programme.preceptee, "First", set())
    request.status, request.action_plan = RequestStatus.RETURNED, "Add a reflection"  # the preceptor's return
    request.decided_at = datetime.now(UTC)
    milestone.status = MilestoneStatus.RETURNED
    db.session.commit()
    assert signoff_requests.last_decision(milestone).action_plan == "Add a reflection"
    item = entry(programme)
    signoff_requests.request_sign_off(milestone, programme.preceptee, "Added the reflection", {item.id})
    assert milestone.status is MilestoneStatus.WAITING


def test_a_signed_off_milestone_is_locked(programme):
    milestone = first_milestone(programme)
    milestone.status = MilestoneStatus.SIGNED_OFF
    db.session.flush()
    with pytest.raises(SignOffRefused, match="signed off"):
        signoff_requests.request_sign_off(milestone, programme.preceptee, "Again", set())
    with pytest.raises(SignOffRefused, match="signed off"):
        signoff_requests.set_evidence(milestone, {entry(programme).id})
    with pytest.raises(SignOffRefused, match="already signed this milestone off"):
        signoff_requests.withdraw(milestone)


@pytest.mark.parametrize("summary, message", [("", "short summary"), ("x" * 2001, "2000 characters")])
def test_summary_is_required_and_capped(programme, summary, message):
    with pytest.raises(SignOffRefused, match=message):
        signoff_requests.request_sign_off(first_milestone(programme), programme.preceptee, summary, set())
    assert first_milestone(programme).status is MilestoneStatus.NOT_STARTED


def test_no_request_while_paused(programme):
    programmes.pause(programme, date.today(), "Sickness absence")
    with pytest.raises(SignOffRefused, match="not running"):
        signoff_requests.request_sign_off(first_milestone(programme), programme.preceptee, "Done", set())


def test_the_database_allows_one_waiting_request_per_milestone(programme):
    from sqlalchemy.exc import IntegrityError

    from preceptor.models import SignOffRequest
    milestone = first_milestone(programme)
    signoff_requests.request_sign_off(milestone, programme.preceptee, "One", set())
    db.session.commit()
    db.session.add(SignOffRequest(milestone_id=milestone.id, requested_by_id=programme.preceptee_id, summary="Two"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- due dates: pauses and extensions ------------------------------------------------------

def test_pause_stops_overdue_and_resume_moves_open_milestones(programme):
    today = date.today()
    milestones = sorted(programme_milestones(programme), key=lambda m: m.due_date)
    done, overdue, later = milestones[0], milestones[1], milestones[-1]
    done.status = MilestoneStatus.SIGNED_OFF
    before = {m.id: m.due_date for m in milestones}
    end_before = programme.planned_end_date
    assert programmes.is_overdue(overdue, programme, today)

    programmes.pause(programme, today - timedelta(days=20), "Sickness absence")
    assert programme.status is ProgrammeStatus.PAUSED
    assert not programmes.is_overdue(overdue, programme, today)

    days = programmes.resume(programme, today)
    assert days == 20 and programme.status is ProgrammeStatus.ACTIVE
    assert done.due_date == before[done.id]  # signed off: never moves
    assert overdue.due_date == before[overdue.id]  # due before the pause began: stays overdue
    assert later.due_date == before[later.id] + timedelta(days=20)
    assert programme.planned_end_date == end_before + timedelta(days=20)
    changes = [(c.from_status, c.to_status) for c in programme.status_changes]
    assert changes == [(ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED),
                       (ProgrammeStatus.PAUSED, ProgrammeStatus.ACTIVE)]


def test_extension_moves_the_end_milestones_only(programme):
    milestones = sorted(programme_milestones(programme), key=lambda m: m.due_date)
    before = {m.id: m.due_date for m in milestones}
    new_end = programme.planned_end_date + timedelta(days=90)
    programmes.extend(programme, new_end, "More supported practice in CT")
    assert programme.status is ProgrammeStatus.EXTENDED and programme.planned_end_date == new_end
    moved = {m.title for m in milestones if m.due_date != before[m.id]}
    assert moved == {"Final review and completion", "Feedback on the preceptor given",
                     "Eight reflective accounts over the year"}
    assert all(m.due_date - before[m.id] == timedelta(days=90) for m in milestones if m.title in moved)
    with pytest.raises(programmes.ProgrammeRefused, match="after the current one"):
        programmes.extend(programme, new_end, "Not later")


def test_six_month_programme_and_month_ends(make, app):
    assert programmes.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert programmes.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    short = make.programme(start=date(2026, 3, 1))
    assert short.planned_end_date == date(2027, 3, 1)
    six = programmes.start_preceptorship(make.user(Role.PRECEPTEE), short.department, date(2026, 3, 1), months=6)
    assert six.planned_end_date == date(2026, 9, 1)


def test_expected_meetings_for_a_year_and_for_six_months(make, app):
    from preceptor.models import Meeting, MeetingType
    from preceptor.services import meetings

    year = make.programme(start=date(2026, 1, 5))
    kinds = [(k.value, d.isoformat()) for k, d in meetings.expected_dates(year)]
    assert kinds == [("initial", "2026-01-19"), ("two_monthly", "2026-03-05"), ("two_monthly", "2026-05-05"),
                     ("mid_point", "2026-07-05"), ("two_monthly", "2026-09-05"), ("two_monthly", "2026-11-05"),
                     ("final", "2027-01-05")]
    six = programmes.start_preceptorship(make.user(Role.PRECEPTEE), year.department, date(2026, 1, 5), months=6)
    assert [k.value for k, _ in meetings.expected_dates(six)] == [
        "initial", "two_monthly", "mid_point", "two_monthly", "final"]
    db.session.add(Meeting(preceptorship=year, meeting_type=MeetingType.INITIAL, scheduled_for=date(2026, 1, 16),
                           held_on=date(2026, 1, 16)))
    db.session.flush()
    items = meetings.schedule(year)
    assert items[0].held and not items[1].held
    assert items[1].overdue(date(2026, 3, 6), year) and not items[1].overdue(date(2026, 3, 5), year)
