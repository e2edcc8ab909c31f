"""A person's own details: validation next to each field, input kept, nothing half-saved."""

import pytest
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import AuditEvent, Role, User

from .factories import PASSWORD


@pytest.fixture
def signed_in(client, make):
    user = make.user(Role.PRECEPTEE, email="nq@test.nhs.uk", name="Nia Quinn")
    db.session.commit()
    client.sign_in("nq@test.nhs.uk", PASSWORD)
    return user


def test_saves_details_and_audits_which_fields_changed(client, signed_in):
    response = client.submit("/your-details", {"name": "Nia Quinn-Jones", "phone": "01772 522 000",
                                               "hcpc_number": "ra123456"})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, signed_in.id)
    assert (user.name, user.phone, user.hcpc_number) == ("Nia Quinn-Jones", "01772 522 000", "RA123456")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update_details"))
    assert event.details == {"fields": ["hcpc_number", "name", "phone"]}
    assert "Nia Quinn-Jones" not in str(event.details)  # the audit log holds no personal detail
    assert "Your details have been saved" in client.get("/your-details").get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("hcpc_number", "PH123456", "RA followed by numbers"),
    ("hcpc_number", "RA12345678901", "10 characters or fewer"),
    ("name", "", "Enter your full name"),
    ("name", "N" * 121, "120 characters or fewer"),
    ("phone", "call me", "only numbers"),
])
def test_bad_input_is_shown_next_to_the_field_and_kept(client, signed_in, field, value, message):
    data = {"name": "Nia Quinn", "phone": "", "hcpc_number": "", field: value}
    response = client.submit("/your-details", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert f'href="#{field}"' in html and f'id="{field}-error"' in html  # summary link and field error
    if value:
        assert f'value="{value.upper() if field == "hcpc_number" else value}"' in html
    db.session.expire_all()
    user = db.session.get(User, signed_in.id)
    assert (user.name, user.phone, user.hcpc_number) == ("Nia Quinn", None, None)  # nothing saved


def test_hcpc_number_of_another_account_is_refused(client, signed_in, make):
    make.user(Role.PRECEPTOR, hcpc_number="RA777777")
    db.session.commit()
    html = client.submit("/your-details", {"name": "Nia Quinn", "hcpc_number": "RA777777"}).get_data(as_text=True)
    assert "belongs to another account" in html
    db.session.expire_all()
    assert db.session.get(User, signed_in.id).hcpc_number is None


def test_user_text_is_escaped(client, signed_in):
    client.submit("/your-details", {"name": "<script>alert(1)</script>"})
    html = client.get("/your-details").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
