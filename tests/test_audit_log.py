"""The audit log page: what admins and leads (only their departments, merged ones included)
see; searching by person, object, action and dates, with dates refused beside their boxes;
rows written out readably and escaped; pages in a fixed number of queries, swapped with htmx;
and downloads as CSV and Excel with the same filters and scope."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import AuditEvent, Department, Role
from preceptor.services import allocations, audit, people
from preceptor.services import audit_search as service
from preceptor.services.audit_labels import readable

from .factories import PASSWORD, counted_queries

TODAY = date.today()


@pytest.fixture
def trust(make):
    """CT (into which "Old CT" was merged, and "Older CT" into that) and MRI, each with a
    programme; a lead of CT, a trust-wide lead, an admin, and the events their work made."""
    ct, mri = make.department("CT"), make.department("MRI")
    old = make.department("Old CT", merged_into_id=ct.id, archived_at=datetime.now(UTC))
    older = make.department("Older CT", merged_into_id=old.id, archived_at=datetime.now(UTC))
    admin = make.user(Role.ADMIN, name="Ada Admin", email="ada@test.nhs.uk")
    lead = make.user(Role.EDUCATION_LEAD, name="Lena Lead", email="lena@test.nhs.uk")
    lead.lead_departments = [ct]
    everywhere = make.user(Role.EDUCATION_LEAD, name="Tom Trust", email="tom@test.nhs.uk", trust_wide=True)
    priya = make.preceptor(ct, name="Priya Preceptor")
    sam = make.user(Role.PRECEPTEE, name="Sam Starter", email="sam@test.nhs.uk")
    ct_programme = make.programme(sam, ct)
    mri_programme = make.programme(make.user(Role.PRECEPTEE, name="Mo Mri"), mri)
    old_programme = make.programme(make.user(Role.PRECEPTEE, name="Olive Old"), older)
    db.session.commit()
    allocations.allocate(ct_programme, priya, TODAY, by=lead, over_cap_reason="<script>alert(1)</script>")
    audit.record("department.merge", old, actor_id=admin.id, department_id=old.id,
                 details={"before": {"merged_into": None}, "after": {"merged_into": ct.id}})
    people.create_person("nia@test.nhs.uk", "Nia New", ["preceptee"], [], False, None, admin)
    db.session.commit()
    return {"ct": ct, "mri": mri, "old": old, "older": older, "admin": admin, "lead": lead, "everywhere": everywhere,
            "priya": priya, "sam": sam, "ct_programme": ct_programme, "mri_programme": mri_programme,
            "old_programme": old_programme}


def signed_in(client, email: str):
    assert client.sign_in(email, PASSWORD).status_code == 302
    return client


def page_of(client, query: str = "", **headers) -> str:
    response = client.get(f"/admin/audit?{query}", headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def event_ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'<tr class="nhsuk-table__row" id="event-(\d+)"', html)}


def events_where(*conditions) -> set[int]:
    return set(db.session.scalars(select(AuditEvent.id).where(*conditions)))


def test_an_admin_sees_every_event_and_a_lead_only_their_departments(client, app, trust):
    signed_in(client, "ada@test.nhs.uk")
    everything = events_where()
    assert len(everything) >= 6
    assert event_ids(page_of(client)) == everything
    client.sign_out()

    programmes = [trust["ct_programme"].id, trust["old_programme"].id]
    theirs = events_where(AuditEvent.preceptorship_id.in_(programmes)) | events_where(
        AuditEvent.department_id.in_([trust["ct"].id, trust["old"].id, trust["older"].id]))
    html = page_of(signed_in(client, "lena@test.nhs.uk"))
    assert event_ids(html) == theirs
    assert events_where(AuditEvent.action == "department.merge") <= theirs  # a merged department's own event
    assert events_where(AuditEvent.preceptorship_id == trust["old_programme"].id) <= theirs  # merged twice over
    assert not event_ids(html) & events_where(AuditEvent.preceptorship_id == trust["mri_programme"].id)
    assert "Person added" not in html and "for the departments you lead" in html
    # Asking for anything outside their scope simply finds nothing.
    nia = events_where(AuditEvent.action == "person.create").pop()
    nia_user = db.session.get(AuditEvent, nia).object_id
    html = page_of(client, f"object_type=user&object_id={nia_user}")
    assert event_ids(html) == set() and "0 events." in html
    html = page_of(client, f"person_id={nia_user}")
    assert "Nia New" not in html  # not even the name of someone outside their log
    client.sign_out()

    html = page_of(signed_in(client, "tom@test.nhs.uk"))
    assert event_ids(html) == events_where((AuditEvent.department_id.is_not(None))
                                           | AuditEvent.preceptorship_id.is_not(None))
    assert "Person added" not in html


def test_search_by_person_object_and_action(client, trust):
    signed_in(client, "ada@test.nhs.uk")
    lead, programme = trust["lead"], trust["ct_programme"]
    about_sam = events_where(AuditEvent.preceptorship_id == programme.id)
    assert event_ids(page_of(client, "person=sam+STARTER")) == about_sam  # their programme's events
    assert event_ids(page_of(client, "person=sam%40test")) == about_sam  # by email
    by_lead = events_where(AuditEvent.actor_id == lead.id)
    assert by_lead and event_ids(page_of(client, f"person_id={lead.id}")) == by_lead
    html = page_of(client, f"person_id={lead.id}")
    assert "Only events by or about <strong>Lena Lead</strong>" in html and "Show events for anyone" in html
    nia = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.create"))
    assert event_ids(page_of(client, "person=nia")) == {nia.id} | events_where(
        AuditEvent.object_type == "user", AuditEvent.object_id == nia.object_id)  # events about them
    assert event_ids(page_of(client, "person=%25")) == set()  # a typed % is a character

    assert event_ids(page_of(client, f"object_type=preceptorship&object_id={programme.id}")) == about_sam
    assert event_ids(page_of(client, "action=allocation.start")) == events_where(
        AuditEvent.action == "allocation.start")
    assert event_ids(page_of(client, "action=no.such")) == set()
    html = page_of(client)
    assert '<option value="allocation.start" >Preceptor allocated</option>' in html
    assert '<option value="department.merge" >Department: merge</option>' in html  # an action without a label
    assert '<option value="preceptorship" >Programme</option>' in html


def test_dates_filter_in_local_days_and_bad_dates_are_refused_beside_their_boxes(client, trust):
    signed_in(client, "ada@test.nhs.uk")
    old = audit.record("person.reactivate", trust["sam"], actor_id=trust["admin"].id)
    old.at = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)  # 10 March in London (GMT)
    summer = audit.record("person.reactivate", trust["sam"], actor_id=trust["admin"].id)
    summer.at = datetime(2025, 7, 1, 23, 30, tzinfo=UTC)  # already 2 July in London (BST)
    db.session.commit()

    def dated(since: tuple, until: tuple) -> str:
        args = [f"{name}%5B{part}%5D={value}" for name, values in (("since", since), ("until", until))
                for part, value in zip(("day", "month", "year"), values, strict=True)]
        return "&".join(args)

    assert event_ids(page_of(client, dated((10, 3, 2025), (10, 3, 2025)))) == {old.id}
    assert event_ids(page_of(client, dated((2, 7, 2025), (2, 7, 2025)))) == {summer.id}
    assert event_ids(page_of(client, dated((1, 7, 2025), (1, 7, 2025)))) == set()
    assert event_ids(page_of(client, dated((1, 1, 2025), ("", "", "")))) == events_where()

    html = page_of(client, dated((31, 2, 2025), ("", "", "")) + "&person=sam")
    assert "There is a problem" in html and 'href="#since-day"' in html
    assert "From date must be a real date" in html and 'id="since-error"' in html
    assert 'value="31"' in html and 'value="sam"' in html  # what they typed is kept
    assert "Correct the dates above to see events." in html and event_ids(html) == set()
    fragment = page_of(client, dated((31, 2, 2025), ("", "", "")), **{"HX-Request": "true",
                                                                        "HX-Target": "audit_search"})
    assert "<html" not in fragment and "From date must be a real date" in fragment and 'value="31"' in fragment
    html = page_of(client, dated((2, 7, 2025), (1, 7, 2025)))
    assert "To date must be the same as or after the from date" in html and 'href="#until-day"' in html
    html = page_of(client, "object_id=twelve")
    assert "Object number must be a number, like 12" in html and 'href="#object_id"' in html
    assert client.get("/admin/audit.csv?" + dated((2, 7, 2025), (1, 7, 2025))).status_code == 302


def test_rows_read_readably_and_are_escaped(client, trust):
    signed_in(client, "ada@test.nhs.uk")
    erased = trust["priya"]
    audit.record("user.sign_in", erased, actor_id=erased.id)
    audit.record("survey.answer", None, details={"time_point": "baseline"})  # no actor: the system
    erased.name, erased.erased_at = f"Erased person {erased.id}", datetime.now(UTC)
    db.session.commit()
    html = page_of(client)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert f"Preceptor: Erased person {erased.id} (person {erased.id})" in html  # details name people
    assert f">Erased person {erased.id}</a>" in html and "Priya Preceptor" not in html
    assert ">System" in html and "Preceptor allocated" in html
    assert f"CT, {trust['ct'].site.name}" in html
    assert f'href="/admin/people/{erased.id}">Their page' in html
    assert readable({"before": {"roles": ["preceptee"], "trust_wide": False},
                     "after": {"roles": ["preceptee", "preceptor"], "trust_wide": False}, "via": "import"}) == [
        "Roles: preceptee → preceptee, preceptor", "Through: import"]
    assert readable({"new_end": "2026-11-21", "entries": [3, 4]}) == ["New planned end: 21 November 2026",
                                                                      "Log entries: 3, 4"]


def test_pages_come_in_fixed_queries_and_swap_in_place_with_htmx(client, trust):
    signed_in(client, "ada@test.nhs.uk")
    with counted_queries() as few:
        page_of(client)
    for _ in range(60):
        audit.record("allocation.start", trust["ct_programme"], actor_id=trust["lead"].id,
                     preceptorship_id=trust["ct_programme"].id, details={"preceptor": trust["priya"].id, "on": "x"})
    db.session.commit()
    with counted_queries() as many:
        first = page_of(client)
    assert len(many) == len(few)  # no query per row
    total = len(events_where())
    assert f"{total} events, page 1 of 2." in first and len(event_ids(first)) == 50
    assert 'rel="next" href="/admin/audit?page=2"' in first

    headers = {"HX-Request": "true", "HX-Target": "audit_search"}
    response = client.get("/admin/audit?page=2&action=allocation.start", headers=headers)
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="audit_search">') and "<html" not in fragment
    assert len(event_ids(fragment)) == 11 and {"HX-Request", "HX-Target"} <= set(response.vary)
    assert 'hx-target="#audit_search"' in fragment and "page 2 of 2" in fragment
    assert "<html" in page_of(client, "page=2", **{**headers, "HX-Boosted": "true"})


def test_downloads_hold_the_filtered_events_in_scope(client, trust):
    audit.record("allocation.end", trust["ct_programme"], actor_id=trust["lead"].id,
                 preceptorship_id=trust["ct_programme"].id, reason="=HYPERLINK(\"http://x\")")
    db.session.commit()
    signed_in(client, "lena@test.nhs.uk")
    response = client.get("/admin/audit.csv?person=sam")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["When", "Who", "Person id", "Action"]
    shown = event_ids(page_of(client, "person=sam"))
    assert len(rows) - 1 == len(shown) == len(events_where(AuditEvent.preceptorship_id == trust["ct_programme"].id))
    assert ["'=HYPERLINK(\"http://x\")"] == [row[10] for row in rows[1:] if row[4] == "allocation.end"]
    assert {row[9] for row in rows[1:]} == {f"CT, {trust['ct'].site.name}"}

    workbook = load_workbook(io.BytesIO(client.get("/admin/audit.xlsx").data))
    sheet = workbook["Audit log"]
    codes = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(codes) == len(event_ids(page_of(client))) and "person.create" not in codes
    assert isinstance(sheet.cell(row=2, column=1).value, datetime)


def test_service_scope_follows_chains_of_merges(trust):
    assert service.visible_departments([trust["ct"].id]) == {trust["ct"].id, trust["old"].id, trust["older"].id}
    assert service.visible_departments([trust["old"].id]) == {trust["old"].id, trust["older"].id}
    assert service.visible_departments([]) == set()
    assert db.session.get(Department, trust["older"].id).merged_into_id == trust["old"].id
