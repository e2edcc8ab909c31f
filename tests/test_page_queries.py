"""SQL statements per page do not grow with the data.

Each role's main pages are rendered on a small generated trust and on one five times larger;
every page must run the same number of statements on both, give or take one, and no more than
its own small ceiling. (One: a lookup is skipped when its list is empty, e.g. the names of the people
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
# role: {page: the most statements it may run}. The ceilings are today's counts plus one (a
# lookup skipped when its list is empty): the person pages show one person's dozen milestones
# and a caseload of three on either trust, so growth with the data cannot show there, but a
# query per milestone, entry or preceptee would break the ceiling at once. A page that needs
# another statement raises its ceiling here, in review.
PAGES = {
    "preceptee": {
        "/preceptee/": 26,
        "/preceptee/timeline": 10,
        "/preceptee/log": 9,
        "/preceptee/meetings": 12,
        "/preceptee/record": 20,
        "/preceptee/learning-needs": 11,
        "/preceptee/development-plan": 11,
        "/notifications": 8,
        "/notifications/count": 5,
        "/your-data": 51,
    },
    "preceptor": {
        "/preceptor/": 21,
        "/preceptor/queue": 11,
        "/preceptor/feedback": 15,
        "/preceptor/protected-time": 11,
    },
    "education_lead": {
        "/lead/": 12,
        "/lead/capacity.csv": 9,
        "/lead/oversight": 15,
        "/lead/oversight.csv": 13,
        "/lead/programmes": 10,
        "/lead/register": 9,
        "/lead/starters": 10,
        "/lead/surveys": 12,
        "/lead/surveys.csv": 10,
        "/lead/waiting": 9,
        "/lead/cohort": 7,
    },
    "admin": {
        "/admin/": 12,
        "/admin/people": 11,
        "/admin/audit": 10,
        "/admin/audit.csv": 6,
        "/admin/departments": 7,
        "/admin/framework": 13,
        "/admin/outbox": 7,
        "/admin/surveys": 6,
    },
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
    assert max(small, large) <= PAGES[role][page], f"{page}: {max(small, large)} statements"
