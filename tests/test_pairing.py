"""Pairing one preceptee: the ranking, the checks on an allocation, and the race for a last place."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import Allocation, AllocationEndReason, AuditEvent, Profession, Role, User
from preceptor.services.capacity import load_of
from preceptor.services.pairing import PairingRefused, place, suggest, unallocated

TODAY = date.today()


@pytest.fixture
def trust(make):
    site, other_site = make.site("Royal Preston"), make.site("Chorley")
    ct = make.department("CT", site)
    xray = make.department("X-ray", site)
    far = make.department("X-ray", other_site)
    therapy = make.department("Radiotherapy", site, profession=Profession.THERAPEUTIC)
    lead = make.user(Role.EDUCATION_LEAD, trust_wide=True)
    people = {
        "same_busy": make.preceptor(ct, name="Busy Same"),
        "same_free": make.preceptor(ct, name="Free Same"),
        "same_full": make.preceptor(ct, name="Full Same", cap=1),
        "site": make.preceptor(xray, name="Site Xray"),
        "far": make.preceptor(far, name="Far Xray"),
        "therapy": make.preceptor(therapy, name="Therapy"),
        "leave": make.preceptor(ct, name="On Leave", unavailable_until=TODAY + timedelta(days=20)),
        "new": make.preceptor(ct, name="Newly Registered", years=0),
    }
    make.programme(department=ct, preceptor=people["same_busy"])
    make.programme(department=ct, preceptor=people["same_full"])
    waiting = make.programme(department=ct, start=TODAY - timedelta(days=12))
    db.session.commit()
    return {"lead": lead, "waiting": waiting, "ct": ct, "far": far, **people}


def names(suggestions):
    return [s.row.user.name for s in suggestions.ranked]


def test_ranking_same_department_then_site_then_elsewhere_then_free_places_then_load(trust):
    found = suggest(trust["waiting"], None, TODAY)
    assert names(found) == ["Free Same", "Busy Same", "Full Same", "Site Xray", "Far Xray"]
    assert found.ranked[0].reasons == ["Same department", "2 free places", "0 current preceptees"]
    assert found.ranked[2].reasons == ["Same department", "Full: 1 of 1 places taken", "1 current preceptee"]
    assert found.ranked[3].reasons[0] == "Same site and profession"
    assert found.ranked[4].reasons[0] == "Same profession, another site"
    # Ineligible people in the department are explained, not suggested; other professions never appear.
    assert {row.user.name: row.standing.reasons for row in found.unable} == {
        "On Leave": ("on leave",), "Newly Registered": ("registered under 12 months",)}


def test_a_later_starter_can_have_a_preceptor_back_from_leave_by_then(trust, make):
    later = make.programme(department=trust["ct"], start=TODAY + timedelta(days=30))
    sooner = make.programme(department=trust["ct"], start=TODAY + timedelta(days=10))
    db.session.commit()
    assert "On Leave" in names(suggest(later, None, TODAY))
    # ...but not one whose leave runs into the starter's first weeks.
    assert "On Leave" not in names(suggest(sooner, None, TODAY))


def test_scope_limits_suggestions(trust):
    assert names(suggest(trust["waiting"], [trust["ct"].id], TODAY)) == ["Free Same", "Busy Same", "Full Same"]


def test_place_allocates_and_audits(trust):
    allocation = place(trust["waiting"].id, trust["same_free"].id, by=trust["lead"], scope=None, today=TODAY)
    db.session.commit()
    assert allocation.preceptor_id == trust["same_free"].id and allocation.over_cap_reason is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "allocation.start")) == 1
    assert unallocated(None) == []


@pytest.mark.parametrize("who, field, words", [
    ("leave", "preceptor", "cannot take a preceptee: on leave"),
    ("new", "preceptor", "registered under 12 months"),
    ("therapy", "preceptor", "works in therapeutic radiography"),
    ("same_full", "over_cap_reason", "has 1 of 1 places taken"),
])
def test_place_refuses_clearly(trust, who, field, words):
    with pytest.raises(PairingRefused) as refused:
        place(trust["waiting"].id, trust[who].id, by=trust["lead"], scope=None, today=TODAY)
    assert refused.value.field == field and words in str(refused.value)


def test_over_cap_needs_a_reason_which_is_recorded(trust):
    allocation = place(trust["waiting"].id, trust["same_full"].id, by=trust["lead"], scope=None, today=TODAY,
                       over_cap_reason="  Only CT preceptor on nights  ")
    db.session.commit()
    assert allocation.over_cap_reason == "Only CT preceptor on nights"


def test_outside_scope_and_already_allocated_are_refused(trust):
    with pytest.raises(PairingRefused, match="not in one of your departments"):
        place(trust["waiting"].id, trust["same_free"].id, by=trust["lead"], scope=[trust["far"].id], today=TODAY)
    with pytest.raises(PairingRefused, match="not on the register of your departments"):
        place(trust["waiting"].id, trust["far"].id, by=trust["lead"], scope=[trust["ct"].id], today=TODAY)
    place(trust["waiting"].id, trust["same_free"].id, by=trust["lead"], scope=None, today=TODAY)
    db.session.commit()
    with pytest.raises(PairingRefused, match="already has a preceptor"):
        place(trust["waiting"].id, trust["site"].id, by=trust["lead"], scope=None, today=TODAY)
    with pytest.raises(PairingRefused, match="already .*'s preceptor"):
        place(trust["waiting"].id, trust["same_free"].id, by=trust["lead"], scope=None, today=TODAY,
              end_reason=AllocationEndReason.MISMATCH)


def test_reallocation_ends_the_old_allocation_with_its_reason_and_keeps_history(trust):
    place(trust["waiting"].id, trust["same_free"].id, by=trust["lead"], scope=None, today=TODAY)
    db.session.commit()
    with pytest.raises(PairingRefused, match="Enter why"):
        place(trust["waiting"].id, trust["site"].id, by=trust["lead"], scope=None, today=TODAY,
              end_reason=AllocationEndReason.OTHER)
    db.session.rollback()
    place(trust["waiting"].id, trust["site"].id, by=trust["lead"], scope=None, today=TODAY,
          end_reason=AllocationEndReason.LEAVE, end_note="Long-term sick")
    db.session.commit()
    history = db.session.scalars(select(Allocation).where(Allocation.preceptorship_id == trust["waiting"].id)
                                 .order_by(Allocation.id)).all()
    assert [(a.preceptor_id, a.ends_on, a.end_reason) for a in history] == [
        (trust["same_free"].id, TODAY, AllocationEndReason.LEAVE), (trust["site"].id, None, None)]


def test_waiting_list_is_oldest_first_and_counts_from_the_last_allocation(trust, make):
    older = make.programme(department=trust["ct"], start=TODAY - timedelta(days=40))
    db.session.commit()
    assert [(w.programme.id, w.days_waiting(TODAY)) for w in unallocated(None)] == [
        (older.id, 40), (trust["waiting"].id, 12)]


def test_concurrent_allocation_of_the_last_place_exactly_one_succeeds(trust, make, app, databases):
    """Two leads give the same preceptor's last free place to two preceptees at the same moment."""
    if databases.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time; the row locks under test are PostgreSQL's")
    second = make.programme(department=trust["ct"], start=TODAY - timedelta(days=3))
    db.session.commit()
    programmes, preceptor_id, lead_id = [trust["waiting"].id, second.id], trust["same_busy"].id, trust["lead"].id
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def allocate(programme_id: int):
        with app.app_context():
            lead = db.session.get(User, lead_id)
            barrier.wait()
            try:
                place(programme_id, preceptor_id, by=lead, scope=None, today=TODAY)
                db.session.commit()
                outcomes.append("placed")
            except PairingRefused as refused:
                db.session.rollback()
                outcomes.append(f"refused: {refused}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=allocate, args=(pid,)) for pid in programmes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["placed", "refused"]
    assert "has 2 of 2 places taken" in next(o for o in outcomes if o.startswith("refused"))
    assert load_of(preceptor_id) == 2
