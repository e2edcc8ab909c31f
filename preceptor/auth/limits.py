"""Failed sign-ins are limited per account and per address (Flask-Limiter); so are wrong
current passwords on the change-password form, per person.

Only failures count: a sign-in that works redirects, a failed one shows the form again. Once
a limit is reached every attempt is refused with 429, the right password too, until the
moving window has room again; the page says how long that is. An account is paused first for
the address that guessed at it (5 failures), and for everyone only after far more (20), so a
stranger cannot lock a named person out with a handful of wrong passwords. Each app gets its own
limiter (Flask-Limiter keeps some settings from the first app it meets), so the counts live
in the store RATELIMIT_STORAGE_URI names: memory on one server, Redis for several.
"""

import logging
import time

from flask import Flask, current_app, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user

log = logging.getLogger(__name__)


def _account() -> str:
    return "account:" + request.form.get("email", "").strip().lower()[:320]


def _signed_in_account() -> str:
    return f"user:{current_user.get_id()}"


def _wrong_current_password(response) -> bool:
    return bool(g.get("wrong_current_password"))


def _account_here() -> str:
    return f"{_account()}|{get_remote_address()}"


def _failed(response) -> bool:
    return response.status_code == 200


def minutes_to_wait(limiter: Limiter) -> int:
    """Whole minutes until the limit that refused this request lets an attempt through."""
    current = limiter.current_limit
    reset_at = current.reset_at if current else time.time() + 60
    return max(1, round((reset_at - time.time()) / 60))  # the window ends a second or two past a whole minute


def init_app(app: Flask) -> None:
    """Limit failed passwords on the sign-in and change-password views (registered before this
    is called)."""
    limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="moving-window")
    limiter.init_app(app)

    def failures(setting: str, key, scope: str):
        return limiter.limit(lambda: current_app.config[setting], key_func=key, methods=["POST"],
                             deduct_when=_failed, scope=scope)

    view = app.view_functions["auth.sign_in"]
    for limit in (failures("SIGN_IN_LIMIT_PER_ACCOUNT", _account_here, "sign-in-account-address"),
                  failures("SIGN_IN_LIMIT_PER_ACCOUNT_ANYWHERE", _account, "sign-in-account"),
                  failures("SIGN_IN_LIMIT_PER_ADDRESS", get_remote_address, "sign-in-address")):
        view = limit(view)
    app.view_functions["auth.sign_in"] = view
    # Someone at an unlocked desk must not be able to guess the owner's password on the
    # change-password form either: wrong current passwords count as failed sign-ins do.
    guesses = limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], key_func=_signed_in_account,
                            methods=["POST"], deduct_when=_wrong_current_password, scope="current-password")
    app.view_functions["auth.change_password"] = guesses(app.view_functions["auth.change_password"])

    @app.errorhandler(RateLimitExceeded)
    def too_many_attempts(error):
        log.warning("%s refused after too many wrong passwords (%s) from %s", request.endpoint,
                    error.limit.limit, request.remote_addr)
        return render_template("auth/too_many_attempts.html", minutes=minutes_to_wait(limiter)), 429
