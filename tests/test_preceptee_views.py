"""The preceptee's pages: timeline, milestone, log and drafts, as pages and as fragments."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import Draft, EntryKind, LogEntry, Milestone, MilestoneStatus, SignOffRequest

from .factories import PASSWORD

FRAGMENT = {"HX-Request": "true"}


@pytest.fixture
def me(signed_in_preceptee):
    return signed_in_preceptee


def milestones(programme) -> list[Milestone]:
    return db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                              .order_by(Milestone.due_date, Milestone.id)).all()


def date_fields(day: date, name="occurred_on") -> dict:
    return {f"{name}[day]": day.day, f"{name}[month]": day.month, f"{name}[year]": day.year}


def reflection(**overrides) -> dict:
    return {"kind": "reflection", "title": "First trauma call", **date_fields(date.today() - timedelta(days=2)),
            "what_happened": "A busy resus", "so_what": "I froze briefly", "now_what": "Practise the sequence",
            **overrides}


# --- timeline --------------------------------------------------------------------------------

def test_timeline_page_and_fragment(client, me):
    filtered = client.get("/preceptee/timeline?status=not_started")
    assert filtered.status_code == 200  # the filter's "status" is not the HTTP status
    page = client.get("/preceptee/timeline").get_data(as_text=True)
    assert "<h1>Timeline</h1>" in page and "12 milestones" in page and "(overdue)" in page
    fragment = client.get("/preceptee/timeline?status=not_started",
                          headers={**FRAGMENT, "HX-Target": "timeline"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="timeline"') and "<h1>" not in html
    assert "HX-Request" in fragment.headers["Vary"]


def test_timeline_filters_by_status_and_principle(client, me):
    ms = milestones(me)
    ms[0].status = MilestoneStatus.SIGNED_OFF
    db.session.commit()
    html = client.get("/preceptee/timeline?status=signed_off").get_data(as_text=True)
    assert "1 milestone<" in html and ms[0].title in html
    html = client.get("/preceptee/timeline?principle=4").get_data(as_text=True)
    assert "2 milestones" in html and "Feedback on the preceptor given" in html  # principle 4: two defaults
    # Nonsense filters are ignored, not errors.
    assert client.get("/preceptee/timeline?status=<b>&principle=99").status_code == 200


# --- the log and drafts -----------------------------------------------------------------------

def test_add_a_reflection_linked_to_a_milestone(client, me):
    target = milestones(me)[1]
    response = client.submit("/preceptee/log/new?kind=reflection", reflection(milestones=[target.id]),
                             token_from="/preceptee/log/new?kind=reflection")
    assert response.status_code == 302
    entry = db.session.scalar(select(LogEntry))
    assert entry.title == "First trauma call" and entry.kind is EntryKind.REFLECTION
    db.session.expire_all()
    assert db.session.get(Milestone, target.id).status is MilestoneStatus.IN_PROGRESS
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Practise the sequence" in page and target.title in page


@pytest.mark.parametrize("overrides, message", [
    ({"title": ""}, "Enter a title"),
    ({"title": "t" * 161}, "160 characters or fewer"),
    ({"what_happened": ""}, "Describe what happened"),
    ({"so_what": "x" * 5001}, "5,000 characters or fewer"),
    ({"occurred_on[day]": "31", "occurred_on[month]": "2"}, "must be a real date"),
    ({"occurred_on[year]": "26"}, "Year must include 4 numbers"),
    ({"occurred_on[month]": ""}, "must include a month"),
    (date_fields(date.today() + timedelta(days=1)), "today or in the past"),
    (date_fields(date.today() - timedelta(days=400)), "on or after your programme started"),
    ({"hours": "25"}, "no more than 24"),
    ({"hours": "-1"}, "more than 0"),
    ({"hours": "NaN"}, "more than 0"),
    ({"hours": "Infinity"}, "more than 0"),
    ({"hours": "lots"}, "must be a number"),
])
def test_bad_entries_are_refused_next_to_the_field_and_kept(client, me, overrides, message):
    data = reflection(**overrides)
    response = client.submit("/preceptee/log/new?kind=reflection", data,
                             token_from="/preceptee/log/new?kind=reflection")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html
    assert "There is a problem" in html
    assert "A busy resus" in html or overrides.get("what_happened") == ""  # typed text kept
    assert db.session.scalar(select(LogEntry)) is None


def test_hours_are_required_for_cpd(client, me):
    data = {"kind": "cpd", "title": "IR(ME)R update", **date_fields(date.today()), "notes": "Online module"}
    html = client.submit("/preceptee/log/new?kind=cpd", data,
                         token_from="/preceptee/log/new?kind=cpd").get_data(as_text=True)
    assert "Enter the hours spent" in html
    ok = client.submit("/preceptee/log/new?kind=cpd", {**data, "hours": "1.5"},
                       token_from="/preceptee/log/new?kind=cpd")
    assert ok.status_code == 302 and db.session.scalar(select(LogEntry.hours)) == 1.5


def test_cannot_link_evidence_to_another_preceptees_milestone(client, me, make):
    theirs = make.programme()
    db.session.commit()
    their_milestone = milestones(theirs)[0]
    response = client.submit("/preceptee/log/new?kind=reflection", reflection(milestones=[their_milestone.id]),
                             token_from="/preceptee/log/new?kind=reflection")
    assert "Choose milestones from your own programme" in response.get_data(as_text=True)
    assert db.session.scalar(select(LogEntry)) is None


def test_autosaved_draft_is_restored_and_cleared_on_save(client, me):
    token = client.csrf_token("/preceptee/log/new?kind=reflection")
    first, second = milestones(me)[1:3]
    saved = client.post("/preceptee/drafts", data={"csrf_token": token, "draft_key": "log:new:reflection",
                                                   "title": "Half written", "what_happened": "So far",
                                                   "milestones": [first.id, second.id]},
                        headers=FRAGMENT)
    assert saved.status_code == 200 and "Draft saved at" in saved.get_data(as_text=True)
    page = client.get("/preceptee/log/new?kind=reflection").get_data(as_text=True)
    assert "We restored the draft" in page and 'value="Half written"' in page and "So far" in page
    checked = re.findall(r'<input[^>]*name="milestones"[^>]*value="(\d+)"[^>]*checked', page)
    assert sorted(map(int, checked)) == sorted([first.id, second.id])  # every ticked box comes back
    client.submit("/preceptee/log/new?kind=reflection", reflection(), token_from="/preceptee/log")
    assert db.session.scalar(select(Draft)) is None


def test_draft_keys_are_checked(client, me, make):
    other = make.programme()
    db.session.add(LogEntry(preceptorship=other, author_id=other.preceptee_id, kind=EntryKind.CPD, title="Theirs",
                            occurred_on=date.today(), hours=1))
    db.session.commit()
    theirs = db.session.scalar(select(LogEntry.id))
    token = client.csrf_token("/preceptee/log")
    assert client.post("/preceptee/drafts", data={"csrf_token": token, "draft_key": "../../etc"}).status_code == 400
    assert client.post("/preceptee/drafts",
                       data={"csrf_token": token, "draft_key": f"log:{theirs}", "title": "x"}).status_code == 404
    assert db.session.scalar(select(Draft)) is None


def test_log_search_filter_and_fragment(client, me):
    for n in range(23):
        db.session.add(LogEntry(preceptorship=me, author_id=me.preceptee_id, kind=EntryKind.CPD,
                                title=f"Course {n}", occurred_on=date.today(), hours=1, notes="contrast"))
    db.session.add(LogEntry(preceptorship=me, author_id=me.preceptee_id, kind=EntryKind.REFLECTION,
                            title="Anxious patient", occurred_on=date.today(), what_happened="MRI claustrophobia"))
    db.session.commit()
    page = client.get("/preceptee/log").get_data(as_text=True)
    assert "24 entries" in page and "Page 2 of 2" in page
    html = client.get("/preceptee/log?q=claustro", headers={**FRAGMENT, "HX-Target": "entries"}).get_data(as_text=True)
    assert "1 entry" in html and "Anxious patient" in html and "<h1>" not in html
    assert "0 entries" in client.get("/preceptee/log?q=zzz&kind=cpd").get_data(as_text=True)


# --- the milestone page ---------------------------------------------------------------------------

def test_request_and_withdraw_through_the_pages(client, me):
    target = milestones(me)[1]
    page = client.get(f"/preceptee/milestones/{target.id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = client.submit(f"/preceptee/milestones/{target.id}",
                             {"action": "request", "summary": "Met and agreed my plan", "version": version})
    assert response.status_code == 302
    page = client.get(f"/preceptee/milestones/{target.id}").get_data(as_text=True)
    assert "Waiting for your preceptor" in page and "Withdraw request" in page
    # Asking again from a stale page is refused with a clear message.
    again = client.submit(f"/preceptee/milestones/{target.id}",
                          {"action": "request", "summary": "Twice", "version": version})
    assert "changed since you opened the page" in again.get_data(as_text=True)
    assert db.session.scalar(select(SignOffRequest.id).where(SignOffRequest.summary == "Twice")) is None
    client.submit(f"/preceptee/milestones/{target.id}/withdraw", token_from=f"/preceptee/milestones/{target.id}")
    db.session.expire_all()
    assert db.session.get(Milestone, target.id).status is MilestoneStatus.NOT_STARTED


def test_request_without_summary_is_refused_next_to_the_field(client, me):
    target = milestones(me)[1]
    response = client.submit(f"/preceptee/milestones/{target.id}", {"action": "request", "summary": "",
                                                                    "version": str(target.version)})
    html = response.get_data(as_text=True)
    assert "Write a short summary for your preceptor" in html and 'href="#summary"' in html


@pytest.mark.parametrize("path", ["/preceptee/milestones/{m}", "/preceptee/log/{e}", "/preceptee/log/{e}/edit"])
def test_other_preceptees_records_are_not_found(client, me, make, path):
    other = make.programme()
    db.session.add(LogEntry(preceptorship=other, author_id=other.preceptee_id, kind=EntryKind.CPD,
                            title="Theirs", occurred_on=date.today(), hours=1))
    db.session.commit()
    theirs_entry = db.session.scalar(select(LogEntry.id))
    theirs_milestone = milestones(other)[0].id
    assert client.get(path.format(m=theirs_milestone, e=theirs_entry)).status_code == 404
    withdraw = client.submit(f"/preceptee/milestones/{theirs_milestone}/withdraw", token_from="/preceptee/")
    assert withdraw.status_code == 404


# --- a session that ends mid-form -------------------------------------------------------------

def _end_session(client):
    client.delete_cookie("session")


def test_form_posted_after_the_session_ended_goes_through_sign_in_and_back(client, me):
    token = client.csrf_token("/preceptee/log/new?kind=reflection")
    client.post("/preceptee/drafts", data={"csrf_token": token, "draft_key": "log:new:reflection",
                                           "title": "Long reflection", "what_happened": "Everything I wrote"})
    _end_session(client)
    response = client.post("/preceptee/log/new?kind=reflection", data={**reflection(), "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/preceptee/log/new?kind%3Dreflection"
    sign_in_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "it has been kept" in sign_in_page
    back = client.sign_in("nq@test.nhs.uk", PASSWORD, next="/preceptee/log/new?kind=reflection")
    assert back.headers["Location"] == "/preceptee/log/new?kind=reflection"
    form = client.get(back.headers["Location"]).get_data(as_text=True)
    assert "We restored the draft" in form and "Everything I wrote" in form
    assert db.session.scalar(select(LogEntry)) is None  # nothing half-saved


def test_autosave_after_the_session_ended_says_so_in_place(client, me):
    token = client.csrf_token("/preceptee/log/new?kind=reflection")
    _end_session(client)
    response = client.post("/preceptee/drafts", data={"csrf_token": token, "draft_key": "log:new:reflection"},
                           headers={**FRAGMENT, "HX-Current-URL": "http://localhost/preceptee/log/new?kind=reflection"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Not saved: your session has ended" in html
    assert "/sign-in?next=/preceptee/log/new?kind%3Dreflection" in html and "<h1>" not in html


def test_saving_tells_the_browser_to_forget_its_copy(client, me):
    response = client.submit("/preceptee/log/new?kind=reflection", reflection(), token_from="/preceptee/log")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-clear-draft="log:new:reflection"' in page
    signed_out = client.sign_out()
    assert 'data-clear-draft="*"' in client.get(signed_out.headers["Location"]).get_data(as_text=True)


def test_my_record_holds_everything_written_and_every_sign_off(client, me, make):
    from datetime import UTC, datetime

    entry = LogEntry(preceptorship=me, author_id=me.preceptee_id, kind=EntryKind.REFLECTION, title="Night shift",
                     occurred_on=date.today(), what_happened="First nights", so_what="Tired", now_what="Plan sleep")
    db.session.add(entry)
    target = milestones(me)[0]
    preceptor_id = me.allocations[0].preceptor_id
    db.session.add(SignOffRequest(milestone=target, requested_by_id=me.preceptee_id, summary="Done",
                                  status="signed_off", decided_by_id=preceptor_id, decided_at=datetime.now(UTC),
                                  comment="Great start"))
    target.status = MilestoneStatus.SIGNED_OFF
    db.session.commit()
    html = client.get("/preceptee/record").get_data(as_text=True)
    for text in ("First nights", "Plan sleep", "Great start", target.title, "Save as PDF"):
        assert text in html
    download = client.get("/preceptee/record?download=1")
    assert download.headers["Content-Disposition"].startswith('attachment; filename="preceptorship-record-')
    assert "First nights" in download.get_data(as_text=True)
    other = make.programme()
    db.session.add(LogEntry(preceptorship=other, author_id=other.preceptee_id, kind=EntryKind.CPD,
                            title="Someone else's course", occurred_on=date.today(), hours=2, notes="x"))
    db.session.commit()
    assert "Someone else's course" not in client.get("/preceptee/record").get_data(as_text=True)


def test_navigation_counts_milestones_due_soon(client, me):
    ms = milestones(me)  # 60 days in: weeks 0-8 are past, week 12 falls within 14 days at most
    today = date.today()
    expected = sum(1 for m in ms if m.due_date <= today + timedelta(days=14))
    html = client.get("/preceptee/").get_data(as_text=True)
    badge = f'<span id="due-count" class="app-count">{expected}<span class="nhsuk-u-visually-hidden"> due</span>'
    assert f"Timeline {badge}" in html
    ms[0].status = MilestoneStatus.SIGNED_OFF
    db.session.commit()
    html = client.get("/preceptee/").get_data(as_text=True)
    assert f'class="app-count">{expected - 1}<' in html


def test_sign_off_dialog_works_in_place_with_htmx(client, me):
    target = milestones(me)[1]
    region = {**FRAGMENT, "HX-Target": "request_form"}
    timeline = client.get("/preceptee/timeline").get_data(as_text=True)
    assert f'hx-get="/preceptee/milestones/{target.id}" hx-target="#request_form"' in timeline
    assert '<dialog id="signoff-dialog"' in timeline
    form = client.get(f"/preceptee/milestones/{target.id}", headers=region)
    html = form.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="request_form">') and "<h1>" not in html
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    token = client.csrf_token("/preceptee/timeline")
    refused = client.post(f"/preceptee/milestones/{target.id}", headers=region,
                          data={"csrf_token": token, "action": "request", "summary": "", "version": version})
    assert "Write a short summary" in refused.get_data(as_text=True) and "HX-Trigger" not in refused.headers
    done = client.post(f"/preceptee/milestones/{target.id}", headers=region,
                       data={"csrf_token": token, "action": "request", "summary": "All done", "version": version})
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "milestone-changed"
    assert "Sign-off requested" in done.get_data(as_text=True) and "Withdraw request" in done.get_data(as_text=True)
    withdrawn = client.post(f"/preceptee/milestones/{target.id}/withdraw", headers=region,
                            data={"csrf_token": token})
    assert "Request withdrawn" in withdrawn.get_data(as_text=True)
    again = client.post(f"/preceptee/milestones/{target.id}/withdraw", headers=region, data={"csrf_token": token})
    assert "no request waiting" in again.get_data(as_text=True)  # a clear message, in place
    db.session.expire_all()
    assert db.session.get(Milestone, target.id).status is MilestoneStatus.NOT_STARTED


def test_entries_are_added_and_edited_inline_on_the_log_page(client, me):
    panel = {**FRAGMENT, "HX-Target": "entry_panel"}
    log = client.get("/preceptee/log").get_data(as_text=True)
    assert '<div id="entry_panel"></div>' in log and 'hx-trigger="log-changed from:body"' in log
    kinds = client.get("/preceptee/log/new", headers=panel).get_data(as_text=True)
    assert kinds.lstrip().startswith('<div id="entry_panel">') and "<h2>What do you want to add?</h2>" in kinds
    form = client.get("/preceptee/log/new?kind=reflection", headers=panel).get_data(as_text=True)
    assert 'hx-post="/preceptee/log/new?kind=reflection" hx-target="#entry_panel"' in form
    token = client.csrf_token("/preceptee/log")
    refused = client.post("/preceptee/log/new?kind=reflection", headers=panel,
                          data={**reflection(title=""), "csrf_token": token})
    assert "Enter a title" in refused.get_data(as_text=True) and "HX-Trigger" not in refused.headers
    saved = client.post("/preceptee/log/new?kind=reflection", headers=panel, data={**reflection(), "csrf_token": token})
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and saved.headers["HX-Trigger"] == "log-changed"
    assert "Entry saved:" in html and 'data-clear-draft="log:new:reflection"' in html
    entry = db.session.scalar(select(LogEntry))
    edit = client.get(f"/preceptee/log/{entry.id}/edit", headers=panel).get_data(as_text=True)
    assert f'hx-post="/preceptee/log/{entry.id}/edit"' in edit and "<h2>Edit First trauma call</h2>" in edit
    client.post(f"/preceptee/log/{entry.id}/edit", headers=panel,
                data={**reflection(title="Trauma call, revisited"), "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(LogEntry, entry.id).title == "Trauma call, revisited"
    # Without htmx the same form is a page that posts normally (no hx-post on the form).
    page = client.get("/preceptee/log/new?kind=reflection").get_data(as_text=True)
    assert "<h1>Add a reflection</h1>" in page and 'hx-target="#entry_panel"' not in page
