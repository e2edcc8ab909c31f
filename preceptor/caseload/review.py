"""The review queue: everything waiting for this preceptor, decided one at a time or in bulk.

Each decision is a plain form (works without JavaScript: post, then redirect back) that htmx
posts in place: the item is swapped for its outcome and the header's queue count is replaced
out of band.
"""

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..access import role_required
from ..extensions import db, htmx
from ..fields import posted_number
from ..models import Milestone, Role
from ..rendering import render_page
from ..services import decisions
from ..services.decisions import BulkItem
from ..transactions import commit
from . import bp, queries
from .forms import DecisionForm


def decision_form(item: queries.QueueItem, origin: str) -> DecisionForm:
    form = DecisionForm(formdata=None, prefix=f"m{item.milestone.id}")
    form.origin.data = origin
    return as_it_is_now(form, item)


def as_it_is_now(form: DecisionForm, item: queries.QueueItem) -> DecisionForm:
    """The form carries the item as it is now (version and evidence fingerprint). A refused
    form shown again keeps what was typed but gets these anew, so trying again can succeed."""
    form.version.data, form.seen.data = item.milestone.version, item.seen
    return form


def _queue_page(bound: DecisionForm | None = None, bound_id: int | None = None, problems=(), notice=None):
    items = queries.review_queue(current_user.id)
    forms = {item.milestone.id: decision_form(item, "queue") for item in items}
    # A refusal for an item no longer in the queue (withdrawn, decided elsewhere) goes on top.
    on_top = list(problems) if bound_id not in forms else []
    if bound is not None and bound_id in forms:
        forms[bound_id] = as_it_is_now(bound, next(i for i in items if i.milestone.id == bound_id))
    return render_page("caseload/queue.html", regions=("queue",), items=items, forms=forms, page_problems=on_top,
                       problems={bound_id: list(problems)} if bound_id else {}, notice=notice, today=date.today())


@bp.get("/queue")
@role_required(Role.PRECEPTOR)
def queue():
    """Everything waiting for this preceptor, oldest first, with the evidence inline."""
    return _queue_page()


def _item_fragment(milestone: Milestone, origin: str, form: DecisionForm | None = None, problems=(),
                   done: str | None = None):
    """One item after an htmx action, with the header's count (and on the queue, its summary
    line) replaced out of band."""
    found = queries.review_queue(current_user.id, [milestone.id])
    item = found[0] if found else None
    if item is not None:
        form = decision_form(item, origin) if form is None else as_it_is_now(form, item)
    count = queries.queue_count(current_user.id)
    return render_template("caseload/queue_item.html", item=item, milestone=milestone, form=form,
                           problems=list(problems), done=done, oob_count=count, oob_summary=origin == "queue",
                           bulk=origin == "queue" and count > 1, today=date.today())


@bp.post("/milestones/<int:milestone_id>/decision")
@role_required(Role.PRECEPTOR)
def decide(milestone_id: int):
    """Sign off or return one waiting request."""
    milestone = queries.current_milestone_or_404(milestone_id, current_user.id)
    form = DecisionForm(prefix=f"m{milestone_id}")
    problems = []
    if form.validate():
        def change():
            checks = {"version": form.version_number(), "seen": form.seen.data or ""}
            if form.returning:
                decisions.return_with_plan(milestone, current_user, form.action_plan.data, form.comment.data,
                                           **checks)
            else:
                decisions.sign_off(milestone, current_user, form.comment.data, **checks)

        if commit(change, problems):
            name = milestone.preceptorship.preceptee.name
            done = (f"Returned “{milestone.title}” to {name} with your action plan." if form.returning
                    else f"Signed off “{milestone.title}” for {name}.")
            if htmx and not htmx.boosted:
                return _item_fragment(milestone, _origin(form), done=done)
            flash(done, "success")
            flash(f"decision:{milestone_id}", "clear-draft")
            return redirect(_origin_url(form, milestone))
    if htmx and not htmx.boosted:
        return _item_fragment(milestone, _origin(form), form, problems)
    if _origin(form) == "milestone":
        from .milestones import milestone_page

        return milestone_page(milestone, decision=form, problems=problems)
    return _queue_page(form, milestone_id, problems)


def _origin(form: DecisionForm) -> str:
    return "milestone" if form.origin.data == "milestone" else "queue"


def _origin_url(form: DecisionForm, milestone: Milestone) -> str:
    if _origin(form) == "milestone":
        return url_for("caseload.milestone", milestone_id=milestone.id)
    return url_for("caseload.queue")


@bp.post("/queue/bulk")
@role_required(Role.PRECEPTOR)
def bulk():
    """Sign off every ticked item, each as its own decision; report any that could not be."""
    chosen = sorted({posted_number(v) for v in request.form.getlist("milestone")} - {-1})[:100]
    if not chosen:
        notice = ("warning", ["Select at least one item to sign off"])
        if htmx and not htmx.boosted:
            return _queue_page(notice=notice)
        flash(notice[1][0], "warning")
        return redirect(url_for("caseload.queue"))
    mine = {item.milestone.id for item in queries.review_queue(current_user.id, chosen)}
    items = [BulkItem(m, posted_number(request.form.get(f"version-{m}")), request.form.get(f"seen-{m}") or "")
             for m in chosen if m in mine]
    result = decisions.bulk_sign_off(items, current_user)
    db.session.commit()
    titles = dict(db.session.execute(select(Milestone.id, Milestone.title).where(Milestone.id.in_(chosen))).all())
    refused = [f"“{titles.get(m, 'Item')}”: {why}" for m, why in result.refused]
    refused += [f"“{titles.get(m, 'Item')}” is not waiting for you." for m in chosen if m not in mine]
    lines = [f"Signed off {len(result.signed)} item{'' if len(result.signed) == 1 else 's'}.", *refused]
    kind = "success" if result.signed and not refused else "warning"
    if htmx and not htmx.boosted:
        return _queue_page(notice=(kind, lines))
    flash(" ".join(lines), kind)  # one banner: several would repeat the banner's title id
    return redirect(url_for("caseload.queue"))

