"""Survey waves: dates from the start, moved by pauses and extensions, and opening what is due
idempotently, also from two servers at once."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import SurveyInvitation, TimePoint
from preceptor.services.programmes import add_months, extend, pause, resume, start_preceptorship
from preceptor.services.survey_library import install_default_surveys
from preceptor.services.survey_waves import current_template, open_due, waves

START = date(2026, 1, 5)


def plan(programme) -> dict[TimePoint, tuple[date, date]]:
    return {wave.time_point: (wave.opens_on, wave.closes_on) for wave in waves(programme)}


@pytest.fixture
def programme(make):
    return make.programme(start=START)


def test_waves_of_a_year_long_programme(programme):
    assert plan(programme) == {
        TimePoint.BASELINE: (START, START + timedelta(days=14)),
        TimePoint.MONTH_3: (date(2026, 4, 5), date(2026, 5, 3)),
        TimePoint.MONTH_6: (date(2026, 7, 5), date(2026, 8, 2)),
        TimePoint.MONTH_12: (date(2027, 1, 5), date(2027, 2, 2)),
    }


def test_a_pause_moves_the_later_waves_by_the_days_paused(programme):
    pause(programme, date(2026, 2, 1), "Sickness")
    assert set(plan(programme)) == {TimePoint.BASELINE, TimePoint.MONTH_12}  # not known while paused
    resume(programme, date(2026, 2, 21))  # 20 days
    waves_now = plan(programme)
    assert waves_now[TimePoint.BASELINE][0] == START
    assert waves_now[TimePoint.MONTH_3][0] == date(2026, 4, 25)
    assert waves_now[TimePoint.MONTH_6][0] == date(2026, 7, 25)
    assert waves_now[TimePoint.MONTH_12][0] == date(2027, 1, 25)  # the planned end moved too


def test_a_pause_after_a_wave_leaves_it_alone(programme):
    pause(programme, date(2026, 5, 1), "Leave")
    resume(programme, date(2026, 5, 11))
    waves_now = plan(programme)
    assert waves_now[TimePoint.MONTH_3][0] == date(2026, 4, 5)
    assert waves_now[TimePoint.MONTH_6][0] == date(2026, 7, 15)


def test_an_extension_moves_the_end_wave(programme):
    extend(programme, date(2027, 3, 5), "More time for the CT competencies")
    assert plan(programme)[TimePoint.MONTH_12][0] == date(2027, 3, 5)


def test_a_six_month_programme_ends_with_its_end_wave(make):
    short = start_preceptorship(make.user(), make.department(), START, months=6)
    assert [w.time_point for w in waves(short)] == [TimePoint.BASELINE, TimePoint.MONTH_3, TimePoint.MONTH_12]
    assert plan(short)[TimePoint.MONTH_12][0] == date(2026, 7, 5)


def invitations() -> list[tuple[int, TimePoint]]:
    return sorted(db.session.execute(select(SurveyInvitation.preceptorship_id, SurveyInvitation.time_point)).all())


def test_open_due_opens_what_is_due_once(make):
    install_default_surveys()
    today = date.today()
    new = make.programme(start=today - timedelta(days=5))
    make.programme(start=today - timedelta(days=20))  # the baseline closed before anyone opened it
    month_3 = make.programme(start=add_months(today, -3))
    make.programme(start=today + timedelta(days=3))  # not started
    db.session.commit()
    assert open_due(today) == 2
    assert invitations() == sorted([(new.id, TimePoint.BASELINE), (month_3.id, TimePoint.MONTH_3)])
    assert open_due(today) == 0
    assert len(invitations()) == 2


def test_open_due_without_the_survey_installed_opens_nothing(make):
    make.programme(start=date.today())
    db.session.commit()
    assert open_due() == 0


def test_the_command(runner, make):
    install_default_surveys()
    make.programme(start=date.today())
    db.session.commit()
    assert runner.invoke(args=["surveys", "open-due"]).output == "1 survey invitations opened.\n"
    assert runner.invoke(args=["surveys", "open-due"]).output == "0 survey invitations opened.\n"


def test_open_due_from_two_servers_at_once_adds_each_invitation_once(app, make, databases):
    if databases.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time; concurrent inserts are PostgreSQL's question")
    install_default_surveys()
    for days in range(0, 10):
        make.programme(start=date.today() - timedelta(days=days))
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(2)
    added: list[int] = []
    errors: list[Exception] = []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                added.append(open_due())
            except Exception as error:  # noqa: BLE001  (any failure fails the test below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sum(added) == 10
    assert db.session.scalar(select(func.count()).select_from(SurveyInvitation)) == 10


def test_feedback_on_the_preceptor_opens_with_the_end_wave_only_where_there_was_one(make):
    install_default_surveys()
    today = date.today()
    ending = make.programme(start=add_months(today, -12), preceptor=make.preceptor())
    unallocated = make.programme(start=add_months(today, -12))
    db.session.commit()
    assert open_due(today) == 3
    assert invitations() == sorted([(ending.id, TimePoint.MONTH_12), (ending.id, TimePoint.END_FEEDBACK),
                                    (unallocated.id, TimePoint.MONTH_12)])
    feedback = db.session.scalar(select(SurveyInvitation).where(SurveyInvitation.time_point == TimePoint.END_FEEDBACK))
    assert feedback.template_id == current_template("preceptor-feedback").id
    assert feedback.opens_on == ending.planned_end_date
