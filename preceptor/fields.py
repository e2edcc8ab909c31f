"""Form fields shared across areas: the NHS.UK date input (day, month and year boxes), the
filter that trims typed text, and the length caps every text field carries."""

import re
from datetime import date

from markupsafe import Markup
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import Length, StopValidation, ValidationError

DATE_PARTS = ("day", "month", "year")


DATABASE_INT_MAX = 2**31 - 1


def posted_number(value) -> int:
    """A number posted back by a form (a version, an id); anything else is -1, which matches
    nothing, so a tampered field is refused rather than failing. ASCII digits only: "²" is a
    digit to Python but not a number to int()."""
    text = str(value or "")
    if text.isascii() and text.isdigit() and int(text) <= DATABASE_INT_MAX:
        return int(text)
    return -1


def chosen_id(value) -> int | None:
    """An id chosen in a form or a query string, or None for blank or anything else."""
    number = posted_number(value)
    return None if number < 0 else number


def strip(value):
    """A WTForms filter: surrounding spaces are not part of what someone meant to type. A
    browser posts a text area's line breaks as CRLF but counts each as one character against
    `maxlength`; keeping LF makes the server count what the browser counted."""
    return value.strip().replace("\r\n", "\n") if isinstance(value, str) else value


class Cap(Length):
    """A length cap that ends the field's checks when broken: nothing else said about text that
    is too long helps, and a huge value should not reach slower checks (a password hash)."""

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except ValidationError as error:
            raise StopValidation(str(error)) from error


def capped(maximum: int, label: str) -> Cap:
    """A text field's length cap, with the NHS.UK message ("Summary must be 2,000 characters or
    fewer"). It also sets the field's `maxlength` flag, which the form macros render."""
    return Cap(max=maximum, message=f"{label} must be {maximum:,} characters or fewer")


HIDDEN_MAX = 200  # a hidden field carries a version, a fingerprint or a key: never more


def hidden_cap(maximum: int = HIDDEN_MAX) -> Cap:
    """The cap on a hidden field: only a tampered request goes over it."""
    return Cap(max=maximum, message="The form was changed before it was sent. Reload the page and try again")


class DateParts(Field):
    """A date typed as three boxes, posted as `<name>[day]`, `<name>[month]`, `<name>[year]`
    (the NHS.UK date input's names). Rendered by `date_input` in templates/macros/forms.html.

    `parts` keeps exactly what was typed, so a bad date is shown back as entered;
    `error_parts` names the boxes to highlight. All three empty is no date, which is an error
    only when the field is marked required. The field's id is the day box's, so the error
    summary links to the first box. Messages follow the NHS.UK pattern.
    """

    def __init__(self, label=None, validators=None, required_message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        if "id" not in kwargs:
            self.id = f"{self.name}-day"
        self.required_message = required_message
        self.parts = dict.fromkeys(DATE_PARTS, "")
        self.error_parts: tuple[str, ...] = ()

    @property
    def plain_label(self) -> str:
        return self.label.text.replace(" (optional)", "")

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = self.data = data if isinstance(data, date) else None
        if self.data is not None:
            self.parts = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
        if formdata is not None and any(f"{self.name}[{part}]" in formdata for part in DATE_PARTS):
            self.parts = {part: (formdata.get(f"{self.name}[{part}]") or "").strip()[:10] for part in DATE_PARTS}
            self.data = None

    def _fail(self, message: str, *parts: str):
        self.error_parts = parts or DATE_PARTS
        raise StopValidation(message)

    def pre_validate(self, form):
        if not any(self.parts.values()):
            if self.data is None and self.flags.required:
                self._fail(self.required_message or f"Enter {self.plain_label.lower()}")
            return
        missing = [part for part in DATE_PARTS if not self.parts[part]]
        if missing:
            self._fail(f"{self.plain_label} must include a {' and '.join(missing)}", *missing)
        bad = [part for part in DATE_PARTS if not re.fullmatch(r"[0-9]+", self.parts[part])]
        if bad:
            self._fail(f"{self.plain_label} must be a real date, using numbers only", *bad)
        if len(self.parts["year"]) != 4:
            self._fail("Year must include 4 numbers", "year")
        try:
            self.data = date(int(self.parts["year"]), int(self.parts["month"]), int(self.parts["day"]))
        except ValueError:
            self._fail(f"{self.plain_label} must be a real date")

    def _value(self):
        return self.parts

    def __call__(self, **kwargs):  # rendered through the NHS.UK macro, never on its own
        return Markup("")
