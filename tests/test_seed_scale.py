"""`seed-scale`: the large generated trust is deterministic, scales, keeps the models' rules,
its representative accounts sign in to working pages, and it refuses a database with people."""

from datetime import date

import pytest
from sqlalchemy import func, select

from preceptor import create_app
from preceptor.extensions import db
from preceptor.models import (
    Allocation,
    LogEntry,
    Milestone,
    MilestoneStatus,
    Preceptorship,
    ProgrammeStatus,
    RequestStatus,
    SignOffRequest,
    SurveyResponse,
    User,
)
from preceptor.scale import SCALE_PASSWORD, generate

from .conftest import config_for

TODAY = date(2026, 3, 16)
SMALL = 0.02


def sample_rows() -> list:
    """Rows from across the trust that depend on every generator step (never a password
    hash, which is salted, nor what the surveys service stamps with the clock)."""
    return [
        db.session.execute(select(User.email, User.name, User.hcpc_number).order_by(User.id).limit(20)).all(),
        db.session.execute(select(Preceptorship.department_id, Preceptorship.start_date, Preceptorship.status)
                           .order_by(Preceptorship.id)).all(),
        db.session.execute(select(LogEntry.title, LogEntry.occurred_on).order_by(LogEntry.id).limit(50)).all(),
        db.session.execute(select(Milestone.status, func.count()).group_by(Milestone.status)
                           .order_by(Milestone.status)).all(),
        db.session.scalars(select(SurveyResponse.id).order_by(SurveyResponse.id).limit(10)).all(),
    ]


def generated(databases, seed: int, scale: float) -> tuple[dict, list]:
    """Counts and sample rows of a trust generated on a fresh database."""
    app = create_app(config_for(databases.fresh()))
    with app.app_context():
        summary = generate(seed=seed, scale=scale, today=TODAY)
        found = summary.counts, sample_rows()
        db.session.remove()
        db.engine.dispose()
    return found


def test_the_same_seed_gives_the_same_trust(databases):
    first, again, other = (generated(databases, seed, SMALL) for seed in (7, 7, 8))
    assert first == again
    assert first[1] != other[1]


def test_counts_follow_the_scale(databases):
    small, _ = generated(databases, 2026, SMALL)
    double, _ = generated(databases, 2026, 2 * SMALL)
    assert small["log_entry"] == round(150_000 * SMALL)
    assert small["preceptorship"] == round(3000 * SMALL) + round(250 * SMALL)
    assert small["milestone"] == 12 * small["preceptorship"]  # the default framework's twelve
    for table in ("user", "preceptorship", "milestone", "log_entry", "sign_off_request", "survey_response",
                  "audit_event", "meeting"):
        assert 1.6 < double[table] / small[table] < 2.4, table


@pytest.fixture
def scale_trust(app):
    return generate(seed=2026, scale=SMALL, today=date.today())


def test_the_trust_keeps_the_models_rules(scale_trust):
    def count(query) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery()))

    current = select(Allocation.preceptorship_id).where(Allocation.ends_on.is_(None))
    running = select(Preceptorship.id).where(Preceptorship.status.in_(
        (ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED, ProgrammeStatus.EXTENDED)),
        Preceptorship.start_date <= date.today())
    assert count(running.where(Preceptorship.id.in_(current))) == round(600 * SMALL)
    assert count(running.where(Preceptorship.id.not_in(current))) == round(150 * SMALL)
    # Ended programmes hold no place: their allocations ended.
    ended = select(Preceptorship.id).where(Preceptorship.ended_on.is_not(None))
    assert count(ended.where(Preceptorship.id.in_(current))) == 0
    # A milestone's status matches its latest request: waiting has one waiting, signed off was signed.
    for status, request_status in ((MilestoneStatus.WAITING, RequestStatus.WAITING),
                                   (MilestoneStatus.SIGNED_OFF, RequestStatus.SIGNED_OFF),
                                   (MilestoneStatus.RETURNED, RequestStatus.RETURNED)):
        milestones = select(Milestone.id).where(Milestone.status == status)
        matched = milestones.where(Milestone.id.in_(select(SignOffRequest.milestone_id)
                                                    .where(SignOffRequest.status == request_status)))
        assert count(milestones) > 0 and count(matched) == count(milestones), status
    # Every decision was made by the programme's preceptor of the time, never by the preceptee.
    decided = select(SignOffRequest.id).where(SignOffRequest.decided_at.is_not(None))
    assert count(decided.where(SignOffRequest.decided_by_id.is_(None))) == 0
    assert count(decided.where(SignOffRequest.decided_by_id == SignOffRequest.requested_by_id)) == 0


def test_accounts_sign_in_to_their_pages(scale_trust, client):
    from preceptor.caseload.queries import queue_count

    preceptor = db.session.scalar(select(User).where(User.email == scale_trust.accounts["preceptor"]))
    assert queue_count(preceptor.id) > 0
    homes = {"preceptee": ["/preceptee/", "/preceptee/timeline"], "preceptor": ["/preceptor/", "/preceptor/queue"],
             "education_lead": ["/lead/", "/lead/surveys"], "admin": ["/admin/", "/admin/audit"]}
    for role, email in scale_trust.accounts.items():
        signed_in = client.sign_in(email, SCALE_PASSWORD)
        assert signed_in.status_code == 302, role
        assert client.get(signed_in.headers["Location"]).status_code == 200, role
        for path in homes[role]:
            assert client.get(path).status_code == 200, (role, path)
        client.sign_out()


def test_cli_prints_the_trust_and_refuses_a_database_with_people(runner):
    first = runner.invoke(args=["seed-scale", "--scale", str(SMALL), "--seed", "3"])
    assert first.exit_code == 0, first.output
    assert "preceptee@scale.nhs.uk" in first.output and SCALE_PASSWORD in first.output
    assert "log_entry" in first.output and "Generated in" in first.output
    again = runner.invoke(args=["seed-scale", "--scale", str(SMALL)])
    assert again.exit_code != 0
    assert "already has people" in again.output
