"""Erasing a departed person's personal details, for administrators: a confirmation page that
says what will happen and, while it is not yet allowed, why not and from when; posting it
erases (preceptor/services/erasure.py holds the rules) and returns to the person's page.
"""

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..access import role_required
from ..extensions import db
from ..models import Role, User
from ..rendering import render_page
from ..services import erasure as service
from ..transactions import commit
from . import bp


class EraseForm(FlaskForm):
    """Nothing to fill in: the button, and its CSRF token."""


@bp.route("/people/<int:user_id>/erase", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def erase(user_id: int):
    """Confirm, then erase, `user_id`'s personal details."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    me = current_user._get_current_object()
    form = EraseForm()
    problems: list[str] = []
    if form.validate_on_submit():
        done: list[service.Erasure] = []
        if commit(lambda: done.append(service.erase(user, me)), problems, refusals=(service.ErasureRefused,)):
            flash(f"Their personal details are erased: they now appear as “{user.name}”. "
                  "Records others signed are kept.", "success")
            if done[0].audit_events_redacted:
                flash(f"{len(done[0].audit_events_redacted)} audit log events held a copy of their details, typed "
                      "into a reason: each is redacted, and the redaction recorded.", "info")
            return redirect(url_for("admin.person", user_id=user.id))
    elif form.errors:  # the CSRF token was missing or stale: ask again rather than erase
        problems.extend(error for errors in form.errors.values() for error in errors)
    return render_page("admin/erase.html", person=user, check=service.eligibility(user, me), form=form,
                       problems=problems, retention=service.retention_words(), removed=service.REMOVED,
                       placeholder=service.placeholder_name(user.id), status_code=400 if problems else 200)
