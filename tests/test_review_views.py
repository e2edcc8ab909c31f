"""The preceptor's review queue and milestone pages: plain forms, htmx fragments, refusals."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import (
    Allocation,
    AllocationEndReason,
    AuditEvent,
    LogEntry,
    Milestone,
    MilestoneStatus,
    Role,
    SignOffRequest,
)
from preceptor.services import decisions, signoff_requests
from preceptor.services.framework import install_default_framework
from tests.factories import PASSWORD, Make

HTMX = {"HX-Request": "true"}


def ask(programme, n: int, title: str = "Reflection on a trauma call") -> Milestone:
    """A request whose evidence holds markup, to show it is escaped."""
    return Make().sign_off_request(programme, n, title, what_happened="<b>A busy night</b>",
                                   summary="Please sign this")


def fields(milestone: Milestone, decision: str, **values) -> dict:
    request = signoff_requests.waiting_request(milestone)
    prefix = f"m{milestone.id}-"
    data = {f"{prefix}decision": decision, f"{prefix}version": milestone.version, f"{prefix}origin": "queue",
            f"{prefix}seen": decisions.fingerprint(decisions.snapshot(request))}
    data.update({prefix + key: value for key, value in values.items()})
    return data


def sign_in(client, user):
    assert client.sign_in(user.email, PASSWORD).status_code == 302


def test_queue_lists_waiting_items_oldest_first_with_evidence_escaped(client, setting):
    programme, preceptor = setting
    first, second = ask(programme, 1, "First reflection"), ask(programme, 2, "Second reflection")
    sign_in(client, preceptor)
    html = client.get("/preceptor/queue").get_data(as_text=True)
    assert html.index(first.title) < html.index(second.title)
    assert "First reflection" in html and "Please sign this" in html
    assert "&lt;b&gt;A busy night&lt;/b&gt;" in html and "<b>A busy night</b>" not in html
    assert "2 items waiting for you" in html
    assert 'id="queue-count"' in html  # the header's count


def test_sign_off_as_a_plain_form_redirects_and_is_audited(client, setting):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    sign_in(client, preceptor)
    response = client.submit(f"/preceptor/milestones/{milestone.id}/decision",
                             fields(milestone, "sign_off", comment="Well reflected"), token_from="/preceptor/queue")
    assert response.status_code == 302 and response.headers["Location"].endswith("/preceptor/queue")
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.SIGNED_OFF
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "milestone.sign_off")) == 1
    html = client.get("/preceptor/queue").get_data(as_text=True)
    assert "Signed off “" in html and "Nothing is waiting for you" in html


def test_return_in_place_with_htmx_updates_the_item_and_the_count(client, setting):
    programme, preceptor = setting
    milestone, other = ask(programme, 1), ask(programme, 2)
    sign_in(client, preceptor)
    response = client.submit(f"/preceptor/milestones/{milestone.id}/decision",
                             fields(milestone, "return", action_plan="Add a second reflection"),
                             token_from="/preceptor/queue", headers={**HTMX, "HX-Target": f"item-{milestone.id}"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert f'id="item-{milestone.id}"' in html and "with your action plan" in html
    assert 'id="queue-count"' in html and 'hx-swap-oob="true"' in html and ">1<" in html
    assert '<div id="bulk-area" hx-swap-oob="true"></div>' in html  # one item left: nothing to do together
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.RETURNED
    assert signoff_requests.last_decision(milestone).action_plan == "Add a second reflection"
    assert other.title in client.get("/preceptor/queue").get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, {**HTMX}], ids=["plain", "htmx"])
def test_return_without_a_plan_keeps_the_comment_and_changes_nothing(client, setting, headers):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    sign_in(client, preceptor)
    if headers:
        headers = {**headers, "HX-Target": f"item-{milestone.id}"}
    response = client.submit(f"/preceptor/milestones/{milestone.id}/decision",
                             fields(milestone, "return", comment="Kept comment text"),
                             token_from="/preceptor/queue", headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html and "Write an action plan" in html
    assert f'href="#m{milestone.id}-action_plan"' in html and "nhsuk-textarea--error" in html  # by the field
    assert "Kept comment text" in html
    assert ("<html" in html) != bool(headers)
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.WAITING
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.in_(("milestone.sign_off", "milestone.return")))) == 0


def test_comment_over_the_cap_is_refused_by_the_field(client, setting):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    sign_in(client, preceptor)
    response = client.submit(f"/preceptor/milestones/{milestone.id}/decision",
                             fields(milestone, "sign_off", comment="x" * 2001), token_from="/preceptor/queue")
    assert "Comment must be 2,000 characters or fewer" in response.get_data(as_text=True)
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.WAITING


def test_second_tab_acting_on_a_decided_item_is_told_and_nothing_doubles(client, setting):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    sign_in(client, preceptor)
    stale = fields(milestone, "sign_off")  # the form as both tabs loaded it
    assert client.submit(f"/preceptor/milestones/{milestone.id}/decision", stale,
                         token_from="/preceptor/queue").status_code == 302
    again = client.submit(f"/preceptor/milestones/{milestone.id}/decision",
                          {**stale, f"m{milestone.id}-decision": "return", f"m{milestone.id}-action_plan": "More"},
                          token_from=f"/preceptor/milestones/{milestone.id}",
                          headers={**HTMX, "HX-Target": f"item-{milestone.id}"})
    html = again.get_data(as_text=True)
    assert "already been signed off" in html
    assert db.session.scalar(select(func.count()).select_from(SignOffRequest)
                             .where(SignOffRequest.decided_at.is_not(None))) == 1


def test_withdrawn_and_edited_items_are_refused_with_a_clear_message(client, setting):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    loaded = fields(milestone, "sign_off")
    entry = db.session.scalar(select(LogEntry).where(LogEntry.preceptorship_id == programme.id))
    entry.so_what = "Changed after the page was loaded"
    db.session.commit()
    sign_in(client, preceptor)
    html = client.submit(f"/preceptor/milestones/{milestone.id}/decision", loaded,
                         token_from="/preceptor/queue").get_data(as_text=True)
    assert "evidence was edited since you opened the page" in html
    loaded_after_edit = fields(milestone, "sign_off")
    signoff_requests.withdraw(db.session.get(Milestone, milestone.id))
    db.session.commit()
    html = client.submit(f"/preceptor/milestones/{milestone.id}/decision", loaded_after_edit,
                         token_from="/preceptor/queue").get_data(as_text=True)
    assert "no longer waiting: the preceptee may have withdrawn it" in html
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.IN_PROGRESS


def test_bulk_sign_off_records_each_item(client, setting):
    programme, preceptor = setting
    items = [ask(programme, n, f"Entry {n}") for n in (1, 2, 3)]
    sign_in(client, preceptor)
    data = {"milestone": [str(items[0].id), str(items[1].id)]}
    for m in items[:2]:
        data[f"version-{m.id}"] = m.version
        data[f"seen-{m.id}"] = fields(m, "sign_off")[f"m{m.id}-seen"]
    response = client.submit("/preceptor/queue/bulk", data, token_from="/preceptor/queue")
    assert response.status_code == 302
    statuses = [db.session.scalar(select(Milestone.status).where(Milestone.id == m.id)) for m in items]
    assert statuses == [MilestoneStatus.SIGNED_OFF, MilestoneStatus.SIGNED_OFF, MilestoneStatus.WAITING]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "milestone.sign_off")) == 2
    html = client.get("/preceptor/queue").get_data(as_text=True)
    assert "Signed off 2 items" in html and html.count('id="nhsuk-notification-banner-title"') == 1
    assert "Select for signing off together" not in html  # one item left: nothing to sign off together


def test_other_preceptor_past_preceptor_and_preceptee_are_refused(client, setting, make):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    stranger = make.preceptor()
    db.session.commit()
    path = f"/preceptor/milestones/{milestone.id}/decision"
    sign_in(client, stranger)
    assert client.get(f"/preceptor/milestones/{milestone.id}").status_code == 404
    assert client.submit(path, fields(milestone, "sign_off"), token_from="/preceptor/queue").status_code == 404
    assert milestone.title not in client.get("/preceptor/queue").get_data(as_text=True)
    client.sign_out()

    allocation = db.session.scalar(select(Allocation).where(Allocation.preceptorship_id == programme.id))
    allocation.ends_on, allocation.end_reason = date.today(), AllocationEndReason.LEAVE
    db.session.commit()
    sign_in(client, preceptor)
    assert client.submit(path, fields(milestone, "sign_off"), token_from="/preceptor/queue").status_code == 404
    assert client.get(f"/preceptor/preceptees/{programme.id}").status_code == 404
    client.sign_out()

    sign_in(client, programme.preceptee)
    assert client.submit(path, fields(milestone, "sign_off"), token_from="/preceptee/").status_code == 403
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.WAITING


def test_milestone_page_shows_decision_then_locked_evidence_history_and_reopen(client, setting):
    programme, preceptor = setting
    milestone = ask(programme, 1, "Before edit")
    sign_in(client, preceptor)
    page = f"/preceptor/milestones/{milestone.id}"
    assert "Return with action plan" in client.get(page).get_data(as_text=True)
    data = {**fields(milestone, "sign_off", comment="Good"), f"m{milestone.id}-origin": "milestone"}
    response = client.submit(f"{page}/decision", data, token_from=page)
    assert response.headers["Location"].endswith(page)
    entry = db.session.scalar(select(LogEntry).where(LogEntry.preceptorship_id == programme.id))
    entry.title = "After edit"
    db.session.commit()
    html = client.get(page).get_data(as_text=True)
    assert "Evidence that was signed off" in html and "Before edit" in html and "After edit" not in html
    assert "Sign-off requested" in html and "Signed off" in html  # history from the audit log
    assert "Reopen milestone" in html

    response = client.submit(f"{page}/reopen", {"reason": "", "version": milestone.version}, token_from=page)
    assert "Give a reason for reopening" in response.get_data(as_text=True)
    response = client.submit(f"{page}/reopen", {"reason": "Signed the wrong one", "version": milestone.version},
                             token_from=page)
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Reopened" in html and "Signed the wrong one" in html


def test_lead_reopens_in_scope_only(client, setting, make):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    decisions.sign_off(milestone, preceptor)
    outside = make.user(Role.EDUCATION_LEAD, email="outside@test.nhs.uk")
    outside.lead_departments.append(make.department())
    lead = make.user(Role.EDUCATION_LEAD, email="lead@test.nhs.uk")
    lead.lead_departments.append(programme.department)
    db.session.commit()
    page = f"/lead/milestones/{milestone.id}"
    sign_in(client, outside)
    assert client.get(page).status_code == 404
    client.sign_out()
    sign_in(client, lead)
    assert "Reopen milestone" in client.get(page).get_data(as_text=True)
    response = client.submit(f"{page}/reopen", {"reason": "Wrong milestone", "version": milestone.version},
                             token_from=page)
    assert response.status_code == 302
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.IN_PROGRESS


def test_preceptee_sees_the_decision_and_its_history(client, setting):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    decisions.return_with_plan(milestone, preceptor, "Add a reflection on feedback")
    db.session.commit()
    sign_in(client, programme.preceptee)
    html = client.get(f"/preceptee/milestones/{milestone.id}").get_data(as_text=True)
    assert "Returned with an action plan" in html and "Add a reflection on feedback" in html
    assert "Sign-off requested" in html  # the history panel


def test_after_a_stale_refusal_the_form_carries_the_item_as_it_is_now(client, setting):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    loaded = fields(milestone, "return", action_plan="Typed plan")
    entry = db.session.scalar(select(LogEntry).where(LogEntry.preceptorship_id == programme.id))
    entry.so_what = "Edited"
    db.session.commit()
    sign_in(client, preceptor)
    path = f"/preceptor/milestones/{milestone.id}/decision"
    first = client.submit(path, loaded, token_from="/preceptor/queue",
                          headers={**HTMX, "HX-Target": f"item-{milestone.id}"}).get_data(as_text=True)
    assert "evidence was edited" in first and "Typed plan" in first
    seen = re.search(rf'name="m{milestone.id}-seen" type="hidden" value="([^"]+)"', first).group(1)
    retry = client.submit(path, {**loaded, f"m{milestone.id}-seen": seen}, token_from="/preceptor/queue")
    assert retry.status_code == 302
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.RETURNED


def test_tampered_bulk_ids_are_ignored(client, setting):
    programme, preceptor = setting
    milestone = ask(programme, 1)
    sign_in(client, preceptor)
    response = client.submit("/preceptor/queue/bulk", {"milestone": ["²", "9" * 30, "-1"]},
                             token_from="/preceptor/queue")
    assert response.status_code == 302
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.WAITING


def test_nobody_signs_off_their_own_work(client, app, make):
    install_default_framework()
    both = make.user(Role.PRECEPTEE, Role.PRECEPTOR, email="both@test.nhs.uk")
    programme = make.programme(preceptee=both, preceptor=both)
    db.session.commit()
    milestone = ask(programme, 1)
    sign_in(client, both)
    response = client.submit(f"/preceptor/milestones/{milestone.id}/decision", fields(milestone, "sign_off"),
                             token_from="/preceptor/queue")
    assert response.status_code == 404
    db.session.refresh(milestone)
    assert milestone.status is MilestoneStatus.WAITING
