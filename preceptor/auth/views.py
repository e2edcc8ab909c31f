"""Sign in, sign out, and switch between the roles a person holds."""

from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..access import ROLE_HOME, active_role
from ..extensions import db
from ..models import Role, User
from ..rendering import render_page
from ..services import accounts, audit
from . import bp
from .forms import DetailsForm, SignInForm, SwitchRoleForm

GENERIC_FAILURE = "The email address or password is not correct"


def safe_next(target: str | None) -> str | None:
    """A local path to return to after sign-in, or None: never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_url() -> str:
    role = active_role()
    return url_for(ROLE_HOME[role]) if role else url_for("main.no_role")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """The sign-in page; a signed-in user goes straight to their home page. Failed attempts
    are limited (auth/limits.py)."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = SignInForm(next=request.args.get("next", ""))
    failed = False
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session at sign-in: nothing carried over from before
            login_user(user)
            session.permanent = True
            session["role"] = user.main_role.value if user.main_role else None
            audit.record("user.sign_in", user, actor_id=user.id)
            db.session.commit()
            return redirect(safe_next(form.next.data) or home_url())
        failed = True
        form.password.data = ""
    return render_page("auth/sign_in.html", form=form, failed=failed, failure_message=GENERIC_FAILURE)


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        audit.record("user.sign_out", current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    flash("*", "clear-draft")  # nothing typed stays behind in the browser tab
    return redirect(url_for("auth.sign_in"))


@bp.route("/switch-role", methods=["GET", "POST"])
@login_required
def switch_role():
    """Look at the portal as another of one's own roles."""
    form = SwitchRoleForm()
    if request.method == "GET":
        return render_page("auth/switch_role.html", form=form, current=active_role())
    if not form.validate_on_submit() or form.role.data not in {r.value for r in current_user.roles}:
        abort(400)
    session["role"] = form.role.data
    flash(f"You are now viewing the portal as: {Role(form.role.data).label}.", "success")
    return redirect(url_for(ROLE_HOME[Role(form.role.data)]))


@bp.route("/your-details", methods=["GET", "POST"])
@login_required
def details():
    """A person keeps their own name, phone number and HCPC number up to date."""
    user = current_user._get_current_object()
    form = DetailsForm(obj=user)
    if form.validate_on_submit():
        number = form.hcpc_number.data or None
        owner = db.session.scalar(select(User.id).where(User.hcpc_number == number)) if number else None
        if owner is not None and owner != user.id:
            form.hcpc_number.errors.append("This HCPC registration number belongs to another account")
        else:
            changed = sorted(f for f in ("name", "phone", "hcpc_number")
                             if (getattr(form, f).data or None) != getattr(user, f))
            user.name, user.phone, user.hcpc_number = form.name.data, form.phone.data or None, number
            if changed:
                audit.record("user.update_details", user, details={"fields": changed})
            db.session.commit()
            flash("Your details have been saved.", "success")
            return redirect(url_for("auth.details"))
    return render_page("auth/details.html", form=form)
