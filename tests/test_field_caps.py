"""Every text field has a length cap, shown to the browser as `maxlength`; text over a cap is
refused beside its field, the typed text kept and nothing saved.

The first test walks every form class in the app, so a new text field without a cap fails it.
"""

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from wtforms import Form, StringField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import FieldList, FormField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

from preceptor.extensions import db
from preceptor.fields import strip
from preceptor.models import LogEntry, Meeting, Milestone, Role, SignOffRequest, Site
from preceptor.preceptee.needs_forms import assessment_form

from .factories import PASSWORD


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *all_subclasses(sub)}
    return found


def unbound_fields(form_class: type) -> list[tuple[str, UnboundField]]:
    """The fields a form class declares (its own and inherited), by name."""
    return [(name, value) for name in dir(form_class)
            if isinstance(value := getattr(form_class, name, None), UnboundField)]


def validators_of(unbound: UnboundField) -> list:
    if "validators" in unbound.kwargs:
        return list(unbound.kwargs["validators"] or [])
    return list(unbound.args[1]) if len(unbound.args) > 1 else []


def uncapped(form_class: type, prefix: str = "") -> list[str]:
    """`Form.field` names of text fields with no Length max, looking inside FormField and FieldList."""
    missing = []
    for name, unbound in unbound_fields(form_class):
        field_class, where = unbound.field_class, f"{prefix}{form_class.__name__}.{name}"
        if field_class is FieldList:
            unbound = unbound.args[0]
            field_class = unbound.field_class
        if field_class is FormField:
            missing += uncapped(unbound.args[0], prefix=f"{where} -> ")
        elif issubclass(field_class, StringField) and not issubclass(field_class, CSRFTokenField):
            if not any(isinstance(v, Length) and v.max > 0 for v in validators_of(unbound)):
                missing.append(where)
    return missing


@pytest.fixture
def form_classes(app) -> list[type]:
    """Every form class of the app: the app is built, so every blueprint's module is imported."""
    classes = [cls for cls in all_subclasses(Form) if cls.__module__.startswith("preceptor.")]
    assert len(classes) > 30  # the walk found the app's forms, not just a few
    return sorted(classes, key=lambda cls: (cls.__module__, cls.__name__))


def test_every_text_field_has_a_length_cap(form_classes):
    missing = [name for cls in form_classes for name in uncapped(cls)]
    assert missing == [], f"text fields without Length(max=...): {missing}"


def test_the_walk_catches_a_field_without_a_cap():
    class Careless(Form):
        title = StringField()

    class Nested(Form):
        rows = FieldList(FormField(Careless))

    assert uncapped(Careless) == ["Careless.title"]
    assert uncapped(Nested) == ["Nested.rows -> Careless.title"]


def test_fields_added_per_learning_need_area_are_capped(app):
    with app.test_request_context():
        form = assessment_form([SimpleNamespace(id=7, title="Trauma")], meta={"csrf": False})
        assert form["note_7"].flags.maxlength == 1000


def test_strip_keeps_one_character_per_line_break():
    """Browsers count a text area's line break as one character against maxlength, but post CRLF."""
    assert strip("  one\r\ntwo \r\n") == "one\ntwo"
    assert strip(None) is None


@pytest.mark.parametrize("path, field, cap", [
    ("/sign-in", "email", 254),
    ("/sign-in", "password", 256),
])
def test_caps_are_rendered_as_maxlength(client, path, field, cap):
    html = client.get(path).get_data(as_text=True)
    tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', html).group(0)
    assert f'maxlength="{cap}"' in tag


# --- end to end: over the cap is refused beside the field, kept, and not saved -------------------

@pytest.fixture
def preceptee(signed_in_preceptee):
    return signed_in_preceptee


def refused_beside_field(response, message: str, kept: str) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 409), response.status_code
    assert "There is a problem" in html
    assert html.count(message) >= 2  # in the error summary and beside the field
    assert kept in html  # what was typed is shown back
    return html


def test_log_entry_title_and_reflection_over_the_cap(client, preceptee):
    day = date.today() - timedelta(days=1)
    path = "/preceptee/log/new?kind=reflection"
    base = {"kind": "reflection", "title": "Trauma call", "occurred_on[day]": day.day,
            "occurred_on[month]": day.month, "occurred_on[year]": day.year,
            "what_happened": "Busy", "so_what": "Learnt", "now_what": "Practise"}
    long_title = "T" * 161
    response = client.submit(path, {**base, "title": long_title}, token_from=path)
    html = refused_beside_field(response, "Title must be 160 characters or fewer", long_title)
    assert 'maxlength="160"' in html
    too_long = "x" * 5001
    response = client.submit(path, {**base, "so_what": too_long}, token_from=path)
    refused_beside_field(response, "So what? must be 5,000 characters or fewer", too_long)
    assert db.session.scalar(select(func.count()).select_from(LogEntry)) == 0


def test_a_reflection_at_the_cap_with_line_breaks_is_saved(client, preceptee):
    """5,000 characters as the browser counts them: each CRLF is one."""
    day = date.today() - timedelta(days=1)
    path = "/preceptee/log/new?kind=reflection"
    text = ("a" * 98 + "\r\n") * 50  # 99 characters a line as the browser counts, 4,950 in all
    response = client.submit(path, {"kind": "reflection", "title": "Lines", "occurred_on[day]": day.day,
                                    "occurred_on[month]": day.month, "occurred_on[year]": day.year,
                                    "what_happened": text, "so_what": "Learnt", "now_what": "Practise"},
                             token_from=path)
    assert response.status_code == 302
    assert "\r" not in db.session.scalar(select(LogEntry.what_happened))


def test_sign_off_summary_over_the_cap(client, preceptee):
    target = db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == preceptee.id)
                                .order_by(Milestone.due_date, Milestone.id)).all()[1]
    summary = "s" * 2001
    response = client.submit(f"/preceptee/milestones/{target.id}",
                             {"action": "request", "summary": summary, "version": str(target.version)})
    refused_beside_field(response, "Summary for your preceptor must be 2,000 characters or fewer", summary)
    assert db.session.scalar(select(func.count()).select_from(SignOffRequest)) == 0


def test_meeting_notes_over_the_cap(client, make, setting):
    programme, preceptor = setting
    client.sign_in(preceptor.email, PASSWORD)
    path = f"/preceptor/preceptees/{programme.id}/meetings/new"
    today = date.today()
    notes = "n" * 5001
    response = client.submit(path, {"meeting_type": "initial", "held": "yes", "on[day]": today.day,
                                    "on[month]": today.month, "on[year]": today.year, "notes": notes})
    refused_beside_field(response, "Notes must be 5,000 characters or fewer", notes)
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_site_name_over_the_cap(client, make):
    make.user(Role.ADMIN, email="admin@test.nhs.uk")
    db.session.commit()
    client.sign_in("admin@test.nhs.uk", PASSWORD)
    name = "S" * 121
    response = client.submit("/admin/sites/new", {"name": name})
    html = refused_beside_field(response, "must be 120 characters or fewer", name)
    assert 'maxlength="120"' in html
    assert db.session.scalar(select(func.count()).select_from(Site)) == 0
