"""Survey templates: the list of surveys, editing one (a new version once anyone has been
invited with it), and creating one. Plain forms posted and redirected, so they work without
JavaScript; the rules and messages are the service's (preceptor/services/survey_templates.py).
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ..access import role_required
from ..extensions import db
from ..fields import posted_number
from ..models import Role, SurveyTemplate
from ..rendering import render_page
from ..services import survey_templates as service
from ..transactions import commit
from . import bp

EDITORS = (Role.ADMIN, Role.EDUCATION_LEAD)
TEMPLATE = "admin/survey_template_edit.html"


@bp.get("/surveys")
@role_required(*EDITORS)
def survey_templates():
    """Every survey's current version, with how many people it has been sent to and answered by."""
    return render_page("admin/survey_templates.html", templates=service.templates_overview())


def _form(*, template: SurveyTemplate | None, name: str, rows: list[service.PostedQuestion],
          problems: dict[str, str] | None = None, message: str | None = None, purpose: str = "",
          status_code: int = 200):
    """The edit (or create) page, showing `rows` as typed and one blank question to add."""
    invited = service.invitation_count(template) if template is not None else 0
    kept = [row for row in rows if not row.blank]
    return render_page(
        TEMPLATE, survey=template, name=name, rows=kept, purpose=purpose, problems=problems or {},
        message=message, invited=invited,
        adding=service.PostedQuestion(index=max((row.index for row in rows), default=-1) + 1),
        fingerprint=service.fingerprint(template.name, template.questions) if template is not None else "",
        question_types=service.QUESTION_TYPES, purposes=service.PURPOSES, limits=service.LIMITS,
        status_code=status_code)


@bp.route("/surveys/<int:template_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def survey_template_edit(template_id: int):
    """Change a survey's name and questions. An older version's address opens the current one."""
    opened = db.session.get(SurveyTemplate, template_id)
    if opened is None:
        abort(404)
    current = service.current_version(opened.key)
    if current is None:
        abort(404)
    if request.method == "GET":
        if current.id != opened.id:
            return redirect(url_for("admin.survey_template_edit", template_id=current.id))
        return _form(template=current, name=current.name, rows=service.rows_of(current))

    name, rows = service.posted_name(request.form), service.posted_rows(request.form)
    drafts, problems = service.parse_questions(request.form, current)
    if problems:
        return _form(template=current, name=name, rows=rows, problems=problems, status_code=400)
    unchanged = service.fingerprint(name, drafts) == service.fingerprint(current.name, current.questions)
    saved: list[tuple[SurveyTemplate, bool]] = []
    refused: list[str] = []

    def change():
        saved.append(service.save(opened.id, posted_number(request.form.get("version")), name, drafts,
                                  current_user, expected_fingerprint=request.form.get("fingerprint") or None))

    if not commit(change, refused, stale=service.LOST_RACE, refusals=(service.TemplateRefused,)):
        # What was typed stays; the form now carries the current version, so saving it again
        # is a deliberate choice to replace the other person's change.
        return _form(template=service.current_version(opened.key), name=name, rows=rows, message=refused[0],
                     status_code=409)
    template, new_version = saved[0]
    if new_version:
        flash(f"Version {template.version} of “{template.name}” is saved. New invitations get it; answers "
              f"already given stay with version {template.version - 1}.", "success")
    elif unchanged:
        flash(f"Nothing was changed: version {template.version} of “{template.name}” is still current.", "info")
    else:
        flash(f"Version {template.version} of “{template.name}” is saved. Nobody had been invited with it yet, "
              "so it was changed as it is.", "success")
    return redirect(url_for("admin.survey_templates"))


@bp.route("/surveys/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def survey_template_new():
    """A new survey, saved as its version 1."""
    if request.method == "GET":
        return _form(template=None, name="", rows=[])
    name, rows = service.posted_name(request.form), service.posted_rows(request.form)
    purpose, problems = service.parse_purpose(request.form)
    drafts, question_problems = service.parse_questions(request.form)
    problems.update(question_problems)
    if problems:
        return _form(template=None, name=name, rows=rows, problems=problems,
                     purpose=request.form.get("purpose", ""), status_code=400)
    created: list[SurveyTemplate] = []
    refused: list[str] = []
    if not commit(lambda: created.append(service.create(name, purpose, drafts, current_user)), refused,
                  stale=service.LOST_RACE):
        return _form(template=None, name=name, rows=rows, message=refused[0],
                     purpose=request.form.get("purpose", ""), status_code=409)
    flash(f"“{created[0].name}” is saved as version 1.", "success")
    return redirect(url_for("admin.survey_templates"))
