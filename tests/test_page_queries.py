"""SQL statements per page do not grow with the data.

Each role's main pages are rendered on a small generated trust and on one five times larger;
every page must run the same number of statements on both, give or take one, and no more than
a small constant. (One: a lookup is skipped when its list is empty, e.g. the names of the people
on a page of the audit log where every event was the system's.) A page that runs a query per
row runs dozens more on the larger trust and fails here long before it is slow.
"""

import re

import pytest

from preceptor import create_app
from preceptor.extensions import db
from preceptor.scale import SCALE_PASSWORD, generate

from .conftest import Client, config_for
from .factories import counted_queries

SMALL, LARGE = 0.05, 0.25
MOST = 30  # statements any one page may run, session loading and the header's count included
# Pages that read one table after another, never one row after another.
MOST_FOR = {"/your-data": 60}  # everything held about the person: a fixed list of tables

# role: pages (path, or (path, HX-Target region) for an htmx request)
PAGES = {
    "preceptee": ["/preceptee/", "/preceptee/timeline", "/preceptee/log", "/preceptee/meetings",
                  "/preceptee/record", "/preceptee/learning-needs", "/preceptee/development-plan",
                  "/notifications", "/notifications/count", "/your-data"],
    "preceptor": ["/preceptor/", "/preceptor/queue", "/preceptor/feedback", "/preceptor/protected-time"],
    "education_lead": ["/lead/", "/lead/capacity.csv", "/lead/oversight", "/lead/oversight.csv",
                       "/lead/programmes", "/lead/register", "/lead/starters", "/lead/surveys",
                       "/lead/surveys.csv", "/lead/waiting", "/lead/cohort"],
    "admin": ["/admin/", "/admin/people", "/admin/audit", "/admin/audit.csv", "/admin/departments",
              "/admin/framework", "/admin/outbox", "/admin/surveys"],
}
CASES = [(role, page) for role, pages in PAGES.items() for page in pages]


def _statements_per_page(url: str, scale: float) -> dict[tuple[str, str], int]:
    """Generate a trust at `scale` in the empty database at `url`, then count each page's statements."""
    app = create_app(config_for(url))
    app.test_client_class = Client
    counts = {}
    with app.app_context():
        accounts = generate(seed=2026, scale=scale).accounts
        db.session.remove()
        for role, pages in PAGES.items():
            client = app.test_client()
            response = client.sign_in(accounts[role], SCALE_PASSWORD)
            assert response.status_code == 302, f"{role} could not sign in"
            for page in pages:
                with counted_queries() as statements:
                    response = client.get(page)
                assert response.status_code == 200, f"{page} as {role}: {response.status_code}"
                counts[role, page] = len(statements)
        db.session.remove()
        db.engine.dispose()
    return counts


@pytest.fixture(scope="module")
def counts(databases) -> dict[float, dict]:
    # One database at a time: on PostgreSQL both trusts use the suite's database in turn.
    return {scale: _statements_per_page(databases.fresh(), scale) for scale in (SMALL, LARGE)}


@pytest.mark.parametrize(("role", "page"), CASES, ids=[f"{r}:{re.sub('[^a-z.]+', '-', p)}" for r, p in CASES])
def test_statements_do_not_grow_with_the_trust(counts, role, page):
    small, large = counts[SMALL][role, page], counts[LARGE][role, page]
    assert abs(large - small) <= 1, f"{page}: {small} statements on the small trust, {large} on one five times larger"
    assert large <= MOST_FOR.get(page, MOST), f"{page}: {large} statements"
