"""The preceptor's area: their caseload, review queue and meetings."""

from flask import Blueprint

bp = Blueprint("caseload", __name__, url_prefix="/preceptor")

from . import feedback, meetings, milestones, portfolio, protected_time, review, views  # noqa: E402,F401
