"""Benchmark of the capacity report and cohort allocation on a large generated trust.

    make bench-capacity        (or: .venv/bin/python -m preceptor.capacity_bench)

Migrates a database and fills it with the large trust of `flask --app preceptor seed-scale`
(preceptor/scale: 60 departments on 4 sites, 1,500 preceptors, 600 running programmes with a
preceptor, 150 waiting and 250 starters arriving in the next two months, with five years of
history). It then times the capacity report for the whole trust (and counts its SQL statements)
and a cohort proposal for everyone without a preceptor, and prints the figures. It uses a
throwaway SQLite file unless BENCH_DATABASE_URL names another (empty) database, which it
migrates first and takes back to empty (downgrade to base) at the end.
"""

import os
import statistics
import tempfile
import time
from datetime import date

import flask_migrate
import sqlalchemy as sa

from . import create_app
from .extensions import db
from .scale import generate


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

    folder = tempfile.TemporaryDirectory()  # the throwaway SQLite file goes with the folder
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder.name}/bench.sqlite3"
    app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        today = date.today()
        summary = generate(today=today)
        if db.engine.dialect.name == "postgresql":  # fresh planner statistics, as autovacuum would keep
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
        counts = summary.counts
        print(f"Generated {counts['department']} departments, {counts['preceptor_profile']} preceptors, "
              f"{counts['preceptorship']} programmes and {counts['log_entry']} log entries "
              f"on {db.engine.dialect.name} in {summary.seconds:.1f} s")

        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        median, best, report = timed(lambda: capacity_report(None, today), 5)
        queries = len(statements) // 5
        print(f"Capacity report, whole trust ({len(report.departments)} departments): median {median * 1000:.0f} ms, "
              f"best {best * 1000:.0f} ms, {queries} SQL statements")
        median, best, proposal = timed(lambda: propose(None, today), 3)
        people = len(proposal.pairs) + len(proposal.unplaced)
        print(f"Cohort proposal, {people} people across {report.total.preceptors} preceptors: "
              f"median {median:.2f} s, best {best:.2f} s; {len(proposal.pairs)} placed, "
              f"{len(proposal.unplaced)} not placed; free places before: {report.total.free}")
        db.session.remove()
        if os.environ.get("BENCH_DATABASE_URL"):  # someone else's database: leave it empty again
            flask_migrate.downgrade(revision="base")
        db.engine.dispose()
    folder.cleanup()


if __name__ == "__main__":
    main()
