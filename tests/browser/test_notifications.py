"""Notifications in Chromium: a preceptor's header count goes up without a reload when their
preceptee asks for sign-off in another browser; they open the list, follow the link and mark it
read; axe-core finds nothing on the notifications, settings and unsubscribe pages.

This module serves the demo trust with the header polling every second (its own live server).
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from preceptor import create_app
from preceptor.demo import demo_password, seed_demo
from preceptor.extensions import db
from preceptor.models import Category, User
from preceptor.services.notifications import unsubscribe_token
from tests.conftest import config_for

from .conftest import assert_accessible, serving
from .test_sign_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("patient_expect")]

PRECEPTOR = "preceptor@demo.nhs.uk"
PRECEPTEE = "preceptee@demo.nhs.uk"


@pytest.fixture(scope="module")
def live_app(databases):
    """The demo trust, with the header's count polling every second."""
    app = create_app(config_for(databases.fresh(), NOTIFICATION_POLL_SECONDS=1))
    with app.app_context():
        seed_demo()
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(live_app):
    """Overrides the conftest's server for this module only."""
    with serving(live_app) as url:
        yield url


def header_link(page):
    return page.locator("#notifications-link")


def unread_in_header(page) -> int:
    match = re.search(r"(\d+) unread", header_link(page).inner_text())
    return int(match.group(1)) if match else 0


def ask_for_sign_off(page) -> str:
    """As the preceptee: ask for sign-off of a not-started milestone from the timeline's dialog;
    returns the milestone's title."""
    page.goto("/preceptee/timeline?status=not_started")
    link = page.locator("#timeline a", has_text="Ask for sign-off").first
    title = link.locator("span.nhsuk-u-visually-hidden").inner_text().removeprefix(": ")
    link.click()
    dialog = page.locator("#signoff-dialog")
    expect(dialog.get_by_role("heading", level=2, name=title)).to_be_visible()
    dialog.get_by_label("Summary for your preceptor").fill("Done, with my reflection attached.")
    dialog.get_by_role("button", name="Ask for sign-off").click()
    expect(dialog.get_by_text("Sign-off requested: your preceptor")).to_be_visible()
    return title


def test_the_header_count_rises_without_a_reload_and_the_notification_leads_to_the_work(new_page):
    preceptor = new_page()
    sign_in(preceptor, PRECEPTOR, demo_password())
    expect(preceptor.get_by_role("heading", level=1)).to_have_text("My preceptees")
    before = unread_in_header(preceptor)
    preceptor.evaluate("window.__noReload = true")

    preceptee = new_page()
    sign_in(preceptee, PRECEPTEE, demo_password())
    title = ask_for_sign_off(preceptee)

    # The preceptor's open page learns of it by itself.
    expect(header_link(preceptor)).to_contain_text(f"{before + 1} unread")
    expect(header_link(preceptor).locator(".app-count")).to_have_text(str(before + 1))
    assert preceptor.evaluate("window.__noReload") is True

    header_link(preceptor).click()
    expect(preceptor.get_by_role("heading", level=1)).to_have_text("Notifications")
    message = f"Sam Preceptee asked you to sign off “{title}”"
    item = preceptor.locator(".app-notification", has_text=message).first
    expect(item.get_by_text("Unread", exact=True)).to_be_visible()
    assert_accessible(preceptor)

    item.get_by_role("link", name=message).click()
    expect(preceptor.get_by_role("heading", level=1)).to_contain_text(title)

    preceptor.go_back()
    expect(preceptor.get_by_role("heading", level=1)).to_have_text("Notifications")
    preceptor.evaluate("window.__noReload = true")
    preceptor.locator(".app-notification", has_text=message).first.get_by_role(
        "button", name=re.compile("^Mark as read")).click()
    expect(preceptor.get_by_text("Notification marked as read.")).to_be_visible()
    expect(preceptor.locator(".app-notification", has_text=message).first.get_by_text("Unread", exact=True)) \
        .to_have_count(0)
    # The header heard the event and counted again, still without a reload.
    expect(header_link(preceptor)).not_to_contain_text(f"{before + 1} unread")
    assert unread_in_header(preceptor) == before
    assert preceptor.evaluate("window.__noReload") is True
    assert_accessible(preceptor)

    if before:
        preceptor.get_by_role("button", name="Mark all as read").click()
        expect(preceptor.get_by_text("All notifications marked as read.")).to_be_visible()
        expect(header_link(preceptor).locator(".app-count")).to_have_count(0)


def test_email_settings_save_and_are_accessible(page):
    sign_in(page, PRECEPTOR, demo_password())
    page.goto("/notifications/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Email settings")
    assert_accessible(page)
    group = page.get_by_role("group", name=Category.SURVEY.label)
    group.get_by_label("Once a day, in a digest").check()
    page.get_by_role("button", name="Save email settings").click()
    expect(page.get_by_text("Your email settings have been saved.")).to_be_visible()
    expect(page.get_by_role("group", name=Category.SURVEY.label).get_by_label("Once a day, in a digest")) \
        .to_be_checked()
    assert_accessible(page)


def test_unsubscribe_from_an_email_without_signing_in(page, live_app):
    with live_app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == PRECEPTOR))
        token = unsubscribe_token(user_id, Category.MEETING)
        db.session.remove()
    page.goto(f"/unsubscribe/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop emails about meetings due?")
    assert_accessible(page)
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You will not get emails about meetings due")
    assert_accessible(page)
