"""The preceptee's learning needs analysis (self-assessment at the start and the mid-point)
and their personal development plan, seeded from the areas they feel least confident in.

Only ever the signed-in preceptee's own current programme: a goal id from anyone else's
programme is not found (404).
"""

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ..access import role_required
from ..extensions import db, htmx
from ..models import AssessmentStage, DevelopmentGoal, GoalStatus, LearningNeedArea, Preceptorship, Role
from ..rendering import render_page
from ..services import learning_needs as needs_service
from ..templating import long_date
from . import bp, queries
from .needs_forms import GoalForm, GoalStatusForm, assessment_form

STAGES = {"initial": AssessmentStage.INITIAL, "mid-point": AssessmentStage.MID_POINT}
STAGE_SLUGS = {stage: slug for slug, stage in STAGES.items()}
STAGE_TITLES = {AssessmentStage.INITIAL: "Initial self-assessment",
                AssessmentStage.MID_POINT: "Mid-point self-assessment"}
STATUS_MESSAGES = {GoalStatus.ACHIEVED: "Goal marked as achieved.", GoalStatus.DROPPED: "Goal dropped.",
                   GoalStatus.OPEN: "Goal reopened."}


def _programme() -> Preceptorship | None:
    return queries.my_programme(current_user.id)


def _no_programme(title: str):
    return render_page("preceptee/learning_needs_no_programme.html", title=title)


def _wants_region(name: str) -> bool:
    """An htmx request (not a boosted navigation) that targets the region `name`."""
    return bool(htmx) and not htmx.boosted and htmx.target == name


def _goal_or_404(goal_id: int) -> tuple[Preceptorship, DevelopmentGoal]:
    programme = _programme()
    goal = needs_service.goal_for(programme.id, goal_id) if programme is not None else None
    if goal is None:
        abort(404)
    return programme, goal


@bp.get("/learning-needs")
@role_required(Role.PRECEPTEE)
def learning_needs():
    """Where each self-assessment stands, and the ratings per area with the change between stages."""
    programme = _programme()
    if programme is None:
        return _no_programme("Your learning needs")
    today = date.today()
    done = needs_service.assessments(programme.id)
    initial, mid_point = done.get(AssessmentStage.INITIAL), done.get(AssessmentStage.MID_POINT)
    return render_page(
        "preceptee/learning_needs.html",
        initial=initial,
        mid_point=mid_point,
        mid_point_open=needs_service.stage_open(programme, AssessmentStage.MID_POINT, today, initial is not None),
        opens_on=needs_service.mid_point_opens_on(programme),
        rows=needs_service.changes(programme) if done else [],
        suggestion_count=len(needs_service.suggestions(programme)) if initial else 0,
        scale=needs_service.CONFIDENCE_SCALE,
    )


@bp.route("/learning-needs/<stage>", methods=["GET", "POST"])
@role_required(Role.PRECEPTEE)
def self_assessment(stage: str):
    """Rate confidence 1 to 5 in every area, with an optional note; saving again changes it."""
    chosen = STAGES.get(stage)
    if chosen is None:
        abort(404)
    programme = _programme()
    if programme is None:
        return _no_programme(STAGE_TITLES[chosen])
    today = date.today()
    done = needs_service.assessments(programme.id)
    if not needs_service.stage_open(programme, chosen, today, AssessmentStage.INITIAL in done):
        flash(f"The mid-point self-assessment opens on {long_date(needs_service.mid_point_opens_on(programme))}, "
              "once you have completed your initial one.", "info")
        return redirect(url_for("preceptee.learning_needs"))
    areas = needs_service.areas_for(programme)
    assessment = done.get(chosen)
    saved = {}
    if assessment is not None and request.method == "GET":
        for area_id, rating in needs_service.ratings(assessment.id).items():
            saved[f"confidence_{area_id}"], saved[f"note_{area_id}"] = str(rating.confidence), rating.note
    form = assessment_form(areas, data=saved)
    if areas and form.validate_on_submit():
        needs_service.save_assessment(programme, chosen, form.answers(), today)
        db.session.commit()
        flash(f"Your {STAGE_TITLES[chosen].lower()} has been saved.", "success")
        flash(f"needs:{STAGE_SLUGS[chosen]}", "clear-draft")
        return redirect(url_for("preceptee.learning_needs"))
    return render_page("preceptee/learning_needs_form.html", form=form, title=STAGE_TITLES[chosen],
                       slug=STAGE_SLUGS[chosen], assessment=assessment, scale=needs_service.CONFIDENCE_SCALE,
                       note_max=needs_service.NOTE_MAX)


def _plan_context(programme: Preceptorship, message: str | None = None) -> dict:
    goals = needs_service.goals(programme.id)
    return {
        "goals": goals,
        "area_titles": needs_service.area_titles({g.area_id for g in goals if g.area_id is not None}),
        "suggestions": needs_service.suggestions(programme),
        "initial_done": AssessmentStage.INITIAL in needs_service.assessments(programme.id),
        "status_form": GoalStatusForm(),
        "message": message,
    }


@bp.get("/development-plan")
@role_required(Role.PRECEPTEE)
def development_plan():
    """The goals in the personal development plan, and goals suggested by the self-assessment."""
    programme = _programme()
    if programme is None:
        return _no_programme("Your personal development plan")
    return render_page("preceptee/development_plan.html", regions=("goals",), **_plan_context(programme))


@bp.route("/development-plan/new", methods=["GET", "POST"])
@role_required(Role.PRECEPTEE)
def new_goal():
    """Add a goal; `?area=<id>` (from a suggestion) chooses its learning need area in advance."""
    programme = _programme()
    if programme is None:
        return _no_programme("Add a goal")
    today = date.today()
    form = GoalForm(earliest=today)
    form.set_areas(needs_service.areas_for(programme))
    if request.method == "GET":
        suggested = request.args.get("area", "")
        if suggested in {choice.value for choice in form.area_id.choices}:
            form.area_id.data = suggested
    if form.validate_on_submit():
        needs_service.add_goal(programme, form.goal.data, form.actions.data or "", form.target_date.data,
                               form.chosen_area_id)
        db.session.commit()
        flash("Goal added to your development plan.", "success")
        flash("goal:new", "clear-draft")
        return redirect(url_for("preceptee.development_plan"))
    return render_page("preceptee/development_plan_form.html", form=form, goal=None,
                       action=url_for("preceptee.new_goal"))


@bp.route("/development-plan/<int:goal_id>/edit", methods=["GET", "POST"])
@role_required(Role.PRECEPTEE)
def edit_goal(goal_id: int):
    """Change a goal's wording, actions, target date or area."""
    programme, goal = _goal_or_404(goal_id)
    form = GoalForm(earliest=date.today(), data={
        "goal": goal.goal, "actions": goal.actions, "target_date": goal.target_date,
        "area_id": str(goal.area_id) if goal.area_id is not None else "",
    })
    areas = needs_service.areas_for(programme)
    if goal.area_id is not None and goal.area_id not in {a.id for a in areas}:
        areas.append(db.session.get(LearningNeedArea, goal.area_id))  # an area archived since: keep it choosable
    form.set_areas(areas)
    if form.validate_on_submit():
        changed = needs_service.update_goal(programme, goal, form.goal.data, form.actions.data or "",
                                            form.target_date.data, form.chosen_area_id)
        db.session.commit()
        flash("Your goal has been saved." if changed else "Nothing was changed.", "success")
        flash(f"goal:{goal.id}", "clear-draft")
        return redirect(url_for("preceptee.development_plan"))
    return render_page("preceptee/development_plan_form.html", form=form, goal=goal,
                       action=url_for("preceptee.edit_goal", goal_id=goal.id))


@bp.post("/development-plan/<int:goal_id>/status")
@role_required(Role.PRECEPTEE)
def goal_status(goal_id: int):
    """Mark a goal achieved or dropped, or reopen it. With htmx the goals region is redrawn in
    place; without JavaScript, POST-redirect-GET back to the plan."""
    programme, goal = _goal_or_404(goal_id)
    form = GoalStatusForm()
    if not form.validate_on_submit():
        abort(400)
    status = GoalStatus(form.status.data)
    if needs_service.set_goal_status(programme, goal, status):
        db.session.commit()
    if _wants_region("goals"):
        return render_page("preceptee/development_plan.html", regions=("goals",),
                           **_plan_context(programme, message=STATUS_MESSAGES[status]))
    flash(STATUS_MESSAGES[status], "success")
    return redirect(url_for("preceptee.development_plan"))
