"""Preceptor side of sign-off, as services: sign off, return, reopen, the lock, bulk, races."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from preceptor.extensions import db
from preceptor.models import (
    Allocation,
    AllocationEndReason,
    AuditEvent,
    LogEntry,
    Meeting,
    MeetingType,
    Milestone,
    MilestoneStatus,
    RequestStatus,
    Role,
    SignOffRequest,
    User,
)
from preceptor.services import decisions, signoff_requests
from preceptor.services.decisions import BulkItem
from preceptor.services.signoff_requests import SignOffRefused
from tests.factories import Make


def milestones(programme) -> list[Milestone]:
    return list(db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                                   .order_by(Milestone.due_date, Milestone.id)))


def waiting(programme, n: int = 1, title: str = "My reflection") -> Milestone:
    """The n-th milestone with one reflection attached and sign-off requested."""
    return Make().sign_off_request(programme, n, title)


def audit_actions(programme) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.preceptorship_id == programme.id)
                                   .order_by(AuditEvent.id)))


def test_sign_off_locks_the_milestone_with_who_when_comment_and_evidence(setting):
    programme, preceptor = setting
    milestone = waiting(programme)
    request = decisions.sign_off(milestone, preceptor, "  Thoughtful work  ", version=milestone.version)
    db.session.commit()
    assert milestone.status is MilestoneStatus.SIGNED_OFF
    assert request.status is RequestStatus.SIGNED_OFF
    assert request.decided_by_id == preceptor.id and request.decided_at is not None
    assert request.comment == "Thoughtful work"
    assert [item["title"] for item in request.evidence_snapshot] == ["My reflection"]
    assert request.evidence_snapshot[0]["what_happened"] == "Scan"
    assert audit_actions(programme)[-1] == "milestone.sign_off"
    with pytest.raises(SignOffRefused, match="signed off and can no longer be changed"):
        signoff_requests.set_evidence(milestone, set())
    with pytest.raises(SignOffRefused, match="already been signed off"):
        decisions.sign_off(milestone, preceptor)


def test_snapshot_is_unchanged_when_the_log_entry_is_edited_later(setting):
    programme, preceptor = setting
    milestone = waiting(programme, title="Before the edit")
    decisions.sign_off(milestone, preceptor)
    db.session.commit()
    entry = db.session.scalar(select(LogEntry).where(LogEntry.preceptorship_id == programme.id))
    entry.title, entry.what_happened = "After the edit", "Rewritten"
    db.session.commit()
    request = decisions.signed_request(milestone)
    db.session.refresh(request)
    assert request.evidence_snapshot[0]["title"] == "Before the edit"
    assert request.evidence_snapshot[0]["what_happened"] == "Scan"


def test_return_needs_an_action_plan_and_changes_nothing_without_one(setting):
    programme, preceptor = setting
    milestone = waiting(programme)
    before = (milestone.status, milestone.version, len(audit_actions(programme)))
    for plan, message in (("", "Write an action plan"), ("   ", "Write an action plan"),
                          ("x" * 2001, "2,000 characters or fewer")):
        with pytest.raises(SignOffRefused, match=message):
            decisions.return_with_plan(milestone, preceptor, plan)
    db.session.rollback()
    assert (milestone.status, milestone.version, len(audit_actions(programme))) == before

    request = decisions.return_with_plan(milestone, preceptor, "Add a reflection on feedback")
    db.session.commit()
    assert milestone.status is MilestoneStatus.RETURNED and request.status is RequestStatus.RETURNED
    assert request.action_plan == "Add a reflection on feedback"
    assert audit_actions(programme)[-1] == "milestone.return"


def test_comment_over_the_cap_is_refused(setting):
    programme, preceptor = setting
    milestone = waiting(programme)
    with pytest.raises(SignOffRefused, match="Comment must be 2,000"):
        decisions.sign_off(milestone, preceptor, "x" * 2001)
    assert milestone.status is MilestoneStatus.WAITING


def test_only_the_current_preceptor_may_decide(setting, make):
    programme, preceptor = setting
    milestone = waiting(programme)
    stranger = make.preceptor()
    with pytest.raises(SignOffRefused, match="current preceptor"):
        decisions.sign_off(milestone, stranger)
    # The allocation ends: the past preceptor is refused, the new one may decide.
    allocation = db.session.scalar(select(Allocation).where(Allocation.preceptorship_id == programme.id))
    allocation.ends_on, allocation.end_reason = date.today(), AllocationEndReason.LEAVE
    db.session.flush()
    successor = make.preceptor()
    db.session.add(Allocation(preceptorship=programme, preceptor=successor, starts_on=date.today()))
    db.session.commit()
    with pytest.raises(SignOffRefused, match="current preceptor"):
        decisions.return_with_plan(milestone, preceptor, "Plan")
    with pytest.raises(SignOffRefused, match="current preceptor"):
        decisions.sign_off(milestone, programme.preceptee)
    decisions.sign_off(milestone, successor)
    db.session.commit()
    assert milestone.status is MilestoneStatus.SIGNED_OFF


def test_acting_on_a_withdrawn_request_or_a_stale_form_is_refused(setting):
    programme, preceptor = setting
    milestone = waiting(programme)
    stale_version = milestone.version
    request = signoff_requests.waiting_request(milestone)
    seen = decisions.fingerprint(decisions.snapshot(request))
    entry = db.session.scalar(select(LogEntry).where(LogEntry.preceptorship_id == programme.id))
    entry.so_what = "Edited after the preceptor opened the page"
    db.session.commit()
    with pytest.raises(SignOffRefused, match="evidence was edited"):
        decisions.sign_off(milestone, preceptor, seen=seen)
    signoff_requests.withdraw(milestone)
    db.session.commit()
    with pytest.raises(SignOffRefused, match="no longer waiting"):
        decisions.sign_off(milestone, preceptor)
    signoff_requests.request_sign_off(milestone, programme.preceptee, "Again", {entry.id})
    db.session.commit()
    with pytest.raises(SignOffRefused, match="changed since you opened"):
        decisions.sign_off(milestone, preceptor, version=stale_version)


def test_reopen_by_the_signer_keeps_the_old_sign_off_in_the_history(setting):
    programme, preceptor = setting
    milestone = waiting(programme)
    first = decisions.sign_off(milestone, preceptor, "Good")
    db.session.commit()
    with pytest.raises(SignOffRefused, match="reason"):
        decisions.reopen(milestone, preceptor, "  ")
    decisions.reopen(milestone, preceptor, "Signed the wrong milestone")
    db.session.commit()
    assert milestone.status is MilestoneStatus.IN_PROGRESS  # its evidence is still linked
    assert first.status is RequestStatus.SIGNED_OFF and first.reopen_reason == "Signed the wrong milestone"
    assert first.reopened_by_id == preceptor.id
    with pytest.raises(SignOffRefused, match="not signed off"):
        decisions.reopen(milestone, preceptor, "Again")
    # Asked and signed again: two sign-offs in the history, one of them reopened.
    entry_ids = signoff_requests.evidence_ids(milestone)
    signoff_requests.request_sign_off(milestone, programme.preceptee, "Again", entry_ids)
    decisions.sign_off(milestone, preceptor)
    db.session.commit()
    signed = db.session.scalars(select(SignOffRequest).where(SignOffRequest.milestone_id == milestone.id,
                                                             SignOffRequest.status == RequestStatus.SIGNED_OFF))
    assert sorted(r.reopened_at is None for r in signed) == [False, True]
    assert audit_actions(programme)[-3:] == ["milestone.reopen", "milestone.request_sign_off", "milestone.sign_off"]


def test_who_may_reopen(setting, make):
    programme, preceptor = setting
    milestone = waiting(programme)
    decisions.sign_off(milestone, preceptor)
    db.session.commit()
    other_lead = make.user(Role.EDUCATION_LEAD)
    other_lead.lead_departments.append(make.department())
    for refused in (make.preceptor(), programme.preceptee, other_lead):
        with pytest.raises(SignOffRefused, match="Only the preceptor who signed"):
            decisions.reopen(milestone, refused, "Reason")
    lead = make.user(Role.EDUCATION_LEAD)
    lead.lead_departments.append(programme.department)
    decisions.reopen(milestone, lead, "Evidence belonged to another milestone")
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "milestone.reopen"))
    assert event.actor_id == lead.id and event.reason == "Evidence belonged to another milestone"


def test_bulk_sign_off_records_each_item_and_skips_the_stale_one(setting):
    programme, preceptor = setting
    items = [waiting(programme, n, f"Entry {n}") for n in (1, 2, 3)]
    stale = BulkItem(items[2].id, version=items[2].version - 1)
    result = decisions.bulk_sign_off([BulkItem(items[0].id, items[0].version), BulkItem(items[1].id), stale],
                                     preceptor, "Good")
    db.session.commit()
    assert [m.id for m in result.signed] == [items[0].id, items[1].id]
    assert [i for i, _ in result.refused] == [items[2].id]
    assert [m.status for m in items] == [MilestoneStatus.SIGNED_OFF, MilestoneStatus.SIGNED_OFF,
                                         MilestoneStatus.WAITING]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "milestone.sign_off")).all()
    assert sorted(e.details["milestone"] for e in events) == [items[0].id, items[1].id]
    assert len({e.object_id for e in events}) == 2  # each its own request and decision


def test_a_held_meeting_completes_its_milestone_when_confirmed(setting):
    programme, preceptor = setting
    initial = next(m for m in milestones(programme) if m.template.completed_by_meeting is MeetingType.INITIAL)
    meeting = Meeting(preceptorship=programme, meeting_type=MeetingType.INITIAL,
                      scheduled_for=programme.start_date + timedelta(days=10), notes="Agreed goals")
    db.session.add(meeting)
    db.session.flush()
    with pytest.raises(SignOffRefused, match="as held"):
        decisions.sign_off_at_meeting(initial, preceptor, meeting)
    meeting.held_on = meeting.scheduled_for
    request = decisions.sign_off_at_meeting(initial, preceptor, meeting)
    db.session.commit()
    assert initial.status is MilestoneStatus.SIGNED_OFF
    assert request.requested_by_id == preceptor.id and request.evidence_snapshot[0]["meeting"] == meeting.id
    with pytest.raises(SignOffRefused, match="already signed off"):
        decisions.sign_off_at_meeting(initial, preceptor, meeting)


def test_a_stale_milestone_update_fails_rather_than_overwrites(setting, app):
    """Two sessions load the same waiting item; the second to write loses (version column)."""
    programme, preceptor = setting
    milestone_id = waiting(programme).id
    db.session.remove()
    with Session(db.engine) as first, Session(db.engine) as second:
        a, b = first.get(Milestone, milestone_id), second.get(Milestone, milestone_id)
        a.status = MilestoneStatus.SIGNED_OFF
        first.commit()
        b.status = MilestoneStatus.RETURNED
        with pytest.raises(StaleDataError):
            second.commit()


def test_two_preceptor_sessions_at_once_exactly_one_decision(setting, app, databases):
    """Two threads (two database sessions) decide the same item at the same moment: one wins,
    the other is refused, and there is exactly one decision and one audit row."""
    programme, preceptor = setting
    milestone_id, preceptor_id = waiting(programme).id, preceptor.id
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(kind: str):
        with app.app_context():
            milestone = db.session.get(Milestone, milestone_id)
            person = db.session.get(User, preceptor_id)
            version = milestone.version
            barrier.wait()
            try:
                if kind == "sign":
                    decisions.sign_off(milestone, person, version=version)
                else:
                    decisions.return_with_plan(milestone, person, "Do more", version=version)
                db.session.commit()
                outcomes.append("won")
            except (StaleDataError, SignOffRefused):
                db.session.rollback()
                outcomes.append("refused")
            except Exception as error:  # SQLite's single writer may refuse with "database is locked"
                db.session.rollback()
                outcomes.append(f"refused: {type(error).__name__}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(kind,)) for kind in ("sign", "return")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"]
    decided = db.session.scalar(select(func.count()).select_from(SignOffRequest).where(
        SignOffRequest.milestone_id == milestone_id, SignOffRequest.decided_at.is_not(None)))
    events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(("milestone.sign_off", "milestone.return"))))
    assert (decided, events) == (1, 1)
    if databases.dialect == "postgresql":
        assert outcomes.count("refused") == 1  # the loser is refused by the version check itself
