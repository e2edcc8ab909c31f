"""Every route x every role (and anonymous) gets the expected status.

The table is checked against the app's URL map: a new route without an entry fails here,
so nobody adds a page without deciding who may see it.
"""

import pytest

from preceptor.extensions import db
from preceptor.models import Role

ANON, PRECEPTEE, PRECEPTOR, LEAD, ADMIN = "anonymous", "preceptee", "preceptor", "education_lead", "admin"
SIGNED_IN = (PRECEPTEE, PRECEPTOR, LEAD, ADMIN)


def owned(method_status: int = 404) -> dict[str, int]:
    """A preceptee's object that this preceptee does not own: 404 for them (never 403, so an
    id reveals nothing), 403 for other roles, sign-in for anonymous."""
    return {**only(PRECEPTEE), PRECEPTEE: method_status}


def preceptor_owned(method_status: int = 404) -> dict[str, int]:
    """An object of a programme this preceptor does not currently precept: 404 for them,
    403 for other roles, sign-in for anonymous."""
    return {**only(PRECEPTOR), PRECEPTOR: method_status}


def only(*roles: str) -> dict[str, int]:
    """200 for these roles, 403 for the other signed-in roles, sign-in redirect for anonymous."""
    return {ANON: 302, **{role: 200 if role in roles else 403 for role in SIGNED_IN}}


# endpoint: (method, path, {who: status})
EXPECTED = {
    "static": ("GET", "/static/css/app.css", {who: 200 for who in (ANON, *SIGNED_IN)}),
    "main.healthz": ("GET", "/healthz", {who: 200 for who in (ANON, *SIGNED_IN)}),
    "main.index": ("GET", "/", {who: 302 for who in (ANON, *SIGNED_IN)}),
    "main.no_role": ("GET", "/no-role", only(*SIGNED_IN)),
    "main.your_data": ("GET", "/your-data", only(*SIGNED_IN)),
    "main.your_data_json": ("GET", "/your-data.json", only(*SIGNED_IN)),
    "auth.sign_in": ("GET", "/sign-in", {ANON: 200, **{who: 302 for who in SIGNED_IN}}),
    "auth.sign_out": ("POST", "/sign-out", {who: 302 for who in (ANON, *SIGNED_IN)}),
    "auth.switch_role": ("GET", "/switch-role", only(*SIGNED_IN)),
    "auth.details": ("GET", "/your-details", only(*SIGNED_IN)),
    "auth.change_password": ("GET", "/your-details/password", only(*SIGNED_IN)),
    # Public: anyone may follow a link; this token was never issued.
    "auth.set_password": ("GET", "/account/not-an-issued-token", {who: 404 for who in (ANON, *SIGNED_IN)}),
    "preceptee.home": ("GET", "/preceptee/", only(PRECEPTEE)),
    "preceptee.timeline": ("GET", "/preceptee/timeline", only(PRECEPTEE)),
    "preceptee.meetings_page": ("GET", "/preceptee/meetings", only(PRECEPTEE)),
    "preceptee.record": ("GET", "/preceptee/record", only(PRECEPTEE)),
    "preceptee.learning_needs": ("GET", "/preceptee/learning-needs", only(PRECEPTEE)),
    "preceptee.self_assessment": ("GET", "/preceptee/learning-needs/initial", only(PRECEPTEE)),
    "preceptee.development_plan": ("GET", "/preceptee/development-plan", only(PRECEPTEE)),
    "preceptee.new_goal": ("GET", "/preceptee/development-plan/new", only(PRECEPTEE)),
    "preceptee.edit_goal": ("GET", "/preceptee/development-plan/1/edit", owned()),
    "preceptee.goal_status": ("POST", "/preceptee/development-plan/1/status", owned()),
    "preceptee.milestone": ("GET", "/preceptee/milestones/1", owned()),
    "preceptee.withdraw": ("POST", "/preceptee/milestones/1/withdraw", owned()),
    "preceptee.log": ("GET", "/preceptee/log", only(PRECEPTEE)),
    "preceptee.new_entry": ("GET", "/preceptee/log/new", owned()),  # no programme yet: nothing to add to
    "preceptee.entry": ("GET", "/preceptee/log/1", owned()),
    "preceptee.edit_entry": ("GET", "/preceptee/log/1/edit", owned()),
    "preceptee.autosave": ("POST", "/preceptee/drafts", owned(400)),  # no draft key posted
    "preceptee.discard_draft": ("POST", "/preceptee/drafts/discard", owned(400)),
    "preceptee.survey": ("GET", "/preceptee/surveys/1", owned()),
    "preceptee.answer": ("POST", "/preceptee/surveys/1", owned()),
    "preceptee.answer_step": ("POST", "/preceptee/surveys/1/steps/1", owned()),
    "caseload.home": ("GET", "/preceptor/", only(PRECEPTOR)),
    "caseload.meetings": ("GET", "/preceptor/preceptees/1/meetings", preceptor_owned()),
    "caseload.new_meeting": ("GET", "/preceptor/preceptees/1/meetings/new", preceptor_owned()),
    "caseload.edit_meeting": ("GET", "/preceptor/preceptees/1/meetings/1", preceptor_owned()),
    "caseload.protected_time": ("GET", "/preceptor/protected-time", only(PRECEPTOR)),
    "caseload.delete_protected_time": ("POST", "/preceptor/protected-time/1/delete", preceptor_owned()),
    "caseload.feedback": ("GET", "/preceptor/feedback", only(PRECEPTOR)),
    "caseload.queue": ("GET", "/preceptor/queue", only(PRECEPTOR)),
    "caseload.bulk": ("POST", "/preceptor/queue/bulk", {**only(PRECEPTOR), PRECEPTOR: 302}),  # nothing ticked
    "caseload.decide": ("POST", "/preceptor/milestones/1/decision", preceptor_owned()),
    "caseload.milestone": ("GET", "/preceptor/milestones/1", preceptor_owned()),
    "caseload.reopen": ("POST", "/preceptor/milestones/1/reopen", preceptor_owned()),
    "caseload.portfolio": ("GET", "/preceptor/preceptees/1", preceptor_owned()),
    "lead.milestone": ("GET", "/lead/milestones/1", {**only(LEAD), LEAD: 404}),  # nothing in scope
    "lead.reopen": ("POST", "/lead/milestones/1/reopen", {**only(LEAD), LEAD: 404}),
    "lead.capacity": ("GET", "/lead/", only(LEAD)),
    "lead.capacity_csv": ("GET", "/lead/capacity.csv", only(LEAD)),
    "lead.capacity_xlsx": ("GET", "/lead/capacity.xlsx", only(LEAD)),
    "lead.capacity_department": ("GET", "/lead/capacity/1", {**only(LEAD), LEAD: 404}),
    "lead.register_page": ("GET", "/lead/register", only(LEAD)),
    "lead.register_edit": ("GET", "/lead/register/1", {**only(LEAD), LEAD: 404}),
    "lead.register_save": ("POST", "/lead/register/1", {**only(LEAD), LEAD: 404}),
    "lead.waiting": ("GET", "/lead/waiting", only(LEAD)),
    "lead.pairing": ("GET", "/lead/programmes/1/preceptor", {**only(LEAD), LEAD: 404}),
    "lead.pair": ("POST", "/lead/programmes/1/preceptor", {**only(LEAD), LEAD: 404}),
    "lead.cohort_page": ("GET", "/lead/cohort", only(LEAD)),
    "lead.cohort_accept": ("POST", "/lead/cohort", only(LEAD)),  # nothing ticked: the page with an error
    "lead.oversight": ("GET", "/lead/oversight", only(LEAD)),
    "lead.oversight_csv": ("GET", "/lead/oversight.csv", only(LEAD)),
    "lead.oversight_xlsx": ("GET", "/lead/oversight.xlsx", only(LEAD)),
    "lead.starters": ("GET", "/lead/starters", only(LEAD)),
    "lead.add_starter": ("POST", "/lead/starters", only(LEAD)),  # empty form: the page with errors
    "lead.upload_starters": ("POST", "/lead/starters/upload", only(LEAD)),
    "lead.import_starters": ("POST", "/lead/starters/import", only(LEAD)),
    "lead.surveys": ("GET", "/lead/surveys", only(LEAD)),
    "lead.surveys_csv": ("GET", "/lead/surveys.csv", only(LEAD)),
    "lead.surveys_xlsx": ("GET", "/lead/surveys.xlsx", only(LEAD)),
    "admin.home": ("GET", "/admin/", only(ADMIN)),
    "admin.survey_templates": ("GET", "/admin/surveys", only(LEAD, ADMIN)),
    "admin.survey_template_new": ("GET", "/admin/surveys/new", only(LEAD, ADMIN)),
    "admin.survey_template_edit": ("GET", "/admin/surveys/1", {**only(LEAD, ADMIN), LEAD: 404, ADMIN: 404}),  # none yet
    "admin.people": ("GET", "/admin/people", only(ADMIN)),
    "admin.person_new": ("GET", "/admin/people/new", only(ADMIN)),
    "admin.person": ("GET", "/admin/people/1", only(ADMIN)),  # the signed-in person, the only one there is
    # -- people import and details
    "admin.people_import": ("GET", "/admin/people/import", only(ADMIN)),
    "admin.people_import_upload": ("POST", "/admin/people/import", {**only(ADMIN), ADMIN: 400}),  # no file
    "admin.people_import_confirm": ("POST", "/admin/people/import/confirm", {**only(ADMIN), ADMIN: 400}),
    "admin.person_details": ("GET", "/admin/people/1/details", only(ADMIN)),
    # -- departments and sites
    "admin.departments": ("GET", "/admin/departments", only(ADMIN)),
    "admin.site_new": ("GET", "/admin/sites/new", only(ADMIN)),
    "admin.site": ("GET", "/admin/sites/1", {**only(ADMIN), ADMIN: 404}),  # no site yet
    "admin.department_new": ("GET", "/admin/departments/new", only(ADMIN)),
    "admin.department": ("GET", "/admin/departments/1", {**only(ADMIN), ADMIN: 404}),  # no department yet
    "admin.department_area_add": ("POST", "/admin/departments/1/areas", {**only(ADMIN), ADMIN: 404}),
    "admin.department_area": ("GET", "/admin/departments/1/areas/1", {**only(ADMIN), ADMIN: 404}),
    "admin.department_merge": ("GET", "/admin/departments/1/merge", {**only(ADMIN), ADMIN: 404}),
    # -- milestone framework
    # Leads read the framework and apply it to their programmes; only admins change it. The
    # database holds no framework, checklist or programme: those pages are 404 for who may see them.
    "admin.framework": ("GET", "/admin/framework", only(LEAD, ADMIN)),
    "admin.framework_milestone": ("GET", "/admin/framework/milestones/initial-meeting",
                                  {**only(LEAD, ADMIN), LEAD: 404, ADMIN: 404}),
    "admin.framework_edit": ("GET", "/admin/framework/milestones/initial-meeting/edit", {**only(ADMIN), ADMIN: 404}),
    "admin.framework_retire": ("POST", "/admin/framework/milestones/initial-meeting/retire",
                               {**only(ADMIN), ADMIN: 404}),
    "admin.framework_new": ("GET", "/admin/framework/new", only(ADMIN)),
    "admin.checklists": ("GET", "/admin/framework/checklists", only(ADMIN)),
    "admin.checklist": ("GET", "/admin/framework/checklists/1", {**only(ADMIN), ADMIN: 404}),
    "admin.framework_apply": ("GET", "/admin/framework/apply", only(LEAD, ADMIN)),
    "admin.framework_apply_programme": ("GET", "/admin/framework/apply/1",
                                        {**only(LEAD, ADMIN), LEAD: 404, ADMIN: 404}),
    # -- audit log and erasure
    "admin.audit_log": ("GET", "/admin/audit", only(LEAD, ADMIN)),
    "admin.audit_log_csv": ("GET", "/admin/audit.csv", only(LEAD, ADMIN)),
    "admin.audit_log_xlsx": ("GET", "/admin/audit.xlsx", only(LEAD, ADMIN)),
    "admin.erase": ("GET", "/admin/people/1/erase", only(ADMIN)),  # themselves: the page says they cannot
    "admin.outbox": ("GET", "/admin/outbox", only(ADMIN)),
    # No email 1 exists: 404 for an admin, refused before that for everyone else.
    "admin.retry_email": ("POST", "/admin/outbox/1/retry", {**only(ADMIN), ADMIN: 404}),
    # -- programme administration
    "lead.programmes_list": ("GET", "/lead/programmes", only(LEAD, ADMIN)),
    "lead.programme": ("GET", "/lead/programmes/1", {**only(LEAD, ADMIN), LEAD: 404, ADMIN: 404}),  # none yet
    # notifications (issue 8)
    "notifications.index": ("GET", "/notifications", only(*SIGNED_IN)),
    "notifications.mark_read": ("POST", "/notifications/1/read", {ANON: 302, **{who: 404 for who in SIGNED_IN}}),
    "notifications.read_all": ("POST", "/notifications/read-all", {ANON: 302, **{who: 302 for who in SIGNED_IN}}),
    "notifications.count": ("GET", "/notifications/count", only(*SIGNED_IN)),
    "notifications.settings": ("GET", "/notifications/settings", only(*SIGNED_IN)),
    # Public, from an email: a token that was never issued is a clear 400 page for anyone.
    "notifications.unsubscribe": ("GET", "/unsubscribe/not-a-token", {who: 400 for who in (ANON, *SIGNED_IN)}),
}


def test_every_route_has_an_access_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(EXPECTED) == set(), "routes without an access rule in EXPECTED"
    assert set(EXPECTED) - endpoints == set(), "access rules for routes that no longer exist"


CASES = [(endpoint, who) for endpoint, (_, _, statuses) in EXPECTED.items() for who in statuses]


@pytest.mark.parametrize("endpoint, who", CASES, ids=[f"{e}-{w}" for e, w in CASES])
def test_access(client, make, endpoint, who):
    method, path, statuses = EXPECTED[endpoint]
    if who != ANON:
        make.user(Role(who), email=f"{who}@test.nhs.uk")
        db.session.commit()
        assert client.sign_in(f"{who}@test.nhs.uk", "correct-horse-battery").status_code == 302
    if method == "GET":
        response = client.get(path)
    else:
        response = client.submit(path, token_from="/sign-in")
    response.close()  # static files are streamed from disk
    assert response.status_code == statuses[who]
    assert_security_headers(response, page=endpoint != "static")
    if response.status_code == 302 and who == ANON and endpoint not in ("main.index", "auth.sign_out"):
        assert response.headers["Location"].startswith("/sign-in?next=")


def assert_security_headers(response, page: bool = True) -> None:
    """What every answer carries (static files: nosniff; they run no script of ours)."""
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if not page:
        return
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for rule in ("default-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert rule in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    # Pages with a token in their address send no referrer at all.
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Request-ID"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here: HSTS only over HTTPS


def test_forbidden_page_is_an_nhs_page(client, make):
    make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    db.session.commit()
    client.sign_in("nq@test.nhs.uk", "correct-horse-battery")
    response = client.get("/admin/")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "You do not have access to this page" in html and "nhsuk-header" in html


def test_not_found_page_is_an_nhs_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
