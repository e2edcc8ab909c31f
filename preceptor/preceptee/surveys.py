"""Answering a survey. Without JavaScript the page is one long form (save for later, or send);
with htmx it turns into one question group per step, each step saved as the preceptee goes
and the last one offering to send. Either way answers are kept on the invitation until sent.
"""

from datetime import date

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user

from ..access import role_required
from ..extensions import db, htmx
from ..models import Role
from ..rendering import render_page
from ..services import survey_answers as service
from ..services.survey_answers import Survey, SurveyRefused
from ..services.survey_library import AGREEMENT_SCALE
from . import bp

TEMPLATE = "preceptee/survey.html"


def _survey_or_404(invitation_id: int) -> Survey:
    survey = service.survey_for(current_user.id, invitation_id)
    if survey is None:
        abort(404)
    return survey


def _posted(survey: Survey) -> dict[int, str]:
    return {q.id: request.form.get(f"q{q.id}") for q in survey.questions()}


def _page(survey: Survey, *, step: int | None = None, problems: dict[int, str] | None = None,
          values: dict[str, str] | None = None, message: str | None = None, status_code: int = 200):
    """The long form, or (htmx) one step. `values` are what to show in the fields: the posted
    answers after a problem, else the saved draft."""
    today = date.today()
    closed = service.refusal(survey, today)
    return render_page(TEMPLATE, regions=("survey_step",), survey=survey, step=step, problems=problems or {},
                       values=values if values is not None else survey.draft, message=message or closed,
                       closed=closed, scale=AGREEMENT_SCALE, status_code=status_code)


@bp.get("/surveys/<int:invitation_id>")
@role_required(Role.PRECEPTEE)
def survey(invitation_id: int):
    found = _survey_or_404(invitation_id)
    step = request.args.get("step", type=int)
    if step is not None and step not in found.steps:
        step = found.first_unanswered_step()
    return _page(found, step=step)


@bp.post("/surveys/<int:invitation_id>")
@role_required(Role.PRECEPTEE)
def answer(invitation_id: int):
    """The long form: "Save and come back later" keeps what is valid; "Send" needs it all."""
    found = _survey_or_404(invitation_id)
    today, sending = date.today(), request.form.get("action") == "send"
    posted = _posted(found)
    try:
        problems = service.save(found, posted, today, require=sending)
        if not problems and sending:
            service.submit(found, today)
    except SurveyRefused as refused:
        db.session.rollback()
        return _page(found, message=str(refused), values={str(k): v for k, v in posted.items() if v})
    if problems:
        db.session.commit()  # the valid answers are kept even when others need fixing
        return _page(found, problems=problems, values={str(k): v for k, v in posted.items() if v})
    db.session.commit()
    if sending:
        flash("Thank you: your answers have been sent. Nobody can see which answers are yours.", "success")
        return redirect(url_for("preceptee.home"))
    flash("Your answers are saved. Come back to finish before the survey closes.", "success")
    return redirect(url_for("preceptee.home"))


@bp.post("/surveys/<int:invitation_id>/steps/<int:step>")
@role_required(Role.PRECEPTEE)
def answer_step(invitation_id: int, step: int):
    """One step (htmx): save it, then show the next step, or send after the last."""
    found = _survey_or_404(invitation_id)
    if step not in found.steps:
        abort(404)
    today = date.today()
    posted = _posted(found)
    try:
        problems = service.save(found, posted, today, steps=[step], require=True)
        if not problems and step == found.steps[-1] and request.form.get("action") == "send":
            service.submit(found, today)
            db.session.commit()
            flash("Thank you: your answers have been sent. Nobody can see which answers are yours.", "success")
            if htmx:  # a whole page to go to, not a region to swap
                response = make_response("", 200)
                response.headers["HX-Redirect"] = url_for("preceptee.home")
                return response
            return redirect(url_for("preceptee.home"))
    except SurveyRefused as refused:
        db.session.rollback()
        return _page(found, step=step, message=str(refused))
    db.session.commit()
    if problems:
        return _page(found, step=step, problems=problems, values={str(k): v for k, v in posted.items() if v})
    following = [s for s in found.steps if s > step]
    next_step = following[0] if following else step
    if not (htmx and htmx.target == "survey_step"):
        return redirect(url_for("preceptee.survey", invitation_id=invitation_id, step=next_step))
    return _page(found, step=next_step)
