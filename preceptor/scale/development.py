"""Meetings with their actions, the learning needs analysis and the development plan."""

import random
from datetime import date, timedelta
from types import SimpleNamespace

from ..models import (
    AssessmentStage,
    DevelopmentGoal,
    GoalStatus,
    LearningNeedRating,
    LearningNeedsAssessment,
    Meeting,
    MeetingAction,
    MeetingType,
)
from ..services.learning_needs import MID_POINT_OPENS_AFTER_MONTHS
from ..services.meetings import expected_dates
from ..services.programmes import add_months
from .bulk import Writer, at
from .programmes import Plan

NOTES = {
    MeetingType.INITIAL: "Talked through the learning needs analysis and agreed the first goals.",
    MeetingType.TWO_MONTHLY: "Good progress on general lists; out-of-hours work is the next focus.",
    MeetingType.MID_POINT: "Confidence has grown in most areas; revisited the development plan.",
    MeetingType.FINAL: "Reviewed the whole year and agreed next steps.",
}
ACTIONS = ["Book a supervised out-of-hours shift", "Write a reflection on the trauma call",
           "Complete the contrast e-learning", "Shadow a reporting radiographer for an afternoon"]


def meetings(writer: Writer, rng: random.Random, plans: list[Plan], today: date, target: int, rep: int) -> None:
    """About `target` meetings on the schedule the portal expects (`meetings.expected_dates`):
    the running programmes' (held, a few missed, and the next one booked), the representative
    preceptor's first, then the most recently finished programmes' until the target is reached."""
    running = sorted((p for p in plans if p.kind == "running"), key=lambda p: p.stints[0].preceptor_id != rep)
    finished = sorted((p for p in plans if p.ended_on is not None and p.stints), key=lambda p: p.ended_on,
                      reverse=True)
    written = 0
    for plan in running + finished:
        if written >= target:
            return
        last = min(today, plan.ended_on or today)
        booked = False
        programme = SimpleNamespace(start_date=plan.start, planned_end_date=plan.planned_end)
        for meeting_type, due in expected_dates(programme):
            day = max(plan.start, due + timedelta(days=rng.randint(-5, 10)))
            held = day <= last
            if held and meeting_type is not MeetingType.INITIAL and rng.random() < 0.08 and not plan.representative:
                continue  # a review that never happened
            if not held and (booked or plan.ended_on is not None or day > today + timedelta(days=45)):
                continue
            booked = booked or not held
            written += _meeting(writer, rng, plan, meeting_type, max(day, today) if not held else day, held, last)


def _meeting(writer: Writer, rng: random.Random, plan: Plan, meeting_type: MeetingType, day: date, held: bool,
             last: date) -> int:
    meeting_id, preceptor = writer.new_id(Meeting), plan.preceptor_on(day)
    created = at(min(day, last) - timedelta(days=rng.randint(7, 21)))
    writer.add(Meeting, {
        "id": meeting_id, "preceptorship_id": plan.id, "meeting_type": meeting_type, "scheduled_for": day,
        "held_on": day if held else None, "notes": NOTES[meeting_type] if held else "",
        "recorded_by_id": preceptor, "created_at": created,
        "updated_at": at(day, 15 * 60) if held else created, "version": 1})
    if not held:
        return 1
    actions = 1 if meeting_type in (MeetingType.TWO_MONTHLY, MeetingType.MID_POINT) else 0
    for _ in range(actions):
        done = day + timedelta(days=rng.randint(7, 35))
        writer.add(MeetingAction, {
            "id": writer.new_id(MeetingAction), "meeting_id": meeting_id, "description": rng.choice(ACTIONS),
            "owner_id": plan.preceptee_id, "due_on": day + timedelta(days=28),
            "done_on": done if done <= last else None})
    writer.audit("meeting.record", "meeting", meeting_id, at(day, 15 * 60), actor_id=preceptor,
                 preceptorship_id=plan.id, details={"meeting": meeting_id, "type": meeting_type.value,
                                                    "held_on": day.isoformat(), "actions": actions})
    return 1


def learning_needs(writer: Writer, rng: random.Random, plan: Plan, today: date, areas: list[tuple[int, str]]) -> None:
    """The initial assessment (and the mid-point one once due), with a goal per weak area."""
    last = min(today, plan.ended_on or today)
    initial = plan.start + timedelta(days=rng.randint(3, 14))
    if initial > last or not areas:
        return
    mid = add_months(plan.start, MID_POINT_OPENS_AFTER_MONTHS) + timedelta(days=rng.randint(0, 30))
    first: dict[int, int] = {}
    for stage, done in ((AssessmentStage.INITIAL, initial), (AssessmentStage.MID_POINT, mid)):
        if done > last:
            break
        assessment = writer.new_id(LearningNeedsAssessment)
        writer.add(LearningNeedsAssessment, {"id": assessment, "preceptorship_id": plan.id, "stage": stage,
                                             "completed_on": done})
        for area_id, _ in areas:
            if stage is AssessmentStage.INITIAL:
                confidence = first[area_id] = rng.choices((1, 2, 3, 4, 5), (10, 25, 35, 22, 8))[0]
            else:  # confidence grows through the year
                confidence = min(5, first[area_id] + rng.choice((0, 1, 1, 2)))
            writer.add(LearningNeedRating, {"assessment_id": assessment, "area_id": area_id,
                                            "confidence": confidence, "note": ""})
    weak = [(area_id, title) for area_id, title in areas if first[area_id] <= 2][:2]
    for area_id, title in weak:
        target = add_months(initial, 3)
        if plan.ended_on is not None:
            status = GoalStatus.ACHIEVED if rng.random() < 0.85 else GoalStatus.DROPPED
        else:
            status = GoalStatus.ACHIEVED if target < today and rng.random() < 0.7 else GoalStatus.OPEN
        writer.add(DevelopmentGoal, {
            "id": writer.new_id(DevelopmentGoal), "preceptorship_id": plan.id, "area_id": area_id,
            "goal": f"Grow my confidence in {title[0].lower()}{title[1:]}",
            "actions": "Supervised sessions, then a reflection to discuss at my next review.",
            "target_date": target, "status": status, "created_at": at(initial, 14 * 60)})
