"""Reminders (`reminders run`): milestones due soon and overdue, booked meetings, sign-off
requests waiting more than 5 and 10 working days, open surveys not answered; each to the right
people on a fixed day, once however often the job runs, and none for signed-off work or a
paused programme."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import (
    Category,
    Meeting,
    MeetingType,
    Milestone,
    MilestoneStatus,
    Notification,
    OutboxMessage,
    ProgrammeStatus,
    RequestStatus,
    Role,
    SignOffRequest,
    SurveyInvitation,
    TimePoint,
)
from preceptor.services import reminders
from preceptor.services.framework import install_default_framework
from preceptor.services.survey_library import install_default_surveys
from preceptor.services.survey_waves import current_template
from preceptor.templating import local_zone

from .factories import counted_queries

TODAY = date(2027, 3, 15)  # a Monday
NOTHING = {"milestones due soon": 0, "milestones overdue": 0, "meetings due": 0, "reviews waiting": 0,
           "surveys not answered": 0}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def milestones_of(programme) -> list[Milestone]:
    """The programme's milestones, all moved well into the future: each test sets the few it needs."""
    found = list(db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                                    .order_by(Milestone.id)))
    for milestone in found:
        milestone.due_date = TODAY + timedelta(days=100)
    return found


def told(category: Category | None = None) -> dict[int, list[str]]:
    query = select(Notification).order_by(Notification.id)
    if category is not None:
        query = query.where(Notification.category == category)
    found: dict[int, list[str]] = {}
    for notification in db.session.scalars(query):
        found.setdefault(notification.user_id, []).append(notification.message)
    return found


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=local_zone())


@pytest.fixture
def trust(make):
    """CT: Sam (Priya precepts) and Pat (paused, Priya too); CT's lead, a trust-wide lead, and
    MRI's lead; Sam's milestones all due far off."""
    install_default_framework()
    install_default_surveys()
    ct, mri = make.department("CT"), make.department("MRI")
    priya = make.preceptor(ct, name="Priya Preceptor")
    sam = make.programme(make.user(Role.PRECEPTEE, name="Sam Starter"), ct, start=TODAY - timedelta(days=120),
                         preceptor=priya)
    pat = make.programme(make.user(Role.PRECEPTEE, name="Pat Paused"), ct, start=TODAY - timedelta(days=120),
                         preceptor=priya)
    pat.status = ProgrammeStatus.PAUSED
    lena = make.user(Role.EDUCATION_LEAD, name="Lena Lead")
    lena.lead_departments = [ct]
    tara = make.user(Role.EDUCATION_LEAD, name="Tara Trustwide", trust_wide=True)
    mia = make.user(Role.EDUCATION_LEAD, name="Mia MRI")
    mia.lead_departments = [mri]
    milestones_of(sam), milestones_of(pat)
    db.session.commit()
    return {"sam": sam, "pat": pat, "priya": priya, "lena": lena, "tara": tara, "mia": mia}


def test_milestones_due_within_a_week_remind_the_preceptee_once(trust):
    sam, pat = trust["sam"], trust["pat"]
    soon, later, signed, waiting, today_one = milestones_of(sam)[:5]
    soon.due_date = TODAY + timedelta(days=3)
    today_one.due_date = TODAY
    later.due_date = TODAY + timedelta(days=8)
    signed.due_date, signed.status = TODAY + timedelta(days=2), MilestoneStatus.SIGNED_OFF
    waiting.due_date, waiting.status = TODAY + timedelta(days=1), MilestoneStatus.WAITING
    milestones_of(pat)[0].due_date = TODAY + timedelta(days=2)  # paused: no reminder
    db.session.commit()
    assert reminders.run_reminders(TODAY) == {**NOTHING, "milestones due soon": 2}
    assert told() == {sam.preceptee_id: [f"“{today_one.title}” is due today",
                                         f"“{soon.title}” is due on 18 March 2027"]}
    keys = set(db.session.scalars(select(Notification.key)))
    assert keys == {f"milestone-due:{soon.id}:2027-03-18", f"milestone-due:{today_one.id}:2027-03-15"}
    assert {m.to_address for m in db.session.scalars(select(OutboxMessage))} == {sam.preceptee.email}
    db.session.commit()

    assert reminders.run_reminders(TODAY) == NOTHING  # a second run the same day
    assert reminders.run_reminders(TODAY + timedelta(days=1)) == {  # the next day: only what changed
        **NOTHING, "milestones due soon": 1, "milestones overdue": 2}  # `later` is within the week; today's is late
    soon.due_date = TODAY + timedelta(days=5)  # moved (a pause, an extension): a new occasion
    assert reminders.run_reminders(TODAY + timedelta(days=1))["milestones due soon"] == 1


def test_overdue_milestones_remind_the_preceptee_and_the_current_preceptor(trust):
    sam, pat, priya = trust["sam"], trust["pat"], trust["priya"]
    late, signed, waiting = milestones_of(sam)[:3]
    late.due_date, late.status = TODAY - timedelta(days=2), MilestoneStatus.IN_PROGRESS
    signed.due_date, signed.status = TODAY - timedelta(days=20), MilestoneStatus.SIGNED_OFF
    waiting.due_date = TODAY  # due today is not overdue
    milestones_of(pat)[0].due_date = TODAY - timedelta(days=30)  # paused: not overdue
    db.session.commit()
    assert reminders.run_reminders(TODAY) == {**NOTHING, "milestones overdue": 2, "milestones due soon": 1}
    overdue = told(Category.MILESTONE)
    assert overdue[sam.preceptee_id] == [f"“{waiting.title}” is due today",
                                         f"“{late.title}” is overdue: it was due on 13 March 2027"]
    assert overdue[priya.id] == [f"Sam Starter's milestone “{late.title}” is overdue: it was due on 13 March 2027"]
    links = dict(db.session.execute(select(Notification.user_id, Notification.link)
                                    .where(Notification.key.like("milestone-overdue:%"))).all())
    assert links == {sam.preceptee_id: f"/preceptee/milestones/{late.id}", priya.id: f"/preceptor/milestones/{late.id}"}
    db.session.commit()
    assert reminders.run_reminders(TODAY) == NOTHING
    # Later: the one due today is now late (to both); the first is not told again.
    assert reminders.run_reminders(TODAY + timedelta(days=3)) == {**NOTHING, "milestones overdue": 2}
    assert told(Category.MILESTONE)[priya.id][-1].startswith(f"Sam Starter's milestone “{waiting.title}”")


def test_an_ended_or_unallocated_programme(trust, make):
    """A completed programme gets no milestone reminders; one without a preceptor tells only
    the preceptee."""
    sam = trust["sam"]
    sam.status = ProgrammeStatus.COMPLETED
    milestones_of(sam)[0].due_date = TODAY - timedelta(days=1)
    alone = make.programme(make.user(Role.PRECEPTEE, name="Al Alone"), start=TODAY - timedelta(days=30))
    milestones_of(alone)[0].due_date = TODAY - timedelta(days=1)
    db.session.commit()
    assert reminders.run_reminders(TODAY) == {**NOTHING, "milestones overdue": 1}
    assert set(told()) == {alone.preceptee_id}


def test_booked_meetings_in_the_next_two_days_remind_both(trust):
    sam, pat, priya = trust["sam"], trust["pat"], trust["priya"]

    def book(programme, on, held=None, kind=MeetingType.TWO_MONTHLY):
        meeting = Meeting(preceptorship=programme, meeting_type=kind, scheduled_for=on, held_on=held)
        db.session.add(meeting)
        return meeting

    due = book(sam, TODAY + timedelta(days=2), kind=MeetingType.MID_POINT)
    book(sam, TODAY + timedelta(days=4))  # too far off
    book(sam, TODAY, held=TODAY)  # held already
    book(sam, TODAY - timedelta(days=1))  # in the past: the preceptor's pages show it as not recorded
    book(pat, TODAY + timedelta(days=1))  # paused
    db.session.commit()
    assert reminders.run_reminders(TODAY) == {**NOTHING, "meetings due": 2}
    assert told(Category.MEETING) == {
        sam.preceptee_id: ["Your mid-point review with Priya Preceptor is on 17 March 2027"],
        priya.id: ["Mid-point review with Sam Starter is on 17 March 2027"],
    }
    assert {n.link for n in db.session.scalars(select(Notification))} == {
        "/preceptee/meetings", f"/preceptor/preceptees/{sam.id}/meetings"}
    db.session.commit()
    assert reminders.run_reminders(TODAY + timedelta(days=1)) == NOTHING
    due.scheduled_for = TODAY + timedelta(days=1)  # rebooked: reminded of the new day
    assert reminders.run_reminders(TODAY + timedelta(days=1))["meetings due"] == 2


def test_working_days():
    friday, monday = date(2027, 3, 5), date(2027, 3, 8)
    assert reminders.working_days_after(friday, TODAY) == 6
    assert reminders.working_days_after(monday, TODAY) == 5
    assert reminders.working_days_after(date(2027, 3, 13), TODAY) == 1  # asked on a Saturday
    assert reminders.working_days_after(TODAY, TODAY) == 0
    assert reminders.working_days_after(date(2027, 2, 26), TODAY) == 11


def test_requests_waiting_over_5_working_days_remind_the_preceptor_and_over_10_the_leads(trust):
    sam, pat, priya = trust["sam"], trust["pat"], trust["priya"]
    five, six, eleven, two_weeks_signed = milestones_of(sam)[:4]

    def asked(milestone, day, status=MilestoneStatus.WAITING):
        milestone.status = status
        request = SignOffRequest(milestone=milestone, requested_by_id=milestone.preceptorship.preceptee_id,
                                 summary="Please", requested_at=at(day))
        db.session.add(request)
        return request

    asked(five, date(2027, 3, 8))  # Monday last week: 5 working days, not more
    late = asked(six, date(2027, 3, 5))  # the Friday before: 6
    later = asked(eleven, date(2027, 2, 26))  # 11
    asked(two_weeks_signed, date(2027, 2, 1), MilestoneStatus.SIGNED_OFF).status = RequestStatus.SIGNED_OFF
    asked(milestones_of(pat)[0], date(2027, 2, 1))  # paused
    db.session.commit()
    assert reminders.run_reminders(TODAY) == {**NOTHING, "reviews waiting": 4}
    assert told(Category.REVIEW) == {
        priya.id: [f"Sam Starter has waited more than 5 working days for you to sign off “{eleven.title}”",
                   f"Sam Starter has waited more than 5 working days for you to sign off “{six.title}”"],
        trust["lena"].id: [f"Sam Starter has waited more than 10 working days for Priya Preceptor to sign off "
                           f"“{eleven.title}”"],
        trust["tara"].id: [f"Sam Starter has waited more than 10 working days for Priya Preceptor to sign off "
                           f"“{eleven.title}”"],
    }  # not Mia: MRI's lead
    keys = {(n.user_id, n.key) for n in db.session.scalars(select(Notification))}
    assert (priya.id, f"review-waiting:{late.id}") in keys
    assert (trust["lena"].id, f"review-escalated:{later.id}") in keys
    db.session.commit()
    assert reminders.run_reminders(TODAY) == NOTHING
    assert reminders.run_reminders(TODAY + timedelta(days=1))["reviews waiting"] == 1  # Monday's is now 6 days


def test_a_lead_who_is_the_preceptor_hears_once_as_the_preceptor(trust):
    sam, priya = trust["sam"], trust["priya"]
    priya.grant(Role.EDUCATION_LEAD)
    priya.trust_wide = True
    milestone = milestones_of(sam)[0]
    milestone.status = MilestoneStatus.WAITING
    db.session.add(SignOffRequest(milestone=milestone, requested_by_id=sam.preceptee_id, summary="Please",
                                  requested_at=at(date(2027, 2, 1))))
    db.session.commit()
    reminders.run_reminders(TODAY)
    assert len(told(Category.REVIEW)[priya.id]) == 1
    assert set(told(Category.REVIEW)) == {priya.id, trust["lena"].id, trust["tara"].id}


def test_open_surveys_not_answered_are_reminded_once_a_week(trust, make):
    sam, pat = trust["sam"], trust["pat"]
    template = current_template()

    def invite(programme, time_point, opened, closes, answered=None):
        invitation = SurveyInvitation(preceptorship_id=programme.id, template_id=template.id, time_point=time_point,
                                      opens_on=opened, closes_on=closes, answered_on=answered)
        db.session.add(invitation)
        return invitation

    week_old = invite(sam, TimePoint.BASELINE, TODAY - timedelta(days=8), TODAY + timedelta(days=20))
    invite(sam, TimePoint.MONTH_3, TODAY - timedelta(days=3), TODAY + timedelta(days=20))  # opening told them
    invite(sam, TimePoint.MONTH_6, TODAY - timedelta(days=10), TODAY + timedelta(days=20), answered=TODAY)
    invite(sam, TimePoint.MONTH_12, TODAY - timedelta(days=30), TODAY)  # closed today
    invite(pat, TimePoint.BASELINE, TODAY - timedelta(days=10), TODAY + timedelta(days=20))  # paused
    db.session.commit()
    assert reminders.run_reminders(TODAY) == {**NOTHING, "surveys not answered": 1}
    last_day = TODAY + timedelta(days=19)
    assert told() == {sam.preceptee_id: [f"Reminder: the survey “Starting survey” is still open. Please answer it "
                                         f"by {last_day.day} {last_day:%B %Y}"]}
    db.session.commit()
    db.session.refresh(week_old)
    assert (week_old.reminders_sent, week_old.last_reminded_on) == (1, TODAY)
    assert reminders.run_reminders(TODAY) == NOTHING
    assert reminders.run_reminders(TODAY + timedelta(days=3)) == NOTHING  # same week
    assert reminders.run_reminders(TODAY + timedelta(days=4))["surveys not answered"] == 1  # the 3-month's first
    assert reminders.run_reminders(TODAY + timedelta(days=6))["surveys not answered"] == 1  # the starting one's 2nd
    db.session.commit()
    db.session.refresh(week_old)
    assert (week_old.reminders_sent, week_old.last_reminded_on) == (2, TODAY + timedelta(days=6))


def test_a_deactivated_person_is_not_reminded(trust):
    sam = trust["sam"]
    milestones_of(sam)[0].due_date = TODAY - timedelta(days=1)
    trust["priya"].active = False
    db.session.commit()
    assert reminders.run_reminders(TODAY)["milestones overdue"] == 1
    assert set(told()) == {sam.preceptee_id}


def test_each_kind_finds_its_candidates_in_one_query(trust, make):
    for _ in range(4):
        programme = make.programme(make.user(Role.PRECEPTEE), start=TODAY - timedelta(days=60),
                                   preceptor=trust["priya"])
        milestones_of(programme)[0].due_date = TODAY + timedelta(days=1)
    db.session.commit()
    reminders.run_reminders(TODAY)
    db.session.commit()
    with counted_queries() as statements:  # every reminder already made: only the finding runs
        assert reminders.run_reminders(TODAY) == NOTHING
    finding = [s for s in statements if "FROM preceptorship" in s or "FROM survey_invitation" in s]
    assert len(finding) == 5


def test_the_command_prints_what_it_made(app, make, runner):
    install_default_framework()
    programme = make.programme(make.user(Role.PRECEPTEE), start=date.today() - timedelta(days=30))
    for milestone in milestones_of(programme):
        milestone.due_date = date.today() + timedelta(days=100)
    milestones_of(programme)[0].due_date = date.today() + timedelta(days=1)
    db.session.commit()
    expected = ("Reminders made: milestones due soon 1, milestones overdue 0, meetings due 0, reviews waiting 0, "
                "surveys not answered 0.\n")
    assert runner.invoke(args=["reminders", "run"]).output == expected
    assert count(Notification) == 1  # committed by the command
    assert runner.invoke(args=["reminders", "run"]).output == expected.replace("soon 1", "soon 0")


def test_two_runs_at_the_same_moment_take_turns_and_remind_once(app, trust):
    import threading

    for milestone in milestones_of(trust["sam"])[:3]:
        milestone.due_date = TODAY - timedelta(days=2)
    db.session.commit()
    barrier, results, errors = threading.Barrier(2), [], []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results.append(reminders.run_reminders(TODAY)["milestones overdue"])
                db.session.commit()
            except Exception as error:  # noqa: BLE001  reported below, not lost in the thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and sorted(results) == [0, 6]  # 3 milestones x (Sam and Priya), once
    assert count(Notification) == 6
