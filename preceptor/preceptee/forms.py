"""Forms of the preceptee's area: log entries and sign-off requests."""

from datetime import date
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..fields import DateParts, hidden_cap, strip
from ..models import EntryKind

TEXT_MAX = 5000


def _text(label: str, required: str | None, maximum: int = TEXT_MAX, **kw) -> TextAreaField:
    checks = [InputRequired(required)] if required else [Optional()]
    return TextAreaField(label, filters=[strip], validators=[
        *checks, Length(max=maximum, message=f"{label} must be {maximum:,} characters or fewer")], **kw)


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):  # choices are checked by the service against the owner
        pass


class EntryForm(FlaskForm):
    """One progress log entry. Which fields apply depends on the kind."""

    kind = RadioField("What kind of entry is this?", choices=[SelectChoice(k.value, k.label) for k in EntryKind],
                      validators=[InputRequired("Choose what kind of entry this is")])
    title = StringField("Title", filters=[strip], validators=[
        InputRequired("Enter a title"), Length(max=160, message="Title must be 160 characters or fewer")])
    occurred_on = DateParts("Date", required_message="Enter the date it happened")
    hours = DecimalField("Hours", places=2, validators=[Optional()],
                         render_kw={"inputmode": "decimal"})
    what_happened = _text("What happened?", None)
    so_what = _text("So what?", None)
    now_what = _text("Now what?", None)
    notes = _text("Notes", None)
    milestones = MultiCheckbox("Link as evidence to milestones (optional)", coerce=int, choices=[])

    HOURS_REQUIRED = {EntryKind.CPD.value, EntryKind.PROTECTED_TIME.value}

    def __init__(self, *args, programme_start: date | None = None, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.occurred_on.flags.required = True  # DateParts refuses an empty date only when required
        self.programme_start = programme_start
        self.today = today or date.today()

    def validate_occurred_on(self, field):
        if field.data is None:
            return
        if field.data > self.today:
            raise ValidationError("Date must be today or in the past")
        if self.programme_start and field.data < self.programme_start:
            raise ValidationError(f"Date must be on or after your programme started, "
                                  f"{self.programme_start.day} {self.programme_start:%B %Y}")

    def validate_hours(self, field):  # runs only when hours were typed (Optional stops it otherwise)
        if field.data is None:  # not a number: reported as such in validate()
            return
        if not field.data.is_finite() or not Decimal("0") < field.data <= Decimal("24"):  # "NaN" parses
            raise ValidationError("Hours must be more than 0 and no more than 24")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.hours.errors and self.hours.data is None:
            self.hours.errors[:] = ["Hours must be a number, like 1.5"]
        if self.kind.data in self.HOURS_REQUIRED and self.hours.data is None and not self.hours.errors:
            self.hours.errors.append("Enter the hours spent")
            ok = False
        if self.kind.data == EntryKind.REFLECTION.value:
            for field, message in ((self.what_happened, "Describe what happened"),
                                   (self.so_what, "Say what it meant to you (so what?)"),
                                   (self.now_what, "Say what you will do next (now what?)")):
                if not field.data:
                    field.errors.append(message)
                    ok = False
        elif self.kind.data and not self.notes.data:
            self.notes.errors.append("Enter some notes")
            ok = False
        return ok


class SignOffRequestForm(FlaskForm):
    summary = _text("Summary for your preceptor", None, maximum=2000)
    evidence = MultiCheckbox("Evidence", coerce=int, choices=[])
    action = HiddenField(validators=[hidden_cap()])
    version = HiddenField(validators=[hidden_cap()])
