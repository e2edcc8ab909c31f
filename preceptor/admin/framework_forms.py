"""Forms of the framework editor. They read what was typed into a `MilestoneDraft`; the
framework's rules and messages are the service's (services/framework_editor.problems)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField

from ..fields import capped, chosen_id, hidden_cap, posted_number, strip
from ..models import Checklist, Department, MilestoneTemplate, Principle, Profession
from ..services.framework_checklists import CHECKLIST_NAME_MAX
from ..services.framework_editor import (
    GUIDANCE_MAX,
    OFFSET_MAX_DAYS,
    OFFSET_MAX_WEEKS,
    REASON_MAX,
    TITLE_MAX,
    MilestoneDraft,
)

EVERYONE = "everyone"


def scope_value(profession: Profession | None, department_id: int | None) -> str:
    """The "applies to" choice for a scope: everyone, profession:<name> or department:<id>."""
    if department_id is not None:
        return f"department:{department_id}"
    if profession is not None:
        return f"profession:{profession.value}"
    return EVERYONE


class MilestoneForm(FlaskForm):
    """A milestone's title, guidance, due offset (in weeks or days), principles, who it applies to
    and its checklist. `version` is the version the form was opened at."""

    title = StringField("Title", filters=[strip], validators=[capped(TITLE_MAX, "Title")])
    guidance = TextAreaField("Guidance (optional)", filters=[strip], validators=[capped(GUIDANCE_MAX, "Guidance")])
    due = StringField("Due", filters=[strip], validators=[capped(10, "Due")])
    due_unit = RadioField("Counted in", choices=[SelectChoice("weeks", "Weeks after the start"),
                                                      SelectChoice("days", "Days after the start")],
                          default="weeks", validate_choice=False)
    principles = SelectMultipleField("HCPC principles", validate_choice=False)
    applies_to = SelectField("Who it applies to", validate_choice=False, default=EVERYONE)
    checklist = SelectField("Modality checklist", validate_choice=False, default="")
    version = HiddenField(validators=[hidden_cap()])

    def fill_from(self, template: MilestoneTemplate) -> None:
        """Show a saved version (the form was not posted)."""
        self.title.data, self.guidance.data = template.title, template.guidance or ""
        days = template.due_offset_days
        weeks = days % 7 == 0
        self.due.data, self.due_unit.data = str(days // 7 if weeks else days), "weeks" if weeks else "days"
        self.principles.data = [str(p.id) for p in template.principles]
        self.applies_to.data = scope_value(template.scope_profession, template.scope_department_id)
        self.checklist.data = str(template.checklist_id) if template.checklist_id else ""
        self.version.data = str(template.version)

    def offset_days(self) -> int | None:
        """The due offset in days, or None (with the field's error set) if it is not one."""
        number = posted_number(self.due.data)
        weeks = self.due_unit.data != "days"
        top = OFFSET_MAX_WEEKS if weeks else OFFSET_MAX_DAYS
        if not self.due.data:
            self.due.errors = ["Enter when it is due, as a number of weeks or days after the start"]
        elif number < 0 or number > top:
            self.due.errors = [f"Due must be a whole number of {'weeks' if weeks else 'days'} from 0 to {top:,}"]
        else:
            return number * 7 if weeks else number
        return None

    def draft(self) -> MilestoneDraft | None:
        """What was typed as a draft, or None with field errors set for what cannot be read."""
        offset = self.offset_days()
        profession, department_id = None, None
        choice = self.applies_to.data or ""
        kind, _, value = choice.partition(":")
        if kind == "profession" and value in {p.value for p in Profession}:
            profession = Profession(value)
        elif kind == "department" and chosen_id(value) is not None:
            department_id = chosen_id(value)
        elif choice != EVERYONE:
            self.applies_to.errors = ["Choose who this milestone applies to"]
        checklist_id = chosen_id(self.checklist.data)
        if self.checklist.data and checklist_id is None:
            self.checklist.errors = ["Choose a checklist that is in use, or none"]
        if offset is None or self.applies_to.errors or self.checklist.errors:
            return None
        ids = sorted({posted_number(v) for v in self.principles.data or []})
        return MilestoneDraft(title=self.title.data or "", guidance=self.guidance.data or "", due_offset_days=offset,
                              principle_ids=tuple(ids), scope_profession=profession,
                              scope_department_id=department_id, checklist_id=checklist_id)

    def set_choices(self, departments: list[Department], checklists: list[Checklist]) -> None:
        """Open departments and checklists, and the one the milestone has now even if archived,
        so the form shows what is saved."""
        self.applies_to.choices = [
            SelectChoice(EVERYONE, "Everyone"),
            *(SelectChoice(f"profession:{p.value}", p.label) for p in Profession),
            *(SelectChoice(f"department:{d.id}", d.full_name + (" (archived)" if d.archived_at else ""))
              for d in departments)]
        self.checklist.choices = [
            SelectChoice("", "None: a core milestone"),
            *(SelectChoice(str(c.id), c.name + (" (archived)" if c.archived_at else "")) for c in checklists)]


def principle_items(principles: list[Principle]) -> list[dict]:
    """Checkbox items for the five principles, each with the HCPC's name and our note."""
    return [{"value": str(p.id), "text": f"{p.id}. {p.name}", "hint": {"text": p.summary}} for p in principles]


class ReasonForm(FlaskForm):
    """Retiring a milestone: why, and the version the page showed."""

    reason = TextAreaField("Why is it being retired?", filters=[strip], validators=[capped(REASON_MAX, "Reason")])
    version = HiddenField(validators=[hidden_cap()])


class ChecklistForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[capped(CHECKLIST_NAME_MAX, "Name")])


class ApplyForm(FlaskForm):
    """Applying the framework: the digest of what the page showed."""

    fingerprint = HiddenField(validators=[hidden_cap()])
    department = HiddenField(validators=[hidden_cap()])
