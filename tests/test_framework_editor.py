"""The milestone framework editor: saving makes a new version and keeps the old one; new
programmes get the new version while running ones keep theirs until a lead or admin applies
it (due dates keep the time pauses and extensions added); refusals (no principle, a stale
form, a closed department) change nothing; retiring, restoring and adding milestones;
modality checklists; who may see and do what, and a lead's scope for applying."""

import re
import threading
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from preceptor.extensions import db
from preceptor.models import (
    AuditEvent,
    Checklist,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Preceptorship,
    Principle,
    Profession,
    Role,
    User,
    department_checklist,
    template_principle,
)
from preceptor.models._columns import utcnow
from preceptor.services import framework_apply as applying
from preceptor.services import framework_checklists as checklists
from preceptor.services import framework_editor as editor
from preceptor.services import framework_outdated as outdated
from preceptor.services import programmes
from preceptor.services.framework import install_default_framework
from preceptor.services.framework_editor import MilestoneDraft
from preceptor.transactions import commit

from .factories import PASSWORD

TODAY = date.today()
FRAGMENT = {"HX-Request": "true", "HX-Target": "outdated_results"}


@pytest.fixture
def trust(make):
    """The default framework; an admin; two departments with a lead for the first; a programme
    in each, started 100 days ago."""
    install_default_framework()
    ct, mri = make.department("CT"), make.department("MRI")
    admin = make.user(Role.ADMIN, email="admin@test.nhs.uk", name="Ada Admin")
    lead = make.user(Role.EDUCATION_LEAD, email="lead@test.nhs.uk", name="Lena Lead")
    lead.lead_departments = [ct]
    sam = make.programme(make.user(Role.PRECEPTEE, name="Sam Starter"), ct, start=TODAY - timedelta(days=100))
    mo = make.programme(make.user(Role.PRECEPTEE, name="Mo Other"), mri, start=TODAY - timedelta(days=100))
    db.session.commit()
    return {"ct": ct, "mri": mri, "admin": admin, "lead": lead, "sam": sam, "mo": mo}


def signed_in(client, email: str):
    assert client.sign_in(email, PASSWORD).status_code == 302
    return client


def current(key: str) -> MilestoneTemplate:
    db.session.expire_all()  # as the last request left it
    return db.session.scalar(select(MilestoneTemplate).where(MilestoneTemplate.key == key,
                                                             MilestoneTemplate.current.is_(True)))


def versions(key: str) -> list[MilestoneTemplate]:
    db.session.expire_all()
    return list(db.session.scalars(select(MilestoneTemplate).where(MilestoneTemplate.key == key)
                                   .order_by(MilestoneTemplate.version)))


def milestone_of(programme: Preceptorship, key: str) -> Milestone:
    return db.session.scalar(select(Milestone).join(MilestoneTemplate, MilestoneTemplate.id == Milestone.template_id)
                             .where(Milestone.preceptorship_id == programme.id, MilestoneTemplate.key == key))


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(table)) for table in
                 (MilestoneTemplate, template_principle, AuditEvent, Milestone, Checklist))


def form_of(template: MilestoneTemplate, **changes) -> dict:
    """The edit form as it opens for `template`, with `changes` typed over it."""
    weeks = template.due_offset_days % 7 == 0
    data = {"title": template.title, "guidance": template.guidance,
            "due": str(template.due_offset_days // 7 if weeks else template.due_offset_days),
            "due_unit": "weeks" if weeks else "days", "principles": [str(p.id) for p in template.principles],
            "applies_to": "everyone", "checklist": "", "version": str(template.version)}
    data.update(changes)
    return data


def draft(template: MilestoneTemplate, **changes) -> MilestoneDraft:
    return replace(editor.draft_of(template), **changes)


def edit(key: str, **changes) -> MilestoneTemplate:
    """Save a change through the service, as the trust's admin would, and commit."""
    template = current(key)
    admin = db.session.scalar(select(User).where(User.email == "admin@test.nhs.uk"))
    saved = editor.save(key, template.version, draft(template, **changes), admin)
    db.session.commit()
    return saved


def html(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:2000])
    return response.get_data(as_text=True)


# --- versions -------------------------------------------------------------------------------------

def test_saving_makes_version_2_and_keeps_version_1(client, trust):
    signed_in(client, "admin@test.nhs.uk")
    v1 = current("initial-meeting")
    page = html(client.get("/admin/framework/milestones/initial-meeting/edit"))
    assert 'name="version" type="hidden" value="1"' in page and "Saving makes version 2" in page

    response = client.submit("/admin/framework/milestones/initial-meeting/edit", form_of(v1, due="3"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/framework/milestones/initial-meeting"
    old, new = versions("initial-meeting")
    assert (old.id, old.version, old.current, old.due_offset_days) == (v1.id, 1, False, 14)
    assert (new.version, new.current, new.due_offset_days, new.title) == (2, True, 21, v1.title)
    assert [p.id for p in new.principles] == [3, 5] and [p.id for p in old.principles] == [3, 5]
    assert new.completed_by_meeting is old.completed_by_meeting and new.position == old.position
    assert new.created_by_id == trust["admin"].id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "milestone_template.edit"))
    assert (event.object_id, event.actor_id) == (new.id, trust["admin"].id)
    assert event.details == {"key": "initial-meeting", "from_template_id": old.id, "from_version": 1,
                             "to_version": 2, "changes": {"due_offset_days": [14, 21]}}

    followed = html(client.get(response.headers["Location"]))
    assert "Version 2 of “Initial meeting and learning needs analysis” is saved" in followed
    assert "Due: 2 weeks after the start to 3 weeks after the start" in followed
    assert "Ada Admin" in followed and "Version 1 installed with the default framework" in followed


def test_new_programmes_get_the_new_version_running_ones_keep_theirs(make, trust):
    edit("initial-meeting", due_offset_days=21, title="Initial meeting")
    new = make.programme(department=trust["ct"], start=TODAY)
    db.session.commit()
    assert milestone_of(new, "initial-meeting").template.version == 2
    assert milestone_of(new, "initial-meeting").due_date == TODAY + timedelta(days=21)
    running = milestone_of(trust["sam"], "initial-meeting")
    assert (running.template.version, running.title) == (1, "Initial meeting and learning needs analysis")
    assert running.due_date == trust["sam"].start_date + timedelta(days=14)


def test_an_unchanged_form_writes_nothing(client, trust):
    signed_in(client, "admin@test.nhs.uk")
    before = counts()
    response = client.submit("/admin/framework/milestones/wellbeing/edit", form_of(current("wellbeing")))
    assert response.status_code == 302
    assert counts() == before
    assert "Nothing was changed: version 1 of “Wellbeing conversation” is still current" in html(
        client.get(response.headers["Location"]))


def test_a_milestone_with_no_principle_is_refused_and_nothing_changes(client, trust):
    signed_in(client, "admin@test.nhs.uk")
    before = counts()
    typed = form_of(current("wellbeing"), title="Wellbeing check-in", principles=[])
    page = html(client.submit("/admin/framework/milestones/wellbeing/edit", typed), 400)
    assert counts() == before
    assert page.count("Choose at least one HCPC principle") == 2  # the summary and beside the checkboxes
    assert 'href="#principles"' in page and 'value="Wellbeing check-in"' in page  # what was typed is kept
    assert current("wellbeing").title == "Wellbeing conversation"
    with pytest.raises(editor.FrameworkRefused, match="Choose at least one HCPC principle"):
        editor.save("wellbeing", 1, draft(current("wellbeing"), principle_ids=()), trust["admin"])
    db.session.rollback()
    assert counts() == before


def test_a_stale_form_is_refused_and_keeps_what_was_typed(client, trust):
    signed_in(client, "admin@test.nhs.uk")
    opened = form_of(current("wellbeing"), title="Wellbeing check-in")  # opened at version 1
    edit("wellbeing", due_offset_days=18 * 7)  # someone else saves version 2 meanwhile
    before = counts()
    page = html(client.submit("/admin/framework/milestones/wellbeing/edit", opened), 409)
    assert counts() == before
    assert "Someone else saved version 2 of this milestone since you opened version 1" in page
    assert 'value="Wellbeing check-in"' in page
    assert 'name="version" type="hidden" value="2"' in page  # saving again is a deliberate choice
    assert [t.version for t in versions("wellbeing")] == [1, 2]
    assert current("wellbeing").title == "Wellbeing conversation"


@pytest.mark.parametrize("changes, field, message", [
    ({"title": ""}, "title", "Enter the milestone’s title"),
    ({"title": "x" * 161}, "title", "Title must be 160 characters or fewer"),
    ({"due": "157"}, "due", "Due must be a whole number of weeks from 0 to 156"),
    ({"due": "1096", "due_unit": "days"}, "due", "Due must be a whole number of days from 0 to 1,095"),
    ({"due": "-1"}, "due", "Due must be a whole number of weeks from 0 to 156"),
    ({"applies_to": "profession:dentistry"}, "applies_to", "Choose who this milestone applies to"),
    ({"principles": ["9"]}, "principles", "Choose at least one HCPC principle"),
])
def test_bad_input_is_refused_beside_its_field(client, trust, changes, field, message):
    signed_in(client, "admin@test.nhs.uk")
    before = counts()
    page = html(client.submit("/admin/framework/milestones/wellbeing/edit", form_of(current("wellbeing"), **changes)),
                400)
    assert counts() == before
    assert f'href="#{field}"' in page and message in page


def test_a_department_scope_must_be_an_open_department(client, make, trust):
    closed = make.department("Closed", archived_at=utcnow())
    db.session.commit()
    signed_in(client, "admin@test.nhs.uk")
    before = counts()
    page = html(client.submit("/admin/framework/milestones/wellbeing/edit",
                              form_of(current("wellbeing"), applies_to=f"department:{closed.id}")), 400)
    assert "Choose a department that is open" in page and counts() == before

    response = client.submit("/admin/framework/milestones/wellbeing/edit",
                             form_of(current("wellbeing"), applies_to=f"department:{trust['mri'].id}"))
    assert response.status_code == 302
    assert current("wellbeing").scope_department_id == trust["mri"].id
    assert "wellbeing" not in {t.key for t in programmes.applicable_templates(trust["ct"])}
    assert "wellbeing" in {t.key for t in programmes.applicable_templates(trust["mri"])}


def test_adding_a_milestone_makes_a_unique_key(client, trust):
    signed_in(client, "admin@test.nhs.uk")
    data = {"title": "Initial meeting", "guidance": "", "due": "10", "due_unit": "days", "principles": ["2"],
            "applies_to": "profession:therapeutic", "checklist": ""}
    response = client.submit("/admin/framework/new", data)
    assert response.headers["Location"] == "/admin/framework/milestones/initial-meeting-2"
    added = current("initial-meeting-2")
    assert (added.version, added.due_offset_days, added.scope_profession) == (1, 10, Profession.THERAPEUTIC)
    assert current("initial-meeting").version == 1  # the default one is untouched
    client.submit("/admin/framework/new", {**data, "title": "Initial meeting!"})
    assert current("initial-meeting-3").title == "Initial meeting!"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "milestone_template.add")) == 2


def test_retiring_and_restoring(client, make, trust):
    signed_in(client, "admin@test.nhs.uk")
    page = html(client.get("/admin/framework/milestones/wellbeing?confirm=retire"))
    assert "Retire “Wellbeing conversation”?" in page
    refused = client.submit("/admin/framework/milestones/wellbeing/retire", {"version": "1", "reason": ""})
    assert "Enter why this milestone is being retired" in html(refused, 400) and current("wellbeing") is not None

    response = client.submit("/admin/framework/milestones/wellbeing/retire",
                             {"version": "1", "reason": "Covered by the two-monthly reviews"})
    assert response.status_code == 302 and current("wellbeing") is None
    new = make.programme(department=trust["ct"], start=TODAY)
    db.session.commit()
    assert milestone_of(new, "wellbeing") is None
    assert milestone_of(trust["sam"], "wellbeing") is not None  # running programmes keep theirs
    plan = applying.plan_for(trust["sam"])
    assert [m.title for m in plan.kept] == ["Wellbeing conversation"] and plan.empty
    page = html(client.get("/admin/framework"))
    assert 'id="retired"' in page and "Wellbeing conversation" in page.split('id="retired"')[1]
    history = html(client.get("/admin/framework/milestones/wellbeing"))
    assert "Retired (version 1)" in history and "Covered by the two-monthly reviews" in history

    page = html(client.get("/admin/framework/milestones/wellbeing/edit"))
    assert 'name="mode" value="restore"' in page and "This milestone is retired" in page
    restored = client.submit("/admin/framework/milestones/wellbeing/edit",
                             form_of(versions("wellbeing")[-1], mode="restore"))
    assert restored.status_code == 302
    assert [(t.version, t.current) for t in versions("wellbeing")] == [(1, True)]  # unchanged: version 1 again
    assert "Restored as version 1" in html(client.get("/admin/framework/milestones/wellbeing"))


def test_a_form_opened_before_someone_retired_the_milestone_does_not_restore_it(client, trust):
    signed_in(client, "admin@test.nhs.uk")
    opened = form_of(current("wellbeing"), title="Wellbeing check-in")
    editor.retire("wellbeing", 1, "Not needed", trust["admin"])
    db.session.commit()
    before = counts()
    page = html(client.submit("/admin/framework/milestones/wellbeing/edit", opened), 409)
    assert "Someone else retired this milestone since you opened it" in page
    assert counts() == before and current("wellbeing") is None


# --- applying to running programmes ---------------------------------------------------------------

def test_applying_moves_due_dates_and_keeps_the_time_a_pause_added(client, make, trust):
    sam = trust["sam"]
    start = sam.start_date
    programmes.pause(sam, start + timedelta(days=20), "Sickness")
    programmes.resume(sam, start + timedelta(days=30), "Back at work")  # 10 days paused
    db.session.commit()
    assert milestone_of(sam, "initial-meeting").due_date == start + timedelta(days=14)  # due before the pause
    assert milestone_of(sam, "first-review").due_date == start + timedelta(days=56 + 10)
    edit("first-review", due_offset_days=63, title="First review")
    edit("initial-meeting", due_offset_days=21)
    signed_off = milestone_of(sam, "preceptor-allocated")
    signed_off.status = MilestoneStatus.SIGNED_OFF
    db.session.commit()
    edit("preceptor-allocated", title="Preceptor named")
    for title, week in (("Early check-in", 1), ("Team welcome", 6)):
        editor.add(MilestoneDraft(title, "", week * 7, (1,)), trust["admin"])
    db.session.commit()

    signed_in(client, "lead@test.nhs.uk")
    page = html(client.get(f"/admin/framework/apply/{sam.id}"))
    assert "Milestones that will be updated" in page and "was “First two-monthly review”" in page
    fingerprint = applying.plan_for(sam).fingerprint
    assert f'value="{fingerprint}"' in page
    response = client.submit(f"/admin/framework/apply/{sam.id}", {"fingerprint": fingerprint})
    assert response.status_code == 302
    db.session.expire_all()

    review = milestone_of(sam, "first-review")
    assert (review.template.version, review.title) == (2, "First review")
    assert review.due_date == start + timedelta(days=63 + 10)  # new offset + the pause's 10 days
    # Moved from day 14 (before the pause) to day 21 (inside it): the pause now moves it too, as it
    # moves a milestone added at day 21.
    assert milestone_of(sam, "initial-meeting").due_date == start + timedelta(days=21 + 10)
    kept = milestone_of(sam, "preceptor-allocated")
    assert (kept.template.version, kept.title) == (1, "Named preceptor allocated")  # signed off: as signed
    assert milestone_of(sam, "early-check-in").due_date == start + timedelta(days=7)
    assert milestone_of(sam, "team-welcome").due_date == start + timedelta(days=42 + 10)
    assert milestone_of(trust["mo"], "first-review").template.version == 1  # only the programme applied to

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "preceptorship.apply_framework"))
    assert (event.object_id, event.preceptorship_id, event.actor_id) == (sam.id, sam.id, trust["lead"].id)
    moved = {m["key"]: m for m in event.details["moved"]}
    assert set(moved) == {"first-review", "initial-meeting"}
    assert moved["first-review"] | {} == {
        "milestone_id": review.id, "key": "first-review", "from_template_id": versions("first-review")[0].id,
        "from_version": 1, "to_template_id": review.template_id, "to_version": 2,
        "due_before": (start + timedelta(days=66)).isoformat(), "due_after": (start + timedelta(days=73)).isoformat()}
    assert {a["key"] for a in event.details["added"]} == {"early-check-in", "team-welcome"}
    assert applying.plan_for(sam).empty


def test_an_extension_moves_an_added_milestone_as_it_moved_the_others(make, trust):
    sam = trust["sam"]
    end = sam.planned_end_date
    programmes.extend(sam, end + timedelta(days=28), "More time for CT")
    db.session.commit()
    editor.add(MilestoneDraft("Portfolio review", "", 50 * 7, (5,)), trust["admin"])
    editor.add(MilestoneDraft("Half-year check", "", 26 * 7, (5,)), trust["admin"])
    db.session.commit()
    additions = {a.template.key: a.due for a in applying.plan_for(sam).additions}
    assert additions["portfolio-review"] == sam.start_date + timedelta(days=350 + 28)  # in the old plan's last 6 weeks
    assert additions["half-year-check"] == sam.start_date + timedelta(days=182)


def test_the_list_matches_each_programmes_plan(make, trust):
    """The set-based list and the per-programme plan use the same rule (applicable_templates)."""
    ct_list = Checklist(name="CT")
    db.session.add(ct_list)
    db.session.flush()
    db.session.execute(department_checklist.insert().values(department_id=trust["ct"].id, checklist_id=ct_list.id))
    editor.add(MilestoneDraft("Contrast injections", "", 70, (3,), checklist_id=ct_list.id), trust["admin"])
    editor.add(MilestoneDraft("Radiotherapy planning", "", 70, (3,), scope_profession=Profession.THERAPEUTIC),
               trust["admin"])
    editor.add(MilestoneDraft("MRI safety", "", 14, (2,), scope_department_id=trust["mri"].id), trust["admin"])
    db.session.commit()
    edit("wellbeing", guidance="New guidance")
    edit("mid-point-review", scope_profession=Profession.THERAPEUTIC)  # no longer for these diagnostic programmes
    finished = make.programme(department=trust["ct"], start=TODAY - timedelta(days=400))
    finished.status = programmes.ProgrammeStatus.COMPLETED
    db.session.commit()

    rows = {r.programme_id: r for r in outdated.outdated_programmes(None)}
    assert set(rows) == {trust["sam"].id, trust["mo"].id}  # not the completed programme
    for programme in (trust["sam"], trust["mo"]):
        plan = applying.plan_for(programme)
        assert (rows[programme.id].to_move, rows[programme.id].to_add) == (len(plan.moves), len(plan.additions))
    sam_plan = applying.plan_for(trust["sam"])
    assert {a.template.key for a in sam_plan.additions} == {"contrast-injections"}
    assert [m.title for m in sam_plan.kept] == ["Mid-point review"]
    assert {a.template.key for a in applying.plan_for(trust["mo"]).additions} == {"mri-safety"}
    assert outdated.outdated_programmes([trust["ct"].id])[0].preceptee == "Sam Starter"
    assert outdated.older_version_counts(None) == {"wellbeing": 2}
    assert outdated.programmes_to_update(None) == 2 and outdated.programmes_to_update([trust["mri"].id]) == 1


def test_a_lead_applies_only_within_their_departments(client, trust):
    edit("wellbeing", title="Wellbeing check-in")
    mo = trust["mo"]  # in MRI, which the lead does not lead
    signed_in(client, "lead@test.nhs.uk")
    page = html(client.get("/admin/framework/apply"))
    assert "Sam Starter" in page and "Mo Other" not in page
    assert client.get(f"/admin/framework/apply/{mo.id}").status_code == 404
    fingerprint = applying.plan_for(mo).fingerprint
    before = counts()
    assert client.submit(f"/admin/framework/apply/{mo.id}", {"fingerprint": fingerprint},
                         token_from="/admin/framework").status_code == 404
    assert counts() == before and milestone_of(mo, "wellbeing").template.version == 1
    # Leads read the framework but cannot change it.
    assert "Add a milestone" not in html(client.get("/admin/framework"))
    assert client.get("/admin/framework/milestones/wellbeing/edit").status_code == 403
    assert client.submit("/admin/framework/milestones/wellbeing/edit", form_of(current("wellbeing"), title="X"),
                         token_from="/admin/framework").status_code == 403
    assert "Change this milestone" not in html(client.get("/admin/framework/milestones/wellbeing"))


def test_the_list_filters_in_place_page_and_fragment(client, trust):
    edit("wellbeing", title="Wellbeing check-in")
    signed_in(client, "admin@test.nhs.uk")
    page = client.get("/admin/framework/apply")
    body = html(page)
    assert "<html" in body and "2 programmes to update." in body and {"HX-Request", "HX-Target"} <= set(page.vary)
    fragment = client.get(f"/admin/framework/apply?department={trust['mri'].id}", headers=FRAGMENT)
    part = html(fragment)
    assert part.lstrip().startswith('<div id="outdated_results">') and "<html" not in part
    assert "1 programme to update." in part and "Mo Other" in part and "Sam Starter" not in part
    # Without JavaScript the same address gives the whole page.
    whole = html(client.get(f"/admin/framework/apply?department={trust['mri'].id}"))
    assert "<html" in whole and "Mo Other" in whole and "Sam Starter" not in whole


def test_apply_to_everything_listed_in_one_go_and_a_stale_list_is_refused(client, trust):
    edit("wellbeing", title="Wellbeing check-in")
    signed_in(client, "admin@test.nhs.uk")
    page = html(client.get("/admin/framework/apply?confirm=all"))
    assert "Apply the current framework to every programme listed?" in page
    stamp = outdated.list_stamp(outdated.outdated_programmes(None))
    assert f'value="{stamp}"' in page

    edit("wellbeing", title="Wellbeing conversation (revised)")  # saved while the page was open
    before = counts()
    refused = client.submit("/admin/framework/apply", {"fingerprint": stamp, "department": ""})
    assert "The framework or these programmes changed since you opened this page" in html(refused, 409)
    assert counts() == before

    stamp = outdated.list_stamp(outdated.outdated_programmes(None))
    response = client.submit("/admin/framework/apply", {"fingerprint": stamp, "department": ""})
    assert response.status_code == 302
    assert "applied to 2 programmes: 2 milestones updated and 0 added" in html(client.get(response.headers["Location"]))
    db.session.expire_all()
    for programme in (trust["sam"], trust["mo"]):
        assert milestone_of(programme, "wellbeing").title == "Wellbeing conversation (revised)"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "preceptorship.apply_framework")) == 2


def test_a_changed_plan_or_a_concurrent_change_applies_nothing(client, trust, monkeypatch):
    edit("wellbeing", title="Wellbeing check-in")
    sam = trust["sam"]
    signed_in(client, "admin@test.nhs.uk")
    old = applying.plan_for(sam).fingerprint
    edit("two-reflections", title="Two reflections")
    before = counts()
    page = html(client.submit(f"/admin/framework/apply/{sam.id}", {"fingerprint": old}), 409)
    assert "changed since you opened this page" in page and counts() == before
    assert "Two reflections" in page  # the page now shows the new plan

    # A sign-off saved between reading the plan and writing it: the version check refuses it.
    real = applying.plan_for

    def racing(programme):
        plan = real(programme)
        db.session.execute(text("UPDATE milestone SET version = version + 1 WHERE id = :id"),
                           {"id": plan.moves[0].milestone.id})
        return plan

    monkeypatch.setattr(applying, "plan_for", racing)
    page = html(client.submit(f"/admin/framework/apply/{sam.id}", {"fingerprint": real(sam).fingerprint}), 409)
    assert "Someone else changed one of these programmes" in page and counts() == before
    monkeypatch.undo()
    db.session.expire_all()
    assert milestone_of(sam, "wellbeing").template.version == 1


def test_milestone_pages_show_the_framework_version(client, make, trust):
    edit("wellbeing", title="Wellbeing check-in")
    new = make.programme(make.user(Role.PRECEPTEE, email="nq@test.nhs.uk"), trust["ct"], start=TODAY)
    db.session.commit()
    milestone = milestone_of(new, "wellbeing")
    signed_in(client, "nq@test.nhs.uk")
    page = html(client.get(f"/preceptee/milestones/{milestone.id}"))
    created = milestone.template.created_at.date()
    assert f"Version 2, from {created.day} {created:%B %Y}" in page
    client.sign_out()
    signed_in(client, "lead@test.nhs.uk")
    old = milestone_of(trust["sam"], "wellbeing")
    assert "Version 1, from" in html(client.get(f"/lead/milestones/{old.id}"))


def test_the_framework_page(client, make, trust):
    edit("wellbeing", title="Wellbeing check-in")
    editor.add(MilestoneDraft("Therapy planning", "", 70, (5,), scope_profession=Profession.THERAPEUTIC),
               trust["admin"])
    editor.add(MilestoneDraft("MRI safety", "", 10, (2,), scope_department_id=trust["mri"].id), trust["admin"])
    checklists.create_checklist("Fluoroscopy", trust["admin"])
    db.session.commit()
    signed_in(client, "admin@test.nhs.uk")
    page = html(client.get("/admin/framework"))
    headings = ["Core milestones: everyone", "Therapeutic radiography", f"MRI, {trust['mri'].site.name}",
                "Checklist: Fluoroscopy", "The HCPC principles for preceptorship"]
    assert [page.index(h) for h in headings] == sorted(page.index(h) for h in headings)
    row = page.split('id="milestone-wellbeing"')[1].split("</tr>")[0]
    assert "Wellbeing check-in" in row and "16 weeks after the start" in row and ">2<" in row
    assert row.rstrip().endswith('<td class="nhsuk-table__cell">2</td>')  # both running programmes on version 1
    assert "2 running programmes do not follow the current framework yet" in " ".join(page.split())
    assert "10 days after the start" in page and "Organisational culture and preceptorship" in page


# --- modality checklists --------------------------------------------------------------------------

def test_checklists_create_rename_archive_and_restore(client, make, trust):
    signed_in(client, "admin@test.nhs.uk")
    response = client.submit("/admin/framework/checklists", {"name": "CT"})
    checklist = db.session.scalar(select(Checklist).where(Checklist.name == "CT"))
    assert response.headers["Location"] == f"/admin/framework/checklists/{checklist.id}"
    before = counts()
    assert "There is already a checklist called “CT”" in html(client.submit("/admin/framework/checklists",
                                                                            {"name": "ct"}), 400)
    assert counts() == before

    page = html(client.get(f"/admin/framework/new?checklist={checklist.id}"))
    assert re.search(rf'<option value="{checklist.id}" selected\s*>CT</option>', page)
    client.submit("/admin/framework/new", {"title": "Contrast injections", "due": "8", "due_unit": "weeks",
                                           "principles": ["3"], "applies_to": "everyone",
                                           "checklist": str(checklist.id)})
    db.session.execute(department_checklist.insert().values(department_id=trust["ct"].id, checklist_id=checklist.id))
    db.session.commit()
    assert "contrast-injections" in {t.key for t in programmes.applicable_templates(trust["ct"])}
    assert "contrast-injections" not in {t.key for t in programmes.applicable_templates(trust["mri"])}

    client.submit(f"/admin/framework/checklists/{checklist.id}", {"action": "rename", "name": "Computed tomography"})
    db.session.expire_all()
    assert checklist.name == "Computed tomography"
    page = html(client.get(f"/admin/framework/checklists/{checklist.id}?confirm=archive"))
    assert "Its 1 milestone will be retired" in page
    client.submit(f"/admin/framework/checklists/{checklist.id}", {"action": "archive"})
    db.session.expire_all()
    assert checklist.archived_at is not None and current("contrast-injections") is None
    assert "contrast-injections" not in {t.key for t in programmes.applicable_templates(trust["ct"])}
    client.submit(f"/admin/framework/checklists/{checklist.id}", {"action": "restore"})
    db.session.expire_all()
    assert checklist.archived_at is None
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "checklist")))
    assert actions == {"checklist.create", "checklist.rename", "checklist.archive", "checklist.restore"}


# --- at the same time (PostgreSQL: row locks) -----------------------------------------------------

def race(app, *changes) -> list[str]:
    """Run each change in its own thread and session, released together; each result is "saved"
    or the message it was refused with."""
    db.session.remove()
    barrier = threading.Barrier(len(changes))
    outcomes: list[str] = []

    def run(change):
        with app.app_context():
            refused: list[str] = []
            try:
                barrier.wait()
                saved = commit(change, refused, stale="lost race", refusals=(editor.FrameworkRefused,))
                outcomes.append("saved" if saved else refused[0])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(change,)) for change in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_admins_saving_one_milestone_at_once_make_one_version(app, trust, databases):
    if databases.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time; row locks are PostgreSQL's question")
    admin_id, v1 = trust["admin"].id, current("wellbeing")
    drafts = [draft(v1, title="Wellbeing check-in"), draft(v1, title="Wellbeing chat")]
    outcomes = race(app, *(lambda d=d: editor.save("wellbeing", 1, d, db.session.get(User, admin_id))
                           for d in drafts))
    assert sorted(outcomes) == sorted(["saved", editor.STALE.format(version=2, opened=1)])
    assert [(t.version, t.current) for t in versions("wellbeing")] == [(1, False), (2, True)]


def test_two_leads_applying_to_one_programme_at_once_apply_it_once(app, trust, databases):
    if databases.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time; row locks are PostgreSQL's question")
    editor.add(MilestoneDraft("Early check-in", "", 7, (1,)), trust["admin"])  # only an addition: no version check
    db.session.commit()
    sam_id, fingerprint = trust["sam"].id, applying.plan_for(trust["sam"]).fingerprint
    outcomes = race(app, *(lambda: applying.apply_to_programme(sam_id, fingerprint) for _ in range(2)))
    assert sorted(outcomes) == sorted(["saved", applying.PLAN_CHANGED])
    db.session.expire_all()
    added = db.session.scalar(select(func.count()).select_from(Milestone).join(MilestoneTemplate)
                              .where(Milestone.preceptorship_id == sam_id, MilestoneTemplate.key == "early-check-in"))
    assert added == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "preceptorship.apply_framework")) == 1


def test_an_archived_checklist_gives_new_programmes_nothing(make):
    """Even a current milestone left in an archived checklist (archiving retires them, but a
    save racing the archive could leave one) is not given to a new programme."""
    ct = make.department("CT")
    checklist = Checklist(name="CT contrast")
    db.session.add(checklist)
    db.session.flush()
    db.session.execute(department_checklist.insert().values(department_id=ct.id, checklist_id=checklist.id))
    db.session.add(MilestoneTemplate(key="contrast", title="Contrast competence", due_offset_days=30,
                                     checklist_id=checklist.id, principles=[db.session.get(Principle, 1)]))
    db.session.flush()
    assert "contrast" in {t.key for t in programmes.applicable_templates(ct)}
    checklist.archived_at = utcnow()
    db.session.flush()
    assert "contrast" not in {t.key for t in programmes.applicable_templates(ct)}
    applies = db.session.scalars(select(MilestoneTemplate.key).where(outdated.applies_to(MilestoneTemplate, ct)))
    assert "contrast" not in set(applies)
