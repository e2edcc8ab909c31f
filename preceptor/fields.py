"""Form fields shared across areas: the NHS.UK date input (day, month and year boxes)."""

from datetime import date

from markupsafe import Markup
from wtforms import Field


class DateParts(Field):
    """A date typed as three boxes named `<name>-day`, `<name>-month`, `<name>-year`.

    Keeps exactly what was typed (so a bad date is shown back as entered) and explains
    what is wrong in the NHS.UK style: missing parts, not a real date, a 2-digit year.
    """

    def __init__(self, label=None, validators=None, required_message: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required_message = required_message or f"Enter {str(label).lower()}"
        self.parts = {"day": "", "month": "", "year": ""}
        self.part_errors: set[str] = set()

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.data = data if data is not None else self.default
        if isinstance(self.data, date):
            self.parts = {"day": str(self.data.day), "month": str(self.data.month), "year": str(self.data.year)}
        if formdata is not None and any(f"{self.name}-{p}" in formdata for p in self.parts):
            self.parts = {p: (formdata.get(f"{self.name}-{p}") or "").strip()[:10] for p in self.parts}
            self.data = self._parse()

    def _parse(self) -> date | None:
        missing = [p for p, v in self.parts.items() if not v]
        if len(missing) == 3:
            return None
        if missing:
            self.part_errors = set(missing)
            self.process_errors.append(f"{self.label.text} must include a {' and '.join(missing)}")
            return None
        if not all(v.isdigit() for v in self.parts.values()):
            self.part_errors = {p for p, v in self.parts.items() if not v.isdigit()}
            self.process_errors.append(f"{self.label.text} must be a real date, using numbers")
            return None
        if len(self.parts["year"]) != 4:
            self.part_errors = {"year"}
            self.process_errors.append("Year must include 4 numbers")
            return None
        try:
            return date(int(self.parts["year"]), int(self.parts["month"]), int(self.parts["day"]))
        except ValueError:
            self.part_errors = {"day", "month", "year"}
            self.process_errors.append(f"{self.label.text} must be a real date")
            return None

    def pre_validate(self, form):
        if self.data is None and not self.process_errors and self.flags.required:
            self.part_errors = {"day", "month", "year"}
            raise ValueError(self.required_message)

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""

    def __call__(self, **kwargs):  # rendered through the NHS.UK macro, see macros/forms.html
        return Markup("")
