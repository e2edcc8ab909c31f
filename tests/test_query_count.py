"""The opt-in `X-SQL-Queries` header (used by `make bench`), and the benchmark table's flags."""

import pytest

from preceptor import create_app
from preceptor.bench.table import Row, flags, markdown
from preceptor.extensions import db
from preceptor.models import Role
from preceptor.query_count import HEADER

from .conftest import Client, config_for
from .factories import PASSWORD, Make, counted_queries


@pytest.fixture
def counting_app(database_url):
    app = create_app(config_for(database_url, SQL_COUNT_HEADER=True))
    app.test_client_class = Client
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_header_is_absent_by_default(client, make):
    make.user(Role.PRECEPTEE, email="preceptee@test.nhs.uk")
    db.session.commit()
    assert HEADER not in client.get("/healthz").headers
    client.sign_in("preceptee@test.nhs.uk", PASSWORD)
    assert HEADER not in client.get("/preceptee/").headers


def test_the_header_counts_each_requests_statements_when_enabled(counting_app):
    make = Make()  # not the `make` fixture: that one brings the default app
    make.programme(make.user(Role.PRECEPTEE, email="preceptee@test.nhs.uk"))
    db.session.commit()
    client = counting_app.test_client()
    assert client.get("/healthz").headers[HEADER] == "0"
    client.sign_in("preceptee@test.nhs.uk", PASSWORD)

    with counted_queries() as statements:
        response = client.get("/preceptee/")
    assert response.status_code == 200
    assert int(response.headers[HEADER]) == len(statements)
    assert 3 <= len(statements) <= 60
    # Counted afresh for each request, not added up over the process.
    assert client.get("/preceptee/").headers[HEADER] == response.headers[HEADER]


def _row(name: str, rps: float, p99: float, size: int, page: str | None = None) -> Row:
    return Row(name=name, path="/", status=200, size=size, queries=4, rps=rps, p50=p99 / 2, p99=p99, page=page)


def test_the_table_flags_each_missed_target():
    healthz = _row("/healthz", 1000, 5, 20)
    page = _row("Timeline", 300, 90, 10_000)
    slow = _row("Queue", 200, 150, 10_000)
    fragment = _row("Timeline, htmx", 260, 80, 1_500, page="Timeline")
    rows = [healthz, page, slow, fragment]

    assert flags(page, rows, healthz.rps) == []
    assert flags(slow, rows, healthz.rps) == ["throughput 0.20 < 0.25", "p99 ≥ 150 ms"]
    assert flags(fragment, rows, healthz.rps) == ["fragment 15% of page"]
    failed = Row(name="Home", path="/", status=302, size=0, queries=None)
    assert flags(failed, rows, healthz.rps) == ["HTTP 302"]

    table = markdown(rows, healthz.rps)
    assert table.splitlines()[0].startswith("| Page | Requests/s | p50 ms | p99 ms |")
    assert "| Timeline | 300 | 45 | 90 | 10,000 | 4 | 0.30 | ok |" in table
