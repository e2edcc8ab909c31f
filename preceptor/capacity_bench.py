"""Benchmark of the capacity report and cohort allocation on a large generated trust.

    make bench-capacity        (or: .venv/bin/python -m preceptor.capacity_bench)

Builds, deterministically and with bulk inserts, a trust the size the performance issue
describes for capacity: 60 departments on 4 sites, 1,500 preceptors, 600 running programmes
with a preceptor, 150 waiting and 500 starters arriving in the next two months. It then times
the capacity report for the whole trust (and counts its SQL statements) and a cohort proposal
for the 650 people without a preceptor, and prints the figures. It uses a throwaway SQLite
file unless BENCH_DATABASE_URL names another (empty) database.
"""

import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta

import sqlalchemy as sa

from . import create_app
from .extensions import db
from .models import (
    Allocation,
    Department,
    PreceptorProfile,
    Preceptorship,
    Profession,
    ProgrammeStatus,
    Role,
    Site,
    TransitionType,
    User,
    UserRole,
)

SITES, DEPARTMENTS, PRECEPTORS, RUNNING, WAITING, STARTERS = 4, 60, 1500, 600, 150, 500


def generate(today: date, seed: int = 2026) -> None:
    """The large trust, in a handful of bulk inserts."""
    rng = random.Random(seed)
    db.session.execute(sa.insert(Site), [{"id": n + 1, "name": f"Site {n + 1}"} for n in range(SITES)])
    db.session.execute(sa.insert(Department), [
        {"id": n + 1, "site_id": n % SITES + 1, "name": f"Department {n + 1}",
         "profession": Profession.THERAPEUTIC if n % 5 == 4 else Profession.DIAGNOSTIC}
        for n in range(DEPARTMENTS)])
    people = PRECEPTORS + RUNNING + WAITING + STARTERS
    db.session.execute(sa.insert(User), [
        {"id": n + 1, "email": f"person{n + 1}@scale.nhs.uk", "name": f"Person {n + 1:05d}", "active": True}
        for n in range(people)])
    db.session.execute(sa.insert(UserRole), [
        {"user_id": n + 1, "role": Role.PRECEPTOR if n < PRECEPTORS else Role.PRECEPTEE} for n in range(people)])
    db.session.execute(sa.insert(PreceptorProfile), [
        {"user_id": n + 1, "department_id": n % DEPARTMENTS + 1, "band": rng.choice((6, 6, 7)),
         "cap": rng.choice((None, None, None, 3)),
         "registered_on": today - timedelta(days=rng.randint(200, 7000)),
         "trained_on": None if rng.random() < 0.1 else today - timedelta(days=rng.randint(30, 1500)),
         "unavailable_until": today + timedelta(days=rng.randint(1, 90)) if rng.random() < 0.05 else None}
        for n in range(PRECEPTORS)])
    programmes, allocations = [], []
    for n in range(RUNNING + WAITING + STARTERS):
        preceptee = PRECEPTORS + n + 1
        department = rng.randint(1, DEPARTMENTS)
        if n < RUNNING + WAITING:
            start = today - timedelta(days=rng.randint(1, 330))
        else:
            start = today + timedelta(days=rng.randint(1, 60))
        programmes.append({"id": n + 1, "preceptee_id": preceptee, "department_id": department,
                           "transition": TransitionType.NEWLY_QUALIFIED, "start_date": start,
                           "planned_end_date": start + timedelta(days=365), "status": ProgrammeStatus.ACTIVE})
        if n < RUNNING:
            preceptor = rng.randrange(department - 1, PRECEPTORS, DEPARTMENTS) + 1  # same department
            allocations.append({"preceptorship_id": n + 1, "preceptor_id": preceptor, "starts_on": start})
    db.session.execute(sa.insert(Preceptorship), programmes)
    db.session.execute(sa.insert(Allocation), allocations)
    db.session.commit()


def timed(action, repeats: int) -> tuple[float, float, object]:
    """Median and best wall time in seconds over `repeats` runs, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        db.session.expire_all()
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), result


def main() -> None:
    from .services.capacity import capacity_report
    from .services.cohort import propose

    url = os.environ.get("BENCH_DATABASE_URL")
    folder = tempfile.TemporaryDirectory()
    url = url or f"sqlite:///{folder.name}/bench.sqlite3"
    app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        today = date.today()
        started = time.perf_counter()
        generate(today)
        if db.engine.dialect.name == "postgresql":  # fresh planner statistics, as autovacuum would keep
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        print(f"Generated {DEPARTMENTS} departments, {PRECEPTORS} preceptors, {RUNNING} allocated, "
              f"{WAITING} waiting and {STARTERS} starting on {db.engine.dialect.name} "
              f"in {time.perf_counter() - started:.1f} s")

        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        median, best, report = timed(lambda: capacity_report(None, today), 5)
        queries = len(statements) // 5
        print(f"Capacity report, whole trust ({len(report.departments)} departments): median {median * 1000:.0f} ms, "
              f"best {best * 1000:.0f} ms, {queries} SQL statements")
        median, best, proposal = timed(lambda: propose(None, today), 3)
        print(f"Cohort proposal, {len(proposal.pairs) + len(proposal.unplaced)} people across {PRECEPTORS} "
              f"preceptors: median {median:.2f} s, best {best:.2f} s; {len(proposal.pairs)} placed, "
              f"{len(proposal.unplaced)} not placed; free places before: {report.total.free}")
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    folder.cleanup()


if __name__ == "__main__":
    main()
