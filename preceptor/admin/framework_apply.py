"""Applying framework changes to running programmes: never automatic, always someone's choice.

An education lead sees the running programmes in their departments that the current
framework would change (an administrator sees all), filtered by department in place with
htmx (a plain GET form without JavaScript). One programme's page shows exactly what would
change and applies it; the list can apply to every programme it shows, after a confirmation,
in one transaction. Forms carry a digest of what was shown, so a framework change saved in
between is seen before anything is applied. A programme outside a lead's departments is a 404.
"""

import sqlalchemy as sa
from flask import flash, redirect, request, url_for

from ..access import role_required
from ..extensions import db
from ..fields import chosen_id
from ..models import Preceptorship
from ..rendering import render_page
from ..services import framework_apply as applying
from ..services import framework_outdated as outdated
from ..services.framework_editor import FrameworkRefused
from ..services.scope import in_scope, open_departments
from ..transactions import commit
from . import bp
from .framework import VIEWERS, viewer_scope
from .framework_forms import ApplyForm

RACE = ("Someone else changed one of these programmes while the framework was being applied, so nothing was "
        "applied. Check the changes again.")


def _list_page(department_id: int | None, *, confirm: bool = False, problems: list[str] | None = None,
               status_code: int = 200):
    scope = viewer_scope()
    rows = outdated.outdated_programmes(scope, department_id)
    departments = open_departments(scope)
    return render_page(
        "admin/framework_apply.html", regions=("outdated_results",), rows=rows, stamp=outdated.list_stamp(rows),
        department_options=[("", "All departments"), *((str(d.id), d.full_name) for d in departments)],
        chosen=str(department_id) if department_id is not None else "", confirm=confirm and bool(rows),
        problems=problems or [], status_code=status_code)


@bp.route("/framework/apply", methods=["GET", "POST"])
@role_required(*VIEWERS)
def framework_apply():
    """Running programmes on an older framework; posting applies it to every one listed."""
    if request.method == "GET":
        return _list_page(chosen_id(request.args.get("department")), confirm=request.args.get("confirm") == "all")
    form = ApplyForm()
    department_id = chosen_id(form.department.data)
    plans: list[applying.Plan] = []
    problems: list[str] = []
    if not commit(lambda: plans.extend(applying.apply_to_listed(viewer_scope(), department_id,
                                                                 form.fingerprint.data or "")),
                  problems, stale=RACE, refusals=(FrameworkRefused,)):
        return _list_page(department_id, problems=problems, status_code=409)
    moved, added = sum(len(p.moves) for p in plans), sum(len(p.additions) for p in plans)
    flash(f"The current framework is applied to {len(plans)} programme{'' if len(plans) == 1 else 's'}: "
          f"{moved} milestone{'' if moved == 1 else 's'} updated and {added} added.", "success")
    return redirect(url_for("admin.framework_apply", department=department_id))


def programme_in_scope_or_404(programme_id: int) -> Preceptorship:
    """404 for a programme outside the lead's departments, as if it did not exist."""
    return db.first_or_404(sa.select(Preceptorship).where(
        Preceptorship.id == programme_id, in_scope(Preceptorship.department_id, viewer_scope())))


@bp.route("/framework/apply/<int:programme_id>", methods=["GET", "POST"])
@role_required(*VIEWERS)
def framework_apply_programme(programme_id: int):
    """What the current framework would change in one programme, and applying it."""
    programme = programme_in_scope_or_404(programme_id)
    problems: list[str] = []
    if request.method == "POST":
        form = ApplyForm()
        plans: list[applying.Plan] = []
        if commit(lambda: plans.append(applying.apply_to_programme(programme.id, form.fingerprint.data or "")),
                  problems, stale=RACE, refusals=(FrameworkRefused,)):
            plan = plans[0]
            moved, added = len(plan.moves), len(plan.additions)
            flash(f"{programme.preceptee.name}’s programme now follows the current framework: "
                  f"{moved} milestone{'' if moved == 1 else 's'} updated and {added} added.", "success")
            return redirect(url_for("admin.framework_apply"))
        programme = db.session.get(Preceptorship, programme_id)
    plan = applying.plan_for(programme)
    form = ApplyForm(formdata=None, fingerprint=plan.fingerprint)
    return render_page("admin/framework_apply_programme.html", programme=programme, plan=plan, form=form,
                       problems=problems, status_code=409 if problems else 200)
