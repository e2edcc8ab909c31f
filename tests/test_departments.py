"""Sites and departments, for administrators: the overview and its counts, adding and renaming
(names unique ignoring case), archiving (refused while programmes run or preceptors are placed
there), each department's defaults with their bounds, learning needs areas (page and htmx
fragment), the audit of each change, and that only admins may do any of it. Merging is in
test_department_merge.py."""

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import (
    AuditEvent,
    Checklist,
    Department,
    LearningNeedArea,
    PreceptorProfile,
    ProgrammeStatus,
    Role,
    Site,
    department_checklist,
)
from preceptor.models._columns import utcnow
from preceptor.services import departments as service
from preceptor.services.learning_needs import areas_for, install_default_areas
from preceptor.services.scope import open_departments

from .factories import PASSWORD, counted_queries

AREAS = {"HX-Request": "true", "HX-Target": "learning_need_areas"}


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
def trust(make):
    """Royal Preston with CT (2 preceptors, one untrained, and a running programme) and an empty
    MRI; Chorley with Radiotherapy; a closed site with an archived department."""
    preston, chorley = make.site("Royal Preston"), make.site("Chorley")
    ct = make.department("CT", preston, preceptor_cap=3, preceptee_protected_hours=Decimal("37.5"))
    mri = make.department("MRI", preston)
    rt = make.department("Radiotherapy", chorley, profession="therapeutic")
    old_site = make.site("Old Infirmary")
    old = make.department("X-ray", old_site, archived_at=utcnow())
    old_site.archived_at = utcnow()
    priya = make.preceptor(ct, name="Priya Preceptor")
    make.preceptor(ct, trained=False)
    make.preceptor(ct).active = False  # left: not counted, and does not stop an archive
    programme = make.programme(department=ct, preceptor=priya)
    finished = make.programme(department=ct)
    finished.status = ProgrammeStatus.COMPLETED
    db.session.commit()
    return {"preston": preston, "chorley": chorley, "ct": ct, "mri": mri, "rt": rt, "old": old,
            "old_site": old_site, "priya": priya, "programme": programme}


def html_of(response, status=200) -> str:
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def errors(html: str) -> dict[str, str]:
    """The error summary's items: {"#field": "message"}, or {"": "message"} for one without a field."""
    summary = html[html.index("nhsuk-error-summary__list"):]
    summary = summary[:summary.index("</ul>")]
    found = {}
    for item in re.findall(r"<li>(.*?)</li>", summary, re.S):
        link = re.search(r'href="(#[^"]*)"', item)
        found[link.group(1) if link else ""] = " ".join(re.sub(r"<[^>]+>", " ", item).split())
    return found


def selected(html: str, name: str) -> str:
    """The value of the chosen option of the select `name`."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option value="([^"]*)" selected', select).group(1)


def field_error(html: str, field: str) -> str:
    hidden = r'<span class="nhsuk-u-visually-hidden">Error:\s*</span>'
    match = re.search(rf'id="{field}-error"\s*>\s*{hidden}\s*([^<]+)', html)
    assert match, f"no error shown by {field}"
    return match.group(1).strip()


def audit_rows(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def row_cells(html: str, row_id: str) -> list[str]:
    row = re.search(rf'<tr class="nhsuk-table__row" id="{row_id}">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


# The overview ---------------------------------------------------------------------------------


def test_the_overview_shows_each_site_with_counts_and_defaults(admin_client, trust):
    html = html_of(admin_client.get("/admin/departments"))
    assert row_cells(html, f"department-{trust['ct'].id}") == [
        "CT", "Diagnostic radiography", "1", "2", "1", "3", "37.5 hours a year"]
    assert row_cells(html, f"department-{trust['mri'].id}") == [
        "MRI", "Diagnostic radiography", "0", "0", "0", "Trust default (2)", "Not set"]
    assert row_cells(html, f"department-{trust['rt'].id}")[1] == "Therapeutic radiography"
    # The archived site and its department are listed apart, after the open ones.
    assert html.index("Royal Preston") < html.index("Archived sites") < html.index("Old Infirmary")
    assert row_cells(html, f"department-{trust['old'].id}")[0] == "X-ray"
    assert "Archived on" in row_cells(html, f"department-{trust['old'].id}")[-1]


def text(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", markup).split())


def summary_list(html: str) -> dict[str, str]:
    """The summary list's rows: {key: value}, as text."""
    pairs = re.findall(r'<dt class="nhsuk-summary-list__key"[^>]*>(.*?)</dt>\s*'
                       r'<dd class="nhsuk-summary-list__value"[^>]*>(.*?)</dd>', html, re.S)
    return {text(key): text(value) for key, value in pairs}


def test_a_department_page_shows_its_counts_and_defaults(admin_client, trust):
    assert summary_list(html_of(admin_client.get(f"/admin/departments/{trust['ct'].id}"))) == {
        "Site": "Royal Preston", "Profession": "Diagnostic radiography",
        "Trained preceptors": "1 of 2 staff on its register", "Running programmes": "1", "Preceptor cap": "3",
        "Preceptee protected time": "37.5 hours a year"}
    shown = summary_list(html_of(admin_client.get(f"/admin/departments/{trust['mri'].id}")))
    assert (shown["Running programmes"], shown["Preceptor cap"], shown["Preceptee protected time"]) == (
        "0", "Trust default (2)", "Not set")


def test_the_overview_takes_the_same_statements_for_any_number_of_departments(admin_client, admin, make):
    def statements() -> int:
        with counted_queries() as seen:
            html_of(admin_client.get("/admin/departments"))
        return len(seen)

    site = make.site("One")
    make.programme(department=make.department(site=site), preceptor=make.preceptor())
    db.session.commit()
    few = statements()
    for n in range(15):
        department = make.department(f"D{n}", make.site() if n % 3 == 0 else site)
        make.programme(department=department, preceptor=make.preceptor(department))
    db.session.commit()
    assert statements() == few
    with counted_queries() as seen:
        groups = service.overview()
    assert len(seen) == 2 and sum(len(g.open) for g in groups) == 17


# Sites ----------------------------------------------------------------------------------------


def test_adding_a_site_and_a_duplicate_in_another_case(admin_client, trust):
    response = admin_client.submit("/admin/sites/new", {"name": "  Blackpool   Victoria "})
    site = db.session.scalar(select(Site).where(Site.name == "Blackpool Victoria"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#site-{site.id}")
    assert audit_rows("site.create")[-1].details == {"name": "Blackpool Victoria"}

    html = html_of(admin_client.submit("/admin/sites/new", {"name": "ROYAL preston"}), 400)
    assert errors(html) == {"#name": "There is already a site called Royal Preston"}
    assert field_error(html, "name") == "There is already a site called Royal Preston"
    assert 'value="ROYAL preston"' in html  # what they typed is kept
    html = html_of(admin_client.submit("/admin/sites/new", {"name": "old infirmary"}), 400)
    assert "archived: unarchive it rather than adding it again" in errors(html)["#name"]
    assert errors(html_of(admin_client.submit("/admin/sites/new", {"name": "  "}), 400)) == {
        "#name": "Enter the site’s name"}
    assert db.session.scalar(select(func.count()).select_from(Site)) == 4


def test_renaming_a_site(admin_client, trust):
    site_id = trust["chorley"].id
    assert admin_client.submit(f"/admin/sites/{site_id}", {"action": "rename", "name": "Chorley Hospital"}
                               ).status_code == 302
    assert fresh(trust["chorley"]).name == "Chorley Hospital"
    assert audit_rows("site.rename")[-1].details == {"before": {"name": "Chorley"},
                                                     "after": {"name": "Chorley Hospital"}}
    html = html_of(admin_client.submit(f"/admin/sites/{site_id}", {"action": "rename", "name": "royal PRESTON"}), 400)
    assert field_error(html, "name") == "There is already a site called Royal Preston"
    assert fresh(trust["chorley"]).name == "Chorley Hospital"
    # The same name in another case is the site's own, not a duplicate.
    admin_client.submit(f"/admin/sites/{site_id}", {"action": "rename", "name": "CHORLEY HOSPITAL"})
    assert fresh(trust["chorley"]).name == "CHORLEY HOSPITAL"


def test_a_site_is_archived_only_when_all_its_departments_are(admin_client, trust):
    url = f"/admin/sites/{trust['chorley'].id}"
    assert "still open" in html_of(admin_client.get(url))
    html = html_of(admin_client.submit(url, {"action": "archive"}), 400)
    assert errors(html) == {
        "": "Chorley still has 1 open department. Archive or merge it first, then archive the site."}
    assert fresh(trust["chorley"]).archived_at is None

    trust["rt"].archived_at = utcnow()
    db.session.commit()
    assert "Archive Chorley?" in html_of(admin_client.get(url + "?confirm=archive"))
    assert admin_client.submit(url, {"action": "archive"}).status_code == 302
    assert fresh(trust["chorley"]).archived_at is not None
    assert audit_rows("site.archive")[-1].object_id == trust["chorley"].id

    # Opening it again leaves its departments archived.
    assert admin_client.submit(url, {"action": "unarchive"}).status_code == 302
    assert fresh(trust["chorley"]).archived_at is None and fresh(trust["rt"]).archived_at is not None


# Departments ------------------------------------------------------------------------------------


def new_department(**overrides) -> dict:
    return {"site": "", "name": "Fluoroscopy", "profession": "diagnostic", **overrides}


def test_adding_a_department(admin_client, trust):
    html = html_of(admin_client.get(f"/admin/departments/new?site={trust['chorley'].id}"))
    assert selected(html, "site") == str(trust["chorley"].id)
    assert "Old Infirmary" not in html  # archived sites are not offered
    response = admin_client.submit("/admin/departments/new", new_department(site=trust["preston"].id))
    added = db.session.scalar(select(Department).where(Department.name == "Fluoroscopy"))
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/departments/{added.id}"
    assert (added.site_id, added.profession.value, added.archived_at) == (trust["preston"].id, "diagnostic", None)
    assert audit_rows("department.create")[-1].details == {"site_id": trust["preston"].id, "name": "Fluoroscopy",
                                                           "profession": "diagnostic"}
    assert added in open_departments(None)  # offered in pickers at once


def test_a_department_name_is_unique_at_its_site_ignoring_case(admin_client, trust):
    preston = trust["preston"].id
    html = html_of(admin_client.submit("/admin/departments/new", new_department(site=preston, name="ct")), 400)
    assert errors(html) == {"#name": "Royal Preston already has a department called CT"}
    assert 'value="ct"' in html and selected(html, "site") == str(preston)
    # The same name at another site is another service.
    assert admin_client.submit("/admin/departments/new", new_department(site=trust["chorley"].id, name="CT")
                               ).status_code == 302

    url = f"/admin/departments/{trust['mri'].id}"
    html = html_of(admin_client.submit(url, {"action": "rename", "name": "Ct"}), 400)
    assert field_error(html, "name") == "Royal Preston already has a department called CT"
    assert fresh(trust["mri"]).name == "MRI"
    assert admin_client.submit(url, {"action": "rename", "name": "MRI and CT"}).status_code == 302
    assert fresh(trust["mri"]).name == "MRI and CT"
    assert audit_rows("department.rename")[-1].details == {"before": {"name": "MRI"}, "after": {"name": "MRI and CT"}}


@pytest.mark.parametrize("form, field, message", [
    ({"site": ""}, "#site", "Choose the site the department is at"),
    ({"site": "999"}, "#site", "Choose the site the department is at"),
    ({"profession": ""}, "#profession", "Choose the department’s profession"),
    ({"profession": "nursing"}, "#profession", "Choose the department’s profession"),
    ({"name": "x" * 121}, "#name", "The department’s name must be 120 characters or fewer"),
])
def test_a_bad_new_department_is_refused_by_its_field(admin_client, trust, form, field, message):
    posted = {**new_department(site=trust["preston"].id), **form}
    html = html_of(admin_client.submit("/admin/departments/new", posted), 400)
    assert errors(html) == {field: message}
    assert db.session.scalar(select(func.count()).select_from(Department)) == 4


def test_a_department_cannot_be_added_to_an_archived_site(admin_client, trust):
    html = html_of(admin_client.submit("/admin/departments/new", new_department(site=trust["old_site"].id)), 400)
    assert errors(html) == {"#site": "Old Infirmary is archived: unarchive it first, or choose another site"}


def test_archiving_is_refused_while_programmes_run_or_preceptors_are_placed(admin_client, trust):
    url = f"/admin/departments/{trust['ct'].id}"
    expected = ("CT, Royal Preston still has 1 running programme and 2 preceptors. Merge it into another department, "
                "which moves them there and archives this one, or move them first.")
    page = html_of(admin_client.get(url))
    assert expected in page and "Archive department" not in page  # said before they try
    html = html_of(admin_client.submit(url, {"action": "archive"}), 400)
    assert errors(html) == {"": expected}
    assert fresh(trust["ct"]).archived_at is None and not audit_rows("department.archive")


def test_archiving_and_opening_again(admin_client, trust):
    url = f"/admin/departments/{trust['mri'].id}"
    assert "Archive MRI, Royal Preston?" in html_of(admin_client.get(url + "?confirm=archive"))
    assert admin_client.submit(url, {"action": "archive"}).status_code == 302
    assert trust["mri"].id not in {d.id for d in open_departments(None)}
    html = html_of(admin_client.get("/admin/departments"))
    assert html.index("Archived departments") < html.index(f'id="department-{trust["mri"].id}"')
    event = audit_rows("department.archive")[-1]
    assert event.department_id == trust["mri"].id and event.details["before"] == {"archived_at": None}

    # An archived department cannot be changed until it is open again.
    html = html_of(admin_client.submit(url, {"action": "rename", "name": "MR"}), 400)
    assert "MRI, Royal Preston is archived: unarchive it before changing it" in errors(html).values()
    assert admin_client.submit(url, {"action": "unarchive"}).status_code == 302
    assert fresh(trust["mri"]).archived_at is None and audit_rows("department.unarchive")


def test_a_department_opens_again_only_at_an_open_site_and_not_after_a_merge(admin_client, trust):
    html = html_of(admin_client.submit(f"/admin/departments/{trust['old'].id}", {"action": "unarchive"}), 400)
    assert errors(html) == {"": "Old Infirmary is archived: unarchive the site first"}
    trust["mri"].archived_at, trust["mri"].merged_into_id = utcnow(), trust["ct"].id
    db.session.commit()
    url = f"/admin/departments/{trust['mri'].id}"
    assert "Merged into" in html_of(admin_client.get(url))
    html = html_of(admin_client.submit(url, {"action": "unarchive"}), 400)
    assert "was merged into CT, Royal Preston" in errors(html)[""]
    assert fresh(trust["mri"]).archived_at is not None


# Defaults -----------------------------------------------------------------------------------------


def defaults_form(**overrides) -> dict:
    return {"action": "defaults", "preceptor_cap": "", "preceptee_protected_hours": "", "checklists": [], **overrides}


@pytest.fixture
def checklists(trust):
    ct_list, mri_list, old_list = Checklist(name="CT"), Checklist(name="MRI"), Checklist(name="Plain film",
                                                                                       archived_at=utcnow())
    db.session.add_all([ct_list, mri_list, old_list])
    db.session.commit()
    return {"ct": ct_list, "mri": mri_list, "old": old_list}


def ticked(department) -> set[int]:
    return set(db.session.scalars(select(department_checklist.c.checklist_id)
                                  .where(department_checklist.c.department_id == department.id)))


def test_setting_a_departments_defaults(admin_client, trust, checklists):
    url = f"/admin/departments/{trust['mri'].id}"
    html = html_of(admin_client.get(url))
    assert "Plain film" not in html  # an archived checklist is not offered
    response = admin_client.submit(url, defaults_form(preceptor_cap="4", preceptee_protected_hours="37.25",
                                                      checklists=[str(checklists["ct"].id), str(checklists["mri"].id)]))
    assert response.status_code == 302
    mri = fresh(trust["mri"])
    assert (mri.preceptor_cap, mri.preceptee_protected_hours) == (4, Decimal("37.25"))
    assert ticked(mri) == {checklists["ct"].id, checklists["mri"].id}
    assert audit_rows("department.defaults")[-1].details == {
        "before": {"preceptor_cap": None, "preceptee_protected_hours": None, "checklist_ids": []},
        "after": {"preceptor_cap": 4, "preceptee_protected_hours": "37.25",
                  "checklist_ids": sorted([checklists["ct"].id, checklists["mri"].id])}}
    html = html_of(admin_client.get(url))
    assert 'value="4"' in html and 'value="37.25"' in html and "37.25 hours a year" in html

    # Blank goes back to the trust default; saving it unchanged records nothing.
    admin_client.submit(url, defaults_form(checklists=[str(checklists["mri"].id)]))
    mri = fresh(trust["mri"])
    assert (mri.preceptor_cap, mri.preceptee_protected_hours, ticked(mri)) == (None, None, {checklists["mri"].id})
    events = len(audit_rows("department.defaults"))
    admin_client.submit(url, defaults_form(checklists=[str(checklists["mri"].id)]))
    assert len(audit_rows("department.defaults")) == events


@pytest.mark.parametrize("cap, hours, cap_error, hours_error", [
    ("0", "-1", "Preceptor cap must be a whole number from 1 to 6, or blank for the trust default (2)",
     "Protected time allowance must be a number of hours a year from 0 to 300, like 37.5, or blank for none"),
    ("7", "300.01", "Preceptor cap must be a whole number from 1 to 6, or blank for the trust default (2)",
     "Protected time allowance must be a number of hours a year from 0 to 300, like 37.5, or blank for none"),
    ("2.5", "1.234", "Preceptor cap must be a whole number from 1 to 6, or blank for the trust default (2)",
     "Protected time allowance must have no more than 2 decimal places, like 37.25"),
    ("²", "NaN", "Preceptor cap must be a whole number from 1 to 6, or blank for the trust default (2)",
     "Protected time allowance must be a number of hours a year from 0 to 300, like 37.5, or blank for none"),
])
def test_out_of_bounds_defaults_are_refused_by_each_field(admin_client, trust, checklists, cap, hours, cap_error,
                                                          hours_error):
    url = f"/admin/departments/{trust['ct'].id}"
    html = html_of(admin_client.submit(url, defaults_form(preceptor_cap=cap, preceptee_protected_hours=hours,
                                                          checklists=[str(checklists["ct"].id)])), 400)
    assert errors(html) == {"#preceptor_cap": cap_error, "#preceptee_protected_hours": hours_error}
    assert field_error(html, "preceptor_cap") == cap_error
    assert f'value="{cap}"' in html and f'value="{hours}"' in html  # the input is kept
    assert re.search(rf'value="{checklists["ct"].id}" checked', html)
    ct = fresh(trust["ct"])
    assert (ct.preceptor_cap, ct.preceptee_protected_hours, ticked(ct)) == (3, Decimal("37.5"), set())


def test_a_checklist_that_is_not_offered_is_refused(admin_client, trust, checklists):
    url = f"/admin/departments/{trust['ct'].id}"
    for bad in (str(checklists["old"].id), "9999", "abc"):
        html = html_of(admin_client.submit(url, defaults_form(preceptor_cap="5", checklists=[bad])), 400)
        assert errors(html) == {"#checklists": "Choose checklists from the list"}
    assert fresh(trust["ct"]).preceptor_cap == 3
    # An archived checklist already ticked stays offered, so saving does not drop it silently.
    db.session.execute(department_checklist.insert().values(department_id=trust["ct"].id,
                                                            checklist_id=checklists["old"].id))
    db.session.commit()
    assert "Plain film (archived)" in html_of(admin_client.get(url))
    assert admin_client.submit(url, defaults_form(checklists=[str(checklists["old"].id)])).status_code == 302


def test_the_cap_cannot_drop_below_the_load_of_a_preceptor_who_follows_it(admin_client, trust, make):
    ct, priya = trust["ct"], trust["priya"]
    for _ in range(2):
        make.programme(department=ct, preceptor=priya)  # Priya now has 3 preceptees, under CT's cap of 3
    db.session.commit()
    url = f"/admin/departments/{ct.id}"
    html = html_of(admin_client.submit(url, defaults_form(preceptor_cap="2")), 400)
    assert errors(html)["#preceptor_cap"].startswith(
        "1 preceptor here has 3 preceptees now and follows the department’s cap, so it must be at least 3.")
    html_of(admin_client.submit(url, defaults_form()), 400)  # blank: the trust's 2 is too low as well
    assert fresh(ct).preceptor_cap == 3
    # With her own cap she no longer follows the department's.
    db.session.get(PreceptorProfile, priya.id).cap = 3
    db.session.commit()
    assert admin_client.submit(url, defaults_form(preceptor_cap="2")).status_code == 302


# Learning needs areas -----------------------------------------------------------------------------


def test_adding_areas_replaces_the_trust_wide_ones_for_that_department(admin_client, trust, make):
    install_default_areas()
    db.session.commit()
    programme = trust["programme"]
    trust_wide = len(areas_for(programme))
    url = f"/admin/departments/{trust['ct'].id}"
    html = html_of(admin_client.get(url))
    assert "Radiation protection and IR(ME)R" in html  # the trust-wide areas, for context
    assert "no areas of its own, so its preceptees rate the trust-wide areas" in html
    assert f'action="{url}/areas"' in html  # the form to add one
    assert f'action="{url}/areas/' not in html  # none of its own to change

    response = admin_client.submit(f"{url}/areas", {"title": "  Contrast   administration "})
    assert response.status_code == 302 and response.headers["Location"].endswith("#learning_need_areas")
    assert [a.title for a in areas_for(fresh(programme))] == ["Contrast administration"] and trust_wide > 1
    area = db.session.scalar(select(LearningNeedArea).where(LearningNeedArea.department_id == trust["ct"].id))
    assert audit_rows("learning_need_area.add")[-1].details == {"title": "Contrast administration"}
    html = html_of(admin_client.get(url))
    assert "Preceptees here rate this department’s own areas" in html
    assert f'href="{url}/areas/{area.id}">Rename' in html and f'hx-post="{url}/areas/{area.id}"' in html

    # Archiving the last brings the trust-wide areas back; restoring it replaces them again.
    admin_client.submit(f"{url}/areas/{area.id}", {"action": "archive"})
    assert len(areas_for(fresh(programme))) == trust_wide
    admin_client.submit(f"{url}/areas/{area.id}", {"action": "restore"})
    assert [a.title for a in areas_for(fresh(programme))] == ["Contrast administration"]


def test_areas_change_in_place_with_htmx(admin_client, trust):
    url = f"/admin/departments/{trust['ct'].id}"
    response = admin_client.submit(f"{url}/areas", {"title": "Cardiac CT"}, token_from=url, headers=AREAS)
    fragment = html_of(response)
    assert fragment.lstrip().startswith('<div id="learning_need_areas"') and "<html" not in fragment
    assert "“Cardiac CT” is added to CT’s learning needs areas." in fragment
    assert "Cardiac CT</td>" in fragment and {"HX-Request", "HX-Target"} <= set(response.vary)

    # A duplicate in another case is refused in the fragment, beside the field, input kept.
    fragment = html_of(admin_client.submit(f"{url}/areas", {"title": "cardiac ct"}, token_from=url, headers=AREAS))
    assert "<html" not in fragment
    assert errors(fragment) == {"#title": "This department already has the area “Cardiac CT”"}
    assert field_error(fragment, "title") == "This department already has the area “Cardiac CT”"
    assert 'value="cardiac ct"' in fragment
    # The same without JavaScript: the whole page, its summary at the top.
    html = html_of(admin_client.submit(f"{url}/areas", {"title": "cardiac ct"}), 400)
    assert "<html" in html and errors(html) == {"#title": "This department already has the area “Cardiac CT”"}
    area = db.session.scalar(select(LearningNeedArea).where(LearningNeedArea.title == "Cardiac CT"))

    fragment = html_of(admin_client.submit(f"{url}/areas/{area.id}", {"action": "archive"}, token_from=url,
                                           headers=AREAS))
    assert "“Cardiac CT” is archived: preceptees no longer rate it." in fragment and "Archived areas" in fragment
    assert fresh(area).archived_at is not None
    fragment = html_of(admin_client.submit(f"{url}/areas/{area.id}", {"action": "archive"}, token_from=url,
                                           headers=AREAS))
    assert errors(fragment) == {"": "“Cardiac CT” is already archived"}
    fragment = html_of(admin_client.submit(f"{url}/areas/{area.id}", {"action": "restore"}, token_from=url,
                                           headers=AREAS))
    assert "is back: preceptees rate it again" in fragment and fresh(area).archived_at is None


def test_renaming_an_area(admin_client, trust):
    url = f"/admin/departments/{trust['ct'].id}/areas"
    admin_client.submit(url, {"title": "Cardiac CT"})
    admin_client.submit(url, {"title": "Trauma CT"})
    area = db.session.scalar(select(LearningNeedArea).where(LearningNeedArea.title == "Cardiac CT"))
    assert 'value="Cardiac CT"' in html_of(admin_client.get(f"{url}/{area.id}"))
    html = html_of(admin_client.submit(f"{url}/{area.id}", {"action": "rename", "title": "TRAUMA ct"}), 400)
    assert errors(html) == {"#title": "This department already has the area “Trauma CT”"}
    assert 'value="TRAUMA ct"' in html
    html = html_of(admin_client.submit(f"{url}/{area.id}", {"action": "rename", "title": ""}), 400)
    assert errors(html) == {"#title": "Enter the learning needs area"}
    assert admin_client.submit(f"{url}/{area.id}", {"action": "rename", "title": "Cardiac and vascular CT"}
                               ).status_code == 302
    assert fresh(area).title == "Cardiac and vascular CT"
    assert audit_rows("learning_need_area.rename")[-1].details == {
        "before": {"title": "Cardiac CT"}, "after": {"title": "Cardiac and vascular CT"}}


def test_trust_wide_and_other_departments_areas_are_not_changed_here(admin_client, trust):
    install_default_areas()
    mri_area = LearningNeedArea(department_id=trust["mri"].id, title="MR safety")
    db.session.add(mri_area)
    db.session.commit()
    trust_area = db.session.scalar(select(LearningNeedArea).where(LearningNeedArea.department_id.is_(None)))
    url = f"/admin/departments/{trust['ct'].id}/areas"
    for area in (trust_area, mri_area):
        assert admin_client.get(f"{url}/{area.id}").status_code == 404
        assert admin_client.submit(f"{url}/{area.id}", {"action": "archive"}, token_from="/admin/").status_code == 404
    assert fresh(trust_area).archived_at is None and fresh(mri_area).archived_at is None


# Who may do it ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.PRECEPTEE, Role.PRECEPTOR, Role.EDUCATION_LEAD])
def test_only_admins_may_change_departments(client, make, trust, role):
    make.user(role, email="someone@test.nhs.uk", trust_wide=True)
    db.session.commit()
    client.sign_in("someone@test.nhs.uk", PASSWORD)
    ct, preston = trust["ct"].id, trust["preston"].id
    posts = [("/admin/sites/new", {"name": "Sneaky"}), (f"/admin/sites/{preston}", {"action": "rename", "name": "S"}),
             ("/admin/departments/new", new_department(site=preston)),
             (f"/admin/departments/{ct}", {"action": "rename", "name": "S"}),
             (f"/admin/departments/{ct}", defaults_form(preceptor_cap="6")),
             (f"/admin/departments/{ct}/areas", {"title": "S"}),
             (f"/admin/departments/{ct}/merge", {"into": str(trust["mri"].id), "fingerprint": ""})]
    for path, data in posts:
        assert client.submit(path, data, token_from="/").status_code == 403, path
    assert fresh(trust["ct"]).name == "CT" and fresh(trust["ct"]).preceptor_cap == 3
    assert db.session.scalar(select(func.count()).select_from(Site).where(Site.name == "Sneaky")) == 0


def test_unknown_objects_and_actions(admin_client, trust):
    assert admin_client.get("/admin/sites/999").status_code == 404
    assert admin_client.get("/admin/departments/999").status_code == 404
    assert admin_client.get("/admin/departments/999/merge").status_code == 404
    ct = f"/admin/departments/{trust['ct'].id}"
    assert admin_client.submit(ct, {"action": "explode"}).status_code == 400
    assert admin_client.submit(f"/admin/sites/{trust['preston'].id}", {"action": "explode"}).status_code == 400

