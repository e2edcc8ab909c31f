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
    User,
)
from preceptor.services.accounts import authenticate


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
