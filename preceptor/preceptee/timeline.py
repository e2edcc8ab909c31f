"""The preceptee's timeline and each milestone: evidence, asking for sign-off, withdrawing."""

from datetime import date

from flask import flash, redirect, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from ..access import role_required
from ..extensions import db, htmx
from ..models import MilestoneStatus, Role
from ..rendering import render_page
from ..services import history, signoff_requests
from ..transactions import commit
from . import bp, queries
from .forms import SignOffRequestForm

STALE = "This milestone changed since you opened the page. Check it below and try again."


@bp.get("/timeline")
@role_required(Role.PRECEPTEE)
def timeline():
    """Every milestone by due date; filter by status and principle (htmx swaps the list)."""
    programme = queries.my_programme(current_user.id)
    status = request.args.get("status")
    status = status if status in {s.value for s in MilestoneStatus} else None
    principle = request.args.get("principle", type=int)
    principle = principle if principle in range(1, 6) else None
    rows = queries.timeline(programme.id, status, principle) if programme else []
    status_options = [(None, "All")] + [(s.value, s.label) for s in MilestoneStatus]
    principle_options = [(None, "All")] + [(p.id, f"{p.id}. {p.name}") for p in queries.principles()]
    return render_page("preceptee/timeline.html", regions=("timeline",), programme=programme, rows=rows,
                       status=status, principle=principle, status_options=status_options,
                       principle_options=principle_options, today=date.today())


def _milestone_page(milestone, form: SignOffRequestForm, problems: list[str] | None = None,
                    done_message: str | None = None):
    """The milestone page, or (htmx) its `request_form` region; a change tells the page's
    other regions (the timeline behind the dialog) to refresh."""
    response = render_page(
        "preceptee/milestone.html", regions=("request_form",), milestone=milestone,
        programme=milestone.preceptorship, form=form, done_message=done_message,
        in_dialog="/milestones/" not in (htmx.current_url or ""),  # opened from the timeline
        problems=problems or [], entries=queries.entry_choices(milestone.preceptorship_id),
        evidence=queries.evidence_entries(milestone.id), history=history.milestone_history(milestone.id),
        waiting=signoff_requests.waiting_request(milestone), decision=signoff_requests.last_decision(milestone),
        today=date.today(),
    )
    if done_message:
        response.headers["HX-Trigger"] = "milestone-changed"
    return response


def _done(milestone, message: str, ok: bool = True):
    """After an action: htmx gets the updated region in place; a plain form is redirected (PRG)."""
    if htmx and htmx.target == "request_form":
        db.session.refresh(milestone)
        form = SignOffRequestForm(formdata=None)
        form.evidence.choices = [SelectChoice(e.id, e.title) for e in queries.entry_choices(milestone.preceptorship_id)]
        form.evidence.data = sorted(signoff_requests.evidence_ids(milestone))
        form.version.data = milestone.version
        return _milestone_page(milestone, form, done_message=message)
    flash(message, "success" if ok else "warning")
    if ok:
        flash(f"request:{milestone.id}", "clear-draft")
    return redirect(url_for("preceptee.milestone", milestone_id=milestone.id))


@bp.route("/milestones/<int:milestone_id>", methods=["GET", "POST"])
@role_required(Role.PRECEPTEE)
def milestone(milestone_id: int):
    """One milestone: choose evidence and ask for sign-off, or see where it stands."""
    milestone = queries.own_milestone_or_404(milestone_id, current_user.id)
    form = SignOffRequestForm()
    form.evidence.choices = [SelectChoice(e.id, e.title) for e in queries.entry_choices(milestone.preceptorship_id)]
    if request.method == "GET":
        form.evidence.data = sorted(signoff_requests.evidence_ids(milestone))
        form.version.data = milestone.version
        return _milestone_page(milestone, form)

    problems = []
    asking = form.action.data != "evidence"
    if form.validate_on_submit():
        if form.version.data != str(milestone.version):
            problems.append(STALE)
        elif asking and not form.summary.data:
            form.summary.errors.append("Write a short summary for your preceptor")
        else:
            chosen = set(form.evidence.data or [])
            def change():
                if asking:
                    signoff_requests.request_sign_off(milestone, current_user, form.summary.data, chosen)
                else:
                    signoff_requests.set_evidence(milestone, chosen)

            if commit(change, problems, stale=STALE):
                return _done(milestone, "Sign-off requested: your preceptor has been asked to review it."
                             if asking else "Evidence saved.")
    db.session.refresh(milestone)
    form.version.data = milestone.version
    return _milestone_page(milestone, form, problems)


@bp.post("/milestones/<int:milestone_id>/withdraw")
@role_required(Role.PRECEPTEE)
def withdraw(milestone_id: int):
    """Take back a sign-off request before the preceptor acts on it."""
    milestone = queries.own_milestone_or_404(milestone_id, current_user.id)
    problems = []
    if not commit(lambda: signoff_requests.withdraw(milestone), problems, stale=STALE):
        return _done(milestone, problems[0], ok=False)
    return _done(milestone, "Request withdrawn. You can change the evidence and ask again.")
