"""Error pages in NHS style. Production pages show no stack trace or SQL, only a
reference that support can find in the log."""

import logging

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db, login_manager
from .request_ids import request_id

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Sorry, there is a problem with that request",
          "Go back, reload the page and try again."),
    403: ("You do not have access to this page",
          "Your role does not include this page. If you think it should, contact your education lead."),
    404: ("Page not found",
          "If you typed the web address, check it is correct. If you pasted it, check you copied the entire address."),
    405: ("Sorry, that action is not allowed here",
          "Go back and use the page's own buttons."),
    413: ("That file is too large",
          "Check the size limit on the page and try again."),
    429: ("Too many attempts",
          "Wait a few minutes and try again."),
    500: ("Sorry, there is a problem with the service",
          "Try again later. If the problem continues, contact the service desk."),
}
SESSION_ENDED = "Sign in to continue. If you were writing something, it has been kept."
CSRF_MESSAGE = "This form has expired or did not come from this service. Go back, reload the page and try again."


def _page(code: int, detail: str | None = None, reference: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=detail or message,
                           reference=reference), code


def session_ended():
    """A request from someone whose session has ended. htmx gets a short message in place
    (the page keeps what was typed); a form post goes to sign-in and back to the same page,
    where the draft is restored."""
    if request.headers.get("HX-Request"):
        return render_template("errors/session_ended.html"), 401
    flash(SESSION_ENDED, "info")
    back = request.full_path.rstrip("?") if request.method in ("GET", "POST") else None
    return redirect(url_for("auth.sign_in", next=back))


def init_app(app: Flask) -> None:
    login_manager.unauthorized_handler(session_ended)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        log.info("CSRF refused: %s", error.description)
        if not current_user.is_authenticated and error.description == "The CSRF session token is missing.":
            return session_ended()  # the form carried a token, but its session has ended
        return _page(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error):
        return _page(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected(error):
        db.session.rollback()
        reference = request_id()
        log.exception("unhandled error on %s %s, reference %s", request.method, request.path, reference)
        return _page(500, reference=reference)
