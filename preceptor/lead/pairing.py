"""Waiting preceptees, pairing one with a preceptor (or reallocating), and cohort allocation.

Every allocation goes through `pairing.place` (checked, locked, audited) in one transaction;
a refusal is shown next to the field it concerns with what was chosen kept.
"""

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ..access import lead_scope, role_required
from ..extensions import db
from ..fields import chosen_id
from ..models import Allocation, Role
from ..rendering import render_page
from ..services import cohort, pairing
from ..services.pairing import PairingRefused
from ..services.scope import open_departments
from ..transactions import commit
from . import bp
from .forms import CohortForm, PairingForm

SHOWN = 15  # suggestions listed; the rest of the ranking is counted, not shown


@bp.get("/waiting")
@role_required(Role.EDUCATION_LEAD)
def waiting():
    today = date.today()
    everyone = pairing.unallocated(lead_scope())
    return render_page("lead/waiting.html", today=today,
                       now=[w for w in everyone if w.programme.start_date <= today],
                       later=[w for w in everyone if w.programme.start_date > today])


def _programme_or_404(programme_id: int):
    programme = pairing.programme_in_scope(programme_id, lead_scope())
    if programme is None:
        abort(404)
    return programme


def _pairing_page(programme, form: PairingForm, problems=()):
    today = date.today()
    found = pairing.suggest(programme, lead_scope(), today)
    form.preceptor.choices = [(str(s.row.user.id), s.row.user.name) for s in found.ranked[:SHOWN]]
    history = db.session.scalars(db.select(Allocation).where(Allocation.preceptorship_id == programme.id)
                                 .order_by(Allocation.starts_on.desc(), Allocation.id.desc())).all()
    return render_page("lead/pairing.html", programme=programme, form=form, problems=problems, today=today,
                       suggestions=found.ranked[:SHOWN], more=max(0, len(found.ranked) - SHOWN), unable=found.unable,
                       current=programme.current_allocation, history=history)


@bp.get("/programmes/<int:programme_id>/preceptor", endpoint="pairing")
@role_required(Role.EDUCATION_LEAD)
def pairing_page(programme_id: int):
    return _pairing_page(_programme_or_404(programme_id), PairingForm(formdata=None))


@bp.post("/programmes/<int:programme_id>/preceptor")
@role_required(Role.EDUCATION_LEAD)
def pair(programme_id: int):
    programme = _programme_or_404(programme_id)
    form = PairingForm()
    if not form.validate():
        return _pairing_page(programme, form)
    name = programme.preceptee.name
    refusals: list[str] = []

    def change():
        try:
            pairing.place(programme.id, chosen_id(form.preceptor.data), by=current_user, scope=lead_scope(),
                          today=date.today(), over_cap_reason=form.over_cap_reason.data or "",
                          end_reason=form.end_reason_value(), end_note=form.end_note.data or "")
        except PairingRefused as refused:
            field = getattr(form, refused.field, None) if refused.field else None
            if field is not None:
                field.errors = [str(refused)]
            raise

    if commit(change, refusals, refusals=(PairingRefused,),
              stale="Someone else changed this preceptee's allocation at the same time. Check it and try again"):
        allocation = programme.current_allocation
        flash(Markup("{} is now {}'s preceptor").format(allocation.preceptor.name, name), "success")
        return redirect(url_for("lead.waiting"))
    db.session.expire_all()
    shown_elsewhere = any(field.errors for field in form)
    return _pairing_page(db.session.get(type(programme), programme_id), form,
                         problems=() if shown_elsewhere else refusals)


def _cohort_page(department_id: int | None, form: CohortForm, problems=(), propose: bool = True):
    today = date.today()
    proposal = cohort.propose(lead_scope(), today, department_id=department_id) if propose else None
    if proposal and form.pairs.data is None:
        form.pairs.data = [pair.value for pair in proposal.pairs]
    return render_page("lead/cohort.html", proposal=proposal, form=form, problems=problems, today=today,
                       departments=open_departments(lead_scope()), department_id=department_id)


def _department_choice(value: str | None) -> int | None:
    scope = lead_scope()
    department_id = chosen_id(value)
    return department_id if department_id is not None and (scope is None or department_id in scope) else None


@bp.get("/cohort")
@role_required(Role.EDUCATION_LEAD)
def cohort_page():
    department_id = _department_choice(request.args.get("department"))
    return _cohort_page(department_id, CohortForm(formdata=None), propose="propose" in request.args)


@bp.post("/cohort")
@role_required(Role.EDUCATION_LEAD)
def cohort_accept():
    department_id = _department_choice(request.form.get("department"))
    form = CohortForm()
    if not form.validate():
        return _cohort_page(department_id, form)
    problems: list[str] = []
    written = []
    if commit(lambda: written.append(cohort.accept(form.pairs.data, by=current_user, scope=lead_scope(),
                                                   today=date.today())),
              problems, refusals=(PairingRefused,),
              stale="Someone else allocated one of these preceptees at the same time. Nothing was allocated; "
                    "make a new proposal"):
        count = written[0]
        flash(f"{count} preceptee{'s are' if count != 1 else ' is'} now paired with a preceptor", "success")
        return redirect(url_for("lead.waiting"))
    form.pairs.data = None
    return _cohort_page(department_id, form, problems=problems)
