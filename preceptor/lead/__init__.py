"""The education lead's area: departments in scope, the preceptor register, capacity."""

from flask import Blueprint

bp = Blueprint("lead", __name__, url_prefix="/lead")

from . import milestones, views  # noqa: E402,F401
