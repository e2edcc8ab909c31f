"""Forms of the lead's area: a register change, a pairing, accepting a cohort proposal.

They parse what was typed; the rules are the services' (register.change_problems,
pairing.place), whose messages are put next to the field they name.
"""

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from ..fields import DateParts, capped, chosen_id, strip
from ..models import AllocationEndReason
from ..services.pairing import REASON_MAX
from ..services.register import MAX_CAP
from ..services.register import REASON_MAX as UNAVAILABLE_REASON_MAX

END_REASONS = [SelectChoice(AllocationEndReason.LEFT.value, "The preceptor has left"),
               SelectChoice(AllocationEndReason.LEAVE.value, "The preceptor is on leave"),
               SelectChoice(AllocationEndReason.MISMATCH.value, "The pairing is not working"),
               SelectChoice(AllocationEndReason.OTHER.value, "Another reason")]


class RegisterForm(FlaskForm):
    cap = StringField("Cap (optional)", filters=[strip], validators=[capped(10, "Cap")])
    trained_on = DateParts("Preceptor training completed (optional)")
    unavailable_until = DateParts("Unavailable until (optional)")
    unavailable_reason = StringField("Why they are unavailable", filters=[strip],
                                     validators=[capped(UNAVAILABLE_REASON_MAX, "Reason")])

    def cap_value(self) -> int | None:
        return int(self.cap.data) if self.cap.data else None

    def validate_cap(self, field):
        if field.data and not (field.data.isascii() and field.data.isdigit() and int(field.data) <= MAX_CAP):
            raise ValidationError(f"Cap must be a whole number from 0 to {MAX_CAP}, "
                                  "or blank for the department's default")


class PairingForm(FlaskForm):
    preceptor = RadioField("Choose a preceptor", choices=[], validate_choice=False)
    over_cap_reason = TextAreaField("Reason for going over the preceptor's cap (only if they are full)",
                                    filters=[strip], validators=[capped(REASON_MAX, "Reason")])
    end_reason = RadioField("Why is the current allocation ending?", choices=END_REASONS, validate_choice=False)
    end_note = TextAreaField("Details (needed for another reason)", filters=[strip],
                             validators=[capped(REASON_MAX, "Details")])

    def validate_preceptor(self, field):
        if chosen_id(field.data) is None:
            raise ValidationError("Choose a preceptor")

    def validate_end_reason(self, field):
        if field.data and field.data not in {choice.value for choice in END_REASONS}:
            raise ValidationError("Choose why the current allocation is ending")

    def end_reason_value(self) -> AllocationEndReason | None:
        return AllocationEndReason(self.end_reason.data) if self.end_reason.data else None


class CohortForm(FlaskForm):
    pairs = SelectMultipleField("Pairings to accept", choices=[], validate_choice=False)

    def validate_pairs(self, field):
        if not field.data:
            raise ValidationError("Choose at least one pairing to accept")
