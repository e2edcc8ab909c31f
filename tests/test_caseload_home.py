"""The preceptor's home, "My preceptees": current and past preceptees with their figures."""

from datetime import date, timedelta

from sqlalchemy import event, select

from preceptor.caseload import queries
from preceptor.extensions import db
from preceptor.models import Allocation, AllocationEndReason, Meeting, MeetingType, Role
from preceptor.services.framework import install_default_framework
from tests.factories import PASSWORD
from tests.test_review_views import ask


def test_home_shows_each_preceptee_with_progress_waiting_and_next_meeting(client, app, make):
    install_default_framework()
    preceptor = make.preceptor(cap=2)
    start = date.today() - timedelta(days=100)
    programme = make.programme(start=start, preceptor=preceptor)
    db.session.add(Meeting(preceptorship=programme, meeting_type=MeetingType.INITIAL,
                           scheduled_for=start + timedelta(days=10), held_on=start + timedelta(days=10)))
    past = make.programme(start=start, preceptor=preceptor)
    allocation = db.session.scalar(select(Allocation).where(Allocation.preceptorship_id == past.id))
    allocation.ends_on, allocation.end_reason = date.today(), AllocationEndReason.MISMATCH
    db.session.commit()
    ask(programme, 2)
    client.sign_in(preceptor.email, PASSWORD)
    html = client.get("/preceptor/").get_data(as_text=True)
    current_part, past_part = html.split("<h2>Past preceptees</h2>")
    assert programme.preceptee.name in current_part and past.preceptee.name in past_part
    assert "3 months in" in current_part
    assert "1 item" in current_part and "since " + f"{date.today().day} " in current_part
    assert "First two-monthly review" in current_part or "Two-monthly review" in current_part
    assert "1 of 2 places used" in html


def test_caseload_is_a_fixed_number_of_queries(app, make):
    install_default_framework()
    preceptor = make.preceptor()
    programmes = [make.programme(preceptor=preceptor) for _ in range(2)]
    db.session.commit()
    statements = []

    def count(*_):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows_few = queries.caseload(preceptor.id, date.today())
        few = len(statements)
        for _ in range(6):
            programmes.append(make.programme(preceptor=preceptor))
        db.session.commit()
        statements.clear()
        rows_many = queries.caseload(preceptor.id, date.today())
        assert len(statements) == few
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert (len(rows_few), len(rows_many)) == (2, 8)
    assert all(row.overdue >= 0 and row.total == 12 for row in rows_many)


def test_someone_who_is_also_a_lead_sees_the_preceptor_navigation_in_the_preceptor_area(client, app, make):
    both = make.user(Role.EDUCATION_LEAD, Role.PRECEPTOR, email="both@test.nhs.uk")
    db.session.commit()
    client.sign_in(both.email, PASSWORD)
    queue = client.get("/preceptor/queue").get_data(as_text=True)
    assert 'id="queue-count"' in queue and "Review queue" in queue  # the target of the count's swap
    assert "Review queue" not in client.get("/lead/").get_data(as_text=True)


def test_the_home_page_takes_the_same_queries_for_one_preceptee_or_five(client, app, make):
    install_default_framework()
    preceptor = make.preceptor()
    make.programme(preceptor=preceptor)
    db.session.commit()
    client.sign_in(preceptor.email, PASSWORD)

    def statements_for_home() -> int:
        seen = []
        listener = lambda *_: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/preceptor/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    one = statements_for_home()
    for _ in range(4):  # each in a department (and site) of its own
        make.programme(preceptor=preceptor)
    db.session.commit()
    assert statements_for_home() == one
