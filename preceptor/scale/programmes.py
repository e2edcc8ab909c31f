"""Programmes over five years: who, where, when, in what state, and who precepted them.

Planned first (`plan_programmes`), then written (`write_programmes`) with their preceptees,
status history, allocations and the audit events those decisions leave.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..models import (
    Allocation,
    AllocationEndReason,
    Preceptorship,
    ProgrammeStatus,
    Role,
    StatusChange,
    TransitionType,
)
from ..services.programmes import add_months
from .bulk import Writer, at
from .people import Preceptor, Trust, person

LEAVING_REASONS = ["Relocation", "Moved to another trust nearer family", "Left the profession",
                   "Took a post in the independent sector", "Personal reasons"]
CHANGE_REASONS = {AllocationEndReason.LEAVE: "Preceptor on long-term leave",
                  AllocationEndReason.LEFT: "Preceptor left the trust",
                  AllocationEndReason.MISMATCH: "Shift patterns did not overlap"}


@dataclass
class Stint:
    """One allocation: a preceptor from one day until another (None: still)."""

    id: int
    preceptor_id: int
    starts_on: date
    ends_on: date | None
    over_cap: bool = False


@dataclass
class Change:
    """A status change, with the attributes `survey_waves.paused_spans` reads."""

    from_status: ProgrammeStatus
    to_status: ProgrammeStatus
    effective_on: date
    reason: str
    planned_end_before: date | None = None
    planned_end_after: date | None = None


@dataclass
class Plan:
    id: int
    kind: str  # running, waiting, starter, completed, left
    department_id: int
    start: date
    planned_end: date
    status: ProgrammeStatus = ProgrammeStatus.ACTIVE
    ended_on: date | None = None
    old_end: date | None = None  # the planned end before an extension
    stints: list[Stint] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    preceptee_id: int = 0
    representative: bool = False

    def preceptor_on(self, day: date) -> int | None:
        """Who precepted the programme on `day` (the first preceptor before their start)."""
        for stint in self.stints:
            if day < stint.starts_on or stint.ends_on is None or day < stint.ends_on:
                return stint.preceptor_id
        return self.stints[-1].preceptor_id if self.stints else None

    @property
    def current_preceptor(self) -> int | None:
        return next((s.preceptor_id for s in self.stints if s.ends_on is None), None)


class Allocator:
    """Picks preceptors the way a lead would: same department, fewest preceptees, within cap."""

    def __init__(self, trust: Trust, rng: random.Random):
        self.trust, self.rng = trust, rng
        self.load: dict[int, int] = {}
        self.site_of = {d.id: d.site_id for d in trust.departments}

    def current(self, department_id: int) -> tuple[int, bool]:
        """A preceptor with a free place (department, then site, then trust); True when over cap."""
        own = [p for p in self.trust.preceptors[department_id] if p.eligible]
        site = [p for d, ps in self.trust.preceptors.items() if self.site_of[d] == self.site_of[department_id]
                for p in ps if p.eligible]
        for pool in (own, site):
            free = [p for p in pool if self.load.get(p.user_id, 0) < p.cap]
            if free:
                return self.take(min(free, key=lambda p: (self.load.get(p.user_id, 0), self.rng.random()))), False
        return self.take(min(own or site, key=lambda p: self.load.get(p.user_id, 0))), True

    def take(self, preceptor: Preceptor) -> int:
        self.load[preceptor.user_id] = self.load.get(preceptor.user_id, 0) + 1
        return preceptor.user_id

    def past(self, department_id: int) -> int:
        """Anyone from the department's preceptors (history does not hold a place now)."""
        return self.rng.choice(self.trust.preceptors[department_id]).user_id


def plan_programmes(writer: Writer, trust: Trust, rng: random.Random, scale: float) -> list[Plan]:
    """3,000 programmes over five years at scale 1 (600 running with a preceptor, 150 waiting for
    one, the rest completed or left) and 250 starting in the next two months."""
    today = trust.today
    running = max(4, round(600 * scale))
    waiting = max(2, round(150 * scale))
    starters = max(2, round(250 * scale))
    past = max(4, round(3000 * scale) - running - waiting)
    weights = [3 if n % 5 == 0 else 1 for n in range(len(trust.departments))]  # some departments are busier
    allocator = Allocator(trust, rng)
    rep_dept = trust.departments[0].id
    plans: list[Plan] = []

    def new(kind: str, start: date, department_id: int | None = None) -> Plan:
        department_id = department_id or rng.choices(trust.departments, weights)[0].id
        plan = Plan(writer.new_id(Preceptorship), kind, department_id, start, add_months(start, 12))
        plans.append(plan)
        return plan

    for n in range(running):
        # The first three fill the representative preceptor's caseload; the first is the representative preceptee.
        if n < 3:
            start = add_months(today, -7) - timedelta(days=3) if n == 0 else today - timedelta(days=60 + 50 * n)
            plan = new("running", start, rep_dept)
            plan.representative = n == 0
            allocator.load[trust.rep_preceptor_id] = allocator.load.get(trust.rep_preceptor_id, 0) + 1
            plan.stints.append(Stint(writer.new_id(Allocation), trust.rep_preceptor_id, start, None))
            continue
        extended = rng.random() < 0.05
        start = today - timedelta(days=rng.randint(335, 420) if extended else rng.randint(14, 330))
        plan = new("running", start)
        if rng.random() < 0.08 and (today - start).days > 60:  # a change of preceptor on the way
            switch = start + timedelta(days=rng.randint(20, (today - start).days - 20))
            plan.stints.append(Stint(writer.new_id(Allocation), allocator.past(plan.department_id), start, switch))
            start_current = switch
        else:
            start_current = start
        preceptor, over = allocator.current(plan.department_id)
        plan.stints.append(Stint(writer.new_id(Allocation), preceptor, start_current, None, over))
        if extended:
            plan.old_end, plan.planned_end = plan.planned_end, add_months(plan.planned_end, 3)
            on = min(today, plan.old_end - timedelta(days=rng.randint(10, 40)))
            plan.status = ProgrammeStatus.EXTENDED
            plan.changes.append(Change(ProgrammeStatus.ACTIVE, ProgrammeStatus.EXTENDED, on,
                                       "More time for the out-of-hours competencies", plan.old_end, plan.planned_end))
        elif rng.random() < 0.05 and (today - start).days > 45:
            plan.status = ProgrammeStatus.PAUSED
            plan.changes.append(Change(ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED,
                                       today - timedelta(days=rng.randint(3, 30)), "Sickness absence"))

    for _ in range(waiting):
        plan = new("waiting", today - timedelta(days=rng.randint(0, 45)))
        if rng.random() < 0.1 and (today - plan.start).days > 20:  # waiting again: their allocation ended
            ended = plan.start + timedelta(days=rng.randint(7, (today - plan.start).days))
            plan.stints.append(Stint(writer.new_id(Allocation), allocator.past(plan.department_id), plan.start, ended))
    for _ in range(starters):
        new("starter", today + timedelta(days=rng.randint(1, 60)))

    for n in range(past):
        # The representative preceptor precepted the first few, so their feedback page has figures.
        plan = new("completed", today - timedelta(days=rng.randint(400, 5 * 365)), rep_dept if n < 6 else None)
        first = trust.rep_preceptor_id if n < 6 else allocator.past(plan.department_id)
        if rng.random() < 0.15:
            plan.kind, plan.status = "left", ProgrammeStatus.LEFT
            plan.ended_on = plan.start + timedelta(days=rng.randint(60, 330))
            plan.changes.append(Change(ProgrammeStatus.ACTIVE, ProgrammeStatus.LEFT, plan.ended_on,
                                       rng.choice(LEAVING_REASONS), plan.planned_end, plan.planned_end))
        else:
            plan.status = ProgrammeStatus.COMPLETED
            before = ProgrammeStatus.ACTIVE
            if rng.random() < 0.1 and add_months(plan.planned_end, 3) < today - timedelta(days=40):
                plan.old_end, plan.planned_end = plan.planned_end, add_months(plan.planned_end, 3)
                plan.changes.append(Change(before, ProgrammeStatus.EXTENDED, plan.old_end - timedelta(days=20),
                                           "More time after a period of sickness", plan.old_end, plan.planned_end))
                before = ProgrammeStatus.EXTENDED
            plan.ended_on = plan.planned_end
            plan.changes.append(Change(before, ProgrammeStatus.COMPLETED, plan.ended_on, "All milestones signed off",
                                       plan.planned_end, plan.planned_end))
        if rng.random() < 0.08:
            switch = plan.start + timedelta(days=rng.randint(20, (plan.ended_on - plan.start).days - 10))
            plan.stints.append(Stint(writer.new_id(Allocation), first, plan.start, switch))
            first, start_on = allocator.past(plan.department_id), switch
        else:
            start_on = plan.start
        plan.stints.append(Stint(writer.new_id(Allocation), first, start_on, plan.ended_on))
    return plans


def write_programmes(writer: Writer, trust: Trust, rng: random.Random, plans: list[Plan], email: str) -> None:
    """Preceptees, programmes, status history and allocations, with their audit events."""
    today, lead = trust.today, trust.lead_id
    for plan in plans:
        left = plan.status is ProgrammeStatus.LEFT
        deactivated = plan.ended_on + timedelta(days=30) if left else None
        deactivated = deactivated if deactivated and deactivated < today else None
        plan.preceptee_id = person(writer, trust, rng, Role.PRECEPTEE, joined=plan.start - timedelta(days=30),
                                   email=email if plan.representative else None,
                                   name="Sam Preceptee" if plan.representative else None,
                                   active=deactivated is None, deactivated=deactivated)
        created = at(min(plan.start, today) - timedelta(days=rng.randint(14, 40)), rng.randint(540, 960))
        writer.add(Preceptorship, {
            "id": plan.id, "preceptee_id": plan.preceptee_id, "department_id": plan.department_id,
            "transition": TransitionType.NEWLY_QUALIFIED if rng.random() < 0.85 else rng.choice(
                (TransitionType.RETURN_TO_PRACTICE, TransitionType.INTERNATIONAL_RECRUIT, TransitionType.NEW_ROLE)),
            "start_date": plan.start, "planned_end_date": plan.planned_end, "status": plan.status,
            "ended_on": plan.ended_on, "end_reason": plan.changes[-1].reason if left else None, "created_at": created})
        writer.audit("preceptorship.start", "preceptorship", plan.id, created, actor_id=lead, preceptorship_id=plan.id,
                     department_id=plan.department_id, details={"start_date": plan.start.isoformat(), "months": 12})
        _allocations(writer, plan, lead)
        for change in plan.changes:
            when = at(change.effective_on, 11 * 60)
            writer.add(StatusChange, {
                "id": writer.new_id(StatusChange), "preceptorship_id": plan.id, "from_status": change.from_status,
                "to_status": change.to_status, "effective_on": change.effective_on, "reason": change.reason,
                "planned_end_before": change.planned_end_before, "planned_end_after": change.planned_end_after,
                "changed_by_id": lead, "created_at": when})
            action = {ProgrammeStatus.PAUSED: "pause", ProgrammeStatus.EXTENDED: "extend",
                      ProgrammeStatus.COMPLETED: "complete", ProgrammeStatus.LEFT: "leave"}[change.to_status]
            writer.audit(f"preceptorship.{action}", "preceptorship", plan.id, when, actor_id=lead,
                         preceptorship_id=plan.id, department_id=plan.department_id, reason=change.reason,
                         details={"on": change.effective_on.isoformat(),
                                  "before": {"status": change.from_status.value,
                                             "planned_end": _iso(change.planned_end_before)},
                                  "after": {"status": change.to_status.value,
                                            "planned_end": _iso(change.planned_end_after)}})


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _allocations(writer: Writer, plan: Plan, lead: int) -> None:
    for n, stint in enumerate(plan.stints):
        reason = "Only trained preceptor on the rota for this starter's shifts" if stint.over_cap else None
        created = at(stint.starts_on - timedelta(days=3 if n == 0 else 0), 10 * 60)
        if stint.ends_on is None:
            end_reason = note = None
        elif plan.ended_on is not None and stint.ends_on >= plan.ended_on:
            end_reason, note = AllocationEndReason.PROGRAMME_ENDED, None
        else:
            end_reason = list(CHANGE_REASONS)[plan.id % len(CHANGE_REASONS)]
            note = CHANGE_REASONS[end_reason]
        writer.add(Allocation, {
            "id": stint.id, "preceptorship_id": plan.id, "preceptor_id": stint.preceptor_id,
            "starts_on": stint.starts_on, "ends_on": stint.ends_on, "end_reason": end_reason, "end_note": note,
            "over_cap_reason": reason, "allocated_by_id": lead, "created_at": created})
        writer.audit("allocation.start", "allocation", stint.id, created, actor_id=lead, preceptorship_id=plan.id,
                     reason=reason, details={"preceptor": stint.preceptor_id, "on": stint.starts_on.isoformat(),
                                             "over_cap": reason is not None})
        if stint.ends_on is not None:
            writer.audit("allocation.end", "allocation", stint.id, at(stint.ends_on, 12 * 60), actor_id=lead,
                         preceptorship_id=plan.id, reason=note,
                         details={"preceptor": stint.preceptor_id, "reason": end_reason.value,
                                  "on": stint.ends_on.isoformat()})
