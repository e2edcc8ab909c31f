"""Sign-in and role-switch forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from ..fields import hidden_cap, strip
from ..models.people import HCPC_NUMBER


def _upper(value):
    return value.upper() if isinstance(value, str) else value


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[
            DataRequired("Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email("Enter an email address in the correct format, like name@nhs.net"),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Enter your password"),
            Length(max=256, message="Password must be 256 characters or fewer"),
        ],
    )
    next = HiddenField(validators=[hidden_cap(2000)])  # a page address to return to


class SwitchRoleForm(FlaskForm):
    role = HiddenField(validators=[DataRequired(), hidden_cap()])


class DetailsForm(FlaskForm):
    """A person's own details: what colleagues see and how to reach them."""

    name = StringField("Full name", filters=[strip], validators=[
        DataRequired("Enter your full name"),
        Length(max=120, message="Full name must be 120 characters or fewer"),
    ])
    phone = TelField("Work phone number (optional)", filters=[strip], validators=[
        Optional(),
        Length(max=40, message="Phone number must be 40 characters or fewer"),
        Regexp(r"^[0-9 +()-]+$", message="Enter a phone number using only numbers, spaces, brackets, + and -"),
    ])
    hcpc_number = StringField("HCPC registration number (optional)", filters=[strip, _upper], validators=[
        Optional(),
        Length(max=10, message="HCPC registration number must be 10 characters or fewer"),
    ])

    def validate_hcpc_number(self, field):
        if field.data and not HCPC_NUMBER.match(field.data):
            raise ValidationError("Enter an HCPC registration number for a radiographer: RA followed by numbers, "
                                  "like RA123456")
