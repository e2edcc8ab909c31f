"""The notifications pages: the list (own only, mark read, mark all read), the header's count
and its fragment, email settings, and unsubscribing from an email's link without signing in."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from preceptor.extensions import db
from preceptor.models import AuditEvent, Category, Delivery, Notification, NotificationPreference, Role
from preceptor.models._columns import utcnow
from preceptor.services import notifications

from .factories import PASSWORD, counted_queries

HTMX_LIST = {"HX-Request": "true", "HX-Target": "notification_list"}


@pytest.fixture
def people(make):
    """Two people with notifications each; `me` is signed in by the tests that need it."""
    me = make.user(Role.PRECEPTOR, email="me@test.nhs.uk", name="Pat Preceptor")
    other = make.user(Role.PRECEPTEE, email="other@test.nhs.uk", name="Sam Other")
    db.session.commit()
    return me, other


def tell(user, message: str, *, category=Category.SIGN_OFF, link="/preceptor/", minutes_ago: int = 0,
         read: bool = False) -> Notification:
    notification = notifications.notify(user, category, message, link)
    notification.created_at = utcnow() - timedelta(minutes=minutes_ago)
    if read:
        notification.read_at = utcnow()
    db.session.commit()
    return notification


def sign_in(client, email: str = "me@test.nhs.uk") -> None:
    assert client.sign_in(email, PASSWORD).status_code == 302


def html(response) -> str:
    return response.get_data(as_text=True)


def unread_tags(page: str) -> int:
    return len(re.findall(r'class="nhsuk-tag[^"]*"\s*>\s*Unread\s*<', page))


def unread_ids(user_id: int) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(Notification.id).where(Notification.user_id == user_id,
                                                               Notification.read_at.is_(None))))


# The list -------------------------------------------------------------------------------------

def test_the_list_shows_only_my_notifications_newest_first_with_unread_ones_tagged(client, people):
    me, other = people
    tell(me, "Older: Sam asked you to sign off CT head", minutes_ago=30, read=True)
    tell(me, "Newer: Alex asked you to sign off MRI spine", minutes_ago=5, link="/preceptor/milestones/7")
    tell(other, "Someone else's news about their survey")
    sign_in(client)

    page = html(client.get("/notifications"))

    assert "Someone else&#39;s news" not in page and "Someone else's news" not in page
    assert page.index("Newer: Alex") < page.index("Older: Sam")
    assert unread_tags(page) == 1 and page.count("Mark as read<") == 1
    assert '<a href="/preceptor/milestones/7">Newer: Alex asked you to sign off MRI spine</a>' in page
    assert "You have 1 unread notification." in page
    assert "Mark all as read" in page


def test_an_empty_list_says_so(client, people):
    sign_in(client)
    page = html(client.get("/notifications"))
    assert "You have no notifications." in page
    assert "Mark all as read" not in page


def test_past_fifty_the_list_says_older_ones_are_not_shown(client, people):
    me, _ = people
    for n in range(51):
        notifications.notify(me, Category.MILESTONE, f"Milestone number {n:02d} is due", "/preceptor/")
    db.session.commit()
    sign_in(client)
    page = html(client.get("/notifications"))
    assert page.count('class="app-notification') == 50
    assert "These are your 50 most recent notifications" in page


def test_mark_as_read_without_javascript_redirects_back_with_a_message(client, people):
    me, _ = people
    first = tell(me, "First thing")
    second = tell(me, "Second thing")
    sign_in(client)

    response = client.submit(f"/notifications/{first.id}/read", token_from="/notifications")

    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    assert unread_ids(me.id) == {second.id}
    assert "Notification marked as read." in html(client.get("/notifications"))


def test_mark_as_read_with_htmx_swaps_the_list_and_tells_the_header(client, people):
    me, _ = people
    first = tell(me, "First thing")
    sign_in(client)
    assert unread_tags(html(client.get("/notifications"))) == 1

    response = client.submit(f"/notifications/{first.id}/read", token_from="/notifications", headers=HTMX_LIST)

    page = html(response)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "notifications-changed"
    assert "HX-Target" in response.headers["Vary"]
    assert page.lstrip().startswith('<div id="notification_list">') and "<html" not in page
    assert "Notification marked as read." in page and unread_tags(page) == 0
    assert unread_ids(me.id) == set()


def test_another_persons_notification_is_not_found_and_stays_unread(client, people):
    me, other = people
    theirs = tell(other, "Their news")
    sign_in(client)

    response = client.submit(f"/notifications/{theirs.id}/read", token_from="/notifications")

    assert response.status_code == 404
    assert unread_ids(other.id) == {theirs.id}
    assert client.submit("/notifications/999999/read", token_from="/notifications").status_code == 404


def test_mark_all_as_read_marks_only_mine(client, people):
    me, other = people
    tell(me, "One")
    tell(me, "Two")
    theirs = tell(other, "Theirs")
    sign_in(client)

    response = client.submit("/notifications/read-all", token_from="/notifications")
    assert response.status_code == 302
    assert unread_ids(me.id) == set() and unread_ids(other.id) == {theirs.id}
    page = html(client.get("/notifications"))
    assert "All notifications marked as read." in page and "You have read all your notifications." in page

    again = client.submit("/notifications/read-all", token_from="/notifications", headers=HTMX_LIST)
    assert again.headers["HX-Trigger"] == "notifications-changed"
    assert "You have no unread notifications." in html(again)


# The header's count ---------------------------------------------------------------------------

def test_every_page_draws_the_count_in_the_header_without_javascript(client, people):
    me, _ = people
    tell(me, "One")
    tell(me, "Two")
    tell(me, "Read already", read=True)
    sign_in(client)

    with counted_queries() as statements:
        page = html(client.get("/your-details"))

    header = page[page.index('id="notifications-link"'):]
    header = header[:header.index("</a>")]
    assert 'href="/notifications"' in header
    assert "Notifications<span class=\"nhsuk-u-visually-hidden\">, 2 unread</span>" in header
    assert 'aria-hidden="true">2</span>' in header
    assert 'hx-get="/notifications/count"' in header and "every 60s, notifications-changed from:body" in header
    assert len([s for s in statements if "FROM notification" in s]) == 1  # one COUNT per page


def test_no_count_shows_when_all_are_read(client, people):
    sign_in(client)
    page = html(client.get("/your-details"))
    assert re.search(r'id="notifications-link"[^>]*>Notifications</a>', page)


def test_the_count_fragment_is_the_link_alone_and_does_not_extend_the_session(client, people):
    me, _ = people
    tell(me, "One")
    sign_in(client)

    response = client.get("/notifications/count", headers={"HX-Request": "true", "HX-Target": "notifications-link"})

    fragment = html(response).strip()
    assert response.status_code == 200
    assert fragment.startswith('<a id="notifications-link"') and fragment.endswith("</a>")
    assert ", 1 unread" in fragment and "<html" not in fragment
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # polling would otherwise keep a session alive for ever
    assert "Set-Cookie" in client.get("/notifications").headers  # an ordinary page does


def test_the_count_follows_the_poll_setting(app, client, people):
    app.config["NOTIFICATION_POLL_SECONDS"] = 5
    sign_in(client)
    assert "every 5s, notifications-changed from:body" in html(client.get("/notifications/count"))


def test_after_the_session_ends_polling_stops_with_a_plain_link(client, people):
    response = client.get("/notifications/count", headers={"HX-Request": "true"})
    assert response.status_code == 286  # htmx stops polling
    assert 'href="/notifications"' in html(response) and "hx-get" not in html(response)
    plain = client.get("/notifications/count")
    assert plain.status_code == 302 and plain.headers["Location"].startswith("/sign-in")


# Email settings -------------------------------------------------------------------------------

def chosen(user_id: int) -> dict[Category, Delivery]:
    db.session.expire_all()
    return notifications.preferences(user_id)


def settings_form(**choices: str) -> dict:
    return {category.value: choices.get(category.value, Delivery.IMMEDIATE.value) for category in Category}


def test_settings_show_the_current_choices_and_save_them_audited(client, people):
    me, _ = people
    notifications.set_delivery(me.id, Category.SURVEY, Delivery.OFF)
    db.session.commit()
    sign_in(client)

    page = html(client.get("/notifications/settings"))
    assert page.count('type="radio"') == 3 * len(Category)
    assert re.search(r'value="off"[^>]*checked', page[page.index('name="survey"') - 200:])
    for category in Category:
        assert category.label in page

    response = client.submit("/notifications/settings", settings_form(sign_off="digest", survey="immediate",
                                                                       meeting="off"))

    assert response.status_code == 302
    assert chosen(me.id) == {**{c: Delivery.IMMEDIATE for c in Category}, Category.SIGN_OFF: Delivery.DIGEST,
                             Category.MEETING: Delivery.OFF}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "notifications.preferences")).one()
    assert event.actor_id == me.id
    assert event.details == {"sign_off": "digest", "meeting": "off", "survey": "immediate"}
    assert "Your email settings have been saved." in html(client.get("/notifications/settings"))


def test_a_tampered_choice_is_refused_next_to_its_field_and_nothing_is_saved(client, people):
    me, _ = people
    sign_in(client)

    response = client.submit("/notifications/settings", settings_form(sign_off="digest", meeting="weekly"))

    page = html(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Select how you want emails about meetings due" in page
    assert 'href="#meeting"' in page  # the error summary links to the field
    assert re.search(r'value="digest"[^>]*checked', page[page.index('name="sign_off"') - 200:])  # kept
    assert chosen(me.id) == {c: Delivery.IMMEDIATE for c in Category}  # not half-saved
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "notifications.preferences")) is None


# Unsubscribing from an email's link -----------------------------------------------------------

def test_unsubscribe_asks_first_and_a_get_changes_nothing(client, people):
    me, _ = people
    token = notifications.unsubscribe_token(me.id, Category.MEETING)

    response = client.get(f"/unsubscribe/{token}")

    page = html(response)
    assert response.status_code == 200
    assert "Stop emails about meetings due?" in page and "Stop these emails" in page
    assert db.session.scalar(select(NotificationPreference.user_id)) is None


def test_unsubscribe_post_turns_that_category_off_without_signing_in(client, people):
    me, _ = people
    token = notifications.unsubscribe_token(me.id, Category.MEETING)

    response = client.submit(f"/unsubscribe/{token}")

    page = html(response)
    assert response.status_code == 200
    assert "You will not get emails about meetings due" in page
    assert 'href="/notifications/settings"' in page
    assert chosen(me.id) == {**{c: Delivery.IMMEDIATE for c in Category}, Category.MEETING: Delivery.OFF}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "notifications.unsubscribe")).one()
    assert event.actor_id == me.id and event.details == {"meeting": "off"}
    # A meeting due now is in the portal but not in the outbox.
    assert notifications.notify(db.session.get(type(me), me.id), Category.MEETING, "Meeting due").id
    assert client.submit(f"/unsubscribe/{token}").status_code == 200  # twice: still fine, no second audit
    assert db.session.query(AuditEvent).filter_by(action="notifications.unsubscribe").count() == 1


@pytest.mark.parametrize("tamper", ["changed", "cut", "unknown person"])
def test_a_tampered_unsubscribe_link_is_a_clear_page_and_changes_nothing(client, people, tamper):
    me, _ = people
    token = notifications.unsubscribe_token(me.id, Category.MEETING)
    bad = {"changed": token[:-3] + ("abc" if not token.endswith("abc") else "xyz"),
           "cut": token[: len(token) // 2],
           "unknown person": notifications.unsubscribe_token(me.id + 1000, Category.MEETING)}[tamper]

    response = client.get(f"/unsubscribe/{bad}")
    posted = client.submit(f"/unsubscribe/{bad}", token_from="/sign-in")

    for answer in (response, posted):
        assert answer.status_code == 400
        assert "This unsubscribe link is not valid" in html(answer) and "nhsuk-header" in html(answer)
    assert chosen(me.id) == {c: Delivery.IMMEDIATE for c in Category}


# Every page works without htmx ----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/notifications", "/notifications/settings"])
def test_pages_are_whole_pages_without_htmx(client, people, path):
    me, _ = people
    tell(me, "Something")
    sign_in(client)
    page = html(client.get(path))
    assert page.lstrip().startswith("<!DOCTYPE html>") and "nhsuk-header" in page and "<h1>" in page
    for form in re.findall(r"<form[^>]*hx-post[^>]*>", page):
        assert 'method="post"' in form and 'action="/' in form  # a real form beside every hx-post
