"""People, for administrators: the list with its search, filters and pages (page and htmx
fragment), adding someone with an invitation link, roles and lead scope that apply on the
person's next request, deactivating and reactivating, forcing a password reset, the rule that
one active administrator always remains, and who may do any of it."""

import hashlib
import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import AccountLink, Allocation, AuditEvent, LinkPurpose, Role, User, UserRole
from preceptor.models._columns import utcnow
from preceptor.services import account_links
from preceptor.services import people as service

from .factories import PASSWORD, counted_queries

NEW = "/admin/people/new"


@pytest.fixture
def admin(make):
    user = make.user(Role.ADMIN, email="admin@test.nhs.uk", name="Ada Admin")
    db.session.commit()
    return user


@pytest.fixture
def admin_client(client, admin):
    assert client.sign_in("admin@test.nhs.uk", PASSWORD).status_code == 302
    return client


@pytest.fixture
def their_client(app):
    """A second browser: the person the admin is changing, signed in elsewhere."""
    return app.test_client()


@pytest.fixture
def trust(make):
    ct, mri = make.department("CT"), make.department("MRI")
    priya = make.preceptor(ct, name="Priya Preceptor")
    priya.hcpc_number = "RA500100"
    lead = make.user(Role.EDUCATION_LEAD, email="lena.lead@test.nhs.uk", name="Lena Lead")
    lead.lead_departments = [mri]
    sam = make.programme(make.user(Role.PRECEPTEE, name="Sam Starter"), ct, preceptor=priya)
    gone = make.user(Role.PRECEPTOR, name="Gwen Gone", active=False)
    make.user(Role.PRECEPTEE, name="Kai Lo", email="ka_lo@test.nhs.uk")
    db.session.commit()
    return {"ct": ct, "mri": mri, "priya": priya, "lead": lead, "sam": sam, "gone": gone}


def html_of(response, status=200) -> str:
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def names_in(html: str) -> set[str]:
    return set(re.findall(r'<a href="/admin/people/\d+">([^<]+)</a>', html))


def summary_errors(html: str) -> dict[str, str]:
    """The error summary's links: {"#field": "message"}."""
    summary = html[html.index("nhsuk-error-summary"):html.index("nhsuk-back-link")]
    return {href: text for href, text in re.findall(r'<a href="(#[^"]+)"\s*>\s*([^<]+?)\s*</a>', summary)}


def ticked(html: str, name: str) -> set[str]:
    """The values of the checkboxes named `name` that are ticked."""
    return set(re.findall(rf'name="{name}" type="checkbox" value="([^"]+)" checked', html))


def person_form(**overrides) -> dict:
    return {"name": "Nia New", "email": "nia.new@test.nhs.uk", "hcpc_number": "", "roles": ["preceptor"],
            **overrides}


def audit_rows(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# The list -------------------------------------------------------------------------------------


def test_people_list_searches_and_filters(admin_client, trust):
    html = html_of(admin_client.get("/admin/people"))
    assert "<html" in html and 'hx-push-url="true"' in html and 'hx-target="#people_results"' in html
    assert names_in(html) == {"Ada Admin", "Priya Preceptor", "Lena Lead", "Sam Starter", "Gwen Gone", "Kai Lo"}
    assert "Preceptor: CT" in html and "Leads: MRI" in html and "Preceptee: CT" in html and "Deactivated" in html

    def shown(query: str) -> set[str]:
        return names_in(html_of(admin_client.get(f"/admin/people?{query}")))

    assert shown("q=pRIYA") == {"Priya Preceptor"}
    assert shown("q=LENA.LEAD@") == {"Lena Lead"}  # email
    assert shown("q=ra500") == {"Priya Preceptor"}  # HCPC number
    assert shown("q=%25") == set()  # a typed % or _ is a character, not a wildcard
    assert shown("q=a_l") == {"Kai Lo"}  # not "lena.lead"
    assert shown("role=education_lead") == {"Lena Lead"}
    assert shown(f"department={trust['ct'].id}") == {"Priya Preceptor", "Sam Starter"}
    assert shown(f"department={trust['mri'].id}&role=education_lead") == {"Lena Lead"}
    assert shown("status=deactivated") == {"Gwen Gone"}
    assert "Gwen Gone" not in shown("status=active")
    assert len(shown("role=nonsense&department=abc&status=x&page=-4")) == 6  # tampered values: no filter


def test_people_results_swap_in_place_with_htmx(admin_client, trust):
    headers = {"HX-Request": "true", "HX-Target": "people_results"}
    response = admin_client.get("/admin/people?role=preceptor", headers=headers)
    fragment = html_of(response)
    assert fragment.lstrip().startswith('<div id="people_results">') and "<html" not in fragment
    assert names_in(fragment) == {"Priya Preceptor", "Gwen Gone"}
    assert {"HX-Request", "HX-Target"} <= set(response.vary)
    # A boosted navigation to the same address gets the whole page.
    boosted = html_of(admin_client.get("/admin/people?role=preceptor", headers={**headers, "HX-Boosted": "true"}))
    assert "<html" in boosted


def test_people_come_fifty_a_page_in_a_fixed_number_of_queries(admin_client, admin, make):
    department = make.department("CT")
    for n in range(60):
        user = make.user(Role.PRECEPTOR if n % 2 else Role.EDUCATION_LEAD, name=f"Person {n:02}")
        user.lead_departments = [department] if n % 2 == 0 else []
    db.session.commit()
    with counted_queries() as first:
        page_one = service.people(page=1)
    with counted_queries() as last:
        page_two = service.people(page=2)
    assert (len(page_one.rows), len(page_two.rows), page_one.total, page_one.pages) == (50, 11, 61, 2)
    assert len(first) == len(last) <= 5  # the same whatever the page holds: no query per person
    assert page_one.rows[1].departments[0].department.startswith("CT, ")
    assert service.people(page=99).page == 2

    html = html_of(admin_client.get("/admin/people?role=education_lead&q=person"))
    assert len(names_in(html)) == 30 and "Next" not in html
    html = html_of(admin_client.get("/admin/people"))
    assert len(names_in(html)) == 50
    next_href = "/admin/people?page=2"
    assert f'href="{next_href}"' in html and f'hx-get="{next_href}"' in html
    html = html_of(admin_client.get("/admin/people?page=2", headers={"HX-Request": "true",
                                                                      "HX-Target": "people_results"}))
    assert len(names_in(html)) == 11 and "Page 1 of 2" in html and "<html" not in html


# Adding a person --------------------------------------------------------------------------------


def test_adding_a_person_shows_their_invitation_link_once(admin_client, admin, trust):
    form = person_form(email="Nia.New@Test.NHS.uk", hcpc_number="ra 123456", roles=["preceptor", "education_lead"],
                       lead_scope=[str(trust["ct"].id)])
    response = admin_client.submit(NEW, form)
    html = html_of(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Account created for Nia New" in html and "nia.new@test.nhs.uk" in html
    token = re.search(r"/account/([A-Za-z0-9_-]+)</textarea>", html)[1]

    nia = db.session.scalar(select(User).where(User.email == "nia.new@test.nhs.uk"))
    assert (nia.name, nia.hcpc_number, nia.password_hash, nia.trust_wide) == ("Nia New", "RA123456", None, False)
    assert nia.roles == {Role.PRECEPTOR, Role.EDUCATION_LEAD} and nia.lead_departments == [trust["ct"]]
    assert f"http://localhost/account/{token}</textarea>" in html  # auth.set_password, absolute
    link = db.session.scalar(select(AccountLink).where(AccountLink.user_id == nia.id))
    assert link.purpose is LinkPurpose.INVITE and link.used_at is None and link.created_by_id == admin.id
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert timedelta(days=6, hours=23) < link.expires_at - utcnow() <= timedelta(days=7)
    assert "The link works once, until" in html and str(link.expires_at.year) in html

    created = audit_rows("person.create")
    assert len(created) == 1 and created[0].object_id == nia.id and created[0].actor_id == admin.id
    assert created[0].details["after"] == {"roles": ["education_lead", "preceptor"],
                                           "lead_departments": [trust["ct"].id], "trust_wide": False, "active": True}
    assert len(audit_rows("account.invite")) == 1
    assert "Nia" not in json.dumps(created[0].details) and "nia.new" not in json.dumps(created[0].details)


def test_a_lead_for_the_whole_trust_and_a_lead_without_departments(admin_client, trust):
    response = admin_client.submit(NEW, person_form(roles=["education_lead"]))
    html = html_of(response, 400)
    assert summary_errors(html) == {"#lead_scope": service.NO_SCOPE}
    response = admin_client.submit(NEW, person_form(roles=["education_lead"],
                                                    lead_scope=["trust", str(trust["ct"].id)]))
    html_of(response)
    nia = db.session.scalar(select(User).where(User.email == "nia.new@test.nhs.uk"))
    assert nia.trust_wide and nia.lead_departments == []  # the whole trust needs no list
    # Departments ticked for someone who is not a lead are not stored.
    admin_client.submit(NEW, person_form(email="pat@test.nhs.uk", lead_scope=[str(trust["ct"].id)]))
    pat = db.session.scalar(select(User).where(User.email == "pat@test.nhs.uk"))
    assert pat.lead_departments == [] and not pat.trust_wide


def test_an_email_in_another_case_is_refused_by_the_field_with_input_kept(admin_client, trust):
    people_before = db.session.scalar(select(func.count()).select_from(User))
    response = admin_client.submit(NEW, person_form(name="Second Lena", email="LENA.Lead@Test.nhs.uk",
                                                    hcpc_number="RA777"))
    html = html_of(response, 400)
    assert "There is a problem" in html and "Error: Add a person" in html
    assert summary_errors(html) == {"#email": service.DUPLICATE_EMAIL}
    assert 'value="LENA.Lead@Test.nhs.uk"' in html and 'value="Second Lena"' in html and 'value="RA777"' in html
    assert ticked(html, "roles") == {"preceptor"}  # the ticked role stays ticked
    assert db.session.scalar(select(func.count()).select_from(User)) == people_before
    assert db.session.scalar(select(func.count()).select_from(AccountLink)) == 0
    assert audit_rows("person.create") == []


@pytest.mark.parametrize("roles, message", [([], service.NO_ROLE), (["superuser"], service.UNKNOWN_ROLE),
                                            (["preceptor", "root"], service.UNKNOWN_ROLE)])
def test_roles_must_be_chosen_from_the_list(admin_client, roles, message):
    html = html_of(admin_client.submit(NEW, person_form(roles=roles)), 400)
    assert summary_errors(html) == {"#roles": message} and 'value="Nia New"' in html
    assert db.session.scalar(select(User.id).where(User.email == "nia.new@test.nhs.uk")) is None


def test_badly_typed_details_are_shown_by_their_fields(admin_client, trust):
    html = html_of(admin_client.submit(NEW, person_form(name=" ", email="not an email", hcpc_number="AB12",
                                                        lead_scope=["999999"])), 400)
    assert summary_errors(html)["#name"] == "Enter their full name"
    assert "Enter an email address in the correct format" in html and 'value="not an email"' in html
    assert "RA followed by numbers" in html
    html = html_of(admin_client.submit(NEW, person_form(roles=["education_lead"], lead_scope=["999999"])), 400)
    assert service.UNKNOWN_DEPARTMENT in html


# Changing access ----------------------------------------------------------------------------------


def change_access(admin_client, user_id: int, roles: list[str], lead_scope: list[str] | None = None):
    return admin_client.submit(f"/admin/people/{user_id}",
                               {"action": "access", "roles": roles, "lead_scope": lead_scope or []})


def test_a_role_change_applies_on_their_next_request(admin_client, their_client, trust):
    priya = trust["priya"]
    their_client.sign_in(priya.email, PASSWORD)
    assert their_client.get("/lead/").status_code == 403
    response = change_access(admin_client, priya.id, ["preceptor", "education_lead"], ["trust"])
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/people/{priya.id}"
    assert their_client.get("/lead/").status_code == 200  # the same session, next request
    assert their_client.get("/preceptor/").status_code == 200
    change_access(admin_client, priya.id, ["preceptor"])
    assert their_client.get("/lead/").status_code == 403

    changes = audit_rows("person.change_access")
    assert [c.details["after"]["roles"] for c in changes] == [["education_lead", "preceptor"], ["preceptor"]]
    assert changes[0].details["before"] == {"roles": ["preceptor"], "lead_departments": [], "trust_wide": False}
    assert changes[0].details["after"]["trust_wide"] is True and changes[1].details["after"]["trust_wide"] is False
    html = html_of(admin_client.get(f"/admin/people/{priya.id}"))
    assert "person.change_access" in html and "Ada Admin" in html  # recent activity, with who acted


def test_a_lead_scope_change_applies_on_their_next_request(admin_client, their_client, trust):
    lead, ct, mri = trust["lead"], trust["ct"], trust["mri"]
    their_client.sign_in(lead.email, PASSWORD)
    assert their_client.get(f"/lead/capacity/{mri.id}").status_code == 200
    assert their_client.get(f"/lead/capacity/{ct.id}").status_code == 404
    html = html_of(admin_client.get(f"/admin/people/{lead.id}"))
    assert ticked(html, "lead_scope") == {str(mri.id)}
    change_access(admin_client, lead.id, ["education_lead"], [str(ct.id)])
    assert their_client.get(f"/lead/capacity/{ct.id}").status_code == 200
    assert their_client.get(f"/lead/capacity/{mri.id}").status_code == 404
    # Saving the same again changes nothing and records nothing.
    assert change_access(admin_client, lead.id, ["education_lead"], [str(ct.id)]).status_code == 302
    assert len(audit_rows("person.change_access")) == 1


def test_a_bad_access_change_keeps_what_was_ticked(admin_client, trust):
    priya = trust["priya"]
    html = html_of(change_access(admin_client, priya.id, ["education_lead", "admin"], []), 400)
    assert summary_errors(html) == {"#lead_scope": service.NO_SCOPE}
    assert ticked(html, "roles") == {"education_lead", "admin"}
    db.session.expire_all()
    assert db.session.get(User, priya.id).roles == {Role.PRECEPTOR}


# Deactivating, reactivating, resetting ------------------------------------------------------------


def test_a_deactivated_person_is_signed_out_cannot_sign_in_and_keeps_their_history(admin_client, their_client,
                                                                                   trust):
    priya = trust["priya"]
    their_client.sign_in(priya.email, PASSWORD)
    assert their_client.get("/preceptor/").status_code == 200
    page = html_of(admin_client.get(f"/admin/people/{priya.id}"))
    assert "confirm=deactivate" in page and "Yes, deactivate" not in page
    confirm = html_of(admin_client.get(f"/admin/people/{priya.id}?confirm=deactivate"))
    assert "Yes, deactivate Priya Preceptor" in confirm and 'name="action" value="deactivate"' in confirm

    response = admin_client.submit(f"/admin/people/{priya.id}", {"action": "deactivate"})
    assert response.status_code == 302
    assert their_client.get("/preceptor/").headers["Location"].startswith("/sign-in")  # their session has ended
    assert their_client.sign_in(priya.email, PASSWORD).status_code == 200  # refused: the page again
    db.session.expire_all()
    assert db.session.get(User, priya.id).active is False
    assert db.session.scalar(select(func.count()).select_from(Allocation)
                             .where(Allocation.preceptor_id == priya.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.actor_id == priya.id, AuditEvent.action == "user.sign_in")) == 1
    assert audit_rows("person.deactivate")[0].details == {"before": {"active": True}, "after": {"active": False}}
    html = html_of(admin_client.get(f"/admin/people/{priya.id}", follow_redirects=True))
    assert "Deactivated" in html and "Reactivate account" in html

    assert admin_client.submit(f"/admin/people/{priya.id}", {"action": "reactivate"}).status_code == 302
    assert their_client.get("/preceptor/").status_code == 302  # the old session does not come back
    assert their_client.sign_in(priya.email, PASSWORD).status_code == 302
    assert their_client.get("/preceptor/").status_code == 200
    assert len(audit_rows("person.reactivate")) == 1


def test_a_forced_reset_ends_their_sessions_and_their_old_password(admin_client, their_client, trust):
    priya = trust["priya"]
    their_client.sign_in(priya.email, PASSWORD)
    confirm = html_of(admin_client.get(f"/admin/people/{priya.id}?confirm=reset"))
    assert "Yes, reset Priya Preceptor’s password" in confirm
    response = admin_client.submit(f"/admin/people/{priya.id}", {"action": "reset"})
    html = html_of(response)
    assert response.headers["Cache-Control"] == "no-store" and "Password reset for Priya Preceptor" in html
    token = re.search(r"/account/([A-Za-z0-9_-]+)</textarea>", html)[1]
    link = db.session.scalar(select(AccountLink).where(AccountLink.user_id == priya.id))
    assert link.purpose is LinkPurpose.RESET and link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert their_client.get("/preceptor/").headers["Location"].startswith("/sign-in")
    assert their_client.sign_in(priya.email, PASSWORD).status_code == 200  # the old password is refused
    assert audit_rows("account.reset")[0].object_id == priya.id
    assert "Reset: their link works until" in html_of(admin_client.get(f"/admin/people/{priya.id}"))


def test_the_last_active_admin_keeps_the_role_and_the_account(admin_client, admin, make):
    html = html_of(change_access(admin_client, admin.id, ["preceptor"]), 400)
    assert summary_errors(html) == {"#roles": service.LAST_ADMIN}
    html = html_of(admin_client.submit(f"/admin/people/{admin.id}", {"action": "deactivate"}), 400)
    assert "You cannot deactivate your own account" in html
    db.session.expire_all()
    assert db.session.get(User, admin.id).roles == {Role.ADMIN} and db.session.get(User, admin.id).active
    assert "confirm=deactivate" not in html_of(admin_client.get(f"/admin/people/{admin.id}"))

    # A deactivated admin does not count: Ada is still the only active one.
    former = make.user(Role.ADMIN, active=False)
    db.session.commit()
    with pytest.raises(service.PeopleRefused, match=service.LAST_ADMIN):
        service.deactivate(admin, former)
    # With a second active admin either may lose the role, but not both.
    other = make.user(Role.ADMIN, email="other.admin@test.nhs.uk")
    db.session.commit()
    assert change_access(admin_client, other.id, ["preceptor"]).status_code == 302
    html = html_of(change_access(admin_client, admin.id, ["preceptor"]), 400)
    assert service.LAST_ADMIN in html
    db.session.expire_all()
    assert db.session.get(User, admin.id).roles == {Role.ADMIN}


def test_an_admin_who_gives_up_the_role_leaves_the_admin_pages(admin_client, admin, make):
    make.user(Role.ADMIN, email="other.admin@test.nhs.uk")
    db.session.commit()
    response = change_access(admin_client, admin.id, ["preceptor"])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert admin_client.get("/admin/people").status_code == 403


def test_an_admin_cannot_reset_their_own_password_here(admin_client, admin):
    html = html_of(admin_client.submit(f"/admin/people/{admin.id}", {"action": "reset"}), 400)
    assert "You cannot force a reset of your own password" in html
    assert db.session.scalar(select(func.count()).select_from(AccountLink)) == 0


# Who may -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PRECEPTEE, Role.PRECEPTOR, Role.EDUCATION_LEAD])
def test_only_admins_may_manage_people(client, make, trust, role):
    make.user(role, email="someone@test.nhs.uk")
    db.session.commit()
    client.sign_in("someone@test.nhs.uk", PASSWORD)
    priya = trust["priya"]
    for path in ("/admin/people", NEW, f"/admin/people/{priya.id}"):
        assert client.get(path).status_code == 403
    token = client.csrf_token("/your-details")
    response = client.post(f"/admin/people/{priya.id}", data={"action": "deactivate", "csrf_token": token})
    assert response.status_code == 403
    assert client.post(NEW, data={**person_form(), "csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, priya.id).active
    assert db.session.scalar(select(User.id).where(User.email == "nia.new@test.nhs.uk")) is None


def test_anonymous_people_are_sent_to_sign_in(client):
    for path in ("/admin/people", NEW, "/admin/people/1"):
        assert client.get(path).headers["Location"].startswith("/sign-in?next=")


def test_a_post_without_its_csrf_token_is_refused(admin_client, trust):
    assert admin_client.post(NEW, data=person_form()).status_code == 400
    priya = trust["priya"]
    assert admin_client.post(f"/admin/people/{priya.id}", data={"action": "deactivate"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, priya.id).active
    assert db.session.scalar(select(User.id).where(User.email == "nia.new@test.nhs.uk")) is None


def test_unknown_people_and_actions(admin_client, trust):
    assert admin_client.get("/admin/people/999999").status_code == 404
    assert admin_client.submit(f"/admin/people/{trust['priya'].id}", {"action": "delete"}).status_code == 400


def test_deactivating_ends_an_unused_invitation(make):
    admin = make.user(Role.ADMIN)
    person, token = service.create_person("new@test.nhs.uk", "New Person", [Role.PRECEPTEE], [], False,
                                                  None, admin)
    db.session.commit()
    service.deactivate(person, admin)
    service.reactivate(person, admin)
    db.session.commit()
    with pytest.raises(account_links.LinkRefused, match="already been used"):
        account_links.find(token)


def test_two_admins_removing_each_other_at_once_leave_one(app, make, databases):
    if databases.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time; row locks are PostgreSQL's question")
    first, second = make.user(Role.ADMIN), make.user(Role.ADMIN)
    db.session.commit()
    pairs = [(first.id, second.id), (second.id, first.id)]
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor_id: int, target_id: int):
        with app.app_context():
            try:
                actor, target = db.session.get(User, actor_id), db.session.get(User, target_id)
                barrier.wait()
                service.change_access(target, [Role.PRECEPTOR], [], False, actor)
                db.session.commit()
                outcomes.append("demoted")
            except service.PeopleRefused:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=demote, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["demoted", "refused"]
    admins = db.session.scalar(select(func.count()).select_from(UserRole).where(UserRole.role == Role.ADMIN))
    assert admins == 1
