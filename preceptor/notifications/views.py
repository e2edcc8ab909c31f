"""The notifications pages: the list (mark read, mark all read), the header's count fragment,
email settings per category, and unsubscribing from an email's link.

Every action is a plain form that posts and redirects back with a flash (works without
JavaScript). With htmx the list swaps in place and the response carries the
`notifications-changed` event, on which the header's count refreshes itself.
"""

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import AnyOf

from ..extensions import db, htmx, login_manager
from ..models import Category, Delivery, User
from ..rendering import render_page
from ..services import audit
from ..services import notifications as service
from . import bp

LIST_TEMPLATE = "notifications/list.html"
REGIONS = ("notification_list",)
CHANGED = "notifications-changed"  # the event the header's count listens for
SHOWN = 50  # the most recent notifications listed
STOP_POLLING = 286  # htmx stops polling an element answered with this status

DELIVERY_CHOICES = [
    SelectChoice(Delivery.IMMEDIATE.value, "Immediately"),
    SelectChoice(Delivery.DIGEST.value, "Once a day, in a digest"),
    SelectChoice(Delivery.OFF.value, "Do not email me (in the portal only)"),
]


class SettingsForm(FlaskForm):
    """One radio group per category, named by the category's value."""


for _category in Category:
    setattr(SettingsForm, _category.value, RadioField(
        _category.label, choices=DELIVERY_CHOICES, validate_choice=False,
        validators=[AnyOf([choice.value for choice in DELIVERY_CHOICES],
                          message=f"Select how you want emails about {_category.label.lower()}")]))


class UnsubscribeForm(FlaskForm):
    """Just the CSRF token: the token in the URL says who and what."""


@bp.app_template_global()
def unread_notifications() -> int:
    """The signed-in person's unread count for the header (one COUNT on an indexed column)."""
    return service.unread_count(current_user.id) if current_user.is_authenticated else 0


def _list_page(message: str | None = None):
    shown = service.recent(current_user.id, limit=SHOWN + 1)
    return render_page(LIST_TEMPLATE, regions=REGIONS, notifications=shown[:SHOWN], more=len(shown) > SHOWN,
                       unread=service.unread_count(current_user.id), shown_limit=SHOWN, message=message)


def _after_change(message: str):
    """With htmx: the list in place, and the header told to refresh. Without: back to the list."""
    if htmx and not htmx.boosted and htmx.target in REGIONS:
        response = _list_page(message)
        response.headers["HX-Trigger"] = CHANGED
        return response
    flash(message, "success")
    return redirect(url_for("notifications.index"))


@bp.get("/notifications")
@login_required
def index():
    """The person's notifications, newest first; unread ones marked."""
    return _list_page()


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    """Mark one of the person's own notifications read; anyone else's id is not found."""
    if not service.mark_read(current_user.id, notification_id):
        abort(404)
    db.session.commit()
    return _after_change("Notification marked as read.")


@bp.post("/notifications/read-all")
@login_required
def read_all():
    marked = service.mark_all_read(current_user.id)
    db.session.commit()
    if marked == 0:
        return _after_change("You have no unread notifications.")
    return _after_change("All notifications marked as read.")


@bp.get("/notifications/count")
def count():
    """The header's notifications link with its count, for htmx to swap in. Polling does not
    extend the session: an ended session gets the plain link, and the polling stops."""
    g.leaves_session_alone = True
    if not current_user.is_authenticated:
        if htmx:
            return render_template("notifications/count.html", count=None, live=False), STOP_POLLING
        return login_manager.unauthorized()
    response = render_page("notifications/count.html", count=service.unread_count(current_user.id), live=True)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    """How the person wants each category by email. All choices are checked before any is saved."""
    chosen = service.preferences(current_user.id)
    form = SettingsForm(data={category.value: delivery.value for category, delivery in chosen.items()})
    if form.validate_on_submit():
        changed = {}
        for category in Category:
            delivery = Delivery(form[category.value].data)
            if service.set_delivery(current_user.id, category, delivery):
                changed[category.value] = delivery.value
        if changed:
            audit.record("notifications.preferences", current_user._get_current_object(), details=changed)
        db.session.commit()
        flash("Your email settings have been saved." if changed else "Your email settings are unchanged.", "success")
        return redirect(url_for("notifications.settings"))
    return render_page("notifications/settings.html", form=form, categories=list(Category))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """From an email, no sign-in: GET asks (mail scanners follow links, so it changes nothing);
    POST turns that category's emails off for the person the token names."""
    read = service.read_unsubscribe_token(token)
    user = db.session.get(User, read[0]) if read else None
    if user is None:
        return render_template("notifications/unsubscribe_invalid.html"), 400
    category = read[1]
    form = UnsubscribeForm()
    if form.validate_on_submit():
        if service.set_delivery(user.id, category, Delivery.OFF):
            audit.record("notifications.unsubscribe", user, actor_id=user.id,
                         details={category.value: Delivery.OFF.value})
        db.session.commit()
        return render_page("notifications/unsubscribe.html", category=category, done=True, form=form)
    return render_page("notifications/unsubscribe.html", category=category, done=False, form=form)
