"""Signing in and out, switching role, and loading the signed-in user for each request."""

from flask import Blueprint, Flask
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models import User

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
    limits.init_app(app)


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The session holds "<id>:<auth version>"; a bumped version signs that session out."""
    user_id, _, version = token.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.scalar(select(User).where(User.id == int(user_id)))
    if user is None or not user.is_active or user.auth_version != int(version):
        return None
    return user


from . import limits, passwords, views  # noqa: E402,F401  (routes register on the blueprint)
