"""The front door sends each person to their home page; `/healthz` is the speed yardstick."""

from flask import redirect, url_for
from flask_login import current_user, login_required

from ..access import ROLE_HOME, active_role
from ..rendering import render_page
from . import bp


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    role = active_role()
    return redirect(url_for(ROLE_HOME[role]) if role else url_for("main.no_role"))


@bp.get("/no-role")
@login_required
def no_role():
    """A signed-in person who holds no role yet: say so, rather than fail."""
    return render_page("main/no_role.html")


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
