"""The preceptor books and records meetings: the service rules (each refusal changes nothing),
booking then recording, signing off the matching milestone in the same transaction, and the
pages (who may see them, bad input kept with its messages, good input saved and redirected)."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import (
    Allocation,
    AllocationEndReason,
    AuditEvent,
    Meeting,
    MeetingAction,
    MeetingType,
    Milestone,
    MilestoneStatus,
    ProgrammeStatus,
)
from preceptor.services import meetings as service
from preceptor.services.decisions import signed_request
from preceptor.services.framework import install_default_framework
from preceptor.services.meetings import MeetingRefused

from .factories import PASSWORD

TODAY = date.today()
START = TODAY - timedelta(days=100)  # the first two-monthly review is overdue


@pytest.fixture
def setting(make):
    install_default_framework()
    preceptor = make.preceptor()
    programme = make.programme(start=START, preceptor=preceptor)
    db.session.commit()
    return programme, preceptor


@pytest.fixture
def signed_in(client, setting):
    programme, preceptor = setting
    assert client.sign_in(preceptor.email, PASSWORD).status_code == 302
    return setting


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Meeting, MeetingAction, AuditEvent))


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def milestone(programme, key: str) -> Milestone:
    return next(m for m in db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id))
                if m.template.key == key)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def parts(name: str, day: date | None) -> dict:
    if day is None:
        return {f"{name}[{part}]": "" for part in ("day", "month", "year")}
    return {f"{name}[day]": str(day.day), f"{name}[month]": str(day.month), f"{name}[year]": str(day.year)}


def form(on: date, meeting_type: str = "initial", held: str = "yes", notes: str = "", actions=(), **extra) -> dict:
    """A browser's post of the meeting form; `actions` are (description, owner id, due) rows."""
    data = {"meeting_type": meeting_type, "held": held, "notes": notes, **parts("on", on), **extra}
    for index in range(3):
        description, owner_id, due = actions[index] if index < len(actions) else ("", None, None)
        data[f"actions-{index}-description"] = description
        if owner_id is not None:
            data[f"actions-{index}-owner"] = str(owner_id)
        data.update(parts(f"actions-{index}-due_on", due))
    return data


# --- the service ------------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, message", [
    ({"held_on": START - timedelta(days=1)}, "on", "on or after the programme start"),
    ({"held_on": TODAY + timedelta(days=1)}, "on", "today or in the past"),
    ({"held_on": None}, "on", "Enter the date of the meeting"),
    ({"notes": "x" * 5001}, "notes", "5,000 characters or fewer"),
    ({"actions": [("", "preceptee", TODAY)]}, "actions-0-description", "Enter what was agreed for action 1"),
    ({"actions": [("x" * 501, "preceptee", TODAY)]}, "actions-0-description", "500 characters or fewer"),
    ({"actions": [("Read the policy", "stranger", TODAY)]}, "actions-0-owner", "Select who will do action 1"),
    ({"actions": [("Read the policy", None, TODAY)]}, "actions-0-owner", "Select who will do action 1"),
    ({"actions": [("", None, None), ("Read", "preceptor", TODAY - timedelta(days=1))]}, "actions-1-due_on",
     "due date for action 2 must be on or after the meeting date"),
    ({"actions": [("Read the policy", "preceptor", None)]}, "actions-0-due_on", "Enter the due date for action 1"),
])
def test_recording_refuses_bad_input_and_changes_nothing(setting, make, change, field, message):
    programme, preceptor = setting
    stranger = make.preceptor()
    owners = {"preceptee": programme.preceptee_id, "preceptor": preceptor.id, "stranger": stranger.id, None: None}
    values = {"meeting_type": MeetingType.INITIAL, "held_on": TODAY, "notes": "Agreed goals", "actions": [], **change}
    values["actions"] = [(d, owners[who], due) for d, who, due in values["actions"]]
    db.session.commit()
    before = counts()
    with pytest.raises(MeetingRefused, match=message) as refused:
        service.record(None, programme, preceptor, **values)
    db.session.rollback()
    assert field in [name for name, _ in refused.value.problems]
    assert counts() == before


def test_recording_reports_every_problem_at_once(setting):
    programme, preceptor = setting
    with pytest.raises(MeetingRefused) as refused:
        service.record(None, programme, preceptor, meeting_type=MeetingType.AD_HOC, held_on=START - timedelta(days=1),
                       notes="x" * 5001, actions=[("", None, None), ("Read", None, None)])
    assert [name for name, _ in refused.value.problems] == ["on", "notes", "actions-1-owner", "actions-1-due_on"]


@pytest.mark.parametrize("on, status, message", [
    (START - timedelta(days=1), ProgrammeStatus.ACTIVE, "on or after the programme start"),
    (TODAY - timedelta(days=1), ProgrammeStatus.ACTIVE, "today or in the future"),
    (None, ProgrammeStatus.ACTIVE, "Enter the date of the meeting"),
    (TODAY + timedelta(days=7), ProgrammeStatus.COMPLETED, "only be booked while the programme is running"),
])
def test_booking_refuses_bad_input_and_changes_nothing(setting, on, status, message):
    programme, preceptor = setting
    programme.status = status
    db.session.commit()
    before = counts()
    with pytest.raises(MeetingRefused, match=message):
        service.book(programme, preceptor, MeetingType.INITIAL, on)
    db.session.rollback()
    assert counts() == before


def test_only_the_current_preceptor_books_or_records(setting, make):
    programme, _ = setting
    other = make.preceptor()
    db.session.commit()
    before = counts()
    with pytest.raises(MeetingRefused, match="current preceptor"):
        service.book(programme, other, MeetingType.INITIAL, TODAY)
    with pytest.raises(MeetingRefused, match="current preceptor"):
        service.record(None, programme, other, meeting_type=MeetingType.INITIAL, held_on=TODAY, notes="", actions=[])
    db.session.rollback()
    assert counts() == before


def test_booking_then_recording_fills_the_schedule_and_the_audit_log(setting):
    programme, preceptor = setting
    booked = service.book(programme, preceptor, MeetingType.INITIAL, TODAY + timedelta(days=3))
    db.session.commit()
    initial = service.schedule(programme)[0]
    assert initial.meeting_type is MeetingType.INITIAL and initial.meeting.id == booked.id and not initial.held
    assert audit("meeting.book")[-1].details == {"meeting": booked.id, "type": "initial",
                                                  "scheduled_for": (TODAY + timedelta(days=3)).isoformat(),
                                                  "actions": 0}

    recorded = service.record(booked, programme, preceptor, meeting_type=MeetingType.INITIAL, held_on=TODAY,
                              notes="  Talked about CT  ", actions=[
                                  ("Book the CT course", programme.preceptee_id, TODAY + timedelta(days=30)),
                                  ("", None, None),
                                  ("Arrange shadowing", preceptor.id, TODAY + timedelta(days=14))])
    db.session.commit()
    assert recorded.id == booked.id and recorded.held_on == TODAY and recorded.notes == "Talked about CT"
    assert recorded.scheduled_for == TODAY + timedelta(days=3)  # the booking is kept
    assert sorted((a.description, a.owner_id) for a in recorded.actions) == [
        ("Arrange shadowing", preceptor.id), ("Book the CT course", programme.preceptee_id)]
    assert service.schedule(programme)[0].held
    event = audit("meeting.record")[-1]
    assert event.preceptorship_id == programme.id and event.actor_id == preceptor.id
    assert event.details == {"meeting": booked.id, "type": "initial", "held_on": TODAY.isoformat(), "actions": 2}


def test_correcting_a_record_keeps_unchanged_actions_and_deletes_dropped_ones(setting):
    programme, preceptor = setting
    due = TODAY + timedelta(days=10)
    meeting = service.record(None, programme, preceptor, meeting_type=MeetingType.AD_HOC, held_on=TODAY, notes="",
                             actions=[("Keep me", preceptor.id, due), ("Drop me", preceptor.id, due)])
    db.session.commit()
    kept = next(a for a in meeting.actions if a.description == "Keep me")
    kept.done_on = TODAY
    db.session.commit()
    service.record(meeting, programme, preceptor, meeting_type=MeetingType.AD_HOC, held_on=TODAY, notes="Fixed",
                   actions=[("Keep me", programme.preceptee_id, due), ("New one", preceptor.id, due)])
    db.session.commit()
    actions = {a.description: a for a in db.session.scalars(select(MeetingAction))}
    assert set(actions) == {"Keep me", "New one"}
    assert actions["Keep me"].id == kept.id and actions["Keep me"].done_on == TODAY
    assert actions["Keep me"].owner_id == programme.preceptee_id


def test_completable_milestone_matches_the_type_until_signed_off(setting):
    programme, _ = setting
    initial = milestone(programme, "initial-meeting")
    assert service.completable_milestone(programme, MeetingType.INITIAL).id == initial.id
    assert service.completable_milestone(programme, MeetingType.TWO_MONTHLY).template.key == "first-review"
    assert service.completable_milestone(programme, MeetingType.MID_POINT).template.key == "mid-point-review"
    assert service.completable_milestone(programme, MeetingType.AD_HOC) is None
    initial.status = MilestoneStatus.SIGNED_OFF
    db.session.commit()
    assert service.completable_milestone(programme, MeetingType.INITIAL) is None


# --- the pages --------------------------------------------------------------------------------

def paths(programme, meeting_id: int = 1) -> list[str]:
    base = f"/preceptor/preceptees/{programme.id}/meetings"
    return [base, f"{base}/new", f"{base}/{meeting_id}"]


def test_the_current_preceptor_sees_the_schedule_and_the_records(client, signed_in):
    programme, preceptor = signed_in
    service.record(None, programme, preceptor, meeting_type=MeetingType.INITIAL, held_on=START + timedelta(days=10),
                   notes="Agreed three goals", actions=[("Read the IR(ME)R policy", programme.preceptee_id,
                                                         START + timedelta(days=20))])
    db.session.commit()
    response = client.get(paths(programme)[0])
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Expected meetings" in page and "Two-monthly review" in page and "Overdue" in page
    assert f"Held {(START + timedelta(days=10)).day} " in page
    assert "Agreed three goals" in page
    assert f"Read the IR(ME)R policy ({programme.preceptee.name}, by" in page
    assert "Book or record a meeting" in page
    for path in paths(programme)[1:2]:
        assert client.get(path).status_code == 200


def test_the_preceptee_sees_the_same_schedule_and_records(client, setting):
    programme, preceptor = setting
    service.record(None, programme, preceptor, meeting_type=MeetingType.INITIAL, held_on=TODAY, notes="Goals agreed",
                   actions=[("Shadow a CT list", preceptor.id, TODAY + timedelta(days=7))])
    db.session.commit()
    client.sign_in(programme.preceptee.email, PASSWORD)
    page = text_of(client.get("/preceptee/meetings").get_data(as_text=True))
    assert "Expected meetings" in page and "Goals agreed" in page
    assert f"Shadow a CT list ({preceptor.name}, by" in page
    assert "Book or record" not in page  # the preceptor's links are theirs alone


def test_another_preceptor_gets_not_found(client, setting, make):
    programme, _ = setting
    other = make.preceptor()
    db.session.commit()
    client.sign_in(other.email, PASSWORD)
    for path in paths(programme):
        assert client.get(path).status_code == 404, path
    assert client.submit(paths(programme)[1], form(TODAY), token_from="/preceptor/").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_a_past_preceptor_gets_not_found(client, setting, make):
    programme, preceptor = setting
    meeting = service.record(None, programme, preceptor, meeting_type=MeetingType.INITIAL, held_on=TODAY, notes="",
                             actions=[])
    allocation = db.session.scalar(select(Allocation).where(Allocation.preceptorship_id == programme.id))
    allocation.ends_on, allocation.end_reason = TODAY, AllocationEndReason.LEAVE
    db.session.flush()
    db.session.add(Allocation(preceptorship=programme, preceptor=make.preceptor(), starts_on=TODAY))
    db.session.commit()
    client.sign_in(preceptor.email, PASSWORD)
    for path in paths(programme, meeting.id):
        assert client.get(path).status_code == 404, path


def test_a_meeting_of_another_programme_is_not_found(client, signed_in, make):
    programme, preceptor = signed_in
    theirs = make.programme(preceptor=make.preceptor())
    other_meeting = Meeting(preceptorship_id=theirs.id, meeting_type=MeetingType.INITIAL, scheduled_for=TODAY)
    db.session.add(other_meeting)
    db.session.commit()
    assert client.get(paths(programme, other_meeting.id)[2]).status_code == 404
    assert client.get(paths(programme, 999999)[2]).status_code == 404


def test_a_date_before_the_start_is_refused_with_the_input_kept(client, signed_in):
    programme, preceptor = signed_in
    path = paths(programme)[1]
    before = counts()
    response = client.submit(path, form(START - timedelta(days=1), notes="We met early",
                                        actions=[("Read the policy", programme.preceptee_id, TODAY)]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "nhsuk-error-summary" in html and html.count("on or after the programme start") == 2  # summary and field
    assert 'href="#on-day"' in html
    assert "We met early" in html and 'value="Read the policy"' in html
    assert f'value="{(START - timedelta(days=1)).day}"' in html
    assert re.search(r'value="initial"\s+checked', html)
    assert "<title>Error:" in html
    assert counts() == before


def test_form_errors_name_the_action_row_and_link_to_it(client, signed_in):
    programme, _ = signed_in
    response = client.submit(paths(programme)[1], form(TODAY, actions=[("", None, None), ("Read", None, None)]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="#actions-1-owner"' in html and "Select who will do action 2" in html
    assert 'href="#actions-1-due_on-day"' in html
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_booking_with_notes_is_refused_rather_than_dropping_them(client, signed_in):
    programme, _ = signed_in
    response = client.submit(paths(programme)[1], form(TODAY + timedelta(days=5), held="no", notes="Agenda"))
    assert response.status_code == 200
    assert "Notes and agreed actions are for a meeting that has happened" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_recording_a_meeting_saves_it_and_redirects(client, signed_in):
    programme, preceptor = signed_in
    path = paths(programme)[1]
    response = client.submit(path, form(TODAY, meeting_type="ad_hoc", notes="Check-in about rota",
                                        actions=[("Swap the Friday list", preceptor.id, TODAY + timedelta(days=3))]))
    assert response.status_code == 302 and response.headers["Location"] == paths(programme)[0]
    meeting = db.session.scalar(select(Meeting))
    assert (meeting.meeting_type, meeting.held_on, meeting.notes) == (MeetingType.AD_HOC, TODAY, "Check-in about rota")
    assert [(a.description, a.owner_id) for a in meeting.actions] == [("Swap the Friday list", preceptor.id)]
    assert "Ad hoc meeting on" in client.get(paths(programme)[0]).get_data(as_text=True)


def test_recording_the_initial_meeting_with_confirmation_signs_off_its_milestone(client, signed_in):
    programme, preceptor = signed_in
    initial = milestone(programme, "initial-meeting")
    page = client.get(paths(programme)[1]).get_data(as_text=True)
    assert f"Also sign off the milestone “{initial.title}”" in page
    response = client.submit(paths(programme)[1], form(START + timedelta(days=12), notes="Goals agreed",
                                                       sign_off="initial"))
    assert response.status_code == 302
    meeting = db.session.scalar(select(Meeting))
    db.session.refresh(initial)
    assert initial.status is MilestoneStatus.SIGNED_OFF
    request = signed_request(initial)
    assert request.decided_by_id == preceptor.id
    assert request.evidence_snapshot[-1]["meeting"] == meeting.id
    assert request.evidence_snapshot[-1]["notes"] == "Goals agreed"
    assert [e.details["meeting"] for e in audit("meeting.record")] == [meeting.id]
    assert [e.details["milestone"] for e in audit("milestone.sign_off")] == [initial.id]
    assert "is signed off" in client.get(paths(programme)[0]).get_data(as_text=True)


@pytest.mark.parametrize("extra", [{}, {"sign_off": "mid_point"}])
def test_without_confirmation_for_its_type_the_milestone_is_unchanged(client, signed_in, extra):
    programme, _ = signed_in
    initial = milestone(programme, "initial-meeting")
    before = (initial.status, initial.version)
    response = client.submit(paths(programme)[1], form(START + timedelta(days=12), **extra))
    assert response.status_code == 302
    db.session.refresh(initial)
    assert (initial.status, initial.version) == before
    assert audit("milestone.sign_off") == [] and len(audit("meeting.record")) == 1


def test_booking_ignores_the_sign_off_box_and_recording_it_later_signs_off(client, signed_in):
    programme, _ = signed_in
    response = client.submit(paths(programme)[1], form(TODAY + timedelta(days=2), held="no", sign_off="initial"))
    assert response.status_code == 302
    meeting = db.session.scalar(select(Meeting))
    assert meeting.held_on is None and audit("milestone.sign_off") == []
    edit = paths(programme, meeting.id)[2]
    page = client.get(edit).get_data(as_text=True)
    assert "Record or move the initial meeting" in page
    response = client.submit(edit, {**form(TODAY, sign_off="initial"), "version": meeting.version})
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert meeting.held_on == TODAY
    assert milestone(programme, "initial-meeting").status is MilestoneStatus.SIGNED_OFF


def test_correcting_a_held_meeting_does_not_ask_whether_it_happened(client, signed_in):
    programme, preceptor = signed_in
    meeting = service.record(None, programme, preceptor, meeting_type=MeetingType.AD_HOC, held_on=TODAY, notes="Old",
                             actions=[])
    db.session.commit()
    edit = paths(programme, meeting.id)[2]
    page = client.get(edit).get_data(as_text=True)
    assert "Has this meeting happened?" not in page and "Old" in page
    data = {**form(TODAY, meeting_type="ad_hoc", notes="New"), "version": meeting.version}
    del data["held"]
    assert client.submit(edit, data).status_code == 302
    db.session.refresh(meeting)
    assert meeting.notes == "New"
    assert len(audit("meeting.record")) == 2


def test_a_booked_meeting_can_be_moved_to_another_day(client, signed_in):
    programme, preceptor = signed_in
    booked = service.book(programme, preceptor, MeetingType.TWO_MONTHLY, TODAY + timedelta(days=2))
    db.session.commit()
    response = client.submit(paths(programme, booked.id)[2],
                             {**form(TODAY + timedelta(days=9), "two_monthly", held="no"), "version": booked.version})
    assert response.status_code == 302
    db.session.refresh(booked)
    assert (booked.scheduled_for, booked.held_on) == (TODAY + timedelta(days=9), None)
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 1
    assert [e.details["scheduled_for"] for e in audit("meeting.book")] == [
        (TODAY + timedelta(days=2)).isoformat(), (TODAY + timedelta(days=9)).isoformat()]


def test_a_refused_sign_off_saves_nothing_of_the_meeting_either(client, signed_in, monkeypatch):
    """Record and sign-off are one transaction: if the sign-off is refused, so is the record."""
    from preceptor.services import decisions
    from preceptor.services.signoff_requests import SignOffRefused

    def refuse(*args):
        raise SignOffRefused("Someone else decided on this milestone first")

    programme, _ = signed_in
    monkeypatch.setattr(decisions, "sign_off_at_meeting", refuse)
    before = counts()
    response = client.submit(paths(programme)[1], form(TODAY, notes="Kept on the page", sign_off="initial"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Someone else decided on this milestone first" in html and "Kept on the page" in html
    assert counts() == before


def test_a_second_tab_or_a_double_click_changes_nothing_twice(client, signed_in):
    programme, preceptor = signed_in
    data = form(START + timedelta(days=12), notes="Goals agreed")
    assert client.submit(paths(programme)[1], data).status_code == 302
    again = client.submit(paths(programme)[1], data)
    assert again.status_code == 200 and "already recorded" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 1

    meeting = db.session.scalar(select(Meeting))
    edit = paths(programme, meeting.id)[2]
    first = {**form(START + timedelta(days=12), notes="From tab one"), "version": meeting.version}
    second = {**form(START + timedelta(days=12), notes="From tab two"), "version": meeting.version}
    for data in (first, second):
        del data["held"]
    assert client.submit(edit, first).status_code == 302
    stale = client.submit(edit, second)
    assert "changed since you opened the page" in stale.get_data(as_text=True)
    assert "From tab two" in stale.get_data(as_text=True)  # kept on the page
    db.session.refresh(meeting)
    assert meeting.notes == "From tab one"


def test_tampered_owner_and_field_names_are_refused_not_errors(client, signed_in):
    programme, _ = signed_in
    data = form(TODAY, actions=[("Read the policy", None, TODAY)])
    data["actions-0-owner"] = "²"
    data["actions-²-description"] = "odd"
    response = client.submit(paths(programme)[1], data)
    assert response.status_code == 200 and "There is a problem" in response.get_data(as_text=True)
