"""Applying framework changes to running programmes, explicitly (never automatically).

A running programme keeps the template versions it started with until an education lead (in
scope) or an administrator applies the current framework to it. Applying:

- moves each milestone not yet signed off to its key's current version (title and template),
  due at start + the new offset + the shift its old due date already had (pauses and
  extensions), so time already added is kept;
- adds milestones of keys that now apply to the programme but that it does not have, due at
  start + offset moved by the programme's recorded pauses and extensions as they would have
  moved it;
- keeps signed-off milestones on their version (what was signed stays as it was), and keeps
  milestones whose key was retired or no longer applies to the programme: removing part of
  someone's running programme, with any evidence already linked, is not a framework edit.

Which templates apply is `programmes.applicable_templates` (what a new programme would get);
the list of programmes needing a change is the same rule in set-based SQL (framework_outdated).
Nothing here commits.
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    RUNNING_STATUSES,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Preceptorship,
    ProgrammeStatus,
    StatusChange,
)
from . import audit
from .framework_editor import FrameworkRefused
from .framework_outdated import list_stamp, outdated_programmes
from .programmes import END_WEEKS, applicable_templates

PLAN_CHANGED = ("The framework or this programme changed since you opened this page, so nothing was applied. "
                "Check the changes below and apply them again.")
LIST_CHANGED = ("The framework or these programmes changed since you opened this page, so nothing was applied. "
                "Check the list below and apply again.")
NOTHING_TO_APPLY = "This programme already follows the current framework: there is nothing to apply."
NOT_RUNNING = "This programme is no longer running, so the framework cannot be applied to it."


# --- one programme's plan -------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    milestone: Milestone
    to: MilestoneTemplate
    due_after: date


@dataclass(frozen=True)
class Addition:
    template: MilestoneTemplate
    due: date


@dataclass
class Plan:
    """What applying the current framework would do to one programme."""

    programme: Preceptorship
    moves: list[Move] = field(default_factory=list)
    additions: list[Addition] = field(default_factory=list)
    kept: list[Milestone] = field(default_factory=list)  # not signed off; key retired or no longer applies
    signed_off_older: int = 0  # signed off on an older version: stays as signed

    @property
    def empty(self) -> bool:
        return not (self.moves or self.additions)

    @property
    def fingerprint(self) -> str:
        """A digest of the plan as shown: the form carries it, so what is applied is what was seen."""
        content = [self.programme.id, self.programme.status.value,
                   [[m.milestone.id, m.milestone.template_id, m.to.id, m.milestone.due_date.isoformat(),
                     m.due_after.isoformat()] for m in self.moves],
                   [[a.template.id, a.due.isoformat()] for a in self.additions]]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]


def due_as_moved(programme: Preceptorship, offset_days: int, changes: list[StatusChange]) -> date:
    """Start + offset, moved as the programme's recorded pauses and extensions moved its open
    milestones (programmes.resume and programmes.extend), replayed in order."""
    due = programme.start_date + timedelta(days=offset_days)
    paused_on: date | None = None
    for change in changes:
        if change.to_status is ProgrammeStatus.PAUSED:
            paused_on = change.effective_on
        elif change.from_status is ProgrammeStatus.PAUSED:
            if paused_on is not None and due >= paused_on:
                due += timedelta(days=max(0, (change.effective_on - paused_on).days))
            paused_on = None
        elif (change.to_status is ProgrammeStatus.EXTENDED and change.planned_end_before
              and change.planned_end_after and due >= change.planned_end_before - timedelta(weeks=END_WEEKS)):
            due += change.planned_end_after - change.planned_end_before
    return due


def _plan(programme: Preceptorship, milestones: list[Milestone], applicable: list[MilestoneTemplate],
          changes: list[StatusChange]) -> Plan:
    plan = Plan(programme)
    if programme.status not in RUNNING_STATUSES:
        return plan
    by_key = {template.key: template for template in applicable}
    had_keys = {milestone.template.key for milestone in milestones}
    for milestone in milestones:
        old, new = milestone.template, by_key.get(milestone.template.key)
        if milestone.status is MilestoneStatus.SIGNED_OFF:
            if new is not None and new.id != old.id:
                plan.signed_off_older += 1
        elif new is None:
            plan.kept.append(milestone)
        elif new.id != old.id:
            # The new offset moved by the pauses and extensions its date falls after (which may
            # not be the old date's), plus any change made to this milestone by hand.
            by_hand = milestone.due_date - due_as_moved(programme, old.due_offset_days, changes)
            plan.moves.append(Move(milestone, new, due_as_moved(programme, new.due_offset_days, changes) + by_hand))
    plan.additions = [Addition(t, due_as_moved(programme, t.due_offset_days, changes))
                      for t in applicable if t.key not in had_keys]
    return plan


def plans_for(programmes: list[Preceptorship]) -> dict[int, Plan]:
    """Each programme's plan: its milestones and status changes in one query each, and the
    applicable templates once per department."""
    ids = [p.id for p in programmes]
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in db.session.scalars(sa.select(Milestone).where(Milestone.preceptorship_id.in_(ids))
                                        .order_by(Milestone.due_date, Milestone.id)):
        milestones[milestone.preceptorship_id].append(milestone)
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for change in db.session.scalars(sa.select(StatusChange).where(StatusChange.preceptorship_id.in_(ids))
                                     .order_by(StatusChange.id)):
        changes[change.preceptorship_id].append(change)
    applicable: dict[int, list[MilestoneTemplate]] = {}
    for programme in programmes:
        if programme.department_id not in applicable:
            applicable[programme.department_id] = applicable_templates(programme.department)
    return {p.id: _plan(p, milestones[p.id], applicable[p.department_id], changes[p.id]) for p in programmes}


def plan_for(programme: Preceptorship) -> Plan:
    return plans_for([programme])[programme.id]


# --- applying -------------------------------------------------------------------------------------

def _carry_out(plan: Plan) -> None:
    programme = plan.programme
    moved, added = [], []
    for move in plan.moves:
        milestone, old = move.milestone, move.milestone.template
        due_before = milestone.due_date
        milestone.template, milestone.title, milestone.due_date = move.to, move.to.title, move.due_after
        entry = {"milestone_id": milestone.id, "key": old.key, "from_template_id": old.id,
                 "from_version": old.version, "to_template_id": move.to.id, "to_version": move.to.version,
                 "due_before": due_before.isoformat(), "due_after": move.due_after.isoformat()}
        moved.append(entry)
        audit.record("milestone.framework_update", milestone, preceptorship_id=programme.id,
                     department_id=programme.department_id, details=entry)
    for addition in plan.additions:
        milestone = Milestone(preceptorship=programme, template=addition.template, title=addition.template.title,
                              due_date=addition.due)
        db.session.add(milestone)
        db.session.flush()
        entry = {"milestone_id": milestone.id, "key": addition.template.key, "template_id": addition.template.id,
                 "version": addition.template.version, "due": addition.due.isoformat()}
        added.append(entry)
        audit.record("milestone.framework_add", milestone, preceptorship_id=programme.id,
                     department_id=programme.department_id, details=entry)
    db.session.flush()  # the milestones' version check runs here: a concurrent change loses the race
    audit.record("preceptorship.apply_framework", programme, preceptorship_id=programme.id,
                 department_id=programme.department_id, details={"moved": moved, "added": added})


def _locked(programme_ids: list[int]) -> list[Preceptorship]:
    """The programmes, row-locked in id order (PostgreSQL) so two people applying at once take
    turns instead of both adding the same milestone."""
    return list(db.session.scalars(sa.select(Preceptorship).where(Preceptorship.id.in_(programme_ids))
                                   .order_by(Preceptorship.id).with_for_update()
                                   .options(selectinload(Preceptorship.department))
                                   .execution_options(populate_existing=True)))


def apply_to_programme(programme_id: int, fingerprint: str) -> Plan:
    """Apply the current framework to one programme, as shown by the plan with `fingerprint`."""
    found = _locked([programme_id])
    if not found:
        raise LookupError(programme_id)
    programme = found[0]
    if programme.status not in RUNNING_STATUSES:
        raise FrameworkRefused(NOT_RUNNING)
    plan = plan_for(programme)
    if plan.fingerprint != fingerprint:
        raise FrameworkRefused(PLAN_CHANGED)
    if plan.empty:
        raise FrameworkRefused(NOTHING_TO_APPLY)
    _carry_out(plan)
    return plan


def apply_to_listed(scope: list[int] | None, department_id: int | None, stamp: str) -> list[Plan]:
    """Apply the current framework to every programme the listing shows, in one transaction."""
    rows = outdated_programmes(scope, department_id)
    if not rows or list_stamp(rows) != stamp:
        raise FrameworkRefused(LIST_CHANGED)
    programmes = _locked([r.programme_id for r in rows])
    plans = plans_for(programmes)
    if list_stamp(outdated_programmes(scope, department_id)) != stamp:  # changed while waiting for the locks
        raise FrameworkRefused(LIST_CHANGED)
    for programme in programmes:
        if not plans[programme.id].empty:
            _carry_out(plans[programme.id])
    return [plans[p.id] for p in programmes]
