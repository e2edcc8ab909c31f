"""The preceptor books and records meetings with a preceptee: the expected schedule and every
record, and one form that books a meeting for later or records one as held, with notes and
agreed actions. Recording the meeting that is a milestone's substance (initial, review,
mid-point, final) can sign that milestone off in the same commit, when the preceptor ticks it.

Only the programme's current preceptor gets these pages (404 for anyone else). Plain forms
with POST-redirect-GET; refused input comes back with every message and nothing lost.
"""

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import ValidationError

from ..access import role_required
from ..extensions import db
from ..fields import DATE_PARTS, DateParts, capped, hidden_cap, posted_number, strip
from ..models import Meeting, MeetingType, Preceptorship, Role, User
from ..rendering import render_page
from ..services import decisions
from ..services import meetings as service
from ..services.decisions import STALE
from ..services.meetings import MeetingRefused
from ..services.signoff_requests import SignOffRefused
from ..templating import long_date
from . import bp, queries

HELD = [SelectChoice("yes", "Yes, record it"), SelectChoice("no", "No, book it for later")]
TYPES = [SelectChoice(kind.value, kind.label) for kind in MeetingType]


class ActionForm(Form):
    """One agreed action; labels are numbered per row by `MeetingForm`."""

    description = StringField(filters=[strip], validators=[capped(service.ACTION_MAX, "Action")])
    owner = RadioField(validate_choice=False)  # the service checks who may own an action
    due_on = DateParts()

    @property
    def typed(self) -> bool:
        return bool(self.description.data or self.owner.data or any(self.due_on.parts.values()))


class MeetingForm(FlaskForm):
    """Parses what was typed; the meeting rules are the service's, shown beside each field.
    `held_already`: correcting a held meeting, so "has it happened?" is not asked."""

    meeting_type = RadioField("Type of meeting", choices=TYPES, validate_choice=False)
    held = RadioField("Has this meeting happened?", choices=HELD, validate_choice=False)
    on = DateParts("Date of the meeting", required_message="Enter the date of the meeting")
    notes = TextAreaField("Notes (optional)", filters=[strip], validators=[capped(service.NOTES_MAX, "Notes")])
    actions = FieldList(FormField(ActionForm), min_entries=service.MAX_ACTIONS, max_entries=service.MAX_ACTIONS)
    sign_off = SelectMultipleField(choices=TYPES, validate_choice=False)  # the type whose milestone to sign off
    # of the meeting being changed: a second tab's older copy is refused
    version = HiddenField(validators=[hidden_cap()])

    def __init__(self, *args, held_already: bool = False, owners: list[SelectChoice] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.held_already = held_already
        self.on.flags.required = True  # DateParts refuses an empty date only when required
        for n, row in enumerate(self.action_forms, 1):
            row.description.label.text = f"Action {n}: what was agreed"
            row.description.validators = [capped(service.ACTION_MAX, f"Action {n}")]  # numbered as the page shows
            row.owner.label.text = f"Who will do action {n}?"
            row.owner.choices = list(owners)
            row.due_on.label.text = f"Due date for action {n}"

    @property
    def action_forms(self) -> list[ActionForm]:
        """The rows' own forms (a FormField's `description` would be the field's, not the row's)."""
        return [entry.form for entry in self.actions]

    @property
    def recording(self) -> bool:
        return self.held_already or self.held.data == "yes"

    @property
    def chosen_type(self) -> MeetingType:
        return MeetingType(self.meeting_type.data)

    def validate_meeting_type(self, field):
        if field.data not in {kind.value for kind in MeetingType}:
            raise ValidationError("Select the type of meeting")

    def validate_held(self, field):
        if self.held_already:
            return
        if field.data not in ("yes", "no"):
            raise ValidationError("Select whether the meeting has happened")
        if field.data == "no" and (self.notes.data or any(row.typed for row in self.action_forms)):
            raise ValidationError("Notes and agreed actions are for a meeting that has happened: select ‘Yes’ "
                                  "to record it, or clear them to book it for later")

    def action_rows(self) -> list[service.ActionRow]:
        return [(row.description.data or "", _user_id(row.owner.data), row.due_on.data) for row in self.action_forms]

    def confirms_sign_off(self) -> bool:
        return self.recording and self.meeting_type.data in (self.sign_off.data or [])

    def summary_fields(self) -> list:
        """Every input, each action row's included, in page order for the error summary."""
        return [field for field in self if field.name != "actions"] + [f for row in self.action_forms for f in row]

    def show(self, refusal: MeetingRefused) -> list[str]:
        """Put the service's messages beside their fields; returns those about the whole form."""
        general = []
        for name, message in refusal.problems:
            field = self._field_named(name)
            if field is None:
                general.append(message)
                continue
            field.errors.append(message)
            if isinstance(field, DateParts):
                field.error_parts = DATE_PARTS
        return general

    def _field_named(self, name: str | None):
        if name and name.startswith("actions-"):
            _, index, part = name.split("-", 2)
            return self.action_forms[int(index)][part]
        return self[name] if name in self else None


def _user_id(value) -> int | None:
    if not value:
        return None
    return posted_number(value)  # a number, or -1 for anything tampered with: the service refuses it


def _posted():
    """The posted fields, less any whose name is not plain ASCII: WTForms reads a row number
    out of `actions-<n>-...` and would fail on a digit such as "²"."""
    return MultiDict([(key, value) for key, value in request.form.items(multi=True) if key.isascii()])


def _owners(programme: Preceptorship, meeting: Meeting | None) -> list[SelectChoice]:
    """The preceptee and the preceptor, and anyone who already owns one of the meeting's actions."""
    choices = [SelectChoice(str(programme.preceptee_id), f"{programme.preceptee.name} (preceptee)"),
               SelectChoice(str(current_user.id), "You (preceptor)")]
    for owner_id in sorted({a.owner_id for a in (meeting.actions if meeting else [])}
                           - {programme.preceptee_id, current_user.id, None}):
        choices.append(SelectChoice(str(owner_id), getattr(db.session.get(User, owner_id), "name", "Someone else")))
    return choices


def _saved(meeting: Meeting) -> dict:
    """A meeting as the form's data, to show it for recording or correcting."""
    held = meeting.held_on is not None or meeting.scheduled_for <= date.today()
    return {
        "meeting_type": meeting.meeting_type.value, "held": "yes" if held else None,
        "on": meeting.held_on or meeting.scheduled_for, "notes": meeting.notes,
        "actions": [{"description": a.description, "owner": str(a.owner_id) if a.owner_id else None,
                     "due_on": a.due_on} for a in meeting.actions],
    }


@bp.get("/preceptees/<int:programme_id>/meetings")
@role_required(Role.PRECEPTOR)
def meetings(programme_id: int):
    """The meetings the programme should have, how far they are met, and every record."""
    programme = queries.current_programme_or_404(programme_id, current_user.id)
    recorded = service.meetings_of(programme.id)
    return render_page("caseload/meetings.html", programme=programme, recorded=recorded, today=date.today(),
                       expected=service.schedule(programme, recorded))


def _meeting_form(programme: Preceptorship, meeting: Meeting | None):
    form = MeetingForm(formdata=_posted() if request.method == "POST" else None,
                       data=_saved(meeting) if meeting and request.method == "GET" else None,
                       held_already=meeting is not None and meeting.held_on is not None,
                       owners=_owners(programme, meeting))
    if meeting is None and request.method == "GET" and request.args.get("type") in {t.value for t in MeetingType}:
        form.meeting_type.data = request.args["type"]  # from a row of the schedule
    if meeting is not None and request.method == "GET":
        form.version.data = meeting.version
    problems = []
    if form.validate_on_submit():
        try:
            if meeting is not None and posted_number(form.version.data) != meeting.version:
                raise StaleDataError()
            message = _save(programme, meeting, form)
            db.session.commit()
        except MeetingRefused as refusal:
            db.session.rollback()
            problems = form.show(refusal)
        except SignOffRefused as refusal:
            db.session.rollback()
            problems = [str(refusal)]
        except (StaleDataError, IntegrityError):
            db.session.rollback()
            problems = [STALE]
            if meeting is not None:  # what is typed stays; saving it again is now deliberate
                db.session.refresh(meeting)
                form.version.data = meeting.version
        else:
            flash(message, "success")
            return redirect(url_for("caseload.meetings", programme_id=programme.id))
    return render_page("caseload/meeting_form.html", form=form, programme=programme, meeting=meeting,
                       problems=problems, completable=service.completable_milestones(programme),
                       notes_max=service.NOTES_MAX, action_max=service.ACTION_MAX)


def _save(programme: Preceptorship, meeting: Meeting | None, form: MeetingForm) -> str:
    """Book or record, and sign off the matching milestone when confirmed: one transaction.
    Returns the message for the preceptor."""
    if not form.recording:
        meeting = service.book(programme, current_user, form.chosen_type, form.on.data, meeting=meeting)
        return f"{meeting.meeting_type.label} booked for {long_date(meeting.scheduled_for)}."
    meeting = service.record(meeting, programme, current_user, meeting_type=form.chosen_type,
                             held_on=form.on.data, notes=form.notes.data or "", actions=form.action_rows())
    message = f"{meeting.meeting_type.label} on {long_date(meeting.held_on)} recorded."
    milestone = service.completable_milestone(programme, meeting.meeting_type) if form.confirms_sign_off() else None
    if milestone is not None:
        decisions.sign_off_at_meeting(milestone, current_user, meeting)
        message += f" “{milestone.title}” is signed off."
    return message


@bp.route("/preceptees/<int:programme_id>/meetings/new", methods=["GET", "POST"])
@role_required(Role.PRECEPTOR)
def new_meeting(programme_id: int):
    """Book a meeting for later or record one that has happened; `?type=` chooses its type."""
    return _meeting_form(queries.current_programme_or_404(programme_id, current_user.id), None)


@bp.route("/preceptees/<int:programme_id>/meetings/<int:meeting_id>", methods=["GET", "POST"])
@role_required(Role.PRECEPTOR)
def edit_meeting(programme_id: int, meeting_id: int):
    """Record a booked meeting as held (or move it), or correct the record of a held one."""
    programme = queries.current_programme_or_404(programme_id, current_user.id)
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or meeting.preceptorship_id != programme.id:
        abort(404)
    return _meeting_form(programme, meeting)
