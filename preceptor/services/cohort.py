"""Cohort allocation: a proposed preceptor for every waiting preceptee at once.

A greedy loop strands people: it gives the one preceptor who could take a therapeutic starter
to someone who had other choices. Instead this solves a min-cost assignment (scipy's
`linear_sum_assignment`) over preceptees and free places. Each preceptor contributes one
column per free place, the k-th costing a little more than the one before, so places spread
across preceptors (fewer current preceptees first); each preceptee also gets an "unplaced"
column dearer than every real place put together. Minimising the total therefore places as many people as
possible first, and then prefers better matches by the pairing ranking: the tier (same
department, same site, elsewhere) dominates, then load.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..eligibility import eligibility
from ..fields import chosen_id
from ..models import User
from . import pairing
from .pairing import Unallocated
from .register import RegisterRow, register_rows

# A worse tier always costs more than any spread of load within a better one.
TIER_COST = 1_000


def assign_matrix(costs: np.ndarray, free: np.ndarray, load: np.ndarray) -> list[int | None]:
    """The core: `costs[i, j]` is the cost of giving person i preceptor j (inf: not allowed);
    preceptor j has `free[j]` places and `load[j]` preceptees now. Returns the preceptor index
    given to each person, or None; nobody is given more than their free places."""
    people = costs.shape[0]
    owner = np.repeat(np.arange(len(free)), free)  # one column per free place
    if people == 0 or len(owner) == 0:
        return [None] * people
    nth_place = np.arange(len(owner)) - np.repeat(np.cumsum(free) - free, free)
    places = costs[:, owner] + (load[owner] + nth_place)
    # Leaving one person out must cost more than any set of placements could, or a long chain
    # of people moved to worse matches would come out cheaper than placing one more.
    finite = places[np.isfinite(places)]
    unplaced = (float(finite.max()) + 1) * (people + 1) if finite.size else 1.0
    matrix = np.hstack([places, np.full((people, people), unplaced)])
    rows, cols = linear_sum_assignment(matrix)
    given: list[int | None] = [None] * people
    for person, col in zip(rows, cols, strict=True):
        if col < len(owner):
            given[person] = int(owner[col])
    return given


def assign(options: list[dict[int, int]], places: dict[int, tuple[int, int]]) -> list[int | None]:
    """`assign_matrix` with preceptors named by key: `options[i]` maps the keys person i may
    have to the cost of that match; `places[key]` is (free places, current load)."""
    keys = list(places)
    costs = np.full((len(options), len(keys)), np.inf)
    for person, choices in enumerate(options):
        for j, key in enumerate(keys):
            if key in choices:
                costs[person, j] = choices[key]
    free = np.array([places[key][0] for key in keys], dtype=int)
    load = np.array([places[key][1] for key in keys], dtype=float)
    return [None if j is None else keys[j] for j in assign_matrix(costs, free, load)]


@dataclass
class Pair:
    waiting: Unallocated
    preceptor: RegisterRow
    tier: int

    @property
    def match(self) -> str:
        return pairing.TIER_WORDS[self.tier]

    @property
    def value(self) -> str:
        """How the pair travels in the acceptance form."""
        return f"{self.waiting.programme.id}:{self.preceptor.user.id}"


@dataclass
class Proposal:
    pairs: list[Pair]
    unplaced: list[tuple[Unallocated, str]]


def propose(scope: list[int] | None, today: date, *, department_id: int | None = None) -> Proposal:
    """A proposal for everyone without a preceptor in scope (or one department), drawing on
    every eligible preceptor in scope with a free place on the day each preceptee needs one."""
    waiting = pairing.unallocated(scope, department_id=department_id)
    rows = [row for row in register_rows(scope, today, trained_only=True) if row.user.is_active]
    column = {row.user.id: j for j, row in enumerate(rows)}
    department = np.array([row.department.id for row in rows])
    site = np.array([row.department.site_id for row in rows])
    profession = np.array([row.department.profession.value for row in rows])
    eligible_today = np.array([row.standing.eligible for row in rows], dtype=bool)
    # Only these can be eligible on a later day but not today, or the other way round.
    changeable = [j for j, row in enumerate(rows) if not row.standing.eligible or row.profile.unavailable_until]

    tiers: dict[int, np.ndarray] = {}  # per programme department: the tier cost of each preceptor
    eligible: dict[date, np.ndarray] = {today: eligible_today}
    costs = np.full((len(waiting), len(rows)), np.inf)
    for i, person in enumerate(waiting):
        programme, day = person.programme, person.needed_from(today)
        own = programme.department
        if own.id not in tiers:
            tier = np.where(site == own.site_id, 1.0, 2.0)
            tier[department == own.id] = 0
            tier[profession != own.profession.value] = np.inf
            tiers[own.id] = tier * TIER_COST
        if day not in eligible:
            mask = eligible_today.copy()
            for j in changeable:
                mask[j] = eligibility(rows[j].profile, day).eligible
            eligible[day] = mask
        costs[i] = np.where(eligible[day], tiers[own.id], np.inf)
        if programme.preceptee_id in column:  # someone who is also a preceptor: never their own
            costs[i, column[programme.preceptee_id]] = np.inf
    free = np.array([max(0, row.cap - row.load) for row in rows], dtype=int)
    load = np.array([row.load for row in rows], dtype=float)
    given = assign_matrix(costs, free, load)

    pairs, unplaced = [], []
    for i, (person, j) in enumerate(zip(waiting, given, strict=True)):
        if j is not None:
            pairs.append(Pair(person, rows[j], int(costs[i, j] // TIER_COST)))
        elif not np.any(np.isfinite(costs[i]) & (free > 0)):
            unplaced.append((person, "No eligible preceptor of their profession in your departments has a free "
                                     "place when they need one"))
        else:
            unplaced.append((person, "Every place that suits them is given to someone else in this cohort, "
                                     "who had no other choice or a closer match"))
    return Proposal(pairs, unplaced)


def accept(values: list[str], *, by: User, scope: list[int] | None, today: date) -> int:
    """Write the accepted pairs ("programme:preceptor") as allocations, each checked as a
    single pairing is. Any refusal raises `PairingRefused` naming the person, and the caller
    rolls the whole acceptance back: all or nothing. Returns how many were written."""
    pairs = []
    for value in values:
        programme_id, _, preceptor_id = value.partition(":")
        ids = (chosen_id(programme_id), chosen_id(preceptor_id))
        if None in ids:
            raise pairing.PairingRefused("The proposal was not recognised. Make a new proposal")
        pairs.append(ids)
    pairing.lock_rows([programme for programme, _ in pairs], [preceptor for _, preceptor in pairs])
    for programme_id, preceptor_id in pairs:
        try:
            pairing.place(programme_id, preceptor_id, by=by, scope=scope, today=today)
        except pairing.PairingRefused as refused:
            programme = pairing.programme_in_scope(programme_id, scope)
            who = programme.preceptee.name if programme else "One preceptee"
            why = ("their proposed preceptor has no free place left" if refused.field == "over_cap_reason"
                   else str(refused))
            raise pairing.PairingRefused(f"{who} could not be paired: {why}. Nothing was allocated; make a new "
                                         "proposal, or pair them on their own page") from None
    return len(pairs)
