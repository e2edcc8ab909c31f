"""Importing people from a CSV file (preview, then one transaction, then each person's
invitation link) and changing one person's details and a preceptor's place in the register."""

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import AccountLink, AuditEvent, LinkPurpose, PreceptorProfile, Role, User
from preceptor.models._columns import utcnow
from preceptor.services import account_links
from preceptor.services import people_import as service
from preceptor.services.people_import import parse_roles

from .factories import PASSWORD

PAGE, UPLOAD, CONFIRM = "/admin/people/import", "/admin/people/import", "/admin/people/import/confirm"
HEADER = "Full Name,Email,Roles,HCPC Number,Site,Department,HCPC Registration Date,Preceptor Training Date"


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


@pytest.fixture
def trust(make):
    site = make.site("Royal Preston")
    ct = make.department("CT", site=site)
    closed = make.department("Old X-ray", site=site, archived_at=utcnow())
    admin = make.user(Role.ADMIN, email="admin@test.nhs.uk", name="Ada Admin")
    existing = make.user(Role.PRECEPTEE, email="sam.starter@nhs.net", name="Sam Starter", hcpc_number="RA900001")
    db.session.commit()
    return {"ct": ct, "closed": closed, "admin": admin, "existing": existing}


@pytest.fixture
def admin_client(client, trust):
    assert client.sign_in("admin@test.nhs.uk", PASSWORD).status_code == 302
    return client


def upload(client, data: bytes, filename: str = "people.csv"):
    return client.post(UPLOAD, data={"csrf_token": client.csrf_token(PAGE), "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def carried(html: str) -> str:
    match = re.search(r'<input type="hidden" name="content" value="([^"]*)"', html)
    assert match, "no import form on the preview"
    return match[1]


GOOD = csv_bytes(
    "Priya Patel,Priya.Patel@nhs.net,Preceptor,RA 123456,Royal Preston,CT,2019-07-01,01/03/2021",
    "Lena Lead,lena.lead@nhs.net,Education lead; Preceptor,,royal preston,ct,2015-09-01,",
    "Ada Two,ada.two@nhs.net,Administrator,,,,,",
    "Sam Starter,sam.starter@nhs.net,Preceptee,,,,,",  # already has an account: skipped
)


def people_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_roles_are_read_by_their_words():
    assert parse_roles("Preceptor; Education lead") == [Role.PRECEPTOR, Role.EDUCATION_LEAD]
    assert parse_roles("admin and preceptee") == [Role.PRECEPTEE, Role.ADMIN]
    assert parse_roles("education_lead|lead") == [Role.EDUCATION_LEAD]
    assert parse_roles("Preceptor; Surgeon") is None
    assert parse_roles(" ") is None


def test_preview_then_import_creates_accounts_places_and_links(admin_client, trust):
    before = people_count()
    response = upload(admin_client, GOOD)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Add 3 people" in html and "Already have an account" in html
    assert people_count() == before  # a preview writes nothing

    response = admin_client.submit(CONFIRM, {"content": carried(html)}, token_from=PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "3 people added" in html and "1 already had an account" in html
    assert len(re.findall(r"/account/[A-Za-z0-9_-]{20,}", html)) == 3
    assert people_count() == before + 3

    priya = db.session.scalar(select(User).where(User.email == "priya.patel@nhs.net"))
    assert priya.roles == {Role.PRECEPTOR} and priya.hcpc_number == "RA123456" and priya.password_hash is None
    profile = db.session.get(PreceptorProfile, priya.id)
    assert (profile.department_id, profile.registered_on, profile.trained_on) == (
        trust["ct"].id, date(2019, 7, 1), date(2021, 3, 1))
    lena = db.session.scalar(select(User).where(User.email == "lena.lead@nhs.net"))
    assert lena.roles == {Role.EDUCATION_LEAD, Role.PRECEPTOR}
    assert [d.id for d in lena.lead_departments] == [trust["ct"].id] and not lena.trust_wide
    assert db.session.scalar(select(func.count()).select_from(AccountLink)) == 3
    assert trust["existing"].roles == {Role.PRECEPTEE}  # untouched
    summary = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "people.import"))
    assert summary.details["imported"] == 3 and summary.details["already"] == 1


def test_importing_the_same_file_again_changes_nothing(admin_client, trust):
    html = upload(admin_client, GOOD).get_data(as_text=True)
    admin_client.submit(CONFIRM, {"content": carried(html)}, token_from=PAGE)
    after_first = people_count()
    html = upload(admin_client, GOOD).get_data(as_text=True)
    assert "Everyone in this file already has an account" in html and 'name="content"' not in html
    assert people_count() == after_first


@pytest.mark.parametrize(("line", "message"), [
    (",x@nhs.net,Preceptee,,,,,", "Enter the person&#39;s full name"),
    ("Ann,not-an-email,Preceptee,,,,,", "Enter an email address in the correct format"),
    ("Ann,ann@nhs.net,Surgeon,,,,,", "Roles must be preceptee, preceptor, education lead or administrator"),
    ("Ann,ann@nhs.net,,,,,,", "Roles must be"),
    ("Ann,ann@nhs.net,Preceptor,,Royal Preston,CT,,", "Enter the HCPC registration date for a preceptor"),
    ("Ann,ann@nhs.net,Preceptor,,Royal Preston,CT,31/02/2020,", "is not a real date"),
    ("Ann,ann@nhs.net,Preceptor,,Royal Preston,CT,2099-01-01,", "must be today or in the past"),
    ("Ann,ann@nhs.net,Preceptor,,Royal Preston,CT,2020-01-01,2019-01-01", "on or after the HCPC registration date"),
    ("Ann,ann@nhs.net,Preceptor,,,,2020-01-01,", "Enter the site"),
    ("Ann,ann@nhs.net,Education lead,,Royal Preston,Nuclear,,", "There is no department called"),
    ("Ann,ann@nhs.net,Preceptor,,Royal Preston,Old X-ray,2020-01-01,", "has closed"),
    ("Ann,ann@nhs.net,Preceptee,RA12X,,,,", "HCPC number must be RA followed by"),
    ("Ann,ann@nhs.net,Preceptee,RA900001,,,,", "already belongs to someone else"),
])
def test_each_bad_value_is_refused_by_line_and_nothing_is_written(admin_client, trust, line, message):
    before = people_count()
    response = upload(admin_client, csv_bytes("Good Person,good@nhs.net,Preceptee,,,,,", line))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Line 3: " in html and message in html and 'id="line-3"' in html
    assert 'name="content"' not in html  # no import button while anything is wrong
    assert people_count() == before


def test_duplicates_within_the_file_are_refused_case_insensitively(admin_client, trust):
    html = upload(admin_client, csv_bytes("Ann One,ann@nhs.net,Preceptee,RA1,,,,",
                                          "Ann Two,ANN@nhs.net,Preceptee,,,,,",
                                          "Bob,bob@nhs.net,Preceptee,ra 1,,,,")).get_data(as_text=True)
    assert "The same email as line 2" in html and "The same HCPC number as line 2" in html


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty. Choose a CSV file of people."),
    (b"PK\x03\x04rest", "This is an Excel workbook"),
    (csv_bytes("x", header="Full Name,Email"), "missing the column Roles"),
    (csv_bytes(header=HEADER), "column headings but no people"),
])
def test_a_file_that_cannot_be_read_says_why(admin_client, trust, data, message):
    response = upload(admin_client, data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_a_tampered_carried_file_is_refused(admin_client, trust):
    response = admin_client.submit(CONFIRM, {"content": "not-base64!"}, token_from=PAGE)
    assert response.status_code == 400
    assert "could not be read back from the preview" in response.get_data(as_text=True)


def test_an_email_taken_between_preview_and_import_is_skipped_not_doubled(admin_client, trust, make):
    html = upload(admin_client, GOOD).get_data(as_text=True)
    make.user(Role.PRECEPTOR, email="priya.patel@nhs.net", name="Priya Elsewhere")
    db.session.commit()
    before = people_count()
    html = admin_client.submit(CONFIRM, {"content": carried(html)}, token_from=PAGE).get_data(as_text=True)
    assert "2 people added" in html and people_count() == before + 2


def test_the_service_refuses_rows_with_problems(app, trust):
    preview = service.preview_text(HEADER + "\nAnn,bad,Preceptee,,,,,\n", date.today())
    with pytest.raises(service.ImportRefused):
        service.import_people(preview.rows, trust["admin"], preview.fingerprint)


# --- one person's details -------------------------------------------------------------------

def details_path(user) -> str:
    return f"/admin/people/{user.id}/details"


def test_changing_details_saves_and_audits_without_the_values(admin_client, trust):
    sam = trust["existing"]
    response = admin_client.submit(details_path(sam), {"name": " Samantha  Starter ", "email": "SAM.S@nhs.net",
                                                        "hcpc_number": "ra 900001"})
    assert response.status_code == 302
    db.session.refresh(sam)
    assert (sam.name, sam.email, sam.hcpc_number) == ("Samantha Starter", "sam.s@nhs.net", "RA900001")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.change_details"))
    assert event.details == {"changed": ["email", "name"]}
    assert "sam" not in str(event.details).lower()  # the log outlives erasure: no names or emails


def test_a_duplicate_email_is_refused_by_the_field_with_input_kept(admin_client, trust, make):
    make.user(Role.PRECEPTOR, email="taken@nhs.net")
    db.session.commit()
    sam = trust["existing"]
    response = admin_client.submit(details_path(sam), {"name": "Sam Renamed", "email": "TAKEN@nhs.net",
                                                       "hcpc_number": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "An account with this email already exists" in html and 'value="Sam Renamed"' in html
    db.session.refresh(sam)
    assert (sam.name, sam.email) == ("Sam Starter", "sam.starter@nhs.net")


def test_a_preceptor_gets_a_place_in_the_register(admin_client, trust, make):
    new = make.user(Role.PRECEPTOR, email="new.p@nhs.net", name="New Preceptor")
    db.session.commit()
    page = admin_client.get(f"/admin/people/{new.id}").get_data(as_text=True)
    assert "Not in a register yet" in page
    form = {"name": new.name, "email": new.email, "hcpc_number": "", "department": str(trust["ct"].id),
            "registered_on[day]": "1", "registered_on[month]": "7", "registered_on[year]": "2019"}
    assert admin_client.submit(details_path(new), form).status_code == 302
    profile = db.session.get(PreceptorProfile, new.id)
    assert (profile.department_id, profile.registered_on) == (trust["ct"].id, date(2019, 7, 1))
    page = admin_client.get(f"/admin/people/{new.id}").get_data(as_text=True)
    assert "Not in a register yet" not in page and "CT, Royal Preston" in page


@pytest.mark.parametrize(("change", "message"), [
    ({"department": ""}, "Choose departments from the list"),
    ({"department": "closed"}, "Choose departments from the list"),
    ({"registered_on[year]": str(date.today().year + 1)}, "must be today or in the past"),
    ({"registered_on[day]": "", "registered_on[month]": "", "registered_on[year]": ""},
     "Enter the date they registered with the HCPC"),
])
def test_a_bad_place_is_refused_and_nothing_is_saved(admin_client, trust, make, change, message):
    new = make.user(Role.PRECEPTOR, email="new.p@nhs.net", name="New Preceptor")
    db.session.commit()
    form = {"name": "Renamed", "email": new.email, "hcpc_number": "", "department": str(trust["ct"].id),
            "registered_on[day]": "1", "registered_on[month]": "7", "registered_on[year]": "2019", **change}
    if form["department"] == "closed":
        form["department"] = str(trust["closed"].id)
    response = admin_client.submit(details_path(new), form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.refresh(new)
    assert new.name == "New Preceptor" and db.session.get(PreceptorProfile, new.id) is None


def test_details_of_someone_who_is_not_a_preceptor_have_no_register_fields(admin_client, trust):
    html = admin_client.get(details_path(trust["existing"])).get_data(as_text=True)
    assert "Where they precept" not in html and 'name="department"' not in html


def test_details_of_an_unknown_person_are_not_found(admin_client, trust):
    assert admin_client.get("/admin/people/999999/details").status_code == 404


def test_an_old_registration_keeps_counting(admin_client, trust, make):
    """Moving a preceptor keeps their registration date unless it is changed."""
    priya = make.preceptor(trust["ct"], name="Priya P")
    db.session.commit()
    other = make.department("MRI", site=trust["ct"].site)
    db.session.commit()
    profile = db.session.get(PreceptorProfile, priya.id)
    registered = profile.registered_on
    form = {"name": priya.name, "email": priya.email, "hcpc_number": "", "department": str(other.id),
            "registered_on[day]": str(registered.day), "registered_on[month]": str(registered.month),
            "registered_on[year]": str(registered.year)}
    assert admin_client.submit(details_path(priya), form).status_code == 302
    db.session.refresh(profile)
    assert profile.department_id == other.id and profile.registered_on == registered
    assert registered < date.today() - timedelta(days=365)


def test_changing_the_email_ends_a_link_sent_to_the_old_one(admin_client, trust):
    sam = trust["existing"]
    token = account_links.issue(sam, LinkPurpose.INVITE, trust["admin"])
    db.session.commit()
    response = admin_client.submit(details_path(sam), {"name": sam.name, "email": "sam.right@nhs.net",
                                                       "hcpc_number": sam.hcpc_number})
    assert response.status_code == 302
    with pytest.raises(account_links.LinkRefused):
        account_links.find(token)
