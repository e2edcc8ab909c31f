"""Events that tell people: a decision on a sign-off request (to the preceptee), an allocation
made or changed (preceptee, new and previous preceptor, the department's leads, each once,
not the person who made it) and a survey opening (to the preceptee). Each writes its
notification and outbox row in the event's transaction: rolled back, neither is left."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import (
    AllocationEndReason,
    Category,
    Meeting,
    MeetingType,
    Milestone,
    MilestoneStatus,
    Notification,
    OutboxMessage,
    Role,
    SurveyInvitation,
    TimePoint,
)
from preceptor.services import allocations, decisions, pairing, programme_admin, survey_waves
from preceptor.services.survey_library import install_default_surveys

TODAY = date.today()


def told(category: Category | None = None) -> dict[int, list[Notification]]:
    """Every notification so far by person (optionally of one category), oldest first."""
    query = select(Notification).order_by(Notification.id)
    if category is not None:
        query = query.where(Notification.category == category)
    found: dict[int, list[Notification]] = {}
    for notification in db.session.scalars(query):
        found.setdefault(notification.user_id, []).append(notification)
    return found


def emails_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == address)
                                   .order_by(OutboxMessage.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Decisions ------------------------------------------------------------------------------------

def test_signing_off_tells_the_preceptee_with_a_link_to_the_milestone(setting, make):
    programme, preceptor = setting
    milestone = make.sign_off_request(programme, 0, "First scan")
    decisions.sign_off(milestone, preceptor, "Well done")
    db.session.commit()
    [notification] = told(Category.SIGN_OFF)[programme.preceptee_id]
    assert notification.message == f"Your preceptor signed off “{milestone.title}”"
    assert notification.link == f"/preceptee/milestones/{milestone.id}"
    [email] = emails_to(programme.preceptee.email)
    assert email.notification_id == notification.id and email.category is Category.SIGN_OFF
    assert f"http://127.0.0.1:5000/preceptee/milestones/{milestone.id}" in email.body
    # The preceptor heard only of the request (request_sign_off), nothing of their own decision.
    assert [n.message for n in told()[preceptor.id]] == [
        f"{programme.preceptee.name} asked you to sign off “{milestone.title}”"]


def test_returning_tells_the_preceptee_it_came_back_with_an_action_plan(setting, make):
    programme, preceptor = setting
    milestone = make.sign_off_request(programme, 0, "First scan")
    decisions.return_with_plan(milestone, preceptor, "Add a reflection on positioning")
    db.session.commit()
    [notification] = told(Category.SIGN_OFF)[programme.preceptee_id]
    assert notification.message == f"Your preceptor returned “{milestone.title}” with an action plan"
    assert len(emails_to(programme.preceptee.email)) == 1


def test_a_decision_rolled_back_leaves_no_notification_and_no_email(setting, make):
    programme, preceptor = setting
    milestone = make.sign_off_request(programme, 0, "First scan")
    before = (count(Notification), count(OutboxMessage))
    decisions.sign_off(milestone, preceptor)
    assert (count(Notification), count(OutboxMessage)) == (before[0] + 1, before[1] + 1)  # written with it ...
    db.session.rollback()
    assert (count(Notification), count(OutboxMessage)) == before  # ... and gone with it
    assert programme.preceptee_id not in told()


def test_bulk_sign_off_tells_about_each_item_signed_and_none_refused(setting, make):
    programme, preceptor = setting
    first = make.sign_off_request(programme, 0, "First")
    second = make.sign_off_request(programme, 1, "Second")
    result = decisions.bulk_sign_off([decisions.BulkItem(first.id), decisions.BulkItem(second.id, version=99)],
                                     preceptor)
    db.session.commit()
    assert [m.id for m in result.signed] == [first.id] and [i for i, _ in result.refused] == [second.id]
    assert [n.message for n in told(Category.SIGN_OFF)[programme.preceptee_id]] == [
        f"Your preceptor signed off “{first.title}”"]
    assert len(emails_to(programme.preceptee.email)) == 1


def test_signing_off_at_a_meeting_tells_the_preceptee(setting):
    programme, preceptor = setting
    milestone = db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                                   .order_by(Milestone.due_date)).first()
    meeting = Meeting(preceptorship=programme, meeting_type=MeetingType.INITIAL, scheduled_for=TODAY,
                      held_on=TODAY, recorded_by_id=preceptor.id)
    db.session.add(meeting)
    db.session.flush()
    decisions.sign_off_at_meeting(milestone, preceptor, meeting)
    db.session.commit()
    assert milestone.status is MilestoneStatus.SIGNED_OFF
    [notification] = told(Category.SIGN_OFF)[programme.preceptee_id]
    assert notification.message == f"Your preceptor signed off “{milestone.title}”"


# Allocations ----------------------------------------------------------------------------------

@pytest.fixture
def ward(make):
    """CT with Sam waiting for a preceptor, two preceptors, CT's lead, a trust-wide lead, and a
    lead of MRI (who hears nothing of CT)."""
    ct, mri = make.department("CT"), make.department("MRI")
    people = {
        "sam": make.user(Role.PRECEPTEE, name="Sam Starter"),
        "priya": make.preceptor(ct, name="Priya Preceptor"),
        "quinn": make.preceptor(ct, name="Quinn Preceptor"),
        "lena": make.user(Role.EDUCATION_LEAD, name="Lena Lead"),
        "tara": make.user(Role.EDUCATION_LEAD, name="Tara Trustwide", trust_wide=True),
        "mia": make.user(Role.EDUCATION_LEAD, name="Mia MRI"),
    }
    people["lena"].lead_departments = [ct]
    people["mia"].lead_departments = [mri]
    people["programme"] = make.programme(people["sam"], ct, start=TODAY - timedelta(days=10))
    people["ct"] = ct
    db.session.commit()
    return people


def messages(category: Category = Category.ALLOCATION) -> dict[int, list[str]]:
    return {user: [n.message for n in found] for user, found in told(category).items()}


def test_an_allocation_tells_the_preceptee_the_preceptor_and_the_leads_but_not_who_made_it(ward):
    pairing.place(ward["programme"].id, ward["priya"].id, by=ward["lena"], scope=[ward["ct"].id], today=TODAY)
    db.session.commit()
    assert messages() == {
        ward["sam"].id: ["Priya Preceptor is now your preceptor"],
        ward["priya"].id: ["You are now Sam Starter's preceptor"],
        ward["tara"].id: ["Priya Preceptor is now Sam Starter's preceptor"],
    }  # Lena made it; Mia leads another department
    links = {n.user_id: n.link for n in db.session.scalars(select(Notification))}
    assert links == {ward["sam"].id: "/preceptee/", ward["priya"].id: f"/preceptor/preceptees/{ward['programme'].id}",
                     ward["tara"].id: f"/lead/programmes/{ward['programme'].id}"}
    assert {m.to_address for m in db.session.scalars(select(OutboxMessage))} == {
        ward["sam"].email, ward["priya"].email, ward["tara"].email}


def test_a_reallocation_tells_the_previous_preceptor_too_and_each_person_once(ward):
    ward["quinn"].grant(Role.EDUCATION_LEAD)  # Quinn, the new preceptor, also leads CT
    ward["quinn"].lead_departments = [ward["ct"]]
    allocations.allocate(ward["programme"], ward["priya"], TODAY - timedelta(days=5))
    db.session.commit()
    before = count(Notification)
    allocations.allocate(ward["programme"], ward["quinn"], TODAY, end_reason=AllocationEndReason.MISMATCH)
    db.session.commit()
    latest = {n.user_id: n.message for n in db.session.scalars(select(Notification).where(Notification.id > before))}
    assert latest == {
        ward["sam"].id: "Quinn Preceptor is now your preceptor",
        ward["quinn"].id: "You are now Sam Starter's preceptor",  # as preceptor, not again as a lead
        ward["priya"].id: "Quinn Preceptor is now Sam Starter's preceptor in your place",
        ward["lena"].id: "Quinn Preceptor is now Sam Starter's preceptor, in place of Priya Preceptor",
        ward["tara"].id: "Quinn Preceptor is now Sam Starter's preceptor, in place of Priya Preceptor",
    }
    assert count(OutboxMessage) == count(Notification)


def test_an_allocation_rolled_back_leaves_no_notification_and_no_email(ward):
    allocations.allocate(ward["programme"], ward["priya"], TODAY)
    assert count(Notification) == 4 and count(OutboxMessage) == 4
    db.session.rollback()
    assert count(Notification) == 0 and count(OutboxMessage) == 0


def test_a_deactivated_lead_is_not_told(ward):
    ward["tara"].active = False
    allocations.allocate(ward["programme"], ward["priya"], TODAY, by=ward["lena"])
    db.session.commit()
    assert set(messages()) == {ward["sam"].id, ward["priya"].id}


# Surveys ----------------------------------------------------------------------------------------

def test_opening_due_surveys_tells_each_preceptee_once(make):
    install_default_surveys()
    sam = make.programme(make.user(Role.PRECEPTEE, name="Sam Starter"), start=TODAY - timedelta(days=3))
    ash = make.programme(make.user(Role.PRECEPTEE, name="Ash Other"), start=TODAY - timedelta(days=1))
    make.programme(make.user(Role.PRECEPTEE, name="Not Yet"), start=TODAY + timedelta(days=5))
    db.session.commit()
    assert survey_waves.open_due(TODAY) == 2
    invitations = {i.preceptorship_id: i for i in db.session.scalars(select(SurveyInvitation))}
    last_day = invitations[sam.id].closes_on - timedelta(days=1)
    for programme in (sam, ash):
        invitation = invitations[programme.id]
        [notification] = told(Category.SURVEY)[programme.preceptee_id]
        assert notification.key == f"survey-open:{invitation.id}"
        assert notification.link == f"/preceptee/surveys/{invitation.id}"
        assert len(emails_to(programme.preceptee.email)) == 1
    assert told(Category.SURVEY)[sam.preceptee_id][0].message == (
        f"The survey “Starting survey” is open: please answer it by {last_day.day} {last_day:%B %Y}")
    assert survey_waves.open_due(TODAY) == 0  # nothing new opened, nobody told again
    assert count(Notification) == 2 and count(OutboxMessage) == 2


def test_surveys_opened_but_rolled_back_leave_nothing(make):
    install_default_surveys()
    make.programme(start=TODAY - timedelta(days=3))
    db.session.commit()
    assert survey_waves.add_due(TODAY) == 1 and (count(Notification), count(OutboxMessage)) == (1, 1)
    db.session.rollback()
    assert (count(SurveyInvitation), count(Notification), count(OutboxMessage)) == (0, 0, 0)


def test_completing_a_programme_tells_the_preceptee_of_the_end_surveys(setting):
    install_default_surveys()
    programme, preceptor = setting
    open_count = db.session.scalar(select(func.count()).select_from(Milestone).where(
        Milestone.preceptorship_id == programme.id, Milestone.status != MilestoneStatus.SIGNED_OFF))
    programme_admin.complete(programme, TODAY, "Finished early", open_confirmed=open_count)
    db.session.commit()
    invitations = {i.time_point: i.id for i in db.session.scalars(select(SurveyInvitation))}
    assert set(invitations) == {TimePoint.MONTH_12, TimePoint.END_FEEDBACK}
    survey_news = told(Category.SURVEY)[programme.preceptee_id]
    assert sorted(n.key for n in survey_news) == sorted(f"survey-open:{i}" for i in invitations.values())
    assert {n.message.split(":")[0] for n in survey_news} == {
        "The survey “End of programme survey” is open", "The survey “Feedback on your preceptor” is open"}
    assert preceptor.id not in told(Category.SURVEY)

