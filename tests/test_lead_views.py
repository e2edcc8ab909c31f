"""The lead's pages: capacity report and exports, register changes, pairing and cohort
allocation through the views, with and without htmx, and kept inside the lead's scope."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import Allocation, AuditEvent, PreceptorProfile, Role
from preceptor.services.capacity import capacity_report

TODAY = date.today()
PASSWORD = "correct-horse-battery"


@pytest.fixture
def trust(make):
    site = make.site("Royal Preston")
    ct, mri = make.department("CT", site), make.department("MRI", site)
    other = make.department("X-ray", make.site("Chorley"))
    lead = make.user(Role.EDUCATION_LEAD, email="lead@test.nhs.uk")
    lead.lead_departments = [ct, mri]
    priya = make.preceptor(ct, name="Priya Preceptor")
    full = make.preceptor(ct, name="Fran Full", cap=1)
    make.programme(department=ct, preceptor=full)
    outsider = make.preceptor(other, name="Olu Outside")
    sam = make.programme(department=ct, start=TODAY - timedelta(days=9))
    far = make.programme(department=other)
    db.session.commit()
    return {"lead": lead, "ct": ct, "mri": mri, "other": other, "priya": priya, "full": full,
            "outsider": outsider, "sam": sam, "far": far}


@pytest.fixture
def lead_client(client, trust):
    client.sign_in("lead@test.nhs.uk", PASSWORD)
    return client


def page(client, path, **kwargs):
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_capacity_report_shows_the_scope_only(lead_client, trust):
    html = page(lead_client, "/lead/")
    assert "CT, Royal Preston" in html and "MRI, Royal Preston" in html
    assert "Chorley" not in html
    assert '<svg role="img"' in html and "Capacity against load by department" in html
    assert lead_client.get(f"/lead/capacity/{trust['other'].id}").status_code == 404


def test_capacity_filters_swap_the_report_region_with_htmx(lead_client, trust):
    headers = {"HX-Request": "true", "HX-Target": "capacity_report"}
    fragment = page(lead_client, "/lead/?sort=waiting&profession=therapeutic", headers=headers)
    assert fragment.lstrip().startswith('<div id="capacity_report">') and "<html" not in fragment
    assert "No departments match" in fragment
    full = page(lead_client, "/lead/?sort=nonsense&site=abc")  # tampered values: all departments
    assert "<html" in full and "CT, Royal Preston" in full


def test_exports_open_and_match_the_screen(lead_client, trust):
    report = capacity_report([trust["ct"].id, trust["mri"].id], TODAY)
    response = lead_client.get("/lead/capacity.xlsx")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="capacity-')
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Capacity", "Forecast"]
    rows = list(workbook["Capacity"].iter_rows(values_only=True))
    assert rows[0][:8] == ("Department", "Site", "Profession", "Eligible preceptors", "Capacity", "Load",
                           "Free places", "Utilisation")
    ct = next(row for row in rows if row[0] == "CT")
    shown = report.departments[0]
    assert ct[3:9] == (shown.eligible, shown.capacity, shown.load, shown.free, "33%", shown.waiting)
    assert rows[-1][0] == "All departments in scope" and not any(row[1] == "Chorley" for row in rows)

    text = lead_client.get("/lead/capacity.csv").get_data(as_text=True)
    assert text.startswith("\ufeffCapacity")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    csv_ct = next(line for line in lines if line and line[0] == "CT")
    assert csv_ct[3:9] == [str(v) for v in ct[3:8]] + [str(ct[8])]
    html = page(lead_client, "/lead/")
    assert "33%" in html


def test_export_neutralises_formulas(lead_client, trust, make):
    trust["ct"].name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    text = lead_client.get("/lead/capacity.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text


def test_register_lists_scope_and_who_could_be_trained(lead_client, trust, make):
    make.preceptor(trust["mri"], name="Tara Trainable", trained=False, years=3)
    db.session.commit()
    html = page(lead_client, "/lead/register")
    assert "Priya Preceptor" in html and "Olu Outside" not in html
    assert "Who could be trained next" in html and "Tara Trainable, band 6, MRI, Royal Preston" in html
    assert lead_client.get(f"/lead/register/{trust['outsider'].id}").status_code == 404


def test_register_change_in_place_and_on_its_own_page(lead_client, trust):
    priya = trust["priya"].id
    headers = {"HX-Request": "true", "HX-Target": f"preceptor-{priya}"}
    form_row = page(lead_client, f"/lead/register/{priya}", headers=headers)
    assert form_row.lstrip().startswith(f'<tr class="nhsuk-table__row" id="preceptor-{priya}">')
    leave = TODAY + timedelta(days=14)
    data = {"cap": "3", "unavailable_until[day]": str(leave.day), "unavailable_until[month]": str(leave.month),
            "unavailable_until[year]": str(leave.year), "unavailable_reason": ""}
    response = lead_client.submit(f"/lead/register/{priya}", data, token_from="/lead/register", headers=headers)
    assert "Enter why they are unavailable" in response.get_data(as_text=True)
    assert db.session.get(PreceptorProfile, priya).cap is None  # nothing saved
    data["unavailable_reason"] = "Annual leave"
    response = lead_client.submit(f"/lead/register/{priya}", data, token_from="/lead/register", headers=headers)
    html = response.get_data(as_text=True)
    assert "Saved" in html and "Annual leave" in html and "On leave" in html
    db.session.expire_all()
    profile = db.session.get(PreceptorProfile, priya)
    assert (profile.cap, profile.unavailable_until) == (3, leave)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "register.change")) == 1
    # Without JavaScript: a bad cap is shown by the field with the input kept; a good one redirects.
    response = lead_client.submit(f"/lead/register/{priya}", {"cap": "99"}, token_from="/lead/register")
    html = response.get_data(as_text=True)
    assert "Cap must be a whole number from 0 to 6" in html and 'value="99"' in html and "<html" in html
    response = lead_client.submit(f"/lead/register/{priya}", {"cap": ""}, token_from="/lead/register")
    assert response.status_code == 302


def test_pairing_a_waiting_preceptee(lead_client, trust):
    sam = trust["sam"]
    html = page(lead_client, "/lead/waiting")
    assert sam.preceptee.name in html and trust["far"].preceptee.name not in html
    html = page(lead_client, f"/lead/programmes/{sam.id}/preceptor")
    assert html.index("Priya Preceptor") < html.index("Fran Full")
    assert "Same department. 2 free places. 0 current preceptees" in html
    assert "Olu Outside" not in html
    response = lead_client.submit(f"/lead/programmes/{sam.id}/preceptor", {"preceptor": str(trust["full"].id)},
                                  token_from="/lead/waiting")
    html = response.get_data(as_text=True)
    assert "Fran Full has 1 of 1 places taken. Give a reason" in html and "Error:" in html
    assert db.session.scalar(select(func.count()).select_from(Allocation)) == 1
    response = lead_client.submit(f"/lead/programmes/{sam.id}/preceptor", {"preceptor": str(trust["priya"].id)},
                                  token_from="/lead/waiting")
    assert response.status_code == 302
    db.session.expire_all()
    assert sam.current_allocation.preceptor_id == trust["priya"].id


def test_pairing_refuses_outside_scope_and_nonsense(lead_client, trust):
    assert lead_client.get(f"/lead/programmes/{trust['far'].id}/preceptor").status_code == 404
    sam = trust["sam"].id
    response = lead_client.submit(f"/lead/programmes/{sam}/preceptor", {"preceptor": str(trust["outsider"].id)},
                                  token_from="/lead/waiting")
    assert "not on the register of your departments" in response.get_data(as_text=True)
    response = lead_client.submit(f"/lead/programmes/{sam}/preceptor", {"preceptor": "x"}, token_from="/lead/waiting")
    assert "Choose a preceptor" in response.get_data(as_text=True)


def test_pairing_without_a_csrf_token_is_refused(lead_client, trust):
    response = lead_client.post(f"/lead/programmes/{trust['sam'].id}/preceptor",
                                data={"preceptor": str(trust["priya"].id)})
    assert response.status_code == 400


def test_cohort_proposal_and_acceptance(lead_client, trust):
    html = page(lead_client, "/lead/cohort?propose=1")
    value = f"{trust['sam'].id}:{trust['priya'].id}"
    assert f'value="{value}" checked' in html
    response = lead_client.submit("/lead/cohort", {}, token_from="/lead/cohort")
    assert "Choose at least one pairing to accept" in response.get_data(as_text=True)
    response = lead_client.submit("/lead/cohort", {"pairs": [value]}, token_from="/lead/cohort")
    assert response.status_code == 302
    follow = page(lead_client, response.headers["Location"])
    assert "1 preceptee is now paired with a preceptor" in follow
    response = lead_client.submit("/lead/cohort", {"pairs": [value]}, token_from="/lead/cohort")
    assert "Nothing was allocated" in response.get_data(as_text=True)


def test_department_page_lists_preceptors_waiting_and_who_precepts_whom(lead_client, trust):
    html = page(lead_client, f"/lead/capacity/{trust['ct'].id}")
    assert "Priya Preceptor" in html and trust["sam"].preceptee.name in html
    allocated = db.session.scalar(select(Allocation))
    assert f'href="/lead/programmes/{allocated.preceptorship_id}/preceptor">Change preceptor' in html


def test_navigation_counts_who_waits_in_scope(lead_client, trust):
    html = page(lead_client, "/lead/register")
    assert re.search(r'id="waiting-count"[^>]*>\s*1\b', html)  # Sam; not the programme outside scope


def test_exports_survive_control_characters_in_names(lead_client, trust):
    trust["ct"].name = "CT\x07 scanner"
    db.session.commit()
    workbook = load_workbook(io.BytesIO(lead_client.get("/lead/capacity.xlsx").data))
    assert any(row[0] == "CT scanner" for row in workbook["Capacity"].iter_rows(values_only=True))


@pytest.mark.parametrize("path", [
    "/lead/?site=%C2%B2", "/lead/capacity.csv?site=%C2%B2", "/lead/cohort?department=%C2%B2&propose=1",
    "/lead/register/99999999999999999999999", "/lead/programmes/99999999999999999999999/preceptor",
])
def test_odd_numbers_in_addresses_never_break_a_page(lead_client, trust, path):
    assert lead_client.get(path).status_code in (200, 404)


def test_odd_numbers_in_forms_are_refused_clearly(lead_client, trust):
    sam = trust["sam"].id
    for value in ("²", "99999999999999999999999"):
        response = lead_client.submit(f"/lead/programmes/{sam}/preceptor", {"preceptor": value},
                                      token_from="/lead/waiting")
        assert "Choose a preceptor" in response.get_data(as_text=True)
        response = lead_client.submit("/lead/cohort", {"pairs": [f"{sam}:{value}"]}, token_from="/lead/cohort")
        assert "The proposal was not recognised" in response.get_data(as_text=True)


def test_a_cap_cannot_drop_below_the_preceptees_someone_has(lead_client, trust):
    full = trust["full"].id  # cap 1, one preceptee
    response = lead_client.submit(f"/lead/register/{full}", {"cap": "0"}, token_from="/lead/register")
    assert "They have 1 preceptee now, so the cap must be at least 1" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PreceptorProfile, full).cap == 1
