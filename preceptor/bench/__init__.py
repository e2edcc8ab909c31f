"""`make bench`: a load benchmark of the portal's main pages against its own ceiling, `/healthz`.

    make bench                                  (or: .venv/bin/python -m preceptor.bench --help)
    make bench BENCH_ARGS="--trust demo --seconds 3"

It builds a throwaway database (SQLite in a temporary folder, or a scratch database on the
PostgreSQL server that `DATABASE_URL` names), fills it with the large generated trust, serves it
with gunicorn (2 sync workers on 127.0.0.1), signs in as each role, and drives each page and one
htmx fragment of each with wrk (or locust where wrk is missing). It prints one Markdown table,
the workers' memory and the machine, then stops the server and removes the database.

Modules: `run` (orchestration), `scratch` (the database), `server` (gunicorn), `browser` (signed-in
requests), `targets` (what is measured), `load` (wrk and locust), `table` (the printout).
"""
