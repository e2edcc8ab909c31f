"""Forms of the preceptor's area: deciding on a sign-off request, reopening a sign-off."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from ..fields import capped, hidden_cap, posted_number, strip
from ..services.decisions import ACTION_PLAN_MAX, COMMENT_MAX, REASON_MAX


class DecisionForm(FlaskForm):
    """Sign off or return one request. Several sit on one page (the review queue), so each
    is built with `prefix=f"m{milestone_id}"` to keep ids and names apart; the page-wide CSRF
    check covers them, so the per-form token is off."""

    class Meta:
        csrf = False

    decision = StringField(validators=[hidden_cap()])  # the button pressed: "sign_off" or "return"
    comment = TextAreaField("Comment for the preceptee (optional)", filters=[strip], validators=[
        Optional(), capped(COMMENT_MAX, "Comment")])
    # No Optional() here: it would stop validate_action_plan from asking for a plan.
    action_plan = TextAreaField("Action plan (needed to return it)", filters=[strip], validators=[
        capped(ACTION_PLAN_MAX, "Action plan")])
    version = HiddenField(validators=[hidden_cap()])
    seen = HiddenField(validators=[hidden_cap()])
    origin = HiddenField(validators=[hidden_cap()])  # "queue" or "milestone": where a plain form returns to

    @property
    def returning(self) -> bool:
        return self.decision.data == "return"

    def validate_decision(self, field):
        if field.data not in ("sign_off", "return"):
            raise ValidationError("Choose whether to sign this off or return it")

    def validate_action_plan(self, field):
        if self.returning and not field.data:
            raise ValidationError("Write an action plan: what the preceptee needs to do before asking again")

    def version_number(self) -> int:
        return posted_number(self.version.data)


class ReopenForm(FlaskForm):
    reason = TextAreaField("Why are you reopening this milestone?", filters=[strip], validators=[
        InputRequired("Give a reason for reopening this milestone"),
        capped(REASON_MAX, "Reason")])
    version = HiddenField(validators=[hidden_cap()])
