"""The preceptor's protected time: the hours logged in the last 12 months against their
allowance, the entries behind that total, and a form to log more.

With htmx the form posts in place and the total and table redraw themselves (an
`HX-Trigger` event); without JavaScript every action is a POST that redirects back here.
"""

import re
from datetime import date
from decimal import Decimal

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from ..access import role_required
from ..extensions import db, htmx
from ..fields import DATE_PARTS, DateParts, capped, strip
from ..models import PreceptorProfile, ProtectedTime, Role
from ..rendering import render_page
from ..services import protected_time as service
from ..services.protected_time import ProtectedTimeError
from ..templating import hours, long_date
from . import bp, queries

TEMPLATE = "caseload/protected_time.html"
REGIONS = ("time_logged", "log_form")
CHANGED = "protected-time-changed"  # the event the total and table listen for
HOURS = re.compile(r"[0-9]{1,6}(\.[0-9]+)?|\.[0-9]+")


class ProtectedTimeForm(FlaskForm):
    """Parses what was typed; the rules themselves are the service's, shown by each field."""

    occurred_on = DateParts("Date", required_message="Enter the date of the protected time")
    hours = StringField("Hours", filters=[strip], validators=[InputRequired("Enter the hours of protected time"),
                                                              capped(10, "Hours")])
    note = TextAreaField("Note (optional)", filters=[strip], validators=[capped(service.NOTE_MAX, "Note")])

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.occurred_on.flags.required = True  # DateParts refuses an empty date only when required
        self.today = today
        self.hours_value: Decimal | None = None

    def validate_occurred_on(self, field):
        if problem := service.date_problem(field.data, self.today):
            field.error_parts = DATE_PARTS
            raise ValidationError(problem)

    def validate_hours(self, field):
        self.hours_value = Decimal(field.data) if HOURS.fullmatch(field.data or "") else None
        if self.hours_value is None:
            raise ValidationError("Hours must be a number, like 1.5")
        if problem := service.hours_problem(self.hours_value):
            raise ValidationError(problem)

    def validate_note(self, field):
        if problem := service.note_problem(field.data or ""):
            raise ValidationError(problem)


def _wants_region(name: str) -> bool:
    """An htmx request (not a boosted navigation) that targets the region `name`."""
    return bool(htmx) and not htmx.boosted and htmx.target == name


def _described(entry: ProtectedTime) -> str:
    unit = "hour" if entry.hours == 1 else "hours"
    return f"{hours(entry.hours)} {unit} on {long_date(entry.occurred_on)}"


def _page(today: date, form: ProtectedTimeForm | None = None, **extra) -> dict:
    """Everything the page and its regions show (a blank form unless one is given)."""
    entries = service.entries(current_user.id, today)
    return {
        "form": form or ProtectedTimeForm(formdata=None, today=today),
        "logged": queries.protected_hours(current_user.id, today),
        "allowance": service.allowance(db.session.get(PreceptorProfile, current_user.id)),
        "entries": entries,
        "removable": {entry.id for entry in entries if service.removable(entry)},
        "today": today,
        "earliest": service.earliest_date(today),
        "note_max": service.NOTE_MAX,
        **extra,
    }


@bp.route("/protected-time", methods=["GET", "POST"])
@role_required(Role.PRECEPTOR)
def protected_time():
    """Hours logged against the allowance, the entries, and logging more (HCPC principle 4)."""
    today = date.today()
    form = ProtectedTimeForm(today=today)
    if form.validate_on_submit():
        try:
            entry = service.log_time(current_user, form.occurred_on.data, form.hours_value, form.note.data or "",
                                     today=today)
            db.session.commit()
        except ProtectedTimeError as refusal:  # the form checks the same rules: only a race gets here
            db.session.rollback()
            form[refusal.field or "occurred_on"].errors.append(str(refusal))
        else:
            message = f"Protected time logged: {_described(entry)}."
            if _wants_region("log_form"):
                response = render_page(TEMPLATE, regions=REGIONS, **_page(today, saved=message))
                response.headers["HX-Trigger"] = CHANGED
                return response
            flash(message, "success")
            return redirect(url_for("caseload.protected_time"))
    return render_page(TEMPLATE, regions=REGIONS, **_page(today, form))


@bp.post("/protected-time/<int:entry_id>/delete")
@role_required(Role.PRECEPTOR)
def delete_protected_time(entry_id: int):
    """Remove a mistaken entry (own, logged in the last 14 days). Anyone else's id is not found."""
    entry = service.own_entry(current_user.id, entry_id)
    if entry is None:
        abort(404)
    described = _described(entry)
    try:
        service.delete_entry(current_user, entry)
    except ProtectedTimeError as refusal:
        db.session.rollback()
        message, category = str(refusal), "info"
    else:
        db.session.commit()
        message, category = f"Protected time removed: {described}.", "success"
    if _wants_region("time_logged"):
        return render_page(TEMPLATE, regions=REGIONS, **_page(date.today(), message=message))
    flash(message, category)
    return redirect(url_for("caseload.protected_time"))
