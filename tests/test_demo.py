"""`seed-demo` builds a believable trust and running it again adds nothing."""

from datetime import date

from sqlalchemy import func, select

from preceptor.eligibility import effective_cap, eligibility
from preceptor.extensions import db
from preceptor.models import (
    RUNNING_STATUSES,
    Allocation,
    Department,
    PreceptorProfile,
    Preceptorship,
    ProgrammeStatus,
    Role,
    TimePoint,
    User,
)
from preceptor.services.accounts import authenticate
from preceptor.services.survey_answers import open_invitations
from preceptor.services.survey_reports import survey_report


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_seed_demo_is_idempotent(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "password:" in first.output
    counts = row_counts()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "0 people and 0 programmes added" in second.output
    assert row_counts() == counts
    assert counts["user"] >= 100 and counts["preceptorship"] >= 55 and counts["milestone"] > 500


def test_demo_trust_has_every_stage_and_capacity_case(runner):
    runner.invoke(args=["seed-demo"])
    today = date.today()
    departments = db.session.scalars(select(Department.name)).all()
    for name in ("General X-ray", "CT", "MRI", "Fluoroscopy and theatres",
                 "Radiotherapy pre-treatment", "Radiotherapy treatment"):
        assert name in departments

    statuses = dict(db.session.execute(
        select(Preceptorship.status, func.count()).group_by(Preceptorship.status)).all())
    for status in (ProgrammeStatus.ACTIVE, ProgrammeStatus.COMPLETED, ProgrammeStatus.LEFT, ProgrammeStatus.PAUSED):
        assert statuses.get(status, 0) > 0, status

    current = select(Allocation.id).where(Allocation.preceptorship_id == Preceptorship.id,
                                          Allocation.ends_on.is_(None)).exists()
    waiting = db.session.scalar(select(func.count()).select_from(Preceptorship).where(
        Preceptorship.status == ProgrammeStatus.ACTIVE, ~current))
    assert waiting >= 5

    profiles = db.session.scalars(select(PreceptorProfile)).all()
    assert 35 <= len(profiles) <= 45
    reasons = [r for p in profiles for r in eligibility(p, today).reasons]
    assert "untrained" in reasons and "on leave" in reasons
    load = dict(db.session.execute(
        select(Allocation.preceptor_id, func.count()).join(Preceptorship)
        .where(Allocation.ends_on.is_(None), Preceptorship.status.in_(RUNNING_STATUSES))
        .group_by(Allocation.preceptor_id)).all())
    at_cap = [p for p in profiles if load.get(p.user_id, 0) >= effective_cap(p)]
    over_cap = [p for p in profiles if load.get(p.user_id, 0) > effective_cap(p)]
    assert at_cap and over_cap
    assert db.session.scalar(select(func.count()).select_from(Allocation)
                             .where(Allocation.over_cap_reason.is_not(None))) >= len(over_cap)


def test_demo_accounts_sign_in_with_the_printed_password(runner, app):
    output = runner.invoke(args=["seed-demo"]).output
    password = output.rsplit("password:", 1)[1].strip()
    for email, role in [("preceptee@demo.nhs.uk", Role.PRECEPTEE), ("preceptor@demo.nhs.uk", Role.PRECEPTOR),
                        ("lead@demo.nhs.uk", Role.EDUCATION_LEAD), ("admin@demo.nhs.uk", Role.ADMIN)]:
        with app.test_request_context():
            user = authenticate(email, password)
        assert user is not None and user.has_role(role), email
    preceptee = db.session.scalar(select(User).where(User.email == "preceptee@demo.nhs.uk"))
    programme = db.session.scalar(select(Preceptorship).where(Preceptorship.preceptee_id == preceptee.id))
    assert programme.current_allocation.preceptor.email == "preceptor@demo.nhs.uk"


def test_demo_has_survey_history_with_groups_shown_and_suppressed(runner):
    """Done when: the demo lead sees response rates, results and retention by department and
    cohort with suppression applied; the demo preceptee has the starting survey open."""
    runner.invoke(args=["seed-demo"])
    today = date.today()
    by_department = survey_report(None, today)
    assert all(rate.invited and rate.answered for rate in by_department.rates)
    confidence = by_department.questions[0]
    hidden = [group for group, cell in confidence.rows if cell.hidden]
    shown = [group for group, cell in confidence.rows if not cell.hidden and cell.n >= 5]
    assert hidden and shown and not confidence.total.hidden
    assert by_department.free_text and not by_department.free_text_hidden
    assert by_department.retention[-1].at[24].started > 0
    assert any(row.at[12].hidden for row in by_department.retention)
    by_cohort = survey_report(None, today, breakdown="cohort", time_point=TimePoint.MONTH_12)
    assert len(by_cohort.retention) >= 3 and by_cohort.questions[0].change is not None
    sam = db.session.scalar(select(User).where(User.email == "preceptee@demo.nhs.uk"))
    assert [i.time_point for i in open_invitations(sam.id, today)] == [TimePoint.BASELINE]
