"""Notifications in the portal: each person's list, the count in the header, their email
choices per category, and the unsubscribe link from an email (which needs no sign-in).

The header's count is drawn by the server on every page (`unread_notifications` in templates);
with htmx it refreshes itself by polling `/notifications/count` and on `notifications-changed`.
"""

from flask import Blueprint, g
from flask.sessions import SecureCookieSessionInterface

bp = Blueprint("notifications", __name__)


class PollingKeepsSessionExpiry(SecureCookieSessionInterface):
    """The session cookie, except that a request marked `g.leaves_session_alone` (the header
    count's polling) does not push the session's expiry back: an open tab would otherwise
    keep a signed-in session alive for ever, defeating PERMANENT_SESSION_LIFETIME."""

    def should_set_cookie(self, app, session) -> bool:
        if g.get("leaves_session_alone"):
            return session.modified
        return super().should_set_cookie(app, session)


@bp.record_once
def _install_session_interface(state) -> None:
    if type(state.app.session_interface) is SecureCookieSessionInterface:
        state.app.session_interface = PollingKeepsSessionExpiry()


from . import views  # noqa: E402,F401  (routes register on the blueprint)
