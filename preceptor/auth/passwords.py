"""Passwords: setting one through an invitation or reset link, and changing one's own.

The link's token is a secret in the URL. Its pages tell the browser not to send their address
on (`Referrer-Policy: no-referrer`) or keep a copy (`Cache-Control: no-store`); nothing here
logs it, and the web server's access log (werkzeug's, gunicorn's) shows it as "[hidden]".
A person already signed in who follows someone's link sees the page, told who they are
signed in as; setting the password signs them out and the link's owner in.
"""

import logging
import re

from flask import flash, g, redirect, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from ..extensions import db
from ..fields import capped
from ..models import LinkPurpose, User
from ..models._columns import utcnow
from ..rendering import render_page
from ..services import account_links, accounts, audit
from ..services.account_links import LinkRefused, LinkUnknown
from ..services.passwords import PASSWORD_MAX_LENGTH, password_problem
from . import bp
from .views import home_url

ACCESS_LOGS = ("werkzeug", "gunicorn.access")
TOKEN_IN_PATH = re.compile(r"(/account/)[^/\s\"?#\x1b]+")  # \x1b: werkzeug colours its log lines

NOT_MATCHING = "The passwords do not match. Enter the same password in both boxes"

# Made before the new-password fields below, so it comes first on the page and in the error summary
# (WTForms orders a form's fields by when each was made).
CURRENT_PASSWORD = PasswordField("Current password", validators=[
    DataRequired("Enter your current password"), capped(PASSWORD_MAX_LENGTH, "Password")])


class NewPasswordForm(FlaskForm):
    """A new password, typed twice, checked against the policy for the person it is for."""

    password = PasswordField("New password", validators=[
        DataRequired("Enter a new password"), capped(PASSWORD_MAX_LENGTH, "Password")])
    # The policy's length is reported once, by the first box; this cap only stops a huge post.
    confirm = PasswordField("Confirm new password", validators=[
        DataRequired("Enter your new password again"), capped(2 * PASSWORD_MAX_LENGTH, "Confirm new password"),
        EqualTo("password", NOT_MATCHING),
    ])

    def __init__(self, user: User, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_password(self, field):
        problem = password_problem(field.data, self.user)
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    current_password = CURRENT_PASSWORD

    def validate_current_password(self, field):
        if not (self.user.password_hash and check_password_hash(self.user.password_hash, field.data)):
            g.wrong_current_password = True  # counted like a failed sign-in (auth/limits.py)
            raise ValidationError("Your current password is not correct")

    def validate_password(self, field):
        super().validate_password(field)
        if field.data == self.current_password.data:  # the current one was checked: no second hash
            raise ValidationError("Your new password must be different from your current password")


class HideLinkTokens(logging.Filter):
    """A web server logs the path of each request; a link's token must not reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/account/" in message:
            record.msg, record.args = TOKEN_IN_PATH.sub(r"\1[hidden]", message), ()
        return True


_hide_tokens = HideLinkTokens()


@bp.record_once
def _keep_tokens_out_of_access_logs(state) -> None:
    for name in ACCESS_LOGS:
        logging.getLogger(name).addFilter(_hide_tokens)  # a filter already there is not added twice


def _secret_page(response):
    """A page whose address holds a link's token: never sent on as a referrer, never cached."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(refused: LinkRefused):
    """404 for a token that was never issued; 410 for a link that was but can no longer be used."""
    return _secret_page(render_page("auth/link_refused.html", message=str(refused),
                                    status_code=404 if isinstance(refused, LinkUnknown) else 410))


@bp.route("/account/<string(maxlength=100):token>", methods=["GET", "POST"])
def set_password(token: str):
    """Set a password through an invitation or reset link, then go in signed in."""
    try:
        link = account_links.find(token)
    except LinkRefused as refused:
        return _refused(refused)
    form = NewPasswordForm(link.user)
    if form.validate_on_submit():
        try:
            user = account_links.use(token, form.password.data)
        except LinkRefused as refused:  # another tab spent the link a moment ago
            db.session.rollback()
            return _refused(refused)
        user.last_sign_in_at = utcnow()
        audit.record("user.sign_in", user, actor_id=user.id, details={"via": link.purpose.value})
        db.session.commit()
        logout_user()  # whoever was signed in in this browser before
        session.clear()
        login_user(user)
        session.permanent = True
        session["role"] = user.main_role.value if user.main_role else None
        flash("Your password is set.", "success")
        return _secret_page(redirect(home_url()))
    signed_in_as = current_user if current_user.is_authenticated else None
    return _secret_page(render_page(
        "auth/set_password.html", form=form, token=token, email=link.user.email,
        inviting=link.purpose is LinkPurpose.INVITE, signed_in_as=signed_in_as,
        status_code=400 if form.errors else 200))


@bp.route("/your-details/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password. Every other session of this person ends; this one goes on."""
    user = current_user._get_current_object()
    form = ChangePasswordForm(user)
    if form.validate_on_submit():
        user.password_hash = accounts.hash_password(form.password.data)
        user.auth_version += 1
        audit.record("account.password_changed", user)
        db.session.commit()
        login_user(user)  # this session follows the new auth version; the others no longer match
        flash("Your password has been changed.", "success")
        return redirect(url_for("auth.details"))
    return render_page("auth/change_password.html", form=form, status_code=400 if form.errors else 200)
