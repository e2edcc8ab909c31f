"""Modality checklists (CT, MRI, ...), for administrators: the list with a form to create one,
and one checklist's page to rename, archive (which retires its milestones) or restore it.
Which milestones belong to a checklist is set on each milestone's edit form; which
departments use it, on the department's page. Plain forms, posted and redirected."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ..access import role_required
from ..extensions import db
from ..models import Checklist, Role
from ..rendering import render_page
from ..services import framework_checklists as service
from ..services.framework_editor import FrameworkRefused
from ..transactions import commit
from . import bp
from .framework_forms import ChecklistForm

RACE = "Someone else saved a checklist with this name at the same time. Nothing was saved."


@bp.route("/framework/checklists", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def checklists():
    """Every checklist, and a form to create one."""
    form = ChecklistForm() if request.method == "POST" else ChecklistForm(formdata=None)
    problems: list[str] = []
    if request.method == "POST":
        name = form.name.data or ""
        problem = service.checklist_name_problem(name)
        if problem:
            form.name.errors = [problem]
        else:
            created: list[Checklist] = []
            if commit(lambda: created.append(service.create_checklist(name, current_user)), problems, stale=RACE,
                      refusals=(FrameworkRefused,)):
                flash(f"The “{created[0].name}” checklist is created. Add its milestones, then link it to the "
                      "departments that use it.", "success")
                return redirect(url_for("admin.checklist", checklist_id=created[0].id))
    return render_page("admin/checklists.html", form=form, problems=problems, summaries=service.checklist_summaries(),
                       status_code=400 if request.method == "POST" else 200)


def _checklist_page(checklist: Checklist, form: ChecklistForm, *, confirm: bool = False,
                    problems: list[str] | None = None, status_code: int = 200):
    return render_page("admin/checklist.html", checklist=checklist, form=form, confirm=confirm,
                       problems=problems or [], milestones=service.checklist_milestones(checklist),
                       departments=service.checklist_departments(checklist), status_code=status_code)


@bp.route("/framework/checklists/<int:checklist_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def checklist(checklist_id: int):
    """One checklist: its milestones and departments; rename, archive (after a confirmation) or restore."""
    found = db.session.get(Checklist, checklist_id)
    if found is None:
        abort(404)
    if request.method == "GET":
        return _checklist_page(found, ChecklistForm(formdata=None, name=found.name),
                               confirm=request.args.get("confirm") == "archive" and found.archived_at is None)
    action = request.form.get("action")
    form = ChecklistForm() if action == "rename" else ChecklistForm(formdata=None, name=found.name)
    if action == "rename":
        problem = service.checklist_name_problem(form.name.data or "", found)
        if problem:
            form.name.errors = [problem]
            return _checklist_page(found, form, status_code=400)
    me = current_user._get_current_object()
    actions = {"rename": lambda: service.rename_checklist(found, form.name.data, me),
               "archive": lambda: service.archive_checklist(found, me),
               "restore": lambda: service.restore_checklist(found, me)}
    if action not in actions:
        abort(400)
    outcome: list = []
    problems: list[str] = []
    if not commit(lambda: outcome.append(actions[action]()), problems, stale=RACE, refusals=(FrameworkRefused,)):
        return _checklist_page(db.session.get(Checklist, checklist_id), form, problems=problems, status_code=409)
    if action == "rename":
        flash(f"The checklist is renamed “{found.name}”." if outcome[0] else "Nothing was changed.",
              "success" if outcome[0] else "info")
    elif action == "archive":
        retired = len(outcome[0])
        also = (f" and its {retired} milestone{'' if retired == 1 else 's'} retired: new programmes no longer get "
                "them. Running programmes keep theirs." if retired else ".")
        flash(f"“{found.name}” is archived{also}", "success")
    else:
        flash(f"“{found.name}” is in use again. Restore the milestones you want from the framework page.", "success")
    return redirect(url_for("admin.checklist", checklist_id=found.id))
