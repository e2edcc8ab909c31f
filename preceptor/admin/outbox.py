"""The email outbox for administrators: counts by state, failed and stuck emails with their
reasons, and "send again" for each."""

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..access import role_required
from ..extensions import db
from ..models import OutboxMessage, Role
from ..rendering import render_page
from ..services import outbox_review as service
from ..transactions import commit
from . import bp


class RetryForm(FlaskForm):
    """Nothing to fill in: the button, and its CSRF token."""


@bp.get("/outbox")
@role_required(Role.ADMIN)
def outbox():
    return render_page("admin/outbox.html", counts=service.counts(), messages=service.needing_a_look(),
                       form=RetryForm(), problems=[])


@bp.post("/outbox/<int:message_id>/retry")
@role_required(Role.ADMIN)
def retry_email(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    form = RetryForm()
    problems: list[str] = []
    if form.validate_on_submit():
        me = current_user._get_current_object()
        if commit(lambda: service.retry(message, me), problems, refusals=(service.RetryRefused,)):
            flash("The email will be sent again by the next run of the sender.", "success")
            return redirect(url_for("admin.outbox"))
    else:
        problems.extend(error for errors in form.errors.values() for error in errors)
    return render_page("admin/outbox.html", counts=service.counts(), messages=service.needing_a_look(),
                       form=form, problems=problems, status_code=400)
