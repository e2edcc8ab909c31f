"""Each programme's progress: its log entries, its milestones (copied from the real framework),
sign-off requests with their evidence and decisions, and the audit events they leave.

Milestones follow the programme's state: all signed off when completed, those due before
leaving when left; a running programme has most past milestones signed off, the latest ones
waiting in its preceptor's queue or returned, and a few overdue.
"""

import bisect
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ..models import (
    EntryKind,
    LogEntry,
    Milestone,
    MilestoneStatus,
    ProgrammeStatus,
    RequestStatus,
    SignOffRequest,
    milestone_evidence,
    request_evidence,
)
from ..services.programmes import END_WEEKS
from .bulk import Writer, at
from .programmes import Plan

TOPICS = ["an anxious patient in CT", "my first trauma call", "a portable on ICU", "a contrast reaction drill",
          "feedback from a reporter", "a difficult cannulation", "working in theatres", "a paediatric fracture clinic",
          "explaining radiotherapy side effects", "an unexpected finding", "a busy A&E weekend", "consent for a scan"]
CPD = ["e-learning: IR(ME)R update", "Study day: trauma imaging", "Safeguarding level 3", "Manual handling refresher",
       "Contrast administration course", "Journal club", "Image interpretation workshop"]
SUPERVISED = ["Supervised list: general X-ray", "Supervised list: CT head", "Supervised session in theatres",
              "Supervised ward portables", "Supervised fluoroscopy list", "Supervised treatment set-up"]
WHAT = ["A busy list with a patient who was anxious about the scan.", "The image was not diagnostic the first time.",
        "The referral did not match what the patient told me.", "I led the examination with a senior nearby."]
SO_WHAT = ["I noticed my explanation helped more than speed did.", "Checking the request first would have saved time.",
           "I was more confident than I expected once I started.", "Asking for help early was the right call."]
NOW_WHAT = ["I will build time for explanation into how I plan the list.", "I will check requests before calling.",
            "I will ask for the next trauma call myself.", "I will read the local protocol again this week."]
SUMMARIES = ["I have done this and linked what I wrote about it.", "Done: the evidence is in my log.",
             "Completed with my preceptor; reflection attached."]
ACTION_PLAN = "Add a reflection on the feedback from the reporting radiographer, then resubmit."
KINDS = [EntryKind.REFLECTION] * 8 + [EntryKind.CPD] * 4 + [EntryKind.SUPERVISED_PRACTICE] * 5 + \
    [EntryKind.PROTECTED_TIME] * 2 + [EntryKind.MEETING_NOTE]


@dataclass(frozen=True)
class Template:
    id: int
    title: str
    due_offset_days: int


def entry_counts(plans: list[Plan], today: date, total: int, rng: random.Random) -> list[int]:
    """Split `total` log entries between programmes by how long each has run (the
    representative preceptee writes more than most)."""
    days = [(min(today, p.ended_on or today) - p.start).days for p in plans]
    weights = [d * (4 if p.representative else 1) if d >= 3 else 0 for d, p in zip(days, plans, strict=True)]
    scale = total / max(1, sum(weights))
    counts = [int(w * scale) for w in weights]
    running = [n for n, w in enumerate(weights) if w > 0]
    for _ in range(total - sum(counts)):
        counts[rng.choice(running)] += 1
    return counts


def log_entries(writer: Writer, rng: random.Random, plan: Plan, count: int, today: date) -> list[dict]:
    """The programme's entries, in date order."""
    span = (min(today, plan.ended_on or today) - plan.start).days
    if span < 3:
        return []
    entries = []
    for day in sorted(plan.start + timedelta(days=rng.randint(2, span)) for _ in range(count)):
        kind = rng.choice(KINDS)
        row = {"id": writer.new_id(LogEntry), "preceptorship_id": plan.id, "author_id": plan.preceptee_id,
               "kind": kind, "occurred_on": day, "hours": None, "what_happened": "", "so_what": "", "now_what": "",
               "notes": "", "created_at": at(day, rng.randint(900, 1300))}
        row["updated_at"] = row["created_at"]
        if kind is EntryKind.REFLECTION:
            row.update(title=f"Reflection: {rng.choice(TOPICS)}", what_happened=rng.choice(WHAT),
                       so_what=rng.choice(SO_WHAT), now_what=rng.choice(NOW_WHAT))
        elif kind is EntryKind.CPD:
            row.update(title=rng.choice(CPD), hours=Decimal(rng.choice(("1.00", "2.00", "3.50", "7.50"))),
                       notes="Certificate saved to my CPD folder.")
        elif kind is EntryKind.SUPERVISED_PRACTICE:
            row.update(title=rng.choice(SUPERVISED), hours=Decimal(rng.choice(("2.00", "3.75", "7.50"))),
                       notes="Supervisor happy for me to do the next list with less support.")
        elif kind is EntryKind.PROTECTED_TIME:
            row.update(title="Protected time with my preceptor", hours=Decimal(rng.choice(("1.00", "1.50"))),
                       notes="Went through my development plan.")
        else:
            row.update(title="Notes from a review", notes="Agreed to focus on out-of-hours work next.")
        writer.add(LogEntry, row)
        entries.append(row)
    return entries


def snapshot(entry: dict) -> dict:
    """The evidence as `decisions.snapshots` records it at a decision."""
    return {"id": entry["id"], "kind": entry["kind"].value, "kind_label": entry["kind"].label, "title": entry["title"],
            "occurred_on": entry["occurred_on"].isoformat(),
            "hours": str(entry["hours"]) if entry["hours"] is not None else None,
            "what_happened": entry["what_happened"], "so_what": entry["so_what"], "now_what": entry["now_what"],
            "notes": entry["notes"]}


class Progress:
    """Writes one programme's milestones and requests against its log entries."""

    def __init__(self, writer: Writer, rng: random.Random, today: date, rep_preceptor_id: int):
        self.writer, self.rng, self.today, self.rep_preceptor_id = writer, rng, today, rep_preceptor_id

    def programme(self, plan: Plan, templates: list[Template], entries: list[dict]) -> None:
        self.plan, self.entries = plan, entries
        self.linked: set[tuple[int, int]] = set()
        self.days = [e["occurred_on"] for e in entries]
        due_dates = [self.due(plan, t) for t in templates]
        # The representative preceptor's queue is never empty: each of their programmes has its
        # latest milestone due waiting; the representative preceptee also has one returned.
        past_due = sorted((d for d in due_dates if d <= self.today), reverse=True)
        forced: dict[date, MilestoneStatus] = {}
        if plan.current_preceptor == self.rep_preceptor_id and past_due:
            forced[past_due[0]] = MilestoneStatus.WAITING
            if plan.representative and len(past_due) > 1:
                forced[past_due[1]] = MilestoneStatus.RETURNED
        for template, due in zip(templates, due_dates, strict=True):
            status = forced.get(due) or self.status(due)
            if plan.representative and due <= self.today and due not in forced:
                status = MilestoneStatus.SIGNED_OFF  # a tidy record: nothing overdue but what is forced
            self.milestone(template, due, status)

    @staticmethod
    def due(plan: Plan, template: Template) -> date:
        """Start + offset; an extension moves the end-of-programme milestones with the end."""
        due = plan.start + timedelta(days=template.due_offset_days)
        if plan.old_end is not None and due >= plan.old_end - timedelta(weeks=END_WEEKS):
            due += plan.planned_end - plan.old_end
        return due

    def status(self, due: date) -> MilestoneStatus:
        plan, rng, age = self.plan, self.rng, (self.today - due).days
        if plan.kind == "completed":
            return MilestoneStatus.SIGNED_OFF
        if plan.kind == "left":
            done = due <= plan.ended_on - timedelta(days=7)
            return MilestoneStatus.SIGNED_OFF if done else MilestoneStatus.NOT_STARTED
        if plan.kind != "running" or (plan.status is ProgrammeStatus.PAUSED and age < 0):
            return MilestoneStatus.IN_PROGRESS if age >= 0 and rng.random() < 0.5 else MilestoneStatus.NOT_STARTED
        if age > 21:
            if rng.random() < 0.92:
                return MilestoneStatus.SIGNED_OFF
            return rng.choice((MilestoneStatus.IN_PROGRESS, MilestoneStatus.NOT_STARTED))  # overdue
        if age >= 0:
            return rng.choices((MilestoneStatus.WAITING, MilestoneStatus.RETURNED, MilestoneStatus.IN_PROGRESS),
                               (55, 15, 30))[0]
        return MilestoneStatus.IN_PROGRESS if age > -30 and rng.random() < 0.3 else MilestoneStatus.NOT_STARTED

    def milestone(self, template: Template, due: date, status: MilestoneStatus) -> None:
        plan, rng, today, writer = self.plan, self.rng, self.today, self.writer
        milestone_id = writer.new_id(Milestone)
        last = min(today, plan.ended_on or today)
        changed = at(min(plan.start, today) - timedelta(days=7))
        row = {"id": milestone_id, "preceptorship_id": plan.id, "template_id": template.id, "title": template.title,
               "due_date": due, "status": status, "status_changed_at": changed, "version": 1}
        writer.add(Milestone, row)
        if status is MilestoneStatus.IN_PROGRESS:
            row["status_changed_at"] = at(max(plan.start, min(today, due - timedelta(days=rng.randint(0, 20)))))
        elif status is MilestoneStatus.SIGNED_OFF:
            asked = min(last, max(plan.start, due + timedelta(days=rng.randint(-7, 5))))
            if rng.random() < 0.06 and asked - timedelta(days=14) >= plan.start:
                self.request(milestone_id, template, asked - timedelta(days=14), RequestStatus.RETURNED, last)
            row["status_changed_at"] = self.request(milestone_id, template, asked, RequestStatus.SIGNED_OFF, last)
        elif status is MilestoneStatus.WAITING:
            asked = max(plan.start, today - timedelta(days=rng.randint(1, 8)))
            row["status_changed_at"] = self.request(milestone_id, template, asked, RequestStatus.WAITING, last)
        elif status is MilestoneStatus.RETURNED:
            asked = max(plan.start, today - timedelta(days=rng.randint(4, 12)))
            row["status_changed_at"] = self.request(milestone_id, template, asked, RequestStatus.RETURNED, last)

    def request(self, milestone_id: int, template: Template, asked: date, status: RequestStatus, last: date):
        """A sign-off request (decided unless waiting) with the latest entry before it as evidence;
        returns when the milestone's status last changed."""
        plan, rng, writer = self.plan, self.rng, self.writer
        request_id = writer.new_id(SignOffRequest)
        asked_at = at(asked, rng.randint(480, 1200))
        found = bisect.bisect_right(self.days, asked)
        evidence = [self.entries[found - 1]] if found else []
        entry_ids = [e["id"] for e in evidence]
        decided_at = preceptor = None
        if status is not RequestStatus.WAITING:
            decided = min(last, asked + timedelta(days=rng.randint(0, 6)))
            decided_at = max(asked_at, at(decided, rng.randint(480, 1200)))
            preceptor = plan.preceptor_on(decided)
        writer.add(SignOffRequest, {
            "id": request_id, "milestone_id": milestone_id, "requested_by_id": plan.preceptee_id,
            "requested_at": asked_at, "summary": rng.choice(SUMMARIES), "status": status,
            "decided_by_id": preceptor, "decided_at": decided_at,
            "comment": "Well done." if status is RequestStatus.SIGNED_OFF else None,
            "action_plan": ACTION_PLAN if status is RequestStatus.RETURNED else None,
            "evidence_snapshot": [snapshot(e) for e in evidence] if decided_at else None,
            "reopened_at": None, "reopened_by_id": None, "reopen_reason": None})
        for entry_id in entry_ids:
            writer.add(request_evidence, {"request_id": request_id, "entry_id": entry_id})
            if (milestone_id, entry_id) not in self.linked:  # a resubmission may reuse the same entry
                self.linked.add((milestone_id, entry_id))
                writer.add(milestone_evidence, {"milestone_id": milestone_id, "entry_id": entry_id})
        details = {"milestone": milestone_id, "entries": entry_ids}
        writer.audit("milestone.request_sign_off", "sign_off_request", request_id, asked_at,
                     actor_id=plan.preceptee_id, preceptorship_id=plan.id, details=details)
        if decided_at is None:
            return asked_at
        action = "milestone.sign_off" if status is RequestStatus.SIGNED_OFF else "milestone.return"
        writer.audit(action, "sign_off_request", request_id, decided_at, actor_id=preceptor,
                     preceptorship_id=plan.id, details=details)
        return decided_at
