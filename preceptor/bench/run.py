"""The benchmark from start to finish: database, server, sign-ins, each target, the printout.

Everything it starts is stopped and removed on the way out, whether the run ends normally,
fails, or is stopped with Ctrl-C or SIGTERM.
"""

import argparse
import os
import secrets
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date
from importlib.metadata import version
from pathlib import Path

from ..query_count import HEADER
from . import load, scratch, server, table
from .browser import Browser
from .targets import HEALTHZ, TARGETS, Target

WARM_UP_REQUESTS = 8  # per target, 4 at a time, before anything is measured: templates compile
# on a worker's first request, and that one-off cost does not belong in a 10-second p99.


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m preceptor.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--trust", choices=("scale", "demo"), default="scale",
                        help="the large generated trust (default) or the small demo trust, for a quick run")
    parser.add_argument("--seed", type=int, default=2026, help="the generator's seed (default 2026)")
    parser.add_argument("--scale", type=float, default=1.0, help="the generated trust's size (default 1.0)")
    parser.add_argument("--seconds", type=int, default=10, help="load time per target (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--driver", choices=("auto", "wrk", "locust"), default="auto",
                        help="load tool: wrk if installed, else locust (default auto)")
    return parser.parse_args(argv)


def _stop_on_sigterm(*_args) -> None:
    raise SystemExit(143)  # unwinds through the clean-up, as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    load_before = os.getloadavg()[0]
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="preceptor-bench-")))
        driver = load.pick(args.driver, folder)
        url = stack.enter_context(scratch.scratch_database(os.environ.get("DATABASE_URL"), folder))
        # One key for both workers, made for this run (the install's own key is left alone).
        secret_key = secrets.token_hex(32)
        _say(f"Building the {args.trust} trust...")
        started = time.perf_counter()
        trust = scratch.fill(url, secret_key, args.trust, args.seed, args.scale)
        _say(f"  {trust.description} on {trust.database} in {time.perf_counter() - started:.0f} s")
        instance = folder / "instance"  # no instance/config.py from this checkout; outbox files go here
        instance.mkdir()
        env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": secret_key, "PRECEPTOR_SQL_COUNT_HEADER": "true",
                            "PRECEPTOR_INSTANCE_PATH": str(instance)}
        running = stack.enter_context(server.gunicorn(env, folder / "gunicorn.log"))
        browsers = _sign_in(running.base, trust)
        _warm_up(running.base, browsers)
        rows = [_measure(target, running.base, browsers, driver, args) for target in TARGETS]
        workers = {pid: server.rss_mb(pid) for pid in running.workers()}
        _say("Stopping gunicorn and removing the database...")

    healthz = next(row.rps for row in rows if row.path == HEALTHZ)
    print(f"\n### Benchmark, {date.today():%-d %B %Y}: {trust.description} on {trust.database}\n")
    print(table.markdown(rows, healthz))
    print(f"\n{table.memory(workers)}\n")
    print(f"Machine: {table.machine()}. gunicorn {version('gunicorn')}, {server.WORKERS} sync workers; "
          f"{driver.describe()} at {args.connections} connections for {args.seconds} s per target. "
          f"Load average {load_before:.2f} before the run (the run itself adds about 3: two busy workers and the "
          "load tool).")
    print("Bytes: response body as sent with `Accept-Encoding: gzip, br` (the encoding follows the size). "
          "SQL/request: statements for one request, from the X-SQL-Queries header.")
    return 0 if all(row.status == 200 and not row.failed for row in rows) else 1


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sign_in(base: str, trust: scratch.Trust) -> dict[str | None, Browser]:
    roles = {target.role for target in TARGETS if target.role}
    browsers: dict[str | None, Browser] = {None: Browser(base)}
    for role in sorted(roles):
        browsers[role] = Browser(base)
        browsers[role].sign_in(trust.accounts[role], trust.password)
    return browsers


def _warm_up(base: str, browsers: dict[str | None, Browser]) -> None:
    def visit(target: Target) -> None:
        browsers[target.role].get(target.path, target.headers(base), keep_cookies=False)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(visit, [target for target in TARGETS for _ in range(WARM_UP_REQUESTS)]))


def _measure(target: Target, base: str, browsers: dict[str | None, Browser], driver, args) -> table.Row:
    """One plain request (status, bytes, statements), then the load run if it answered 200."""
    browser = browsers[target.role]
    extra = target.headers(base)
    answer = browser.get(target.path, extra, keep_cookies=False)
    queries = answer.headers.get(HEADER)
    row = table.Row(name=target.name, path=target.path, status=answer.status, size=len(answer.body),
                    queries=int(queries) if queries is not None else None, page=target.page,
                    encoding=answer.headers.get("Content-Encoding", ""))
    if answer.status != 200:
        _say(f"  {target.name}: HTTP {answer.status}, not loaded")
        return row
    result = driver.run(base + target.path, browser.headers(extra), args.connections, args.seconds)
    row.rps, row.p50, row.p99, row.failed = result.rps, result.p50, result.p99, result.failed
    _say(f"  {target.name}: {result.rps:,.0f} requests/s, p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms, "
         f"{row.size:,} bytes, {row.queries} statements")
    return row
