"""Merging a department into another, for administrators: choose the department to merge it
into, read the preview (what moves, per table, and the warnings), then confirm.

Choosing is a GET form (`?into=<id>`): the preview changes nothing, so it can be reloaded and
linked. Confirming is a POST carrying the preview's fingerprint; if the counts have changed
since, nothing is merged and the new preview is shown to confirm again (409). The rules and
the move itself are services/department_merge.py's.
"""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from ..access import role_required
from ..extensions import db
from ..fields import chosen_id
from ..models import Department, Role
from ..rendering import render_page
from ..services import department_merge as service
from ..services.departments import DepartmentsRefused
from ..services.scope import open_departments
from ..transactions import commit
from . import bp
from .departments import department_or_404

TEMPLATE = "admin/department_merge.html"
RACE = ("Someone else changed these departments at the same time, so nothing was merged. "
        "Check the preview and confirm again.")


def _target(value) -> Department | None:
    target_id = chosen_id(value)
    return db.session.get(Department, target_id) if target_id is not None else None


def _page(source: Department, *, chosen: str = "", preview: service.MergePreview | None = None,
          error: str | None = None, problems: list[str] | None = None, status_code: int = 200):
    targets = [d for d in open_departments(None) if d.id != source.id]
    return render_page(TEMPLATE, source=source, preview=preview, chosen=chosen, error=error, problems=problems or [],
                       items=[{"value": "", "text": "Choose a department"},
                              *({"value": str(d.id), "text": d.full_name} for d in targets)],
                       status_code=status_code)


@bp.route("/departments/<int:department_id>/merge", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def department_merge(department_id: int):
    """Choose, preview (GET with `into`), and confirm (POST) merging this department into another."""
    source = department_or_404(department_id)
    chosen = (request.form if request.method == "POST" else request.args).get("into", "")
    if request.method == "GET" and "into" not in request.args:
        return _page(source)
    target = _target(chosen)
    if request.method == "GET":
        try:
            return _page(source, chosen=chosen, preview=service.preview(source, target))
        except DepartmentsRefused as refused:
            return _page(source, chosen=chosen, **_refusal(refused), status_code=400)

    caught: list[DepartmentsRefused] = []
    merged: list[service.MergePreview] = []

    def change():
        try:
            merged.append(service.merge(source, target, request.form.get("fingerprint", ""),
                                        current_user._get_current_object()))
        except DepartmentsRefused as refused:
            caught.append(refused)
            raise

    messages: list[str] = []
    if commit(change, messages, stale=RACE, refusals=(DepartmentsRefused,)):
        done = merged[0]
        flash(f"{done.source.full_name} is merged into {done.target.full_name}: {done.moved} records moved. "
              f"It is archived and kept as history.", "success")
        return redirect(url_for("admin.department", department_id=done.target.id))
    source = db.session.get(Department, department_id)  # rolled back: read it afresh
    if caught and isinstance(caught[0], service.MergeStale):  # the counts as they are now, to confirm again
        return _page(source, chosen=chosen, preview=caught[0].preview, problems=[str(caught[0])], status_code=409)
    if caught:
        return _page(source, chosen=chosen, **_refusal(caught[0]), status_code=400)
    return _page(source, chosen=chosen, problems=messages, status_code=409)


def _refusal(refused: DepartmentsRefused) -> dict:
    """A refusal about the chosen department goes beside the field; any other, at the top."""
    return {"error": str(refused)} if refused.field == "into" else {"problems": [str(refused)]}
