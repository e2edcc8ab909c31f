"""One milestone as the preceptor (or an education lead) sees it: the waiting request with its
decision form, the locked sign-off with the evidence that was signed, reopening, and the
history from the audit log."""

from datetime import date

from flask import flash, redirect, url_for
from flask_login import current_user

from ..access import role_required
from ..extensions import db
from ..fields import posted_number
from ..models import Milestone, Role
from ..preceptee.queries import evidence_entries
from ..rendering import render_page
from ..services import decisions, history
from ..services.signoff_requests import last_decision
from ..transactions import commit
from . import bp, queries
from .forms import DecisionForm, ReopenForm
from .review import as_it_is_now, decision_form


def milestone_page(milestone: Milestone, *, decision: DecisionForm | None = None, reopen: ReopenForm | None = None,
                   problems=(), viewer: str = "preceptor", status_code: int = 200):
    """The page for `viewer` ("preceptor" or "lead"); bound forms carry a refused attempt."""
    found = queries.review_queue(current_user.id, [milestone.id]) if viewer == "preceptor" else []
    item = found[0] if found else None
    if item is not None:
        decision = decision_form(item, "milestone") if decision is None else as_it_is_now(decision, item)
    signed = decisions.signed_request(milestone)
    if reopen is None:
        reopen = ReopenForm(formdata=None)
        reopen.version.data = milestone.version
    return render_page(
        "caseload/milestone.html", status_code=status_code, milestone=milestone, programme=milestone.preceptorship,
        item=item, form=decision, signed=signed, reopen=reopen if signed and decisions.can_reopen(signed, current_user)
        else None, returned=_last_return(milestone), evidence=evidence_entries(milestone.id),
        history=history.milestone_history(milestone.id), problems=list(problems), viewer=viewer, today=date.today())


def _last_return(milestone: Milestone):
    decision = last_decision(milestone)
    return decision if decision is not None and decision.status.value == "returned" else None


@bp.get("/milestones/<int:milestone_id>")
@role_required(Role.PRECEPTOR)
def milestone(milestone_id: int):
    return milestone_page(queries.current_milestone_or_404(milestone_id, current_user.id))


def reopen_milestone(milestone: Milestone, viewer: str, done_endpoint: str):
    """Shared by the preceptor's and the lead's reopen: refusals keep the reason typed."""
    form = ReopenForm()
    problems = []
    if form.validate_on_submit():
        if commit(lambda: decisions.reopen(milestone, current_user, form.reason.data,
                                           version=posted_number(form.version.data)), problems):
            flash(f"“{milestone.title}” reopened. The earlier sign-off stays in its history.", "success")
            return redirect(url_for(done_endpoint, milestone_id=milestone.id))
    db.session.refresh(milestone)
    form.version.data = milestone.version  # typed reason kept; the next try meets the item as it is
    signed = decisions.signed_request(milestone)
    if not problems and not (signed and decisions.can_reopen(signed, current_user)):
        problems.append("There is no sign-off on this milestone that you can reopen")
    return milestone_page(milestone, reopen=form, problems=problems, viewer=viewer)


@bp.post("/milestones/<int:milestone_id>/reopen")
@role_required(Role.PRECEPTOR)
def reopen(milestone_id: int):
    """The signer reopens their own sign-off, with a reason."""
    return reopen_milestone(queries.current_milestone_or_404(milestone_id, current_user.id), "preceptor",
                            "caseload.milestone")

