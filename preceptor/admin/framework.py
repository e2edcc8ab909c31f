"""The milestone framework: the current framework in groups, one milestone's versions, and
editing, adding, retiring and restoring milestones.

Administrators manage the framework. Education leads may read it (the framework page and
each milestone's history, without edit controls) and apply its changes to running
programmes in their departments (framework_apply.py). Modality checklists are in
checklists.py. Every form is a plain form, posted and redirected, so it works without
JavaScript; the rules and messages are the service's (services/framework_editor.py).
"""

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ..access import lead_scope, role_required
from ..extensions import db
from ..fields import chosen_id, posted_number
from ..models import Checklist, Department, MilestoneTemplate, Principle, Role
from ..rendering import render_page
from ..services import framework_editor as editor
from ..services import framework_outdated as outdated
from ..services import framework_overview as overview
from ..services.framework_editor import FrameworkRefused
from ..services.scope import open_departments
from ..transactions import commit
from . import bp
from .framework_forms import MilestoneForm, ReasonForm, principle_items

VIEWERS = (Role.ADMIN, Role.EDUCATION_LEAD)


def viewer_scope() -> list[int] | None:
    """The departments whose programmes the viewer sees: all for an administrator, else the lead's."""
    return None if Role.ADMIN in current_user.roles else lead_scope()


def can_edit() -> bool:
    return Role.ADMIN in current_user.roles


@bp.get("/framework")
@role_required(*VIEWERS)
def framework():
    """The current framework: groups of milestones, retired ones, and the five principles."""
    scope = viewer_scope()
    return render_page("admin/framework.html", framework=overview.framework(scope), can_edit=can_edit(),
                       to_update=outdated.programmes_to_update(scope))


def _milestone_page(history: overview.MilestoneHistory, form: ReasonForm, *, confirm: bool = False,
                    problems: list[str] | None = None, status_code: int = 200):
    latest = history.latest
    checklist = db.session.get(Checklist, latest.checklist_id) if latest.checklist_id else None
    return render_page(
        "admin/framework_milestone.html", history=history, milestone=latest, form=form, confirm=confirm,
        problems=problems or [], can_edit=can_edit(), due=overview.due_words(latest.due_offset_days),
        applies_to=overview.scope_words(latest.scope_profession, latest.scope_department_id,
                                        overview.departments_by_id()),
        checklist=checklist, status_code=status_code)


@bp.get("/framework/milestones/<key>")
@role_required(*VIEWERS)
def framework_milestone(key: str):
    """One milestone: its version now, and every version with what changed and who saved it."""
    history = overview.milestone_history(key, viewer_scope())
    if history is None:
        abort(404)
    form = ReasonForm(formdata=None)
    form.version.data = str(history.latest.version)
    confirm = request.args.get("confirm") == "retire" and can_edit() and history.current is not None
    return _milestone_page(history, form, confirm=confirm)


@bp.post("/framework/milestones/<key>/retire")
@role_required(Role.ADMIN)
def framework_retire(key: str):
    """Retire a milestone (with a reason): new programmes no longer get it."""
    history = overview.milestone_history(key, viewer_scope())
    if history is None:
        abort(404)
    form = ReasonForm()
    problem = editor.reason_problem(form.reason.data or "")
    if problem:
        form.reason.errors = [problem]
        return _milestone_page(history, form, confirm=True, status_code=400)
    refused: list[str] = []
    if not commit(lambda: editor.retire(key, posted_number(form.version.data), form.reason.data, current_user),
                  refused, stale=editor.LOST_RACE, refusals=(FrameworkRefused,)):
        return _milestone_page(overview.milestone_history(key, viewer_scope()), form, problems=refused, status_code=409)
    flash(f"“{history.latest.title}” is retired: new programmes no longer get it. Running programmes keep theirs.",
          "success")
    return redirect(url_for("admin.framework_milestone", key=key))


def _edit_page(form: MilestoneForm, template: MilestoneTemplate | None, *, problems: list[str] | None = None,
               status_code: int = 200):
    """The edit form (or the add form when `template` is None), with the choices it offers."""
    departments = open_departments(None)
    in_use = list(db.session.scalars(sa.select(Checklist).where(Checklist.archived_at.is_(None))
                                     .order_by(Checklist.name)))
    if template is not None and template.scope_department_id and all(
            d.id != template.scope_department_id for d in departments):
        departments.append(db.session.get(Department, template.scope_department_id))
    if template is not None and template.checklist is not None and template.checklist not in in_use:
        in_use.append(template.checklist)
    form.set_choices(departments, in_use)
    principles = list(db.session.scalars(sa.select(Principle).order_by(Principle.id)))
    return render_page("admin/framework_edit.html", form=form, milestone=template, problems=problems or [],
                       principle_items=principle_items(principles), limits=editor, status_code=status_code)


def _read(form: MilestoneForm) -> editor.MilestoneDraft | None:
    """The posted draft, or None with every problem set on its field."""
    draft = form.draft()
    for field, message in (editor.problems(draft) if draft is not None else {}).items():
        getattr(form, field).errors = [message]
    return None if form.errors else draft


@bp.route("/framework/milestones/<key>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def framework_edit(key: str):
    """Change a milestone: saving makes a new version for new programmes. For a retired
    milestone this restores it (as it was, or changed)."""
    latest = editor.latest_template(key)
    if latest is None:
        abort(404)
    if request.method == "GET":
        form = MilestoneForm(formdata=None)
        form.fill_from(latest)
        return _edit_page(form, latest)
    form = MilestoneForm()
    draft = _read(form)
    if draft is None:
        return _edit_page(form, latest, status_code=400)
    # The form says which it was opened for: a milestone retired (or restored) meanwhile is then
    # refused by the service as stale, never silently restored (or edited).
    restoring = request.form.get("mode") == "restore"
    saved: list[MilestoneTemplate | None] = []
    refused: list[str] = []
    save = editor.restore if restoring else editor.save
    if not commit(lambda: saved.append(save(key, posted_number(form.version.data), draft, current_user)), refused,
                  stale=editor.LOST_RACE, refusals=(FrameworkRefused,)):
        now = editor.latest_template(key)
        form.version.data = str(now.version)  # what is typed stays; saving it again is now a deliberate choice
        return _edit_page(form, now, problems=refused, status_code=409)
    template = saved[0]
    if template is None:
        flash(f"Nothing was changed: version {latest.version} of “{latest.title}” is still current.", "info")
    elif restoring:
        flash(f"“{template.title}” is restored as version {template.version}: new programmes get it again.", "success")
    else:
        flash(f"Version {template.version} of “{template.title}” is saved. New programmes get it; running programmes "
              f"keep version {latest.version} until the change is applied to them.", "success")
    return redirect(url_for("admin.framework_milestone", key=key))


@bp.route("/framework/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def framework_new():
    """Add a milestone to the framework (optionally straight into a checklist: `?checklist=<id>`)."""
    if request.method == "GET":
        form = MilestoneForm(formdata=None)
        checklist_id = chosen_id(request.args.get("checklist"))
        form.checklist.data = str(checklist_id) if checklist_id else ""
        return _edit_page(form, None)
    form = MilestoneForm()
    draft = _read(form)
    if draft is None:
        return _edit_page(form, None, status_code=400)
    added: list[MilestoneTemplate] = []
    refused: list[str] = []
    if not commit(lambda: added.append(editor.add(draft, current_user)), refused, stale=editor.LOST_RACE,
                  refusals=(FrameworkRefused,)):
        return _edit_page(form, None, problems=refused, status_code=409)
    flash(f"“{added[0].title}” is added to the framework. New programmes get it; running programmes get it when "
          "the change is applied to them.", "success")
    return redirect(url_for("admin.framework_milestone", key=added[0].key))


from . import checklists, framework_apply  # noqa: E402,F401  (the framework's other pages)
