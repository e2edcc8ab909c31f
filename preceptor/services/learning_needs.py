"""Learning needs analysis and the personal development plan.

A preceptee rates their confidence (1 to 5, with an optional note) in each learning-need area
at the start of the programme and again at the mid-point. The department's own areas apply;
a department that has defined none uses the trust-wide defaults. Areas rated 1 or 2 at the start
are suggested as goals for the personal development plan; the preceptee decides which to add.

Nothing here commits: the views do, once the whole change (and its audit event) is in place.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    AssessmentStage,
    DevelopmentGoal,
    GoalStatus,
    LearningNeedArea,
    LearningNeedRating,
    LearningNeedsAssessment,
    Preceptorship,
)
from . import audit
from .programmes import add_months

# Trust-wide areas for radiographers, used where a department has not defined its own.
DEFAULT_AREAS: tuple[str, ...] = (
    "Patient communication and consent",
    "Radiation protection and IR(ME)R",
    "Positioning and technique across common examinations",
    "Image evaluation",
    "Working in theatres and on wards",
    "Managing workload and prioritising",
    "Raising concerns and safeguarding",
    "Reflective practice",
    "Wellbeing and support",
)

CONFIDENCE_SCALE: dict[int, str] = {
    1: "Not at all confident",
    2: "A little confident",
    3: "Fairly confident",
    4: "Confident",
    5: "Very confident",
}
NOTE_MAX = 1000
GOAL_MAX = 500
ACTIONS_MAX = 2000
SUGGEST_AT_OR_BELOW = 2  # ratings of 1 or 2 at the start suggest a goal
MID_POINT_OPENS_AFTER_MONTHS = 5


class LearningNeedsError(ValueError):
    """Input the service refuses; the views validate first, so this guards the invariants."""


@dataclass(frozen=True)
class Rating:
    """One area's answer: confidence from 1 to 5 and an optional note."""

    confidence: int
    note: str = ""


def install_default_areas() -> int:
    """Add any trust-wide default area not yet present (matched by title); returns how many
    were added. Idempotent; never commits."""
    existing = set(db.session.scalars(select(LearningNeedArea.title).where(LearningNeedArea.department_id.is_(None))))
    added = 0
    for position, title in enumerate(DEFAULT_AREAS):
        if title not in existing:
            db.session.add(LearningNeedArea(department_id=None, title=title, position=position))
            added += 1
    return added


def areas_for(programme: Preceptorship) -> list[LearningNeedArea]:
    """The areas a programme assesses against: its department's own (not archived, by position),
    or the trust-wide defaults when the department has none."""
    current = LearningNeedArea.archived_at.is_(None)
    own = aliased(LearningNeedArea)  # not correlated with the outer query's rows
    own_count = select(func.count(own.id)).where(own.department_id == programme.department_id,
                                                 own.archived_at.is_(None))
    # One query: the department's areas if it has any, else the trust-wide ones.
    query = (
        select(LearningNeedArea)
        .where(
            current,
            or_(
                LearningNeedArea.department_id == programme.department_id,
                (LearningNeedArea.department_id.is_(None)) & (own_count.scalar_subquery() == 0),
            ),
        )
        .order_by(LearningNeedArea.position, LearningNeedArea.id)
    )
    return list(db.session.scalars(query))


def assessments(programme_id: int) -> dict[AssessmentStage, LearningNeedsAssessment]:
    """The programme's assessments by stage (absent stages are missing from the dict)."""
    rows = db.session.scalars(
        select(LearningNeedsAssessment).where(LearningNeedsAssessment.preceptorship_id == programme_id)
    )
    return {row.stage: row for row in rows}


def ratings(assessment_id: int) -> dict[int, LearningNeedRating]:
    """An assessment's ratings keyed by area id."""
    rows = db.session.scalars(select(LearningNeedRating).where(LearningNeedRating.assessment_id == assessment_id))
    return {row.area_id: row for row in rows}


def mid_point_opens_on(programme: Preceptorship) -> date:
    """The first day the mid-point self-assessment may be made (if the initial one is done)."""
    return add_months(programme.start_date, MID_POINT_OPENS_AFTER_MONTHS)


def stage_open(programme: Preceptorship, stage: AssessmentStage, today: date, initial_done: bool) -> bool:
    """Whether `stage` can be filled in (or changed) today.

    The initial self-assessment is always open. The mid-point one opens when *both* the initial
    one is complete and the programme is at least five months in. Either condition alone lets
    the mid-point measure nothing: without an initial rating there is no change to show, and a
    mid-point made the week after the initial one shows no real change. Five months (not six)
    lets the preceptee prepare before the six-month mid-point review meeting.
    """
    if stage is AssessmentStage.INITIAL:
        return True
    return initial_done and today >= mid_point_opens_on(programme)


def save_assessment(programme: Preceptorship, stage: AssessmentStage, answers: Mapping[int, Rating],
                    today: date) -> LearningNeedsAssessment:
    """Record the preceptee's ratings for `stage`, creating the assessment or replacing its
    ratings, and mark it completed today. Every current area needs a rating from 1 to 5.
    Audited as `learning_needs.save` (area ids and confidence values, never the notes)."""
    areas = areas_for(programme)
    area_ids = {area.id for area in areas}
    missing = area_ids - set(answers)
    unknown = set(answers) - area_ids
    if missing or unknown:
        raise LearningNeedsError(f"ratings must cover exactly the programme's areas (missing {sorted(missing)}, "
                                 f"unknown {sorted(unknown)})")
    for rating in answers.values():
        if not isinstance(rating.confidence, int) or not 1 <= rating.confidence <= 5:
            raise LearningNeedsError("confidence must be a whole number from 1 to 5")
        if len(rating.note) > NOTE_MAX:
            raise LearningNeedsError(f"a note must be {NOTE_MAX} characters or fewer")

    existing = assessments(programme.id)
    if not stage_open(programme, stage, today, AssessmentStage.INITIAL in existing):
        raise LearningNeedsError(f"the {stage.value} self-assessment is not open yet")
    assessment = existing.get(stage)
    created = assessment is None
    if created:
        assessment = LearningNeedsAssessment(preceptorship_id=programme.id, stage=stage)
        db.session.add(assessment)
        db.session.flush()
    else:
        # Ratings for areas since archived stay: they are the record of what was assessed then.
        db.session.execute(delete(LearningNeedRating).where(
            LearningNeedRating.assessment_id == assessment.id, LearningNeedRating.area_id.in_(area_ids)
        ))
    for area_id, rating in answers.items():
        db.session.add(LearningNeedRating(assessment_id=assessment.id, area_id=area_id,
                                          confidence=rating.confidence, note=rating.note.strip()))
    assessment.completed_on = today
    audit.record("learning_needs.save", assessment, preceptorship_id=programme.id,
                 department_id=programme.department_id,
                 details={"stage": stage.value, "created": created,
                          "ratings": {str(area_id): answers[area_id].confidence for area_id in sorted(answers)}})
    return assessment


@dataclass(frozen=True)
class AreaChange:
    """One area's confidence at each stage; None where that stage did not rate it."""

    area: LearningNeedArea
    initial: int | None
    mid_point: int | None

    @property
    def change(self) -> int | None:
        if self.initial is None or self.mid_point is None:
            return None
        return self.mid_point - self.initial

    @property
    def change_words(self) -> str:
        """"up 2", "down 1", "no change", or "" when a stage is missing."""
        change = self.change
        if change is None:
            return ""
        if change == 0:
            return "no change"
        return f"{'up' if change > 0 else 'down'} {abs(change)}"


def changes(programme: Preceptorship) -> list[AreaChange]:
    """Confidence per area at the initial and mid-point stages, in area order: the programme's
    current areas plus any area it rated that has since been archived."""
    by_stage = {stage: {} for stage in AssessmentStage}
    rows = db.session.execute(
        select(LearningNeedsAssessment.stage, LearningNeedRating.area_id, LearningNeedRating.confidence)
        .join(LearningNeedRating, LearningNeedRating.assessment_id == LearningNeedsAssessment.id)
        .where(LearningNeedsAssessment.preceptorship_id == programme.id)
    )
    for stage, area_id, confidence in rows:
        by_stage[stage][area_id] = confidence
    areas = {area.id: area for area in areas_for(programme)}
    rated = set(by_stage[AssessmentStage.INITIAL]) | set(by_stage[AssessmentStage.MID_POINT])
    extra = rated - set(areas)
    if extra:
        archived = db.session.scalars(select(LearningNeedArea).where(LearningNeedArea.id.in_(extra)))
        areas.update({area.id: area for area in archived})
    ordered = sorted(areas.values(), key=lambda a: (a.archived_at is not None, a.position, a.id))
    return [AreaChange(area, by_stage[AssessmentStage.INITIAL].get(area.id),
                       by_stage[AssessmentStage.MID_POINT].get(area.id)) for area in ordered]


def suggestions(programme: Preceptorship) -> list[tuple[LearningNeedArea, int]]:
    """(area, initial confidence) for the areas rated 1 or 2 in the completed initial
    self-assessment that have no goal yet, least confident first. Suggestions only: nothing
    is created until the preceptee adds a goal."""
    has_goal = select(DevelopmentGoal.id).where(
        DevelopmentGoal.preceptorship_id == programme.id, DevelopmentGoal.area_id == LearningNeedArea.id
    ).exists()
    query = (
        select(LearningNeedArea, LearningNeedRating.confidence)
        .join(LearningNeedRating, LearningNeedRating.area_id == LearningNeedArea.id)
        .join(LearningNeedsAssessment, LearningNeedsAssessment.id == LearningNeedRating.assessment_id)
        .where(
            LearningNeedsAssessment.preceptorship_id == programme.id,
            LearningNeedsAssessment.stage == AssessmentStage.INITIAL,
            LearningNeedsAssessment.completed_on.is_not(None),
            LearningNeedRating.confidence <= SUGGEST_AT_OR_BELOW,
            LearningNeedArea.archived_at.is_(None),
            ~has_goal,
        )
        .order_by(LearningNeedRating.confidence, LearningNeedArea.position, LearningNeedArea.id)
    )
    return [(area, confidence) for area, confidence in db.session.execute(query)]


def goals(programme_id: int) -> list[DevelopmentGoal]:
    """The plan's goals: open ones first, then by target date (none last), then oldest first."""
    open_first = case((DevelopmentGoal.status == GoalStatus.OPEN, 0), else_=1)
    query = (
        select(DevelopmentGoal)
        .where(DevelopmentGoal.preceptorship_id == programme_id)
        .order_by(open_first, DevelopmentGoal.target_date.is_(None), DevelopmentGoal.target_date,
                  DevelopmentGoal.id)
    )
    return list(db.session.scalars(query))


def goal_for(programme_id: int, goal_id: int) -> DevelopmentGoal | None:
    """The goal if it belongs to this programme, else None (someone else's goal is not found)."""
    return db.session.scalar(
        select(DevelopmentGoal).where(DevelopmentGoal.id == goal_id, DevelopmentGoal.preceptorship_id == programme_id)
    )


def area_titles(area_ids: set[int]) -> dict[int, str]:
    """Area titles by id, for showing goals' areas without a query per goal."""
    if not area_ids:
        return {}
    rows = db.session.execute(
        select(LearningNeedArea.id, LearningNeedArea.title).where(LearningNeedArea.id.in_(area_ids))
    )
    return {area_id: title for area_id, title in rows}


def _check_goal(programme: Preceptorship, goal: str, actions: str, area_id: int | None,
                keep_area_id: int | None = None) -> None:
    if not goal.strip():
        raise LearningNeedsError("a goal needs some text")
    if len(goal) > GOAL_MAX:
        raise LearningNeedsError(f"a goal must be {GOAL_MAX} characters or fewer")
    if len(actions) > ACTIONS_MAX:
        raise LearningNeedsError(f"actions must be {ACTIONS_MAX} characters or fewer")
    if area_id is not None and area_id != keep_area_id and area_id not in {a.id for a in areas_for(programme)}:
        raise LearningNeedsError("the area is not one of this programme's areas")


def add_goal(programme: Preceptorship, goal: str, actions: str = "", target_date: date | None = None,
             area_id: int | None = None) -> DevelopmentGoal:
    """Add an open goal to the programme's development plan. Audited as `development_goal.add`."""
    _check_goal(programme, goal, actions, area_id)
    record = DevelopmentGoal(preceptorship_id=programme.id, goal=goal.strip(), actions=actions.strip(),
                             target_date=target_date, area_id=area_id, status=GoalStatus.OPEN)
    db.session.add(record)
    audit.record("development_goal.add", record, preceptorship_id=programme.id,
                 department_id=programme.department_id,
                 details={"area_id": area_id, "target_date": target_date.isoformat() if target_date else None})
    return record


def update_goal(programme: Preceptorship, record: DevelopmentGoal, goal: str, actions: str = "",
                target_date: date | None = None, area_id: int | None = None) -> list[str]:
    """Change a goal's text, actions, target date and area; returns the names of the fields that
    changed. A goal may keep an area that has since been archived. Audited as
    `development_goal.update` (field names only) when anything changed."""
    if record.preceptorship_id != programme.id:
        raise LearningNeedsError("the goal belongs to another programme")
    _check_goal(programme, goal, actions, area_id, keep_area_id=record.area_id)
    new = {"goal": goal.strip(), "actions": actions.strip(), "target_date": target_date, "area_id": area_id}
    changed = sorted(name for name, value in new.items() if getattr(record, name) != value)
    for name in changed:
        setattr(record, name, new[name])
    if changed:
        audit.record("development_goal.update", record, preceptorship_id=programme.id,
                     department_id=programme.department_id, details={"fields": changed})
    return changed


def set_goal_status(programme: Preceptorship, record: DevelopmentGoal, status: GoalStatus) -> bool:
    """Mark a goal achieved, dropped or open again; returns whether it changed.
    Audited as `development_goal.status` with the old and new status."""
    if record.preceptorship_id != programme.id:
        raise LearningNeedsError("the goal belongs to another programme")
    if record.status == status:
        return False
    audit.record("development_goal.status", record, preceptorship_id=programme.id,
                 department_id=programme.department_id,
                 details={"from": record.status.value, "to": status.value})
    record.status = status
    return True
