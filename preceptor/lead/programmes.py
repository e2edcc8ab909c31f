"""Programme administration, for education leads (their departments; any other programme is
404) and admins (every programme): the searchable list of programmes, and one programme's page,
where it is paused, resumed, extended, completed or its preceptee's leaving recorded, each with
a reason.

The list's filter form is a plain GET form; with htmx it swaps `programme_results` and pushes
the address. On the programme's page each change the status allows is a link (`?action=`) to
its plain form, posted back to the page and redirected with a message once done. The rules and
their messages are the services' (programmes.py, programme_admin.py): a refusal is rolled back
whole and shown beside its field, with what was typed kept.
"""

from datetime import date, timedelta

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..access import lead_scope, role_required
from ..extensions import db
from ..fields import DATE_PARTS, DateParts, chosen_id, posted_number, strip
from ..models import ProgrammeStatus, Role
from ..rendering import render_page
from ..services import programme_admin as service
from ..services import programmes
from ..services.framework_outdated import programmes_to_update
from ..services.programmes import REASON_MAX, ProgrammeRefused
from ..services.scope import open_departments
from ..templating import long_date
from ..transactions import commit
from . import bp

RACE = "Someone else changed this programme at the same time. Check it and try again"


def _scope() -> list[int] | None:
    """Every programme for an admin; a lead's departments otherwise (None: the whole trust)."""
    return None if Role.ADMIN in current_user.roles else lead_scope()


class ChangeForm(FlaskForm):
    """What every change needs: a reason for the history and the audit log."""

    reason = TextAreaField("Reason", filters=[strip], validators=[
        InputRequired("Enter the reason"),
        Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX} characters or fewer")])


class DatedForm(ChangeForm):
    on = DateParts("Date", required_message="Enter the date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on.flags.required = True  # DateParts refuses an empty date only when required


class PauseForm(DatedForm):
    on = DateParts("Paused from", required_message="Enter the date the pause began")


class ResumeForm(DatedForm):
    on = DateParts("Resumed on", required_message="Enter the date the programme resumed")


class ExtendForm(ChangeForm):
    new_end = DateParts("New planned end", required_message="Enter the new planned end")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_end.flags.required = True


class CompleteForm(DatedForm):
    on = DateParts("Completed on", required_message="Enter the date the programme was completed")
    confirm_open = SelectMultipleField("Milestones not signed off", validate_choice=False)

    def open_confirmed(self) -> int:
        """The number of open milestones ticked as confirmed (the box's value), or 0."""
        return max(0, posted_number((self.confirm_open.data or ["0"])[0]))


class LeaveForm(DatedForm):
    on = DateParts("Date they left", required_message="Enter the date they left")
    reason = TextAreaField("Why they left", filters=[strip], validators=[
        InputRequired("Enter why they left"),
        Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX} characters or fewer")])


FORMS = {"pause": PauseForm, "resume": ResumeForm, "extend": ExtendForm, "complete": CompleteForm,
         "leave": LeaveForm}


def _apply(action: str, programme, form, today: date) -> str:
    """Make the change; the message to flash once it is committed."""
    me, name = current_user._get_current_object(), programme.preceptee.name
    if action == "pause":
        programmes.pause(programme, form.on.data, form.reason.data, by=me, today=today)
        return f"{name}'s programme is paused from {long_date(form.on.data)}. Nothing falls overdue while it is paused."
    if action == "resume":
        days = programmes.resume(programme, form.on.data, form.reason.data, by=me, today=today)
        return (f"{name}'s programme resumed on {long_date(form.on.data)}. Open milestones and the planned end "
                f"moved {days} day{'s' if days != 1 else ''} later.")
    if action == "extend":
        moved = programmes.extend(programme, form.new_end.data, form.reason.data, by=me, today=today)
        return (f"{name}'s programme is extended to {long_date(form.new_end.data)}. {moved} open "
                f"milestone{'s' if moved != 1 else ''} moved with the end.")
    if action == "complete":
        service.complete(programme, form.on.data, form.reason.data, by=me, today=today,
                         open_confirmed=form.open_confirmed())
        return f"{name}'s programme is completed on {long_date(form.on.data)}."
    service.record_leaving(programme, form.on.data, form.reason.data, by=me, today=today)
    return f"{name}'s leaving on {long_date(form.on.data)} is recorded. Their programme is closed."


@bp.get("/programmes")
@role_required(Role.EDUCATION_LEAD, Role.ADMIN)
def programmes_list():
    """Programmes in scope, 50 a page: searched and filtered, and swapped in place with htmx."""
    scope = _scope()
    departments = open_departments(scope)
    search = request.args.get("q", "").strip()[:100]
    department_id = chosen_id(request.args.get("department"))
    if department_id not in {d.id for d in departments}:
        department_id = None
    status = request.args.get("status", "")
    if status not in {service.RUNNING, *(s.value for s in ProgrammeStatus)}:
        status = ""
    result = service.find(scope, search, department_id, status, request.args.get("page", 1, type=int))
    chosen = {"q": search, "department": str(department_id) if department_id is not None else "", "status": status}
    return render_page(
        "lead/programmes.html", regions=("programme_results",), result=result, chosen=chosen, whole_trust=scope is None,
        to_update=programmes_to_update(scope),
        filters={key: value for key, value in chosen.items() if value},
        department_options=[("", "All departments"), *((str(d.id), d.full_name) for d in departments)],
        status_options=[("", "All statuses"), (service.RUNNING, "Running (active, paused or extended)"),
                        *((s.value, s.label) for s in ProgrammeStatus)])


def _programme_or_404(programme_id: int, *, lock: bool = False):
    programme = service.programme_in_scope(programme_id, _scope(), lock=lock)
    if programme is None:
        abort(404)
    return programme


def _limits(programme, action: str | None, today: date) -> dict:
    """The dates the chosen form's hints quote, from the rules that check them."""
    paused = programmes.last_change(programme, ProgrammeStatus.PAUSED) if action == "resume" else None
    if paused is not None and programme.status is ProgrammeStatus.PAUSED:
        earliest = paused.effective_on
    else:
        earliest = programmes.earliest_day(programme, today, before_start=action == "leave")[0]
    end = programme.planned_end_date
    return {"today": today, "earliest": earliest, "end_weeks": programmes.END_WEEKS,
            "moves_from": end - timedelta(weeks=programmes.END_WEEKS),
            "latest_end": programmes.add_months(end, programmes.MAX_EXTENSION_MONTHS)}


def _page(programme, action: str | None = None, form=None, problems=(), status_code: int = 200):
    today = date.today()
    return render_page("lead/programme.html", programme=programme, action=action, form=form, problems=problems,
                       today=today, counts=service.milestone_counts(programme, today),
                       open_milestones=service.open_milestone_list(programme),
                       history=service.status_history(programme), current=programme.current_allocation,
                       actions=programmes.allowed_actions(programme), limits=_limits(programme, action, today),
                       lead=Role.EDUCATION_LEAD in current_user.roles, status_code=status_code)


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@role_required(Role.EDUCATION_LEAD, Role.ADMIN)
def programme(programme_id: int):
    """One programme: its dates, preceptor, milestones and status history, and the changes its
    status allows, one form at a time."""
    found = _programme_or_404(programme_id)
    if request.method == "GET":
        action = request.args.get("action")
        if action not in programmes.allowed_actions(found):
            return _page(found)
        return _page(found, action, FORMS[action](formdata=None))

    action = request.form.get("action", "")
    if action not in FORMS:
        abort(400)
    form = FORMS[action]()
    if not form.validate():
        return _page(found, action, form, status_code=400)
    problems: list[str] = []
    done: list[str] = []

    def change():
        locked = _programme_or_404(programme_id, lock=True)
        try:
            done.append(_apply(action, locked, form, date.today()))
        except ProgrammeRefused as refused:
            field = getattr(form, refused.field or "", None)
            if field is not None:
                field.errors = [*field.errors, str(refused)]
                if isinstance(field, DateParts):
                    field.error_parts = DATE_PARTS
            raise

    if commit(change, problems, refusals=(ProgrammeRefused,), stale=RACE):
        flash(done[0], "success")
        return redirect(url_for("lead.programme", programme_id=programme_id))
    db.session.expire_all()
    shown_by_a_field = any(field.errors for field in form)
    return _page(_programme_or_404(programme_id), action, form, problems=() if shown_by_a_field else problems,
                 status_code=400)
