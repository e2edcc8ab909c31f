"""The preceptor register: every preceptor in scope with their standing, the staff who could
be trained next, and changing a preceptor's cap, training date and availability.

The change form opens in place of the preceptor's row with htmx (the row is the swap target)
or on its own page without JavaScript; both are the same form from one macro.
"""

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ..access import lead_scope, role_required
from ..extensions import db, htmx
from ..models import Role
from ..rendering import render_page
from ..services import register
from ..services.register import RegisterError, RegisterRow
from . import bp
from .forms import RegisterForm


@bp.get("/register")
@role_required(Role.EDUCATION_LEAD)
def register_page():
    today = date.today()
    rows = register.register_rows(lead_scope(), today)
    return render_page("lead/register.html", rows=rows, today=today,
                       trainable=register.could_train_next(rows, today))


def _profile_or_404(user_id: int):
    profile = register.profile_in_scope(user_id, lead_scope())
    if profile is None:
        abort(404)
    return profile


def _row(profile, today: date) -> RegisterRow:
    """The preceptor's register row, as the register shows it."""
    return register.register_rows(lead_scope(), today, user_id=profile.user_id)[0]


def _current(profile) -> dict:
    return {"cap": str(profile.cap) if profile.cap is not None else "", "trained_on": profile.trained_on,
            "unavailable_until": profile.unavailable_until, "unavailable_reason": profile.unavailable_reason or ""}


def _in_row() -> bool:
    """An htmx request aimed at a register row: answer with the row alone."""
    return bool(htmx) and not htmx.boosted and (htmx.target or "").startswith("preceptor-")


def _edit(profile, form: RegisterForm, today: date):
    template = "lead/register_edit_row.html" if _in_row() else "lead/register_edit.html"
    return render_page(template, profile=profile, form=form, row=_row(profile, today), today=today)


@bp.get("/register/<int:user_id>")
@role_required(Role.EDUCATION_LEAD)
def register_edit(user_id: int):
    profile = _profile_or_404(user_id)
    form = RegisterForm(formdata=None, **_current(profile))
    if _in_row() and request.args.get("cancel"):
        return render_page("lead/register_row.html", row=_row(profile, date.today()), today=date.today())
    return _edit(profile, form, date.today())


@bp.post("/register/<int:user_id>")
@role_required(Role.EDUCATION_LEAD)
def register_save(user_id: int):
    profile = _profile_or_404(user_id)
    today = date.today()
    form = RegisterForm(**_current(profile))  # a date left out of the post keeps its value
    if form.validate():
        try:
            register.change(profile, cap=form.cap_value(), trained_on=form.trained_on.data,
                            unavailable_until=form.unavailable_until.data,
                            unavailable_reason=form.unavailable_reason.data or "", by=current_user, today=today)
        except RegisterError as refused:
            db.session.rollback()
            field = getattr(form, refused.field)
            field.errors = [str(refused)]
            if hasattr(field, "error_parts"):
                field.error_parts = ("day", "month", "year")
        else:
            db.session.commit()
            if _in_row():
                return render_page("lead/register_row.html", row=_row(profile, today), today=today, saved=True)
            flash(Markup("{}'s record is updated").format(profile.user.name), "success")
            return redirect(url_for("lead.register_page") + f"#preceptor-{user_id}")
    return _edit(profile, form, today)
