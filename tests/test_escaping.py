"""User text is escaped wherever it is shown.

The demo trust is seeded, then every user-writable text column of every row is overwritten with
script and HTML payloads (each tagged with its column, so the test knows what it saw). Each role
then walks every page it can reach from its home page (following links and htmx requests, a few
URLs per route), and no page may hold the payload as markup, while the escaped text must appear
for each column a person can see.
"""

import re
from collections import Counter, deque
from datetime import date
from urllib.parse import parse_qs, urldefrag, urlsplit

import pytest
import sqlalchemy as sa
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from preceptor.demo import DEMO_ACCOUNTS, demo_password, seed_demo
from preceptor.extensions import db
from preceptor.models import (
    AssessmentStage,
    AuditEvent,
    Category,
    Checklist,
    Department,
    Meeting,
    MeetingAction,
    Notification,
    OutboxMessage,
    OutboxStatus,
    Preceptorship,
    Role,
    SignOffRequest,
    User,
    department_checklist,
)
from preceptor.services import learning_needs

from .conftest import KEEP_TABLES
from .factories import PASSWORD

# One payload per shown value: breaking out of an attribute, a script tag, an image with an
# event handler, and a template expression that a second rendering would evaluate.
PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(1)>{{7*7}}'
SHORT_PAYLOAD = "<script>alert(1)</script>"  # for a short column (a phone number)
ESCAPED = str(escape(PAYLOAD))
SHORT_ESCAPED = str(escape(SHORT_PAYLOAD))
MARKUP = re.compile(r"<script>alert|<img src=x|(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)
TAG = re.compile(r"~k(\d+)~")  # the column tag after each payload

# Columns that are not free text a person typed: addresses and secrets, codes, keys and links
# the app makes itself.
NOT_USER_TEXT = {"email", "to_address", "password_hash", "token_hash", "key", "code", "form_key", "claimed_by",
                 "action", "object_type", "link", "id", "response_id", "cohort", "hcpc_number"}
# Columns a person can see somewhere: each must be found escaped on at least one page.
SHOWN = {
    "user.name", "user.phone", "site.name", "department.name", "checklist.name", "learning_need_area.title",
    "milestone_template.title", "milestone_template.guidance", "milestone.title", "log_entry.title",
    "log_entry.what_happened", "log_entry.so_what", "log_entry.now_what", "sign_off_request.summary",
    "sign_off_request.comment", "sign_off_request.action_plan", "meeting.notes", "meeting_action.description",
    "preceptor_profile.unavailable_reason", "allocation.over_cap_reason", "status_change.reason",
    "notification.message", "survey_template.name", "survey_question.text", "audit_event.reason",
    "sign_off_request.evidence_snapshot", "protected_time.note", "learning_need_rating.note",
    "development_goal.goal", "development_goal.actions", "survey_answer.value_text", "outbox_message.subject",
    "outbox_message.last_error",
}
APPEND_ONLY = {"audit_event", "audit_redaction"}
# Fixed data the migrations insert (the five HCPC principles): nobody can write it, and on
# PostgreSQL the suite keeps it between tests, so a payload there would outlive this test.
FIXED = KEEP_TABLES
SNAPSHOT_TEXT = ("title", "what_happened", "so_what", "now_what", "notes")
PER_ROUTE = 3  # URLs visited per route (and set of query keys) and role: enough to see each kind of page with data
SKIPPED_PATHS = ("/static/", "/sign-out")


def text_columns() -> list[sa.Column]:
    return [column for table in db.metadata.sorted_tables if table.name not in FIXED for column in table.columns
            if isinstance(column.type, sa.String) and not isinstance(column.type, sa.Enum)
            and column.name not in NOT_USER_TEXT and not column.foreign_keys]


def add_what_the_demo_lacks() -> None:
    """Rows the demo trust does not make: a modality checklist, an agreed action, notifications
    and phone numbers (filled in with payloads afterwards)."""
    today = date.today()
    checklist = Checklist(name="Checklist")
    db.session.add(checklist)
    db.session.flush()
    db.session.execute(sa.insert(department_checklist), [{"department_id": d, "checklist_id": checklist.id}
                                                         for d in db.session.scalars(sa.select(Department.id))])
    preceptee = db.session.scalar(sa.select(User).where(User.email == "preceptee@demo.nhs.uk"))
    meeting = db.session.scalars(sa.select(Meeting).join(Preceptorship)
                                 .where(Preceptorship.preceptee_id == preceptee.id)).first()
    db.session.add(MeetingAction(meeting=meeting, description="Action", owner_id=preceptee.id, due_on=today))
    programme = meeting.preceptorship
    areas = learning_needs.areas_for(programme)
    learning_needs.save_assessment(programme, AssessmentStage.INITIAL,
                                   {area.id: learning_needs.Rating(3, "Note") for area in areas}, today)
    learning_needs.add_goal(programme, "Goal", "Actions", area_id=areas[0].id)
    db.session.add(OutboxMessage(user_id=preceptee.id, to_address=preceptee.email, subject="Subject", body="Body",
                                 status=OutboxStatus.FAILED, last_error="Error"))
    for email, _ in DEMO_ACCOUNTS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.add(Notification(user_id=user.id, category=Category.SIGN_OFF, message="Message", link="/"))
    db.session.execute(sa.update(User).values(phone="01772 000000"))
    db.session.commit()


def fill_with_payloads(columns: list[sa.Column]) -> None:
    """Every row's value in every column becomes a payload tagged `~k<column>~<row>` (unique per
    row, so unique indexes hold). The audit log is append-only, so it gets new events instead."""
    for k, column in enumerate(columns):
        table, length = column.table, column.type.length
        payload = SHORT_PAYLOAD if length and length < len(PAYLOAD) + 20 else PAYLOAD
        if length and length < len(payload) + 12:
            continue
        if table.name in APPEND_ONLY:
            if (table.name, column.name) == ("audit_event", "reason"):
                for event in db.session.scalars(sa.select(AuditEvent).limit(50)).all():
                    db.session.add(AuditEvent(action=event.action, object_type=event.object_type,
                                              object_id=event.object_id, actor_id=event.actor_id,
                                              preceptorship_id=event.preceptorship_id,
                                              department_id=event.department_id, reason=f"{payload} ~k{k}~{event.id}"))
            continue
        keys = list(table.primary_key.columns)
        for row in db.session.execute(sa.select(*keys)).all():
            where = sa.and_(*(key == value for key, value in zip(keys, row, strict=True)))
            suffix = "-".join(str(value) for value in row)
            db.session.execute(sa.update(table).where(where).values({column.name: f"{payload} ~k{k}~{suffix}"}))
    # The evidence a preceptor reviews is a copy of the log entries, kept with the request.
    snapshot = len(columns)
    for request_id, entries in db.session.execute(sa.select(SignOffRequest.id, SignOffRequest.evidence_snapshot)):
        copies = [{**entry, **dict.fromkeys(SNAPSHOT_TEXT, f"{PAYLOAD} ~k{snapshot}~{request_id}")}
                  for entry in entries or []]
        db.session.execute(sa.update(SignOffRequest.__table__).where(SignOffRequest.id == request_id)
                           .values(evidence_snapshot=copies))
    db.session.commit()


def links_in(html: str) -> list[tuple[str, dict]]:
    """Same-site links and htmx GETs in a page, each with the headers to request it with."""
    found = [(href, {}) for href in re.findall(r'href="(/[^"]*)"', html)]
    for tag in re.findall(r"<[^>]*hx-get=[^>]*>", html):
        url = re.search(r'hx-get="([^"]+)"', tag).group(1)
        target = re.search(r'hx-target="#?([^"]+)"', tag) or re.search(r'\bid="([^"]+)"', tag)
        headers = {"HX-Request": "true", **({"HX-Target": target.group(1)} if target else {})}
        found.append((url, headers))
    return [(url.replace("&amp;", "&"), headers) for url, headers in found]


def endpoint_of(app, path: str) -> str | None:
    try:
        return app.url_map.bind("localhost").match(urlsplit(path).path)[0]
    except HTTPException:
        return None


def walk(app, client, start: str) -> tuple[dict[str, set[str]], list[str], Counter]:
    """Visit what the signed-in person can reach from `start`: the columns seen escaped (each
    with a page that showed it), the problems found and the requests made per route."""
    seen: dict[str, set[str]] = {}
    problems: list[str] = []
    per_route: Counter = Counter()
    queue, visited = deque([(start, {})]), set()
    while queue:
        url, headers = queue.popleft()
        url = urldefrag(url)[0]
        key = (url, tuple(sorted(headers.items())))
        if key in visited or url.startswith(SKIPPED_PATHS):
            continue
        endpoint = endpoint_of(app, url)
        # A route with other query keys is another page (?confirm=erase asks "are you sure?").
        route = (endpoint, tuple(sorted(parse_qs(urlsplit(url).query))), bool(headers))
        if endpoint is None or per_route[route] >= PER_ROUTE:
            continue
        visited.add(key)
        per_route[route] += 1
        response = client.get(url, headers=headers)
        if response.status_code in (301, 302, 303):
            queue.append((response.headers["Location"], {}))
            continue
        if response.status_code >= 500:
            problems.append(f"{url}: status {response.status_code}")
            continue
        kind = response.mimetype
        if kind != "text/html":
            # Exports carry the text as data: fine, as long as no browser renders them as a page.
            if kind not in ("application/json", "text/event-stream") and "attachment" not in response.headers.get(
                    "Content-Disposition", ""):
                problems.append(f"{url}: {kind} not sent as an attachment")
            continue
        html = response.get_data(as_text=True)
        for match in MARKUP.finditer(html):
            problems.append(f"{url}: unescaped {html[max(0, match.start() - 80):match.end() + 40]!r}")
        for escaped in (ESCAPED, SHORT_ESCAPED):
            start_at = 0
            while (at := html.find(escaped, start_at)) >= 0:
                start_at = at + len(escaped)
                if tag := TAG.match(html, start_at + 1):
                    seen.setdefault(tag.group(1), set()).add(url)
        queue.extend(links_in(html))
    return seen, problems, per_route


@pytest.fixture
def hostile_trust(app):
    seed_demo()
    db.session.commit()
    add_what_the_demo_lacks()
    columns = text_columns()
    fill_with_payloads(columns)
    names = [f"{column.table.name}.{column.name}" for column in columns] + ["sign_off_request.evidence_snapshot"]
    return dict(enumerate(names))


def test_user_text_is_escaped_on_every_page_for_every_role(app, client, hostile_trust):
    seen_by_column: dict[str, set[str]] = {}
    problems: list[str] = []
    for email, role in DEMO_ACCOUNTS:
        client.sign_out()
        response = client.sign_in(email, demo_password())
        assert response.status_code == 302, f"{email} could not sign in"
        seen, found, visits = walk(app, client, response.headers["Location"])
        assert len(visits) >= 10, f"{role.value} reached only {sorted(visits)}"
        problems += [f"{role.value}: {problem}" for problem in found]
        for k, urls in seen.items():
            seen_by_column.setdefault(hostile_trust[int(k)], set()).update(urls)
    assert problems == []
    assert SHOWN - set(seen_by_column) == set(), "columns never seen escaped"


def test_the_walk_would_notice_unescaped_text():
    assert MARKUP.search(f"<p>{PAYLOAD}</p>")
    assert MARKUP.search('<a href="javascript:alert(1)">')
    assert not MARKUP.search(f"<p>{ESCAPED}</p>")
    assert Role.ADMIN in {role for _, role in DEMO_ACCOUNTS}


def test_a_name_in_a_flash_message_is_escaped(client, make):
    """Messages after a change quote what was typed; they are shown escaped too."""
    make.user(Role.ADMIN, email="admin@test.nhs.uk")
    site = make.site("Royal Preston")
    db.session.commit()
    client.sign_in("admin@test.nhs.uk", PASSWORD)
    response = client.submit(f"/admin/sites/{site.id}", {"action": "rename", "name": PAYLOAD}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f"The site is now called {ESCAPED}" in html
    assert not MARKUP.search(html)
