"""Protected preceptor time: the service's rules, the 12-month total against the allowance,
and the page (whole page and htmx fragments, errors beside fields with input kept)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from preceptor.caseload import queries
from preceptor.extensions import db
from preceptor.models import AuditEvent, PreceptorProfile, ProtectedTime
from preceptor.models._columns import utcnow
from preceptor.services import protected_time as service
from preceptor.services.protected_time import ProtectedTimeError

from .factories import PASSWORD

PAGE = "/preceptor/protected-time"
HTMX = {"HX-Request": "true"}


def entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ProtectedTime))


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("protected_time."))
                                   .order_by(AuditEvent.id)))


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def posted(day: date | None = None, hours: str = "1.5", note: str = "Two-monthly review with my preceptee") -> dict:
    day = day or date.today() - timedelta(days=2)
    return {"occurred_on[day]": str(day.day), "occurred_on[month]": str(day.month),
            "occurred_on[year]": str(day.year), "hours": hours, "note": note}


def add_entry(preceptor, occurred_on: date, hours: str, note: str = "", created_days_ago: int = 0) -> ProtectedTime:
    """An entry straight into the database (past the service's date rule)."""
    entry = ProtectedTime(preceptor_id=preceptor.id, occurred_on=occurred_on, hours=Decimal(hours), note=note,
                          created_at=utcnow() - timedelta(days=created_days_ago))
    db.session.add(entry)
    db.session.flush()
    return entry


@pytest.fixture
def preceptor(make):
    user = make.preceptor()
    db.session.commit()
    return user


@pytest.fixture
def signed_in(client, preceptor):
    assert client.sign_in(preceptor.email, PASSWORD).status_code == 302
    return preceptor


# --- the service -----------------------------------------------------------------------------

def test_log_time_saves_the_entry_and_an_audit_event(preceptor):
    today = date.today()
    entry = service.log_time(preceptor, today - timedelta(days=3), Decimal("1.5"), "  Review with my preceptee  ")
    db.session.flush()
    assert (entry.preceptor_id, entry.occurred_on, entry.hours, entry.note) == (
        preceptor.id, today - timedelta(days=3), Decimal("1.5"), "Review with my preceptee")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "protected_time.log"))
    assert event.object_id == entry.id and event.actor_id == preceptor.id
    assert event.details == {"occurred_on": (today - timedelta(days=3)).isoformat(), "hours": "1.50"}
    assert "Review" not in str(event.details)  # the note is free text: never in the audit log


@pytest.mark.parametrize("when, hours, note, field, message", [
    (1, "1", "", "occurred_on", "Date must be today or in the past"),
    (-365, "1", "", "occurred_on", "Date must be in the last 12 months"),
    (None, "1", "", "occurred_on", "Enter the date of the protected time"),
    (0, "0", "", "hours", "Hours must be more than 0 and no more than 24"),
    (0, "-1", "", "hours", "Hours must be more than 0 and no more than 24"),
    (0, "24.25", "", "hours", "Hours must be more than 0 and no more than 24"),
    (0, "30", "", "hours", "Hours must be more than 0 and no more than 24"),
    (0, "1.333", "", "hours", "Hours must have no more than 2 decimal places"),
    (0, "NaN", "", "hours", "Hours must be a number"),
    (0, None, "", "hours", "Enter the hours of protected time"),
    (0, "1", "x" * 501, "note", "Note must be 500 characters or fewer"),
], ids=["future", "over a year ago", "no date", "zero hours", "negative", "over 24", "30 hours", "3 decimals",
        "not a number", "no hours", "long note"])
def test_log_time_refuses_bad_input_and_saves_nothing(preceptor, when, hours, note, field, message):
    today = date.today()
    day = None if when is None else today + timedelta(days=when)
    with pytest.raises(ProtectedTimeError) as refused:
        service.log_time(preceptor, day, None if hours is None else Decimal(hours), note, today=today)
    assert refused.value.field == field and str(refused.value).startswith(message)
    db.session.flush()
    assert entry_count() == 0 and audit_actions() == []


@pytest.mark.parametrize("when, hours", [(0, "24"), (0, "0.25"), (-364, "7.5")])
def test_log_time_accepts_the_boundaries(preceptor, when, hours):
    today = date.today()
    service.log_time(preceptor, today + timedelta(days=when), Decimal(hours), "x" * 500, today=today)
    db.session.flush()
    assert entry_count() == 1


def test_total_and_entries_cover_the_last_12_months_of_this_preceptor_only(preceptor, make):
    today = date.today()
    add_entry(preceptor, today, "2")
    add_entry(preceptor, today - timedelta(days=364), "1.5")
    add_entry(preceptor, today - timedelta(days=365), "4")  # a day too old to count
    add_entry(make.preceptor(), today, "3")  # someone else's
    assert queries.protected_hours(preceptor.id, today) == Decimal("3.5")
    assert [(e.occurred_on, e.hours) for e in service.entries(preceptor.id, today)] == [
        (today, Decimal("2")), (today - timedelta(days=364), Decimal("1.5"))]  # newest first


def test_allowance_is_the_preceptors_own_else_the_trust_default(app, preceptor):
    profile = db.session.get(PreceptorProfile, preceptor.id)
    assert service.allowance(profile) == Decimal(12) == service.allowance(None)
    app.config["PRECEPTOR_PROTECTED_HOURS"] = 8
    assert service.allowance(profile) == Decimal(8) == service.allowance(None)
    profile.protected_hours_allowance = Decimal("20.5")
    assert service.allowance(profile) == Decimal("20.5")


def test_delete_entry_only_own_and_only_within_14_days(preceptor, make):
    today = date.today()
    recent = add_entry(preceptor, today, "2", created_days_ago=13)
    old = add_entry(preceptor, today - timedelta(days=20), "1", created_days_ago=15)
    others = add_entry(make.preceptor(), today, "3")
    with pytest.raises(ProtectedTimeError, match="within 14 days"):
        service.delete_entry(preceptor, old)
    with pytest.raises(ProtectedTimeError, match="logged yourself"):
        service.delete_entry(preceptor, others)
    assert audit_actions() == []
    service.delete_entry(preceptor, recent)
    db.session.flush()
    assert entry_count() == 2 and db.session.get(ProtectedTime, recent.id) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "protected_time.delete"))
    assert event.object_id == recent.id and event.details == {"occurred_on": today.isoformat(), "hours": "2.00"}


# --- the page --------------------------------------------------------------------------------

def test_page_shows_the_total_against_the_allowance_and_the_entries(client, signed_in, make):
    today = date.today()
    add_entry(signed_in, today - timedelta(days=10), "2", "Initial meeting")
    add_entry(signed_in, today - timedelta(days=40), "1.5", "Mid-point review")
    add_entry(make.preceptor(), today, "5", "Another preceptor's session")
    db.session.commit()
    response = client.get(PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>Protected time</h1>" in html
    text = text_of(html)
    assert "3.5 of 12 hours logged since" in text and "8.5 hours of your allowance left" in text
    assert '<progress class="app-progress' in html and 'value="3.5' in html
    assert text.index("Initial meeting") < text.index("Mid-point review")  # newest first
    assert "Another preceptor" not in html


def test_navigation_and_home_use_the_same_allowance(client, signed_in):
    db.session.get(PreceptorProfile, signed_in.id).protected_hours_allowance = Decimal(20)
    db.session.commit()
    home = client.get("/preceptor/").get_data(as_text=True)
    assert "0 of 20 hours logged" in home
    assert f'href="{PAGE}"' in home and 'href="/preceptor/feedback"' in home
    assert "0 of 20 hours logged" in text_of(client.get(PAGE).get_data(as_text=True))


def test_logging_time_redirects_with_a_message(client, signed_in):
    response = client.submit(PAGE, posted(hours="2", note="Two-monthly review"))
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    entry = db.session.scalar(select(ProtectedTime))
    assert (entry.preceptor_id, entry.hours, entry.note) == (signed_in.id, Decimal(2), "Two-monthly review")
    assert audit_actions() == ["protected_time.log"]
    text = text_of(client.get(PAGE).get_data(as_text=True))
    assert "Protected time logged: 2 hours on" in text and "2 of 12 hours logged" in text
    assert "Two-monthly review" in text


@pytest.mark.parametrize("data, message, kept", [
    (posted(day=date.today() + timedelta(days=1), note="Kept note"), "Date must be today or in the past",
     ">Kept note</textarea>"),
    (posted(hours="0"), "Hours must be more than 0 and no more than 24", 'value="0"'),
    (posted(hours="30"), "Hours must be more than 0 and no more than 24", 'value="30"'),
    (posted(hours="two"), "Hours must be a number, like 1.5", 'value="two"'),
    ({**posted(hours="1.25"), "occurred_on[day]": "", "occurred_on[month]": "", "occurred_on[year]": ""},
     "Enter the date of the protected time", 'value="1.25"'),
    ({**posted(), "occurred_on[month]": "13"}, "Date must be a real date", 'value="13"'),
    (posted(note="n" * 501), "Note must be 500 characters or fewer", "n" * 501),
], ids=["future date", "0 hours", "30 hours", "not a number", "missing date", "not a real date", "long note"])
def test_bad_input_is_shown_beside_its_field_with_the_input_kept(client, signed_in, data, message, kept):
    response = client.submit(PAGE, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html and "<title>Error: Protected time" in html
    assert html.count(message) == 2  # in the error summary and beside the field
    assert re.search(r'class="nhsuk-error-message"[^>]*>\s*<span class="nhsuk-u-visually-hidden">Error: </span>'
                     + re.escape(message), html)
    assert kept in html  # an input keeps its value, the note its text
    assert entry_count() == 0 and audit_actions() == []


def test_the_error_summary_links_to_the_date_boxes(client, signed_in):
    html = client.submit(PAGE, posted(day=date.today() + timedelta(days=3))).get_data(as_text=True)
    assert 'href="#occurred_on-day"' in html and 'id="occurred_on-day"' in html
    assert re.search(r'class="nhsuk-input nhsuk-input--error[^"]*" id="occurred_on-day"', html)


def test_htmx_post_returns_the_form_region_and_tells_the_total_to_redraw(client, signed_in):
    headers = {**HTMX, "HX-Target": "log_form"}
    response = client.submit(PAGE, posted(hours="0.75"), token_from=PAGE, headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="log_form"')
    assert "Protected time logged: 0.75 hours on" in html
    assert response.headers["HX-Trigger"] == "protected-time-changed"
    assert 'name="hours"' in html and 'value="0.75"' not in html  # a fresh form for the next entry
    assert entry_count() == 1

    region = client.get(PAGE, headers={**HTMX, "HX-Target": "time_logged"})
    body = region.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="time_logged"') and "<html" not in body
    assert "0.75 of 12 hours logged" in text_of(body)
    assert "HX-Target" in region.headers["Vary"]


def test_htmx_post_with_errors_returns_the_form_with_its_errors(client, signed_in):
    response = client.submit(PAGE, posted(hours="30"), token_from=PAGE, headers={**HTMX, "HX-Target": "log_form"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and "HX-Trigger" not in response.headers
    assert "There is a problem" in html and html.count("no more than 24") == 2 and 'value="30"' in html
    assert entry_count() == 0


def test_remove_a_recent_entry_with_and_without_javascript(client, signed_in, make):
    first = add_entry(signed_in, date.today(), "2", "Logged twice by mistake")
    second = add_entry(signed_in, date.today(), "2", "The real one")
    old = add_entry(signed_in, date.today() - timedelta(days=30), "1", "Old", created_days_ago=30)
    others = add_entry(make.preceptor(), date.today(), "3")
    db.session.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert f"/protected-time/{first.id}/delete" in page and f"/protected-time/{old.id}/delete" not in page

    response = client.submit(f"{PAGE}/{first.id}/delete", token_from=PAGE)
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    assert "Protected time removed: 2 hours on" in text_of(client.get(PAGE).get_data(as_text=True))

    fragment = client.submit(f"{PAGE}/{second.id}/delete", token_from=PAGE,
                             headers={**HTMX, "HX-Target": "time_logged"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="time_logged"') and "<html" not in html
    assert "Protected time removed" in html and "1 of 12 hours logged" in text_of(html)

    refused = client.submit(f"{PAGE}/{old.id}/delete", token_from=PAGE, follow_redirects=True)
    assert "within 14 days" in refused.get_data(as_text=True)
    assert client.submit(f"{PAGE}/{others.id}/delete", token_from=PAGE).status_code == 404
    db.session.expire_all()
    assert {e.id for e in db.session.scalars(select(ProtectedTime))} == {old.id, others.id}
    assert audit_actions() == ["protected_time.delete", "protected_time.delete"]
