"""New starters: reading the ESR extract (every kind of bad input), checking rows against the
portal, importing once and only once in one transaction, and the lead's pages (hand entry,
upload, preview, confirm) with their access rules."""

import io
import re
from datetime import date
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from preceptor.extensions import db
from preceptor.lead import starters as views
from preceptor.models import AuditEvent, Preceptorship, Profession, Role, TransitionType, User
from preceptor.services import esr_extract, starter_values
from preceptor.services import starters as service
from preceptor.services.framework import install_default_framework
from preceptor.services.starters import StartersRefused
from preceptor.transactions import commit

from .factories import PASSWORD

SAMPLE = Path(__file__).parent / "data" / "esr_starters_sample.csv"
TODAY = date(2026, 8, 3)  # the sample's September and later start dates are all ahead of this
HEADER = "Employee Number,Full Name,Email,HCPC Number,Site,Department,Start Date,Transition,Programme Months"
PRESTON, CHORLEY = "Royal Preston Hospital", "Chorley and South Ribble Hospital"
PAGE, UPLOAD, IMPORT = "/lead/starters", "/lead/starters/upload", "/lead/starters/import"


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


def row(name="Ann Other", email="ann.other@nhs.net", hcpc="RA100001", site=PRESTON, department="CT",
        start="2026-09-07", transition="", months="", number="30400001") -> str:
    return ",".join([number, name, email, hcpc, site, department, start, transition, months])


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(Preceptorship)))


def problems(preview) -> dict[int, list[str]]:
    return {r.line: [p.message for p in r.problems] for r in preview.bad_rows}


def text_of(html: str) -> str:
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def summary_links(html: str) -> list[tuple[str, str]]:
    """The error summary's links as (href, text)."""
    start = html.index("nhsuk-error-summary__list")
    listed = html[start:html.index("</ul>", start)]
    return [(href, text_of(text)) for href, text in re.findall(r'<a href="([^"]+)"\s*>(.*?)</a>', listed, re.S)]


@pytest.fixture
def trust(make):
    """The departments the sample file names, at the demo trust's two sites, plus one closed."""
    preston, chorley = make.site(PRESTON), make.site(CHORLEY)
    departments = SimpleNamespace(
        ct=make.department("CT", preston), xray=make.department("General X-ray", preston),
        mri=make.department("MRI", preston),
        rt=make.department("Radiotherapy treatment", preston, profession=Profession.THERAPEUTIC),
        chorley_xray=make.department("General X-ray", chorley), chorley_ct=make.department("CT", chorley),
    )
    db.session.commit()
    return departments


def preview(data: bytes, scope=None, today: date = TODAY):
    return service.preview_file(data, scope, today)


# --- reading the file ----------------------------------------------------------------------------

def test_the_sample_extract_reads_cleanly(trust):
    result = preview(SAMPLE.read_bytes())
    assert result.file_problems == [] and problems(result) == {}
    assert result.importable and len(result.new_rows) == 6 and result.already_rows == []
    first, _, kelly, _, bronte, shah = result.rows
    assert (first.line, first.name, first.email, first.hcpc_number, first.department, first.start_date) == (
        2, "Aisha Rahman", "aisha.rahman@nhs.net", "RA912345", trust.ct, date(2026, 9, 7))
    assert (kelly.email, kelly.hcpc_number, kelly.start_date) == ("siobhan.kelly@nhs.net", None, date(2026, 9, 14))
    assert (bronte.name, bronte.transition, bronte.months) == ("Zoë Brontë", TransitionType.RETURN_TO_PRACTICE, 6)
    assert (shah.department, shah.transition) == (trust.chorley_ct, TransitionType.NEW_ROLE)


def test_a_byte_order_mark_from_excel_is_ignored(trust):
    plain = preview(SAMPLE.read_bytes())
    with_bom = preview(b"\xef\xbb\xbf" + SAMPLE.read_bytes())
    assert with_bom.importable and [r.values for r in with_bom.rows] == [r.values for r in plain.rows]


def test_a_file_that_is_not_utf8_is_refused_plainly_with_the_fix(trust):
    data = csv_bytes(row(), row(name="Zoë Brontë", email="zoe@nhs.net", hcpc="")).decode().encode("cp1252")
    result = preview(data)
    assert result.rows == [] and not result.importable
    [message] = result.file_problems
    assert "not saved as UTF-8" in message and "line 3" in message and "CSV UTF-8" in message


@pytest.mark.parametrize("data, expected", [
    (b"", "The file is empty"),
    (b" \r\n \r\n", "The file is empty"),
    (b",,,,\r\n", "The file is empty"),
    (csv_bytes(), "no starters"),
    (csv_bytes(",,,,,,,,", ""), "no starters"),
    (b"PK\x03\x04\x14\x00rest-of-a-workbook", "Excel workbook"),
    ("\ufeffFull Name,Email".encode("utf-16"), "UTF-16"),
    (HEADER.replace(",", ";").encode() + b"\r\n" + row().replace(",", ";").encode(), "semicolons"),
    (b"Full Name,Email\r\nA\x00B,a@nhs.net\r\n", "not a text file"),
], ids=["empty", "blank lines", "empty cells", "headings only", "only empty rows", "xlsx", "utf-16",
        "semicolons", "binary"])
def test_files_that_cannot_be_read_say_why(trust, data, expected):
    result = preview(data)
    assert result.rows == [] and not result.importable
    assert expected in " ".join(result.file_problems)


def test_a_file_over_the_size_limit_is_refused(trust):
    data = csv_bytes(row()) + b"x" * esr_extract.MAX_BYTES
    assert "larger than 2 MB" in preview(data).file_problems[0]


def test_a_file_over_the_row_limit_is_refused(trust):
    lines = [row(email=f"p{n}@nhs.net", hcpc="") for n in range(esr_extract.MAX_ROWS + 1)]
    result = preview(csv_bytes(*lines))
    assert result.file_problems == ["The file has more than 5,000 starters. Split it into smaller files."]


def test_missing_columns_are_listed_by_name(trust):
    result = preview(b"Employee Number,Email,Site,Department\r\n1,a@nhs.net,X,Y\r\n")
    [message] = result.file_problems
    assert "missing the columns Full Name, Start Date." in message


def test_a_column_named_twice_is_refused(trust):
    result = preview(csv_bytes(row() + ",x", header=HEADER + ",email"))
    assert "The column Email appears more than once." in result.file_problems


def test_headings_match_ignoring_case_spacing_and_order_and_other_columns_are_ignored(trust):
    header = "  start DATE ,Position Title, full   name,EMAIL,department,site"
    result = preview(csv_bytes("07/09/2026,Band 5 Radiographer,Ann Other,ann@nhs.net, ct , royal preston HOSPITAL ",
                               header=header))
    assert result.importable
    [only] = result.rows
    assert (only.name, only.department, only.start_date, only.hcpc_number) == (
        "Ann Other", trust.ct, date(2026, 9, 7), None)


@pytest.mark.parametrize("typed", ["2026-09-07", "07/09/2026", "7/9/2026", "07-Sep-2026", "7-SEP-2026"])
def test_start_dates_in_iso_uk_and_esr_styles(typed):
    assert starter_values.parse_date(typed) == date(2026, 9, 7)


@pytest.mark.parametrize("typed", ["31/02/2026", "2026-13-01", "09/07/26", "next Monday", "2026/09/07",
                                   "07-Sept-2026", "7 September 2026"])
def test_start_dates_that_are_not_real_dates(typed):
    assert starter_values.parse_date(typed) is None


def test_each_bad_row_has_its_line_number_and_every_reason(trust):
    data = csv_bytes(
        row(),                                                                   # line 2: fine
        row(name="", email="not-an-email", hcpc="AB123", start="31/02/2026"),  # line 3: four problems
        "",                                                                      # line 4: blank, skipped
        row(email="b@nhs.net", hcpc="RA100002", site="St Elsewhere"),            # line 5
        row(email="c@nhs.net", hcpc="RA100003", department="Nuclear medicine"),  # line 6
        row(email="d@nhs.net", hcpc="RA123456789", start=""),                    # line 7
        row(email="e@nhs.net", hcpc="", transition="Sideways", months="9"),     # line 8
        row(email="f@nhs.net", hcpc="", start="2028-09-01"),                     # line 9: too far ahead
        row(email="g@nhs.net", hcpc="", start="2025-01-01"),                     # line 10: too long ago
    )
    result = preview(data)
    assert not result.importable and result.file_problems == []
    found = problems(result)
    assert set(found) == {3, 5, 6, 7, 8, 9, 10}
    assert found[3] == ["Enter the starter's full name",
                        "Enter an email address in the correct format, like name@nhs.net",
                        "HCPC number must be RA followed by up to 8 digits, like RA123456",
                        "Start date '31/02/2026' is not a real date: write it like 2026-09-07 or 07/09/2026"]
    assert found[5] == ["There is no site called 'St Elsewhere' in the portal"]
    assert found[6] == [f"There is no department called 'Nuclear medicine' at {PRESTON}"]
    assert found[7] == ["HCPC number must be RA followed by up to 8 digits, like RA123456", "Enter the start date"]
    assert found[8] == ["Transition must be newly qualified, return to practice, international recruit or new role",
                        "Programme months must be 12 or 6"]
    assert found[9] == ["Start date must be no more than 2 years from today"]
    assert found[10] == ["Start date must be no more than a year ago"]
    assert [r.line for r in result.new_rows] == [2]


def test_line_numbers_count_physical_lines_when_a_value_spans_two(trust):
    data = csv_bytes('30400001,"Ann\nOther",ann@nhs.net,,Royal Preston Hospital,CT,2026-09-07,,',
                     row(email="bad", hcpc=""))
    assert list(problems(preview(data))) == [4]


def test_a_department_outside_the_leads_scope_is_an_error_row(trust):
    data = csv_bytes(row(site=CHORLEY, department="General X-ray"),
                     row(email="b@nhs.net", hcpc="RA100002", department="CT"))
    result = preview(data, scope=[trust.ct.id])
    assert problems(result) == {2: [f"General X-ray, {CHORLEY} is not one of your departments"]}
    assert [r.department for r in result.new_rows] == [trust.ct]


def test_a_closed_department_is_an_error_row(trust):
    from preceptor.models._columns import utcnow

    trust.mri.archived_at = utcnow()
    db.session.commit()
    assert problems(preview(csv_bytes(row(department="MRI")))) == {2: [f"MRI, {PRESTON} has closed"]}


def test_duplicate_rows_within_the_file_are_refused_after_the_first(trust):
    data = csv_bytes(row(), row(), row(email="ANN.OTHER@nhs.net ", hcpc="", department="MRI"),
                     row(email="someone@nhs.net"))
    found = problems(preview(data))
    duplicate = "The same starter (email) as line 2: each starter must appear once"
    assert found == {3: [duplicate, "The same HCPC number as line 2"], 4: [duplicate],
                     5: ["The same HCPC number as line 2"]}


def test_hcpc_numbers_are_tidied_before_checking():
    assert starter_values.normalise_hcpc(" ra 712345 ") == "RA712345"
    assert starter_values.hcpc_problem("RA1") is None and starter_values.hcpc_problem("RA") is not None


# --- against the people already in the portal ---------------------------------------------------

def test_an_email_of_someone_else_is_refused_but_the_same_person_is_reused(trust, make):
    make.user(Role.PRECEPTOR, email="jo.bloggs@nhs.net", name="Jo Bloggs", hcpc_number="RA500000")
    make.user(Role.PRECEPTOR, email="sam@nhs.net", name="Sam Smith")
    db.session.commit()
    result = preview(csv_bytes(
        row(name="JO  bloggs", email="jo.bloggs@nhs.net", hcpc=""),               # same name: same person
        row(name="Sam Jones", email="sam@nhs.net", hcpc="RA100002"),              # different name: refused
        row(name="Jo Married-Name", email="jo.bloggs@nhs.net", hcpc="RA500000",   # same HCPC: same person
            department="MRI"),
        row(name="Someone New", email="new@nhs.net", hcpc="RA500000"),            # someone else's HCPC
    ))
    found = problems(result)
    assert found[3] == ["This email already belongs to someone else in the portal, under a different name. "
                        "Check the email, or the name if they have changed it"]
    assert found[4] == ["The same starter (email) as line 2: each starter must appear once"]
    assert found[5] == ["The same HCPC number as line 4",
                        "This HCPC number already belongs to someone else in the portal"]
    assert result.rows[0].existing_user.email == "jo.bloggs@nhs.net" and result.rows[0].ok


def test_the_same_person_with_a_running_programme_is_refused(trust, make):
    person = make.user(Role.PRECEPTEE, email="ann.other@nhs.net", name="Ann Other")
    make.programme(person, trust.xray, start=date(2026, 1, 5))
    db.session.commit()
    assert problems(preview(csv_bytes(row()))) == {2: [
        "This person already has a preceptorship running: it must end before another can start"]}


# --- importing ----------------------------------------------------------------------------------

def run_import(data: bytes, scope=None, actor_id=None):
    result = preview(data, scope)
    assert result.importable, problems(result) or result.file_problems
    imported = service.import_starters(result.rows, actor_id=actor_id, source="esr", fingerprint=result.fingerprint)
    db.session.commit()
    return imported


def test_importing_twice_changes_nothing_the_second_time(trust, make):
    install_default_framework()
    lead = make.user(Role.EDUCATION_LEAD, trust_wide=True)
    db.session.commit()
    first = run_import(SAMPLE.read_bytes(), actor_id=lead.id)
    after_first = counts()
    assert (first.imported, first.already) == (6, 0) and after_first[1] == 6
    aisha = db.session.scalar(select(User).where(User.email == "aisha.rahman@nhs.net"))
    assert aisha.roles == {Role.PRECEPTEE}
    assert (aisha.name, aisha.hcpc_number, aisha.password_hash) == ("Aisha Rahman", "RA912345", None)
    bronte = db.session.scalar(select(Preceptorship).join(User, User.id == Preceptorship.preceptee_id)
                               .where(User.email == "zoe.bronte@nhs.net"))
    assert (bronte.department_id, bronte.start_date, bronte.planned_end_date, bronte.transition) == (
        trust.mri.id, date(2027, 3, 1), date(2027, 9, 1), TransitionType.RETURN_TO_PRACTICE)
    assert len(bronte.preceptee.roles) == 1 and db.session.scalar(
        select(func.count()).where(Preceptorship.id == bronte.id)) == 1

    again = preview(SAMPLE.read_bytes())
    assert again.importable and again.new_rows == [] and len(again.already_rows) == 6
    second = run_import(SAMPLE.read_bytes(), actor_id=lead.id)
    assert (second.imported, second.already) == (0, 6)
    assert counts() == after_first
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "starters.import")
                                .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.details["imported"], e.details["already"]) for e in events] == [
        (lead.id, 6, 0), (lead.id, 0, 6)]
    assert events[0].details["sha256"] == events[1].details["sha256"] and "Aisha" not in str(events[0].details)


def test_a_file_that_grew_imports_only_the_new_rows(trust):
    run_import(csv_bytes(row()))
    result = run_import(csv_bytes(row(), row(name="Bo Other", email="bo@nhs.net", hcpc="RA100002")))
    assert (result.imported, result.already) == (1, 1) and counts() == (2, 2)


def test_the_same_person_gets_the_preceptee_role_on_their_own_account(trust, make):
    person = make.user(Role.PRECEPTOR, email="jo.bloggs@nhs.net", name="Jo Bloggs")
    db.session.commit()
    result = run_import(csv_bytes(row(name="Jo Bloggs", email="Jo.Bloggs@nhs.net", hcpc="RA500001",
                                      transition="new role")))
    assert (result.imported, counts()) == (1, (1, 1))
    db.session.refresh(person)
    assert person.roles == {Role.PRECEPTOR, Role.PRECEPTEE} and person.hcpc_number == "RA500001"


def test_rows_with_problems_are_never_imported(trust):
    result = preview(csv_bytes(row(), row(email="bad", hcpc="")))
    with pytest.raises(StartersRefused):
        service.import_starters(result.rows, actor_id=None, source="esr")
    db.session.rollback()
    assert counts() == (0, 0)


def test_a_failure_part_way_leaves_nothing_imported(trust, monkeypatch):
    """The third programme fails as a lost race would (a unique index): the two before it,
    their accounts and the audit events all roll back with it."""
    real, calls = service.start_preceptorship, []

    def third_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "start_preceptorship", third_fails)
    result = preview(SAMPLE.read_bytes())
    messages: list[str] = []
    ok = commit(lambda: service.import_starters(result.rows, actor_id=None, source="esr"), messages,
                stale="lost", refusals=(StartersRefused,))
    assert (ok, messages, len(calls)) == (False, ["lost"], 3)
    assert counts() == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_carrying_the_text_to_the_confirm_step_round_trips_exactly():
    text = SAMPLE.read_text(encoding="utf-8")
    packed = esr_extract.pack(text)
    assert esr_extract.unpack(packed) == text and "\n" not in packed
    assert len(packed) < len(text.encode("utf-8"))
    assert esr_extract.unpack(packed[:-8]) is None and esr_extract.unpack("not base64!") is None
    assert esr_extract.unpack("") is None
    too_big = esr_extract.pack("x" * (esr_extract.MAX_BYTES + 1))
    assert esr_extract.unpack(too_big) is None  # stops inflating at the limit


# --- the pages ----------------------------------------------------------------------------------

@pytest.fixture
def pinned(monkeypatch):
    monkeypatch.setattr(views, "today", lambda: TODAY)


@pytest.fixture
def lead(make, trust, pinned):
    user = make.user(Role.EDUCATION_LEAD, email="lead@nhs.net", trust_wide=True)
    db.session.commit()
    return user


@pytest.fixture
def signed_in(client, lead):
    assert client.sign_in(lead.email, PASSWORD).status_code == 302
    return lead


def upload(client, data: bytes, filename: str = "starters.csv"):
    token = client.csrf_token(PAGE)
    return client.post(UPLOAD, data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def carried(html: str) -> str:
    match = re.search(r'<input type="hidden" name="content" value="([^"]*)"', html)
    assert match, "no import form on the preview"
    return match.group(1)


def hand(**overrides) -> dict:
    data = {"name": "Ann Other", "email": "ann.other@nhs.net", "hcpc_number": "RA100001", "department": "",
            "start_date[day]": "7", "start_date[month]": "9", "start_date[year]": "2026",
            "transition": "newly_qualified", "months": "12"}
    return {**data, **overrides}


def test_the_page_lists_recent_and_future_starters_in_scope_with_their_preceptor(client, signed_in, make, trust):
    preceptor = make.preceptor(trust.ct)
    make.programme(make.user(Role.PRECEPTEE, name="Future Starter"), trust.ct, start=date(2026, 9, 7),
                   preceptor=preceptor)
    make.programme(make.user(Role.PRECEPTEE, name="Recent Starter"), trust.xray, start=date(2026, 6, 15))
    make.programme(make.user(Role.PRECEPTEE, name="Old Starter"), trust.xray, start=date(2026, 6, 1))
    db.session.commit()
    response = client.get(PAGE)
    text = text_of(response.get_data(as_text=True))
    assert response.status_code == 200 and "<title>New starters" in response.get_data(as_text=True)
    assert f"Future Starter CT, {PRESTON} 7 September 2026 Newly qualified {preceptor.name}" in text
    assert f"Recent Starter General X-ray, {PRESTON} 15 June 2026 Newly qualified No preceptor yet" in text
    assert "Old Starter" not in text
    assert "Add a starter by hand" in text and "Upload the ESR extract" in text


def test_a_scoped_lead_sees_only_their_departments(client, make, trust, pinned):
    lead = make.user(Role.EDUCATION_LEAD, email="chorley@nhs.net")
    lead.lead_departments = [trust.chorley_xray]
    make.programme(make.user(Role.PRECEPTEE, name="Preston Starter"), trust.ct, start=date(2026, 9, 7))
    make.programme(make.user(Role.PRECEPTEE, name="Chorley Starter"), trust.chorley_xray, start=date(2026, 9, 7))
    db.session.commit()
    client.sign_in(lead.email, PASSWORD)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Chorley Starter" in html and "Preston Starter" not in html
    options = re.findall(r'<option value="(\d+)"', html)
    assert options == [str(trust.chorley_xray.id)]


def test_adding_a_starter_by_hand(client, signed_in, trust):
    response = client.submit(PAGE, hand(department=str(trust.ct.id), transition="international_recruit",
                                        months="6", hcpc_number="ra 100001"))
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    programme = db.session.scalar(select(Preceptorship))
    assert (programme.preceptee.email, programme.preceptee.hcpc_number, programme.department_id,
            programme.start_date, programme.transition, programme.planned_end_date) == (
        "ann.other@nhs.net", "RA100001", trust.ct.id, date(2026, 9, 7), TransitionType.INTERNATIONAL_RECRUIT,
        date(2027, 3, 7))
    page = text_of(client.get(PAGE).get_data(as_text=True))
    assert f"Ann Other added: CT, {PRESTON}, starting 7 September 2026." in page
    again = client.submit(PAGE, hand(department=str(trust.ct.id)))
    assert "This starter already has a programme in this department from this date" in again.get_data(as_text=True)
    assert counts() == (2, 1)  # the lead and Ann


def test_hand_entry_errors_are_shown_by_each_field_with_the_input_kept(client, signed_in, trust):
    response = client.submit(PAGE, hand(name="  Ann   Other ", email="ann.other@nhs", hcpc_number="AB12",
                                        department="", **{"start_date[day]": "31", "start_date[month]": "2"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<title>Error: New starters" in html
    assert 'class="nhsuk-error-summary"' in html
    expected = [("#email", "Enter an email address in the correct format, like name@nhs.net"),
                ("#hcpc_number", "HCPC number must be RA followed by up to 8 digits, like RA123456"),
                ("#department", "Select the starter's department"),
                ("#start_date-day", "Start date must be a real date")]
    assert summary_links(html) == expected
    for _, message in expected:
        assert text_of(html).count(message) == 2  # in the summary and by the field
    assert 'value="Ann   Other"' in html and 'value="ann.other@nhs"' in html and 'value="AB12"' in html
    assert 'value="31"' in html and counts() == (1, 0)


def test_hand_entry_into_a_department_outside_scope_is_refused(client, make, trust, pinned):
    lead = make.user(Role.EDUCATION_LEAD, email="chorley@nhs.net")
    lead.lead_departments = [trust.chorley_xray]
    db.session.commit()
    client.sign_in(lead.email, PASSWORD)
    html = client.submit(PAGE, hand(department=str(trust.ct.id))).get_data(as_text=True)
    assert "Select one of your departments" in html and counts() == (1, 0)


def test_upload_preview_and_import(client, signed_in, trust):
    response = upload(client, b"\xef\xbb\xbf" + SAMPLE.read_bytes())
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<title>Check the new starters" in html
    text = text_of(html)
    assert "Starters in the file 6 Ready to import 6 Already in the portal 0 Rows with problems 0" in text
    assert "Import 6 starters" in text
    assert "Zoë Brontë" in text and counts() == (1, 0)  # a preview writes nothing

    response = client.post(IMPORT, data={"csrf_token": client.csrf_token(PAGE), "content": carried(html)})
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    page = text_of(client.get(PAGE).get_data(as_text=True))
    assert "6 starters imported, 0 already there" in page and counts() == (7, 6)
    assert "Aisha Rahman CT" in page

    again = upload(client, SAMPLE.read_bytes()).get_data(as_text=True)
    assert "Already in the portal 6" in text_of(again) and "There is nothing to import" in again
    assert 'name="content"' not in again
    response = client.post(IMPORT, data={"csrf_token": client.csrf_token(PAGE), "content": carried(html)},
                           follow_redirects=True)
    assert "0 starters imported, 6 already there" in text_of(response.get_data(as_text=True))
    assert counts() == (7, 6)


def test_a_bad_file_previews_every_bad_row_and_offers_no_import(client, signed_in, trust):
    data = csv_bytes(row(), row(email="nope", hcpc=""), row(start="31/02/2026", email="b@nhs.net", hcpc=""))
    html = upload(client, data).get_data(as_text=True)
    assert "<title>Error: Check the new starters" in html and 'name="content"' not in html
    assert summary_links(html) == [
        ("#line-3", "Line 3: Enter an email address in the correct format, like name@nhs.net"),
        ("#line-4", "Line 4: Start date '31/02/2026' is not a real date: write it like 2026-09-07 or 07/09/2026")]
    assert 'id="line-3"' in html and 'id="line-4"' in html
    assert "Nothing has been imported. Fix the file and upload it again." in html
    assert 'name="file"' in html and counts() == (1, 0)


def test_a_wrongly_encoded_upload_says_how_to_fix_it(client, signed_in, trust):
    data = SAMPLE.read_text(encoding="utf-8").encode("cp1252")
    html = upload(client, data).get_data(as_text=True)
    assert "not saved as UTF-8" in html and "CSV UTF-8 (Comma delimited)" in html and 'href="#file"' in html


def test_a_request_over_the_size_limit_is_refused_unread(app, client, signed_in, trust):
    assert app.config["MAX_CONTENT_LENGTH"] == 4 * 1024 * 1024  # room for a 2 MB extract and its form
    app.config["MAX_CONTENT_LENGTH"] = 2_000  # a small limit keeps the test's upload in memory
    response = upload(client, b"x" * 5_000)
    assert response.status_code == 413 and "That file is too large" in response.get_data(as_text=True)


def test_uploading_without_a_file_asks_for_one(client, signed_in, trust):
    response = client.post(UPLOAD, data={"csrf_token": client.csrf_token(PAGE)}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "<title>Error: New starters" in html
    assert summary_links(html) == [("#file", "Select the CSV file to upload")]


def test_a_tampered_confirm_imports_nothing(client, signed_in, trust):
    html = client.post(IMPORT, data={"csrf_token": client.csrf_token(PAGE), "content": "bm90IHppcA=="}
                       ).get_data(as_text=True)
    assert "The file could not be read back from the preview. Upload it again." in html and counts() == (1, 0)


def test_a_lead_cannot_import_into_a_department_outside_their_scope(client, make, trust, pinned):
    lead = make.user(Role.EDUCATION_LEAD, email="chorley@nhs.net")
    lead.lead_departments = [trust.chorley_xray, trust.chorley_ct]
    db.session.commit()
    client.sign_in(lead.email, PASSWORD)
    html = upload(client, SAMPLE.read_bytes()).get_data(as_text=True)
    assert f"CT, {PRESTON} is not one of your departments" in html and 'name="content"' not in html
    # Posting the file straight to the confirm step is checked the same way.
    response = client.post(IMPORT, data={"csrf_token": client.csrf_token(PAGE),
                                         "content": esr_extract.pack(SAMPLE.read_text(encoding="utf-8"))})
    assert response.status_code == 200 and "is not one of your departments" in response.get_data(as_text=True)
    assert counts() == (1, 0)


@pytest.mark.parametrize("method, path", [("GET", PAGE), ("POST", PAGE), ("POST", UPLOAD), ("POST", IMPORT)])
def test_a_preceptor_is_forbidden_and_anonymous_is_sent_to_sign_in(client, make, method, path):
    anonymous = client.get(path) if method == "GET" else client.submit(path, token_from="/sign-in")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/sign-in?next=")
    preceptor = make.preceptor()
    db.session.commit()
    client.sign_in(preceptor.email, PASSWORD)
    response = client.get(path) if method == "GET" else client.submit(path, token_from="/sign-in")
    assert response.status_code == 403


@pytest.mark.parametrize("path", [PAGE, UPLOAD, IMPORT])
def test_every_form_needs_the_csrf_token(client, signed_in, trust, path):
    data = {"content": esr_extract.pack(SAMPLE.read_text(encoding="utf-8")), **hand(department=str(trust.ct.id))}
    response = client.post(path, data=data)
    assert response.status_code == 400 and counts() == (1, 0)


def test_an_import_never_touches_a_lead_or_admin_account(make):
    """A lead of one department must not be able to give an administrator a programme (or a
    new HCPC number) by putting their email in a file."""
    from preceptor.services.starter_values import StarterRow
    from preceptor.services.starters import check_against_portal

    admin = make.user(Role.ADMIN, email="boss@test.nhs.uk", name="Bea Boss")
    department = make.department()
    db.session.commit()
    row = StarterRow(line=2, values={}, name="Bea Boss", email="boss@test.nhs.uk", hcpc_number="RA999999",
                     department=department, start_date=date.today(), transition=TransitionType.NEWLY_QUALIFIED,
                     months=12)
    checked = check_against_portal([row])[0]
    assert not checked.ok and "education lead or administrator" in str(checked.problems)
    assert admin.hcpc_number is None and not admin.has_role(Role.PRECEPTEE)


def test_names_with_control_characters_are_refused():
    from preceptor.services.starter_values import name_problem

    assert "control characters" in name_problem("Ann\x07Other")
    assert name_problem("Siân O'Neill-Ćwik") is None
