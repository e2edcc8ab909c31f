"""Cohort allocation: caps are never exceeded, as many are placed as an exact solver would, and
acceptance is all or nothing."""

from datetime import date, timedelta
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from preceptor.extensions import db
from preceptor.models import Allocation, Profession, Role
from preceptor.services.cohort import TIER_COST, accept, assign, propose
from preceptor.services.pairing import PairingRefused, unallocated

TODAY = date.today()


@st.composite
def instances(draw):
    preceptors = draw(st.integers(1, 4))
    places = {key: (draw(st.integers(0, 2)), draw(st.integers(0, 2))) for key in range(preceptors)}
    people = draw(st.integers(1, 5))
    options = [{key: draw(st.integers(0, 2)) * TIER_COST for key in range(preceptors) if draw(st.booleans())}
               for _ in range(people)]
    return options, places


def exact(options, places):
    """Every way of giving each person one of their options or nothing: the most placed, and
    the least cost among those."""
    best = (0, 0)
    for choice in product(*[[None, *choices] for choices in options]):
        taken = [key for key in choice if key is not None]
        if any(taken.count(key) > places[key][0] for key in places):
            continue
        cost = 0
        for key in places:
            free, load = places[key]
            cost += sum(load + k for k in range(taken.count(key)))  # the k-th place costs load + k
        cost += sum(options[i][key] for i, key in enumerate(choice) if key is not None)
        best = max(best, (len(taken), -cost))
    return best


@settings(max_examples=300, deadline=None)
@given(instances())
def test_never_over_a_cap_and_as_good_as_an_exact_solver(instance):
    options, places = instance
    given_keys = assign(options, places)
    for key, (free, _) in places.items():
        assert given_keys.count(key) <= free
    for person, key in enumerate(given_keys):
        assert key is None or key in options[person]
    taken = [key for key in given_keys if key is not None]
    cost = sum(options[i][key] for i, key in enumerate(given_keys) if key is not None)
    cost += sum(places[key][1] + k for key in places for k in range(taken.count(key)))
    assert (len(taken), -cost) == exact(options, places)


def test_a_greedy_loop_would_strand_someone():
    # Person 0 prefers the only preceptor person 1 can have; the assignment places both.
    assert assign([{1: 0, 2: TIER_COST}, {1: TIER_COST}], {1: (1, 0), 2: (1, 0)}) == [2, 1]


@pytest.fixture
def intake(make):
    site = make.site("Royal Preston")
    ct, xray = make.department("CT", site), make.department("X-ray", site)
    therapy = make.department("Radiotherapy", site, profession=Profession.THERAPEUTIC)
    lead = make.user(Role.EDUCATION_LEAD, trust_wide=True)
    ct_one = make.preceptor(ct, name="CT One", cap=1)
    xray_two = make.preceptor(xray, name="Xray Two")                   # cap 2
    starters = [make.programme(department=ct, start=TODAY + timedelta(days=9)) for _ in range(3)]
    stranded = make.programme(department=therapy, start=TODAY - timedelta(days=2))
    db.session.commit()
    return {"lead": lead, "ct_one": ct_one, "xray_two": xray_two, "starters": starters, "stranded": stranded,
            "ct": ct}


def test_proposal_fills_the_department_first_then_the_site_and_explains_the_rest(intake):
    proposal = propose(None, TODAY)
    by_preceptor = sorted((pair.preceptor.user.name, pair.tier) for pair in proposal.pairs)
    assert by_preceptor == [("CT One", 0), ("Xray Two", 1), ("Xray Two", 1)]
    assert [(person.programme.id, reason.split(" ")[0]) for person, reason in proposal.unplaced] == [
        (intake["stranded"].id, "No")]


def test_department_proposal_and_accepting_some(intake):
    proposal = propose(None, TODAY, department_id=intake["ct"].id)
    assert len(proposal.pairs) == 3 and not proposal.unplaced
    assert accept([proposal.pairs[0].value], by=intake["lead"], scope=None, today=TODAY) == 1
    db.session.commit()
    assert len(unallocated(None)) == 3


def test_accepting_is_all_or_nothing(intake, make):
    proposal = propose(None, TODAY)
    values = [pair.value for pair in proposal.pairs]
    # Meanwhile someone else takes CT One's only place.
    make.programme(department=intake["ct"], preceptor=intake["ct_one"])
    db.session.commit()
    with pytest.raises(PairingRefused, match="Nothing was allocated"):
        accept(values, by=intake["lead"], scope=None, today=TODAY)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Allocation)) == 1


def test_accept_rejects_tampered_values(intake):
    with pytest.raises(PairingRefused, match="not recognised"):
        accept(["1:x"], by=intake["lead"], scope=None, today=TODAY)
    with pytest.raises(PairingRefused, match="not in one of your departments"):
        accept([f"{intake['stranded'].id}:{intake['ct_one'].id}"], by=intake["lead"], scope=[intake["ct"].id],
               today=TODAY)


def test_tier_cost_dominates_any_load_spread():
    assert TIER_COST > 2 * 6


def test_a_long_chain_of_worse_matches_still_places_everyone():
    """People 0..n-1 each prefer preceptor i (tier 0) and could have i+1 (tier 2); the last
    person's only choice is preceptor 0, taken by person 0's first choice. Placing everyone
    moves every one of them to their worse match: dearer in total than leaving one out."""
    n = 600
    options = [{i: 0, i + 1: 2 * TIER_COST} for i in range(n)] + [{0: 2 * TIER_COST}]
    places = {i: (1, 0) for i in range(n + 1)}
    given = assign(options, places)
    assert None not in given and len(set(given)) == n + 1
