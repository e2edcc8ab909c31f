"""Forms for the learning needs self-assessment and the personal development plan."""

from collections.abc import Sequence
from datetime import date

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from ..fields import DATE_PARTS, DateParts, hidden_cap, strip
from ..models import GoalStatus, LearningNeedArea
from ..services.learning_needs import ACTIONS_MAX, CONFIDENCE_SCALE, GOAL_MAX, NOTE_MAX, Rating


class ConfidenceRating:
    """Required, and one of 1 to 5: tampered or missing values get a message naming the area."""

    def __init__(self, area_title: str):
        self.area_title = area_title

    def __call__(self, form, field):
        if field.data in (None, ""):
            raise StopValidation(f"Select how confident you feel in {self.area_title}")
        if field.data not in {str(n) for n in CONFIDENCE_SCALE}:
            raise StopValidation(f"Select a confidence rating from 1 to 5 for {self.area_title}")


class AssessmentForm(FlaskForm):
    """One confidence rating and one optional note per area; fields are added per area by
    `assessment_form`, named `confidence_<area id>` and `note_<area id>`."""

    areas: Sequence[LearningNeedArea] = ()

    def area_fields(self):
        """(area, confidence field, note field) in area order, for the template."""
        return [(area, self[f"confidence_{area.id}"], self[f"note_{area.id}"]) for area in self.areas]

    def answers(self) -> dict[int, Rating]:
        """Validated input as {area id: Rating}."""
        return {area.id: Rating(int(confidence.data), note.data or "") for area, confidence, note in self.area_fields()}


def assessment_form(areas: Sequence[LearningNeedArea], **kwargs) -> AssessmentForm:
    """An AssessmentForm with fields for `areas` (pass `data=` to show saved answers)."""

    class Form(AssessmentForm):
        pass

    Form.areas = tuple(areas)
    for area in areas:
        # Choices are checked by ConfidenceRating, which gives a clearer message than WTForms'.
        setattr(Form, f"confidence_{area.id}", RadioField(
            area.title, choices=[SelectChoice(str(n), f"{n} – {label}") for n, label in CONFIDENCE_SCALE.items()],
            validate_choice=False, validators=[ConfidenceRating(area.title)],
        ))
        setattr(Form, f"note_{area.id}", TextAreaField(
            "Notes (optional)", filters=[strip],
            validators=[Length(max=NOTE_MAX, message=f"Notes on {area.title} must be {NOTE_MAX} characters or fewer")],
        ))
    return Form(**kwargs)


class GoalForm(FlaskForm):
    """A goal in the personal development plan. Set `area_id.choices` before validating."""

    goal = TextAreaField("Goal", filters=[strip], validators=[
        DataRequired("Enter your goal"),
        Length(max=GOAL_MAX, message=f"Goal must be {GOAL_MAX} characters or fewer"),
    ])
    actions = TextAreaField("Actions (optional)", filters=[strip], validators=[
        Length(max=ACTIONS_MAX, message=f"Actions must be {ACTIONS_MAX} characters or fewer"),
    ])
    # The id is the day box's, so the error summary links to the first box.
    target_date = DateParts("Target date (optional)")
    area_id = SelectField("Learning need area (optional)", choices=[SelectChoice("", "Not linked to an area")],
                          validate_choice=False)

    def __init__(self, *args, earliest: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.earliest = earliest

    def set_areas(self, areas: Sequence[LearningNeedArea]) -> None:
        self.area_id.choices = [SelectChoice("", "Not linked to an area"),
                                *(SelectChoice(str(a.id), a.title) for a in areas)]

    def validate_area_id(self, field):
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Select an area from the list")

    def validate_target_date(self, field):
        # A target date already in the past is almost always a typing slip (often the year);
        # an existing goal may keep the past date it already had (`earliest` is None then).
        if field.data and self.earliest and field.data < self.earliest and field.data != field.object_data:
            field.error_parts = DATE_PARTS
            raise ValidationError("Target date must be today or in the future")

    @property
    def chosen_area_id(self) -> int | None:
        return int(self.area_id.data) if self.area_id.data else None


class GoalStatusForm(FlaskForm):
    """Mark a goal achieved or dropped, or open it again."""

    status = HiddenField(validators=[DataRequired(), hidden_cap()])

    def validate_status(self, field):
        if field.data not in {s.value for s in GoalStatus}:
            raise ValidationError("Choose achieved, dropped or open")
