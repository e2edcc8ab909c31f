"""Programme administration: pausing, resuming, extending, completing and recording leaving,
each with its effect on status, dates, allocations, surveys and the audit log; due dates after
a pause and an extension (month ends, a leap day); every refusal leaving the database as it
was; the list (search, filters, pages, htmx fragment) and the programme's page; and who may
see which programme (a lead's scope, 404 outside it; admins everything)."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import (
    Allocation,
    AllocationEndReason,
    AuditEvent,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    ProgrammeStatus,
    Role,
    StatusChange,
    SurveyInvitation,
    TimePoint,
)
from preceptor.services import capacity, pairing, programme_admin, programmes, survey_waves
from preceptor.services.framework import install_default_framework
from preceptor.services.programmes import ProgrammeRefused
from preceptor.services.survey_library import install_default_surveys

from .factories import PASSWORD, counted_queries

TODAY = date.today()


@pytest.fixture
def trust(make):
    """CT (the lead's) with Sam, 120 days in, precepted by Priya; MRI (not the lead's) with Mo."""
    install_default_framework()
    install_default_surveys()
    ct, mri = make.department("CT"), make.department("MRI")
    priya = make.preceptor(ct, name="Priya Preceptor")
    sam = make.programme(make.user(Role.PRECEPTEE, name="Sam Starter", email="sam@test.nhs.uk"), ct,
                         start=TODAY - timedelta(days=120), preceptor=priya)
    mo = make.programme(make.user(Role.PRECEPTEE, name="Mo Other"), mri, start=TODAY - timedelta(days=30))
    lead = make.user(Role.EDUCATION_LEAD, email="lead@test.nhs.uk", name="Lena Lead")
    lead.lead_departments = [ct]
    me = make.user(Role.ADMIN, email="admin@test.nhs.uk", name="Ada Admin")
    db.session.commit()
    return {"ct": ct, "mri": mri, "priya": priya, "sam": sam, "mo": mo, "lead": lead, "admin": me}


def signed_in(client, email: str):
    assert client.sign_in(email, PASSWORD).status_code == 302
    return client


def milestones(programme) -> dict[str, Milestone]:
    return {m.template.key: m for m in db.session.scalars(select(Milestone)
                                                         .where(Milestone.preceptorship_id == programme.id))}


def due_dates(programme) -> dict[str, date]:
    return {key: m.due_date for key, m in milestones(programme).items()}


def snapshot(programme_id: int) -> tuple:
    """Everything a change could touch, read afresh from the database."""
    db.session.expire_all()
    p = db.session.get(Preceptorship, programme_id)
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return (p.status, p.planned_end_date, p.ended_on, p.end_reason,
            sorted((m.id, m.due_date, m.status, m.version) for m in milestones(p).values()),
            sorted((a.id, a.ends_on, a.end_reason) for a in p.allocations),
            count(StatusChange), count(AuditEvent), count(SurveyInvitation))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def form(**fields) -> dict:
    """A change form's fields as posted: dates as the NHS date input's three boxes."""
    posted = {}
    for name, value in fields.items():
        if isinstance(value, date):
            posted.update({f"{name}[day]": value.day, f"{name}[month]": value.month, f"{name}[year]": value.year})
        else:
            posted[name] = value
    return posted


# Due dates: pause and resume, extension ------------------------------------------------------


def test_resume_moves_open_milestones_due_from_the_pause_and_the_end_across_a_leap_day(make, app):
    install_default_framework()
    programme = make.programme(start=date(2027, 3, 1))  # planned end 1 March 2028, a leap year
    assert programme.planned_end_date == date(2028, 3, 1)
    due = milestones(programme)
    due["final-review"].due_date = date(2028, 2, 29)  # the leap day itself
    due["two-reflections"].status = MilestoneStatus.SIGNED_OFF
    due["two-reflections"].due_date = date(2028, 2, 25)  # signed off: never moves, even after the pause began
    before = due_dates(programme)

    programmes.pause(programme, date(2028, 2, 20), "Sickness absence", today=date(2028, 2, 21))
    days = programmes.resume(programme, date(2028, 3, 5), "Back at work", today=date(2028, 3, 5))

    assert days == 14  # 20 February to 5 March 2028: 29 days in February
    after = due_dates(programme)
    assert after["final-review"] == date(2028, 3, 14)
    assert after["preceptor-feedback"] == before["preceptor-feedback"] + timedelta(days=14)
    assert after["eight-reflections"] == before["eight-reflections"] == date(2028, 1, 31)  # due before the pause
    assert after["two-reflections"] == date(2028, 2, 25)
    assert programme.planned_end_date == date(2028, 3, 15)
    assert programme.status is ProgrammeStatus.ACTIVE


def test_extension_at_a_month_end_moves_only_the_end_of_programme_milestones(make, app):
    install_default_framework()
    programme = make.programme(start=date(2026, 1, 31))
    assert programme.planned_end_date == date(2027, 1, 31)
    before = due_dates(programme)
    new_end = programmes.add_months(programme.planned_end_date, 1)
    assert new_end == date(2027, 2, 28)  # 31 January + 1 month: the month's end

    moved = programmes.extend(programme, new_end, "More supported practice", today=date(2026, 12, 1))

    after = due_dates(programme)
    changed = {key for key in before if after[key] != before[key]}
    # PRODUCT.md's end-of-programme milestones (weeks 48 and 52), nothing from the middle.
    assert changed == {"eight-reflections", "final-review", "preceptor-feedback"} and moved == 3
    assert all(after[key] - before[key] == timedelta(days=28) for key in changed)
    assert after["final-review"] == date(2027, 2, 27)
    assert after["multi-professional"] == before["multi-professional"]
    change = programme.status_changes[-1]
    assert (change.from_status, change.to_status, change.planned_end_before, change.planned_end_after) == (
        ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED, date(2027, 1, 31), date(2027, 2, 28))


def test_a_pause_from_an_extension_resumes_as_extended_and_moves_the_new_end(make, app):
    install_default_framework()
    programme = make.programme(start=date(2026, 1, 5))
    programmes.extend(programme, date(2027, 3, 5), "More time", today=date(2026, 6, 1))
    programmes.pause(programme, date(2026, 7, 1), "Parental leave", today=date(2026, 7, 1))
    programmes.resume(programme, date(2026, 7, 11), "Back", today=date(2026, 7, 20))
    assert programme.status is ProgrammeStatus.EXTENDED
    assert programme.planned_end_date == date(2027, 3, 15)


# Each action through the page: status, dates, allocation, audit --------------------------------


def test_pause_and_resume_through_the_page(client, trust):
    sam, lead = trust["sam"], trust["lead"]
    signed_in(client, "lead@test.nhs.uk")
    page = f"/lead/programmes/{sam.id}"
    html = client.get(f"{page}?action=pause").get_data(as_text=True)
    assert 'name="on[day]"' in html and 'name="action" type="hidden"' not in html  # attribute order is ours
    assert '<input type="hidden" name="action" value="pause">' in html
    before = due_dates(sam)
    paused_on = TODAY - timedelta(days=10)

    response = client.submit(page, form(action="pause", on=paused_on, reason="Sickness absence"))
    assert response.status_code == 302 and response.headers["Location"] == page
    html = client.get(page).get_data(as_text=True)
    assert f"Sam Starter&#39;s programme is paused from {paused_on.day} {paused_on:%B %Y}" in html
    assert "Sickness absence" in html and "Lena Lead" in html  # the history: reason and who

    response = client.submit(page, form(action="resume", on=TODAY, reason="Back at work"))
    assert response.status_code == 302
    db.session.expire_all()
    sam = db.session.get(Preceptorship, sam.id)
    assert sam.status is ProgrammeStatus.ACTIVE
    after = due_dates(sam)
    for key, due in before.items():
        assert after[key] == (due + timedelta(days=10) if due >= paused_on else due), key
    changes = [(c.from_status, c.to_status, c.effective_on, c.changed_by_id) for c in sam.status_changes]
    assert changes == [(ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED, paused_on, lead.id),
                       (ProgrammeStatus.PAUSED, ProgrammeStatus.ACTIVE, TODAY, lead.id)]
    pause_event, resume_event = events("preceptorship.pause")[0], events("preceptorship.resume")[0]
    assert (pause_event.actor_id, pause_event.reason, pause_event.preceptorship_id) == (
        lead.id, "Sickness absence", sam.id)
    assert pause_event.details["before"]["status"] == "active" and pause_event.details["after"]["status"] == "paused"
    assert resume_event.details["days_paused"] == 10
    assert resume_event.details["after"]["planned_end"] == sam.planned_end_date.isoformat()
    assert resume_event.details["before"]["planned_end"] == (sam.planned_end_date - timedelta(days=10)).isoformat()
    assert sam.current_allocation is not None  # a pause keeps the preceptor


def test_extend_through_the_page(client, trust):
    sam = trust["sam"]
    end = sam.planned_end_date
    signed_in(client, "lead@test.nhs.uk")
    response = client.submit(f"/lead/programmes/{sam.id}",
                             form(action="extend", new_end=end + timedelta(days=60), reason="More CT practice"))
    assert response.status_code == 302
    db.session.expire_all()
    sam = db.session.get(Preceptorship, sam.id)
    assert (sam.status, sam.planned_end_date) == (ProgrammeStatus.EXTENDED, end + timedelta(days=60))
    event = events("preceptorship.extend")[0]
    assert event.details["days_added"] == 60 and event.details["milestones_moved"] == 3
    assert event.details["before"]["planned_end"] == end.isoformat()


def test_completing_with_open_milestones_needs_the_tick(client, trust):
    sam, priya = trust["sam"], trust["priya"]
    page = f"/lead/programmes/{sam.id}"
    signed_in(client, "lead@test.nhs.uk")
    still_open = programmes.open_milestones(sam)
    html = client.get(f"{page}?action=complete").get_data(as_text=True)
    assert f"{still_open} milestones are not signed off" in html
    assert f'name="confirm_open" type="checkbox" value="{still_open}"' in html
    before = snapshot(sam.id)

    unticked = client.submit(page, form(action="complete", on=TODAY, reason="Final review done"))
    html = unticked.get_data(as_text=True)
    assert unticked.status_code == 400
    assert f"{still_open} milestones are not signed off. Confirm that you are completing" in html
    assert 'href="#confirm_open"' in html and "Final review done" in html  # the summary links the box; input kept
    assert snapshot(sam.id) == before
    stale = client.submit(page, form(action="complete", on=TODAY, reason="Final review done",
                                     confirm_open=str(still_open + 1)))  # the page showed another count
    assert stale.status_code == 400 and snapshot(sam.id) == before

    done = client.submit(page, form(action="complete", on=TODAY, reason="Final review done",
                                    confirm_open=str(still_open)))
    assert done.status_code == 302
    db.session.expire_all()
    sam = db.session.get(Preceptorship, sam.id)
    assert (sam.status, sam.ended_on, sam.end_reason) == (ProgrammeStatus.COMPLETED, TODAY, "Final review done")
    (allocation,) = sam.allocations
    assert (allocation.ends_on, allocation.end_reason) == (TODAY, AllocationEndReason.PROGRAMME_ENDED)
    assert capacity.load_of(priya.id) == 0  # the place is free
    # The end-of-programme survey and the feedback on the preceptor open now: cron never would.
    invited = {(i.time_point, i.opens_on) for i in db.session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.preceptorship_id == sam.id))}
    assert invited == {(TimePoint.MONTH_12, TODAY), (TimePoint.END_FEEDBACK, TODAY)}
    event = events("preceptorship.complete")[0]
    assert event.details["open_milestones"] == still_open and event.details["allocation_ended"] == allocation.id
    assert sorted(event.details["surveys_opened"]) == ["end_feedback", "month_12"]
    assert [e.details["reason"] for e in events("allocation.end")] == ["programme_ended"]
    assert "Record that they left" in client.get(page).get_data(as_text=True)  # leaving can follow


def test_completion_with_everything_signed_off_needs_no_tick_and_keeps_an_open_end_survey(trust):
    sam = trust["sam"]
    for milestone in milestones(sam).values():
        milestone.status = MilestoneStatus.SIGNED_OFF
    db.session.add(SurveyInvitation(preceptorship_id=sam.id, template_id=survey_waves.current_template().id,
                                    time_point=TimePoint.MONTH_12,
                                    opens_on=TODAY - timedelta(days=3), closes_on=TODAY + timedelta(days=20)))
    programme_admin.complete(sam, TODAY - timedelta(days=1), "All signed off")
    invited = db.session.scalars(select(SurveyInvitation.time_point)
                                 .where(SurveyInvitation.preceptorship_id == sam.id)).all()
    assert sorted(invited) == [TimePoint.END_FEEDBACK, TimePoint.MONTH_12]  # one of each: the open one kept


def test_recording_leaving_through_the_page(client, trust):
    sam, priya = trust["sam"], trust["priya"]
    left_on = TODAY - timedelta(days=2)
    signed_in(client, "admin@test.nhs.uk")  # an admin may too
    response = client.submit(f"/lead/programmes/{sam.id}",
                             form(action="leave", on=left_on, reason="Moved to another trust"))
    assert response.status_code == 302
    db.session.expire_all()
    sam = db.session.get(Preceptorship, sam.id)
    assert (sam.status, sam.ended_on, sam.end_reason) == (ProgrammeStatus.LEFT, left_on, "Moved to another trust")
    (allocation,) = sam.allocations
    assert (allocation.ends_on, allocation.end_reason) == (left_on, AllocationEndReason.LEFT)
    assert allocation.end_note == programme_admin.LEFT_NOTE
    assert capacity.load_of(priya.id) == 0
    assert sam.id not in {w.programme.id for w in pairing.unallocated(None)}  # not waiting for anyone
    assert sam.status_changes[-1].changed_by_id == trust["admin"].id
    event = events("preceptorship.leave")[0]
    assert (event.actor_id, event.reason, event.details["on"]) == (trust["admin"].id, "Moved to another trust",
                                                                   left_on.isoformat())
    assert db.session.scalar(select(func.count()).select_from(SurveyInvitation)) == 0  # no end survey
    html = client.get(f"/lead/programmes/{sam.id}").get_data(as_text=True)
    assert "cannot be changed" in html and "?action=" not in html


def test_leaving_without_a_preceptor_and_after_completion(trust):
    mo = trust["mo"]  # never had a preceptor: waiting until now
    assert mo.id in {w.programme.id for w in pairing.unallocated(None)}
    programme_admin.record_leaving(mo, TODAY, "Did not take up the post")
    assert mo.status is ProgrammeStatus.LEFT and mo.allocations == []
    assert mo.id not in {w.programme.id for w in pairing.unallocated(None)}

    sam = trust["sam"]
    for milestone in milestones(sam).values():
        milestone.status = MilestoneStatus.SIGNED_OFF
    programme_admin.complete(sam, TODAY - timedelta(days=5), "Completed")
    programme_admin.record_leaving(sam, TODAY, "Left the NHS")  # after completion: retention at 24 months
    assert (sam.status, sam.ended_on) == (ProgrammeStatus.LEFT, TODAY)
    assert [c.to_status for c in sam.status_changes] == [ProgrammeStatus.COMPLETED, ProgrammeStatus.LEFT]


def test_a_starter_who_never_starts_can_be_recorded_as_left_today(make, trust):
    later = make.programme(department=trust["ct"], start=TODAY + timedelta(days=20))
    with pytest.raises(ProgrammeRefused, match="today or in the past"):
        programme_admin.record_leaving(later, TODAY + timedelta(days=20), "Withdrew")
    with pytest.raises(ProgrammeRefused, match="as the programme has not started yet"):
        programme_admin.record_leaving(later, TODAY - timedelta(days=1), "Withdrew")
    programme_admin.record_leaving(later, TODAY, "Withdrew before starting")
    assert later.status is ProgrammeStatus.LEFT


# Refusals: a message by the field, what was typed kept, nothing changed ---------------------


REFUSALS = [
    # (set-up, posted form, field, message)
    (None, dict(action="pause", on=TODAY + timedelta(days=1), reason="Leave"), "on-day", "today or in the past"),
    (None, dict(action="pause", on=TODAY - timedelta(days=200), reason="Leave"), "on-day",
     "when the programme started"),
    (None, dict(action="pause", on=TODAY, reason=""), "reason", "Enter the reason"),
    (None, dict(action="pause", on=TODAY, reason="x" * 501), "reason", "500 characters or fewer"),
    (None, dict(action="pause", reason="Leave"), "on-day", "Enter the date the pause began"),
    (None, dict(action="resume", on=TODAY, reason="Back"), None, "it cannot be resumed"),
    ("pause", dict(action="extend", new_end=TODAY + timedelta(days=400), reason="More"), None,
     "paused, so it cannot be extended"),
    ("pause", dict(action="resume", on=TODAY - timedelta(days=8), reason="Back"), "on-day", "when the pause began"),
    ("pause", dict(action="complete", on=TODAY, reason="Done"), None, "paused, so it cannot be completed"),
    (None, dict(action="extend", new_end="end", reason="More"), "new_end-day", "must be after the current one"),
    (None, dict(action="extend", new_end="end+13m", reason="More"), "new_end-day", "no more than 12 months"),
    (None, {"action": "extend", "new_end[day]": "30", "new_end[month]": "2", "new_end[year]": "2027",
            "reason": "More"}, "new_end-day", "must be a real date"),
    (None, dict(action="complete", on=TODAY - timedelta(days=121), reason="Done"), "on-day",
     "when the programme started"),
    ("pause", dict(action="leave", on=TODAY - timedelta(days=6), reason="Moved"), "on-day",
     "the programme's last change"),
    ("leave", dict(action="leave", on=TODAY, reason="Again"), None, "closed because the preceptee left"),
]


@pytest.mark.parametrize("setup, posted, field, message", REFUSALS,
                         ids=[f"{p['action']}-{m[:24]}" for _, p, _, m in REFUSALS])
def test_each_refusal_shows_a_message_and_changes_nothing(client, trust, setup, posted, field, message):
    sam = trust["sam"]
    if setup == "pause":
        programmes.pause(sam, TODAY - timedelta(days=5), "Sickness absence")
    elif setup == "leave":
        programme_admin.record_leaving(sam, TODAY, "Moved away")
    db.session.commit()
    if posted.get("new_end") == "end":
        posted["new_end"] = sam.planned_end_date
    elif posted.get("new_end") == "end+13m":
        posted["new_end"] = programmes.add_months(sam.planned_end_date, 13)
    signed_in(client, "lead@test.nhs.uk")
    before = snapshot(sam.id)
    response = client.submit(f"/lead/programmes/{sam.id}", form(**posted))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and message in html.replace("&#39;", "'")
    if field:
        assert f'href="#{field}"' in html  # the summary links to the field, whose message is beside it
        assert "nhsuk-error-message" in html
    if posted.get("reason") and len(posted["reason"]) < 100:
        assert posted["reason"] in html  # what was typed is kept
    assert snapshot(sam.id) == before


def test_refusals_in_the_service_leave_the_programme_alone(trust):
    sam = trust["sam"]
    with pytest.raises(ProgrammeRefused) as refused:
        programmes.extend(sam, sam.planned_end_date - timedelta(days=1), "Shorter")
    assert refused.value.field == "new_end"
    with pytest.raises(ProgrammeRefused) as refused:
        programmes.pause(sam, TODAY, "   ")
    assert refused.value.field == "reason"
    db.session.rollback()
    assert snapshot(sam.id)[0] is ProgrammeStatus.ACTIVE


# Who may see what ---------------------------------------------------------------------------


def test_a_lead_sees_only_their_departments_and_an_admin_everything(client, app, trust):
    sam, mo = trust["sam"], trust["mo"]
    signed_in(client, "lead@test.nhs.uk")
    listed = client.get("/lead/programmes").get_data(as_text=True)
    assert "Sam Starter" in listed and "Mo Other" not in listed
    assert client.get(f"/lead/programmes/{mo.id}").status_code == 404
    before = snapshot(mo.id)
    refused = client.submit(f"/lead/programmes/{mo.id}", form(action="pause", on=TODAY, reason="Leave"),
                            token_from=f"/lead/programmes/{sam.id}")
    assert refused.status_code == 404 and snapshot(mo.id) == before
    assert trust["mri"].full_name not in listed  # not a department they can filter by either

    admin = app.test_client()
    signed_in(admin, "admin@test.nhs.uk")
    listed = admin.get("/lead/programmes").get_data(as_text=True)
    assert "Sam Starter" in listed and "Mo Other" in listed
    html = admin.get(f"/lead/programmes/{mo.id}").get_data(as_text=True)
    assert "Mo Other" in html and "Find a preceptor" not in html  # pairing is the lead's page


def test_a_preceptor_may_not(client, trust):
    signed_in(client, trust["priya"].email)
    assert client.get("/lead/programmes").status_code == 403
    assert client.get(f"/lead/programmes/{trust['sam'].id}").status_code == 403


# The list and the page ------------------------------------------------------------------------


def names_in(html: str) -> set[str]:
    return set(re.findall(r'<a href="/lead/programmes/\d+">([^<]+)</a>', html))


def test_the_list_searches_filters_and_pages(client, make, trust, monkeypatch):
    ct = trust["ct"]
    paused = make.programme(make.user(Role.PRECEPTEE, name="Pat Paused", email="p_p@test.nhs.uk"), ct)
    programmes.pause(paused, TODAY, "Leave")
    other = make.department("X-ray", site=ct.site)
    trust["lead"].lead_departments = [ct, other]
    make.programme(make.user(Role.PRECEPTEE, name="Xavier Ray"), other)
    db.session.commit()
    signed_in(client, "lead@test.nhs.uk")

    def shown(query: str = "") -> set[str]:
        return names_in(client.get(f"/lead/programmes?{query}").get_data(as_text=True))

    assert shown() == {"Sam Starter", "Pat Paused", "Xavier Ray"}
    assert shown("q=sTARTER") == {"Sam Starter"}
    assert shown("q=p_p@") == {"Pat Paused"}  # email; "_" is a character, not a wildcard
    assert shown("q=%25") == set()
    assert shown(f"department={other.id}") == {"Xavier Ray"}
    assert shown(f"department={trust['mri'].id}") == {"Sam Starter", "Pat Paused", "Xavier Ray"}  # not theirs
    assert shown("status=paused") == {"Pat Paused"}
    assert shown("status=running") == {"Sam Starter", "Pat Paused", "Xavier Ray"}
    assert shown("status=left") == set()
    assert shown("status=nonsense&page=-3") == {"Sam Starter", "Pat Paused", "Xavier Ray"}

    monkeypatch.setattr(programme_admin, "PER_PAGE", 2)
    first = client.get("/lead/programmes").get_data(as_text=True)
    assert names_in(first) == {"Pat Paused", "Sam Starter"} and "page 1 of 2" in first
    assert names_in(client.get("/lead/programmes?page=2").get_data(as_text=True)) == {"Xavier Ray"}
    assert names_in(client.get("/lead/programmes?page=9").get_data(as_text=True)) == {"Xavier Ray"}


def test_the_results_swap_in_place_with_htmx(client, trust):
    signed_in(client, "lead@test.nhs.uk")
    headers = {"HX-Request": "true", "HX-Target": "programme_results"}
    response = client.get("/lead/programmes?q=sam", headers=headers)
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="programme_results">') and "<html" not in fragment
    assert names_in(fragment) == {"Sam Starter"} and "Priya Preceptor" in fragment
    assert {"HX-Request", "HX-Target"} <= set(response.vary)
    page = client.get("/lead/programmes?q=sam").get_data(as_text=True)
    assert "<html" in page and 'hx-target="#programme_results"' in page


def test_the_list_takes_the_same_queries_however_many_rows(make, trust):
    with counted_queries() as few:
        assert len(programme_admin.find(None).rows) == 2
    for n in range(12):
        make.programme(department=trust["ct"], preceptor=trust["priya"] if n % 2 else None)
    db.session.flush()
    with counted_queries() as many:
        result = programme_admin.find(None)
    assert len(result.rows) == 14 and len(many) == len(few) == 2
    assert sum(1 for row in result.rows if row.preceptor == "Priya Preceptor") == 7


def test_the_programme_page_shows_counts_history_and_the_actions_allowed(client, trust):
    sam = trust["sam"]
    due = sorted(milestones(sam).values(), key=lambda m: m.due_date)
    due[0].status = MilestoneStatus.SIGNED_OFF  # week 0: signed off; weeks 2 to 16 (before day 120): overdue
    programmes.extend(sam, sam.planned_end_date + timedelta(days=30), "More time for <b>CT</b>", by=trust["lead"])
    db.session.commit()
    overdue = sum(1 for m in due[1:] if m.due_date < TODAY)
    signed_in(client, "lead@test.nhs.uk")
    html = client.get(f"/lead/programmes/{sam.id}").get_data(as_text=True)
    assert f"1 signed off, {len(due) - 1} open, {overdue} overdue" in html
    assert "More time for &lt;b&gt;CT&lt;/b&gt;" in html  # typed text is escaped
    assert "Active to extended" in html and "Lena Lead" in html
    assert "Priya Preceptor, since" in html and "Change preceptor" in html
    links = set(re.findall(r"\?action=(\w+)", html))
    assert links == {"pause", "extend", "complete", "leave"}
    assert client.get(f"/lead/programmes/{sam.id}?action=resume").get_data(as_text=True).count("<form") == \
        html.count("<form")  # an action the status does not allow shows no form

    programmes.pause(sam, TODAY, "Leave")
    db.session.commit()
    html = client.get(f"/lead/programmes/{sam.id}").get_data(as_text=True)
    assert set(re.findall(r"\?action=(\w+)", html)) == {"resume", "leave"}
    assert f"{len(due) - 1} open, 0 overdue" in html  # nothing is overdue while paused


def test_unknown_action_is_a_bad_request(client, trust):
    signed_in(client, "lead@test.nhs.uk")
    response = client.submit(f"/lead/programmes/{trust['sam'].id}", {"action": "delete"})
    assert response.status_code == 400
    assert snapshot(trust["sam"].id)[0] is ProgrammeStatus.ACTIVE
    assert db.session.scalar(select(func.count()).select_from(Allocation).where(Allocation.ends_on.is_not(None))) == 0
