"""The capacity arithmetic against a hand-worked trust (PRODUCT.md, "Capacity: definitions")."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from preceptor.eligibility import eligibility, eligible_clause, registered_cutoff
from preceptor.extensions import db
from preceptor.models import (
    Allocation,
    AllocationEndReason,
    PreceptorProfile,
    Profession,
    ProgrammeStatus,
    ProtectedTime,
    User,
)
from preceptor.services.capacity import capacity_report, month_windows, places_freed
from preceptor.services.programmes import add_months, pause

from .factories import counted_queries

TODAY = date.today()


def month_start(n: int) -> date:
    return add_months(TODAY.replace(day=1), n)


@pytest.fixture
def trust(make):
    """Site 1: a diagnostic department A worked by hand below, and a therapeutic B.
    Site 2: department C, which a lead of A and B does not see."""
    site1, site2 = make.site("Royal Preston"), make.site("Chorley")
    a = make.department("CT", site1)
    b = make.department("Radiotherapy", site1, profession=Profession.THERAPEUTIC)
    c = make.department("X-ray", site2)

    p1 = make.preceptor(a)                                          # eligible, cap 2 (trust default), load 1
    p2 = make.preceptor(a, cap=1, protected_hours_allowance=6)      # eligible, cap 1, load 2: over cap
    p3 = make.preceptor(a, unavailable_until=TODAY + timedelta(days=10))  # on leave, load 1
    p4 = make.preceptor(a, trained=False)                           # untrained
    p5 = make.preceptor(a, years=0)                                 # registered under 12 months
    p6 = make.preceptor(a)                                          # eligible, cap 2, no current load
    make.preceptor(b)                                               # eligible, cap 2
    make.preceptor(c)
    make.preceptor(c)

    # P1's preceptee finishes in two months' time: a place frees up then.
    finishing = make.programme(department=a, preceptor=p1)
    finishing.planned_end_date = month_start(2) + timedelta(days=3)
    make.programme(department=a, preceptor=p2)
    paused = make.programme(department=a, preceptor=p2)
    pause(paused, TODAY, "Sick leave")                              # paused still holds a place
    make.programme(department=a, preceptor=p3)
    done = make.programme(department=a, preceptor=p6)
    done.status = ProgrammeStatus.COMPLETED                         # a finished programme holds none
    # Waiting: one since its start 20 days ago; one since its preceptor's allocation ended 5 days ago.
    make.programme(department=a, start=TODAY - timedelta(days=20))
    reallocated = make.programme(department=a, start=TODAY - timedelta(days=100))
    db.session.add(Allocation(preceptorship=reallocated, preceptor=p6, starts_on=reallocated.start_date,
                              ends_on=TODAY - timedelta(days=5), end_reason=AllocationEndReason.MISMATCH))
    # Not waiting: paused without a preceptor; and a starter next month (in the forecast instead).
    pause(make.programme(department=a, start=TODAY - timedelta(days=50)), TODAY, "Maternity leave")
    make.programme(department=a, start=month_start(1) + timedelta(days=4))
    make.programme(department=c)                                    # waiting, outside the lead's scope

    db.session.add_all([
        ProtectedTime(preceptor=p1, occurred_on=TODAY - timedelta(days=10), hours=Decimal("3.5")),
        ProtectedTime(preceptor=p1, occurred_on=TODAY - timedelta(days=400), hours=Decimal(2)),  # too old
        ProtectedTime(preceptor=p4, occurred_on=TODAY - timedelta(days=3), hours=Decimal(1)),    # untrained
    ])
    db.session.commit()
    return {"a": a, "b": b, "c": c, "p": [p1, p2, p3, p4, p5, p6]}


def test_department_figures_match_the_hand_worked_example(trust):
    report = capacity_report([trust["a"].id, trust["b"].id], TODAY)
    a, b = report.departments
    assert (a.name, b.name) == ("CT", "Radiotherapy")
    assert a.preceptors == 6
    assert a.eligible == 3                       # P1, P2, P6
    assert a.capacity == 2 + 1 + 2
    assert a.load == 1 + 2 + 0                   # P3's preceptee is not load on an eligible preceptor...
    assert a.with_unavailable == 1               # ...but is counted as with an unavailable preceptor
    assert a.free == 1 + 0 + 2                   # P2 is over cap: no negative free places
    assert a.utilisation == Decimal("0.6")
    assert a.over_cap == 1
    assert a.waiting == 2
    assert a.longest_wait(TODAY) == 20
    assert a.protected_hours == Decimal("3.5")
    assert a.protected_allowance == 12 + 6 + 12 + 12 + 12  # trained: P1, P2 (own 6), P3, P5, P6


def test_forecast_counts_starters_and_finishing_against_free_places(trust):
    a = capacity_report([trust["a"].id], TODAY).departments[0]
    assert [m.month for m in a.forecast] == [month_start(n) for n in range(6)]
    assert [m.starters for m in a.forecast] == [0, 1, 0, 0, 0, 0]
    assert [m.finishing for m in a.forecast] == [0, 0, 1, 0, 0, 0]
    # 3 free places - 2 waiting = 1; a starter takes it; a finisher frees one.
    assert [m.balance for m in a.forecast] == [1, 0, 1, 1, 1, 1]


def test_totals_per_site_and_scope(trust):
    report = capacity_report(None, TODAY)
    assert [s.name for s in report.sites] == ["Chorley", "Royal Preston"]
    chorley, preston = report.sites
    assert (chorley.eligible, chorley.capacity, chorley.waiting) == (2, 4, 1)
    assert (preston.eligible, preston.capacity, preston.load, preston.free) == (4, 7, 3, 5)
    assert report.total.capacity == 11
    assert report.total.waiting == 3
    assert report.total.longest_wait(TODAY) == 30  # department C's programme started 30 days ago
    assert [m.balance for m in report.total.forecast] == [
        sum(d.forecast[n].balance for d in report.departments) for n in range(6)]


def test_scope_and_filters_limit_the_departments(trust):
    assert [d.name for d in capacity_report([trust["a"].id], TODAY).departments] == ["CT"]
    assert [d.name for d in capacity_report(None, TODAY, profession=Profession.THERAPEUTIC).departments] == [
        "Radiotherapy"]
    assert [d.name for d in capacity_report(None, TODAY, site_id=trust["c"].site_id).departments] == ["X-ray"]
    assert capacity_report([], TODAY).departments == []


def test_a_department_without_preceptors_has_no_utilisation(make):
    department = make.department()
    make.programme(department=department)
    db.session.commit()
    row = capacity_report(None, TODAY).departments[0]
    assert (row.capacity, row.utilisation, row.waiting) == (0, None, 1)
    assert [m.balance for m in row.forecast] == [-1] * 6


def test_the_month_windows_start_tomorrow():
    windows = month_windows(date(2026, 11, 30))
    assert windows[0] == (date(2026, 11, 1), date(2026, 12, 1), date(2026, 11, 30))  # nothing left of November
    assert windows[1] == (date(2026, 12, 1), date(2026, 12, 1), date(2026, 12, 31))
    assert windows[5][2] == date(2027, 4, 30)


def test_the_report_runs_a_fixed_number_of_queries(make):
    def grow(departments: int) -> int:
        for _ in range(departments):
            department = make.department()
            preceptor = make.preceptor(department)
            make.programme(department=department, preceptor=preceptor)
            make.programme(department=department)
        db.session.commit()
        db.session.expire_all()
        with counted_queries() as statements:
            capacity_report(None, TODAY)
        return len(statements)

    small = grow(1)
    assert grow(12) == small <= 5


@pytest.mark.parametrize("registered, on, eligible", [
    (date(2024, 2, 29), date(2025, 2, 28), True),   # a year from a leap day is 28 February
    (date(2024, 2, 29), date(2025, 2, 27), False),
    (date(2025, 3, 31), date(2026, 3, 31), True),
    (date(2025, 4, 1), date(2026, 3, 31), False),
    (date(2025, 1, 31), date(2026, 1, 30), False),
])
def test_sql_and_python_eligibility_agree(make, registered, on, eligible):
    user = make.preceptor(registered_on=registered)
    profile = db.session.get(PreceptorProfile, user.id)
    profile.trained_on = date(2020, 1, 1)
    db.session.commit()
    in_sql = db.session.scalar(
        db.select(eligible_clause(on)).select_from(PreceptorProfile).join(User).where(User.id == user.id))
    assert eligibility(profile, on).eligible is eligible
    assert bool(in_sql) is eligible


def test_registered_cutoff_clamps_to_the_end_of_the_month():
    assert registered_cutoff(date(2025, 2, 28), 12) == date(2024, 2, 29)
    assert registered_cutoff(date(2026, 3, 30), 1) == date(2026, 2, 28)
    assert registered_cutoff(date(2026, 6, 15), 12) == date(2025, 6, 15)


def test_places_freed_only_below_the_cap():
    assert places_freed(cap=2, load=1, finishing=[0, 1, 0]) == [0, 1, 0]
    assert places_freed(cap=1, load=3, finishing=[1, 1, 1]) == [0, 0, 1]  # two over cap: the third finish frees one
    assert places_freed(cap=2, load=2, finishing=[2, 0]) == [2, 0]


def test_finishing_frees_places_in_the_preceptors_department_and_only_real_ones(make):
    """A's preceptor (cap 1) precepts a B programme ending next month: A gains the place. In B,
    an over-cap preceptor and one on leave each lose a preceptee next month: B gains nothing."""
    site = make.site()
    a, b = make.department("A", site), make.department("B", site)
    lender = make.preceptor(a, cap=1)
    crowded = make.preceptor(b, cap=1)
    away = make.preceptor(b, unavailable_until=TODAY + timedelta(days=60))
    ending = month_start(1) + timedelta(days=5)
    for preceptor in (lender, crowded, away):
        make.programme(department=b, preceptor=preceptor).planned_end_date = ending
    make.programme(department=b, preceptor=crowded)
    db.session.commit()
    by_name = {row.name: row.forecast[1] for row in capacity_report(None, TODAY).departments}
    assert (by_name["A"].finishing, by_name["A"].freed) == (1, 1)
    assert (by_name["B"].finishing, by_name["B"].freed) == (2, 0)
    assert by_name["A"].balance - capacity_report(None, TODAY).departments[0].forecast[0].balance == 1
